"""Sizes, fit modes, gravity and pixel content of thumbnails, decoded with
Pillow the way a user would look at them. Every test runs behind nginx and
behind lighttpd (the `stack` fixture)."""

import pytest
from PIL import Image, ImageOps

from support.imaging import (MOUNT, QUADS, cover_region, expected_size, fetch_image, mean_colour,
                     colour_close, psnr, quadrant_shares, region_quadrant_shares, source)

SOURCES = {"landscape.jpg": (1200, 800), "portrait.jpg": (800, 1200)}

# (size=, enlarge) pairs: same aspect, square, wide, tall, one side only,
# bigger than the source on both sides, bigger on one side only.
BOXES = [
    ("300x200", 0), ("300x300", 0), ("400x100", 0), ("100x400", 0),
    ("300x", 0), ("x300", 0),
    ("1600x1600", 0), ("1600x1600", 1),
    ("1500x100", 0), ("1500x100", 1),
    ("2000x", 0), ("2000x", 1), ("x1400", 0), ("x1400", 1),
]
FITS = ["inside", "cover", "contain", "fill", "outside"]


def box_of(size):
    w, h = size.split("x")
    return int(w or 0), int(h or 0)


def close(got, want, tol=1):
    return abs(got[0] - want[0]) <= tol and abs(got[1] - want[1]) <= tol


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("fit", FITS)
@pytest.mark.parametrize("size,enlarge", BOXES)
def test_fit_dimensions(stack, name, fit, size, enlarge):
    sw, sh = SOURCES[name]
    bw, bh = box_of(size)
    path = "%s/%s?size=%s&fit=%s&enlarge=%d" % (MOUNT, name, size, fit, enlarge)
    im = fetch_image(stack, path, "jpeg")
    want = expected_size(sw, sh, bw, bh, fit, bool(enlarge))
    assert close(im.size, want), "GET %s -> %dx%d, expected %dx%d" % (path, *im.size, *want)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_default_fit_is_inside_and_no_size_keeps_source(stack, name):
    sw, sh = SOURCES[name]
    a = fetch_image(stack, "%s/%s?size=300x300" % (MOUNT, name), "jpeg")
    assert close(a.size, expected_size(sw, sh, 300, 300, "inside"))
    b = fetch_image(stack, "%s/%s" % (MOUNT, name), "jpeg")
    assert b.size == (sw, sh)


def test_enlarge_default_is_off(stack):
    a = fetch_image(stack, MOUNT + "/sub/nested.jpg?size=480x320", "jpeg")
    b = fetch_image(stack, MOUNT + "/sub/nested.jpg?size=480x320&enlarge=0", "jpeg")
    c = fetch_image(stack, MOUNT + "/sub/nested.jpg?size=480x320&enlarge=1", "jpeg")
    assert a.size == b.size == (240, 160)
    assert c.size == (480, 320)


# ------------------------------------------------------------------ gravity
# The quadrant images are red | green over blue | yellow. For fit=cover the
# kept part of the source follows from the box and the gravity; the share of
# each colour in the answer must match that part (e.g. gravity=west with a
# tall box keeps the left column: red over blue, no green or yellow).

GRAVITIES = ["center", "north", "south", "east", "west",
             "northeast", "northwest", "southeast", "southwest"]


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("size", ["300x100", "100x300", "100x100"])
@pytest.mark.parametrize("gravity", GRAVITIES)
def test_cover_gravity_keeps_the_expected_part(stack, name, size, gravity):
    sw, sh = SOURCES[name]
    bw, bh = box_of(size)
    path = "%s/%s?size=%s&fit=cover&gravity=%s" % (MOUNT, name, size, gravity)
    im = fetch_image(stack, path, "jpeg")
    assert im.size == (bw, bh)
    want = region_quadrant_shares(sw, sh, cover_region(sw, sh, bw, bh, gravity))
    got = quadrant_shares(im)
    for q in QUADS:
        assert abs(got[q] - want[q]) < 0.04, \
            "GET %s: colour shares %s, expected %s" % (path, _fmt(got), _fmt(want))


def _fmt(shares):
    return {k: round(v, 3) for k, v in shares.items()}


def test_cover_west_keeps_left_colours(stack):
    """The plain-words version of the table above."""
    im = fetch_image(stack, MOUNT + "/landscape.jpg?size=100x300&fit=cover&gravity=west")
    assert colour_close(mean_colour(im, (0, 0, 100, 140)), QUADS["tl"])
    assert colour_close(mean_colour(im, (0, 160, 100, 300)), QUADS["bl"])


def test_cover_default_gravity_is_center(stack):
    a = fetch_image(stack, MOUNT + "/landscape.jpg?size=100x300&fit=cover")
    b = fetch_image(stack, MOUNT + "/landscape.jpg?size=100x300&fit=cover&gravity=center")
    assert psnr(a, b) > 40


# ------------------------------------------------------------------ contain padding

@pytest.mark.parametrize("bg,colour", [(None, (255, 255, 255)), ("000000", (0, 0, 0)),
                                       ("20c040", (0x20, 0xC0, 0x40))])
def test_contain_pads_with_background(stack, bg, colour):
    # 1200x800 in a 300x300 box: a 300x200 picture with 50 rows of padding
    # above and below (gravity center).
    path = MOUNT + "/landscape.jpg?size=300x300&fit=contain" + ("&bg=" + bg if bg else "")
    im = fetch_image(stack, path, "jpeg")
    assert im.size == (300, 300)
    assert colour_close(mean_colour(im, (0, 0, 300, 45)), colour, tol=12), path
    assert colour_close(mean_colour(im, (0, 255, 300, 300)), colour, tol=12), path
    assert colour_close(mean_colour(im, (10, 60, 140, 140)), QUADS["tl"]), path
    assert colour_close(mean_colour(im, (160, 160, 290, 240)), QUADS["br"]), path


# ------------------------------------------------------------------ pixel content

@pytest.mark.parametrize("name,size,fmt", [
    ("photo.jpg", "300x200", "jpeg"),
    ("photo.jpg", "500x500", "jpeg"),
    ("photo.jpg", "160x", "png"),
    ("photo.png", "320x320", "png"),
])
def test_inside_thumbnail_matches_pillow(stack, media_root, name, size, fmt):
    """A fit=inside thumbnail is close to Pillow's own resize of the source."""
    src = source(media_root, name).convert("RGB")
    path = "%s/%s?size=%s&format=%s&q=95" % (MOUNT, name, size, fmt) if fmt == "jpeg" \
        else "%s/%s?size=%s&format=%s" % (MOUNT, name, size, fmt)
    im = fetch_image(stack, path, fmt)
    bw, bh = box_of(size)
    assert close(im.size, expected_size(*src.size, bw, bh, "inside"))
    ref = src.resize(im.size, Image.LANCZOS)
    db = psnr(im, ref)
    assert db >= 30, "GET %s: PSNR %.1f dB against Pillow's resize" % (path, db)


def test_cover_thumbnail_matches_pillow(stack, media_root):
    src = source(media_root, "photo.jpg").convert("RGB")
    path = MOUNT + "/photo.jpg?size=200x200&fit=cover&q=95"
    im = fetch_image(stack, path, "jpeg")
    assert im.size == (200, 200)
    ref = ImageOps.fit(src, (200, 200), Image.LANCZOS, centering=(0.5, 0.5))
    db = psnr(im, ref)
    assert db >= 28, "GET %s: PSNR %.1f dB against Pillow's ImageOps.fit" % (path, db)


def test_fill_stretches_the_whole_source(stack, media_root):
    src = source(media_root, "photo.jpg").convert("RGB")
    path = MOUNT + "/photo.jpg?size=300x300&fit=fill&q=95"
    im = fetch_image(stack, path, "jpeg")
    assert im.size == (300, 300)
    db = psnr(im, src.resize((300, 300), Image.LANCZOS))
    assert db >= 30, "GET %s: PSNR %.1f dB against Pillow's resize" % (path, db)
