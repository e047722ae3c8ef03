"""EXIF orientation is applied: the answer is upright and carries no EXIF.

exif3/6/8.jpg store the same upright 600x400 picture (red | green over
blue | yellow) turned the way a camera would store it, with Orientation 3, 6
or 8 saying how to turn it back. A correct answer shows the picture upright.
"""

import pytest

from support.imaging import (EXIF_MARK, MOUNT, QUADS, UPRIGHT_SIZE, colour_close, decode, exif_transpose,
                     fetch_image, mean_colour, source)

ORIENTATIONS = [3, 6, 8]


def assert_upright(im, what):
    w, h = im.size
    assert w > h, "%s: %dx%d is not landscape (orientation not applied?)" % (what, w, h)
    m = max(2, min(w, h) // 10)
    corners = {
        "tl": (m, m, w // 2 - m, h // 2 - m),
        "tr": (w // 2 + m, m, w - m, h // 2 - m),
        "bl": (m, h // 2 + m, w // 2 - m, h - m),
        "br": (w // 2 + m, h // 2 + m, w - m, h - m),
    }
    for q, box in corners.items():
        c = mean_colour(im, box)
        assert colour_close(c, QUADS[q]), "%s: %s corner is %s, want %s" % (what, q, c, QUADS[q])


@pytest.mark.parametrize("o", ORIENTATIONS)
def test_fixture_is_what_it_claims(media_root, o):
    """Pillow's own exif_transpose of the fixture is the upright picture."""
    src = source(media_root, "exif%d.jpg" % o)
    assert src.getexif().get(0x0112) == o
    assert_upright(exif_transpose(src), "Pillow exif_transpose(exif%d.jpg)" % o)


@pytest.mark.parametrize("o", ORIENTATIONS)
@pytest.mark.parametrize("query,size", [
    ("", UPRIGHT_SIZE),
    ("size=300x300", (300, 200)),
    ("size=150x", (150, 100)),
    ("size=x100", (150, 100)),
    ("size=200x200&fit=cover", None),
    ("size=300x200&format=png", (300, 200)),
])
def test_orientation_applied(stack, o, query, size):
    path = "%s/exif%d.jpg%s" % (MOUNT, o, "?" + query if query else "")
    r = stack.get(path)
    im = decode(r)
    if size:
        assert im.size == size, "GET %s -> %dx%d, want %dx%d" % (path, *im.size, *size)
        assert_upright(im, "GET " + path)
    else:
        # cover 200x200 of the upright 600x400: its middle 400x400, so the
        # left half is red over blue and the right half green over yellow.
        assert im.size == (200, 200)
        assert colour_close(mean_colour(im, (10, 10, 90, 90)), QUADS["tl"])
        assert colour_close(mean_colour(im, (110, 110, 190, 190)), QUADS["br"])
    # No EXIF at all in the answer, so no viewer turns it a second time.
    assert not im.getexif(), "GET %s: EXIF left: %s" % (path, dict(im.getexif()))
    assert EXIF_MARK.encode() not in r.body


@pytest.mark.parametrize("o", ORIENTATIONS)
def test_orientation_then_rotate(stack, o):
    """rotate= turns the upright picture (DESIGN: after auto-orientation)."""
    im = fetch_image(stack, "%s/exif%d.jpg?size=300x300&rotate=90" % (MOUNT, o), "jpeg")
    assert im.size == (200, 300)
    # upright turned 90 clockwise: blue comes to the top-left, red top-right
    assert colour_close(mean_colour(im, (10, 10, 90, 140)), QUADS["bl"])
    assert colour_close(mean_colour(im, (110, 10, 190, 140)), QUADS["tl"])
