"""[program NAME] routes behind a real nginx: the README's examples (cjpeg,
ffmpeg to WebM, gm convert) answer decodable content, output streams as the
program produces it, and every way a program can fail ends cleanly: a 502
JSON error before the response is committed, a cut connection after, the
child's whole process group gone, and the worker left with no zombie and no
extra descriptor (read from /proc after each request).

The misbehaving programs are one Python helper (written at test time) run
in a mode: lines, fail, signal, sleep, empty, flood, flood_fail, forever,
argv, fds, env. mediafcgi answers every path (mount ""), so programs take
their own prefixes next to the media API.

accept: a playlist, a concat list, an SVG or an MVG named like a video or
an image is 415 before the program starts. Programs that touch a marker
file when they start (MARKER, a script run directly as argv[0]) show that
they never did.
"""

import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from support import procs, webservers
from support.fcgiclient import fcgi_request

PY = "/usr/bin/python3"

HELPER = r'''
import json, os, signal, subprocess, sys, time
mode = sys.argv[1]
out = sys.stdout.buffer
if mode == "lines":
    out.write(b"first line\n"); out.flush()
    time.sleep(1)
    out.write(b"second line\n"); out.flush()
elif mode == "fail":
    sys.stderr.write("SECRET-STDERR-TEXT: cannot convert\n")
    sys.exit(1)
elif mode == "signal":
    os.kill(os.getpid(), signal.SIGKILL)
elif mode == "sleep":
    time.sleep(30)
elif mode == "empty":
    pass
elif mode == "flood":                  # 10 MiB
    for _ in range(160):
        out.write(b"x" * 65536)
elif mode == "small_flood":            # 5000 bytes, under the hold
    out.write(b"y" * 5000)
elif mode == "flood_fail":             # 100 KiB, then a failure
    out.write(b"z" * 102400); out.flush()
    sys.exit(1)
elif mode == "forever":                # pid file; a grandchild; endless output
    with open(sys.argv[2], "w") as f:
        f.write(str(os.getpid()))
    subprocess.Popen(["/bin/sleep", "60"])
    while True:
        out.write(b"w" * 65536); out.flush()
        time.sleep(0.01)
elif mode == "silent":                 # pid file; a grandchild; no output at all
    with open(sys.argv[2], "w") as f:
        f.write(str(os.getpid()))
    subprocess.Popen(["/bin/sleep", "60"])
    time.sleep(30)
elif mode == "argv":
    out.write(json.dumps(sys.argv[2:]).encode())
elif mode == "fds":
    d = "/proc/self/fd"
    fds = {}
    for n in os.listdir(d):
        try:
            fds[n] = os.readlink(os.path.join(d, n))
        except OSError:
            pass
    fds = {k: v for k, v in fds.items() if not v.endswith("/fd")}  # listdir's own
    out.write(json.dumps({"fds": fds, "file": open(sys.argv[2], "rb").read(4).hex()}).encode())
elif mode == "env":
    out.write(json.dumps(dict(os.environ)).encode())
'''

# argv[0] of the accept routes: proof that it started (the marker), then
# the file it was given, as is.
MARKER = '''#!/usr/bin/python3
import sys
open(sys.argv[1], "a").close()
sys.stdout.buffer.write(open(sys.argv[2], "rb").read() if len(sys.argv) > 2 else b"ok")
'''


def hostile_files(root, outside):
    """Text a program would follow to files outside the root, each named
    like media the route takes: name -> bytes."""
    secret_jpg = os.path.join(outside, "secret.jpg")
    return {
        # ffmpeg -i: an HLS playlist opens its segments, ffconcat its files
        "playlist.mp4": ("#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\n%s\n"
                         "#EXT-X-ENDLIST\n" % os.path.join(outside, "secret.mp4")).encode(),
        "concat.mp4": ("ffconcat version 1.0\nfile %s\n"
                       % os.path.join(outside, "secret.mp4")).encode(),
        # gm convert: an SVG or an MVG draws a file it names
        "drawing.jpg": ('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
                        'xmlns:xlink="http://www.w3.org/1999/xlink" width="160" height="120">'
                        '<image xlink:href="%s" width="160" height="120"/></svg>\n'
                        % secret_jpg).encode(),
        "vector.jpg": ("push graphic-context\nviewbox 0 0 160 120\nimage over 0,0 160,120 "
                       "'%s'\npop graphic-context\n" % secret_jpg).encode(),
        # cjpeg's route takes .ppm (and the pnm one .pgm: .ppm goes to cjpeg)
        "drawing.ppm": ('<svg xmlns="http://www.w3.org/2000/svg"><image href="%s"/></svg>\n'
                        % secret_jpg).encode(),
        "drawing.pgm": ('<svg xmlns="http://www.w3.org/2000/svg"><image href="%s"/></svg>\n'
                        % secret_jpg).encode(),
    }


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def pdirs():
    top = tempfile.mkdtemp(prefix="mediafcgi-prog-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    outside = os.path.join(top, "outside")
    os.makedirs(root)
    os.makedirs(outside)
    helper = os.path.join(top, "helper.py")
    with open(helper, "w") as f:
        f.write(HELPER)
    gm = ["gm", "convert", "-size", "160x120"]
    subprocess.run(gm + ["gradient:red-blue", os.path.join(root, "photo.ppm")], check=True)
    subprocess.run(gm + ["gradient:green-yellow", os.path.join(root, "photo.jpg")], check=True)
    subprocess.run(gm + ["gradient:black-white", os.path.join(root, "photo.pgm")], check=True)
    subprocess.run(gm + ["xc:white", os.path.join(outside, "secret.jpg")], check=True)
    subprocess.run(gm + ["xc:white", os.path.join(outside, "secret.ppm")], check=True)
    os.symlink(os.path.join(outside, "secret.jpg"), os.path.join(root, "link.jpg"))
    os.symlink(os.path.join(outside, "secret.ppm"), os.path.join(root, "link.ppm"))
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=duration=3:size=160x120:rate=25", "-c:v", "mpeg4",
                    os.path.join(root, "clip.mp4")], check=True)
    shutil.copy(os.path.join(root, "clip.mp4"), os.path.join(outside, "secret.mp4"))
    for name, data in hostile_files(root, outside).items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    marker = os.path.join(top, "marker.py")
    with open(marker, "w") as f:
        f.write(MARKER)
    os.chmod(marker, 0o755)
    markers = os.path.join(top, "markers")
    os.makedirs(markers)
    os.chmod(markers, 0o777)            # the worker may run as another user
    yield {"top": top, "root": root, "outside": outside, "helper": helper,
           "marker": marker, "markers": markers}
    shutil.rmtree(top, ignore_errors=True)


def helper_program(pdirs, prefix, mode, **extra):
    d = {"match": "prefix:%s" % prefix, "argv": "%s %s %s" % (PY, pdirs["helper"], mode),
         "content_type": "text/plain"}
    d.update(extra)
    return d


def marker_program(pdirs, name, args="{file}", **extra):
    """/x/NAME/: MARKER touching markers/NAME, then writing args' file."""
    d = {"match": "prefix:/x/%s/" % name,
         "argv": "%s %s %s" % (pdirs["marker"], os.path.join(pdirs["markers"], name), args),
         "content_type": "application/octet-stream"}
    d.update(extra)
    return d


def programs(pdirs):
    forever_pid = os.path.join(pdirs["top"], "forever.pid")
    silent_pid = os.path.join(pdirs["top"], "silent.pid")
    return {
        # README examples
        "program cjpeg": {"match": "ext:.ppm", "argv": "cjpeg -quality {q} {file}",
                          "param.q": "int 1 100 75", "content_type": "image/jpeg",
                          "accept": "pnm"},
        "program gm": {"match": "prefix:/gm/",
                       "argv": "gm convert {file} -resize {w}x{h} jpeg:-",
                       "param.w": "int 1 2000 320", "param.h": "int 1 2000 240",
                       "content_type": "image/jpeg", "accept": "image"},
        "program webm": {"match": "prefix:/webm/",
                         "argv": "ffmpeg -hide_banner -loglevel error -i {file} -t {t} "
                                 "-c:v libvpx -f webm -",
                         "param.t": "int 1 10 1", "content_type": "video/webm",
                         "timeout": "30", "accept": "video"},
        # accept: programs that show whether they started
        "program ff": marker_program(pdirs, "ff", accept="mp4,webm"),
        "program img": marker_program(pdirs, "img", accept="jpeg,png"),
        "program pnm": marker_program(pdirs, "pnm", accept="pnm"),
        "program media": marker_program(pdirs, "media"),           # the default
        "program any": marker_program(pdirs, "any", accept="any"),
        "program word": marker_program(pdirs, "word", "{file} {s}", accept="jpeg",
                                       **{"param.s": "string 40 x charset=word"}),
        "program text": marker_program(pdirs, "text", "{file} {s}", accept="jpeg",
                                       **{"param.s": "string 40 x charset=text"}),
        # behaviour
        "program lines": helper_program(pdirs, "/t/lines/", "lines"),
        "program fail": helper_program(pdirs, "/t/fail/", "fail"),
        "program signal": helper_program(pdirs, "/t/signal/", "signal"),
        "program sleep": helper_program(pdirs, "/t/sleep/", "sleep", timeout="2"),
        "program empty": helper_program(pdirs, "/t/empty/", "empty"),
        "program flood": helper_program(pdirs, "/t/flood/", "flood", max_output="1M"),
        "program small": helper_program(pdirs, "/t/small/", "small_flood", max_output="1000"),
        "program flood-fail": helper_program(pdirs, "/t/flood_fail/", "flood_fail"),
        "program forever": helper_program(pdirs, "/t/forever/", "forever " + forever_pid),
        "program silent": helper_program(pdirs, "/t/silent/", "silent " + silent_pid,
                                         timeout="20"),
        "program argv": helper_program(pdirs, "/t/argv/", "argv {s} {n}",
                                       **{"param.s": "string 200 none",
                                          "param.n": "int 0 9 1"}),
        "program fds": helper_program(pdirs, "/t/fds/", "fds {file}"),
        "program env": helper_program(pdirs, "/t/env/", "env",
                                      **{"env.FOO": "bar baz", "env.LANG": "C.UTF-8"}),
    }


@pytest.fixture(scope="module")
def pstack(pdirs):
    """mediafcgi (one worker, so /proc checks see the one that answered)
    behind nginx, every path handed to it."""
    b = webservers.mediafcgi_bin()
    if not os.access(b, os.X_OK):
        pytest.fail("%s not built (run make, or set MEDIAFCGI_BIN)" % b)
    s = webservers.Stack(front="nginx", media_root=pdirs["root"], mount="", workers=1,
                         config_extra=programs(pdirs))
    s.start()
    s.forever_pid = os.path.join(pdirs["top"], "forever.pid")
    s.silent_pid = os.path.join(pdirs["top"], "silent.pid")
    yield s
    left = s.stop()
    assert not left, "processes left behind after SIGTERM: %s" % left
    assert not s.sanitizer_reports(), "\n".join(s.sanitizer_reports())


# ---------------------------------------------------------------- /proc

def worker(s):
    w = s.worker_pids()
    assert len(w) == 1, w
    return w[0]


class Clean:
    """After the block: the worker has no children at all (no zombie, no
    program left) and as many descriptors as before, within a deadline."""

    def __init__(self, s, deadline=1.0):
        self.s = s
        self.deadline = deadline

    def __enter__(self):
        self.w = worker(self.s)
        # the previous request's connection may still be closing
        end = time.monotonic() + 1.0
        self.fds = procs.fd_count(self.w)
        while time.monotonic() < end:
            time.sleep(0.05)
            n = procs.fd_count(self.w)
            if n == self.fds and not procs.children(self.w):
                break
            self.fds = n
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        end = time.monotonic() + self.deadline
        while True:
            kids = procs.children(self.w)
            n = procs.fd_count(self.w)
            if not kids and n <= self.fds:
                break
            if time.monotonic() > end:
                pytest.fail("worker %d after the request: children %s (zombies %s), "
                            "%d fds (before %d): %s" % (
                                self.w, kids, procs.zombies(self.w), n, self.fds,
                                sorted(procs.fds(self.w))))
            time.sleep(0.02)
        assert worker(self.s) == self.w, "the worker was replaced (it died)"
        return False


# ---------------------------------------------------------------- raw HTTP

class RawResponse:
    def __init__(self):
        self.status = None
        self.headers = {}
        self.body = b""
        self.complete = False      # a terminating chunk / full length seen
        self.first_body_at = None  # seconds after the request was sent
        self.end_at = None
        self.error = None


def raw_get(s, path, timeout=15, read_limit=None):
    """GET path over a plain socket, HTTP/1.1: records when the first body
    bytes arrived and whether the answer was complete (chunked: the
    terminating chunk; else Content-Length) or cut."""
    r = RawResponse()
    c = socket.create_connection((s.host, s.port), timeout=timeout)
    t0 = time.monotonic()
    c.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
               % path).encode())
    buf = b""
    head_done = False
    chunked = False
    length = None
    try:
        while True:
            try:
                data = c.recv(65536)
            except (ConnectionResetError, socket.timeout) as e:
                r.error = e
                break
            if not data:
                break
            buf += data
            if not head_done and b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                r.status = int(lines[0].split()[1])
                for line in lines[1:]:
                    k, v = line.split(":", 1)
                    r.headers[k.strip().lower()] = v.strip()
                head_done = True
                chunked = r.headers.get("transfer-encoding", "").lower() == "chunked"
                length = r.headers.get("content-length")
            if head_done and buf and r.first_body_at is None:
                r.first_body_at = time.monotonic() - t0
            if read_limit and len(buf) >= read_limit:
                break
    finally:
        c.close()
    r.end_at = time.monotonic() - t0
    if chunked:
        body, rest = b"", buf
        while True:
            if b"\r\n" not in rest:
                break
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                r.complete = rest.startswith(b"\r\n")
                break
            if len(rest) < size + 2:
                body += rest[:size]
                break
            body += rest[:size]
            rest = rest[size + 2:]
        r.body = body
    else:
        r.body = buf
        r.complete = length is not None and len(buf) == int(length)
    return r


def fcgi_get(sock_path, uri, timeout=15):
    """One GET straight to mediafcgi's socket (no web server), to read what
    it sends: (header text, body, END_REQUEST seen)."""
    a = fcgi_request(sock_path, uri, timeout=timeout)
    return a.head, a.body, a.ended


def assert_502(r, want):
    assert r.status == 502, r
    assert r.content_type == "application/json", r
    j = r.json()
    assert j["status"] == 502 and want in j["error"], j
    assert b"SECRET" not in r.body, r


def mediafcgi_log(s):
    with open(s.path("mediafcgi.log"), "rb") as f:
        return f.read().decode("utf-8", "replace")


def decode_image(data):
    from PIL import Image
    import io
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


# ---------------------------------------------------------------- examples

def test_cjpeg_example(pstack):
    with Clean(pstack):
        r = pstack.get("/photo.ppm?q=60")
    assert r.status == 200, r
    assert r.content_type == "image/jpeg"
    im = decode_image(r.body)
    assert im.format == "JPEG" and im.size == (160, 120)
    # the default quality, and a different answer for another q
    r2 = pstack.get("/photo.ppm")
    assert r2.status == 200 and r2.body != r.body


def test_gm_example(pstack):
    with Clean(pstack):
        r = pstack.get("/gm/photo.jpg?w=80&h=80")
    assert r.status == 200, r
    assert r.content_type == "image/jpeg"
    im = decode_image(r.body)
    assert im.format == "JPEG" and im.size == (80, 60)   # aspect kept, inside 80x80


def test_ffmpeg_webm_example(pstack, tmp_path):
    with Clean(pstack):
        r = pstack.get("/webm/clip.mp4?t=1")
    assert r.status == 200, (r, pstack.logs())
    assert r.content_type == "video/webm"
    assert r.body[:4] == b"\x1a\x45\xdf\xa3", "not an EBML (WebM) file"
    out = tmp_path / "out.webm"
    out.write_bytes(r.body)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                            "-count_frames", "-show_entries",
                            "stream=codec_name,width,height,nb_read_frames",
                            "-of", "json", str(out)], capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    st = json.loads(probe.stdout)["streams"][0]
    assert st["codec_name"] == "vp8" and (st["width"], st["height"]) == (160, 120), st
    assert 20 <= int(st["nb_read_frames"]) <= 30, st    # -t 1 at 25 fps


def test_examples_behind_lighttpd(pdirs):
    with webservers.Stack(front="lighttpd", media_root=pdirs["root"], mount="", workers=1,
                          config_extra=programs(pdirs)) as s:
        r = s.get("/photo.ppm?q=50")
        assert r.status == 200 and r.content_type == "image/jpeg", r
        decode_image(r.body)
        r = s.get("/gm/photo.jpg?w=40&h=40")
        assert r.status == 200 and decode_image(r.body).size == (40, 30), r
        r = s.get("/t/fail/")
        assert_502(r, "exit status 1")


# ---------------------------------------------------------------- streaming

def test_output_streams_as_produced(pstack):
    """lines: a line, 1 s of nothing, a line. The first reaches the client
    long before the program ends; the answer is chunked by nginx."""
    with Clean(pstack):
        r = raw_get(pstack, "/t/lines/")
    assert r.status == 200, vars(r)
    assert r.body == b"first line\nsecond line\n"
    assert r.complete
    assert r.headers.get("transfer-encoding") == "chunked", r.headers
    assert r.first_body_at < 0.8, "first bytes after %.2f s" % r.first_body_at
    assert r.end_at >= 1.0, r.end_at


def test_program_answers_tell_the_web_server_not_to_buffer(pstack):
    head, body, ended = fcgi_get(pstack.sock, "/t/lines/")
    assert "X-Accel-Buffering: no" in head, head
    assert "Content-Type: text/plain" in head
    assert ended and body == b"first line\nsecond line\n"
    # a quick small answer is held whole: it gets a length
    head, body, ended = fcgi_get(pstack.sock, "/t/argv/?s=x")
    assert "Content-Length: %d" % len(body) in head, head


def test_head_request(pstack):
    r = pstack.head("/photo.ppm")
    assert r.status == 200 and r.content_type == "image/jpeg" and r.body == b""


# ---------------------------------------------------------------- failures

def test_exit_status_before_output_is_502_and_stderr_goes_to_log(pstack):
    with Clean(pstack):
        r = pstack.get("/t/fail/")
    assert_502(r, "program fail failed (exit status 1)")
    log = mediafcgi_log(pstack)
    assert "program fail[" in log and "SECRET-STDERR-TEXT: cannot convert" in log, log


def test_killed_by_signal_is_502(pstack):
    with Clean(pstack):
        r = pstack.get("/t/signal/")
    assert_502(r, "killed by SIGKILL")


def test_timeout_is_502_within_timeout_plus_one(pstack):
    with Clean(pstack):
        t0 = time.monotonic()
        r = pstack.get("/t/sleep/")
        dt = time.monotonic() - t0
    assert_502(r, "timed out after 2 s")
    assert 1.9 <= dt < 3.0, dt


def test_no_output_is_502(pstack):
    with Clean(pstack):
        r = pstack.get("/t/empty/")
    assert_502(r, "wrote nothing")


def test_over_max_output_is_cut(pstack):
    with Clean(pstack):
        r = raw_get(pstack, "/t/flood/")
    assert r.status == 200                   # committed: the status was sent
    assert not r.complete, "a cut answer must not look complete"
    assert 65536 <= len(r.body) <= 1 << 20, len(r.body)
    assert "max_output" in mediafcgi_log(pstack)


def test_over_max_output_within_the_hold_is_502(pstack):
    with Clean(pstack):
        r = pstack.get("/t/small/")
    assert_502(r, "more than max_output (1000 bytes)")


def test_failure_after_commit_is_cut(pstack):
    with Clean(pstack):
        r = raw_get(pstack, "/t/flood_fail/")
    assert r.status == 200
    assert not r.complete, "no terminating chunk after a failure"
    assert len(r.body) <= 102400
    # through http.client: an incomplete read
    conn = http.client.HTTPConnection(pstack.host, pstack.port, timeout=10)
    conn.request("GET", "/t/flood_fail/")
    resp = conn.getresponse()
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        resp.read()
    conn.close()
    # and at the FastCGI level: no END_REQUEST
    head, body, ended = fcgi_get(pstack.sock, "/t/flood_fail/")
    assert not ended and head.startswith("Status: 200")


def test_client_going_away_kills_the_process_group(pstack):
    if os.path.exists(pstack.forever_pid):
        os.unlink(pstack.forever_pid)
    with Clean(pstack, deadline=1.5):
        c = socket.create_connection((pstack.host, pstack.port), timeout=10)
        c.sendall(b"GET /t/forever/ HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while len(got) < 200000:
            got += c.recv(65536)
        with open(pstack.forever_pid) as f:
            pgid = int(f.read())
        assert len(procs.group(pgid)) >= 2, "the helper and its grandchild run"
        c.close()
        t0 = time.monotonic()
        while procs.group(pgid) and time.monotonic() - t0 < 1.0:
            time.sleep(0.02)
        assert not procs.group(pgid), "process group %d alive %.1f s after the client left" % (
            pgid, time.monotonic() - t0)


def test_client_going_away_from_a_silent_program(pstack):
    """Nothing to write, so no write fails: the web server's hang-up on the
    FastCGI connection is what tells the worker."""
    if os.path.exists(pstack.silent_pid):
        os.unlink(pstack.silent_pid)
    with Clean(pstack, deadline=1.5):
        c = socket.create_connection((pstack.host, pstack.port), timeout=10)
        c.sendall(b"GET /t/silent/ HTTP/1.1\r\nHost: x\r\n\r\n")
        end = time.monotonic() + 5
        while not os.path.exists(pstack.silent_pid) and time.monotonic() < end:
            time.sleep(0.02)
        time.sleep(0.1)
        with open(pstack.silent_pid) as f:
            pgid = int(f.read())
        assert len(procs.group(pgid)) >= 2
        c.close()
        t0 = time.monotonic()
        while procs.group(pgid) and time.monotonic() - t0 < 1.0:
            time.sleep(0.02)
        assert not procs.group(pgid), "process group %d alive %.1f s after the client left" % (
            pgid, time.monotonic() - t0)


# ---------------------------------------------------------------- parameters

def test_undeclared_parameter_is_400(pstack):
    r = pstack.get("/photo.ppm?size=300x200")
    assert r.status == 400, r
    assert r.json()["error"].startswith("size: not a parameter"), r.json()


def test_parameter_out_of_bounds_is_400(pstack):
    for q in ("0", "101", "-5", "abc", "7.5"):
        r = pstack.get("/photo.ppm?q=" + q)
        assert r.status == 400 and r.json()["error"].startswith("q: "), (q, r)
    r = pstack.get("/gm/photo.jpg?w=5000")
    assert r.status == 400 and "w: must be from 1 to 2000" in r.json()["error"], r


def test_shell_metacharacters(pstack, pdirs):
    mark = os.path.join(pdirs["top"], "pwned")
    # an int: refused
    r = pstack.get("/photo.ppm?q=1;touch%20" + mark)
    assert r.status == 400 and r.json()["error"].startswith("q: expected a whole number"), r
    # a string: one literal argv element, never a shell
    with Clean(pstack):
        r = pstack.get("/t/argv/?s=1;touch%20" + mark + "%20$(id)%20%60id%60%7C%26&n=3")
    assert r.status == 200, r
    assert json.loads(r.body) == ["1;touch " + mark + " $(id) `id`|&", "3"]
    assert not os.path.exists(mark)
    r = pstack.get("/t/argv/?s=--output=/tmp/x")
    assert r.status == 400 and "must not start with '-'" in r.json()["error"], r


def test_path_traversal_for_file_is_403(pstack):
    for path in ("/gm/%2e%2e/outside/secret.jpg", "/gm/sub/%2e%2e/%2e%2e/outside/secret.jpg",
                 "/gm/../outside/secret.jpg", "/gm/link.jpg",
                 # ext: programs resolve under the media mount the same way
                 "/sub/%2e%2e/photo.ppm", "/link.ppm"):
        r = pstack.get(path)
        assert r.status in (403,), (path, r)
        assert r.content_type == "application/json"
    assert pstack.get("/gm/nothing.jpg").status == 404
    assert pstack.get("/gm/").status == 404


# ---------------------------------------------------------------- accept

def marker(pdirs, name):
    return os.path.join(pdirs["markers"], name)


def clear_markers(pdirs):
    for n in os.listdir(pdirs["markers"]):
        os.unlink(os.path.join(pdirs["markers"], n))


def assert_415(r, program, accepts):
    assert r.status == 415, r
    assert r.content_type == "application/json", r
    j = r.json()
    assert j["status"] == 415, j
    assert "program %s accepts %s;" % (program, accepts) in j["error"], j
    assert b"secret" not in r.body and b"EXTM3U" not in r.body, r


MEDIA_TYPES = "jpeg, png, gif, webp, tiff, heif, jxl, mp4, mkv, avi, mpegts"

# (path, program, what it accepts): a disguised file for each kind of route
DISGUISED = [
    ("/x/ff/playlist.mp4", "ff", "mp4, mkv"),
    ("/x/ff/concat.mp4", "ff", "mp4, mkv"),
    ("/x/img/drawing.jpg", "img", "jpeg, png"),
    ("/x/img/vector.jpg", "img", "jpeg, png"),
    ("/x/pnm/drawing.pgm", "pnm", "pnm"),
    ("/x/media/playlist.mp4", "media", MEDIA_TYPES),
    ("/x/media/vector.jpg", "media", MEDIA_TYPES),
    # the README's routes, real ffmpeg, gm and cjpeg behind them
    ("/webm/playlist.mp4", "webm", "mp4, mkv, avi, mpegts"),
    ("/webm/concat.mp4", "webm", "mp4, mkv, avi, mpegts"),
    ("/gm/drawing.jpg", "gm", "jpeg, png, gif, webp, tiff, heif, jxl"),
    ("/gm/vector.jpg", "gm", "jpeg, png, gif, webp, tiff, heif, jxl"),
    ("/drawing.ppm", "cjpeg", "pnm"),
]


@pytest.mark.parametrize("path,program,accepts", DISGUISED,
                         ids=[d[0] for d in DISGUISED])
def test_disguised_file_is_415_and_the_program_never_starts(pstack, pdirs, path,
                                                           program, accepts):
    clear_markers(pdirs)
    with Clean(pstack):
        r = pstack.get(path)
    assert_415(r, program, accepts)
    assert "this file is none of the types the server recognises" in r.json()["error"]
    assert os.listdir(pdirs["markers"]) == [], "the program started"
    # the worker lives on and the next request through the route is served
    good = {"ff": "/x/ff/clip.mp4", "img": "/x/img/photo.jpg", "pnm": "/x/pnm/photo.pgm",
            "media": "/x/media/photo.jpg", "webm": "/webm/clip.mp4",
            "gm": "/gm/photo.jpg?w=40&h=40", "cjpeg": "/photo.ppm"}[program]
    with Clean(pstack):
        g = pstack.get(good)
    assert g.status == 200, g


def test_accepted_files_reach_the_program(pstack, pdirs):
    for path, name, src in (("/x/ff/clip.mp4", "ff", "clip.mp4"),
                            ("/x/img/photo.jpg", "img", "photo.jpg"),
                            ("/x/pnm/photo.pgm", "pnm", "photo.pgm"),
                            ("/x/media/clip.mp4", "media", "clip.mp4"),
                            ("/x/media/photo.jpg", "media", "photo.jpg")):
        clear_markers(pdirs)
        with Clean(pstack):
            r = pstack.get(path)
        assert r.status == 200, (path, r)
        with open(os.path.join(pdirs["root"], src), "rb") as f:
            assert r.body == f.read(), path
        assert os.listdir(pdirs["markers"]) == [name], path


def test_real_but_unaccepted_type_is_415_naming_it(pstack, pdirs):
    """A real video to an image program: the message says what it is."""
    clear_markers(pdirs)
    with Clean(pstack):
        r = pstack.get("/x/img/clip.mp4")
    assert_415(r, "img", "jpeg, png")
    assert r.json()["error"].endswith("this file is mp4"), r.json()
    r = pstack.get("/x/pnm/photo.jpg")
    assert_415(r, "pnm", "pnm")
    assert r.json()["error"].endswith("this file is jpeg"), r.json()
    # Netpbm is nothing the media routes read, so not in the default list
    r = pstack.get("/x/media/photo.pgm")
    assert_415(r, "media", MEDIA_TYPES)
    assert r.json()["error"].endswith("this file is pnm"), r.json()
    assert os.listdir(pdirs["markers"]) == []


def test_empty_file_is_422_before_the_program(pstack, pdirs):
    path = os.path.join(pdirs["root"], "empty.jpg")
    open(path, "wb").close()
    clear_markers(pdirs)
    try:
        with Clean(pstack):
            r = pstack.get("/x/img/empty.jpg")
    finally:
        os.unlink(path)
    assert r.status == 422 and r.json() == {"error": "empty file", "status": 422}, r
    assert os.listdir(pdirs["markers"]) == []


def test_accept_any_lets_a_disguised_file_through(pstack, pdirs):
    """Documented as dangerous: the program reads whatever the file is."""
    clear_markers(pdirs)
    with Clean(pstack):
        r = pstack.get("/x/any/playlist.mp4")
    assert r.status == 200, r
    assert r.body.startswith(b"#EXTM3U\n"), r
    assert os.listdir(pdirs["markers"]) == ["any"]


def test_string_charset_is_400_before_the_program(pstack, pdirs):
    clear_markers(pdirs)
    for path, want in (
            ("/x/word/photo.jpg?s=a%20b", "s: ' ' is not in charset=word, got 'a b'"),
            ("/x/word/photo.jpg?s=%40%2Fetc%2Fpasswd", "s: '@' is not in charset=word"),
            ("/x/word/photo.jpg?s=text:x", "s: ':' is not in charset=word"),
            ("/x/word/photo.jpg?s=-x", "s: must not start with '-'"),
            ("/x/text/photo.jpg?s=%40%2Fetc%2Fpasswd", "s: must not start with '@'"),
            ("/x/text/photo.jpg?s=%2Bprofile", "s: must not start with '+'"),
            ("/x/text/photo.jpg?s=caf%C3%A9", "s: byte 0xc3 is not in charset=text")):
        with Clean(pstack):
            r = pstack.get(path)
        assert r.status == 400 and r.content_type == "application/json", (path, r)
        assert r.json() == {"error": r.json()["error"], "status": 400}, r.json()
        assert r.json()["error"].startswith(want), (path, r.json())
        assert os.listdir(pdirs["markers"]) == [], path
    # within the charset: served
    for path, name in (("/x/word/photo.jpg?s=Ab_9-x", "word"),
                       ("/x/text/photo.jpg?s=Hello,%20a%40b%20c%2Bd", "text")):
        with Clean(pstack):
            r = pstack.get(path)
        assert r.status == 200, (path, r)
        assert name in os.listdir(pdirs["markers"])


# ---------------------------------------------------------------- the child

def test_child_descriptors(pstack):
    """0 /dev/null, 1 and 2 pipes, 3 the file; nothing of the worker's."""
    with Clean(pstack):
        r = pstack.get("/t/fds/photo.jpg")
    assert r.status == 200, r
    j = json.loads(r.body)
    assert sorted(j["fds"]) == ["0", "1", "2", "3"], j
    assert j["fds"]["0"] == "/dev/null"
    assert j["fds"]["1"].startswith("pipe:") and j["fds"]["2"].startswith("pipe:")
    assert j["fds"]["3"] == os.path.join(pstack.media_root, "photo.jpg")
    assert j["file"] == "ffd8ffe0" or j["file"].startswith("ffd8"), j


def test_child_environment_is_only_the_declared(pstack):
    r = pstack.get("/t/env/")
    assert r.status == 200, r
    env = json.loads(r.body)
    # python may add LC_CTYPE when it coerces the C locale; nothing else
    env.pop("LC_CTYPE", None)
    assert env == {"FOO": "bar baz", "LANG": "C.UTF-8"}, env


def test_bad_program_config_is_refused_at_start(tmp_path, pdirs):
    def check(section, want):
        conf = tmp_path / "bad.conf"
        text = "[server]\nallow_root = yes\n[media]\nroot = %s\n[program x]\n" % pdirs["root"]
        text += "".join("%s = %s\n" % kv for kv in section.items())
        conf.write_text(text)
        r = subprocess.run([webservers.mediafcgi_bin(), "--config", str(conf), "--test-config"],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 1 and want in r.stderr, (section, r.stderr)

    check({"match": "prefix:/x/", "argv": "no-such-converter {file}"}, "not found in PATH")
    check({"match": "prefix:/x/", "argv": "cat {file} {q}"}, "unknown placeholder")
    check({"match": "prefix:/x/", "argv": "cat {file}", "param.q": "int 1 9 5"},
          "param.q is not used")
    check({"match": "prefix:/x/", "argv": "cat {file}", "timeout": "60"},
          "below [server] request_timeout 60")
    check({"argv": "cat {file}"}, "match is required")
    check({"match": "prefix:/x/", "argv": "cat {file}", "accept": "jpeg,svg"},
          "bad.conf:8: program x: accept: unknown type 'svg'")
    check({"match": "prefix:/x/", "argv": "echo hi", "accept": "jpeg"},
          "accept needs {file}")
    check({"match": "prefix:/x/", "argv": "echo {s}", "param.s": "string 9 charset=ascii"},
          "bad.conf:8: program x: param.s: charset: expected")
