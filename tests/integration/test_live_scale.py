"""
Live sources at scale (README "Live sources"): a viewer holds no worker and
no stream slot (the worker hands the connection to the fan-out process),
max_viewers bounds them, a reload re-reads sources by name under their
viewers, and the fan-out's failures and hostile viewers cost nothing
lasting.

Sources here are small coloured videos (red, blue, green; 160x120, 10 fps)
played in a loop, so which source a frame came from is read from its
pixels. Viewers are raw HTTP/1.0 sockets read by one thread (Crowd), each
parsed strictly enough to count whole JPEG parts and see the closing
boundary.
"""

import io
import os
import selectors
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from PIL import Image

from support import webservers
from support.waiting import wait_until

STATUS = "/status"
BOUNDARY = b"--mediafcgi-frame"
COLOURS = {"red": (255, 0, 0), "blue": (0, 0, 255), "green": (0, 200, 0)}


def colour_of(jpeg):
    im = Image.open(io.BytesIO(jpeg)).convert("RGB").resize((8, 8))
    px = list(im.getdata())
    mean = tuple(sum(p[k] for p in px) / len(px) for k in range(3))
    best = min(COLOURS, key=lambda c: sum((a - b) ** 2 for a, b in zip(COLOURS[c], mean)))
    return best


class View:
    """One viewer: GET over HTTP/1.0 (no chunking: the body is the
    multipart stream as mediafcgi wrote it), parsed part by part."""

    def __init__(self, port, path, decode=False, read=True):
        self.path = path
        self.decode = decode
        self.read = read              # False: never reads (a stalled client)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if not read:
            # a small window: the web server's buffers for it fill soon
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % path).encode())
        self.sock.setblocking(False)
        self.buf = b""
        self.status = None
        self.headers = {}
        self.body = b""               # an error's body
        self.frames = 0
        self.times = []               # arrival of each part
        self.colours = []             # (arrival, colour) when decode
        self.closed = False           # the closing boundary came
        self.eof = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def feed(self, data):
        now = time.monotonic()
        if not data:
            self.eof = True
            return
        self.buf += data
        if self.status is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1").split("\r\n")
            self.status = int(head[0].split()[1])
            for ln in head[1:]:
                k, _, v = ln.partition(":")
                self.headers[k.strip().lower()] = v.strip()
            self.buf = self.buf[end + 4:]
        if self.status != 200:
            self.body += self.buf
            self.buf = b""
            return
        while True:
            i = self.buf.find(b"Content-Length: ")
            if i < 0:
                if BOUNDARY + b"--" in self.buf:
                    self.closed = True
                self.buf = self.buf[-64:]
                return
            j = self.buf.find(b"\r\n\r\n", i)
            if j < 0:
                return
            n = int(self.buf[i + 16:self.buf.index(b"\r\n", i)])
            if len(self.buf) < j + 4 + n:
                return
            jpeg = self.buf[j + 4:j + 4 + n]
            assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9", "a torn part"
            self.frames += 1
            self.times.append(now)
            if self.decode:
                self.colours.append((now, colour_of(jpeg)))
            self.buf = self.buf[j + 4 + n:]


class Crowd(threading.Thread):
    """Reads every View given to it, in one thread, until stop()."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.views = []
        self.halt = threading.Event()
        self.error = None

    def add(self, port, path, **kw):
        v = View(port, path, **kw)    # connects outside the lock: reading goes on
        with self.lock:
            self.views.append(v)
            if v.read:
                self.sel.register(v.sock, selectors.EVENT_READ, v)
        return v

    def drop(self, v):
        with self.lock:
            if v.read and not v.eof:
                try:
                    self.sel.unregister(v.sock)
                except (KeyError, ValueError):
                    pass
            v.close()
            v.eof = True

    def run(self):
        try:
            while not self.halt.is_set():
                with self.lock:
                    ready = self.sel.select(0.05) if self.sel.get_map() else []
                    for key, _ in ready:
                        v = key.data
                        try:
                            data = v.sock.recv(262144)
                        except BlockingIOError:
                            continue
                        except OSError:
                            data = b""
                        v.feed(data)
                        if v.eof:
                            self.sel.unregister(v.sock)
                if not ready:
                    time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def stop(self):
        self.halt.set()
        self.join(5)
        for v in self.views:
            v.close()


def make_clips(d):
    """A clip per colour, and "noise" (every frame different, ~15 kB)."""
    graphs = {name: "color=c=%s:s=160x120:r=10" % ("0x00C800" if name == "green" else name)
              for name in COLOURS}
    graphs["noise"] = "testsrc2=s=160x120:r=10,noise=alls=100:allf=t+u"
    paths = {}
    for name, graph in graphs.items():
        p = os.path.join(d, name + ".mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        graph, "-t", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10",
                        p], check=True, timeout=60)
        paths[name] = p
    return paths


@pytest.fixture(scope="module")
def clips():
    d = tempfile.mkdtemp(prefix="mediafcgi-live-clips-")
    os.chmod(d, 0o755)
    yield make_clips(d)
    subprocess.run(["rm", "-rf", d], check=False)


def stack(clips, sources, server=None, front="nginx", **kw):
    srv = {"status_path": STATUS, "stream_timeout": 30}
    srv.update(server or {})
    cfg = {"server": srv}
    for name, colour in sources:
        cfg["source " + name] = {"input": clips[colour], "size": "160x120", "fps": 10,
                                 "idle_timeout": 30}
    root = tempfile.mkdtemp(prefix="mediafcgi-live-root-")
    os.chmod(root, 0o755)
    s = webservers.Stack(front=front, media_root=root, mount="/media", workers=2,
                         config_extra=cfg, fcgi_paths=["/live/", STATUS], **kw)
    s.start()
    return s


def status(s):
    r = s.get(STATUS)
    assert r.status == 200, r
    return r.json()


def source(s, name):
    for x in status(s)["sources"]:
        if x["name"] == name:
            return x
    return None


def reload_with(s, sources, clips):
    for sec in [k for k in s.config_extra if k.startswith("source ")]:
        del s.config_extra[sec]
    for name, colour in sources:
        s.config_extra["source " + name] = {"input": clips[colour], "size": "160x120",
                                            "fps": 10, "idle_timeout": 30}
    s._write_mediafcgi_conf()
    s.procs["mediafcgi"].send_signal(signal.SIGHUP)


def fanout_pid(s):
    return status(s)["viewers"]["process"]


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test_viewers_take_no_worker_and_no_slot(clips):
    """60 viewers with max_streams = 2: every one served from one fan-out
    process, no stream slot taken, the workers free for images."""
    s = stack(clips, [("cam1", "red")], server={"max_streams": 2})
    crowd = Crowd()
    crowd.start()
    try:
        views = [crowd.add(s.port, "/live/cam1") for _ in range(60)]
        assert wait_until(lambda: all(v.frames >= 3 for v in views), 20), \
            sorted(v.frames for v in views)[:10]
        st = status(s)
        assert [v.status for v in views] == [200] * 60
        assert st["viewers"]["active"] == 60, st["viewers"]
        assert st["streams"]["active"] == 0, st["streams"]
        assert source(s, "cam1")["viewers"] == 60
        # the pool is whole: no worker became a stream process
        assert st["workers"]["total"] == st["workers"]["configured"] == 2, st["workers"]
        t0 = time.monotonic()
        r = s.get("/live/cam1?snapshot")
        assert r.status == 200 and r.content_type == "image/jpeg", r
        assert time.monotonic() - t0 < 2
        # one decode for all of them: frames in ~= fps x time, whatever 60 viewers
        a = source(s, "cam1")["frames"]
        time.sleep(2)
        b = source(s, "cam1")["frames"]
        assert 12 <= b - a <= 28, (a, b)
        # every viewer keeps the source's rate
        n0 = [v.frames for v in views]
        time.sleep(3)
        rates = [(v.frames - n) / 3.0 for v, n in zip(views, n0)]
        assert min(rates) >= 8, sorted(rates)[:5]
        for v in views:
            crowd.drop(v)
        assert wait_until(lambda: status(s)["viewers"]["active"] == 0, 5), status(s)["viewers"]
        assert crowd.error is None, crowd.error
    finally:
        crowd.stop()
        s.stop()


def test_max_viewers(clips):
    s = stack(clips, [("cam1", "red")], server={"max_viewers": 5})
    crowd = Crowd()
    crowd.start()
    try:
        views = [crowd.add(s.port, "/live/cam1") for _ in range(5)]
        assert wait_until(lambda: all(v.frames >= 1 for v in views), 10)
        r = s.get("/live/cam1")
        assert r.status == 503, r
        assert r.content_type == "application/json" and "max_viewers" in r.json()["error"], r
        assert (r.headers.get("Retry-After") or "").isdigit(), r.headers
        # a snapshot is no viewer: still answered
        assert s.get("/live/cam1?snapshot").status == 200
        crowd.drop(views[0])
        assert wait_until(lambda: status(s)["viewers"]["active"] == 4, 5)
        v = crowd.add(s.port, "/live/cam1")
        assert wait_until(lambda: v.frames >= 1, 5), (v.status, v.body)
        st = status(s)["viewers"]
        assert st["active"] == 5 and st["max"] == 5 and st["refused"] >= 1, st
    finally:
        crowd.stop()
        s.stop()


def test_reload_follows_sources_by_name(clips):
    """Sources reordered, one renamed, one changed, under their viewers:
    kept viewers keep their source, a changed one's viewers see its new
    input, a removed one's viewers get the closing boundary, and no viewer
    ever gets another source's frames."""
    s = stack(clips, [("cam-a", "red"), ("cam-b", "blue")])
    crowd = Crowd()
    crowd.start()
    try:
        va = crowd.add(s.port, "/live/cam-a", decode=True)
        vb = crowd.add(s.port, "/live/cam-b", decode=True)
        assert wait_until(lambda: va.frames >= 5 and vb.frames >= 5, 15), (va.frames, vb.frames)
        assert {c for _, c in va.colours} == {"red"}
        assert {c for _, c in vb.colours} == {"blue"}
        reader_b = source(s, "cam-b")["reader"]
        # swapped order, cam-b renamed cam-c (a new source on the same
        # input), cam-a's input changed to green
        t_hup = time.monotonic()
        reload_with(s, [("cam-c", "blue"), ("cam-a", "green")], clips)
        assert wait_until(lambda: vb.eof, 5), "cam-b's viewer still open after the reload"
        assert vb.closed, "cam-b's viewer ended without the closing boundary"
        assert wait_until(lambda: any(c == "green" for _, c in va.colours), 10), \
            va.colours[-5:]
        assert not va.eof, "cam-a's viewer was cut by the reload"
        vc = crowd.add(s.port, "/live/cam-c", decode=True)
        assert wait_until(lambda: vc.frames >= 3, 10), (vc.status, vc.body)
        assert s.get("/live/cam-b").status == 404
        n = va.frames
        assert wait_until(lambda: va.frames >= n + 10, 5)
        # never another source's frames: cam-a red then green, no blue;
        # cam-b blue only; cam-c blue only
        seq = [c for _, c in va.colours]
        assert set(seq) <= {"red", "green"}, seq
        first_green = seq.index("green")
        assert "red" not in seq[first_green + 3:], seq
        assert {c for _, c in vb.colours} == {"blue"}
        assert {c for _, c in vc.colours} == {"blue"}
        assert source(s, "cam-b") is None
        assert not os.path.exists("/proc/%d" % reader_b) or \
            wait_until(lambda: not os.path.exists("/proc/%d" % reader_b), 5)
        print("reload: cam-b's viewer closed, cam-a green %.2f s after SIGHUP"
              % (va.colours[first_green][0] - t_hup))
    finally:
        crowd.stop()
        s.stop()


def test_fanout_dies_and_comes_back(clips):
    s = stack(clips, [("cam1", "red")])
    crowd = Crowd()
    crowd.start()
    try:
        views = [crowd.add(s.port, "/live/cam1") for _ in range(3)]
        assert wait_until(lambda: all(v.frames >= 2 for v in views), 10)
        pid = fanout_pid(s)
        assert pid > 0
        os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: all(v.eof for v in views), 5), "viewers not cut"
        assert wait_until(lambda: fanout_pid(s) not in (0, pid), 5), status(s)["viewers"]
        assert status(s)["viewers"]["active"] == 0
        v = crowd.add(s.port, "/live/cam1")
        assert wait_until(lambda: v.frames >= 2, 10), (v.status, v.body)
        assert status(s)["viewers"]["active"] == 1
    finally:
        crowd.stop()
        s.stop()


def test_hostile_viewers_leave_nothing(clips):
    """Viewers that leave at once, half-read, or never read: none stays
    counted, none keeps a descriptor, a stalled one is dropped after
    stream_timeout, and the fan-out keeps serving the others."""
    # behind the documented stream listener (nginx sndbuf=8k), frames of
    # ~15 kB: a stalled client's buffers fill within a second
    s = stack(clips, [("cam1", "noise")], server={"stream_timeout": 5},
              listen_sndbuf="8k")
    crowd = Crowd()
    crowd.start()
    try:
        good = crowd.add(s.port, "/live/cam1")
        assert wait_until(lambda: good.frames >= 2, 10)
        pid = fanout_pid(s)
        base = fd_count(pid)
        # 100 that close at once, some before the answer, some after it
        for k in range(100):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            c.sendall(b"GET /live/cam1 HTTP/1.0\r\n\r\n")
            if k % 2:
                c.recv(100)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
            time.sleep(0.02)          # the crowd's thread reads the good one meanwhile
        # 5 that never read
        stalled = [crowd.add(s.port, "/live/cam1", read=False) for _ in range(5)]
        time.sleep(1)
        assert wait_until(lambda: status(s)["viewers"]["active"] <= 6, 10), status(s)["viewers"]
        # stalled ones go after stream_timeout (5 s) once their buffers fill
        t0 = time.monotonic()
        assert wait_until(lambda: status(s)["viewers"]["active"] == 1, 60), \
            (status(s)["viewers"], crowd.error, good.frames, good.eof, s.logs()[-2000:])
        print("stalled viewers dropped %.1f s after they connected" % (time.monotonic() - t0 + 1))
        assert wait_until(lambda: fd_count(pid) <= base, 5), (fd_count(pid), base)
        n = good.frames
        assert wait_until(lambda: good.frames >= n + 10, 5), "the good viewer stalled"
        assert not good.eof
        assert fanout_pid(s) == pid, "the fan-out was replaced"
        for v in stalled:
            v.close()
    finally:
        crowd.stop()
        s.stop()
