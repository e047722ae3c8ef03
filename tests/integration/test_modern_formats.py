"""AVIF and JPEG XL output (format=avif, format=jxl) behind nginx.

Each answer is decoded with the reference tools (avifdec from libavif-bin,
djxl from libjxl-tools) to PNG and read with Pillow: its size, its alpha,
and its pixels against the server's own lossless answer (format=png of the
same request) by PSNR, which must be about as good as the JPEG answer's at
the same q (the q tables are made so that equal q means comparable quality,
scripts/qmap.py). Also: Content-Type, ETags that differ from JPEG's, bytes
that grow with q, a video still as AVIF, an animated GIF's first frame, and
the AVIF side limit answered as 413 by the planner.
"""

import io
import os
import shutil
import subprocess
import tempfile

import pytest
from PIL import Image, ImageDraw

from support import webservers
from support.checks import assert_json_error
from support.imaging import BLUE, RED, GREEN, colour_close, decode, photo_like, psnr, save_jpeg

MOUNT = "/media"
TOOLS = {"avif": ("avifdec", "image/avif"), "jxl": ("djxl", "image/jxl")}


@pytest.fixture(scope="module")
def media():
    top = tempfile.mkdtemp(prefix="mediafcgi-modern-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    os.makedirs(root)
    save_jpeg(photo_like(1200, 800), os.path.join(root, "photo.jpg"), quality=95)
    # Left half opaque red, right half clear, a half-transparent blue band.
    a = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    d = ImageDraw.Draw(a)
    d.rectangle([0, 0, 199, 299], fill=RED + (255,))
    d.rectangle([0, 250, 399, 299], fill=BLUE + (128,))
    a.save(os.path.join(root, "alpha.png"), "PNG")
    frames = [Image.new("RGB", (160, 120), c) for c in (RED, GREEN, BLUE)]
    frames[0].save(os.path.join(root, "anim.gif"), "GIF", save_all=True,
                   append_images=frames[1:], duration=100, loop=0)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i",
                    "testsrc=size=320x240:rate=10", "-t", "2", "-pix_fmt", "yuv420p",
                    "-c:v", "libx264", os.path.join(root, "clip.mp4")], check=True)
    yield root
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(media):
    b = webservers.mediafcgi_bin()
    if not os.access(b, os.X_OK):
        pytest.fail("%s not built (run make, or set MEDIAFCGI_BIN)" % b)
    with webservers.Stack(front="nginx", media_root=media, mount=MOUNT, workers=2) as s:
        yield s
    assert not s.sanitizer_reports(), "sanitizer reports:\n" + "\n".join(s.sanitizer_reports())


def decode_with_tool(fmt, body):
    """body decoded by the format's reference tool to PNG, read by Pillow."""
    tool = TOOLS[fmt][0]
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "in." + fmt), os.path.join(d, "out.png")
        with open(src, "wb") as f:
            f.write(body)
        r = subprocess.run([tool, src, out], capture_output=True, text=True)
        assert r.returncode == 0, "%s failed: %s%s" % (tool, r.stdout, r.stderr)
        im = Image.open(out)
        im.load()
    return im


def get(stack, query, name="photo.jpg"):
    r = stack.get("%s/%s?%s" % (MOUNT, name, query))
    assert r.status == 200, "GET %s?%s -> %r\n%s" % (name, query, r, stack.logs())
    return r


def fetch(stack, fmt, query, name="photo.jpg"):
    r = get(stack, "%s&format=%s" % (query, fmt), name)
    assert r.content_type == TOOLS[fmt][1], r
    if fmt == "avif":
        assert r.body[4:12] in (b"ftypavif", b"ftypavis"), r.body[:16]
    else:
        assert r.body[:2] == b"\xff\x0a" or r.body[4:8] == b"JXL ", r.body[:16]
    return r, decode_with_tool(fmt, r.body)


@pytest.mark.parametrize("fmt", ["avif", "jxl"])
def test_of_a_jpeg_size_and_pixels_as_good_as_jpeg(stack, fmt):
    ref = decode(get(stack, "size=300x200&format=png"))
    jpeg = decode(get(stack, "size=300x200&format=jpeg&q=75"))
    _, im = fetch(stack, fmt, "size=300x200&q=75")
    assert im.size == (300, 200)
    p_jpeg, p_new = psnr(jpeg, ref), psnr(im, ref)
    print("%s q=75: PSNR %.2f dB vs JPEG %.2f dB" % (fmt, p_new, p_jpeg))
    # Comparable quality at equal q: within 3 dB of JPEG's (a wrong
    # colour conversion or a shifted picture costs far more).
    assert p_new > p_jpeg - 3, (p_new, p_jpeg)
    assert p_new > 30


@pytest.mark.parametrize("fmt", ["avif", "jxl"])
def test_alpha_is_kept(stack, fmt):
    _, im = fetch(stack, fmt, "size=200x150", name="alpha.png")
    assert im.size == (200, 150)
    assert "A" in im.mode, im.mode
    im = im.convert("RGBA")
    r, g, b, a = im.getpixel((30, 40))              # left: opaque red
    assert a > 240 and colour_close((r, g, b), RED), im.getpixel((30, 40))
    assert im.getpixel((170, 40))[3] < 16           # right: clear
    assert 90 < im.getpixel((170, 140))[3] < 170    # bottom band: half alpha


@pytest.mark.parametrize("fmt", ["avif", "jxl"])
def test_etag_differs_from_jpeg_and_is_stable(stack, fmt):
    a = get(stack, "size=300x200&format=%s" % fmt)
    b = get(stack, "size=300x200&format=%s" % fmt)
    j = get(stack, "size=300x200&format=jpeg")
    assert a.headers["ETag"] and a.headers["ETag"] == b.headers["ETag"]
    assert a.headers["ETag"] != j.headers["ETag"]
    other = "jxl" if fmt == "avif" else "avif"
    assert get(stack, "size=300x200&format=%s" % other).headers["ETag"] != a.headers["ETag"]
    nm = stack.get("%s/photo.jpg?size=300x200&format=%s" % (MOUNT, fmt),
                   headers={"If-None-Match": a.headers["ETag"]})
    assert nm.status == 304, nm


@pytest.mark.parametrize("fmt", ["avif", "jxl"])
def test_bytes_grow_with_q(stack, fmt):
    sizes = [len(get(stack, "size=400x300&format=%s&q=%d" % (fmt, q)).body)
             for q in (20, 50, 75, 95)]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes), sizes


@pytest.mark.parametrize("fmt", ["avif", "jxl"])
def test_default_quality_is_the_configured_one(stack, fmt):
    """No q: the config's quality (75), the same bytes as q=75."""
    a = get(stack, "size=300x200&format=%s" % fmt)
    b = get(stack, "size=300x200&format=%s&q=75" % fmt)
    c = get(stack, "size=300x200&format=%s&q=40" % fmt)
    assert a.body == b.body and a.body != c.body


@pytest.mark.parametrize("fmt", ["avif", "jxl"])
def test_video_still(stack, fmt):
    _, im = fetch(stack, fmt, "t=1&size=160x120", name="clip.mp4")
    assert im.size == (160, 120)
    ref = decode(get(stack, "t=1&size=160x120&format=png", name="clip.mp4"))
    assert psnr(im, ref) > 25


@pytest.mark.parametrize("fmt", ["avif", "jxl"])
def test_animated_gif_answers_its_first_frame(stack, fmt):
    _, im = fetch(stack, fmt, "size=80x60", name="anim.gif")
    assert im.size == (80, 60)
    assert colour_close(im.convert("RGB").getpixel((40, 30)), RED)


def test_avif_past_its_side_limit_is_413(stack):
    """AV1 pictures stop at 16384 a side: the planner refuses before any
    pixel is decoded, naming the encoder and its limit; a long strip
    inside the limit is served."""
    r = stack.get("%s/photo.jpg?size=16384x16&dpr=2&fit=fill&enlarge=1&format=avif" % MOUNT)
    body = assert_json_error(r, 413, "AVIF")
    assert "16384" in body["error"], body
    _, im = fetch(stack, "avif", "size=16000x16&fit=fill&enlarge=1")
    assert im.size == (16000, 16)


def test_format_names_are_refused_when_unknown(stack):
    r = stack.get("%s/photo.jpg?format=avf" % MOUNT)
    body = assert_json_error(r, 400, "format")
    assert "avif" in body["error"] and "jxl" in body["error"], body


def test_configured_speed_and_effort_reach_the_encoders(stack, media):
    """avif_speed and jxl_effort of [media] change the answer: speed 10
    (libaom's fastest) is larger than the default 6; effort 7 is smaller
    than the default 3."""
    q = "size=300x200&q=75&format=%s"
    default = {f: len(get(stack, q % f).body) for f in ("avif", "jxl")}
    extra = {"media": {"avif_speed": 10, "jxl_effort": 7}}
    with webservers.Stack(front="nginx", media_root=media, mount=MOUNT, workers=1,
                          config_extra=extra) as s:
        tuned = {f: len(get(s, q % f).body) for f in ("avif", "jxl")}
        assert decode_with_tool("avif", get(s, q % "avif").body).size == (300, 200)
    assert tuned["avif"] > default["avif"], (tuned, default)
    assert tuned["jxl"] < default["jxl"], (tuned, default)
