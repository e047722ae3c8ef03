#!/usr/bin/env python3
"""
bench_live_h264 - a live source in H.264 (/live/cam1?format=mp4) against
the same source as MJPEG (/live/cam1), behind nginx with the documented
stream listener: 20 viewers, 5 of them slow (50 kB/s through a 16 KiB
SO_RCVBUF), of the peers' synthetic camera (peers/live/feed.py: 640x360,
30 fps, JPEG q80, every frame stamped with its number and send time).

Reports, each the median of --runs rounds of --seconds (after a warm-up):
  bytes/viewer-s   what a fast viewer receives per second, MJPEG and fMP4,
                   and per source frame (their ratio: a loaded machine that
                   slows the feed changes both alike)
  SSIM (luma)      of the H.264 frames against the JPEG frames they were
                   encoded from (matched by the stamp; MJPEG passes the
                   feed's JPEGs through, so they are MJPEG's picture)
  latency          fast fMP4 viewers: the arrival of each fragment minus
                   its frame's send time (the stamp of the frame, decoded
                   once from one viewer's stream: every viewer gets the same
                   fragments), p50 / p95; slow viewers' p95 too
  CPU/viewer       mediafcgi's and nginx's CPU (process trees, /proc) per
                   viewer-second, for each format (the fMP4 rounds include
                   the one H.264 encode, JPEG decode + x264, of the source)

usage: bench_live_h264.py [--bin build/mediafcgi] [--runs 3] [--seconds 10]
                          [--viewers 20] [--slow 5] [--peers ../shared/peers]
"""

import argparse
import io
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from support import webservers  # noqa: E402

W, H = 640, 360
SLOW_RATE = 50000
SLOW_RCVBUF = 16384
IDLE = 2                  # the source's idle_timeout


def boxes(data, off=0, end=None):
    end = len(data) if end is None else end
    while off + 8 <= end:
        size, typ = struct.unpack(">I4s", data[off:off + 8])
        if size < 8 or off + size > end:
            return
        yield typ, off, off + size
        off += size


def mfhd_seq(data, a, b):
    for t, x, _ in boxes(data, a + 8, b):
        if t == b"mfhd":
            return struct.unpack(">I", data[x + 12:x + 16])[0]
    return None


class Viewer(threading.Thread):
    """One viewer over HTTP/1.0: counts body bytes; fMP4 (mp4=True) also
    each fragment's arrival by its sequence number; keep=True keeps what
    it got (the reference viewers)."""

    def __init__(self, host, port, path, mp4, slow=False, keep=False):
        super().__init__(daemon=True)
        self.mp4, self.slow, self.keep = mp4, slow, keep
        self.halt = threading.Event()
        self.bytes = 0
        self.counting = False
        self.arrivals = {}        # fMP4: seq -> arrival
        self.kept = bytearray()   # the body, when keep
        self.error = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if slow:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RCVBUF)
        self.sock.settimeout(5)
        self.sock.connect((host, port))
        self.sock.sendall(("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % path).encode())
        self.start()

    def run(self):
        buf = bytearray()
        head = True
        try:
            while not self.halt.is_set():
                try:
                    d = self.sock.recv(4096 if self.slow else 65536)
                except socket.timeout:
                    continue
                if not d:
                    return
                now = time.monotonic()
                if head:
                    buf += d
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        continue
                    d = bytes(buf[end + 4:])
                    buf = bytearray()
                    head = False
                if self.counting:
                    self.bytes += len(d)
                if self.keep:
                    self.kept += d
                if self.mp4:
                    buf += d
                    while True:
                        got = list(boxes(buf))
                        if len(got) < 2:
                            break
                        if got[0][0] == b"moof" and got[1][0] == b"mdat":
                            self.arrivals[mfhd_seq(buf, got[0][1], got[0][2])] = now
                        del buf[:got[1][2] if got[0][0] == b"moof" else got[0][2]]
                if self.slow:
                    time.sleep(len(d) / SLOW_RATE)
        except Exception as e:  # noqa: BLE001 - reported
            self.error = repr(e)

    def stop(self):
        self.halt.set()
        self.join(10)
        self.sock.close()


def jpegs_of(body):
    """The JPEGs of a multipart body, by their Content-Length."""
    out, i = [], 0
    while True:
        i = body.find(b"Content-Length: ", i)
        if i < 0:
            return out
        j = body.find(b"\r\n\r\n", i)
        if j < 0:
            return out
        n = int(body[i + 16:body.index(b"\r\n", i)])
        if j + 4 + n > len(body):
            return out
        out.append(bytes(body[j + 4:j + 4 + n]))
        i = j + 4 + n


def gray_frames(mp4_bytes, tmpd):
    """The decoded frames of an fMP4 body, 8-bit luma, in order."""
    path = os.path.join(tmpd, "ref.mp4")
    with open(path, "wb") as f:
        f.write(mp4_bytes)
    # every decoded frame once (rawvideo would be made constant-rate:
    # frames duplicated or dropped, and no longer one per fragment)
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-vsync", "passthrough",
                        "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True,
                       timeout=300)
    n = W * H
    return [r.stdout[k:k + n] for k in range(0, len(r.stdout) - n + 1, n)]


def ssim(pairs, tmpd):
    """ffmpeg's SSIM (luma, 'All') of the pairs (raw 8-bit gray, a and b)."""
    if not pairs:
        return None
    a, b = os.path.join(tmpd, "a.gray"), os.path.join(tmpd, "b.gray")
    with open(a, "wb") as fa, open(b, "wb") as fb:
        for x, y in pairs:
            fa.write(x)
            fb.write(y)
    raw = ["-f", "rawvideo", "-pix_fmt", "gray", "-s", "%dx%d" % (W, H)]
    r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", *raw, "-i", a, *raw, "-i", b,
                        "-lavfi", "ssim", "-f", "null", "-"], capture_output=True, text=True,
                       timeout=300)
    for ln in r.stderr.splitlines():
        if "SSIM" in ln and "All:" in ln:
            return float(ln.split("All:")[1].split()[0])
    return None


def cpu_of(roots, procstat):
    return procstat.process_tree(roots)


def phase(s, fmt, a, procstat, pids, clock, tmpd):
    """One format's round: 20 viewers (5 slow) for a.seconds."""
    from PIL import Image
    import barcode
    path = "/live/cam1" + ("?format=mp4" if fmt == "mp4" else "")
    vs = [Viewer(s.host, s.port, path, fmt == "mp4", slow=k < a.slow)
          for k in range(a.viewers)]
    # references (not counted): one fMP4 viewer and one MJPEG viewer that
    # keep what they got, for the stamps and SSIM
    ref = refj = None
    if fmt == "mp4":
        ref = Viewer(s.host, s.port, path, True, keep=True)
        refj = Viewer(s.host, s.port, "/live/cam1", False, keep=True)
    time.sleep(a.warmup)
    st0 = json.load(urllib.request.urlopen(s.url("/status"), timeout=5))
    reader = [x for x in st0["sources"] if x["name"] == "cam1"][0]["reader"]
    c0, t0 = cpu_of(pids, procstat), time.monotonic()
    r0 = cpu_of([reader], procstat)
    for v in vs:
        v.counting = True
    time.sleep(a.seconds)
    for v in vs:
        v.counting = False
    c1, t1 = cpu_of(pids, procstat), time.monotonic()
    r1 = cpu_of([reader], procstat)
    st1 = json.load(urllib.request.urlopen(s.url("/status"), timeout=5))
    for v in vs + [x for x in (ref, refj) if x]:
        v.stop()
    errors = [v.error for v in vs if v.error]
    d = t1 - t0
    fast = [v for v in vs if not v.slow]
    out = {
        "bytes_per_viewer_s": statistics.mean(v.bytes for v in fast) / d,
        "slow_bytes_per_viewer_s": statistics.mean(v.bytes for v in vs if v.slow) / d
        if a.slow else 0,
        "cpu_ms_per_viewer_s": 1000 * procstat.cpu_seconds(c0, c1) / d / a.viewers,
        # the source's reader (decode, JPEG, H.264 encode): once per source
        "reader_ms_per_s": 1000 * procstat.cpu_seconds(r0, r1) / d,
        # everything else (fan-out, workers, nginx) per viewer-second
        "delivery_ms_per_viewer_s": 1000 * (procstat.cpu_seconds(c0, c1) -
                                            procstat.cpu_seconds(r0, r1)) / d / a.viewers,
        "errors": errors,
    }
    src0 = [x for x in st0["sources"] if x["name"] == "cam1"][0]
    src1 = [x for x in st1["sources"] if x["name"] == "cam1"][0]
    out["source_fps"] = (src1["frames"] - src0["frames"]) / d
    # per frame: the ratio holds when a loaded machine slows the feed
    out["bytes_per_frame"] = out["bytes_per_viewer_s"] / out["source_fps"] \
        if out["source_fps"] else None
    if fmt != "mp4":
        return out
    # the stamps of the reference's frames: fragment seq -> send time
    seqs = sorted(ref.arrivals)
    frames = gray_frames(bytes(ref.kept), tmpd)
    if len(frames) != len(seqs):
        out["errors"].append("reference: %d fragments, %d frames decoded" % (len(seqs),
                                                                               len(frames)))
    sent = {}
    stamped = {}
    for seq, g in zip(seqs, frames):
        st = barcode.read(Image.frombytes("L", (W, H), g))
        if st is None:
            continue
        num, ms = st
        # the feed's send time on CLOCK_MONOTONIC (ms modulo 65536 s)
        t_ms = clock["t0_monotonic"] * 1000 + ms
        arr = ref.arrivals[seq] * 1000
        while t_ms + 32768 < arr:
            t_ms += 65536
        sent[seq] = t_ms / 1000
        stamped[num] = g
    lat_fast, lat_slow = [], []
    for v in vs:
        for seq, at in v.arrivals.items():
            if seq in sent and t0 <= at <= t1:
                (lat_slow if v.slow else lat_fast).append(1000 * (at - sent[seq]))
    out["latency_fast_p50"] = statistics.median(lat_fast) if lat_fast else None
    out["latency_fast_p95"] = sorted(lat_fast)[int(0.95 * (len(lat_fast) - 1))] \
        if lat_fast else None
    out["latency_slow_p95"] = sorted(lat_slow)[int(0.95 * (len(lat_slow) - 1))] \
        if lat_slow else None
    # SSIM: H.264 frames against the JPEGs they came from (same stamp)
    pairs = []
    for j in jpegs_of(bytes(refj.kept)):
        im = Image.open(io.BytesIO(j)).convert("L")
        st = barcode.read(im)
        if st is not None and st[0] in stamped and im.size == (W, H):
            pairs.append((stamped[st[0]], im.tobytes()))
    out["ssim"] = ssim(pairs, tmpd)
    out["ssim_frames"] = len(pairs)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--bin", default=os.environ.get("MEDIAFCGI_BIN",
                                                    os.path.join(ROOT, "build", "mediafcgi")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--viewers", type=int, default=20)
    ap.add_argument("--slow", type=int, default=5)
    ap.add_argument("--peers", default=os.path.join(os.environ.get(
        "SHARED", os.path.join(os.path.dirname(ROOT), "shared")), "peers"))
    ap.add_argument("--sndbuf", default="4k")
    ap.add_argument("--fcgi-buffer", default="16k")
    a = ap.parse_args()
    os.environ["MEDIAFCGI_BIN"] = os.path.abspath(a.bin)
    sys.path.insert(0, os.path.join(a.peers, "live"))
    sys.path.insert(0, os.path.join(a.peers, "lib"))
    import procstat  # the rig's: CPU of process trees from /proc

    tmpd = tempfile.mkdtemp(prefix="bench-live-h264-")
    port = webservers.free_port()
    clock_file = os.path.join(tmpd, "clock.json")
    feed = subprocess.Popen([sys.executable, os.path.join(a.peers, "live", "feed.py"),
                             "--port", str(port), "--fps", "30", "--size", "%dx%d" % (W, H),
                             "--quality", "80", "--clock", clock_file],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = None
    try:
        for _ in range(100):
            if os.path.exists(clock_file):
                break
            time.sleep(0.1)
        with open(clock_file) as f:
            clock = json.load(f)
        media = os.path.join(tmpd, "media")
        os.mkdir(media)
        os.chmod(media, 0o755)
        cfg = {"server": {"max_streams": 8, "status_path": "/status", "stream_timeout": 30},
               "source cam1": {"input": "http://127.0.0.1:%d/feed.mjpg" % port,
                               "size": "%dx%d" % (W, H), "quality": 80, "fps": 30,
                               "idle_timeout": IDLE}}
        s = webservers.Stack(front="nginx", media_root=media, mount="/media", workers=2,
                             config_extra=cfg, listen_sndbuf=a.sndbuf,
                             fastcgi_buffer_size=a.fcgi_buffer)
        s.start()
        pids = [s.mediafcgi_pid(), s.procs["nginx"].pid]
        rows = {"mjpeg": [], "mp4": []}
        for r in range(a.runs):
            for fmt in ("mjpeg", "mp4"):
                res = phase(s, fmt, a, procstat, pids, clock, tmpd)
                rows[fmt].append(res)
                print("run %d %-5s %s" % (r + 1, fmt, json.dumps(
                    {k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items()})),
                    flush=True)
                # the encoder (and the reader) stop between rounds: an
                # MJPEG round never pays for the last fMP4 round's encode
                time.sleep(IDLE + 1.5)

        def med(fmt, k):
            xs = [x[k] for x in rows[fmt] if x.get(k) is not None]
            return statistics.median(xs) if xs else float("nan")
        bj, bm = med("mjpeg", "bytes_per_viewer_s"), med("mp4", "bytes_per_viewer_s")
        fj, fm = med("mjpeg", "bytes_per_frame"), med("mp4", "bytes_per_frame")
        print()
        print("live H.264 vs MJPEG, %d viewers (%d slow), %dx%d 30 fps feed, median of %d "
              "runs of %.0f s:" % (a.viewers, a.slow, W, H, a.runs, a.seconds))
        print("  bytes per fast viewer-second: MJPEG %.0f kB/s, fMP4 %.0f kB/s; per frame: "
              "MJPEG %.0f B, fMP4 %.0f B (ratio 1/%.1f)"
              % (bj / 1000, bm / 1000, fj, fm, fj / fm if fm else float("nan")))
        print("  SSIM (luma) of the H.264 frames vs the JPEG frames: %.4f"
              % med("mp4", "ssim"))
        print("  fMP4 latency to live: fast p50 %.0f ms, p95 %.0f ms; slow p95 %.0f ms"
              % (med("mp4", "latency_fast_p50"), med("mp4", "latency_fast_p95"),
                 med("mp4", "latency_slow_p95")))
        print("  CPU (mediafcgi + nginx) per viewer-second: MJPEG %.2f ms, fMP4 %.2f ms"
              % (med("mjpeg", "cpu_ms_per_viewer_s"), med("mp4", "cpu_ms_per_viewer_s")))
        print("    of which the source's reader, once for all viewers: MJPEG %.0f ms/s, "
              "fMP4 %.0f ms/s (JPEG decode + x264); delivery per viewer-second: MJPEG %.2f ms, "
              "fMP4 %.2f ms" % (med("mjpeg", "reader_ms_per_s"), med("mp4", "reader_ms_per_s"),
                                 med("mjpeg", "delivery_ms_per_viewer_s"),
                                 med("mp4", "delivery_ms_per_viewer_s")))
        print("  source frames/s: %.1f; slow viewers got %.0f kB/s (MJPEG) and %.0f kB/s (fMP4)"
              % (med("mp4", "source_fps"), med("mjpeg", "slow_bytes_per_viewer_s") / 1000,
                 med("mp4", "slow_bytes_per_viewer_s") / 1000))
        errs = [e for f in rows for x in rows[f] for e in x["errors"]]
        if errs:
            print("  viewer errors: %s" % errs[:5])
    finally:
        if s is not None:
            s.stop()
        feed.terminate()
        feed.wait(10)
        subprocess.run(["rm", "-rf", tmpd], check=False)


if __name__ == "__main__":
    main()
