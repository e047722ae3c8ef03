#!/usr/bin/python3
"""Measures the q tables of lib/img/enc_avif.c and lib/img/enc_jxl.c: for
each JPEG quality q, the AVIF quantizer and the JPEG XL distance that give
the same mean SSIM over a few test pictures.

    scripts/qmap.py [--speed 6] [--effort 3] [--size 600x400] [--only avif|jxl]

JPEG is what the server writes (GraphicsMagick's JPEG writer at -quality q,
4:2:0), made by the gm command line on the same library; AVIF by avifenc
with the settings enc_avif.c uses (libaom, one thread, 4:4:4, full range,
one base quantizer, AOM_OPTS: libaom's variance-based delta q per
superblock and its quantization matrices); JPEG XL by cjxl (lossy, effort
as configured). Each is decoded back (Pillow, avifdec, djxl) and compared
with its source by ffmpeg's ssim filter on luma (Y of BT.601 4:4:4: the
JPEG's chroma is 4:2:0 below q=90, where GraphicsMagick's JPEG switches to
4:4:4, AVIF's is 4:4:4 throughout; luma sees neither). SSIM
falls as the quantizer or distance grows, so each target is found by
bisection on the mean over the pictures. Pictures: two synthetic photos
of the tests (tests/support/imaging.py photo_like; test_quality.py's
noisy synthetic_photo), GraphicsMagick's built-in logo: (a flat graphic)
and rose: (a small real photo, scaled up), plus a real photo if
../shared/peers/fixtures/medium.jpg is there.

Prints one table (q, JPEG SSIM, AVIF quantizer, JXL distance) to paste into
the C tables and README.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from PIL import Image, ImageChops  # noqa: E402

from support.imaging import photo_like  # noqa: E402

QS = [10, 30, 50, 75, 90, 95]
# enc_avif.c's libaom options for the colour planes
AOM_OPTS = ["color:deltaq-mode=4", "color:enable-qm=1"]


def synthetic_photo(w, h):
    """photo_like with sensor-like noise (as tests/integration/test_quality.py)."""
    im = photo_like(w, h)
    noise = Image.merge("RGB", [Image.effect_noise((w, h), 6) for _ in range(3)])
    return ImageChops.add(im, noise, scale=1.0, offset=-128)


def run(argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True)


def ssim(a, b):
    out = run(["ffmpeg", "-v", "info", "-nostdin", "-i", a, "-i", b, "-lavfi",
               "[0:v]format=yuv444p[a];[1:v]format=yuv444p[b];[a][b]ssim",
               "-f", "null", "-"]).stderr
    return float(re.search(r"Y:([0-9.]+)", out).group(1))


def pictures(tmp, w, h):
    paths = []

    def keep(name, im):
        p = os.path.join(tmp, name + ".png")
        im.convert("RGB").save(p)
        paths.append(p)

    keep("photo_like", photo_like(w, h))
    keep("noisy_photo", synthetic_photo(w, h))
    for name in ("logo", "rose"):
        p = os.path.join(tmp, name + "_gm.png")
        run(["gm", "convert", name + ":", "-resize", "%dx%d!" % (w, h), p])
        keep(name, Image.open(p))
    real = os.path.join(HERE, "..", "..", "shared", "peers", "fixtures", "medium.jpg")
    if os.path.exists(real):
        keep("medium", Image.open(real).resize((w, h), Image.LANCZOS))
    return paths


def mean_ssim(srcs, encode):
    """encode(src, out_png) writes the decoded picture; the mean SSIM."""
    total = 0.0
    for s in srcs:
        out = s + ".dec.png"
        encode(s, out)
        total += ssim(s, out)
    return total / len(srcs)


def jpeg(q):
    def enc(src, out):
        run(["gm", "convert", src, "-quality", str(q), src + ".jpg"])
        Image.open(src + ".jpg").convert("RGB").save(out)
    return enc


def avif(quant, speed):
    def enc(src, out):
        argv = ["avifenc", "-j", "1", "-c", "aom", "-s", str(speed), "-y", "444",
                "-r", "full", "--min", str(quant), "--max", str(quant)]
        for opt in AOM_OPTS:
            argv += ["-a", opt]
        run(argv + [src, src + ".avif"])
        run(["avifdec", src + ".avif", out])
    return enc


def jxl(dist, effort):
    def enc(src, out):
        run(["cjxl", src, src + ".jxl", "-d", "%.3f" % dist, "-e", str(effort)])
        run(["djxl", src + ".jxl", out])
    return enc


def bisect_int(srcs, target, make, lo, hi):
    """The integer setting in lo..hi (SSIM falling as it grows) whose mean
    SSIM is nearest target."""
    cache = {}

    def at(v):
        if v not in cache:
            cache[v] = mean_ssim(srcs, make(v))
        return cache[v]

    while hi - lo > 1:
        mid = (lo + hi) // 2
        if at(mid) >= target:
            lo = mid
        else:
            hi = mid
    return min((lo, hi), key=lambda v: abs(at(v) - target)), cache


def bisect_float(srcs, target, make, lo, hi, steps=9):
    s_mid = None
    for _ in range(steps):
        mid = (lo + hi) / 2
        s_mid = mean_ssim(srcs, make(mid))
        if s_mid >= target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2, s_mid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--speed", type=int, default=6)
    ap.add_argument("--effort", type=int, default=3)
    ap.add_argument("--size", default="600x400")
    ap.add_argument("--only", choices=("avif", "jxl"), help="measure one encoder's table")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        srcs = pictures(tmp, w, h)
        print("pictures: %s (%dx%d)" % (", ".join(os.path.basename(s)[:-4] for s in srcs), w, h))
        print("%4s %10s %10s %10s %12s %10s" % ("q", "jpeg_ssim", "avif_quant", "avif_ssim",
                                                 "jxl_distance", "jxl_ssim"))
        for q in QS:
            target = mean_ssim(srcs, jpeg(q))
            quant, s_avif, dist, s_jxl = 0, 0.0, 0.0, 0.0
            if args.only != "jxl":
                quant, cache = bisect_int(srcs, target, lambda v: avif(v, args.speed), 0, 63)
                s_avif = cache[quant]
            if args.only != "avif":
                dist, s_jxl = bisect_float(srcs, target, lambda v: jxl(v, args.effort), 0.1, 15.0)
            print("%4d %10.5f %10d %10.5f %12.2f %10.5f" % (q, target, quant, s_avif, dist,
                                                            s_jxl), flush=True)


if __name__ == "__main__":
    main()
