"""
Streams: MJPEG of video files, fMP4/WebM transcodes, stream slots, and live
sources (README "Streams of video files", "Live sources", "Streams").

File streams run behind nginx and lighttpd on the frame-numbered videos of
videos.py (every frame shows its own number). Live sources read the peers'
synthetic camera (../shared/peers/live/feed.py) started here on a free port:
every frame carries its frame number and send time in a barcode
(live/barcode.py), so latency to live is read from the pixels. Viewers are
the peers' own measuring client (live/viewer.py's Viewer: the same HTTP and
multipart parsing, the same slow reader with a small SO_RCVBUF and MSS
1448), with per-frame timestamps recorded here.

Every loop is bounded; every server and feed started here is stopped at the
end of its test (Stack.stop(), feed terminate).
"""

import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pytest
from PIL import Image

from support import procs, videos, webservers
from support.waiting import wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PEERS = os.environ.get("MEDIAFCGI_PEERS") or os.path.join(os.path.dirname(REPO), "shared", "peers")
LIVE = os.path.join(PEERS, "live")
MOUNT = "/media"
STATUS = "/status"            # outside the mount: webservers routes it to mediafcgi
SRC_FPS = videos.FPS          # 25: frames.mp4, 150 frames, 6 s
NFRAMES = videos.FPS * videos.FRAMES_SECONDS
LONG_SECONDS = 30             # the transcode clip
FEED_FPS = 30                 # live/feed.py's default


# ------------------------------------------------------------------ helpers

def status(s):
    r = s.get(STATUS, headers={"Connection": "close"})
    assert r.status == 200 and r.content_type == "application/json", r
    return r.json()


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def log_hint(s):
    """mediafcgi's log lines worth showing when a stream test fails."""
    try:
        with open(s.path("mediafcgi.log"), "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except (OSError, TypeError):
        return ""
    keep = [ln for ln in lines if "warning" in ln or "error" in ln]
    return "\nmediafcgi log (warnings):\n  " + "\n  ".join(keep[-12:]) if keep else ""


class MjpegReader(threading.Thread):
    """One HTTP/1.1 GET of a stream on a raw socket, in its own thread: the
    status line and headers, the body de-chunked, and a strict
    multipart/x-mixed-replace parse (delimiter "--BOUNDARY", part headers,
    exactly Content-Length bytes, CRLF; the closing "--BOUNDARY--"). Each
    part is kept with the time the read that completed it returned. Stops
    at the end of the response, after `seconds`, or at stop()."""

    def __init__(self, host, port, path, seconds=10.0, rcvbuf=0, max_parts=None):
        super().__init__(daemon=True)
        self.host, self.port, self.path = host, port, path
        self.seconds = seconds
        self.max_parts = max_parts
        self.rcvbuf = rcvbuf
        self.halt = threading.Event()
        self.t_sent = None
        self.t_headers = None
        self.status = None
        self.headers = {}
        self.boundary = None
        self.parts = []            # (arrival, {header: value}, body)
        self.closed = False        # the closing delimiter was read
        self.ended = False         # the response ended cleanly (chunk 0 / length / EOF)
        self.eof = False           # the server closed the connection
        self.error = None
        self.body_bytes = 0
        self.first_byte = None     # arrival of the first body byte
        self.arrivals = []         # (time, body bytes so far)
        self.sock = None

    def stop(self):
        self.halt.set()
        s = self.sock
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- socket
    def _recv(self):
        while True:
            if self.halt.is_set() or time.monotonic() > self.deadline:
                return None
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                if self.halt.is_set():
                    return None
                raise
            if not data:
                self.eof = True
            return data

    def run(self):
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - reported by the test
            if not self.halt.is_set():
                self.error = "%s: %s" % (type(e).__name__, e)
        finally:
            if self.sock is not None:
                try:
                    self.sock.close()
                except OSError:
                    pass

    def _run(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        self.sock.settimeout(0.2)
        self.deadline = time.monotonic() + self.seconds
        self.sock.connect((self.host, self.port))
        self.t_sent = time.monotonic()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
                           % (self.path, self.host, self.port)).encode())
        buf = bytearray()
        while b"\r\n\r\n" not in buf:
            d = self._recv()
            if not d:
                return
            buf += d
        self.t_headers = time.monotonic()
        i = buf.index(b"\r\n\r\n")
        lines = bytes(buf[:i]).decode("latin-1").split("\r\n")
        del buf[:i + 4]
        self.status = int(lines[0].split()[1])
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        ct = self.headers.get("content-type", "")
        for p in ct.split(";")[1:]:
            k, _, v = p.strip().partition("=")
            if k.lower() == "boundary":
                self.boundary = v.strip().strip('"').encode("latin-1")
        chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        length = self.headers.get("content-length")
        body = self._body(buf, chunked, int(length) if length and length.isdigit() else None)
        if self.boundary and self.status == 200:
            self._multipart(body)
        else:
            for _ in body:
                pass

    def _body(self, buf, chunked, length):
        """Yields body bytes as they arrive (de-chunked)."""
        def more():
            d = self._recv()
            if not d:
                raise EOFError
            buf.extend(d)
        try:
            if not chunked:
                left = length
                while True:
                    if buf:
                        take = len(buf) if left is None else min(left, len(buf))
                        piece = bytes(buf[:take])
                        del buf[:take]
                        self._got(len(piece))
                        yield piece
                        if left is not None:
                            left -= take
                    if left == 0:
                        self.ended = True
                        return
                    more()
            while True:
                while b"\r\n" not in buf:
                    more()
                i = buf.index(b"\r\n")
                size = int(bytes(buf[:i]).split(b";")[0].strip() or b"0", 16)
                del buf[:i + 2]
                if size == 0:
                    self.ended = True
                    return
                left = size
                while left:
                    if not buf:
                        more()
                    take = min(left, len(buf))
                    piece = bytes(buf[:take])
                    del buf[:take]
                    left -= take
                    self._got(len(piece))
                    yield piece
                while len(buf) < 2:
                    more()
                if buf[:2] != b"\r\n":
                    raise ValueError("chunk not followed by CRLF")
                del buf[:2]
        except EOFError:
            if length is None and not chunked:
                self.ended = True
            return

    def _got(self, n):
        now = time.monotonic()
        if self.first_byte is None:
            self.first_byte = now
        self.body_bytes += n
        self.arrivals.append((now, self.body_bytes))

    def _multipart(self, body):
        delim = b"--" + self.boundary
        data = bytearray()
        it = iter(body)

        def need(n):
            while len(data) < n:
                data.extend(next(it))

        def need_until(marker):
            while marker not in data:
                if len(data) > 1 << 20:
                    raise ValueError("part headers too long")
                data.extend(next(it))
            return data.index(marker)
        try:
            while True:
                need(len(delim) + 2)
                if data[:len(delim)] != delim:
                    raise ValueError("expected %r, got %r" % (delim, bytes(data[:40])))
                del data[:len(delim)]
                if data[:2] == b"--":
                    self.closed = True
                    del data[:2]
                    for piece in it:      # the rest (CRLF): the response's end
                        data.extend(piece)
                    return
                if data[:2] != b"\r\n":
                    raise ValueError("delimiter not followed by CRLF: %r" % bytes(data[:20]))
                del data[:2]
                i = need_until(b"\r\n\r\n")
                hdrs = {}
                for ln in bytes(data[:i]).decode("latin-1").split("\r\n"):
                    k, _, v = ln.partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                del data[:i + 4]
                cl = hdrs.get("content-length", "")
                if not cl.isdigit():
                    raise ValueError("part without Content-Length: %r" % hdrs)
                n = int(cl)
                need(n + 2)
                jpeg = bytes(data[:n])
                if data[n:n + 2] != b"\r\n":
                    raise ValueError("part body longer than its Content-Length %d" % n)
                del data[:n + 2]
                self.parts.append((time.monotonic(), hdrs, jpeg))
                if self.max_parts and len(self.parts) >= self.max_parts:
                    return
        except StopIteration:
            return


def open_reader(s, path, seconds=10.0, **kw):
    r = MjpegReader(s.host, s.port, path, seconds, **kw)
    r.start()
    return r


def frame_numbers(parts, size=None):
    """The frame number shown in each part (None if unreadable); checks each
    part's headers and decoded size on the way."""
    out = []
    for _, hdrs, jpeg in parts:
        assert hdrs.get("content-type") == "image/jpeg", hdrs
        assert int(hdrs["content-length"]) == len(jpeg)
        im = Image.open(io.BytesIO(jpeg))
        im.load()
        assert im.format == "JPEG"
        if size is not None:
            assert im.size == size, "part decodes to %s, asked for %s" % (im.size, size)
        out.append(videos.read_frame_number(im))
    return out


# ------------------------------------------------------------------ media

def _long_clip(path):
    """A LONG_SECONDS clip (320x240, 25 fps, H.264 + AAC), made once and
    cached under build/ (the fixture of the transcode and browser tests)."""
    args = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=%d" % LONG_SECONDS,
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=%d" % LONG_SECONDS,
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "50",
            "-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart"]
    key = hashlib.sha256((" ".join(args) + videos.ffmpeg_version()).encode()).hexdigest()[:12]
    cache = os.path.join(REPO, "build", "test-videos", "streams", "long-%s.mp4" % key)
    if not os.path.exists(cache):
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        tmp = cache + ".%d.tmp.mp4" % os.getpid()
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + args + [tmp],
                       check=True, timeout=120)
        os.replace(tmp, cache)
    shutil.copyfile(cache, path)


@pytest.fixture(scope="module")
def smedia():
    """A media root: frames.mp4 (150 numbered frames, 25 fps), long.mp4
    (30 s with audio), photo.jpg."""
    vdir, _ = videos.ensure()
    top = tempfile.mkdtemp(prefix="mediafcgi-streams-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    os.mkdir(root)
    shutil.copyfile(os.path.join(vdir, "frames.mp4"), os.path.join(root, "frames.mp4"))
    _long_clip(os.path.join(root, "long.mp4"))
    Image.linear_gradient("L").resize((640, 480)).convert("RGB").save(
        os.path.join(root, "photo.jpg"), "JPEG", quality=90)
    for n in os.listdir(root):
        os.chmod(os.path.join(root, n), 0o644)
    yield root
    shutil.rmtree(top, ignore_errors=True)


def _stop_stack(s):
    left = s.stop()
    assert not left, "processes left behind after SIGTERM: %s" % left
    assert not s.sanitizer_reports(), "sanitizer reports:\n" + "\n".join(s.sanitizer_reports())


@pytest.fixture(scope="module", params=list(webservers.FRONTS))
def sstack(request, smedia):
    """mediafcgi (2 workers, default max_streams 16) behind nginx or lighttpd."""
    s = webservers.Stack(front=request.param, media_root=smedia, mount=MOUNT, workers=2,
                         config_extra={"server": {"status_path": STATUS}})
    s.start()
    yield s
    _stop_stack(s)


# ------------------------------------------------------------------ MJPEG of a file

def _rate(parts, window):
    """Parts per second from the arrival of the first part over `window`
    seconds, and the parts counted."""
    if not parts:
        return 0.0, []
    t0 = parts[0][0]
    inside = [p for p in parts if p[0] - t0 <= window]
    if len(inside) < 2:
        return 0.0, inside
    return (len(inside) - 1) / (inside[-1][0] - t0), inside


def test_mjpeg_file(sstack):
    s = sstack
    base = MOUNT + "/frames.mp4?format=mjpeg&size=160x120"
    # all at once (each takes a stream slot; the pool keeps its 2 workers)
    rd = {
        "plain": open_reader(s, base, seconds=3.2),
        "fps5": open_reader(s, base + "&fps=5", seconds=3.5),
        "start1": open_reader(s, base + "&start=1", seconds=4, max_parts=3),
        "tail": open_reader(s, base + "&start=3.5", seconds=6.0),     # 2.5 s to the end
        "loop": open_reader(s, MOUNT + "/frames.mp4?format=mjpeg&size=160x120&start=5&loop=1",
                            seconds=3.2),
    }
    for r in rd.values():
        r.join(12)
    problems = []
    ok = {}
    for name, r in rd.items():
        if r.status is None and not r.error:
            problems.append("%s: no response headers within %.1f s" % (name, r.seconds))
        elif r.error or r.status != 200:
            problems.append("%s: HTTP %s, error %s" % (name, r.status, r.error))
        elif not r.parts:
            problems.append("%s: no part within %.1f s" % (name, r.seconds))
        else:
            ok[name] = r
            # every part: image/jpeg, Content-Length = the JPEG, 160x120
            r.nums = frame_numbers(r.parts, (160, 120))
            assert None not in r.nums, "%s: unreadable frame numbers %s" % (name, r.nums)

    p = ok.get("plain")
    if p is not None:
        # headers: multipart with a boundary; behind lighttpd
        # X-Accel-Buffering reaches the client (nginx consumes it: it turns
        # its buffering off)
        assert p.headers["content-type"].startswith("multipart/x-mixed-replace"), p.headers
        assert p.boundary, p.headers
        if s.front == "lighttpd":
            assert p.headers.get("x-accel-buffering") == "no", p.headers
        # frame numbers in order, from 0, none skipped (no fps cap)
        nums = p.nums
        assert nums == list(range(len(nums))), "frames out of order or skipped: %s" % nums
        # chunked arrival: the first part well before the file's 6 s are
        # over (a frame is due every 40 ms; the stream is flushed per frame)
        ttfp = p.parts[0][0] - p.t_sent
        if ttfp >= 1.0:
            problems.append("plain: first part after %.2f s (first body byte at %.2f s, "
                            "headers at %.2f s; %d parts by %.2f s); parts must be flushed "
                            "as they are made" % (ttfp, p.first_byte - p.t_sent,
                                                  p.t_headers - p.t_sent, len(p.parts),
                                                  p.parts[-1][0] - p.t_sent))
        # the source's pace: 25 parts/s within 10%, over 2.5 s of arrivals,
        # and no part early or late against its frame's time by > 0.2 s
        rate, inside = _rate(p.parts, 2.5)
        if not (0.9 * SRC_FPS <= rate <= 1.1 * SRC_FPS) or len(inside) < 2.5 * SRC_FPS * 0.9:
            problems.append("plain: %.1f parts/s over %d parts (%.2f s of arrivals), want %d "
                            "+-10%%" % (rate, len(inside), inside[-1][0] - inside[0][0],
                                        SRC_FPS))
        t0 = p.parts[0][0]
        skew = max(abs((t - t0) - n / SRC_FPS) for (t, _, _), n in zip(p.parts, nums))
        if skew > 0.2:
            problems.append("plain: a part arrived %.2f s off its frame's time" % skew)

    f5 = ok.get("fps5")
    if f5 is not None:
        # fps=5 caps the rate: every 5th frame, 5 parts/s within 10%
        n5 = f5.nums
        steps = {b - a for a, b in zip(n5, n5[1:])}
        if n5[:1] != [0] or steps - {5}:
            problems.append("fps=5: frames %s (want 0, 5, 10, ...)" % n5)
        rate5, inside5 = _rate(f5.parts, 3.0)
        if not (4.5 <= rate5 <= 5.5) or len(inside5) < 12:
            problems.append("fps=5: %.2f parts/s over %d parts, want 5 +-10%%"
                            % (rate5, len(inside5)))

    s1 = ok.get("start1")
    if s1 is not None and abs(s1.nums[0] - SRC_FPS) > 1:
        # start=1 begins at the frame on screen at 1 s (25)
        problems.append("start=1: first frames %s, want ~%d" % (s1.nums, SRC_FPS))

    tl = ok.get("tail")
    if tl is not None:
        # the end of the file: every frame to the last, the closing
        # boundary, the response's clean end; paced (2.5 s in ~2.5 s)
        nt = tl.nums
        if not (tl.closed and tl.ended):
            problems.append("start=3.5: closing boundary %s, clean end %s, eof %s after %d "
                            "parts" % (tl.closed, tl.ended, tl.eof, len(tl.parts)))
        if nt[-1] != NFRAMES - 1 or nt != list(range(nt[0], nt[0] + len(nt))) \
                or abs(nt[0] - 3.5 * SRC_FPS) > 1:
            problems.append("start=3.5: frames %s..%s (%d), want ~87..149 in order"
                            % (nt[:1], nt[-1:], len(nt)))
        elif len(tl.parts) > 1:
            span = tl.parts[-1][0] - tl.parts[0][0]
            want = (len(tl.parts) - 1) / SRC_FPS
            if abs(span - want) > 0.1 * want:
                problems.append("start=3.5: %d parts arrived over %.2f s, want %.2f s +-10%%"
                                % (len(tl.parts), span, want))

    lp = ok.get("loop")
    if lp is not None:
        # loop=1 goes on past the end: 149 is followed by 125 (start=5)
        nl = lp.nums
        wraps = sum(1 for a, b in zip(nl, nl[1:]) if b < a)
        if lp.closed or lp.ended or wraps < 1 or len(nl) < 40:
            problems.append("loop=1: %d parts in %.1f s, %d wraps, closed %s, ended %s; "
                            "frames %s" % (len(nl), lp.seconds, wraps, lp.closed, lp.ended,
                                           nl[:60]))
        elif any(b != (a + 1 if a < NFRAMES - 1 else 5 * SRC_FPS) for a, b in zip(nl, nl[1:])):
            problems.append("loop=1: frames out of order: %s" % nl)
    assert not problems, "\n".join(problems) + log_hint(s)


# ------------------------------------------------------------------ transcodes

def _fetch_timed(s, path, timeout=60):
    """GET path; (status, headers, body, t_first_byte, t_total, arrivals)."""
    conn = http.client.HTTPConnection(s.host, s.port, timeout=timeout)
    t0 = time.monotonic()
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        r = conn.getresponse()
        chunks, arrivals, first = [], [], None
        while True:
            b = r.read1(65536)
            if not b:
                break
            now = time.monotonic() - t0
            if first is None:
                first = now
            chunks.append(b)
            arrivals.append((now, sum(len(c) for c in chunks)))
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), b"".join(chunks), \
            first, time.monotonic() - t0, arrivals
    finally:
        conn.close()


def _probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                          "-show_streams", "-count_packets", path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    return json.loads(out.stdout)


def _decoded_numbers(path, w, h):
    """Frame numbers of every frame ffmpeg decodes from path (w x h)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", "0:v:0", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    assert raw.returncode == 0, raw.stderr.decode()[-2000:]
    n = w * h * 3
    return [videos.read_frame_number(Image.frombytes("RGB", (w, h), raw.stdout[i:i + n]))
            for i in range(0, len(raw.stdout) - n + 1, n)]


def test_transcodes(sstack, tmp_path):
    s = sstack
    jobs = {
        "mp4": MOUNT + "/long.mp4?format=mp4&size=160x120",
        "webm": MOUNT + "/long.mp4?format=webm&size=160x120",
        "numbered": MOUNT + "/frames.mp4?format=mp4&size=160x120",
    }
    res = {}

    def run(name, path):
        try:
            res[name] = _fetch_timed(s, path)
        except (OSError, http.client.HTTPException) as e:
            res[name] = e
    threads = [threading.Thread(target=run, args=kv) for kv in jobs.items()]
    # the long ones one after the other would take longer than together;
    # the timing checks below only compare each answer with itself
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    for name in jobs:
        assert isinstance(res.get(name), tuple), "%s: %r%s" % (name, res.get(name), log_hint(s))
    problems = []
    for name, want_ct, codecs in (("mp4", "video/mp4", ("h264",)),
                                  ("webm", "video/webm", ("vp8", "vp9"))):
        st, hdrs, body, ttfb, total, arrivals = res[name]
        assert st == 200, (name, st, body[:300])
        assert hdrs.get("content-type") == want_ct, (name, hdrs)
        path = str(tmp_path / ("out." + name))
        with open(path, "wb") as f:
            f.write(body)
        info = _probe(path)
        v = [x for x in info["streams"] if x["codec_type"] == "video"]
        assert len(v) == 1 and v[0]["codec_name"] in codecs, (name, info["streams"])
        assert (v[0]["width"], v[0]["height"]) == (160, 120), (name, v[0])
        frames = int(v[0].get("nb_read_packets") or 0)
        want = LONG_SECONDS * SRC_FPS
        assert abs(frames - want) <= 0.02 * want, "%s: %d frames, source %d" % (name, frames, want)
        if name == "mp4":
            tops = [t for t, _, _ in videos.boxes(body)]
            assert tops[:2] == ["ftyp", "moov"] and tops.count("moof") >= 2, \
                "not a fragmented MP4: top-level boxes %s" % tops[:12]
        else:
            assert "webm" in info["format"]["format_name"], info["format"]
        # progressive: the first bytes long before the transcode ends, and
        # bytes keep coming while it runs
        half = [b for t, b in arrivals if t <= total / 2]
        print("%s %s: first byte %.2f s, total %.2f s, %d bytes, %d by half-time"
              % (s.front, name, ttfb, total, len(body), half[-1] if half else 0))
        if ttfb > 0.35 * total or not half or half[-1] < 0.2 * len(body):
            problems.append("%s: first byte at %.2f s of %.2f s; %d of %d bytes by half-time"
                            % (name, ttfb, total, half[-1] if half else 0, len(body)))
    # a numbered clip: every frame, in order, at the asked size
    st, hdrs, body, _, _, _ = res["numbered"]
    assert st == 200 and hdrs.get("content-type") == "video/mp4", (st, hdrs)
    path = str(tmp_path / "numbered.mp4")
    with open(path, "wb") as f:
        f.write(body)
    nums = _decoded_numbers(path, 160, 120)
    assert nums == list(range(NFRAMES)), "decoded frames %s" % nums
    assert not problems, "\n".join(problems) + log_hint(s)


# ------------------------------------------------------------------ stream slots

@pytest.mark.parametrize("front", webservers.FRONTS)
def test_stream_slots(front, smedia):
    extra = {"server": {"max_streams": 2, "status_path": STATUS}}
    s = webservers.Stack(front=front, media_root=smedia, mount=MOUNT, workers=2,
                         config_extra=extra)
    s.start()
    readers = []
    try:
        path = MOUNT + "/frames.mp4?format=mjpeg&size=320x240&loop=1"
        readers = [open_reader(s, path, seconds=30) for _ in range(2)]
        st = wait_until(lambda: status(s)["streams"]["active"] == 2, 5)
        assert st, "streams.active = %s with two streams open%s" % (
            status(s)["streams"], log_hint(s))

        # every slot taken: a third stream is refused at once
        r = s.get(path)
        assert r.status == 503, r
        assert r.content_type == "application/json", r
        assert r.json()["status"] == 503 and r.json()["error"], r
        ra = r.headers.get("Retry-After")
        assert ra and ra.isdigit() and int(ra) > 0, r.headers
        # ... while images and posters are answered (the pool still has
        # its workers: stream processes were replaced)
        got = []

        def short(p):
            got.append((p, s.get(p)))
        smalls = [MOUNT + "/photo.jpg?size=100x100", MOUNT + "/frames.mp4?t=1&size=160x120",
                  MOUNT + "/photo.jpg?size=200x100&fit=cover", MOUNT + "/frames.mp4?t=3"] * 2
        ts = [threading.Thread(target=short, args=(p,)) for p in smalls]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        assert len(got) == len(smalls)
        for p, resp in got:
            assert resp.status == 200 and resp.content_type == "image/jpeg", (p, resp)
        st = status(s)["streams"]
        assert st["active"] == 2 and st["max"] == 2 and st["refused"] >= 1, st

        # one viewer leaves: its slot comes back, a new stream is taken
        readers[0].stop()
        readers[0].join(5)
        ok = wait_until(lambda: status(s)["streams"]["active"] == 1, 10)
        assert ok, "streams.active stays %s after a stream's client left%s" % (
            status(s)["streams"], log_hint(s))
        readers.append(open_reader(s, path, seconds=30))
        got_part = wait_until(lambda: readers[-1].parts or readers[-1].status not in (None, 200), 8)
        assert readers[-1].status == 200 and got_part, (readers[-1].status, readers[-1].error)
        assert status(s)["streams"]["active"] == 2
        for rd in readers:
            rd.stop()
        assert wait_until(lambda: status(s)["streams"]["active"] == 0, 10), status(s)["streams"]
    finally:
        for rd in readers:
            rd.stop()
        _stop_stack(s)


# ------------------------------------------------------------------ live sources

def _need_peers():
    if not os.path.isfile(os.path.join(LIVE, "feed.py")):
        pytest.skip("the peers' live rig (%s/feed.py) is not here" % LIVE)


class Feed:
    """The peers' synthetic camera on a loopback port (live/feed.py)."""

    def __init__(self, port=None, tmp=None):
        _need_peers()
        self.port = port or webservers.free_port()
        self.dir = tmp or tempfile.mkdtemp(prefix="mediafcgi-feed-")
        self.clock_file = os.path.join(self.dir, "clock-%d.json" % self.port)
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/feed.mjpg" % self.port

    def start(self):
        src = os.path.join(PEERS, "fixtures", "medium.jpg")
        argv = ["/usr/bin/python3", os.path.join(LIVE, "feed.py"), "--port", str(self.port),
                "--clock", self.clock_file]
        if os.path.isfile(src):
            argv += ["--source", src]
        end = time.monotonic() + 10
        while True:
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if wait_until(lambda: self.proc.poll() is not None or self._up(), 5) and \
                    self.proc.poll() is None:
                return self
            err = ""
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode("utf-8", "replace")
            self.stop()
            if time.monotonic() > end:     # e.g. the port still held
                raise RuntimeError("feed.py did not start on %d: %s" % (self.port, err[-800:]))
            time.sleep(0.3)

    def _up(self):
        try:
            self.now()
            return True
        except OSError:
            return False

    def now(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/now" % self.port, timeout=2) as r:
            return json.load(r)

    def clock(self):
        c = self.now()
        return float(c["t0_monotonic"]), float(c["fps"])

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()


@pytest.fixture(scope="module")
def feed():
    f = Feed().start()
    yield f
    f.stop()
    shutil.rmtree(f.dir, ignore_errors=True)


def _viewer_module():
    _need_peers()
    if LIVE not in sys.path:
        sys.path.insert(0, LIVE)
    import viewer  # noqa: E402 - the peers' measuring client
    return viewer


def timed_viewers(url, n, slow, clock, rate=50000, rcvbuf=16384, mss=1448):
    """n viewers of url (the peers' viewer.Viewer: HTTP/1.1, multipart
    parsing; slow ones read `rate` B/s through SO_RCVBUF rcvbuf), each
    recording (arrival, frame number, latency ms) per frame from the stamp
    in its pixels against the feed's clock."""
    viewer = _viewer_module()
    import barcode  # noqa: E402 - beside viewer.py

    class TimedViewer(viewer.Viewer):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.samples = []

        def frame(self, jpeg, headers, how):
            now = time.monotonic()
            self.frames_total += 1
            try:
                im = Image.open(io.BytesIO(jpeg))
                if self.first is None:
                    self.first = im.size
                im.draft("L", (160, 90))
                stamp = barcode.read(im)
            except Exception:  # noqa: BLE001 - counted as unreadable
                stamp = None
            if stamp is None:
                self.unreadable += 1
                return
            n, ms16 = stamp
            nominal = n * 1000.0 / self.fps
            d = (ms16 - int(nominal)) % 65536
            if d >= 32768:
                d -= 65536
            sent = self.t0 + (int(nominal) + d) / 1000.0
            self.samples.append((now, n, (now - sent) * 1000.0))

    stop = threading.Event()
    slow_idx = {i for i in range(n) if slow and (i * slow) // n != ((i + 1) * slow) // n}
    vs = [TimedViewer(i, url, rate if i in slow_idx else 0, clock, (0, float("inf")), stop,
                      mss=mss, rcvbuf=rcvbuf if i in slow_idx else 0) for i in range(n)]
    for v in vs:
        v.start()
    return vs, stop


def stop_viewers(vs, stop):
    stop.set()
    for v in vs:
        try:
            if v.sock:
                v.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    for v in vs:
        v.join(5)


def readers_of(s):
    """PIDs of the master's children named mediafcgi-live (reader processes)."""
    out = []
    for c in procs.children(s.mediafcgi_pid()):
        try:
            with open("/proc/%d/comm" % c) as f:
                if f.read().strip() == "mediafcgi-live":
                    out.append(c)
        except OSError:
            pass
    return out


def source(s, name="cam1"):
    for src in status(s)["sources"]:
        if src["name"] == name:
            return src
    raise AssertionError("no source %s in %s" % (name, status(s)["sources"]))


def live_stack(front, feed_url, extra_server=None, sources=None, **kw):
    srv = {"max_streams": 32, "status_path": STATUS}
    srv.update(extra_server or {})
    cfg = {"server": srv}
    for name, opts in (sources or {"cam1": {}}).items():
        sec = {"input": feed_url, "size": "640x360", "quality": 80, "idle_timeout": 30}
        sec.update(opts)
        cfg["source " + name] = sec
    empty = tempfile.mkdtemp(prefix="mediafcgi-live-media-")
    os.chmod(empty, 0o755)
    s = webservers.Stack(front=front, media_root=empty, mount=MOUNT, workers=2,
                         config_extra=cfg, **kw)
    s.empty_root = empty
    s.start()
    return s


def stop_live_stack(s):
    try:
        _stop_stack(s)
    finally:
        shutil.rmtree(s.empty_root, ignore_errors=True)


def snapshot_check(s, feed):
    r = s.get("/live/cam1?snapshot")
    got = time.monotonic()
    assert r.status == 200 and r.content_type == "image/jpeg", r
    im = Image.open(io.BytesIO(r.body))
    assert im.size == (640, 360), im.size
    _viewer_module()
    import barcode  # noqa: E402 - beside viewer.py
    stamp = barcode.read(im)
    assert stamp is not None, "the snapshot's frame stamp does not read"
    t0, fps = feed.clock()
    n, ms16 = stamp
    nominal = n * 1000.0 / fps
    d = (ms16 - int(nominal)) % 65536
    d = d - 65536 if d >= 32768 else d
    age = got - (t0 + (int(nominal) + d) / 1000.0)
    # the newest frame the reader has: at most a few frame periods old
    assert -0.05 < age < 0.5, "snapshot frame %d is %.0f ms old" % (n, age * 1000)
    return n


def frames_vs_feed(s, feed, seconds):
    """(reader's frames, feed's frames made) over the same `seconds`."""
    a_src, a_feed = source(s)["frames"], feed.now()["made"]
    time.sleep(seconds)
    b_src, b_feed = source(s)["frames"], feed.now()["made"]
    return b_src - a_src, b_feed - a_feed


def grew(g, by):
    """Whether the latency p95 of the group, or of any one viewer in it,
    grew by more than `by` ms from the first third of the window to the
    last (or could not be measured)."""
    return g["p95_first"] is None or g["p95_last"] is None or \
        g["p95_last"] > g["p95_first"] + by or g["growth_max"] is None or g["growth_max"] > by


def summarize(vs, t_from, t_to):
    """Per kind (fast/slow): fps per viewer, and the p95 latency of the
    first and last third of [t_from, t_to] (ms)."""
    third = (t_to - t_from) / 3
    out = {}
    for kind, group in (("fast", [v for v in vs if not v.rate]),
                        ("slow", [v for v in vs if v.rate])):
        if not group:
            continue
        fps = [sum(1 for t, _, _ in v.samples if t_from <= t < t_to) / (t_to - t_from)
               for v in group]
        lat = lambda a, b, vs=group: [x for v in vs for t, _, x in v.samples  # noqa: E731
                                      if a <= t < b]
        growth = []
        for v in group:
            first = pct(lat(t_from, t_from + third, [v]), 95)
            last = pct(lat(t_to - third, t_to, [v]), 95)
            growth.append(None if first is None or last is None else last - first)
        out[kind] = {
            "fps_min": min(fps), "fps_mean": sum(fps) / len(fps),
            "p95": pct(lat(t_from, t_to), 95), "max": max(lat(t_from, t_to) or [0]),
            "p95_first": pct(lat(t_from, t_from + third), 95),
            "p95_last": pct(lat(t_to - third, t_to), 95),
            "growth_max": None if None in growth else max(growth),
            "errors": ["viewer %d: %s" % (v.idx, v.error) for v in group if v.error],
            "unreadable": sum(v.unreadable for v in group),
        }
    return out


def fmt(summary):
    return "; ".join("%s: fps min %.1f mean %.1f, latency p95 %.0f ms (first third %s, last "
                     "third %s; one viewer's p95 grew by %s at most), max %.0f ms, errors %s"
                     % (k, g["fps_min"], g["fps_mean"], g["p95"] or -1,
                        "%.0f" % g["p95_first"] if g["p95_first"] is not None else "-",
                        "%.0f" % g["p95_last"] if g["p95_last"] is not None else "-",
                        "%.0f" % g["growth_max"] if g["growth_max"] is not None else "-",
                        g["max"], g["errors"][:3])
                     for k, g in summary.items())


# Slow viewers: 50 kB/s through a 16 KiB SO_RCVBUF, MSS 1448 (the peers'
# bench-live.sh settings). Every buffer between the newest frame and such a
# viewer holds old frames: the frame in the stream process's socket to nginx
# (sent only once nginx has read the last one), nginx's fastcgi buffer, nginx's socket
# to the viewer, and the viewer's own receive window. With nginx's default
# listener the send buffer to the viewer grows to ~1 MB (autotuning; README
# "Streams"), so latency grows for as long as the run lasts (measured here:
# ~10 s behind after 12 s, and 3.6 s with sndbuf=64k). Behind the documented
# stream listener (`listen ... sndbuf=8k`, `fastcgi_buffer_size 4k`; README
# "Live sources") what is queued is about: 2 x 8 KiB (the kernel doubles
# SO_SNDBUF) + 4 KiB + 4 KiB + the viewer's 2 x 16 KiB window + the frame
# being written (~20 KB): ~75 KB, 1.5 s at 50 kB/s (measured: p95 ~1.4 s,
# the reference feed's own ~1.35 s). Asserted: p95 <= 3 s (twice that), and
# no growth: the last third's p95 within 1 s of the first third's.
STREAM_LISTENER = {"listen_sndbuf": "8k", "fastcgi_buffer_size": "4k"}
SLOW_P95_MAX_MS = 3000
SLOW_GROWTH_MS = 1000
FAST_P95_MAX_MS = 1000
FAST_GROWTH_MS = 250


def test_live_nginx(feed):
    """Snapshot, one reader for any number of viewers, 20 viewers (5 slow)
    for ~12 s behind nginx with the documented stream listener."""
    s = live_stack("nginx", feed.url, **STREAM_LISTENER)
    vs, stop = [], threading.Event()
    try:
        # the snapshot starts the reader: the newest frame, stamped recently
        snapshot_check(s, feed)
        assert wait_until(lambda: source(s)["reader"] > 0, 3), status(s)["sources"]
        reader = source(s)["reader"]
        assert readers_of(s) == [reader], (readers_of(s), reader)

        # one viewer: the reader takes every frame the feed makes
        vs, stop = timed_viewers(s.url("/live/cam1"), 1, 0, feed.clock())
        assert wait_until(lambda: vs[0].samples, 5), vs[0].error
        got1, made1 = frames_vs_feed(s, feed, 2.0)
        stop_viewers(vs, stop)
        assert abs(got1 - made1) <= 2, "1 viewer: the reader got %d frames while the feed " \
            "made %d" % (got1, made1)

        # 20 viewers, 5 slow
        warm, window = 3.5, 9.0
        vs, stop = timed_viewers(s.url("/live/cam1"), 20, 5, feed.clock())
        time.sleep(warm)
        t_from = time.monotonic()
        a_src, a_feed = source(s)["frames"], feed.now()["made"]
        time.sleep(window / 2)
        mid = status(s)
        time.sleep(t_from + window - time.monotonic())
        b_src, b_feed = source(s)["frames"], feed.now()["made"]
        t_to = time.monotonic()
        readers_mid = readers_of(s)
        stop_viewers(vs, stop)
        summ = summarize(vs, t_from, t_to)
        feed_fps = (b_feed - a_feed) / (t_to - t_from)
        report = "feed %.1f fps; %s" % (feed_fps, fmt(summ))
        problems = []
        errs = summ["fast"]["errors"] + summ["slow"]["errors"]
        if errs:
            problems.append("viewer errors: %s" % errs)
        src = [x for x in mid["sources"] if x["name"] == "cam1"][0]
        if src["viewers"] != 20 or src["reader"] != reader or readers_mid != [reader]:
            problems.append("mid-run: status says %d viewers, reader %s (was %s); reader "
                            "processes %s" % (src["viewers"], src["reader"], reader, readers_mid))
        if abs((b_src - a_src) - (b_feed - a_feed)) > 2:
            problems.append("20 viewers: the reader got %d frames while the feed made %d"
                            % (b_src - a_src, b_feed - a_feed))
        f, sl = summ["fast"], summ["slow"]
        if f["fps_min"] < 0.9 * feed_fps:
            problems.append("fast viewers: %.1f fps (slowest), feed %.1f"
                            % (f["fps_min"], feed_fps))
        if f["p95"] is None or f["p95"] > FAST_P95_MAX_MS or grew(f, FAST_GROWTH_MS):
            problems.append("fast viewers' latency not bounded")
        if sl["fps_min"] <= 0.5:
            problems.append("slow viewers: %.2f fps (slowest)" % sl["fps_min"])
        if sl["p95"] is None or sl["p95"] > SLOW_P95_MAX_MS or grew(sl, SLOW_GROWTH_MS):
            problems.append("slow viewers' latency not bounded (p95 <= %d ms, growth <= %d ms)"
                            % (SLOW_P95_MAX_MS, SLOW_GROWTH_MS))
        assert not problems, "\n".join(problems) + "\n" + report + log_hint(s)
        print("live behind nginx (%s): %s" % (STREAM_LISTENER, report))
    finally:
        stop_viewers(vs, stop)
        stop_live_stack(s)


def test_live_lighttpd(feed):
    """Behind lighttpd: the snapshot, and fast viewers at the feed's rate and
    near live. (Slow viewers are not held live by anything in lighttpd's
    own config -- no per-listener send buffer; README's answer there is the
    host-wide net.ipv4.tcp_notsent_lowat, which the tests leave alone -- so
    for them only that they keep receiving is checked.)"""
    s = live_stack("lighttpd", feed.url)
    vs, stop = [], threading.Event()
    try:
        snapshot_check(s, feed)
        vs, stop = timed_viewers(s.url("/live/cam1"), 6, 2, feed.clock())
        time.sleep(2.0)
        t_from = time.monotonic()
        a_src, a_feed = source(s)["frames"], feed.now()["made"]
        time.sleep(4.5)
        b_src, b_feed = source(s)["frames"], feed.now()["made"]
        t_to = time.monotonic()
        assert readers_of(s) == [source(s)["reader"]]
        stop_viewers(vs, stop)
        summ = summarize(vs, t_from, t_to)
        feed_fps = (b_feed - a_feed) / (t_to - t_from)
        report = "feed %.1f fps; %s" % (feed_fps, fmt(summ))
        f, sl = summ["fast"], summ["slow"]
        assert not f["errors"] and not sl["errors"], report + log_hint(s)
        assert abs((b_src - a_src) - (b_feed - a_feed)) <= 2, report
        assert f["fps_min"] >= 0.9 * feed_fps, report
        assert f["p95"] is not None and f["p95"] <= FAST_P95_MAX_MS, report
        assert not grew(f, FAST_GROWTH_MS), report
        assert sl["fps_min"] > 0.5, report
        print("live behind lighttpd: " + report)
    finally:
        stop_viewers(vs, stop)
        stop_live_stack(s)


def test_live_source_restart(tmp_path):
    """The feed dies: viewers keep their connection; it comes back on the
    same port: the reader reconnects (back-off) and viewers get new frames."""
    f = Feed(tmp=str(tmp_path)).start()
    s = None
    vs, stop = [], threading.Event()
    try:
        s = live_stack("nginx", f.url)
        vs, stop = timed_viewers(s.url("/live/cam1"), 3, 0, f.clock())
        assert wait_until(lambda: all(v.samples for v in vs), 6), [v.error for v in vs]
        f.stop(signal.SIGKILL)
        t_kill = time.monotonic()
        time.sleep(2.5)
        # connected all along: no viewer saw the end of its stream
        dead = [(v.idx, v.error) for v in vs if not v.is_alive() or v.error]
        assert not dead, "viewers lost their stream while the source was down: %s%s" % (
            dead, log_hint(s))
        f.start()                                  # same port, a new clock
        t_back = time.monotonic()
        t0_new, _ = f.clock()

        def resumed():
            return all(any(t > t_back and n <= (t - t0_new) * FEED_FPS + 5
                           for t, n, _ in v.samples[-5:]) for v in vs)
        ok = wait_until(resumed, 8)
        waited = time.monotonic() - t_back
        last = [v.samples[-1][:2] if v.samples else None for v in vs]
        assert ok, "no new frames %.1f s after the source came back (down %.1f s); last " \
            "frames (arrival, number) %s%s" % (waited, t_back - t_kill, last, log_hint(s))
        assert not [v.error for v in vs if v.error]
        src = source(s)
        assert src["reconnects"] >= 1, src
        assert readers_of(s) == [src["reader"]], (readers_of(s), src)
        print("source restart: new frames %.2f s after the feed came back, reconnects %d"
              % (waited, src["reconnects"]))
    finally:
        stop_viewers(vs, stop)
        if s is not None:
            stop_live_stack(s)
        f.stop()


def test_live_idle_stop_and_always_on(feed):
    s = live_stack("nginx", feed.url, sources={
        "cam1": {"idle_timeout": 1},
        "cam2": {"always_on": "yes"},
    })
    vs, stop = [], threading.Event()
    try:
        # always_on: read from start-up, no viewer needed
        assert wait_until(lambda: source(s, "cam2")["reader"] > 0, 3), status(s)["sources"]
        assert wait_until(lambda: source(s, "cam2")["frames"] > 10, 5), status(s)["sources"]
        assert source(s, "cam1")["reader"] == 0, status(s)["sources"]
        assert len(readers_of(s)) == 1

        vs, stop = timed_viewers(s.url("/live/cam1"), 1, 0, feed.clock())
        assert wait_until(lambda: vs[0].samples, 5), vs[0].error
        pid = source(s, "cam1")["reader"]
        assert pid > 0 and sorted(readers_of(s)) == sorted([pid, source(s, "cam2")["reader"]])
        time.sleep(1.5)                        # past idle_timeout, with a viewer: stays
        assert source(s, "cam1")["reader"] == pid
        stop_viewers(vs, stop)
        t_left = time.monotonic()
        gone = wait_until(lambda: source(s, "cam1")["reader"] == 0 and
                          not os.path.exists("/proc/%d" % pid), 5)
        assert gone, "cam1's reader %d still there %.1f s after its last viewer left " \
            "(idle_timeout 1): %s" % (pid, time.monotonic() - t_left, status(s)["sources"])
        print("idle stop: reader gone %.2f s after the last viewer left"
              % (time.monotonic() - t_left))
        assert source(s, "cam2")["reader"] > 0
        assert readers_of(s) == [source(s, "cam2")["reader"]]
    finally:
        stop_viewers(vs, stop)
        stop_live_stack(s)


def test_live_sigterm_ends_streams(feed):
    s = live_stack("nginx", feed.url)
    vs, stop = [], threading.Event()
    try:
        vs, stop = timed_viewers(s.url("/live/cam1"), 3, 0, feed.clock())
        assert wait_until(lambda: all(v.samples for v in vs), 6), [v.error for v in vs]
        master = s.procs["mediafcgi"]
        t = time.monotonic()
        master.send_signal(signal.SIGTERM)
        # each stream ends at its next frame: the closing boundary, no error
        ended = wait_until(lambda: not any(v.is_alive() for v in vs), 3)
        t_end = time.monotonic() - t
        assert ended, "viewers still streaming %.1f s after SIGTERM" % t_end
        assert not [v.error for v in vs if v.error], [v.error for v in vs]
        try:
            rc = master.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        assert rc == 0, "master after SIGTERM: exit %s after %.1f s%s" % (
            rc, time.monotonic() - t, log_hint(s))
        print("SIGTERM: streams ended within %.2f s, master exited 0 after %.2f s"
              % (t_end, time.monotonic() - t))
    finally:
        stop_viewers(vs, stop)
        stop_live_stack(s)
