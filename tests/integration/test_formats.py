"""Output formats, quality, alpha, animation and metadata stripping."""

import io

import pytest
from PIL import Image

from support.imaging import (BLUE, EXIF_MARK, FORMATS, MOUNT, QUADS, RED,
                     colour_close, decode, fetch_image, mean_colour)

SOURCES = {  # file -> (its format= name, size)
    "landscape.jpg": ("jpeg", (1200, 800)),
    "photo.png": ("png", (640, 400)),
    "static.gif": ("gif", (300, 200)),
    "quad.webp": ("webp", (500, 300)),
}


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_output_format(stack, name, fmt):
    im = fetch_image(stack, "%s/%s?size=150x150&format=%s" % (MOUNT, name, fmt), fmt)
    assert max(im.size) == 150


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_default_output_is_the_source_format(stack, name):
    fmt, (sw, sh) = SOURCES[name]
    im = fetch_image(stack, "%s/%s?size=100x100" % (MOUNT, name), fmt)
    assert max(im.size) == 100
    im = fetch_image(stack, "%s/%s" % (MOUNT, name), fmt)
    assert im.size == (sw, sh)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif"])
def test_output_keeps_the_picture(stack, fmt):
    """Whatever the format, the quadrants are where they were."""
    im = fetch_image(stack, "%s/landscape.jpg?size=240x160&format=%s" % (MOUNT, fmt), fmt)
    assert im.size == (240, 160)
    for q, box in (("tl", (10, 10, 100, 60)), ("tr", (140, 10, 230, 60)),
                   ("bl", (10, 100, 100, 150)), ("br", (140, 100, 230, 150))):
        c = mean_colour(im, box)
        assert colour_close(c, QUADS[q], tol=30), "%s quadrant %s is %s" % (fmt, q, c)


def test_quality(stack):
    sizes = {}
    for q in (10, 50, 95):
        r = stack.get(MOUNT + "/photo.jpg?size=400x400&q=%d" % q)
        decode(r)
        sizes[q] = len(r.body)
    assert sizes[10] < sizes[50] < sizes[95], sizes


def test_default_quality_is_75(stack):
    """quality defaults to 75 (config [media] quality): same bytes as q=75."""
    a = stack.get(MOUNT + "/photo.jpg?size=300x200")
    b = stack.get(MOUNT + "/photo.jpg?size=300x200&q=75")
    c = stack.get(MOUNT + "/photo.jpg?size=300x200&q=60")
    for r in (a, b, c):
        decode(r)
    assert a.body == b.body, "default quality differs from q=75"
    assert a.body != c.body


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_alpha_is_kept(stack, fmt):
    im = fetch_image(stack, "%s/alpha.png?size=200x150&format=%s" % (MOUNT, fmt), fmt)
    assert im.size == (200, 150)
    im = im.convert("RGBA")
    r, g, b, a = im.getpixel((30, 40))              # left: opaque red
    assert a > 240 and colour_close((r, g, b), RED), im.getpixel((30, 40))
    assert im.getpixel((170, 40))[3] < 16           # right: transparent
    assert 90 < im.getpixel((170, 140))[3] < 170    # bottom band: half alpha


def test_alpha_png_default_output_keeps_alpha(stack):
    im = fetch_image(stack, MOUNT + "/alpha.png?size=200x150", "png")
    assert im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info, im.mode
    assert im.convert("RGBA").getpixel((170, 40))[3] < 16


@pytest.mark.parametrize("bg,colour", [(None, (255, 255, 255)), ("000000", (0, 0, 0))])
def test_alpha_flattened_into_jpeg_on_bg(stack, bg, colour):
    path = MOUNT + "/alpha.png?size=200x150&format=jpeg" + ("&bg=" + bg if bg else "")
    im = fetch_image(stack, path, "jpeg")
    assert colour_close(mean_colour(im, (130, 10, 190, 100)), colour, tol=10), path
    assert colour_close(mean_colour(im, (10, 10, 80, 100)), RED), path
    # half-transparent blue over the background
    want = tuple((b + c) / 2 for b, c in zip(BLUE, colour))
    assert colour_close(mean_colour(im, (130, 130, 190, 148)), want, tol=30), path


def test_animated_gif_stays_animated(stack):
    r = stack.get(MOUNT + "/anim.gif?size=80x80")
    im = decode(r)
    assert r.content_type == "image/gif"
    assert im.size == (80, 60)
    assert getattr(im, "n_frames", 1) == 3


@pytest.mark.parametrize("frame,colour", [
    (0, RED), (2, BLUE)])
def test_gif_frame_picks_one(stack, frame, colour):
    r = stack.get(MOUNT + "/anim.gif?size=80x80&frame=%d" % frame)
    im = decode(r)
    assert getattr(im, "n_frames", 1) == 1
    assert colour_close(mean_colour(im), colour, tol=30)


# ------------------------------------------------------------------ metadata

def _has_exif(body, im):
    if im.getexif():
        return True
    if "exif" in im.info or "xmp" in im.info:
        return True
    return EXIF_MARK.encode() in body or b"Exif\x00\x00" in body


@pytest.mark.parametrize("query", ["size=300x200", "", "size=300x200&format=png",
                                   "size=300x200&format=webp"])
def test_metadata_is_stripped(stack, query):
    """The generated JPEGs carry EXIF (Make, ImageDescription); answers don't."""
    r = stack.get(MOUNT + "/landscape.jpg" + ("?" + query if query else ""))
    im = decode(r)
    assert not _has_exif(r.body, im), "EXIF left in the answer to ?%s" % query


def test_source_really_has_exif(media_root):
    """Guards the test above: the fixture does carry metadata."""
    with open("%s/landscape.jpg" % media_root, "rb") as f:
        body = f.read()
    assert _has_exif(body, Image.open(io.BytesIO(body)))
