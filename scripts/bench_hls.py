#!/usr/bin/env python3
"""
bench_hls - format=hls of a 720p H.264 + AAC file (remuxed segments), behind
nginx, against what people script instead: `ffmpeg -ss T -t 6 -i FILE -c copy
-f mp4` run once per request.

Reports, each the median of --runs rounds:
  playlist TTFB      time to the first byte of ?format=hls (a fresh file
                     each round would be no different: only the index is read)
  first segment TTFB time to the first byte of seg=0 (built whole in memory,
                     then sent)
  segments/s         every segment of the playlist fetched in turn, one client
  ffmpeg segments/s  the same cuts by `ffmpeg -ss T -t D -c copy -f mp4` per
                     segment (a process each), and the ratio ours / ffmpeg's

usage: bench_hls.py [--bin build/mediafcgi] [--runs 3] [--seconds 60]
"""

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from support import webservers  # noqa: E402


def clip(seconds):
    """720p, 30 fps, keyframe every 2 s, AAC: made once under build/."""
    path = os.path.join(ROOT, "build", "bench-hls", "720p-%ds.mp4" % seconds)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp.mp4"
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=%d" % seconds,
                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=%d"
                        % seconds, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt",
                        "yuv420p", "-g", "60", "-b:v", "3M", "-c:a", "aac", "-b:a", "128k",
                        "-shortest", "-movflags", "+faststart", tmp], check=True, timeout=600)
        os.replace(tmp, path)
    return path


def fetch(host, port, path):
    """(seconds to the first body byte, seconds to the end, bytes)."""
    t0 = time.perf_counter()
    c = http.client.HTTPConnection(host, port, timeout=120)
    c.request("GET", path)
    r = c.getresponse()
    first = r.read(1)
    t1 = time.perf_counter()
    rest = r.read()
    t2 = time.perf_counter()
    c.close()
    if r.status != 200:
        raise SystemExit("GET %s: %d %r" % (path, r.status, (first + rest)[:200]))
    return t1 - t0, t2 - t0, first + rest


def playlist_segments(text):
    lines = text.decode().splitlines()
    out, start = [], 0.0
    for i, line in enumerate(lines):
        if line.startswith("#EXTINF:"):
            d = float(line[8:].split(",")[0])
            out.append((start, d, lines[i + 1]))
            start += d
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("MEDIAFCGI_BIN",
                                                    os.path.join(ROOT, "build", "mediafcgi")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=60)
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    top = tempfile.mkdtemp(prefix="mediafcgi-bench-hls-")
    os.chmod(top, 0o755)
    media = os.path.join(top, "media")
    os.mkdir(media)
    src = os.path.join(media, "v720.mp4")
    shutil.copyfile(clip(a.seconds), src)
    os.chmod(src, 0o644)
    s = webservers.Stack(front="nginx", media_root=media, mount="/", workers=2, binary=a.bin)
    s.start()
    host, port = s.host, s.port
    pl_ttfb, seg_ttfb, ours, theirs = [], [], [], []
    try:
        for _ in range(a.runs):
            t, _, body = fetch(host, port, "/v720.mp4?format=hls")
            pl_ttfb.append(t)
            segs = playlist_segments(body)
            t, _, _ = fetch(host, port, segs[0][2])
            seg_ttfb.append(t)
            t0 = time.perf_counter()
            for _, _, url in segs:
                fetch(host, port, url)
            ours.append(len(segs) / (time.perf_counter() - t0))
            out = os.path.join(top, "seg.mp4")
            t0 = time.perf_counter()
            for start, d, _ in segs:
                subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                                "-ss", "%.3f" % start, "-t", "%.3f" % d, "-i", src,
                                "-c", "copy", "-f", "mp4", out], check=True, timeout=120)
            theirs.append(len(segs) / (time.perf_counter() - t0))
    finally:
        s.stop()
        shutil.rmtree(top, ignore_errors=True)
    med = statistics.median
    print("== results")
    print("HLS VOD, 720p30 H.264 3 Mb/s + AAC, %d s, %d segments (remuxed), median of %d:"
          % (a.seconds, len(segs), a.runs))
    print("  playlist TTFB        %7.1f ms" % (med(pl_ttfb) * 1000))
    print("  first segment TTFB   %7.1f ms" % (med(seg_ttfb) * 1000))
    print("  mediafcgi            %7.1f segments/s" % med(ours))
    print("  ffmpeg -c copy       %7.1f segments/s (a process per segment)" % med(theirs))
    print("  ratio                %7.2fx" % (med(ours) / med(theirs)))


if __name__ == "__main__":
    main()
