#!/usr/bin/python3
"""
samples.py - sample media and a demo page for `make run`.

  scripts/samples.py --media build/run/media --docroot build/run/www [--mount /media]

Draws a few pictures with Pillow (nothing downloaded, nothing copied): JPEGs
of different sizes and shapes, a PNG with transparency, an animated GIF, a
WebP, a JPEG stored sideways with an EXIF Orientation tag and one with a
subject off-centre; and, when ffmpeg is installed, an 8 s 640x360 H.264
sample video (ffmpeg's testsrc2 with a red square moving across it). Then
writes docroot/index.html, a contact sheet of live answers in a grid, each
labelled with its URL: sizes, every fit mode, every gravity (smart too),
crop, rotate and flip, filters and dpr, formats (format=auto included),
animation (GIF to GIF and to animated WebP), quality, EXIF orientation,
video posters, a storyboard sprite and its WebVTT, and a few error answers.
"""

import argparse
import html
import math
import os
import random
import shutil
import subprocess
import sys

from PIL import Image, ImageDraw, ImageFont


# ------------------------------------------------------------------ drawing

def font(size):
    for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"):
        if os.path.exists(p):
            return ImageFont.truetype(p, size)
    return ImageFont.load_default()


def label(d, xy, text, size, fill=(255, 255, 255)):
    f = font(size)
    x, y = xy
    # a dark outline keeps the label readable on any background
    for dx, dy in ((-2, 0), (2, 0), (0, -2), (0, 2)):
        d.text((x + dx, y + dy), text, font=f, fill=(0, 0, 0))
    d.text((x, y), text, font=f, fill=fill)


def vgradient(w, h, top, bottom):
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    for y in range(h):
        t = y / max(1, h - 1)
        d.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    return im


def landscape(w=2400, h=1600):
    """Sky, sun, hills and a house: clear top/bottom/left/right content."""
    im = vgradient(w, h, (40, 110, 200), (200, 225, 250))
    d = ImageDraw.Draw(im)
    r = h // 10
    d.ellipse([w * 0.78 - r, h * 0.18 - r, w * 0.78 + r, h * 0.18 + r], fill=(255, 215, 60))
    for i, (col, base, amp) in enumerate([((70, 140, 60), 0.62, 0.08),
                                          ((40, 110, 40), 0.72, 0.06)]):
        pts = [(0, h)]
        for x in range(0, w + 1, 20):
            pts.append((x, h * (base + amp * math.sin(x / w * math.pi * (2 + i) + i))))
        pts.append((w, h))
        d.polygon(pts, fill=col)
    hx, hy, hw = int(w * 0.18), int(h * 0.58), int(w * 0.14)
    d.rectangle([hx, hy, hx + hw, hy + hw * 0.8], fill=(190, 60, 50))
    d.polygon([(hx - hw * 0.1, hy), (hx + hw / 2, hy - hw * 0.55), (hx + hw * 1.1, hy)],
              fill=(90, 50, 40))
    d.rectangle([hx + hw * 0.4, hy + hw * 0.4, hx + hw * 0.6, hy + hw * 0.8], fill=(60, 40, 30))
    label(d, (40, 30), "landscape.jpg %dx%d" % (w, h), h // 20)
    label(d, (40, h - h // 12), "bottom-left", h // 28)
    label(d, (w - w // 4, h - h // 12), "bottom-right", h // 28)
    return im


def portrait(w=1200, h=1800):
    """A lighthouse on a cliff under a night-to-dusk sky."""
    im = vgradient(w, h, (20, 20, 70), (240, 150, 90))
    d = ImageDraw.Draw(im)
    d.rectangle([0, h * 0.8, w, h], fill=(30, 60, 120))
    d.polygon([(0, h * 0.7), (w * 0.6, h * 0.75), (w * 0.7, h * 0.85), (0, h * 0.9)],
              fill=(80, 70, 60))
    cx, top, base = w * 0.3, h * 0.3, h * 0.74
    for i in range(6):
        y0 = top + (base - top) * i / 6
        y1 = top + (base - top) * (i + 1) / 6
        d.rectangle([cx - 60 - i * 8, y0, cx + 60 + i * 8, y1],
                    fill=(230, 230, 230) if i % 2 == 0 else (200, 40, 40))
    d.polygon([(cx, top), (cx + w * 0.7, top - h * 0.08), (cx + w * 0.7, top + h * 0.08)],
              fill=(255, 250, 180))
    d.ellipse([cx - 40, top - 80, cx + 40, top], fill=(255, 240, 120))
    for i in range(40):
        x, y = (i * 97) % w, (i * 53) % int(h * 0.25)
        d.ellipse([x, y, x + 4, y + 4], fill=(255, 255, 255))
    label(d, (30, 30), "portrait.jpg %dx%d" % (w, h), w // 16)
    return im


def rings(size=1000):
    """Concentric colour rings and a cross: shows centring and scaling."""
    im = Image.new("RGB", (size, size), (255, 255, 255))
    d = ImageDraw.Draw(im)
    cols = [(230, 60, 60), (240, 160, 40), (240, 220, 60), (80, 180, 80),
            (60, 140, 220), (120, 80, 200)]
    n = 12
    for i in range(n):
        r = size / 2 * (1 - i / n)
        d.ellipse([size / 2 - r, size / 2 - r, size / 2 + r, size / 2 + r], fill=cols[i % len(cols)])
    d.line([(0, size / 2), (size, size / 2)], fill=(0, 0, 0), width=4)
    d.line([(size / 2, 0), (size / 2, size)], fill=(0, 0, 0), width=4)
    label(d, (20, 20), "square.jpg", size // 20)
    return im


def panorama(w=3000, h=800):
    """Nine numbered panels: which one a crop keeps is plain to see."""
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    names = ["W", "", "", "", "C", "", "", "", "E"]
    for i in range(9):
        x0 = w * i / 9
        hue = i / 9
        col = tuple(int(127 + 120 * math.sin(2 * math.pi * (hue + k / 3))) for k in range(3))
        d.rectangle([x0, 0, x0 + w / 9, h], fill=col)
        label(d, (x0 + 30, h / 2 - 60), "%d%s" % (i + 1, names[i]), 110)
    d.rectangle([0, 0, w, h * 0.12], fill=(20, 20, 20))
    d.rectangle([0, h * 0.88, w, h], fill=(245, 245, 245))
    label(d, (30, 10), "north (dark band)", 60)
    label(d, (30, h - 90), "south (light band)", 60, fill=(40, 40, 40))
    return im


def logo(w=600, h=400):
    """Shapes on a transparent background, with a soft shadow."""
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse([60, 60, 340, 340], fill=(30, 30, 30, 90))
    d.ellipse([40, 40, 320, 320], fill=(230, 70, 60, 255))
    d.rounded_rectangle([260, 120, 560, 300], radius=40, fill=(40, 120, 220, 200))
    d.polygon([(420, 30), (580, 200), (420, 370)], fill=(250, 200, 40, 160))
    label(d, (70, 160), "logo.png", 48)
    return im


def anim_frames(w=240, h=160, n=12):
    frames = []
    for i in range(n):
        im = Image.new("RGB", (w, h), (250, 250, 240))
        d = ImageDraw.Draw(im)
        t = i / n
        x = 20 + (w - 80) * t
        y = h - 50 - abs(math.sin(t * 2 * math.pi)) * (h - 80)
        d.rectangle([0, h - 20, w, h], fill=(90, 160, 90))
        d.ellipse([x, y, x + 40, y + 40], fill=(220, 50, 50))
        d.text((6, 4), "anim.gif %d/%d" % (i + 1, n), fill=(0, 0, 0))
        frames.append(im.convert("P", palette=Image.ADAPTIVE, colors=32))
    return frames


def upright_arrow(w=900, h=600):
    """What the EXIF-rotated sample must look like once turned upright."""
    im = vgradient(w, h, (250, 250, 250), (200, 220, 240))
    d = ImageDraw.Draw(im)
    d.polygon([(w / 2, 60), (w / 2 + 150, 260), (w / 2 + 60, 260), (w / 2 + 60, h - 60),
               (w / 2 - 60, h - 60), (w / 2 - 60, 260), (w / 2 - 150, 260)], fill=(40, 160, 70))
    label(d, (30, 30), "UP", 90, fill=(40, 160, 70))
    label(d, (30, h - 120), "exif-rotated.jpg, Orientation 6", 40, fill=(60, 60, 60))
    return im


def off_centre_subject(w=1600, h=900):
    """A hot-air balloon near the right edge of a plain sky: fit=cover with
    gravity=center cuts it off, gravity=smart keeps it."""
    im = vgradient(w, h, (150, 195, 235), (205, 225, 245))
    d = ImageDraw.Draw(im)
    cx, cy, r = int(w * 0.82), int(h * 0.42), int(h * 0.2)
    rnd = random.Random(4)
    stripes = [(220, 40, 40), (250, 200, 30), (40, 120, 220), (40, 170, 80), (240, 120, 30)]
    for i in range(5):                             # vertical stripes, outside in
        k = 1 - i / 5
        d.ellipse([cx - r * k, cy - r, cx + r * k, cy + r], fill=stripes[i])
    d.polygon([(cx - r * 0.7, cy + r * 0.7), (cx + r * 0.7, cy + r * 0.7),
               (cx + r * 0.25, cy + r * 1.25), (cx - r * 0.25, cy + r * 1.25)],
              fill=(120, 60, 30))
    d.rectangle([cx - r * 0.22, cy + r * 1.25, cx + r * 0.22, cy + r * 1.55], fill=(90, 50, 20))
    for _ in range(200):                           # basket weave and rigging detail
        x = cx + rnd.uniform(-r * 0.2, r * 0.2)
        y = cy + rnd.uniform(r * 1.27, r * 1.53)
        d.point((x, y), fill=(40, 20, 10))
    d.rectangle([0, h - 40, w, h], fill=(100, 150, 90))
    label(d, (30, 20), "subject.jpg: the subject is on the right", h // 22, fill=(30, 30, 60))
    return im


def sample_video(path, seconds=8):
    """ffmpeg's testsrc2 (moving colour bars, a clock) with a red square
    crossing it, 640x360, H.264, a keyframe every second. False (and a
    note) when ffmpeg is not installed or fails."""
    if shutil.which("ffmpeg") is None:
        print("samples: ffmpeg is not installed: no sample video (scripts/deps.sh installs it)")
        return False
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=%d" % seconds,
            "-f", "lavfi", "-i", "color=c=0xff3030:size=64x64:rate=25:duration=%d" % seconds,
            "-filter_complex", "[0][1]overlay=x='mod(t*150,576)':y='148+100*sin(t*2)':shortest=1",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p",
            "-g", "25", "-movflags", "+faststart", "-an", path]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print("samples: ffmpeg failed, no sample video:\n%s" % r.stdout.decode(errors="replace"))
        try:
            os.unlink(path)
        except OSError:
            pass
        return False
    return True


def write_media(media):
    os.makedirs(media, exist_ok=True)
    p = lambda name: os.path.join(media, name)  # noqa: E731
    landscape().save(p("landscape.jpg"), "JPEG", quality=90)
    portrait().save(p("portrait.jpg"), "JPEG", quality=90)
    rings().save(p("square.jpg"), "JPEG", quality=90)
    panorama().save(p("panorama.jpg"), "JPEG", quality=90)
    landscape(1200, 800).save(p("small.webp"), "WEBP", quality=85)
    logo().save(p("logo.png"), "PNG")
    frames = anim_frames()
    frames[0].save(p("anim.gif"), "GIF", save_all=True, append_images=frames[1:],
                   duration=80, loop=0)
    # Stored turned 90 degrees counter-clockwise, as a camera held sideways
    # does; Orientation 6 tells viewers (and mediafcgi) to turn it back.
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "samples.py"
    upright_arrow().transpose(Image.Transpose.ROTATE_90).save(
        p("exif-rotated.jpg"), "JPEG", quality=90, exif=exif.tobytes())
    off_centre_subject().save(p("subject.jpg"), "JPEG", quality=90)
    return {"video": sample_video(p("sample.mp4"))}


# ------------------------------------------------------------------ the page

AUTO_NOTE = ("format=auto: WebP when the browser's Accept header allows it (most do), "
             "else the source's format; the answer carries Vary: Accept, so what you see "
             "depends on your browser")

# Each section: (title, note, items[, links]). An item is a query on a file
# ("name?params") or (query, note); links are (query, text) shown as links.
SECTIONS = [
    ("Sizes (fit=inside, the default)", "size is a box; the picture fits inside it, aspect kept.", [
        "landscape.jpg?size=100x100", "landscape.jpg?size=200x200", "landscape.jpg?size=300x300",
        "landscape.jpg?size=x120", "portrait.jpg?size=300x", "portrait.jpg?size=200x200",
    ]),
    ("Fit modes, landscape source, 200x200 box", "The dashed outline is the box.", [
        "landscape.jpg?size=200x200&fit=inside", "landscape.jpg?size=200x200&fit=cover",
        "landscape.jpg?size=200x200&fit=contain", "landscape.jpg?size=200x200&fit=fill",
        "landscape.jpg?size=200x200&fit=outside",
    ]),
    ("Fit modes, portrait source, 240x160 box", "", [
        "portrait.jpg?size=240x160&fit=inside", "portrait.jpg?size=240x160&fit=cover",
        "portrait.jpg?size=240x160&fit=contain&bg=203040", "portrait.jpg?size=240x160&fit=fill",
        "portrait.jpg?size=240x160&fit=outside",
    ]),
    ("Gravity (fit=cover, 160x160 of a panorama)", "Which part cover keeps.", [
        "panorama.jpg?size=160x160&fit=cover&gravity=" + g
        for g in ("northwest", "north", "northeast", "west", "center", "east",
                  "southwest", "south", "southeast", "smart")
    ]),
    ("Gravity on a wide box (fit=cover, 300x80 of a portrait)", "", [
        "portrait.jpg?size=300x80&fit=cover&gravity=" + g
        for g in ("north", "center", "south", "smart")
    ]),
    ("gravity=smart", "The busiest, most colourful part is kept: the balloon sits near the "
     "right edge of a plain sky, so center cuts it off and smart keeps it.", [
        ("subject.jpg?size=240x240&fit=cover", "gravity=center (the default)"),
        ("subject.jpg?size=240x240&fit=cover&gravity=smart", "gravity=smart"),
        "subject.jpg?size=160x240&fit=cover&gravity=smart",
        "subject.jpg?size=320x",
    ]),
    ("Crop, rotate, flip", "crop cuts from the upright source before fitting; rotate turns "
     "clockwise (the box is the output's box); flip mirrors after rotate.", [
        "landscape.jpg?crop=1500,80,800,600&size=200x",
        "landscape.jpg?size=200x200", "landscape.jpg?size=200x200&rotate=90",
        "landscape.jpg?size=200x200&rotate=180", "landscape.jpg?size=200x200&rotate=270",
        "landscape.jpg?size=200x200&flip=h", "landscape.jpg?size=200x200&flip=v",
        "landscape.jpg?size=200x200&rotate=90&flip=h",
    ]),
    ("Filters and dpr", "blur and sharpen take a sigma (0.3..50); dpr multiplies size "
     "(the 2x answer is shown at its real pixel size).", [
        "square.jpg?size=160x160", "square.jpg?size=160x160&blur=2",
        "square.jpg?size=160x160&sharpen=1.5", "square.jpg?size=160x160&dpr=2",
    ]),
    ("Formats", "The same PNG with transparency as each output format (the chequerboard "
     "shows through where it is transparent; JPEG has none: flattened on bg).", [
        "logo.png?size=240x160", "logo.png?size=240x160&format=png",
        "logo.png?size=240x160&format=webp", "logo.png?size=240x160&format=gif",
        "logo.png?size=240x160&format=jpeg", "logo.png?size=240x160&format=jpeg&bg=ffe0a0",
        ("logo.png?size=240x160&format=auto", AUTO_NOTE),
        ("square.jpg?size=160x160&format=auto", AUTO_NOTE),
        "small.webp?size=200x", "square.jpg?size=160x160&format=webp",
    ]),
    ("Animation", "An animated GIF stays animated: every frame is resized (and its timing "
     "kept), as GIF or as an animated WebP; frame= picks one frame.", [
        ("anim.gif?size=160x", "animated GIF, resized"),
        ("anim.gif?size=160x&format=webp", "animated GIF to animated WebP"),
        ("anim.gif?size=160x&frame=5&format=png", "frame 5 only"),
        "anim.gif",
    ]),
    ("Quality", "q=1..100 (default 80).", [
        "landscape.jpg?size=300x200&q=5", "landscape.jpg?size=300x200&q=30",
        "landscape.jpg?size=300x200", "landscape.jpg?size=300x200&q=95",
    ]),
    ("Enlarge", "By default a source smaller than the box is not enlarged.", [
        "anim.gif?size=480x320", "anim.gif?size=480x320&enlarge=1",
        "small.webp?size=300x300&fit=cover", "small.webp?size=2000x300&fit=cover",
    ]),
    ("EXIF orientation", "exif-rotated.jpg is stored sideways with Orientation 6; every "
     "answer is upright and carries no EXIF.", [
        "exif-rotated.jpg?size=300x300", "exif-rotated.jpg?size=150x150&fit=cover",
        "exif-rotated.jpg?size=200x&format=png",
    ]),
]

# Shown when the sample video could be made (ffmpeg installed).
VIDEO_SECTION = (
    "Video", "sample.mp4: 8 s of ffmpeg's testsrc2, 640x360 H.264, with a red square moving "
    "across it. A still is output like an image; a sprite is a storyboard of frames evenly "
    "spaced over the duration, and its WebVTT points into it for scrub-bar previews.", [
        ("sample.mp4?t=2&size=320x180", "poster at t=2 s"),
        ("sample.mp4?t=6.5&size=320x180&fit=cover&format=webp", "t=6.5 s as WebP"),
        ("sample.mp4?size=320x180", "t=auto (the default)"),
        ("sample.mp4?sprite=4x3&size=160x90", "storyboard: 4x3 tiles of 160x90"),
    ], [
        ("sample.mp4?sprite=4x3&size=160x90&format=vtt", "the sprite's WebVTT cues"),
        ("sample.mp4?info", "info (JSON)"),
        ("sample.mp4", "the original"),
    ])

ERRORS = [
    "landscape.jpg?size=abc", "landscape.jpg?size=100x100&size=200x200", "landscape.jpg?q=0",
    "landscape.jpg?fit=bogus", "landscape.jpg?foo=1", "landscape.jpg?gravity=smartest",
    "anim.gif?frame=99", "landscape.jpg?preset=nope", "missing.jpg", "sub/%2e%2e/landscape.jpg",
]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>mediafcgi samples</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
h2 {{ margin-top: 2em; border-bottom: 1px solid #ccc; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr));
  gap: 22px 18px; align-items: start; }}
.grid .wide2 {{ grid-column: span 2; }}
.grid .wide3 {{ grid-column: span 3; }}
figure {{ margin: 0; overflow-x: auto; }}
figure .box {{ display: inline-block; outline: 1px dashed #999;
  background: repeating-conic-gradient(#ddd 0 25%, #fff 0 50%) 0 0 / 16px 16px; }}
figure img {{ display: block; }}
figcaption {{ margin-top: 4px; }}
figcaption code {{ font-size: 12px; word-break: break-all; }}
figcaption .note {{ display: block; font-size: 12px; color: #666; }}
ul.links code {{ font-size: 13px; }}
</style></head><body>
<h1>mediafcgi samples</h1>
<p>Each picture below is a live answer of mediafcgi behind the web server
({mount}/&lt;file&gt;?query); the caption is its URL. Originals:
{originals}.</p>
{sections}
<h2>Errors</h2>
<p>Bad requests answer JSON <code>{{"error": "...", "status": N}}</code>:</p>
<ul>{errors}</ul>
</body></html>
"""


def query_params(q):
    return dict(kv.partition("=")[::2] for kv in q.partition("?")[2].split("&") if kv)


def shown_width(q):
    """Roughly how wide the answer is drawn, to let wide ones span columns."""
    qp = query_params(q)
    w = qp.get("size", "").partition("x")[0]
    w = int(w) if w.isdigit() else 0
    if qp.get("rotate") in ("90", "270"):
        w = int(qp.get("size", "x").partition("x")[2] or w or 0)
    if "sprite" in qp:
        w *= int(qp["sprite"].partition("x")[0])
    try:
        w = int(w * float(qp.get("dpr", "1")))
    except ValueError:
        pass
    return w


def figure(url, q, note):
    box = ""
    size = query_params(q).get("size", "")
    w, _, h = size.partition("x")
    if w and h and "fit=" in q:
        box = ' style="width:%spx;height:%spx"' % (w, h)
    width = shown_width(q)
    cls = ' class="wide3"' if width > 520 else ' class="wide2"' if width > 260 else ""
    u = html.escape(url(q))
    note = '<span class="note">%s</span>' % html.escape(note) if note else ""
    return ('<figure%s><a href="%s"><span class="box"%s><img src="%s" alt=""></span></a>'
            '<figcaption><code>%s</code>%s</figcaption></figure>' % (cls, u, box, u, u, note))


def page(mount, video=False):
    def url(q):
        return "%s/%s" % (mount, q)

    out = []
    for section in SECTIONS + ([VIDEO_SECTION] if video else []):
        title, note, items = section[:3]
        links = section[3] if len(section) > 3 else []
        figs = [figure(url, *(it if isinstance(it, tuple) else (it, ""))) for it in items]
        block = "<h2>%s</h2>\n%s<div class=\"grid\">\n%s\n</div>" % (
            html.escape(title), "<p>%s</p>\n" % html.escape(note) if note else "", "\n".join(figs))
        if links:
            block += "\n<ul class=\"links\">%s</ul>" % "".join(
                '<li><a href="%s"><code>%s</code></a> %s</li>'
                % (html.escape(url(q)), html.escape(url(q)), html.escape(text))
                for q, text in links)
        out.append(block)
    if not video:
        out.append("<h2>Video</h2>\n<p>No sample video: ffmpeg was not installed when the "
                   "samples were drawn (scripts/deps.sh installs it; then "
                   "<code>SAMPLES=1 make run</code>).</p>")
    names = ["landscape.jpg", "portrait.jpg", "square.jpg", "panorama.jpg", "subject.jpg",
             "logo.png", "anim.gif", "small.webp", "exif-rotated.jpg"] \
        + (["sample.mp4"] if video else [])
    originals = ", ".join('<a href="%s">%s</a>' % (html.escape(url(n)), n) for n in names)
    errors = "".join('<li><a href="%s"><code>%s</code></a></li>' % ((html.escape(url(q)),) * 2)
                     for q in ERRORS)
    return PAGE.format(mount=html.escape(mount), originals=originals,
                       sections="\n".join(out), errors=errors)


def main():
    ap = argparse.ArgumentParser(description="sample media and index.html for make run")
    ap.add_argument("--media", required=True)
    ap.add_argument("--docroot", required=True)
    ap.add_argument("--mount", default="/media")
    a = ap.parse_args()
    made = write_media(a.media)
    os.makedirs(a.docroot, exist_ok=True)
    with open(os.path.join(a.docroot, "index.html"), "w") as f:
        f.write(page("/" + a.mount.strip("/"), video=made["video"]))
    print("samples: %d files in %s, index.html in %s"
          % (len(os.listdir(a.media)), a.media, a.docroot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
