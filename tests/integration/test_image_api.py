"""The whole image URL API and its HTTP caching semantics, as a user sees
them behind nginx and behind lighttpd: status, headers, and the pixels of
the answer decoded with Pillow.

The media are made at test time in a private root for this module (so the
tests that rewrite or touch a file disturb nothing else): quadrant pictures
(red | green over blue | yellow) whose colours say where every part went, an
animation and a multi-page TIFF with one colour per frame, a CMYK, a grey and
an ICC-tagged JPEG, HEIC/AVIF/JPEG XL made from a PNG by heif-enc, avifenc and
cjxl. mediafcgi runs with a config of its own (CONFIG): two presets, a small
max_frames, a max_output_pixels and a Cache-Control value.
"""

import email.utils
import io
import os
import random
import re
import shutil
import subprocess
import tempfile

import pytest
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageFilter, ImageStat

from support import webservers
from support.checks import assert_json_error
from support.imaging import (BLUE, GREEN, MOUNT, QUADS, RED, YELLOW, colour_close, decode,
                             exif_bytes, make_wide_gamut_icc, mean_colour, photo_like, psnr,
                             quadrants)

CACHE_CONTROL = "public, max-age=604800"
MAX_FRAMES = 8
MAX_OUTPUT_PIXELS = 4000000
CONFIG = {
    "media": {"max_frames": MAX_FRAMES, "max_output_pixels": MAX_OUTPUT_PIXELS,
              "cache_control": CACHE_CONTROL},
    "preset thumb": {"size": "120x120", "fit": "cover"},
    "preset mirror": {"size": "200x", "flip": "h"},
}

FLAT_GREY = (128, 128, 128)
ANIM_COLOURS = [RED, GREEN, BLUE, YELLOW]
ANIM_DURATIONS = [100, 200, 150, 300]        # ms; GIF stores centiseconds
PAGE_COLOURS = [RED, GREEN, BLUE]


# ------------------------------------------------------------------ media

def busy(w, h, seed=11):
    """Hard-edged rectangles and lines: plenty of high-frequency detail."""
    rnd = random.Random(seed)
    im = Image.new("RGB", (w, h), (235, 235, 235))
    d = ImageDraw.Draw(im)
    for _ in range(120):
        x, y = rnd.randrange(w), rnd.randrange(h)
        col = tuple(rnd.randrange(256) for _ in range(3))
        d.rectangle([x, y, x + rnd.randrange(4, 60), y + rnd.randrange(4, 60)], fill=col)
    for _ in range(60):
        d.line([rnd.randrange(w), rnd.randrange(h), rnd.randrange(w), rnd.randrange(h)],
               fill=(0, 0, 0), width=2)
    return im


def with_object(w, h, box, seed=5):
    """A flat grey picture with one busy, colourful object in box."""
    rnd = random.Random(seed)
    im = Image.new("RGB", (w, h), FLAT_GREY)
    d = ImageDraw.Draw(im)
    x0, y0, x1, y1 = box
    for y in range(y0, y1, 10):
        for x in range(x0, x1, 10):
            col = [rnd.randrange(40, 256) for _ in range(3)]
            col[rnd.randrange(3)] = rnd.randrange(0, 30)   # always saturated
            d.rectangle([x, y, x + 9, y + 9], fill=tuple(col))
    return im


def alpha_picture():
    """Left half opaque red, right half transparent, a half-transparent
    blue band along the bottom."""
    a = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    d = ImageDraw.Draw(a)
    d.rectangle([0, 0, 199, 299], fill=RED + (255,))
    d.rectangle([0, 250, 399, 299], fill=BLUE + (128,))
    return a


# file -> why it could not be made (absent: it was made)
NOT_MADE = {}


def _tool(name, argv):
    """Makes name with a fixture tool; records why not in NOT_MADE."""
    if shutil.which(argv[0]) is None:
        NOT_MADE[name] = "missing"
        return
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        NOT_MADE[name] = "%s failed (%d): %s" % (" ".join(argv), r.returncode,
                                                 r.stdout.decode("utf-8", "replace")[-800:])


def make_api_media(root):
    def p(name):
        return os.path.join(root, name)

    quadrants(600, 400).save(p("quad.png"), "PNG")
    quadrants(1200, 800).save(p("quad.jpg"), "JPEG", quality=92)
    quadrants(600, 400).save(p("quad.tif"), "TIFF")
    busy(600, 400).save(p("busy.png"), "PNG")
    with_object(900, 300, (660, 50, 860, 250)).save(p("smart-h.png"), "PNG")
    with_object(300, 900, (50, 640, 250, 840)).save(p("smart-v.png"), "PNG")
    Image.new("RGB", (600, 400), (90, 140, 200)).save(p("flat.png"), "PNG")

    frames = [Image.new("RGB", (200, 150), c) for c in ANIM_COLOURS]
    frames[0].save(p("anim.gif"), "GIF", save_all=True, append_images=frames[1:],
                   duration=ANIM_DURATIONS, loop=0)
    many = [Image.new("RGB", (64, 48), (20 * i, 255 - 20 * i, 100)) for i in range(MAX_FRAMES + 4)]
    many[0].save(p("long.gif"), "GIF", save_all=True, append_images=many[1:], duration=100, loop=0)
    pages = [Image.new("RGB", (200, 150), c) for c in PAGE_COLOURS]
    pages[0].save(p("pages.tif"), "TIFF", save_all=True, append_images=pages[1:])

    upright = quadrants(600, 400)
    upright.transpose(Image.Transpose.ROTATE_90).save(
        p("exif6.jpg"), "JPEG", quality=92, exif=exif_bytes(6))
    alpha_picture().save(p("alpha.png"), "PNG")

    photo = photo_like(600, 400)
    photo.save(p("photo.png"), "PNG")
    photo.convert("CMYK").save(p("cmyk.jpg"), "JPEG", quality=95)
    photo.convert("L").save(p("gray.jpg"), "JPEG", quality=95)
    photo.save(p("plain.jpg"), "JPEG", quality=95)
    photo.save(p("wide.jpg"), "JPEG", quality=95, icc_profile=make_wide_gamut_icc())

    # HEIC, AVIF, JPEG XL: made by the format's own encoder from a PNG.
    quadrants(480, 320).save(p("src480.png"), "PNG")
    _tool("quad.heic", ["heif-enc", "-q", "90", "-o", p("quad.heic"), p("src480.png")])
    _tool("quad.avif", ["avifenc", "-s", "8", "--min", "0", "--max", "20", p("src480.png"),
                        p("quad.avif")])
    _tool("quad.jxl", ["cjxl", p("src480.png"), p("quad.jxl"), "-d", "1"])


@pytest.fixture(scope="module")
def api_media():
    top = tempfile.mkdtemp(prefix="mediafcgi-api-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    os.makedirs(root)
    make_api_media(root)
    yield root
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module", params=list(webservers.FRONTS))
def api(request, api_media):
    """mediafcgi with CONFIG behind nginx or lighttpd, on api_media."""
    b = webservers.mediafcgi_bin()
    if not os.access(b, os.X_OK):
        pytest.fail("%s not built (run make, or set MEDIAFCGI_BIN)" % b)
    s = webservers.Stack(front=request.param, media_root=api_media, mount=MOUNT, workers=2,
                         config_extra=CONFIG)
    s.start()
    yield s
    left = s.stop()
    assert not left, "processes left behind after SIGTERM: %s" % left
    assert not s.sanitizer_reports(), "sanitizer reports:\n" + "\n".join(s.sanitizer_reports())


# ------------------------------------------------------------------ helpers

def url(name, query=""):
    return "%s/%s%s" % (MOUNT, name, "?" + query if query else "")


def get_image(s, name, query="", fmt=None, headers=None):
    path = url(name, query)
    r = s.get(path, headers=headers)
    assert r.status == 200, "GET %s -> %r\n%s" % (path, r, s.logs())
    im = decode(r)
    if fmt:
        assert r.content_type == "image/" + fmt, "GET %s: Content-Type %r" % (path, r.content_type)
    return im


def corner_boxes(w, h):
    """Inner boxes of the four quadrants, clear of the edges between them."""
    m = max(2, min(w, h) // 10)
    return {
        "tl": (m, m, w // 2 - m, h // 2 - m),
        "tr": (w // 2 + m, m, w - m, h // 2 - m),
        "bl": (m, h // 2 + m, w // 2 - m, h - m),
        "br": (w // 2 + m, h // 2 + m, w - m, h - m),
    }


def assert_same_layout(got, ref, what, tol=20):
    """Each quadrant of got has the colour of the same quadrant of ref."""
    assert got.size == ref.size, "%s: %s, want %s" % (what, got.size, ref.size)
    for q, box in corner_boxes(*got.size).items():
        c, want = mean_colour(got, box), mean_colour(ref, box)
        assert colour_close(c, want, tol), "%s: %s quadrant is %s, want %s" % (what, q, c, want)


def mean_abs_diff(a, b):
    """Mean absolute difference per channel (0..255) of two RGB images."""
    a, b = a.convert("RGB"), b.convert("RGB")
    assert a.size == b.size, (a.size, b.size)
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def edge_energy(im):
    """Mean magnitude of the Laplacian of the luma: high-frequency energy."""
    return ImageStat.Stat(im.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0]


def saturated_share(im, threshold=60):
    """Fraction of pixels whose max - min channel exceeds threshold."""
    im = im.convert("RGB")
    n = sum(1 for r, g, b in im.getdata() if max(r, g, b) - min(r, g, b) > threshold)
    return n / (im.size[0] * im.size[1])


def names(message, param):
    return re.search(r"(?<![A-Za-z])%s(?![A-Za-z])" % re.escape(param), message, re.I)


def assert_error_names(r, status, param, path):
    body = assert_json_error(r, status)
    assert names(body["error"], param), \
        "GET %s: message %r does not name %r" % (path, body["error"], param)
    return body


def durations(im):
    out = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        im.load()
        out.append(im.info.get("duration"))
    return out


def frame_colours(im):
    out = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        out.append(mean_colour(im.convert("RGB")))
    return out


# ------------------------------------------------------------------ crop

@pytest.mark.parametrize("crop,size,quads", [
    ("0,0,300,200", (300, 200), {"all": RED}),
    ("350,250,100,100", (100, 100), {"all": YELLOW}),
    ("200,100,200,200", (200, 200), {"tl": RED, "tr": GREEN, "bl": BLUE, "br": YELLOW}),
    # runs past the right and bottom edges: clipped to 100x100 of yellow
    ("500,300,400,400", (100, 100), {"all": YELLOW}),
])
def test_crop_cuts_the_region(api, crop, size, quads):
    im = get_image(api, "quad.png", "crop=" + crop, "png")
    assert im.size == size, "crop=%s: %s, want %s" % (crop, im.size, size)
    if "all" in quads:
        assert colour_close(mean_colour(im), quads["all"], 6), (crop, mean_colour(im))
    else:
        for q, box in corner_boxes(*im.size).items():
            assert colour_close(mean_colour(im, box), quads[q], 6), (crop, q)


def test_crop_then_size(api):
    """crop applies to the source; size fits what is left."""
    im = get_image(api, "quad.jpg", "crop=600,0,600,400&size=150x", "jpeg")
    assert im.size == (150, 100)
    assert colour_close(mean_colour(im), GREEN, 12), mean_colour(im)


@pytest.mark.parametrize("crop", ["600,0,10,10", "0,400,10,10", "1000,1000,5,5"])
def test_crop_origin_outside_is_400(api, crop):
    path = url("quad.png", "crop=" + crop)
    assert_error_names(api.get(path), 400, "crop", path)


# ------------------------------------------------------------------ rotate, flip

# Pillow's transposes named for what the URL API's clockwise angles do.
CLOCKWISE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
             270: Image.Transpose.ROTATE_90}


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotate_moves_the_quadrants(api, api_media, angle):
    im = get_image(api, "quad.png", "rotate=%d" % angle, "png")
    ref = Image.open(os.path.join(api_media, "quad.png")).convert("RGB").transpose(CLOCKWISE[angle])
    assert im.size == ((400, 600) if angle != 180 else (600, 400))
    assert_same_layout(im, ref, "rotate=%d" % angle, tol=6)


def test_rotate_90_puts_top_left_at_top_right(api):
    """The plain-words version: clockwise, red (top-left) goes top-right."""
    im = get_image(api, "quad.png", "rotate=90", "png")
    b = corner_boxes(*im.size)
    assert colour_close(mean_colour(im, b["tr"]), RED, 6)
    assert colour_close(mean_colour(im, b["tl"]), BLUE, 6)
    assert colour_close(mean_colour(im, b["br"]), GREEN, 6)
    assert colour_close(mean_colour(im, b["bl"]), YELLOW, 6)


@pytest.mark.parametrize("query,want", [
    # 600x400 turned is 400x600; the box is the output's box
    ("rotate=90&size=300x300", (200, 300)),
    ("rotate=270&size=300x", (300, 450)),
    ("rotate=90&size=100x300&fit=cover", (100, 300)),
    ("rotate=90&size=300x200&fit=fill", (300, 200)),
    ("rotate=180&size=300x300", (300, 200)),
])
def test_rotate_applies_before_fitting(api, query, want):
    im = get_image(api, "quad.png", query, "png")
    assert im.size == want, "%s -> %s, want %s" % (query, im.size, want)


def test_rotate_then_cover_keeps_the_rotated_picture(api, api_media):
    im = get_image(api, "quad.png", "rotate=90&size=200x300&fit=cover", "png")
    ref = Image.open(os.path.join(api_media, "quad.png")).convert("RGB") \
        .transpose(CLOCKWISE[90]).resize((200, 300))
    assert_same_layout(im, ref, "rotate=90 cover", tol=10)


@pytest.mark.parametrize("flip,transpose,tl", [
    ("h", Image.Transpose.FLIP_LEFT_RIGHT, GREEN),
    ("v", Image.Transpose.FLIP_TOP_BOTTOM, BLUE),
])
def test_flip_mirrors(api, api_media, flip, transpose, tl):
    im = get_image(api, "quad.png", "flip=" + flip, "png")
    ref = Image.open(os.path.join(api_media, "quad.png")).convert("RGB").transpose(transpose)
    assert_same_layout(im, ref, "flip=" + flip, tol=6)
    assert colour_close(mean_colour(im, corner_boxes(*im.size)["tl"]), tl, 6)


def test_flip_after_rotate(api, api_media):
    """README: flip applies after rotate."""
    im = get_image(api, "quad.png", "rotate=90&flip=h", "png")
    ref = Image.open(os.path.join(api_media, "quad.png")).convert("RGB") \
        .transpose(CLOCKWISE[90]).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert_same_layout(im, ref, "rotate=90&flip=h", tol=6)


# ------------------------------------------------------------------ bg, contain

@pytest.mark.parametrize("name,fmt", [("quad.png", "png"), ("quad.jpg", "jpeg"),
                                      ("quad.png", "webp")])
def test_contain_pads_with_bg(api, name, fmt):
    # 600x400 (or 1200x800) in a 300x300 box: 300x200 with 50 rows above and below
    im = get_image(api, name, "size=300x300&fit=contain&bg=102a60&format=" + fmt, fmt)
    assert im.size == (300, 300)
    rgba = im.convert("RGBA")
    for box in ((0, 0, 300, 44), (0, 256, 300, 300)):
        c = mean_colour(rgba, box)
        assert colour_close(c, (0x10, 0x2A, 0x60), 8), "%s pad is %s" % (fmt, c)
        assert ImageStat.Stat(rgba.crop(box).getchannel("A")).mean[0] > 250, "pad not opaque"
    assert colour_close(mean_colour(im, (10, 60, 140, 140)), RED, 20)
    assert colour_close(mean_colour(im, (160, 160, 290, 240)), YELLOW, 20)


def test_contain_pad_of_png_is_transparent_without_bg(api):
    """README: padding of PNG/WebP/GIF output stays transparent unless bg is given."""
    im = get_image(api, "quad.png", "size=300x300&fit=contain", "png").convert("RGBA")
    assert im.getpixel((150, 10))[3] < 16, im.getpixel((150, 10))
    assert im.getpixel((150, 150))[3] > 240


# ------------------------------------------------------------------ blur, sharpen

def test_blur_lowers_and_sharpen_raises_edge_energy(api):
    q = "size=300x200&format=png"
    plain = edge_energy(get_image(api, "busy.png", q, "png"))
    blur_small = edge_energy(get_image(api, "busy.png", q + "&blur=0.8", "png"))
    blur_big = edge_energy(get_image(api, "busy.png", q + "&blur=3", "png"))
    sharp = edge_energy(get_image(api, "busy.png", q + "&sharpen=1.5", "png"))
    print("edge energy: plain %.2f, blur=0.8 %.2f, blur=3 %.2f, sharpen=1.5 %.2f"
          % (plain, blur_small, blur_big, sharp))
    assert blur_big < blur_small < plain, (plain, blur_small, blur_big)
    assert blur_big < 0.6 * plain, (plain, blur_big)
    assert sharp > 1.1 * plain, (plain, sharp)


def test_blur_keeps_the_mean_colour(api):
    a = get_image(api, "quad.png", "size=300x200&format=png", "png")
    b = get_image(api, "quad.png", "size=300x200&format=png&blur=4", "png")
    assert b.size == a.size
    assert mean_abs_diff(a, b) < 10
    for q, box in corner_boxes(300, 200).items():
        assert colour_close(mean_colour(b, box), QUADS[q], 12)


# ------------------------------------------------------------------ dpr

@pytest.mark.parametrize("query,want", [
    ("size=150x100&dpr=2", (300, 200)),
    ("size=150x100&dpr=1.5", (225, 150)),
    ("size=100x&dpr=3", (300, 200)),
    ("size=100x100&fit=cover&dpr=2", (200, 200)),
])
def test_dpr_multiplies_the_size(api, query, want):
    im = get_image(api, "quad.jpg", query, "jpeg")
    assert im.size == want, "%s -> %s" % (query, im.size)


def test_dpr_2_is_the_double_size_request(api):
    a = get_image(api, "quad.jpg", "size=150x100&dpr=2")
    b = get_image(api, "quad.jpg", "size=300x200")
    assert a.size == b.size == (300, 200)
    assert psnr(a, b) > 45


# ------------------------------------------------------------------ frame

@pytest.mark.parametrize("frame", range(len(ANIM_COLOURS)))
def test_frame_of_animated_gif(api, frame):
    im = get_image(api, "anim.gif", "frame=%d&format=png" % frame, "png")
    assert getattr(im, "n_frames", 1) == 1
    assert im.size == (200, 150)
    c = mean_colour(im)
    assert colour_close(c, ANIM_COLOURS[frame], 8), "frame=%d is %s" % (frame, c)


@pytest.mark.parametrize("frame", range(len(PAGE_COLOURS)))
def test_frame_of_multipage_tiff(api, frame):
    im = get_image(api, "pages.tif", "frame=%d&size=100x100" % frame, "jpeg")
    assert im.size == (100, 75)
    c = mean_colour(im)
    assert colour_close(c, PAGE_COLOURS[frame], 12), "page %d is %s" % (frame, c)


def test_tiff_without_frame_is_its_first_page(api):
    im = get_image(api, "pages.tif", "size=100x100", "jpeg")
    assert colour_close(mean_colour(im), PAGE_COLOURS[0], 12)


@pytest.mark.parametrize("name,frame", [("anim.gif", 4), ("anim.gif", 99), ("pages.tif", 3),
                                        ("quad.jpg", 1)])
def test_frame_past_the_end_is_400(api, name, frame):
    path = url(name, "frame=%d" % frame)
    assert_error_names(api.get(path), 400, "frame", path)


# ------------------------------------------------------------------ presets

def test_preset_gives_its_parameters(api):
    a = get_image(api, "quad.jpg", "preset=thumb", "jpeg")
    b = get_image(api, "quad.jpg", "size=120x120&fit=cover", "jpeg")
    assert a.size == (120, 120)
    assert psnr(a, b) > 45


def test_query_overrides_preset(api):
    im = get_image(api, "quad.jpg", "preset=thumb&size=40x40", "jpeg")
    assert im.size == (40, 40)                       # cover kept, size replaced
    im = get_image(api, "quad.jpg", "preset=thumb&fit=inside", "jpeg")
    assert im.size == (120, 80)                      # size kept, fit replaced
    # order in the query does not matter
    im = get_image(api, "quad.jpg", "size=40x40&preset=thumb", "jpeg")
    assert im.size == (40, 40)


def test_preset_flip_overridden_by_query(api, api_media):
    """[preset mirror] flips h; ?flip=v in the query replaces it (only a
    vertical mirror, not both)."""
    im = get_image(api, "quad.png", "preset=mirror", "png")
    assert im.size == (200, 133)
    assert colour_close(mean_colour(im, corner_boxes(*im.size)["tl"]), GREEN, 10)
    im = get_image(api, "quad.png", "preset=mirror&flip=v", "png")
    tl = mean_colour(im, corner_boxes(*im.size)["tl"])
    assert colour_close(tl, BLUE, 10), \
        "GET ?preset=mirror&flip=v: top-left is %s, want blue (flip=v only); " \
        "yellow means flip=h of the preset was kept as well (both mirrors)" % (tl,)


def test_preset_etag_differs_from_spelled_out_request(api):
    a = api.get(url("quad.jpg", "preset=thumb"))
    b = api.get(url("quad.jpg", "preset=thumb&size=40x40"))
    assert a.status == b.status == 200
    assert a.headers["ETag"] != b.headers["ETag"]


@pytest.mark.parametrize("query", ["preset=nope", "preset=thumb2", "size=10x10&preset=nope"])
def test_unknown_preset_is_400(api, query):
    path = url("quad.jpg", query)
    assert_error_names(api.get(path), 400, "preset", path)


@pytest.mark.parametrize("query,param", [
    ("preset=thumb&size=1x1&size=2x2", "size"),    # a name twice within the query
    ("preset=thumb&preset=thumb", "preset"),
    ("preset=thumb&fit=sideways", "fit"),
    ("preset=thumb&gravity=Smart", "gravity"),
])
def test_bad_query_over_preset_is_400(api, query, param):
    path = url("quad.jpg", query)
    assert_error_names(api.get(path), 400, param, path)


def _test_config(tmp_path, text):
    conf = tmp_path / "mediafcgi.conf"
    head = "[server]\nallow_root = yes\n\n" if os.geteuid() == 0 else ""
    conf.write_text(head + text)
    r = subprocess.run([webservers.mediafcgi_bin(), "--test-config", "--config", str(conf)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    return conf, r.returncode, r.stdout.decode("utf-8", "replace")


@pytest.mark.parametrize("section,body,line,word", [
    ("preset thumb", "size = 120x120\nfit = sideways\n", 3, "fit"),
    ("preset thumb", "size = 12a\n", 2, "size"),
    ("preset thumb", "size = 10x10\nsize = 20x20\n", 3, "size"),
    ("preset thumb", "bogus = 1\n", 2, "bogus"),
    ("preset Thumb!", "size = 120x120\n", 2, "preset"),
])
def test_bad_preset_refused_at_start(tmp_path, api_media, section, body, line, word):
    before = "[media]\nroot = %s\n\n" % api_media
    conf, rc, out = _test_config(tmp_path, before + "[%s]\n%s" % (section, body))
    # line counts from the preset's [section] line (1)
    want_line = conf.read_text().splitlines().index("[%s]" % section) + line
    assert rc == 1, "--test-config accepted a bad preset (rc %d): %s" % (rc, out)
    assert "%s:%d:" % (conf, want_line) in out, "no FILE:LINE %s:%d in %r" % (conf, want_line, out)
    assert word.lower() in out.lower(), out


def test_good_preset_config_passes_test_config(tmp_path, api_media):
    conf, rc, out = _test_config(
        tmp_path, "[media]\nroot = %s\n\n[preset thumb]\nsize = 120x120\nfit = cover\n" % api_media)
    assert rc == 0, out


# ------------------------------------------------------------------ gravity=smart

# (file, box, the box-sized window of the source that holds the object)
SMART = [("smart-h.png", "200x300", (660, 0, 860, 300)),
         ("smart-v.png", "300x200", (0, 640, 300, 840))]


@pytest.mark.parametrize("name,size,window", SMART)
def test_smart_gravity_keeps_the_busy_object(api, api_media, name, size, window):
    smart = get_image(api, name, "size=%s&fit=cover&gravity=smart&format=png" % size, "png")
    centre = get_image(api, name, "size=%s&fit=cover&gravity=center&format=png" % size, "png")
    w, h = (int(x) for x in size.split("x"))
    assert smart.size == centre.size == (w, h)
    best = saturated_share(Image.open(os.path.join(api_media, name)).crop(window))
    s, c = saturated_share(smart), saturated_share(centre)
    print("%s %s: object share smart %.2f, center %.2f, best window %.2f"
          % (name, size, s, c, best))
    assert s > 0.9 * best, "gravity=smart kept %.0f%% object pixels, the object's window has " \
        "%.0f%%" % (100 * s, 100 * best)
    assert c < 0.05, "the centre cut of %s should be flat (%.0f%%)" % (name, 100 * c)


def test_smart_on_uniform_image_equals_center(api):
    for size in ("200x400", "400x100"):
        a = api.get(url("flat.png", "size=%s&fit=cover&gravity=smart" % size))
        b = api.get(url("flat.png", "size=%s&fit=cover&gravity=center" % size))
        ia, ib = decode(a), decode(b)
        assert ia.size == ib.size
        assert ImageChops.difference(ia.convert("RGB"), ib.convert("RGB")).getbbox() is None


def test_smart_on_quadrants_stays_inside_the_picture(api):
    """A real picture with no flat side: the answer is a box-sized cut."""
    im = get_image(api, "quad.jpg", "size=200x400&fit=cover&gravity=smart", "jpeg")
    assert im.size == (200, 400)


# ------------------------------------------------------------------ format=auto

WEBP_OK = "image/avif,image/webp,*/*"


@pytest.mark.parametrize("accept,want", [
    ("image/webp,*/*", "image/webp"),
    (WEBP_OK, "image/webp"),
    ("text/html,application/xhtml+xml,image/webp;q=0.9,*/*;q=0.8", "image/webp"),
    ("image/*", "image/webp"),
    ("image/jpeg", "image/jpeg"),
    ("*/*", "image/jpeg"),
    (None, "image/jpeg"),
    ("image/webp;q=0", "image/jpeg"),
    ("image/webp;q=0.0, image/jpeg", "image/jpeg"),
])
def test_format_auto_follows_accept(api, accept, want):
    headers = {"Accept": accept} if accept is not None else None
    r = api.get(url("quad.jpg", "size=200x200&format=auto"), headers=headers)
    im = decode(r)
    assert r.content_type == want, "Accept %r -> %s" % (accept, r.content_type)
    assert im.format == want.split("/")[1].upper()
    vary = [v.strip().lower() for v in (r.headers.get("Vary") or "").split(",")]
    assert "accept" in vary, "format=auto without Vary: Accept: %r" % r.headers.items()


def test_format_auto_keeps_png_source_when_webp_not_accepted(api):
    r = api.get(url("alpha.png", "size=100x100&format=auto"), headers={"Accept": "image/png"})
    assert decode(r).format == "PNG" and r.content_type == "image/png"
    r = api.get(url("alpha.png", "size=100x100&format=auto"), headers={"Accept": WEBP_OK})
    im = decode(r)
    assert im.format == "WEBP"
    assert im.convert("RGBA").getpixel((90, 20))[3] < 16      # alpha kept


def test_format_auto_variants_have_different_etags(api):
    path = url("quad.jpg", "size=200x200&format=auto")
    w = api.get(path, headers={"Accept": WEBP_OK})
    j = api.get(path, headers={"Accept": "image/jpeg"})
    assert w.status == j.status == 200
    assert w.headers["ETag"] != j.headers["ETag"]
    # the webp copy's validator does not validate the jpeg variant
    r = api.get(path, headers={"Accept": "image/jpeg", "If-None-Match": w.headers["ETag"]})
    assert r.status == 200 and decode(r).format == "JPEG", r
    r = api.get(path, headers={"Accept": WEBP_OK, "If-None-Match": w.headers["ETag"]})
    assert r.status == 304, r
    assert r.headers.get("ETag") == w.headers["ETag"]


def test_no_vary_without_format_auto(api):
    r = api.get(url("quad.jpg", "size=200x200"), headers={"Accept": WEBP_OK})
    assert decode(r).format == "JPEG"
    assert "accept" not in (r.headers.get("Vary") or "").lower()


# ------------------------------------------------------------------ info

def info(api, name):
    path = url(name, "info")
    r = api.get(path)
    assert r.status == 200, "GET %s -> %r" % (path, r)
    assert r.content_type == "application/json"
    return r.json()


@pytest.mark.parametrize("name,want", [
    ("quad.jpg", {"format": "JPEG", "width": 1200, "height": 800, "frames": 1,
                  "orientation": 1, "alpha": False, "colorspace": "rgb", "icc": False}),
    ("exif6.jpg", {"width": 600, "height": 400, "orientation": 6}),
    ("anim.gif", {"format": "GIF", "width": 200, "height": 150, "frames": 4}),
    ("pages.tif", {"format": "TIFF", "frames": 3}),
    ("alpha.png", {"format": "PNG", "alpha": True, "width": 400, "height": 300}),
    ("quad.png", {"format": "PNG", "alpha": False}),
    ("cmyk.jpg", {"colorspace": "cmyk", "alpha": False}),
    ("gray.jpg", {"colorspace": "gray"}),
    ("wide.jpg", {"icc": True, "colorspace": "rgb"}),
    ("plain.jpg", {"icc": False}),
])
def test_info_fields(api, api_media, name, want):
    got = info(api, name)
    for k, v in want.items():
        assert got.get(k) == v, "%s?info: %s is %r, want %r (%s)" % (name, k, got.get(k), v, got)
    assert got["size"] == os.path.getsize(os.path.join(api_media, name)), got
    for k in ("format", "width", "height", "frames", "orientation", "alpha", "colorspace",
              "icc", "size"):
        assert k in got, "%s?info lacks %s: %s" % (name, k, got)


# ------------------------------------------------------------------ animation

def test_animated_gif_stays_animated(api):
    r = api.get(url("anim.gif", "size=100x100"))
    im = decode(r)
    assert r.content_type == "image/gif" and im.format == "GIF"
    assert im.size == (100, 75)
    assert im.n_frames == len(ANIM_COLOURS)
    for i, (c, want) in enumerate(zip(frame_colours(im), ANIM_COLOURS)):
        assert colour_close(c, want, 12), "frame %d is %s, want %s" % (i, c, want)
    got = durations(im)
    assert all(d is not None and abs(d - w) <= 10 for d, w in zip(got, ANIM_DURATIONS)), \
        "frame durations %s, source %s" % (got, ANIM_DURATIONS)


def test_animated_gif_to_animated_webp(api):
    r = api.get(url("anim.gif", "size=100x100&format=webp"))
    im = decode(r)
    assert r.content_type == "image/webp" and im.format == "WEBP"
    assert im.size == (100, 75)
    assert getattr(im, "n_frames", 1) == len(ANIM_COLOURS), "not an animated WebP"
    for i, (c, want) in enumerate(zip(frame_colours(im), ANIM_COLOURS)):
        assert colour_close(c, want, 15), "frame %d is %s, want %s" % (i, c, want)
    got = durations(im)
    assert all(d is not None and abs(d - w) <= 10 for d, w in zip(got, ANIM_DURATIONS)), \
        "frame durations %s, source %s" % (got, ANIM_DURATIONS)


def test_animated_gif_to_jpeg_is_its_first_frame(api):
    im = get_image(api, "anim.gif", "size=100x100&format=jpeg", "jpeg")
    assert colour_close(mean_colour(im), ANIM_COLOURS[0], 12)


def test_animation_over_max_frames_is_413(api):
    # info too: frames are counted while reading headers, up to one past
    # the limit, so the count over it is not known
    for query in ("", "size=32x32", "size=32x32&format=webp", "info", "frame=0"):
        path = url("long.gif", query)
        assert_error_names(api.get(path), 413, "frames", path)


# ------------------------------------------------------------------ colour

def test_cmyk_jpeg_comes_out_rgb(api, api_media):
    orig = Image.open(os.path.join(api_media, "photo.png")).convert("RGB")
    r = api.get(url("cmyk.jpg", "q=95"))
    im = decode(r)
    assert r.content_type == "image/jpeg"
    assert im.mode == "RGB", "CMYK source answered as %s" % im.mode
    d = mean_abs_diff(im, orig)
    print("cmyk.jpg: mean abs diff to the RGB original %.2f" % d)
    assert d < 6, "CMYK source drifts from the RGB original by %.1f per channel" % d


def test_icc_tagged_jpeg_is_converted_to_srgb(api, api_media):
    src = Image.open(os.path.join(api_media, "wide.jpg"))
    icc = src.info["icc_profile"]
    naive = src.convert("RGB")                     # the numbers, read as sRGB
    managed = ImageCms.profileToProfile(naive, ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                        ImageCms.createProfile("sRGB"), outputMode="RGB")
    for query, fmt in (("format=png", "png"), ("q=95", "jpeg")):
        r = api.get(url("wide.jpg", query))
        im = decode(r)
        assert r.content_type == "image/" + fmt
        assert not im.info.get("icc_profile"), "ICC profile left in the %s answer" % fmt
        d_managed, d_naive = mean_abs_diff(im, managed), mean_abs_diff(im, naive)
        print("wide.jpg %s: mean abs diff to ImageCms sRGB %.2f, to the untagged reading %.2f"
              % (fmt, d_managed, d_naive))
        assert d_managed < 2.5, "not the colour-managed conversion (%.2f)" % d_managed
        assert d_naive > 2 * d_managed + 3, \
            "the answer is the untagged reading (%.2f vs %.2f)" % (d_naive, d_managed)


def test_icc_survives_resize(api, api_media):
    src = Image.open(os.path.join(api_media, "wide.jpg"))
    wide = ImageCms.ImageCmsProfile(io.BytesIO(src.info["icc_profile"]))
    managed = ImageCms.profileToProfile(src.convert("RGB"), wide, ImageCms.createProfile("sRGB"),
                                        outputMode="RGB")
    im = get_image(api, "wide.jpg", "size=300x200&format=png", "png")
    ref = managed.resize((300, 200), Image.LANCZOS)
    assert psnr(im, ref) > 32, psnr(im, ref)


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_alpha_kept_in_png_and_webp(api, fmt):
    im = get_image(api, "alpha.png", "size=200x150&format=" + fmt, fmt).convert("RGBA")
    assert im.getpixel((30, 40))[3] > 240 and colour_close(im.getpixel((30, 40))[:3], RED, 15)
    assert im.getpixel((170, 40))[3] < 16
    assert 90 < im.getpixel((170, 140))[3] < 170


@pytest.mark.parametrize("bg,colour", [(None, (255, 255, 255)), ("203040", (0x20, 0x30, 0x40))])
def test_alpha_flattened_for_jpeg(api, bg, colour):
    im = get_image(api, "alpha.png", "size=200x150&format=jpeg" + ("&bg=" + bg if bg else ""),
                   "jpeg")
    assert im.mode == "RGB"
    assert colour_close(mean_colour(im, (130, 10, 190, 100)), colour, 8)
    assert colour_close(mean_colour(im, (10, 10, 80, 100)), RED, 15)
    want = tuple((b + c) / 2 for b, c in zip(BLUE, colour))
    assert colour_close(mean_colour(im, (130, 130, 190, 148)), want, 25)


# ------------------------------------------------------------------ other sources

TOOLS = {"quad.heic": "heif-enc", "quad.avif": "avifenc", "quad.jxl": "cjxl"}


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_heic_avif_jxl_sources(api, api_media, name):
    if NOT_MADE.get(name) == "missing":
        pytest.skip("%s could not be made: %s is not installed (scripts/deps.sh installs it)"
                    % (name, TOOLS[name]))
    assert name not in NOT_MADE, NOT_MADE.get(name)
    im = get_image(api, name, "size=240x240", "jpeg")
    assert im.size == (240, 160)
    for q, box in corner_boxes(240, 160).items():
        c = mean_colour(im, box)
        assert colour_close(c, QUADS[q], 25), "%s: %s quadrant is %s" % (name, q, c)
    got = info(api, name)
    assert (got["width"], got["height"]) == (480, 320), got
    im = get_image(api, name, "size=120x&format=png", "png")
    assert im.size == (120, 80)


def test_tiff_source_defaults_to_jpeg_and_converts(api):
    im = get_image(api, "quad.tif", "size=300x300", "jpeg")
    assert im.size == (300, 200)
    for q, box in corner_boxes(300, 200).items():
        assert colour_close(mean_colour(im, box), QUADS[q], 12)
    im = get_image(api, "quad.tif", "size=300x300&format=png", "png")
    assert im.size == (300, 200)
    assert colour_close(mean_colour(im, corner_boxes(300, 200)["br"]), YELLOW, 6)
    im = get_image(api, "quad.tif", "", "jpeg")
    assert im.size == (600, 400)


# ------------------------------------------------------------------ HTTP caching

def test_etag_is_strong_and_quoted(api):
    r = api.get(url("quad.jpg", "size=300x200"))
    decode(r)
    etag = r.headers.get("ETag")
    assert etag and not etag.startswith("W/"), r.headers.items()
    assert re.fullmatch(r'"[\x21\x23-\x7e]+"', etag), "not a quoted entity-tag: %r" % etag


@pytest.mark.parametrize("a,b", [
    ("size=300x200&fit=cover&q=70", "q=70&fit=cover&size=300x200"),
    ("size=300x200&fit=cover&q=70", "fit=cover&q=70&size=300x200"),
    ("size=0300x0200", "size=300x200"),
    ("bg=FFAA00&size=100x100&fit=contain", "size=100x100&fit=contain&bg=ffaa00"),
    ("size=100x&dpr=2.0", "dpr=2&size=100x"),
    ("format=jpg&size=50x50", "size=50x50&format=jpeg"),
])
def test_etag_same_for_same_params(api, a, b):
    ra, rb = api.get(url("quad.jpg", a)), api.get(url("quad.jpg", b))
    assert ra.status == rb.status == 200, (ra, rb)
    assert ra.headers["ETag"] == rb.headers["ETag"], "?%s and ?%s differ" % (a, b)


@pytest.mark.parametrize("b", ["size=301x200", "size=300x200&fit=cover", "size=300x200&q=79",
                               "size=300x200&format=png", "size=300x200&flip=h",
                               "size=300x200&sharpen=1", "", "size=300x200&dpr=2"])
def test_etag_differs_for_different_params(api, b):
    ra, rb = api.get(url("quad.jpg", "size=300x200")), api.get(url("quad.jpg", b))
    assert ra.status == rb.status == 200
    assert ra.headers["ETag"] != rb.headers["ETag"], "?size=300x200 and ?%s share a tag" % b


def test_etag_differs_between_files(api):
    a = api.get(url("quad.png", "size=100x100"))
    b = api.get(url("busy.png", "size=100x100"))
    assert a.headers["ETag"] != b.headers["ETag"]


def test_last_modified_is_the_files_mtime(api, api_media):
    r = api.get(url("quad.jpg", "size=100x100"))
    decode(r)
    mtime = os.stat(os.path.join(api_media, "quad.jpg")).st_mtime
    assert r.headers.get("Last-Modified") == email.utils.formatdate(mtime, usegmt=True), \
        r.headers.items()


def test_if_none_match_is_304(api):
    path = url("quad.jpg", "size=200x100&fit=cover")
    r = api.get(path)
    decode(r)
    etag = r.headers["ETag"]
    for inm in (etag, '"x", ' + etag, "W/" + etag, "*"):
        nm = api.get(path, headers={"If-None-Match": inm})
        assert nm.status == 304, "If-None-Match %s -> %r" % (inm, nm)
        assert nm.body == b""
        assert nm.headers.get("ETag") == etag
        assert nm.headers.get("Cache-Control") == CACHE_CONTROL, nm.headers.items()
    other = api.get(path, headers={"If-None-Match": '"not-it"'})
    assert other.status == 200 and decode(other).size == (200, 100)


def test_if_modified_since(api, api_media):
    path = url("quad.jpg", "size=200x100")
    mtime = int(os.stat(os.path.join(api_media, "quad.jpg")).st_mtime)
    for t, want in ((mtime, 304), (mtime + 3600, 304), (mtime - 1, 200), (mtime - 86400, 200)):
        r = api.get(path, headers={"If-Modified-Since": email.utils.formatdate(t, usegmt=True)})
        assert r.status == want, "If-Modified-Since mtime%+d -> %r" % (t - mtime, r)
        if want == 304:
            assert r.body == b""
            assert r.headers.get("ETag")
        else:
            assert decode(r).size == (150, 100)


def test_if_none_match_wins_over_if_modified_since(api, api_media):
    path = url("quad.jpg", "size=200x100")
    mtime = int(os.stat(os.path.join(api_media, "quad.jpg")).st_mtime)
    r = api.get(path, headers={"If-None-Match": '"other"',
                               "If-Modified-Since": email.utils.formatdate(mtime, usegmt=True)})
    assert r.status == 200, r


def _private_copy(api, api_media, src, tag):
    name = "%s-%s-%s" % (tag, api.front, os.path.basename(src))
    path = os.path.join(api_media, name)
    shutil.copyfile(os.path.join(api_media, src), path)
    return name, path


def test_304_is_answered_before_decoding(api, api_media):
    """A file replaced by garbage of the same size and mtime still has the
    old validators; a conditional request gets 304, which it could not if
    the file were decoded, while an unconditional one gets 422."""
    name, path = _private_copy(api, api_media, "quad.jpg", "cond")
    q = "size=200x100"
    r = api.get(url(name, q))
    decode(r)
    etag, lm = r.headers["ETag"], r.headers["Last-Modified"]
    st = os.stat(path)
    rnd = random.Random(42)
    with open(path, "r+b") as f:
        head = f.read(4)                          # JPEG magic kept: still sniffed as JPEG
        f.seek(0)
        f.write(head + rnd.randbytes(st.st_size - 4))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_size == st.st_size
    nm = api.get(url(name, q), headers={"If-None-Match": etag})
    assert nm.status == 304 and nm.body == b"", nm
    ims = api.get(url(name, q), headers={"If-Modified-Since": lm})
    assert ims.status == 304 and ims.body == b"", ims
    fresh = api.get(url(name, q))
    assert_json_error(fresh, 422)


def test_touched_file_changes_the_etag(api, api_media):
    name, path = _private_copy(api, api_media, "quad.jpg", "touch")
    q = "size=200x100"
    r = api.get(url(name, q))
    decode(r)
    st = os.stat(path)
    os.utime(path, (st.st_atime + 100, st.st_mtime + 100))
    r2 = api.get(url(name, q))
    decode(r2)
    assert r2.headers["ETag"] != r.headers["ETag"]
    assert r2.headers["Last-Modified"] == email.utils.formatdate(st.st_mtime + 100, usegmt=True)
    old = api.get(url(name, q), headers={"If-None-Match": r.headers["ETag"]})
    assert old.status == 200, old


def test_cache_control_is_the_configured_value(api):
    for q in ("size=100x100", "preset=thumb", "info", "size=100x100&format=auto"):
        r = api.get(url("quad.jpg", q))
        assert r.status == 200, r
        assert r.headers.get("Cache-Control") == CACHE_CONTROL, (q, r.headers.items())


VOLATILE = {"date", "connection", "keep-alive", "transfer-encoding", "content-length",
            "accept-ranges"}


@pytest.mark.parametrize("query,headers", [
    ("size=300x200", None),
    ("preset=thumb", None),
    ("size=100x100&format=auto", {"Accept": WEBP_OK}),
    ("info", None),
    ("size=100x100&fit=cover&gravity=smart&rotate=90", None),
])
def test_head_has_gets_headers_and_no_body(api, query, headers):
    path = url("quad.jpg", query)
    g, h = api.get(path, headers=headers), api.head(path, headers=headers)
    assert g.status == h.status == 200, (g, h)
    assert h.body == b""

    def comparable(hd):
        return sorted((k.lower(), v) for k, v in hd.items() if k.lower() not in VOLATILE)
    assert comparable(h.headers) == comparable(g.headers), (h.headers.items(), g.headers.items())


# ------------------------------------------------------------------ 400 / 413

BAD_VALUES = [
    ("size=0x100", "size"), ("size=100x100x", "size"), ("size=16385x10", "size"),
    ("fit=Cover", "fit"), ("fit=crop", "fit"),
    ("gravity=middle", "gravity"), ("gravity=smartest", "gravity"),
    ("crop=1,2,3,4,5", "crop"), ("crop=a,b,c,d", "crop"), ("crop=0,0,0,10", "crop"),
    ("rotate=-90", "rotate"), ("rotate=360", "rotate"),
    ("flip=hv", "flip"), ("flip=", "flip"),
    ("format=tiff", "format"), ("format=heic", "format"),
    ("q=0", "q"), ("q=1.5", "q"),
    ("bg=fff", "bg"), ("bg=12345g", "bg"),
    ("blur=0.2", "blur"), ("blur=nan", "blur"),
    ("sharpen=51", "sharpen"), ("sharpen=1e1", "sharpen"),
    ("dpr=0.5", "dpr"), ("dpr=5", "dpr"),
    ("enlarge=yes", "enlarge"), ("enlarge=2", "enlarge"),
    ("frame=-1", "frame"), ("frame=x", "frame"),
    ("preset=Bad!", "preset"), ("preset=" + "x" * 40, "preset"),
    ("info=yes", "info"),
    ("t=5", "t"), ("sprite=2x2", "sprite"),
]


@pytest.mark.parametrize("query,param", BAD_VALUES, ids=[q[:30] for q, _ in BAD_VALUES])
def test_bad_value_is_400_naming_it(api, query, param):
    path = url("quad.jpg", query)
    assert_error_names(api.get(path), 400, param, path)


@pytest.mark.parametrize("query", ["size=3000x3000&enlarge=1", "size=1500x1500&dpr=2&enlarge=1",
                                   "size=4000x&enlarge=1&fit=fill"])
def test_output_over_max_output_pixels_is_413(api, query):
    path = url("quad.jpg", query)
    assert_error_names(api.get(path), 413, "size", path)
    # under the limit, fine
    assert get_image(api, "quad.jpg", "size=1800x1200&enlarge=1").size == (1800, 1200)
