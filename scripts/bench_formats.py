#!/usr/bin/python3
"""
bench_formats.py - mediafcgi against the sharp peer, format by format: the
same thumbnail (`/<fixture>?size=300x200&format=F&q=Q`) asked of both, with
wrk at the rig's load (-t2 -c4, after a warm-up), RUNS times, alternating
which server goes first; per fixture and format the medians of req/s, the
bytes of the answer, and its SSIM to the source (see below), with ratios
ours / sharp and the issue's targets checked:

  avif, webp   req/s >= 1.0x sharp's, bytes <= sharp's, SSIM >= sharp's - 0.005
  default      (`?size=300x200` alone, each server's default JPEG quality: the
               row bench-image.sh measures) req/s >= 1.15x sharp's
  jpeg         (q given to both) reported, no target

SSIM: each answer is decoded with the reference tools (Pillow for JPEG and
WebP, avifdec for AVIF, djxl for JPEG XL) to PNG and compared by ffmpeg's
ssim filter (in yuv444p, the "All" figure) with the source downscaled once
to the answer's exact size by GraphicsMagick's Lanczos from a full decode:
the same reference for both servers.

A format our server does not answer with 200 (AVIF while it is not built
in) is skipped with a note; so is one sharp does not answer (JPEG XL where
its libvips lacks it). With --floor, bin/tjfloor's two-process rate (the
TurboJPEG floor: DCT-scaled decode + box filter + q85, no HTTP) is measured
once per run per fixture and printed as a ratio to sharp's and ours.

usage: bench_formats.py --ours URL --sharp URL --fixtures DIR
           [--formats "default jpeg:85 webp:80 avif:50"] [--runs 3]
           [--duration 10s] [--warmup 2s] [--size 300x200] [--floor BIN]
Exit status: 0 (the table is the result, targets are reported, not
enforced), 2 on bad usage or when neither server answers.
"""

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from PIL import Image

FIXTURES = ["large.jpg", "medium.jpg"]
MIME = {"jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif",
        "jxl": "image/jxl", "default": "image/jpeg"}
# the targets: (min req/s ratio, bytes must not exceed sharp's,
# SSIM may be lower than sharp's by at most)
TARGETS = {"avif": (1.0, True, 0.005), "webp": (1.0, True, 0.005),
           "default": (1.15, False, None)}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    ap.add_argument("--ours", required=True, help="base URL serving the fixtures at /")
    ap.add_argument("--sharp", required=True, help="the sharp peer's base URL")
    ap.add_argument("--fixtures", required=True, help="the rig's fixtures directory")
    ap.add_argument("--names", default=" ".join(FIXTURES))
    ap.add_argument("--formats", default="default jpeg:85 webp:80 avif:50",
                    help="F:Q ... ('default': no format= and no q=)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--warmup", default="2s")
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", default="300x200")
    ap.add_argument("--floor", help="the rig's bin/tjfloor: measure the TurboJPEG floor")
    ap.add_argument("--floor-iters", type=int, default=30)
    a = ap.parse_args()
    if not re.fullmatch(r"[1-9][0-9]*x[1-9][0-9]*", a.size):
        ap.error("--size: WxH")
    a.fmts = []
    for tok in a.formats.split():
        f, _, q = tok.partition(":")
        if f not in MIME or (f == "default") != (q == "") or (q and not q.isdigit()):
            ap.error("--formats: %r is not F:Q (F in jpeg webp avif jxl) or default" % tok)
        a.fmts.append((f, int(q) if q else None))
    return a


def url_for(base, fixture, size, fmt, q):
    query = "size=%s" % size
    if fmt != "default":
        query += "&format=%s&q=%d" % (fmt, q)
    return "%s/%s?%s" % (base.rstrip("/"), fixture, query)


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()
    except OSError as e:
        return 0, "", str(e).encode()


def decode_png(body, fmt, tmp, tag):
    """The answer decoded by the format's reference tool, as a PNG path."""
    src = os.path.join(tmp, tag + "." + fmt)
    png = os.path.join(tmp, tag + ".png")
    with open(src, "wb") as f:
        f.write(body)
    if fmt == "avif":
        subprocess.run(["avifdec", src, png], check=True, capture_output=True)
    elif fmt == "jxl":
        subprocess.run(["djxl", src, png], check=True, capture_output=True)
    else:
        im = Image.open(io.BytesIO(body))
        want = "JPEG" if fmt in ("jpeg", "default") else "WEBP"
        if im.format != want:
            raise ValueError("not a %s but %s" % (want, im.format))
        im.convert("RGB").save(png)
    with Image.open(png) as im:
        return png, im.size


class References:
    """The source downscaled by gm's Lanczos from a full decode, once per
    (fixture, width, height)."""

    def __init__(self, fixtures, tmp):
        self.fixtures, self.tmp, self.made = fixtures, tmp, {}

    def get(self, fixture, w, h):
        key = (fixture, w, h)
        if key not in self.made:
            out = os.path.join(self.tmp, "ref-%s-%dx%d.png" % (fixture, w, h))
            subprocess.run(["gm", "convert", os.path.join(self.fixtures, fixture),
                            "-auto-orient", "-filter", "Lanczos", "-resize", "%dx%d!" % (w, h),
                            "+profile", "*", out], check=True, capture_output=True)
            self.made[key] = out
        return self.made[key]


def ssim(a, b):
    r = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", a, "-i", b, "-lavfi",
                        "[0:v]format=yuv444p[x];[1:v]format=yuv444p[y];[x][y]ssim",
                        "-f", "null", "-"], capture_output=True, text=True)
    m = re.search(r"SSIM .* All:([0-9.]+)", r.stderr)
    if not m:
        raise RuntimeError("ffmpeg ssim: " + r.stderr[-300:])
    return float(m.group(1))


def check(name, url, fmt, size, fixture, refs, tmp):
    """One answer checked: (None, bytes, ssim, WxH) or (why not, ...)."""
    code, ctype, body = fetch(url)
    if code != 200:
        msg = body[:120].decode("utf-8", "replace").strip()
        return "HTTP %d %s" % (code, msg), None, None, None
    if not ctype.startswith(MIME[fmt]):
        return "Content-Type %r, not %s" % (ctype, MIME[fmt]), None, None, None
    try:
        png, (w, h) = decode_png(body, "jpeg" if fmt == "default" else fmt, tmp,
                                 "%s-%s-%s" % (name, fixture, fmt))
    except (ValueError, OSError, subprocess.CalledProcessError) as e:
        return "does not decode: %s" % e, None, None, None
    bw, bh = (int(v) for v in size.split("x"))
    if w > bw or h > bh:
        return "%dx%d exceeds %s" % (w, h, size), None, None, None
    return None, len(body), ssim(png, refs.get(fixture, w, h)), "%dx%d" % (w, h)


def wrk(url, a):
    subprocess.run(["wrk", "-t%d" % a.threads, "-c%d" % a.conns, "-d" + a.warmup,
                    "--timeout", "10s", url], capture_output=True)
    r = subprocess.run(["wrk", "-t%d" % a.threads, "-c%d" % a.conns, "-d" + a.duration,
                        "--timeout", "10s", url], capture_output=True, text=True)
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", r.stdout, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+([0-9]+)", r.stdout)
    if not m:
        raise RuntimeError("wrk: " + r.stdout[-300:] + r.stderr[-300:])
    if bad:
        print("    warning: %s non-2xx answers from %s" % (bad.group(1), url))
    return float(m.group(1))


def floor_rate(binary, fixtures, fixture, size, iters):
    """tjfloor img/s with two processes at once (the rig's 2-core ceiling)."""
    w, h = size.split("x")
    argv = [binary, fixture, w, h, str(iters)]
    ps = [subprocess.Popen(argv, cwd=fixtures, stdout=subprocess.PIPE, text=True)
          for _ in range(2)]
    rate = 0.0
    for p in ps:
        out = p.communicate()[0]
        m = re.search(r"ms_per_img=([0-9.]+)", out)
        if p.returncode or not m:
            raise RuntimeError("tjfloor failed: " + out)
        rate += 1000.0 / float(m.group(1))
    return rate


def fmt_ratio(a, b):
    return "%.2fx" % (a / b) if a is not None and b else "-"


def main():
    a = parse_args()
    for tool in ("wrk", "ffmpeg", "gm"):
        if shutil.which(tool) is None:
            print("bench_formats: %s missing" % tool, file=sys.stderr)
            return 2
    tmp = tempfile.mkdtemp(prefix="bench-formats-")
    refs = References(a.fixtures, tmp)
    names = a.names.split()
    servers = [("ours", a.ours), ("sharp", a.sharp)]
    print("== format comparison: mediafcgi vs sharp, box %s, wrk -t%d -c%d -d%s (after %s "
          "warm-up), %d runs, medians" % (a.size, a.threads, a.conns, a.duration, a.warmup,
                                          a.runs))
    # the answers: checked once (they are deterministic), bytes and SSIM
    cases, notes = [], []
    for fx in names:
        for fmt, q in a.fmts:
            got = {}
            for sname, base in servers:
                url = url_for(base, fx, a.size, fmt, q)
                why, nbytes, s, dims = check(sname, url, fmt, a.size, fx, refs, tmp)
                got[sname] = (url, why, nbytes, s, dims)
            label = fmt if q is None else "%s q%d" % (fmt, q)
            whys = ["%s: %s" % (n, got[n][1]) for n, _ in servers if got[n][1]]
            if whys:
                notes.append("%s %s skipped (%s)" % (fx, label, "; ".join(whys)))
                print("  %s %s: skipped: %s" % (fx, label, "; ".join(whys)))
                continue
            cases.append({"fx": fx, "fmt": fmt, "label": label, "got": got,
                          "rps": {n: [] for n, _ in servers}, "floor": []})
            print("  %s %s: ours %d B SSIM %.4f %s, sharp %d B SSIM %.4f %s"
                  % (fx, label, got["ours"][2], got["ours"][3], got["ours"][4],
                     got["sharp"][2], got["sharp"][3], got["sharp"][4]))
    if not cases:
        print("bench_formats: nothing to benchmark", file=sys.stderr)
        return 2
    floors = {fx: [] for fx in names}
    for run in range(a.runs):
        print("-- run %d/%d" % (run + 1, a.runs))
        for c in cases:
            order = servers if run % 2 == 0 else servers[::-1]
            line = []
            for sname, _ in order:
                rps = wrk(c["got"][sname][0], a)
                c["rps"][sname].append(rps)
                line.append("%s %.1f" % (sname, rps))
            print("  %s %s: %s req/s (%s)" % (c["fx"], c["label"], ", ".join(line),
                                             fmt_ratio(c["rps"]["ours"][-1],
                                                       c["rps"]["sharp"][-1])))
        if a.floor:
            for fx in names:
                floors[fx].append(floor_rate(a.floor, a.fixtures, fx, a.size, a.floor_iters))
                print("  %s tjfloor: %.1f img/s (2 procs)" % (fx, floors[fx][-1]))

    print()
    print("== results: format comparison, medians of %d runs (req/s: wrk -t%d -c%d -d%s); "
          "ratio = ours / sharp; SSIM to a gm Lanczos downscale of the source"
          % (a.runs, a.threads, a.conns, a.duration))
    hdr = "  %-10s %-10s %8s %8s %6s  %7s %7s %6s  %7s %7s %7s  %-6s %s"
    print(hdr % ("fixture", "format", "ours/s", "sharp/s", "x", "ours B", "sharp B", "x",
                 "ours", "sharp", "dSSIM", "target", "runs (x sharp)"))
    for c in cases:
        o, s = statistics.median(c["rps"]["ours"]), statistics.median(c["rps"]["sharp"])
        ob, sb = c["got"]["ours"][2], c["got"]["sharp"][2]
        os_, ss = c["got"]["ours"][3], c["got"]["sharp"][3]
        verdict = "-"
        t = TARGETS.get(c["fmt"])
        if t:
            ok = o / s >= t[0]
            if t[1]:
                ok = ok and ob <= sb
            if t[2] is not None:
                ok = ok and os_ >= ss - t[2]
            verdict = "ok" if ok else "MISSED"
        runs = " ".join("%.2f" % (x / y) for x, y in zip(c["rps"]["ours"], c["rps"]["sharp"]))
        print(hdr % (c["fx"], c["label"], "%.1f" % o, "%.1f" % s, fmt_ratio(o, s), ob, sb,
                     fmt_ratio(ob, sb), "%.4f" % os_, "%.4f" % ss, "%+.4f" % (os_ - ss),
                     verdict, runs))
    if a.floor:
        print("  TurboJPEG floor (bin/tjfloor, q85, 2 processes, no HTTP), medians:")
        for fx in names:
            fl = statistics.median(floors[fx])
            sh = [c for c in cases if c["fx"] == fx and c["fmt"] == "default"]
            extra = ""
            if sh:
                extra = ": sharp %.2f of the floor, ours %.2f" % (
                    statistics.median(sh[0]["rps"]["sharp"]) / fl,
                    statistics.median(sh[0]["rps"]["ours"]) / fl)
            print("    %-10s %.1f img/s%s" % (fx, fl, extra))
    print("  targets: avif/webp x >= 1.00, bytes <= sharp's, dSSIM >= -0.005; "
          "default (each server's default JPEG quality) x >= 1.15")
    for n in notes:
        print("  note: " + n)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
