"""Watermarks behind nginx: `[watermark NAME]` in the config (file,
gravity, margin, opacity, width), `wm=NAME` in the query or a preset.
Checked as a user would: the watermark's pixels are at the expected corner
with the expected blend (a generated RGBA PNG logo over a known source),
everything else equals the answer without wm, and nothing is drawn without
wm; on video stills and sprite sheets too; an unknown name is 400; presets,
presets_only and signed URLs treat wm like any parameter; a config whose
watermark file is missing or not an image is refused naming FILE:LINE."""

import os
import signal
import subprocess
import time

import pytest
from PIL import Image, ImageChops

from support import webservers
from support.checks import assert_json_error
from support.imaging import MOUNT, QUADS, colour_close, decode, mean_colour

KEY = "watermark-test-key-0123456789"
LOGO_W, LOGO_H = 100, 50


def make_logo(path, split=False):
    """A 100 x 50 RGBA PNG: opaque white; with split, its right half clear."""
    im = Image.new("RGBA", (LOGO_W, LOGO_H), (255, 255, 255, 255))
    if split:
        im.paste((0, 0, 0, 0), (LOGO_W // 2, 0, LOGO_W, LOGO_H))
    im.save(path, "PNG")


@pytest.fixture(scope="module")
def files(tmp_path_factory, media_root):
    d = tmp_path_factory.mktemp("wm")
    logo, half = str(d / "logo.png"), str(d / "half.png")
    make_logo(logo)
    make_logo(half, split=True)
    with open(d / "notimage.png", "wb") as f:
        f.write(b"this is not a picture\n")
    # A black video: 2 s, 320 x 240 (the still's corner is the blend on black).
    vdir = os.path.join(media_root, "wm")
    os.makedirs(vdir, exist_ok=True)
    video = os.path.join(vdir, "black.mp4")
    if not os.path.exists(video):
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                        "-i", "color=c=black:s=320x240:d=2:r=25", "-c:v", "libx264",
                        "-pix_fmt", "yuv420p", video], check=True, timeout=120)
    return {"dir": d, "logo": logo, "half": half, "notimage": str(d / "notimage.png")}


def wm_sections(files):
    return {
        "watermark logo": {"file": files["logo"], "gravity": "southeast", "margin": 10,
                           "opacity": 0.5, "width": 0.2},
        "watermark tl": {"file": files["half"], "gravity": "northwest", "margin": 5},
        "preset wmthumb": {"size": "300x200", "format": "png", "wm": "logo"},
        "preset plain": {"size": "300x200", "format": "png"},
    }


def _stack(media_root, extra):
    s = webservers.Stack(front="nginx", media_root=media_root, mount=MOUNT, workers=2,
                         config_extra=extra)
    s.start()
    return s


def _stop(s):
    assert not s.stop()
    assert not s.sanitizer_reports(), s.sanitizer_reports()


@pytest.fixture(scope="module")
def wms(media_root, files):
    s = _stack(media_root, wm_sections(files))
    yield s
    _stop(s)


@pytest.fixture(scope="module")
def presets_only(media_root, files):
    extra = wm_sections(files)
    extra["security"] = {"presets_only": "yes"}
    s = _stack(media_root, extra)
    yield s
    _stop(s)


@pytest.fixture(scope="module")
def signed(media_root, files):
    extra = wm_sections(files)
    extra["security"] = {"signing_key": KEY}
    s = _stack(media_root, extra)
    yield s
    _stop(s)


def get_image(stack, path):
    r = stack.get(path)
    assert r.status == 200, "GET %s -> %r\n%s" % (path, r, stack.logs())
    return decode(r).convert("RGB")


# The logo on a 300 x 200 answer: width 0.2 -> 60 x 30, 10 px from the
# bottom-right corner.
RECT = (230, 160, 290, 190)


def assert_blend(with_wm, without, rect, opacity, cols=None, skip=None):
    """Inside rect (optionally only its columns cols), with_wm is white at
    opacity over without (+-2 per channel); outside, the two are equal;
    columns skip (x0, x1) inside rect are not checked (an edge's ramp)."""
    x0, y0, x1, y1 = rect
    a, b = with_wm.load(), without.load()
    w, h = with_wm.size
    assert with_wm.size == without.size
    for y in range(h):
        for x in range(w):
            if skip and skip[0] <= x < skip[1] and y0 <= y < y1:
                continue
            inside = x0 <= x < x1 and y0 <= y < y1 and (cols is None or cols[0] <= x < cols[1])
            if inside:
                want = tuple(255 * opacity + c * (1 - opacity) for c in b[x, y])
                got = a[x, y]
                assert all(abs(g - v) <= 2 for g, v in zip(got, want)), \
                    "pixel %d,%d: %r, expected %r" % (x, y, got, want)
            else:
                assert a[x, y] == b[x, y], "pixel %d,%d changed outside the watermark: %r != %r" \
                    % (x, y, a[x, y], b[x, y])


def test_thumbnail_corner_has_the_blend_and_nothing_else_changes(wms):
    base = MOUNT + "/landscape.jpg?size=300x200&format=png"
    plain = get_image(wms, base)
    marked = get_image(wms, base + "&wm=logo")
    assert plain.size == marked.size == (300, 200)
    assert_blend(marked, plain, RECT, 0.5)
    # The corner under it is the source's yellow quadrant: now lighter.
    assert colour_close(mean_colour(plain, RECT), QUADS["br"], 10)
    assert colour_close(mean_colour(marked, RECT), (247, 237, 137), 6)


def test_absent_without_wm(wms):
    """No wm=: the corner is the source's own colour, the same answer as a
    preset without wm."""
    plain = get_image(wms, MOUNT + "/landscape.jpg?size=300x200&format=png")
    assert colour_close(mean_colour(plain, RECT), QUADS["br"], 10)
    via_preset = get_image(wms, MOUNT + "/landscape.jpg?preset=plain")
    assert ImageChops.difference(plain, via_preset).getbbox() is None


def test_gravity_margin_and_the_logos_own_alpha(wms):
    """tl: northwest, margin 5, opacity 1, its right half clear: only its
    left half (30 x 30 at 5,5) is drawn, in white (the scaled edge between
    the halves, 2 px either side, is a ramp)."""
    base = MOUNT + "/landscape.jpg?size=300x200&format=png"
    plain = get_image(wms, base)
    marked = get_image(wms, base + "&wm=tl")
    assert_blend(marked, plain, (5, 5, 65, 35), 1.0, cols=(5, 35), skip=(33, 37))


def test_jpeg_output_and_etag(wms):
    base = MOUNT + "/landscape.jpg?size=300x200"
    r0, r1, r2 = wms.get(base), wms.get(base + "&wm=logo"), wms.get(base + "&wm=tl")
    marked = decode(r1).convert("RGB")
    assert r1.content_type == "image/jpeg" and marked.size == (300, 200)
    inner = (RECT[0] + 4, RECT[1] + 4, RECT[2] - 4, RECT[3] - 4)
    assert colour_close(mean_colour(marked, inner), (247, 237, 137), 8)
    assert colour_close(mean_colour(decode(r0), inner), QUADS["br"], 10)
    etags = {r.headers.get("ETag") for r in (r0, r1, r2)}
    assert len(etags) == 3 and None not in etags


def test_animated_and_alpha_sources(wms):
    """Every frame of an animation, and a transparent PNG kept transparent
    where the logo is not: drawn over its alpha."""
    r = wms.get(MOUNT + "/anim.gif?format=gif&wm=logo")
    im = Image.open(__import__("io").BytesIO(r.body))
    assert r.status == 200 and getattr(im, "n_frames", 1) == 3
    for i in range(3):
        im.seek(i)
        fr = im.convert("RGB")
        w, h = fr.size
        # 160 x 120: 32 x 16 at 118, 94; the blend of white at 0.5.
        c = mean_colour(fr, (121, 97, 147, 107))
        assert all(v >= 120 for v in c), (i, c)
        assert mean_colour(fr, (0, 0, 20, 20)) != c
    a = get_image(wms, MOUNT + "/alpha.png?wm=tl")       # 400 x 300, logo 80 x 40 at 5, 5
    full = decode(wms.get(MOUNT + "/alpha.png?wm=tl"))
    assert full.mode == "RGBA"
    assert full.getpixel((300, 100))[3] == 0              # clear, far from the logo
    assert full.getpixel((20, 20))[:3] == (255, 255, 255) and full.getpixel((20, 20))[3] == 255
    assert a.size == (400, 300)


def test_video_still_and_sprite(wms, files):
    still = get_image(wms, MOUNT + "/wm/black.mp4?t=1&size=320x240&wm=logo")
    assert still.size == (320, 240)
    # 64 x 32 at 246, 198 (margin 10): grey on black; the rest black.
    assert all(abs(c - 128) <= 8 for c in mean_colour(still, (250, 202, 306, 226)))
    assert all(c <= 8 for c in mean_colour(still, (0, 0, 240, 190)))
    plain = get_image(wms, MOUNT + "/wm/black.mp4?t=1&size=320x240")
    assert all(c <= 8 for c in mean_colour(plain, (250, 202, 306, 226)))
    # A sprite: one watermark on the sheet (160 x 120), its corner tile.
    sheet = get_image(wms, MOUNT + "/wm/black.mp4?sprite=2x2&size=80x60&wm=logo")
    assert sheet.size == (160, 120)
    assert all(abs(c - 128) <= 10 for c in mean_colour(sheet, (120, 96, 146, 106)))
    assert all(c <= 8 for c in mean_colour(sheet, (0, 0, 80, 60)))


def test_unknown_wm_is_400(wms):
    assert_json_error(wms.get(MOUNT + "/landscape.jpg?wm=nope"), 400, "no watermark called 'nope'")
    assert_json_error(wms.get(MOUNT + "/landscape.jpg?wm=Bad!"), 400, "wm")
    assert_json_error(wms.get(MOUNT + "/wm/black.mp4?format=mjpeg&wm=logo"), 400, "wm")


def test_wm_in_a_preset(wms):
    plain = get_image(wms, MOUNT + "/landscape.jpg?size=300x200&format=png")
    marked = get_image(wms, MOUNT + "/landscape.jpg?preset=wmthumb")
    assert_blend(marked, plain, RECT, 0.5)


def test_presets_only_takes_wm_only_through_a_preset(presets_only):
    assert_json_error(presets_only.get(MOUNT + "/landscape.jpg?size=300x200&wm=logo"), 403)
    assert_json_error(presets_only.get(MOUNT + "/landscape.jpg?preset=plain&wm=logo"), 403)
    plain = get_image(presets_only, MOUNT + "/landscape.jpg?preset=plain")
    marked = get_image(presets_only, MOUNT + "/landscape.jpg?preset=wmthumb")
    assert_blend(marked, plain, RECT, 0.5)


def test_signed_url_with_wm(signed):
    q = MOUNT + "/landscape.jpg?size=300x200&format=png&wm=logo"
    out = subprocess.run([signed.binary, "--config", signed.conf, "--sign", q],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert "wm=logo" in url and "&sig=" in url
    marked = get_image(signed, url)
    assert colour_close(mean_colour(marked, RECT), (247, 237, 137), 6)
    # The signature covers wm: another name, or none, is refused.
    assert_json_error(signed.get(url.replace("wm=logo", "wm=tl")), 403, "sig")
    assert_json_error(signed.get(url.replace("&wm=logo", "")), 403, "sig")


def _test_config(tmp_path, media_root, text):
    conf = tmp_path / "wm.conf"
    conf.write_text(text.replace("ROOT", media_root))
    r = subprocess.run([webservers.mediafcgi_bin(), "--config", str(conf), "--test-config"],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    return conf, r


BASE = "[server]\nallow_root = yes\n[media]\nroot = ROOT\n"


@pytest.mark.parametrize("file,why", [
    ("MISSING", "cannot open"),
    ("NOTIMAGE", "not a PNG or WebP"),
    ("relative/logo.png", "absolute"),
])
def test_bad_watermark_file_refuses_the_config(tmp_path, media_root, files, file, why):
    path = {"MISSING": str(files["dir"] / "missing.png"),
            "NOTIMAGE": files["notimage"]}.get(file, file)
    conf, r = _test_config(tmp_path, media_root,
                           BASE + "[watermark logo]\ngravity = south\nfile = %s\n" % path)
    assert r.returncode == 1, r
    assert "%s:7:" % conf in r.stderr and why in r.stderr, r.stderr


@pytest.mark.parametrize("text,mention", [
    ("[watermark logo]\nfile = LOGO\ngravity = smart\n", "%s:7:"),
    ("[watermark logo]\nfile = LOGO\nopacity = 1.5\n", "%s:7:"),
    ("[watermark logo]\nfile = LOGO\nwidth = 0\n", "%s:7:"),
    ("[watermark logo]\nfile = LOGO\ncolour = red\n", "%s:7:"),
    ("[watermark logo]\nmargin = 3\n", "needs file"),
    ("[preset p]\nwm = other\n[watermark logo]\nfile = LOGO\n", "no watermark called 'other'"),
])
def test_bad_watermark_settings_refuse_the_config(tmp_path, media_root, files, text, mention):
    conf, r = _test_config(tmp_path, media_root, BASE + text.replace("LOGO", files["logo"]))
    assert r.returncode == 1, r
    assert (mention % conf if "%s" in mention else mention) in r.stderr, r.stderr


def test_good_watermark_config_is_accepted(tmp_path, media_root, files):
    conf, r = _test_config(tmp_path, media_root, BASE +
                           "[watermark logo]\nfile = %s\ngravity = northeast\nmargin = 0\n"
                           "opacity = 0.25\nwidth = 1\n[preset p]\nwm = logo\n" % files["logo"])
    assert r.returncode == 0 and "config ok" in r.stdout, r


def test_reload_reads_the_file_anew(tmp_path, media_root, files):
    """SIGHUP decodes the file again: a new logo under the same name is
    drawn (and is a new ETag); a broken one is refused and the running
    config, its logo included, stays."""
    logo = tmp_path / "reload.png"
    make_logo(str(logo))
    s = _stack(media_root, {"watermark logo": {"file": str(logo), "opacity": 0.5,
                                               "margin": 10}})
    try:
        url = MOUNT + "/landscape.jpg?size=300x200&format=png&wm=logo"
        r0 = s.get(url)
        assert colour_close(mean_colour(decode(r0).convert("RGB"), RECT), (247, 237, 137), 6)
        Image.new("RGBA", (LOGO_W, LOGO_H), (0, 0, 0, 255)).save(str(logo), "PNG")
        os.kill(s.mediafcgi_pid(), signal.SIGHUP)
        dark = (120, 110, 10)          # black at 0.5 over (240, 220, 20)
        deadline = time.monotonic() + 10
        while True:
            r1 = s.get(url)
            if colour_close(mean_colour(decode(r1).convert("RGB"), RECT), dark, 6):
                break
            assert time.monotonic() < deadline, "the reloaded logo is not drawn\n" + s.logs()
            time.sleep(0.1)
        assert r1.headers.get("ETag") != r0.headers.get("ETag")
        with open(logo, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\nbroken")
        os.kill(s.mediafcgi_pid(), signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload refused" not in s.logs():
            assert time.monotonic() < deadline, s.logs()
            time.sleep(0.1)
        assert "%s:" % s.conf in s.logs() and "watermark logo" in s.logs()
        r2 = s.get(url)
        assert colour_close(mean_colour(decode(r2).convert("RGB"), RECT), dark, 6)
    finally:
        _stop(s)
