#!/usr/bin/python3
"""
samples.py - sample media and a demo page for `make run`.

  scripts/samples.py --media build/run/media --docroot build/run/www [--mount /media]

Draws a few pictures with Pillow (nothing downloaded, nothing copied): JPEGs
of different sizes and shapes, a PNG with transparency, an animated GIF, a
WebP and a JPEG stored sideways with an EXIF Orientation tag; then writes
docroot/index.html with example thumbnails of them in <img> tags, each
labelled with its URL: sizes, every fit mode, gravity, formats, quality,
EXIF orientation, and a few error answers.
"""

import argparse
import html
import math
import os
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


# ------------------------------------------------------------------ the page

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
                  "southwest", "south", "southeast")
    ]),
    ("Gravity on a wide box (fit=cover, 300x80 of a portrait)", "", [
        "portrait.jpg?size=300x80&fit=cover&gravity=" + g for g in ("north", "center", "south")
    ]),
    ("Formats", "The same PNG with transparency as each output format (the chequerboard "
     "shows through where it is transparent; JPEG has none: flattened on bg).", [
        "logo.png?size=240x160", "logo.png?size=240x160&format=png",
        "logo.png?size=240x160&format=webp", "logo.png?size=240x160&format=gif",
        "logo.png?size=240x160&format=jpeg", "logo.png?size=240x160&format=jpeg&bg=ffe0a0",
        "anim.gif?size=160x", "small.webp?size=200x", "square.jpg?size=160x160&format=webp",
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

ERRORS = [
    "landscape.jpg?size=abc", "landscape.jpg?size=100x100&size=200x200", "landscape.jpg?q=0",
    "landscape.jpg?fit=bogus", "landscape.jpg?foo=1", "missing.jpg", "sub/%2e%2e/landscape.jpg",
]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>mediafcgi samples</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
h2 {{ margin-top: 2em; border-bottom: 1px solid #ccc; }}
.row {{ display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }}
figure {{ margin: 0; max-width: 340px; }}
figure .box {{ display: inline-block; outline: 1px dashed #999;
  background: repeating-conic-gradient(#ddd 0 25%, #fff 0 50%) 0 0 / 16px 16px; }}
figure img {{ display: block; }}
figcaption code {{ font-size: 12px; word-break: break-all; }}
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


def page(mount):
    def url(q):
        return "%s/%s" % (mount, q)

    out = []
    for title, note, items in SECTIONS:
        figs = []
        for q in items:
            box = ""
            size = dict(kv.partition("=")[::2] for kv in q.partition("?")[2].split("&")).get("size", "")
            w, _, h = size.partition("x")
            if w and h and "fit=" in q:
                box = ' style="width:%spx;height:%spx"' % (w, h)
            u = html.escape(url(q))
            figs.append('<figure><a href="%s"><span class="box"%s><img src="%s" alt=""></span></a>'
                        '<figcaption><code>%s</code></figcaption></figure>' % (u, box, u, u))
        out.append("<h2>%s</h2>\n%s<div class=\"row\">\n%s\n</div>"
                   % (html.escape(title), "<p>%s</p>\n" % html.escape(note) if note else "",
                      "\n".join(figs)))
    names = ["landscape.jpg", "portrait.jpg", "square.jpg", "panorama.jpg", "logo.png",
             "anim.gif", "small.webp", "exif-rotated.jpg"]
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
    write_media(a.media)
    os.makedirs(a.docroot, exist_ok=True)
    with open(os.path.join(a.docroot, "index.html"), "w") as f:
        f.write(page("/" + a.mount.strip("/")))
    print("samples: %d files in %s, index.html in %s"
          % (len(os.listdir(a.media)), a.media, a.docroot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
