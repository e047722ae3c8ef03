"""format=auto behind nginx: which format the Accept header gets, with
[media] auto_formats = avif, webp and with the default (webp alone);
Content-Type, the body decoded by the format's own tool (avifdec for
AVIF, Pillow otherwise), Vary: Accept on every answer (errors and 304s
included), an ETag per negotiated format that is stable and validates
only its own variant.
"""

import os
import shutil
import subprocess
import tempfile

import pytest
from PIL import Image

from support import webservers
from support.checks import assert_json_error
from support.imaging import MOUNT, quadrants

BROWSER_AVIF = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
BROWSER_WEBP = "image/webp,image/apng,image/*,*/*;q=0.8"       # Chrome before 85

# Accept -> the type format=auto answers, per config.
CASES = [
    # (Accept, with auto_formats = avif, webp, with the default)
    ("image/avif", "image/avif", "image/jpeg"),
    ("image/webp", "image/webp", "image/webp"),
    ("image/avif,image/webp", "image/avif", "image/webp"),
    ("image/webp,image/avif", "image/avif", "image/webp"),   # the config's order
    (BROWSER_AVIF, "image/avif", "image/webp"),
    (BROWSER_WEBP, "image/webp", "image/webp"),
    ("image/*", "image/webp", "image/webp"),                 # AVIF only by name
    ("*/*", "image/jpeg", "image/jpeg"),
    (None, "image/jpeg", "image/jpeg"),
    ("", "image/jpeg", "image/jpeg"),
    ("image/avif;q=0, image/webp", "image/webp", "image/webp"),
    ("image/avif;q=0, image/webp;q=0, */*", "image/jpeg", "image/jpeg"),
    ("image/*;q=0, image/avif", "image/avif", "image/jpeg"),
    ("image/webp;q=0.0, image/*", "image/jpeg", "image/jpeg"),
    ("IMAGE/AVIF;Q=0.5", "image/avif", "image/jpeg"),
    ("image/avif;q=bogus, image/webp", "image/webp", "image/webp"),
]


@pytest.fixture(scope="module")
def media():
    top = tempfile.mkdtemp(prefix="mediafcgi-negotiation-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    os.makedirs(root)
    quadrants(600, 400).save(os.path.join(root, "quad.jpg"), "JPEG", quality=92)
    quadrants(300, 200).save(os.path.join(root, "quad.png"), "PNG")
    frames = [Image.new("RGB", (160, 120), c) for c in ((230, 30, 30), (30, 40, 220))]
    frames[0].save(os.path.join(root, "anim.gif"), "GIF", save_all=True,
                   append_images=frames[1:], duration=100, loop=0)
    yield root
    shutil.rmtree(top, ignore_errors=True)


def _stack(media, extra):
    b = webservers.mediafcgi_bin()
    if not os.access(b, os.X_OK):
        pytest.fail("%s not built (run make, or set MEDIAFCGI_BIN)" % b)
    return webservers.Stack(front="nginx", media_root=media, mount=MOUNT, workers=2,
                            config_extra=extra)


@pytest.fixture(scope="module")
def avif_first(media):
    with _stack(media, {"media": {"auto_formats": "avif, webp"},
                        "preset autothumb": {"size": "100x100", "format": "auto"}}) as s:
        yield s
    assert not s.sanitizer_reports(), "\n".join(s.sanitizer_reports())


@pytest.fixture(scope="module")
def default(media):
    with _stack(media, None) as s:
        yield s
    assert not s.sanitizer_reports(), "\n".join(s.sanitizer_reports())


def url(name="quad.jpg", query="size=200x200&format=auto"):
    return "%s/%s?%s" % (MOUNT, name, query)


def get(stack, accept, name="quad.jpg", query="size=200x200&format=auto", extra=None):
    headers = dict(extra or {})
    if accept is not None:
        headers["Accept"] = accept
    return stack.get(url(name, query), headers=headers or None)


def decoded_size(r):
    """The answer's pixels decoded by the format's own tool: (w, h)."""
    if r.content_type == "image/avif":
        assert r.body[4:12] in (b"ftypavif", b"ftypavis"), r.body[:16]
        with tempfile.TemporaryDirectory() as d:
            src, out = os.path.join(d, "a.avif"), os.path.join(d, "a.png")
            with open(src, "wb") as f:
                f.write(r.body)
            p = subprocess.run(["avifdec", src, out], capture_output=True, text=True)
            assert p.returncode == 0, p.stdout + p.stderr
            with Image.open(out) as im:
                return im.size
    import io
    with Image.open(io.BytesIO(r.body)) as im:
        im.load()
        assert im.format == r.content_type.split("/")[1].upper(), (im.format, r.content_type)
        return im.size


def has_vary_accept(r):
    return "accept" in [v.strip().lower() for v in (r.headers.get("Vary") or "").split(",")]


@pytest.mark.parametrize("accept,want", [(c[0], c[1]) for c in CASES])
def test_avif_first_config(avif_first, accept, want):
    r = get(avif_first, accept)
    assert r.status == 200, (r, avif_first.logs())
    assert r.content_type == want, "Accept %r -> %s, want %s" % (accept, r.content_type, want)
    assert has_vary_accept(r), r.headers.items()
    assert decoded_size(r) == (200, 133)


@pytest.mark.parametrize("accept,want", [(c[0], c[2]) for c in CASES])
def test_default_config_never_picks_avif(default, accept, want):
    r = get(default, accept)
    assert r.status == 200, (r, default.logs())
    assert r.content_type == want, "Accept %r -> %s, want %s" % (accept, r.content_type, want)
    assert has_vary_accept(r), r.headers.items()
    assert decoded_size(r) == (200, 133)


def test_png_source_stays_png_when_nothing_better_is_admitted(avif_first):
    r = get(avif_first, "image/png,*/*", name="quad.png")
    assert r.status == 200 and r.content_type == "image/png", r


def test_animated_gif_stays_animated(avif_first):
    """AVIF would answer the first frame alone: auto takes WebP, animated."""
    import io
    r = get(avif_first, BROWSER_AVIF, name="anim.gif", query="format=auto")
    assert r.status == 200 and r.content_type == "image/webp", r
    with Image.open(io.BytesIO(r.body)) as im:
        assert getattr(im, "n_frames", 1) == 2
    r = get(avif_first, "image/avif", name="anim.gif", query="format=auto")
    assert r.status == 200 and r.content_type == "image/gif", r
    # One frame of it is a still: AVIF again.
    r = get(avif_first, BROWSER_AVIF, name="anim.gif", query="format=auto&frame=1")
    assert r.status == 200 and r.content_type == "image/avif", r


def test_etag_per_negotiated_format_stable_and_validating_only_its_own(avif_first):
    tags = {}
    for accept, want in (("image/avif", "image/avif"), ("image/webp", "image/webp"),
                         ("*/*", "image/jpeg")):
        a, b = get(avif_first, accept), get(avif_first, accept)
        assert a.status == b.status == 200 and a.content_type == want
        assert a.headers["ETag"] == b.headers["ETag"], "ETag not stable for %s" % want
        tags[want] = a.headers["ETag"]
    assert len(set(tags.values())) == 3, tags
    # Each tag validates its own variant only.
    r = get(avif_first, "image/avif", extra={"If-None-Match": tags["image/avif"]})
    assert r.status == 304 and has_vary_accept(r), r
    assert r.headers.get("ETag") == tags["image/avif"]
    r = get(avif_first, "image/webp", extra={"If-None-Match": tags["image/avif"]})
    assert r.status == 200 and r.content_type == "image/webp", r
    r = get(avif_first, None, extra={"If-None-Match": tags["image/webp"]})
    assert r.status == 200 and r.content_type == "image/jpeg", r


def test_head_matches_get(avif_first):
    g = get(avif_first, "image/avif")
    h = avif_first.head(url(), headers={"Accept": "image/avif"})
    assert h.status == 200 and h.body == b""
    for k in ("Content-Type", "ETag", "Vary"):
        assert h.headers.get(k) == g.headers.get(k), k


def test_preset_with_format_auto_varies_too(avif_first):
    r = avif_first.get("%s/quad.jpg?preset=autothumb" % MOUNT, headers={"Accept": "image/avif"})
    assert r.status == 200 and r.content_type == "image/avif", r
    assert has_vary_accept(r)
    assert decoded_size(r) == (100, 67)


@pytest.mark.parametrize("query,status,name", [
    ("size=0x0&format=auto", 400, "size"),                 # refused by the parser
    ("size=200x200&format=auto&frame=99", 400, "frame"),   # refused after the route
    ("size=200x200&format=auto&t=3", 400, "t"),             # not for an image
])
def test_errors_of_auto_requests_vary_by_accept(avif_first, query, status, name):
    r = get(avif_first, "image/avif", query=query)
    assert_json_error(r, status, name)
    if "size=0x0" not in query:            # a query that does not parse says nothing
        assert has_vary_accept(r), r.headers.items()


def test_missing_file_with_auto_varies(avif_first):
    r = get(avif_first, "image/avif", name="nope.jpg")
    assert_json_error(r, 404)
    assert has_vary_accept(r), r.headers.items()


def test_bad_auto_formats_are_refused_at_start(media, tmp_path):
    conf = tmp_path / "bad.conf"
    # allow_root: the test may run as root, and only the [media] line matters.
    head = "[server]\nallow_root = yes\n[media]\nroot = %s\n" % media
    conf.write_text(head + "auto_formats = webp, png\n")
    p = subprocess.run([webservers.mediafcgi_bin(), "--config", str(conf), "--test-config"],
                       capture_output=True, text=True)
    assert p.returncode != 0
    assert "auto_formats" in p.stderr + p.stdout and ":5:" in p.stderr + p.stdout, p.stderr
    conf.write_text(head + "auto_formats = avif, jxl, webp\n")
    p = subprocess.run([webservers.mediafcgi_bin(), "--config", str(conf), "--test-config"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
