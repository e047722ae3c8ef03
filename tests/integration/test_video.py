"""Video stills through libav, checked the way a user would: status,
Content-Type, decoded dimensions and pixel content. Every frame of the
numbered videos shows its own number (videos.py), so a still tells which
frame it is. Every test runs behind nginx and behind lighttpd (`stack`).

The fixtures are made with the ffmpeg CLI once and cached under
build/test-videos/; they are copied into the session's media root under
v/. Keyframe positions and every expected metadata value come from ffprobe,
never from assumptions about the encoder."""

import math
import os
import re
import shutil
import time
import urllib.parse

import pytest
from PIL import Image

from support import videos
from support.checks import assert_json_error
from support.imaging import (MOUNT, colour_close, decode, expected_size, fetch_image, mean_colour,
                             psnr)

V = MOUNT + "/v/"
FPS = videos.FPS
LAST = videos.FPS * videos.FRAMES_SECONDS - 1          # frames.mp4's last frame
MATRIX = ["h264.mp4", "h264.mov", "h264.ts", "hevc.mkv", "vp8.webm", "vp9.webm",
          "av1.mkv", "mpeg4.avi", "mjpeg.avi"]
QUICK = 5.0        # seconds any answer of these small files may take, errors included


@pytest.fixture(scope="session")
def vids(media_root):
    """The fixtures, copied into the media root under v/; the manifest."""
    src, manifest = videos.ensure()
    dst = os.path.join(media_root, "v")
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if not name.endswith((".png", ".json")):
            shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
    manifest["dir"] = src
    return manifest


def probe(vids, name):
    info = vids["files"].get(name)
    if info is None:
        pytest.skip("%s was not made: %s" % (name, vids["skipped"].get(name, "?")))
    return info


def get(stack, path, limit=QUICK):
    """GET path; the answer must come within limit seconds."""
    t0 = time.monotonic()
    r = stack.request("GET", path, timeout=limit + 5)
    took = time.monotonic() - t0
    assert took <= limit, "GET %s took %.1f s (limit %.0f s)" % (path, took, limit)
    return r


def still(stack, name, query="", fmt="jpeg"):
    path = V + name + ("?" + query if query else "")
    return fetch_image(stack, path, fmt)


def frame_no(stack, name, query):
    im = still(stack, name, query)
    n = videos.read_frame_number(im)
    assert n is not None, "GET %s%s?%s: no legible frame number in the still" % (V, name, query)
    return n


def floor_frame(t, fps=FPS):
    return int(math.floor(t * fps + 1e-6))


def frame_of_time(info, t):
    """Index of the frame shown at t (the last one that starts at or before
    t), from ffprobe's frame timestamps."""
    times = sorted(info["frame_times"])
    t0 = times[0]
    idx = 0
    for i, ft in enumerate(times):
        if ft - t0 <= t + 1e-6:
            idx = i
    return idx


def keyframe_at_or_before(info, t):
    times = sorted(info["frame_times"])
    t0 = times[0]
    keys = [k - t0 for k in info["keyframes"] if k - t0 <= t + 1e-6]
    return frame_of_time(info, max(keys))


# ------------------------------------------------------------------ fixtures sane

def test_fixtures_are_what_the_tests_assume(vids):
    """The encoder did what was asked (B-frames, keyframes once a second)."""
    info = probe(vids, "frames.mp4")
    assert len(info["frame_times"]) == LAST + 1
    assert "B" in info["pict_types"], info["pict_types"][:50]
    assert info["keyframes"][:3] == [0.0, 1.0, 2.0], info["keyframes"]
    side = probe(vids, "rotated.mp4")["streams"][0].get("side_data_list", [])
    assert any(s.get("rotation") == -90 for s in side), side


# ------------------------------------------------------------------ frame accuracy

# t as the URL gives it -> seconds (None: percent of the duration)
ACCURATE = [
    ("0", 0.0),
    ("1", 1.0),                 # exactly at a keyframe
    ("1.02", 1.02),             # half a frame after it
    ("1.06", 1.06),             # the second frame after it (a B-frame)
    ("1.09", 1.09),             # a B-frame between two references
    ("1.98", 1.98),             # just before the next keyframe
    ("1.999", 1.999),
    ("2.345", 2.345),           # between two frames
    ("3.5", 3.5),
    ("4.961", 4.961),
    ("00:00:02.50", 2.5),       # HH:MM:SS.ms
    ("00:03.3", 3.3),           # MM:SS
    ("0:0:4.02", 4.02),
    ("5.98", 5.98),             # the last frame's interval
]


@pytest.mark.parametrize("t,sec", ACCURATE)
def test_accurate_still_is_the_frame_on_screen_at_t(stack, vids, t, sec):
    info = probe(vids, "frames.mp4")
    want = frame_of_time(info, sec)
    assert want == floor_frame(sec)
    got = frame_no(stack, "frames.mp4", "t=" + t)
    assert got == want, "t=%s: frame %d shown, expected frame %d" % (t, got, want)


@pytest.mark.parametrize("t,sec", [("1.5", 1.5), ("00:00:02.10", 2.1)])
def test_seek_accurate_is_the_default(stack, vids, t, sec):
    a = frame_no(stack, "frames.mp4", "t=" + t)
    b = frame_no(stack, "frames.mp4", "t=%s&seek=accurate" % t)
    assert a == b == floor_frame(sec)


@pytest.mark.parametrize("pct", ["0", "25", "50", "62.5", "99", "100"])
def test_percent_t_is_a_share_of_the_duration(stack, vids, pct):
    info = probe(vids, "frames.mp4")
    dur = float(info["format"]["duration"])
    sec = dur * float(pct) / 100
    want = min(frame_of_time(info, sec), LAST)
    got = frame_no(stack, "frames.mp4", "t=%s%%25" % pct)
    assert abs(got - want) <= 1, "t=%s%%: frame %d, expected %d" % (pct, got, want)


@pytest.mark.parametrize("t", ["0", "0.5", "0.999", "1", "1.02", "1.98", "2", "3.7",
                               "00:00:04.96", "5.5", "50%25"])
def test_seek_key_is_exactly_the_keyframe_at_or_before_t(stack, vids, t):
    info = probe(vids, "frames.mp4")
    sec = float(info["format"]["duration"]) * 0.5 if t == "50%25" else \
        sum(float(x) * 60 ** i for i, x in enumerate(reversed(t.split(":"))))
    want = keyframe_at_or_before(info, sec)
    got = frame_no(stack, "frames.mp4", "t=%s&seek=key" % t)
    assert got == want, "t=%s&seek=key: frame %d, expected keyframe %d" % (t, got, want)


@pytest.mark.parametrize("t", ["6", "6.5", "100", "00:10:00", "3599.9", "100%25"])
def test_t_past_the_end_is_the_last_frame(stack, vids, t):
    got = frame_no(stack, "frames.mp4", "t=" + t)
    assert got == LAST, "t=%s: frame %d, expected the last one (%d)" % (t, got, LAST)


def test_t_past_the_end_with_seek_key_is_the_last_keyframe(stack, vids):
    info = probe(vids, "frames.mp4")
    want = keyframe_at_or_before(info, 1e9)
    assert frame_no(stack, "frames.mp4", "t=100&seek=key") == want


def test_auto_skips_a_black_opening(stack, vids):
    info = probe(vids, "black-intro.mp4")
    # the opening really is black
    first = still(stack, "black-intro.mp4", "t=0")
    assert videos.luma_stats(first)[0] < 24
    for q in ("", "t=auto"):
        im = still(stack, "black-intro.mp4", q)
        mean, sd = videos.luma_stats(im)
        assert mean >= 24 and sd >= 12, "?%s: a dark or flat frame (mean %.0f, sd %.0f)" % (
            q, mean, sd)
        n = videos.read_frame_number(im)
        fps = 10
        keys = [round(k * fps) for k in info["keyframes"]]
        assert n is not None and n >= 2 * fps and n in keys, \
            "?%s: frame %s, expected a keyframe after the black opening %s" % (q, n, keys)


def test_auto_on_a_normal_video_is_a_plausible_frame(stack, vids):
    info = probe(vids, "frames.mp4")
    keys = [round(k * FPS) for k in info["keyframes"]]
    for q in ("", "t=auto"):
        im = still(stack, "frames.mp4", q)
        assert im.size == (320, 240)
        n = videos.read_frame_number(im)
        # t=auto looks at keyframes within the first fifth of the video
        assert n in keys and n <= LAST / 5 + FPS, "?%s: frame %s" % (q, n)


def test_still_matches_the_source_frame(stack, vids):
    """Not just the number: the whole picture is the encoded frame."""
    im = still(stack, "frames.mp4", "t=2.345&q=95")
    ref = videos.frame_image(58, LAST + 1)
    db = psnr(im, ref)
    assert db >= 30, "PSNR %.1f dB against the source frame" % db


# ------------------------------------------------------------------ output like an image

@pytest.mark.parametrize("size,fit,enlarge", [
    ("160x160", "inside", 0), ("160x160", "cover", 0), ("160x160", "contain", 0),
    ("160x160", "fill", 0), ("160x160", "outside", 0), ("100x", None, 0), ("x60", None, 0),
    ("640x480", None, 0), ("640x480", None, 1), ("200x100", "cover", 0),
])
def test_still_sizes_and_fit_modes(stack, vids, size, fit, enlarge):
    q = "t=1.02&size=%s" % size + ("&fit=" + fit if fit else "") + \
        ("&enlarge=1" if enlarge else "")
    im = still(stack, "frames.mp4", q)
    bw, bh = (int(x or 0) for x in size.split("x"))
    want = expected_size(320, 240, bw, bh, fit or "inside", bool(enlarge))
    assert abs(im.size[0] - want[0]) <= 1 and abs(im.size[1] - want[1]) <= 1, \
        "?%s: %s, expected %s" % (q, im.size, want)
    if fit in (None, "inside", "fill", "outside"):
        # the whole frame, scaled: still frame 25
        assert videos.read_frame_number(im) == 25, q


def test_still_contain_pads_with_bg(stack, vids):
    # 320x240 in 160x160: a 160x120 picture, 20 rows of padding above and below
    im = still(stack, "frames.mp4", "t=1.02&size=160x160&fit=contain&bg=20c040")
    assert im.size == (160, 160)
    assert colour_close(mean_colour(im, (0, 0, 160, 16)), (0x20, 0xC0, 0x40), tol=16)
    assert colour_close(mean_colour(im, (0, 144, 160, 160)), (0x20, 0xC0, 0x40), tol=16)
    assert videos.read_frame_number(im.crop((0, 20, 160, 140))) == 25


def test_still_dpr_multiplies_size(stack, vids):
    im = still(stack, "frames.mp4", "t=1.02&size=80x60&dpr=2")
    assert im.size == (160, 120)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif"])
def test_still_formats(stack, vids, fmt):
    im = still(stack, "frames.mp4", "t=1.02&size=160x120&format=" + fmt, fmt)
    assert im.size == (160, 120)
    assert videos.read_frame_number(im) == 25


def test_still_default_format_is_jpeg(stack, vids):
    r = get(stack, V + "frames.mp4?t=1")
    assert r.status == 200 and r.content_type == "image/jpeg", r
    assert decode(r).format == "JPEG"


ORIENT = {
    "rotate=90": Image.Transpose.ROTATE_270,     # clockwise
    "rotate=180": Image.Transpose.ROTATE_180,
    "rotate=270": Image.Transpose.ROTATE_90,
    "flip=h": Image.Transpose.FLIP_LEFT_RIGHT,
    "flip=v": Image.Transpose.FLIP_TOP_BOTTOM,
}


@pytest.mark.parametrize("op", sorted(ORIENT))
def test_still_rotate_and_flip(stack, vids, op):
    im = still(stack, "frames.mp4", "t=2.345&q=95&" + op)
    ref = videos.frame_image(58, LAST + 1).transpose(ORIENT[op])
    assert im.size == ref.size, "%s: %s, expected %s" % (op, im.size, ref.size)
    db = psnr(im, ref)
    assert db >= 28, "%s: PSNR %.1f dB against the source frame turned" % (op, db)


def test_still_rotate_with_size_is_the_output_box(stack, vids):
    im = still(stack, "frames.mp4", "t=1&rotate=90&size=120x160")
    assert im.size == (120, 160)


def test_q_changes_the_jpeg(stack, vids):
    lo = get(stack, V + "frames.mp4?t=2.345&q=10")
    hi = get(stack, V + "frames.mp4?t=2.345&q=95")
    a, b = decode(lo), decode(hi)
    assert a.size == b.size == (320, 240)
    assert len(lo.body) < len(hi.body), (len(lo.body), len(hi.body))
    assert psnr(b, videos.frame_image(58, LAST + 1)) > psnr(a, videos.frame_image(58, LAST + 1))


# ------------------------------------------------------------------ containers and codecs

@pytest.mark.parametrize("name", MATRIX)
def test_container_and_codec(stack, vids, name):
    info = probe(vids, name)
    path = V + name + "?t=1.02"
    r = get(stack, path)
    assert r.status == 200, "GET %s -> %r\n%s" % (path, r, stack.logs())
    assert r.content_type == "image/jpeg", r
    im = decode(r)
    assert im.size == (320, 240)
    n = videos.read_frame_number(im)
    want = frame_of_time(info, 1.02)
    assert n is not None and abs(n - want) <= 1, "%s t=1.02: frame %s, expected %d" % (
        name, n, want)
    small = fetch_image(stack, V + name + "?t=0.5&size=160x160", "jpeg")
    assert small.size == (160, 120)


@pytest.mark.parametrize("name", MATRIX)
def test_container_accurate_frame_is_exact(stack, vids, name):
    """The frame on screen at t, whatever the container's time base (AVI
    counts in frames, Matroska in milliseconds): never the next frame
    because t was rounded to the nearest tick."""
    info = probe(vids, name)
    for t in ("0.52", "1.02", "1.5", "1.0397", "1.979"):
        want = frame_of_time(info, float(t))
        got = frame_no(stack, name, "t=" + t)
        assert got == want, "%s t=%s: frame %d (on screen from %.3f s), expected %d" % (
            name, t, got, got / FPS, want)


@pytest.mark.parametrize("name", MATRIX)
def test_container_seek_key(stack, vids, name):
    info = probe(vids, name)
    n = frame_no(stack, name, "t=1.5&seek=key")
    assert n == keyframe_at_or_before(info, 1.5), "%s: frame %d" % (name, n)


def test_the_name_does_not_matter_mpegts_named_m3u8(stack, vids):
    """The decoder is chosen by the bytes: a real MPEG-TS called .m3u8."""
    probe(vids, "ts-named.m3u8")
    r = get(stack, V + "ts-named.m3u8?t=1.02")
    assert r.status == 200 and r.content_type == "image/jpeg", r
    assert decode(r).size == (320, 240)


# ------------------------------------------------------------------ display matrix

# ffprobe rotation -> how the stored picture is turned for display
ROTATED = {
    "rotated.mp4": (Image.Transpose.ROTATE_270, 90),      # phone upright: 90 clockwise
    "rotated-ccw.mp4": (Image.Transpose.ROTATE_90, 270),
    "rotated180.mp4": (Image.Transpose.ROTATE_180, 180),
}


@pytest.mark.parametrize("name", sorted(ROTATED))
def test_display_matrix_is_applied(stack, vids, name):
    probe(vids, name)
    turn, _ = ROTATED[name]
    want = videos.quadrants(320, 240).transpose(turn)
    # what ffmpeg itself shows agrees with the expectation
    ref = Image.open(os.path.join(vids["dir"], name + ".ref.png")).convert("RGB")
    assert ref.size == want.size
    im = still(stack, name, "t=0.5")
    assert im.size == want.size, "%s: %s, expected %s" % (name, im.size, want.size)
    got, exp, ffm = videos.corner_colours(im), videos.corner_colours(want), \
        videos.corner_colours(ref)
    for q in exp:
        assert colour_close(ffm[q], exp[q]), (q, ffm[q], exp[q])
        assert colour_close(got[q], exp[q]), \
            "%s: %s quadrant is %s, expected %s" % (name, q, got[q], exp[q])


def test_rotated_video_box_and_rotate_param(stack, vids):
    probe(vids, "rotated.mp4")
    im = still(stack, "rotated.mp4", "t=0&size=120x120")
    assert im.size == (90, 120)                       # portrait
    # rotate=90 comes after the display matrix: 180 in all
    im = still(stack, "rotated.mp4", "t=0&rotate=90")
    assert im.size == (320, 240)
    want = videos.corner_colours(videos.quadrants(320, 240).transpose(Image.Transpose.ROTATE_180))
    got = videos.corner_colours(im)
    for q in want:
        assert colour_close(got[q], want[q]), (q, got[q], want[q])


# ------------------------------------------------------------------ sprites

def tiles(im, cols, rows):
    tw, th = im.size[0] // cols, im.size[1] // rows
    return [im.crop((i % cols * tw, i // cols * th, (i % cols + 1) * tw, (i // cols + 1) * th))
            for i in range(cols * rows)]


@pytest.mark.parametrize("cols,rows,size,tile", [
    (4, 3, "80x60", (80, 60)), (3, 2, "100x100", (100, 75)), (5, 1, "64x", (64, 48)),
    (1, 1, "160x120", (160, 120)),
])
def test_sprite_geometry_and_keyframe_tiles(stack, vids, cols, rows, size, tile):
    info = probe(vids, "frames.mp4")
    dur = float(info["format"]["duration"])
    q = "sprite=%dx%d&size=%s" % (cols, rows, size)
    im = still(stack, "frames.mp4", q)
    assert im.size == (cols * tile[0], rows * tile[1]), "?%s: %s" % (q, im.size)
    n = cols * rows
    for i, t in enumerate(tiles(im, cols, rows)):
        mid = dur * (i + 0.5) / n
        want = keyframe_at_or_before(info, mid)
        got = videos.read_frame_number(t)
        assert got == want, "?%s: tile %d shows frame %s, expected keyframe %d (t=%.3f)" % (
            q, i, got, want, mid)


def test_sprite_accurate_tiles_are_the_middle_of_each_span(stack, vids):
    info = probe(vids, "frames.mp4")
    dur = float(info["format"]["duration"])
    q = "sprite=4x3&size=80x60&seek=accurate"
    im = still(stack, "frames.mp4", q)
    assert im.size == (320, 180)
    ramps = []
    for i, t in enumerate(tiles(im, 4, 3)):
        want = frame_of_time(info, dur * (i + 0.5) / 12)
        got = videos.read_frame_number(t)
        assert got is not None and abs(got - want) <= 1, \
            "?%s: tile %d shows frame %s, expected %d" % (q, i, got, want)
        ramps.append(videos.ramp_of(t))
    # and the brightness ramp agrees: tiles in time order
    assert all(b > a for a, b in zip(ramps, ramps[1:])), ramps


def test_sprite_format_png(stack, vids):
    im = still(stack, "frames.mp4", "sprite=2x2&size=80x60&format=png", "png")
    assert im.size == (160, 120)


VTT_CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)$")


def parse_vtt(text):
    assert text.startswith("WEBVTT"), text[:40]
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n")[1:] if b.strip()]
    cues = []
    for b in blocks:
        lines = b.strip("\n").split("\n")
        m = VTT_CUE.match(lines[0]) or (len(lines) > 2 and VTT_CUE.match(lines[1]))
        assert m, "not a cue: %r" % b
        g = [int(x) for x in m.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        cues.append((start, end, lines[-1]))
    return cues


@pytest.mark.parametrize("query,cols,rows,tile", [
    ("sprite=4x3&size=80x60", 4, 3, (80, 60)),
    ("size=100x100&sprite=3x2&seek=accurate&q=70", 3, 2, (100, 75)),
])
def test_sprite_vtt(stack, vids, query, cols, rows, tile):
    info = probe(vids, "frames.mp4")
    dur = float(info["format"]["duration"])
    path = V + "frames.mp4?" + query + "&format=vtt"
    r = get(stack, path)
    assert r.status == 200, r
    assert r.content_type == "text/vtt", r
    cues = parse_vtt(r.body.decode("utf-8"))
    assert len(cues) == cols * rows
    assert cues[0][0] == 0
    assert abs(cues[-1][1] - dur) <= 0.002, (cues[-1], dur)
    want_params = dict(urllib.parse.parse_qsl(query))
    sprite_urls = set()
    for i, (start, end, url) in enumerate(cues):
        assert end > start
        if i:
            assert start == cues[i - 1][1], "cues %d and %d are not contiguous" % (i - 1, i)
        assert abs(start - dur * i / (cols * rows)) <= 0.002
        base, frag = url.split("#xywh=")
        assert [int(x) for x in frag.split(",")] == [
            i % cols * tile[0], i // cols * tile[1], tile[0], tile[1]], url
        u = urllib.parse.urlsplit(base)
        assert u.path == V + "frames.mp4", url
        assert dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True)) == want_params, url
        sprite_urls.add(base)
    assert len(sprite_urls) == 1
    # the URL the cues name gives the sprite they describe
    base = sprite_urls.pop()
    im = fetch_image(stack, base, "jpeg")
    assert im.size == (cols * tile[0], rows * tile[1])
    direct = get(stack, V + "frames.mp4?" + query)
    assert direct.status == 200
    assert direct.headers.get("ETag") == get(stack, base).headers.get("ETag")


# ------------------------------------------------------------------ info

def _rate(s):
    if not s or "/" not in s:
        return 0.0
    a, b = s.split("/")
    return float(a) / float(b) if float(b) else 0.0


@pytest.mark.parametrize("name", ["frames.mp4", "h264.mov", "h264.ts", "hevc.mkv", "vp9.webm",
                                  "vp8.webm", "av1.mkv", "mpeg4.avi", "rotated.mp4"])
def test_info_matches_ffprobe(stack, vids, name):
    info = probe(vids, name)
    r = get(stack, V + name + "?info")
    assert r.status == 200, r
    assert r.content_type == "application/json", r
    j = r.json()
    fmt = info["format"]
    assert j["container"] == fmt["format_name"]
    assert abs(j["duration"] - float(fmt["duration"])) <= 0.05, (j["duration"], fmt["duration"])
    assert j["size"] == int(fmt["size"]) == os.path.getsize(os.path.join(vids["dir"], name))
    if "bit_rate" in fmt:
        assert abs(j["bitrate"] - int(fmt["bit_rate"])) <= 0.02 * int(fmt["bit_rate"]) + 1, \
            (j["bitrate"], fmt["bit_rate"])
    assert len(j["streams"]) == len(info["streams"])
    for got, want in zip(j["streams"], info["streams"]):
        assert got["type"] == want["codec_type"], (got, want)
        assert got["codec"] == want["codec_name"], (got, want)
        if want.get("bit_rate"):
            assert abs(got["bitrate"] - int(want["bit_rate"])) <= 0.02 * int(want["bit_rate"]) + 1
        if want["codec_type"] == "video":
            assert (got["width"], got["height"]) == (want["width"], want["height"])
            fps = _rate(want.get("avg_frame_rate")) or _rate(want.get("r_frame_rate"))
            assert abs(got["fps"] - fps) <= 0.01, (got["fps"], fps)
            rot = 0
            for sd in want.get("side_data_list", []):
                if "rotation" in sd:
                    rot = (-int(sd["rotation"])) % 360
            assert got["rotation"] == rot, (got["rotation"], rot)
            assert got["pixel_format"] == want["pix_fmt"], (got, want)
        elif want["codec_type"] == "audio":
            assert got["channels"] == want["channels"], (got, want)
            assert got["sample_rate"] == int(want["sample_rate"]), (got, want)


def test_info_of_the_rotated_video_says_90(stack, vids):
    probe(vids, "rotated.mp4")
    j = get(stack, V + "rotated.mp4?info").json()
    v = [s for s in j["streams"] if s["type"] == "video"][0]
    assert v["rotation"] == 90
    assert (v["width"], v["height"]) == (320, 240)     # as stored


def test_info_of_the_mov_has_its_audio(stack, vids):
    probe(vids, "h264.mov")
    j = get(stack, V + "h264.mov?info").json()
    a = [s for s in j["streams"] if s["type"] == "audio"]
    assert a and a[0]["codec"] == "aac" and a[0]["channels"] == 2 and \
        a[0]["sample_rate"] == 48000, j


# ------------------------------------------------------------------ damaged files

def test_audio_only_is_422_naming_the_video_stream(stack, vids):
    for q in ("", "?t=1", "?sprite=2x2&size=80x60"):
        r = get(stack, V + "audio.mp4" + q)
        assert_json_error(r, 422, "video stream")


@pytest.mark.parametrize("name", ["nomoov.mp4", "corrupt-moov.mp4"])
@pytest.mark.parametrize("q", ["", "?t=1", "?t=3&seek=key", "?sprite=2x2&size=80x60",
                               "?sprite=2x2&size=80x60&format=vtt"])
def test_broken_index_is_422(stack, vids, name, q):
    r = get(stack, V + name + q)
    assert_json_error(r, 422)


def _frame_or_422(stack, path, sec):
    """A damaged file may still give the frames that survive; never a
    wrong one, never garbage, never a 500."""
    r = get(stack, path)
    if r.status == 422:
        assert_json_error(r, 422)
        return None
    assert r.status == 200, "GET %s -> %r (expected 200 or 422)" % (path, r)
    assert r.content_type == "image/jpeg", r
    im = decode(r)
    assert im.size == (320, 240)
    n = videos.read_frame_number(im)
    assert n is not None, "GET %s: 200 with a picture that is no frame" % path
    assert n <= floor_frame(sec) + 1, \
        "GET %s: 200 with frame %d, which is on screen only at %.2f s" % (path, n, n / FPS)
    return n


def test_truncated_file_gives_what_survives_and_422_after(stack, vids):
    """Cut in the middle of mdat: the index names frames that are not there."""
    probe(vids, "truncated.mp4")
    n = _frame_or_422(stack, V + "truncated.mp4?t=0", 0)
    assert n in (None, 0)
    n = _frame_or_422(stack, V + "truncated.mp4?t=1.02", 1.02)
    assert n in (None, 25)
    # past what remains (the file holds about half of its 6 s)
    for q in ("t=5", "t=5&seek=key", "t=5.9", "sprite=3x2&size=80x60"):
        r = get(stack, V + "truncated.mp4?" + q)
        assert_json_error(r, 422)


@pytest.mark.parametrize("t", ["0", "1.5", "2.1", "2.5", "3.02", "3.5", "4.5", "5.5"])
def test_corrupt_file_is_422_or_the_right_frame(stack, vids, t):
    """Random bytes over the middle third of mdat (about 2 s to 4 s)."""
    probe(vids, "corrupt.mp4")
    n = _frame_or_422(stack, V + "corrupt.mp4?t=" + t, float(t))
    if float(t) < 1.9 or float(t) >= 4.0:
        # frames outside the damage decode as they are
        assert n == floor_frame(float(t)), "t=%s: frame %s" % (t, n)


def test_corrupt_sprite_does_not_fail_badly(stack, vids):
    r = get(stack, V + "corrupt.mp4?sprite=3x2&size=80x60")
    assert r.status in (200, 422), r
    if r.status == 200:
        assert decode(r).size == (240, 120)


# ------------------------------------------------------------------ hostile files

def _leaks(body):
    """Lines of /etc/passwd (the file the hostile lists name) found in body."""
    with open("/etc/passwd", "rb") as f:
        lines = [l for l in f.read().split(b"\n") if len(l) >= 8]
    return [l for l in lines if l in body] + ([b"root:x:0:0"] if b"root:x:0:0" in body else [])


@pytest.mark.parametrize("name", sorted(videos.HOSTILE))
@pytest.mark.parametrize("q", ["", "?t=1", "?info", "?sprite=2x2&size=80x60&format=vtt"])
def test_playlists_and_protocol_files_are_415(stack, vids, name, q):
    r = get(stack, V + name + q)
    assert_json_error(r, 415)
    assert not _leaks(r.body), r.body
    ok = get(stack, V + "frames.mp4?t=1&size=80x60")
    assert ok.status == 200 and decode(ok).size == (80, 60), ok


@pytest.mark.parametrize("q", ["", "?t=1", "?info"])
def test_mp4_magic_before_a_playlist_opens_nothing(stack, vids, q):
    r = get(stack, V + "ftyp-playlist.mp4" + q)
    assert_json_error(r, 422)
    assert not _leaks(r.body), r.body


# ------------------------------------------------------------------ parameter errors

def assert_400_naming(r, name):
    """400, and the message names the parameter as a parameter ("t: ...",
    "t=...", "'t'"), not just somewhere in a word."""
    body = assert_json_error(r, 400)
    assert re.search(r"(^|[\s(\"'`])%s(=|:|\"|'|`|\s+parameter)" % re.escape(name),
                     body["error"]), "error %r does not name %r" % (body["error"], name)

@pytest.mark.parametrize("q,name", [("t=3", "t"), ("t=auto", "t"), ("seek=key", "seek"),
                                    ("sprite=2x2", "sprite"), ("t=1&size=100x", "t")])
def test_video_params_on_an_image_are_400(stack, vids, q, name):
    r = get(stack, MOUNT + "/landscape.jpg?" + q)
    assert_400_naming(r, name)


@pytest.mark.parametrize("q,name", [("crop=0,0,100,100", "crop"), ("t=1&crop=0,0,10,10", "crop"),
                                    ("frame=2", "frame")])
def test_image_params_on_a_video_are_400(stack, vids, q, name):
    r = get(stack, V + "frames.mp4?" + q)
    assert_400_naming(r, name)


@pytest.mark.parametrize("path", [V + "frames.mp4?format=vtt", V + "frames.mp4?t=1&format=vtt",
                                  MOUNT + "/landscape.jpg?format=vtt"])
def test_vtt_without_sprite_is_400(stack, vids, path):
    r = get(stack, path)
    assert_400_naming(r, "format")


@pytest.mark.parametrize("t", ["abc", "-1", "1:2:3:4", "101%25", "-5%25", "00:60:00",
                               "00:00:60", "12s", "", "1..2", "nan", "inf", "%25", "1:", ":5",
                               "0x10", "1%2C5", "%20%201"])
def test_bad_t_is_400(stack, vids, t):
    r = get(stack, V + "frames.mp4?t=" + t)
    assert_400_naming(r, "t")


@pytest.mark.parametrize("q,name", [("seek=fast", "seek"), ("seek=", "seek"),
                                    ("sprite=0x3", "sprite"), ("sprite=21x1", "sprite"),
                                    ("sprite=11x10", "sprite"), ("sprite=4", "sprite"),
                                    ("sprite=4x", "sprite"), ("sprite=axb", "sprite"),
                                    ("t=1&t=2", "t")])
def test_bad_video_params_are_400(stack, vids, q, name):
    r = get(stack, V + "frames.mp4?" + q)
    assert_400_naming(r, name)


# ------------------------------------------------------------------ ETag

def test_etag_differs_with_t_and_ignores_parameter_order(stack, vids):
    a = get(stack, V + "frames.mp4?t=1&size=80x60")
    b = get(stack, V + "frames.mp4?t=2&size=80x60")
    c = get(stack, V + "frames.mp4?size=80x60&t=1")
    for r in (a, b, c):
        assert r.status == 200 and r.headers.get("ETag"), r
    assert a.headers["ETag"] != b.headers["ETag"]
    assert a.headers["ETag"] == c.headers["ETag"]
    s = get(stack, V + "frames.mp4?sprite=2x2&size=80x60")
    v = get(stack, V + "frames.mp4?sprite=2x2&size=80x60&format=vtt")
    assert s.headers["ETag"] != v.headers["ETag"]
    # and the tag is honoured before anything is decoded
    r = stack.request("GET", V + "frames.mp4?size=80x60&t=1",
                      headers={"If-None-Match": a.headers["ETag"]})
    assert r.status == 304, r
