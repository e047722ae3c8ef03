"""
Live sources' inputs (README "Live sources"): a lavfi graph through
libavdevice (`format = lavfi`), demuxer options that change what viewers
see (`options = video_size=... pixel_format=...` on a rawvideo file, the
lavfi device's `graph`), feeds pushed by the ffmpeg command line into a
listening `tcp://...?listen=1` input, one after the other, and the config
refusing an unknown format, bad options and a bad max_viewers at load with
FILE:LINE.

Everything runs behind nginx on loopback; viewers are a small MJPEG
reader of this file (raw socket, chunked or not, strict multipart). Each
server, viewer and pusher started here is stopped at the end of its test.
"""

import io
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from PIL import Image, ImageChops, ImageStat

from support import webservers
from support.imaging import colour_close, mean_colour
from support.waiting import wait_until

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"


# ------------------------------------------------------------------ helpers

class Viewer(threading.Thread):
    """GET of a live source in its own thread: each multipart part's JPEG
    with its arrival time, until the response ends, `seconds` pass or
    stop(). The body is de-chunked when chunked; the multipart parse is
    strict (delimiter lines, part headers, Content-Length bytes)."""

    def __init__(self, stack, path, seconds):
        super().__init__(daemon=True)
        self.host, self.port, self.path = stack.host, stack.port, path
        self.deadline = time.monotonic() + seconds
        self.halt = threading.Event()
        self.status = None
        self.parts = []           # (arrival, jpeg bytes)
        self.closed = False       # the closing delimiter came
        self.error = None
        self.sock = None
        self.raw = bytearray()    # from the socket
        self.buf = bytearray()    # the body, de-chunked
        self.chunked = False
        self.start()

    def stop(self):
        self.halt.set()
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.join(5)

    def _recv(self):
        while not self.halt.is_set() and time.monotonic() < self.deadline:
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not d:
                raise EOFError
            self.raw += d
            return
        raise EOFError

    def _raw_line(self):
        while b"\r\n" not in self.raw:
            self._recv()
        i = self.raw.index(b"\r\n")
        ln = bytes(self.raw[:i])
        del self.raw[:i + 2]
        return ln

    def _more(self):
        """More body bytes into buf."""
        if not self.chunked:
            if not self.raw:
                self._recv()
            self.buf += self.raw
            del self.raw[:]
            return
        size = int(self._raw_line().split(b";")[0] or b"0", 16)
        if size == 0:
            raise EOFError
        while len(self.raw) < size + 2:
            self._recv()
        self.buf += self.raw[:size]
        del self.raw[:size + 2]

    def _line(self):
        while b"\r\n" not in self.buf:
            self._more()
        i = self.buf.index(b"\r\n")
        ln = bytes(self.buf[:i])
        del self.buf[:i + 2]
        return ln

    def _take(self, n):
        while len(self.buf) < n:
            self._more()
        d = bytes(self.buf[:n])
        del self.buf[:n]
        return d

    def run(self):
        try:
            self._run()
        except EOFError:
            pass
        except Exception as e:  # noqa: BLE001 - reported by the test
            if not self.halt.is_set():
                self.error = "%s: %s" % (type(e).__name__, e)
        finally:
            if self.sock is not None:
                self.sock.close()

    def _run(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=5)
        self.sock.settimeout(0.2)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                           % (self.path, self.host)).encode())
        self.status = int(self._raw_line().split()[1])
        headers = {}
        while True:
            ln = self._raw_line().decode("latin-1")
            if not ln:
                break
            k, _, v = ln.partition(":")
            headers[k.strip().lower()] = v.strip()
        boundary = headers.get("content-type", "").partition("boundary=")[2].strip('"')
        if self.status != 200 or not boundary:
            return
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        delim = ("--" + boundary).encode()
        while True:
            ln = self._line()
            if not ln:
                continue
            if ln == delim + b"--":
                self.closed = True
                return
            if ln != delim:
                raise ValueError("expected %r, got %r" % (delim, ln[:60]))
            ph = {}
            while True:
                h = self._line().decode("latin-1")
                if not h:
                    break
                k, _, v = h.partition(":")
                ph[k.strip().lower()] = v.strip()
            jpeg = self._take(int(ph["content-length"]))
            self.parts.append((time.monotonic(), jpeg))


def jpeg_image(jpeg):
    im = Image.open(io.BytesIO(jpeg))
    im.load()
    assert im.format == "JPEG", im.format
    return im


def live_stack(sources, extra_server=None):
    srv = {"max_streams": 16}
    srv.update(extra_server or {})
    cfg = {"server": srv}
    for name, sec in sources.items():
        cfg["source " + name] = dict({"idle_timeout": 30}, **sec)
    empty = tempfile.mkdtemp(prefix="mediafcgi-inputs-media-")
    os.chmod(empty, 0o755)
    s = webservers.Stack(front="nginx", media_root=empty, mount="/media", workers=2,
                         config_extra=cfg)
    s.empty_root = empty
    s.start()
    return s


def stop_stack(s):
    try:
        left = s.stop()
        assert not left, "processes left behind after SIGTERM: %s" % left
    finally:
        shutil.rmtree(s.empty_root, ignore_errors=True)


def log_tail(s):
    try:
        with open(s.path("mediafcgi.log"), "rb") as f:
            return "\nmediafcgi log:\n" + f.read()[-3000:].decode("utf-8", "replace")
    except (OSError, TypeError):
        return ""


def run_mediafcgi(*args):
    return subprocess.run([webservers.mediafcgi_bin(), *args], capture_output=True,
                          text=True, timeout=20, stdin=subprocess.DEVNULL)


def need_ffmpeg():
    if not os.access(FFMPEG, os.X_OK):
        pytest.skip("no ffmpeg command line tool")


# ------------------------------------------------------------------ lavfi

def test_lavfi_source_through_libavdevice():
    """format = lavfi: testsrc2 at 320x240, 15 fps. Viewers get JPEG frames
    of that size that move, at about the graph's rate (a generator is
    paced, not read flat out); a snapshot is the same size; a `size` box
    scales it."""
    s = live_stack({
        "gen": {"format": "lavfi", "input": "testsrc2=size=320x240:rate=15"},
        "small": {"format": "lavfi", "input": "testsrc2=size=320x240:rate=15",
                  "size": "160x160"},
    })
    v = w = None
    try:
        v = Viewer(s, "/live/gen", 15)
        w = Viewer(s, "/live/small", 15)
        assert wait_until(lambda: len(v.parts) >= 40, 10), \
            "%d frames, status %s, error %s%s" % (len(v.parts), v.status, v.error, log_tail(s))
        assert wait_until(lambda: len(w.parts) >= 3, 5), (w.status, w.error)
        parts = list(v.parts)
        ims = [jpeg_image(j) for _, j in parts]
        assert all(im.size == (320, 240) for im in ims), {im.size for im in ims}
        assert jpeg_image(w.parts[-1][1]).size == (160, 120)
        # testsrc2 moves: the first and the last frame differ
        diff = ImageChops.difference(ims[0].convert("RGB"), ims[-1].convert("RGB"))
        assert max(ImageStat.Stat(diff).mean) > 1.0, "the frames do not change"
        assert len({j for _, j in parts}) > len(parts) // 2
        # paced at 15 fps (the first frames may come in a burst)
        span = parts[-1][0] - parts[10][0]
        rate = (len(parts) - 11) / span
        assert 10 <= rate <= 20, "%.1f frames/s from a 15 fps graph" % rate
        r = s.get("/live/gen?snapshot")
        assert r.status == 200 and r.content_type == "image/jpeg", r
        assert jpeg_image(r.body).size == (320, 240)
    finally:
        for x in (v, w):
            if x is not None:
                x.stop()
        stop_stack(s)


# ------------------------------------------------------------------ options

def _raw_rgb_frames(path, w, h, colours):
    with open(path, "wb") as f:
        for c in colours:
            f.write(bytes(c) * (w * h))


def test_options_reach_the_demuxer(tmp_path):
    """options = the demuxer's AVOptions: a rawvideo file (no header, so
    its size, pixel format and rate exist only in the options) plays as
    80x60 frames of its three colours at 5 fps; the lavfi device's `graph`
    option replaces the input. Without the options the rawvideo source
    gets no frames."""
    raw = str(tmp_path / "three.rgb")
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    _raw_rgb_frames(raw, 80, 60, colours)
    os.chmod(str(tmp_path), 0o755)
    s = live_stack({
        "raw": {"format": "rawvideo", "input": raw,
                "options": "video_size=80x60 pixel_format=rgb24 framerate=5"},
        "bare": {"format": "rawvideo", "input": raw},
        "graph": {"format": "lavfi", "input": "-",
                  "options": 'graph="testsrc2=size=256x128:rate=10"'},
    })
    vs = []
    try:
        v = Viewer(s, "/live/raw", 10)
        g = Viewer(s, "/live/graph", 10)
        b = Viewer(s, "/live/bare", 3)
        vs = [v, g, b]
        assert wait_until(lambda: len(v.parts) >= 7, 8), \
            "%d frames, error %s%s" % (len(v.parts), v.error, log_tail(s))
        ims = [jpeg_image(j) for _, j in v.parts]
        assert all(im.size == (80, 60) for im in ims), {im.size for im in ims}
        seen = [[colour_close(mean_colour(im.convert("RGB")), c) for c in colours].index(True)
                for im in ims]
        # the file's frames in order, looped: red, green, blue, red, ...
        assert all((b_ - a) % 3 == 1 for a, b_ in zip(seen, seen[1:])), seen
        span = v.parts[-1][0] - v.parts[1][0]
        assert 3.5 <= (len(v.parts) - 2) / span <= 7, "framerate=5: %.1f frames/s" % (
            (len(v.parts) - 2) / span)
        assert wait_until(lambda: len(g.parts) >= 2, 5), (g.status, g.error, log_tail(s))
        assert jpeg_image(g.parts[-1][1]).size == (256, 128)
        b.join(5)
        assert not b.parts, "a rawvideo source without video_size gave frames"
        with open(s.path("mediafcgi.log")) as f:
            log = f.read()
        assert "source bare" in log, log[-2000:]
    finally:
        for x in vs:
            x.stop()
        stop_stack(s)


# ------------------------------------------------------------------ pushed feeds

class Pusher(threading.Thread):
    """`ffmpeg -re ... -f mjpeg tcp://127.0.0.1:PORT` of a lavfi graph,
    tried again while the input does not listen yet (connection refused)."""

    def __init__(self, port, graph, seconds, tries_for=15.0):
        super().__init__(daemon=True)
        self.argv = [FFMPEG, "-nostdin", "-loglevel", "error", "-re",
                     "-f", "lavfi", "-i", graph, "-t", str(seconds),
                     "-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p",
                     "-f", "mjpeg", "tcp://127.0.0.1:%d" % port]
        self.until = time.monotonic() + tries_for
        self.tries = 0
        self.rc = None
        self.err = ""
        self.proc = None
        self.halt = threading.Event()
        self.start()

    def run(self):
        while not self.halt.is_set() and time.monotonic() < self.until:
            self.tries += 1
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, err = self.proc.communicate()
            self.rc, self.err = self.proc.returncode, err.decode("utf-8", "replace")
            if self.rc == 0 or "refused" not in self.err.lower():
                return
            time.sleep(0.2)

    def stop(self):
        self.halt.set()
        p = self.proc
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.join(10)


def test_pushed_tcp_feed_then_the_next_one():
    """input = tcp://127.0.0.1:PORT?listen=1: the reader listens (longer
    than its 5 s read timeout, without dropping the pusher) until ffmpeg
    pushes raw MJPEG into it; a viewer sees the push's frames, passed
    through as they came (no size: the input's). When the push ends the
    source listens again and a second push, of another size, reaches the
    same viewer."""
    need_ffmpeg()
    port = webservers.free_port()
    s = live_stack({"push": {"format": "mjpeg",
                             "input": "tcp://127.0.0.1:%d?listen=1" % port}},
                   extra_server={"stream_timeout": 60})
    v = p1 = p2 = None
    try:
        v = Viewer(s, "/live/push", 40)
        # past the 5 s read timeout with nobody pushing: still listening
        time.sleep(6)
        p1 = Pusher(port, "testsrc2=size=256x144:rate=25", 3)
        got_first = wait_until(lambda: any(jpeg_image(j).size == (256, 144)
                                           for _, j in v.parts[-3:]), 15)
        assert got_first, "no frame of the first push: %d parts, viewer %s/%s, pusher " \
            "rc %s after %d tries: %s%s" % (len(v.parts), v.status, v.error, p1.rc,
                                              p1.tries, p1.err, log_tail(s))
        assert p1.tries == 1, "the listening input refused the first pusher %d times: %s" % (
            p1.tries - 1, p1.err)
        p1.join(15)
        assert p1.rc == 0, "first push: %s%s" % (p1.err, log_tail(s))
        n_first = len(v.parts)
        assert n_first >= 40, "%d frames of a 3 s push at 25 fps" % n_first
        p2 = Pusher(port, "testsrc2=size=192x108:rate=25", 2)
        got_second = wait_until(lambda: any(jpeg_image(j).size == (192, 108)
                                            for _, j in v.parts[n_first:]), 15)
        assert got_second, "no frame of the second push: viewer %s, pusher rc %s after " \
            "%d tries: %s%s" % (v.error, p2.rc, p2.tries, p2.err, log_tail(s))
        p2.join(15)
        assert p2.rc == 0, "second push: %s" % p2.err
        assert v.is_alive() and not v.error, "the viewer lost its stream: %s" % v.error
        sizes = [jpeg_image(j).size for _, j in v.parts]
        assert set(sizes) == {(256, 144), (192, 108)}, set(sizes)
        assert sizes.count((192, 108)) >= 25, sizes.count((192, 108))
    finally:
        for x in (p1, p2, v):
            if x is not None:
                x.stop()
        stop_stack(s)


# ------------------------------------------------------------------ config

CONF = "[server]\nallow_root = yes\n[media]\nroot = ROOT\n[source cam]\ninput = INPUT\n"


def _check(tmp_path, extra, input_="testsrc2"):
    conf = tmp_path / "live.conf"
    conf.write_text(CONF.replace("ROOT", str(tmp_path)).replace("INPUT", input_) + extra)
    return conf, run_mediafcgi("--config", str(conf), "--test-config")


def test_config_accepts_format_and_options(tmp_path):
    conf, r = _check(tmp_path, "format = lavfi\noptions = graph=\"testsrc2=size=64x48\"\n")
    assert r.returncode == 0 and "config ok" in r.stdout, r
    conf, r = _check(tmp_path, "format = v4l2\n"
                     "options = input_format=mjpeg video_size=1280x720 framerate=30\n",
                     input_="/dev/video0")
    assert r.returncode == 0, r
    conf, r = _check(tmp_path, "format = mjpeg\noptions = listen=1 rw_timeout=10000000\n",
                     input_="tcp://127.0.0.1:9000")
    assert r.returncode == 0, r
    conf, r = _check(tmp_path, "[server]\nmax_viewers = 5000\n")
    assert r.returncode == 0, r


@pytest.mark.parametrize("extra,reason", [
    ("format = nosuchformat\n", "format: libav has no demuxer or device named 'nosuchformat'"),
    ("options = framerate\n", "options: expected key=value, got 'framerate'"),
    ("options = framerate=\n", "options: framerate: empty value"),
    ("options = video_size=1x1 video_size=2x2\n", "options: video_size given twice"),
    ('options = user_agent="open\n', "the quote is not closed"),
    ("options = framerat=30\n", "framerat: no libav demuxer, device or protocol has this option"),
    ("[server]\nmax_viewers = 0\n", "max_viewers: expected a whole number from 1 to 1000000"),
    ("[server]\nmax_viewers = 1000001\n", "max_viewers"),
])
def test_config_refuses_bad_format_and_options(tmp_path, extra, reason):
    conf, r = _check(tmp_path, extra)
    assert r.returncode == 1, r
    assert "%s:7: " % conf in r.stderr or "%s:8: " % conf in r.stderr, r.stderr
    assert reason in r.stderr, r.stderr


def test_start_refuses_an_unknown_format(tmp_path):
    """Not only --test-config: the server itself does not start."""
    conf = tmp_path / "live.conf"
    conf.write_text(CONF.replace("ROOT", str(tmp_path)).replace("INPUT", "x")
                    + "format = nosuchformat\n")
    r = run_mediafcgi("--config", str(conf), "--foreground",
                      "--listen", "unix:%s" % (tmp_path / "s.sock"))
    assert r.returncode != 0, r
    assert "%s:7: " % conf in r.stderr and "nosuchformat" in r.stderr, r.stderr
