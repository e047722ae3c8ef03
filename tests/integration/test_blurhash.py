"""format=blurhash behind nginx: the answer is text/plain, decoded here by
a BlurHash DECODER written in this file (from the algorithm's description,
independent of the C encoder) and compared with a Pillow downscale of the
source; bx/by bounds, parameters that do not apply, the caching headers
(ETag, Last-Modified, Cache-Control, 304, HEAD), a crop and a video still.
"""

import math
import os
import shutil
import subprocess
import tempfile

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from support import webservers
from support.checks import assert_json_error
from support.imaging import MOUNT, quadrants

CACHE_CONTROL = "public, max-age=3600"
B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
DECODE = 32        # the side the hash is decoded to and the source scaled to


# ------------------------------------------------------------------ decoder

def d83(s):
    v = 0
    for c in s:
        i = B83.find(c)
        assert i >= 0, "not a base-83 digit: %r" % c
        v = v * 83 + i
    return v


def to_linear(v):
    x = v / 255.0
    return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4


def to_srgb(x):
    x = min(1.0, max(0.0, x))
    x = x * 12.92 if x <= 0.0031308 else 1.055 * x ** (1 / 2.4) - 0.055
    return int(x * 255 + 0.5)


def parse_hash(h):
    """(bx, by, colours): colours[j * bx + i] in linear light."""
    assert len(h) >= 6, h
    flag = d83(h[0])
    bx, by = flag % 9 + 1, flag // 9 + 1
    assert len(h) == 4 + 2 * bx * by, "length %d for %dx%d components" % (len(h), bx, by)
    maxv = (d83(h[1]) + 1) / 166.0
    dc = d83(h[2:6])
    colours = [tuple(to_linear(c) for c in (dc >> 16, (dc >> 8) & 255, dc & 255))]
    for k in range(1, bx * by):
        v = d83(h[4 + 2 * k:6 + 2 * k])
        q = (v // 361, (v // 19) % 19, v % 19)
        colours.append(tuple(math.copysign(((c - 9) / 9.0) ** 2, c - 9) * maxv for c in q))
    return bx, by, colours


def decode_hash(h, w=DECODE, ht=DECODE):
    """The picture a BlurHash stands for, w x ht, as a Pillow RGB image.
    Sampled at pixel centres, as the encoder's DCT-II takes them."""
    bx, by, colours = parse_hash(h)
    im = Image.new("RGB", (w, ht))
    px = im.load()
    cx = [[math.cos(math.pi * i * (x + 0.5) / w) for x in range(w)] for i in range(bx)]
    cy = [[math.cos(math.pi * j * (y + 0.5) / ht) for y in range(ht)] for j in range(by)]
    for y in range(ht):
        for x in range(w):
            acc = [0.0, 0.0, 0.0]
            for j in range(by):
                for i in range(bx):
                    b = cx[i][x] * cy[j][y]
                    c = colours[j * bx + i]
                    for k in range(3):
                        acc[k] += b * c[k]
            px[x, y] = tuple(to_srgb(a) for a in acc)
    return im


def mean_abs_error(a, b):
    a, b = a.convert("RGB"), b.convert("RGB")
    assert a.size == b.size
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def reference(src, blur=3):
    """What a placeholder should look like: the source scaled to DECODE
    square and blurred (a hash of 4 x 3 components holds no detail)."""
    return src.convert("RGB").resize((DECODE, DECODE), Image.LANCZOS).filter(
        ImageFilter.GaussianBlur(blur))


def components(src, bx, by):
    """The bx x by cosine components of src computed here, from a Pillow
    downscale (64 px on the long side, as the server plans it), sampled at
    pixel centres; then quantised as the hash writes them: (max AC digit,
    DC as sRGB, each AC as three 0..18 steps)."""
    s = src.convert("RGB")
    k = 64.0 / max(s.size)
    s = s.resize((max(1, round(s.size[0] * k)), max(1, round(s.size[1] * k))), Image.LANCZOS)
    sw, sh = s.size
    lin = [[tuple(to_linear(c) for c in s.getpixel((x, y))) for x in range(sw)]
           for y in range(sh)]
    comps = []
    for j in range(by):
        for i in range(bx):
            acc = [0.0, 0.0, 0.0]
            for y in range(sh):
                cy = math.cos(math.pi * j * (y + 0.5) / sh)
                for x in range(sw):
                    b = cy * math.cos(math.pi * i * (x + 0.5) / sw)
                    for c in range(3):
                        acc[c] += b * lin[y][x][c]
            n = (1.0 if i == j == 0 else 2.0) / (sw * sh)
            comps.append([a * n for a in acc])
    mx = max([abs(v) for c in comps[1:] for v in c] or [0])
    qmax = max(0, min(82, math.floor(mx * 166 - 0.5))) if len(comps) > 1 else 0
    mv = (qmax + 1) / 166.0

    def step(v):
        r = math.copysign(abs(v / mv) ** 0.5, v)
        return max(0, min(18, math.floor(r * 9 + 9.5)))
    return (qmax, tuple(to_srgb(v) for v in comps[0]),
            [tuple(step(v) for v in c) for c in comps[1:]])


def hash_fields(h):
    """The same fields read from a hash."""
    bx, by, _ = parse_hash(h)
    dc = d83(h[2:6])
    acs = [d83(h[4 + 2 * k:6 + 2 * k]) for k in range(1, bx * by)]
    return (d83(h[1]), (dc >> 16, (dc >> 8) & 255, dc & 255),
            [(v // 361, v // 19 % 19, v % 19) for v in acs])


def test_decoder_reads_a_published_hash():
    """The decoder itself, on the hash BlurHash's documentation shows."""
    bx, by, colours = parse_hash("LEHV6nWB2yk8pyo0adR*.7kCMdnj")
    assert (bx, by) == (4, 3)
    im = decode_hash("LEHV6nWB2yk8pyo0adR*.7kCMdnj", 8, 6)
    assert im.size == (8, 6)


# ------------------------------------------------------------------ media

def smooth(w, h):
    """Smooth colour fields a few components describe: a horizontal
    red-to-blue ramp, darker towards the bottom, a warm blob at the left."""
    im = Image.new("RGB", (w, h))
    px = im.load()
    for y in range(h):
        for x in range(w):
            fx, fy = x / (w - 1), y / (h - 1)
            blob = math.exp(-(((fx - 0.25) / 0.2) ** 2 + ((fy - 0.4) / 0.3) ** 2))
            px[x, y] = (int(40 + 200 * (1 - fx) * (1 - 0.5 * fy)),
                        int(40 + 150 * blob),
                        int(60 + 180 * fx * (1 - 0.4 * fy)))
    return im


@pytest.fixture(scope="module")
def media():
    top = tempfile.mkdtemp(prefix="mediafcgi-blurhash-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    os.makedirs(root)
    src = smooth(300, 200)
    src.resize((1500, 1000), Image.BILINEAR).save(os.path.join(root, "smooth.jpg"), "JPEG",
                                                  quality=92)
    src.save(os.path.join(root, "smooth.png"), "PNG")
    quadrants(600, 400).save(os.path.join(root, "quad.png"), "PNG")
    Image.new("RGB", (333, 111), (90, 140, 200)).save(os.path.join(root, "flat.png"), "PNG")
    a = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(a).rectangle([0, 0, 99, 199], fill=(0, 0, 255, 255))
    a.save(os.path.join(root, "alpha.png"), "PNG")
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i",
                    "color=c=0x3060c0:size=320x240:rate=10", "-t", "2", "-pix_fmt", "yuv420p",
                    "-c:v", "libx264", os.path.join(root, "blue.mp4")], check=True)
    yield root
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(media):
    b = webservers.mediafcgi_bin()
    if not os.access(b, os.X_OK):
        pytest.fail("%s not built (run make, or set MEDIAFCGI_BIN)" % b)
    with webservers.Stack(front="nginx", media_root=media, mount=MOUNT, workers=2,
                          config_extra={"media": {"cache_control": CACHE_CONTROL}}) as s:
        yield s
    assert not s.sanitizer_reports(), "sanitizer reports:\n" + "\n".join(s.sanitizer_reports())


def url(name, query):
    return "%s/%s?%s" % (MOUNT, name, query)


def get_hash(stack, name, query="format=blurhash", headers=None):
    r = stack.get(url(name, query), headers=headers)
    assert r.status == 200, "GET %s?%s -> %r\n%s" % (name, query, r, stack.logs())
    assert r.headers.get("Content-Type") == "text/plain; charset=utf-8", r.headers.items()
    h = r.body.decode("ascii")
    assert all(c in B83 for c in h), h
    return r, h


# ------------------------------------------------------------------ tests

@pytest.mark.parametrize("name", ["smooth.jpg", "smooth.png"])
def test_decoded_hash_looks_like_the_source(stack, media, name):
    r, h = get_hash(stack, name)
    assert len(h) == 28 and h[0] == "L", h        # 4 x 3 by default
    src = Image.open(os.path.join(media, name))
    got = decode_hash(h)
    # Against the source: as close as 4 x 3 components get (measured: 12.8
    # levels for the JPEG, 11.3 for the unquantised components).
    err = mean_abs_error(got, reference(src))
    assert err < 16, "hash %s decodes %.1f levels away from the source" % (h, err)
    # Against the same components computed and quantised here: each field
    # within a step (the downscales differ: GraphicsMagick's from a 1/8
    # JPEG decode, Pillow's Lanczos from the whole file).
    qmax, dc, acs = components(src, 4, 3)
    hq, hdc, hacs = hash_fields(h)
    assert abs(hq - qmax) <= 1, (h, qmax)
    assert all(abs(a - b) <= 3 for a, b in zip(hdc, dc)), (h, dc)
    assert all(abs(a - b) <= 1 for x, y in zip(hacs, acs) for a, b in zip(x, y)), (h, acs)
    # The comparison can fail: the source turned round is far off.
    wrong = mean_abs_error(got, reference(src.rotate(180)))
    assert wrong > 2.5 * err and wrong > 30, (err, wrong)


def test_more_components_come_closer(stack, media):
    src = reference(Image.open(os.path.join(media, "quad.png")), blur=1)
    errs = {}
    for bx, by in ((1, 1), (3, 3), (9, 9)):
        _, h = get_hash(stack, "quad.png", "format=blurhash&bx=%d&by=%d" % (bx, by))
        assert len(h) == 4 + 2 * bx * by
        errs[(bx, by)] = mean_abs_error(decode_hash(h), src)
    assert errs[(9, 9)] < errs[(3, 3)] < errs[(1, 1)], errs


def test_flat_source_is_its_colour_and_nothing_else(stack):
    _, h = get_hash(stack, "flat.png", "format=blurhash&bx=5&by=2")
    assert h[1] == "0", h                          # no AC at all
    assert d83(h[2:6]) == 0x5a8cc8, h
    assert all(d83(h[4 + 2 * k:6 + 2 * k]) == 9 * 361 + 9 * 19 + 9 for k in range(1, 10)), h


def test_params_shape_what_is_hashed(stack):
    # The top-left quadrant alone is red; with 1 x 1 components the hash is
    # its mean colour.
    _, h = get_hash(stack, "quad.png", "format=blurhash&bx=1&by=1&crop=0,0,300,200")
    dc = d83(h[2:6])
    r, g, b = dc >> 16, (dc >> 8) & 255, dc & 255
    assert r > 200 and g < 60 and b < 60, (r, g, b)
    # fit=cover on a tall box cut at the west: red over blue.
    _, h = get_hash(stack, "quad.png",
                    "format=blurhash&bx=1&by=2&size=100x400&fit=cover&gravity=west")
    im = decode_hash(h, 4, 8)
    top, bottom = im.getpixel((2, 1)), im.getpixel((2, 6))
    assert top[0] > top[2] and bottom[2] > bottom[0], (h, top, bottom)


def test_alpha_is_flattened_onto_bg(stack):
    _, white = get_hash(stack, "alpha.png", "format=blurhash&bx=1&by=1")
    _, black = get_hash(stack, "alpha.png", "format=blurhash&bx=1&by=1&bg=000000")
    assert white != black
    w, k = d83(white[2:6]), d83(black[2:6])
    assert (w >> 16) > 150 and (k >> 16) < 20, (white, black)     # red: the white half


def test_video_still(stack):
    _, h = get_hash(stack, "blue.mp4", "format=blurhash&t=1")
    dc = d83(h[2:6])
    got = (dc >> 16, (dc >> 8) & 255, dc & 255)
    assert all(abs(a - b) < 12 for a, b in zip(got, (0x30, 0x60, 0xc0))), got


@pytest.mark.parametrize("query,name", [
    ("format=blurhash&bx=0", "bx"), ("format=blurhash&bx=10", "bx"),
    ("format=blurhash&by=0", "by"), ("format=blurhash&by=a", "by"),
    ("format=blurhash&bx=4&bx=4", "bx"), ("bx=4", "bx"), ("format=jpeg&by=3", "by"),
    ("format=blurhash&q=80", "q"), ("format=blurhash&blur=2", "blur"),
    ("format=blurhash&info", "info"),
])
def test_bad_requests_are_400(stack, query, name):
    assert_json_error(stack.get(url("smooth.jpg", query)), 400, name)


def test_caching_headers_head_and_304(stack):
    q = "format=blurhash&bx=5&by=4"
    r, h = get_hash(stack, "smooth.jpg", q)
    assert len(h) == 4 + 2 * 20
    etag = r.headers["ETag"]
    assert r.headers.get("Cache-Control") == CACHE_CONTROL
    assert r.headers.get("Last-Modified")
    again, h2 = get_hash(stack, "smooth.jpg", q)
    assert h2 == h and again.headers["ETag"] == etag
    other, _ = get_hash(stack, "smooth.jpg", "format=blurhash")
    jpeg = stack.get(url("smooth.jpg", "format=jpeg"))
    assert len({etag, other.headers["ETag"], jpeg.headers["ETag"]}) == 3
    head = stack.head(url("smooth.jpg", q))
    assert head.status == 200 and head.body == b""
    for k in ("ETag", "Content-Type", "Cache-Control", "Last-Modified"):
        assert head.headers.get(k) == r.headers.get(k), k
    nm = stack.get(url("smooth.jpg", q), headers={"If-None-Match": etag})
    assert nm.status == 304 and nm.body == b"", nm
    assert nm.headers.get("ETag") == etag
