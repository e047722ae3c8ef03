"""
Deployment: every configuration in examples/ run as it is, with only its
@PLACEHOLDERS@ filled in, by the real web server on a loopback port chosen
at run time, in front of build/mediafcgi started the way that example says:

    nginx-unix.conf          mediafcgi --listen unix:SOCK, and the socket on
                             fd 0 as systemd passes it (systemd-socket-activate)
    nginx-tcp.conf           mediafcgi --listen 127.0.0.1:PORT
    lighttpd-socket.conf     mediafcgi --listen unix:SOCK
    lighttpd-bin-path.conf   lighttpd starts mediafcgi on fd 0
    apache-proxy-fcgi.conf   Apache mod_proxy_fcgi, mediafcgi --listen unix:SOCK
    apache-fcgid.conf        Apache mod_fcgid starts mediafcgi on fd 0
    spawn-fcgi.sh            spawn-fcgi starts mediafcgi, nginx-unix.conf in front
    nginx-upstream.conf      two instances on TCP behind one upstream: the same
                             ETag from each, and one killed under load loses
                             no request

Each answers a thumbnail and a video poster (a 3 s video made with ffmpeg at
test time) through the front end, passes If-None-Match on (304) and hands
/live/ to mediafcgi (the nginx examples on their live listener, which the
main one redirects to); the first frames of a live source (the video played
at its own pace) and of a file stream (format=mjpeg) arrive through it as
they are produced. mediafcgi's config is
the packaged one (debian/conf/mediafcgi.conf) with root pointed at the
test media and a [source cam1] added.

Also here, the packaging kept in step with the code: every example has a
test, the man pages name every config key and flag, Build-Depends covers
every library of the Makefile, the packaged config passes --test-config.

The web servers' own top-level configs (pid file, logs, temp paths, the
port, modules) are generated here in a temp dir and include the example, as
Debian's /etc/nginx/nginx.conf includes sites-enabled/*. Run as root (CI),
the web servers and mediafcgi's workers run as www-data, as deployed.

Run: make && MEDIAFCGI_BIN=$PWD/build/mediafcgi /usr/bin/python3 -m pytest -q \
         tests/integration/test_deploy.py
(MEDIAFCGI_KEEP_TMP=1 keeps the generated configs and logs.)
"""

import concurrent.futures
import glob
import http.client
import io
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from PIL import Image

from support import procs, webservers
from support.fcgiclient import STDOUT, fcgi_open, fcgi_request, parse_head, records
from support.imaging import photo_like

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(REPO, "examples")
PACKAGED_CONF = os.path.join(REPO, "debian", "conf", "mediafcgi.conf")
MAN = os.path.join(REPO, "debian", "man")
HOST = "127.0.0.1"
AS_ROOT = os.geteuid() == 0
WEB_USER = "www-data"
DEADLINE = 15.0

THUMB = "/media/photo.jpg?size=200x150"           # of an 800x600 JPEG
THUMB_SIZE = (200, 150)
POSTER = "/media/video.mp4?t=1&size=160x90"       # of a 320x180 video
POSTER_SIZE = (160, 90)

# Which example each test runs; test_every_example_is_run keeps this whole.
RUN = {
    "nginx-unix.conf": "test_nginx_unix",
    "nginx-tcp.conf": "test_nginx_tcp",
    "nginx-upstream.conf": "test_scale_out_*",
    "lighttpd-socket.conf": "test_lighttpd_socket",
    "lighttpd-bin-path.conf": "test_lighttpd_bin_path",
    "apache-proxy-fcgi.conf": "test_apache_proxy_fcgi",
    "apache-fcgid.conf": "test_apache_fcgid",
    "spawn-fcgi.sh": "test_spawn_fcgi_nginx",
    "README.md": None,
}


def _need(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail("not installed: %s (run scripts/deps.sh)" % " ".join(missing))


def _need_binary():
    b = webservers.mediafcgi_bin()
    if not os.access(b, os.X_OK):
        pytest.fail("%s not built (run make, or set MEDIAFCGI_BIN)" % b)


# ------------------------------------------------------------------ media

@pytest.fixture(scope="module")
def media():
    """A media root with photo.jpg (800x600) and video.mp4 (3 s, 320x180,
    H.264, made by ffmpeg), readable by www-data."""
    _need("ffmpeg")
    top = tempfile.mkdtemp(prefix="mediafcgi-deploy-media-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    os.mkdir(root, 0o755)
    photo_like(800, 600).save(os.path.join(root, "photo.jpg"), quality=90)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi",
                    "-i", "testsrc=size=320x180:rate=25:duration=3",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25",
                    os.path.join(root, "video.mp4")], check=True, timeout=120)
    for f in os.listdir(root):
        os.chmod(os.path.join(root, f), 0o644)
    yield root
    shutil.rmtree(top, ignore_errors=True)


# ------------------------------------------------------------------ HTTP

def http_get(port, path, headers=None, timeout=30, follow=False):
    """A GET through the front end on port; follow: one redirect to
    another loopback port (the nginx examples send /live/ to their live
    listener) is followed."""
    r = webservers.http_request(HOST, port, "GET", path, headers, timeout=timeout)
    if follow and r.status in (301, 302, 307, 308):
        port, path = loopback_location(r)
        r = webservers.http_request(HOST, port, "GET", path, headers, timeout=timeout)
    return r


def loopback_location(r):
    """(port, path) of a redirect's Location on this host's loopback."""
    m = re.fullmatch(r"http://%s:(\d+)(/.*)" % re.escape(HOST), r.headers.get("location") or "")
    assert m, "redirect to elsewhere: %r %r" % (r, r.headers.get("location"))
    return int(m.group(1)), m.group(2)


STREAM = "/media/video.mp4?format=mjpeg&fps=5&size=160x90"     # a part every 0.2 s
STREAM_PARTS = 5


class PartTimer:
    """Splits a multipart/x-mixed-replace body, fed as it arrives, into its
    parts (--BOUNDARY, headers, Content-Length bytes), noting when each was
    complete: parts = [(seconds since t0, bytes)]."""

    def __init__(self, content_type, t0):
        m = re.search(r'boundary="?([^";]+)"?', content_type or "")
        assert (content_type or "").startswith("multipart/x-mixed-replace") and m, content_type
        self.marker = b"--" + m.group(1).encode()
        self.t0 = t0
        self.buf = b""
        self.parts = []

    def feed(self, data):
        self.buf += data
        while True:
            start = self.buf.find(self.marker)
            head_end = self.buf.find(b"\r\n\r\n", start)
            if start < 0 or head_end < 0:
                return
            cl = re.search(rb"(?i)content-length:\s*(\d+)", self.buf[start:head_end])
            assert cl, "part without Content-Length: %r" % self.buf[start:head_end]
            end = head_end + 4 + int(cl.group(1))
            if len(self.buf) < end:
                return
            self.parts.append((time.monotonic() - self.t0, self.buf[head_end + 4:end]))
            self.buf = self.buf[end:]


def http_stream_parts(port, path, parts=STREAM_PARTS, timeout=20):
    """GETs a stream through a front end, reads its first parts as they
    come, hangs up: (response headers, [(seconds, JPEG)])."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        if r.status in (301, 302, 307, 308):   # /live/ behind nginx: its live listener
            conn.close()
            port, path = loopback_location(r)
            conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
            conn.request("GET", path)
            r = conn.getresponse()
        headers = {k.lower(): v for k, v in r.getheaders()}
        assert r.status == 200, "%s: %d %r" % (path, r.status, r.read()[:300])
        timer = PartTimer(headers.get("content-type"), t0)
        while len(timer.parts) < parts:
            chunk = r.read1(65536)
            if not chunk:
                break
            timer.feed(chunk)
        return headers, timer.parts[:parts]
    finally:
        conn.close()


def check_stream_parts(parts, logs=lambda: ""):
    """The first frames of a stream at 5 fps arrived one by one as they
    were produced, not in one burst when a buffer filled or the 3 s video
    ended."""
    assert len(parts) == STREAM_PARTS, "%d parts\n%s" % (len(parts), logs())
    assert Image.open(io.BytesIO(parts[0][1])).size == POSTER_SIZE
    times = [round(t, 2) for t, _ in parts]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert times[0] < 1.5 and times[-1] - times[0] > 0.4 and sum(g > 0.08 for g in gaps) >= 3, \
        "frames at %s s after the request: held back, not sent as produced" % times


def image_size(answer):
    return Image.open(io.BytesIO(answer.body)).size


def check_media(port, logs=lambda: ""):
    """The front end on port serves its own index page, a thumbnail and a
    video poster made by mediafcgi."""
    r = http_get(port, "/")
    assert r.status == 200 and b"mediafcgi" in r.body, "static index: %r\n%s" % (r, logs())
    for path, size in ((THUMB, THUMB_SIZE), (POSTER, POSTER_SIZE)):
        r = http_get(port, path)
        assert r.status == 200, "%s: %r\n%s" % (path, r, logs())
        assert r.content_type == "image/jpeg", "%s: %r" % (path, r)
        assert image_size(r) == size, "%s: %r" % (path, r)
        assert r.headers.get("etag", "").startswith('"'), \
            "%s: no strong ETag %r" % (path, r.headers)
    # The request headers reach mediafcgi (HTTP_IF_NONE_MATCH): 304.
    r2 = http_get(port, POSTER, headers={"If-None-Match": r.headers["etag"]})
    assert r2.status == 304, "If-None-Match not passed on? %r\n%s" % (r2, logs())
    # /live/ (live sources) is routed to mediafcgi too: its JSON error for
    # a source that does not exist, not the front end's own 404 page.
    r3 = http_get(port, "/live/no-such-source", follow=True)
    assert r3.status >= 400 and r3.content_type == "application/json", \
        "/live/ not routed to mediafcgi: %r\n%s" % (r3, logs())
    assert r3.json()["status"] == r3.status, r3


# ------------------------------------------------------------------ FastCGI

def fcgi_get(port, uri, headers=None, host=HOST, timeout=30):
    """A GET straight to a mediafcgi instance over FastCGI (a responder
    request, as a web server sends it): an Answer."""
    return fcgi_request((host, port), uri, headers=headers, timeout=timeout, must_end=True)


def fcgi_stream_parts(port, uri, parts=STREAM_PARTS, host=HOST, timeout=20):
    """A stream straight from a mediafcgi instance over FastCGI, read as
    its STDOUT records come: (CGI headers, [(seconds, JPEG)])."""
    t0 = time.monotonic()
    headers, timer, out = None, None, b""
    with fcgi_open((host, port), uri, timeout=timeout) as s:
        for rtype, content in records(s):
            if rtype != STDOUT:
                continue
            if timer is not None:
                timer.feed(content)
            else:
                out += content
                if b"\r\n\r\n" in out:
                    head, _, rest = out.partition(b"\r\n\r\n")
                    headers = parse_head(head.decode("latin-1"))
                    timer = PartTimer(headers.get("content-type"), t0)
                    timer.feed(rest)
            if timer is not None and len(timer.parts) >= parts:
                break
    assert timer is not None, "no answer: %r" % out[:300]
    return headers, timer.parts[:parts]


# ------------------------------------------------------------------ processes

def _web_ids():
    pw = pwd.getpwnam(WEB_USER)
    return pw.pw_uid, pw.pw_gid


def _reachable_by_all(path):
    """Whether any user may execute path (o+x on it and on every parent)."""
    path = os.path.realpath(path)
    if not os.stat(path).st_mode & 0o001:
        return False
    d = os.path.dirname(path)
    while True:
        if not os.stat(d).st_mode & 0o001:
            return False
        if d == "/":
            return True
        d = os.path.dirname(d)


class Deploy:
    """One deployment in a temp dir: the filled-in examples, the generated
    top-level configs, sockets (run/, writable by www-data), logs. stop()
    ends every process it started, or that mentions the temp dir (workers,
    daemons that left the process group), SIGTERM first."""

    def __init__(self, media_root, name):
        _need_binary()
        self.binary = webservers.mediafcgi_bin()
        self.media_root = media_root
        self.dir = tempfile.mkdtemp(prefix="mediafcgi-%s-" % name)
        os.chmod(self.dir, 0o755)
        for d in ("run", "tmp", "log", "docroot"):
            os.mkdir(self.path(d), 0o755)
        if AS_ROOT:     # lighttpd opens its logs after becoming www-data
            uid, gid = _web_ids()
            for d in ("run", "tmp", "log"):
                os.chown(self.path(d), uid, gid)
        with open(self.path("docroot", "index.html"), "w") as f:
            f.write("<!doctype html><title>mediafcgi</title><p>mediafcgi deployment test\n")
        os.chmod(self.path("docroot", "index.html"), 0o644)
        self.procs = []             # (name, Popen), in start order
        self.stops = []             # commands that stop a daemon (spawn-fcgi.sh stop)
        if AS_ROOT and not _reachable_by_all(self.binary):
            # lighttpd, mod_fcgid and spawn-fcgi run it as www-data, which
            # cannot reach a checkout under /root: run a copy from here.
            shutil.copy2(self.binary, self.path("mediafcgi"))
            self.binary = self.path("mediafcgi")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    # -------------------------------------------------------- configs
    def example(self, name, **subs):
        """examples/NAME with @KEY@ replaced by subs[KEY], written into the
        temp dir; every placeholder of the file must be given."""
        with open(os.path.join(EXAMPLES, name)) as f:
            text = f.read()
        wanted = set(re.findall(r"@([A-Z0-9_]+)@", text))
        assert wanted == set(subs), "%s has placeholders %s, the test gives %s" % (
            name, sorted(wanted), sorted(subs))
        for k, v in subs.items():
            text = text.replace("@%s@" % k, str(v))
        out = self.path(name)
        with open(out, "w") as f:
            f.write(text)
        os.chmod(out, os.stat(os.path.join(EXAMPLES, name)).st_mode & 0o777)
        return out

    def mediafcgi_conf(self, name="mediafcgi.conf", root=None, workers=2, extra=None):
        """The packaged config with root = the test media (and workers, and
        extra [server] keys, and a live source cam1 that plays video.mp4);
        without root privileges, minus user/group."""
        with open(PACKAGED_CONF) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^root = .*$", "root = %s" % (root or self.media_root), text)
        assert n == 1, "no root line in %s" % PACKAGED_CONF
        if not AS_ROOT:
            text = re.sub(r"(?m)^(user|group) = .*$", "", text)
        server = dict(extra or {})
        if workers:
            server["workers"] = workers
        if server:
            text += "\n[server]\n" + "".join("%s = %s\n" % kv for kv in server.items())
        text += ("\n[source cam1]\ninput = %s\nsize = %dx%d\nfps = 5\n"
                 % (os.path.join(root or self.media_root, "video.mp4"), *POSTER_SIZE))
        out = self.path(name)
        with open(out, "w") as f:
            f.write(text)
        os.chmod(out, 0o644)
        return out

    def nginx_main(self, site):
        d = self.dir
        user = "user %s %s;\n" % (WEB_USER, WEB_USER) if AS_ROOT else ""
        conf = self.path("nginx.conf")
        with open(conf, "w") as f:
            f.write("""# generated by test_deploy.py: what /etc/nginx/nginx.conf says, in a temp dir
%(user)sworker_processes 2;
pid %(d)s/nginx.pid;
error_log %(d)s/nginx-error.log notice;
events { worker_connections 512; }
http {
    access_log %(d)s/nginx-access.log;
    client_body_temp_path %(d)s/tmp/client_body;
    fastcgi_temp_path %(d)s/tmp/fastcgi;
    proxy_temp_path %(d)s/tmp/proxy;
    uwsgi_temp_path %(d)s/tmp/uwsgi;
    scgi_temp_path %(d)s/tmp/scgi;
    types { text/html html; image/jpeg jpg; }
    default_type application/octet-stream;
    include %(site)s;
}
""" % {"user": user, "d": d, "site": site})
        return ["nginx", "-p", d + "/", "-c", conf, "-e", self.path("nginx-error.log"),
                "-g", "daemon off;"]

    def lighttpd_main(self, port, snippet):
        d = self.dir
        user = ('server.username = "%s"\nserver.groupname = "%s"\n' % (WEB_USER, WEB_USER)
                if AS_ROOT else "")
        conf = self.path("lighttpd.conf")
        with open(conf, "w") as f:
            f.write("""# generated by test_deploy.py: what /etc/lighttpd/lighttpd.conf says
server.modules = ( "mod_access", "mod_accesslog" )
server.document-root = "%(d)s/docroot"
server.bind = "%(host)s"
server.port = %(port)d
%(user)sserver.errorlog = "%(d)s/log/lighttpd-error.log"
accesslog.filename = "%(d)s/log/lighttpd-access.log"
server.upload-dirs = ( "%(d)s/tmp" )
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".jpg" => "image/jpeg" )
include "%(snippet)s"
""" % {"d": d, "host": HOST, "port": port, "user": user, "snippet": snippet})
        return ["lighttpd", "-D", "-f", conf]

    def apache_main(self, port, snippet, modules):
        d = self.dir
        user = "User %s\nGroup %s\n" % (WEB_USER, WEB_USER) if AS_ROOT else ""
        loads = "".join("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n" % (m, m)
                        for m in ["mpm_event", "authz_core", "mime", "dir"] + modules)
        fcgid = ""
        if "fcgid" in modules:
            os.mkdir(self.path("run", "fcgid"), 0o755)
            if AS_ROOT:
                os.chown(self.path("run", "fcgid"), *_web_ids())
            fcgid = "FcgidIPCDir %s/run/fcgid\nFcgidProcessTableFile %s/run/fcgid_shm\n" % (d, d)
        conf = self.path("httpd.conf")
        with open(conf, "w") as f:
            f.write("""# generated by test_deploy.py: what /etc/apache2/apache2.conf says
ServerRoot "%(d)s"
ServerName localhost
Listen %(host)s:%(port)d
PidFile %(d)s/apache2.pid
DefaultRuntimeDir %(d)s/run
Mutex file:%(d)s/run default
ErrorLog %(d)s/apache-error.log
LogLevel warn
%(user)s%(loads)sTypesConfig /etc/mime.types
DocumentRoot "%(d)s/docroot"
DirectoryIndex index.html
<Directory "%(d)s/docroot">
    Require all granted
</Directory>
%(fcgid)sInclude %(snippet)s
""" % {"d": d, "host": HOST, "port": port, "user": user, "loads": loads,
       "fcgid": fcgid, "snippet": snippet})
        return ["apache2", "-d", d, "-f", conf, "-DFOREGROUND"]

    # -------------------------------------------------------- processes
    def spawn(self, name, argv):
        log = open(self.path("%s.log" % name), "ab")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, cwd=self.dir,
                                 start_new_session=True)
        finally:
            log.close()
        self.procs.append((name, p))
        return p

    def start_front(self, name, make_argv):
        """Starts a front end on a free port (make_argv(port) writes its
        config); another port if that one was taken meanwhile. Polls until
        it answers HTTP. Returns the port."""
        for attempt in range(3):
            port = webservers.free_port()
            p = self.spawn(name, make_argv(port))
            end = time.monotonic() + DEADLINE
            while time.monotonic() < end:
                if p.poll() is not None:
                    break
                try:
                    http_get(port, "/", timeout=2)
                    return port
                except (OSError, http.client.HTTPException):
                    time.sleep(0.05)
            self._stop_one(name, p)
            self.procs = [(n, q) for n, q in self.procs if q is not p]
            if attempt == 2 or p.returncode is None:
                break
        raise AssertionError("%s did not answer on %s:%d\n%s" % (name, HOST, port, self.logs()))

    def start_mediafcgi(self, name, argv, sock=None, port=None):
        """mediafcgi (or a launcher of it) on its own; polls until the unix
        socket or TCP port accepts a connection."""
        p = self.spawn(name, argv)
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if p.poll() is not None:
                raise AssertionError("%s exited with %s\n%s" % (name, p.returncode, self.logs()))
            try:
                if sock:
                    with socket.socket(socket.AF_UNIX) as c:
                        c.connect(sock)
                else:
                    socket.create_connection((HOST, port), timeout=1).close()
                return p
            except OSError:
                time.sleep(0.05)
        raise AssertionError("%s did not listen\n%s" % (name, self.logs()))

    def _stop_one(self, name, p, grace=15.0):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def _ours(self):
        """PIDs still running that belong to this deployment: in the process
        group of a process it started, or naming its temp dir."""
        groups = {p.pid for _, p in self.procs}
        mark = self.dir.encode()
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            pid = int(d)
            if procs.is_gone(pid):
                continue
            if procs.pgid(pid) in groups or mark in procs.cmdline(pid):
                out.append(pid)
        return out

    def stop(self):
        """Stops everything; returns what was still running after a clean
        stop and had to be killed (the tests want none)."""
        for argv in self.stops:
            subprocess.run(argv, timeout=60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, p in reversed(self.procs):
            self._stop_one(name, p)
        end = time.monotonic() + 5
        left = self._ours()
        while left and time.monotonic() < end:
            time.sleep(0.1)
            left = self._ours()
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if os.environ.get("MEDIAFCGI_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        return [(pid, procs.cmdline(pid).replace(b"\0", b" ").decode(errors="replace")) for pid in left]

    def logs(self):
        out = []
        for sub in ("", "log"):
            where = self.path(sub)
            for f in sorted(os.listdir(where)) if os.path.isdir(where) else []:
                if f.endswith(".log"):
                    with open(os.path.join(where, f), "rb") as fh:
                        text = fh.read()[-3000:].decode(errors="replace")
                    out.append("---- %s\n%s" % (os.path.join(sub, f), text))
        return "\n".join(out)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        left = self.stop()
        if exc[0] is None:
            assert not left, "left running after a clean stop: %s" % left
        return False


def nginx_site(d, example, port, **subs):
    """nginx's top-level config including examples/EXAMPLE filled in: the
    main listener on port, the live listener (nginx-unix, nginx-tcp,
    nginx-upstream) on another free port, kept in d.live_port."""
    d.live_port = webservers.free_port()
    return d.nginx_main(d.example(example, LISTEN="%s:%d" % (HOST, port),
                                  LIVE_LISTEN="%s:%d" % (HOST, d.live_port),
                                  LIVE_PORT=d.live_port, DOCROOT=d.path("docroot"), **subs))


def _mediafcgi_cmd(d, conf, *extra):
    return [d.binary, "--foreground", "--config", conf, *extra]


def _launch(d, example):
    """mediafcgi and the front end of one single-instance example, started
    as that example says; returns the front end's port."""
    sock = d.path("run", "mediafcgi.sock")
    if example == "apache-fcgid.conf":
        _need("apache2")
        if not os.path.exists("/usr/lib/apache2/modules/mod_fcgid.so"):
            pytest.fail("libapache2-mod-fcgid is not installed (run scripts/deps.sh)")
        conf = d.mediafcgi_conf(workers=None)       # the example says --workers 1
        snippet = d.example(example, MEDIAFCGI=d.binary, CONFIG=conf)
        return d.start_front("apache2", lambda port: d.apache_main(port, snippet, ["fcgid"]))
    conf = d.mediafcgi_conf()
    if example == "lighttpd-bin-path.conf":
        _need("lighttpd")
        snippet = d.example(example, MEDIAFCGI=d.binary, CONFIG=conf, SOCKET=sock)
        return d.start_front("lighttpd", lambda port: d.lighttpd_main(port, snippet))
    if example == "nginx-tcp.conf":
        _need("nginx")
        fport = webservers.free_port()
        d.start_mediafcgi("mediafcgi", _mediafcgi_cmd(d, conf, "--listen", "%s:%d" % (HOST, fport)),
                          port=fport)
        return d.start_front("nginx", lambda port: nginx_site(d, example, port, FCGI_PORT=fport))
    front = example.split("-")[0]
    _need("apache2" if front == "apache" else front)
    d.start_mediafcgi("mediafcgi", _mediafcgi_cmd(d, conf, "--listen", "unix:" + sock), sock=sock)
    if example == "nginx-unix.conf":
        return d.start_front("nginx", lambda port: nginx_site(d, example, port, SOCKET=sock))
    snippet = d.example(example, SOCKET=sock)
    if example == "lighttpd-socket.conf":
        return d.start_front("lighttpd", lambda port: d.lighttpd_main(port, snippet))
    assert example == "apache-proxy-fcgi.conf", example
    return d.start_front("apache2", lambda port: d.apache_main(
        port, snippet, ["proxy", "proxy_fcgi"]))


# ------------------------------------------------------------------ nginx

@pytest.mark.parametrize("socket_from", ["listen", "systemd"])
def test_nginx_unix(media, socket_from):
    """nginx-unix.conf. systemd: the socket on fd 0, as mediafcgi.socket and
    StandardInput=socket give it (systemd-socket-activate --inetd makes the
    socket, and starts mediafcgi on it at the first connection; the test
    gives it the owner and mode of mediafcgi.socket)."""
    _need("nginx", "systemd-socket-activate")
    with Deploy(media, "nginx-unix") as d:
        conf = d.mediafcgi_conf()
        sock = d.path("run", "mediafcgi.sock")
        if socket_from == "listen":
            d.start_mediafcgi("mediafcgi", _mediafcgi_cmd(d, conf, "--listen", "unix:" + sock),
                              sock=sock)
        else:
            d.spawn("mediafcgi", ["systemd-socket-activate", "--inetd", "-l", sock,
                                  d.binary, "--config", conf])
            end = time.monotonic() + DEADLINE
            while not os.path.exists(sock):
                assert time.monotonic() < end, "no socket\n" + d.logs()
                time.sleep(0.02)
            if AS_ROOT:
                os.chown(sock, *_web_ids())       # SocketUser/SocketGroup=www-data
            os.chmod(sock, 0o660)                 # SocketMode=0660
        port = d.start_front("nginx", lambda port: nginx_site(d, "nginx-unix.conf", port,
                                                              SOCKET=sock))
        check_media(port, d.logs)
        if socket_from == "systemd":
            master = d.procs[0][1].pid
            assert os.path.realpath("/proc/%d/exe" % master) == os.path.realpath(d.binary), \
                "systemd-socket-activate did not exec mediafcgi"
            assert len(procs.workers(master)) == 2, "expected 2 workers"


def test_nginx_tcp(media):
    with Deploy(media, "nginx-tcp") as d:
        check_media(_launch(d, "nginx-tcp.conf"), d.logs)


def test_spawn_fcgi_nginx(media):
    """spawn-fcgi.sh start/status/stop, nginx-unix.conf in front. spawn-fcgi
    gives the socket to www-data (0660) and runs mediafcgi as www-data."""
    _need("nginx", "spawn-fcgi")
    with Deploy(media, "spawn-fcgi") as d:
        conf = d.mediafcgi_conf()
        sock = d.path("run", "mediafcgi.sock")
        pidfile = d.path("run", "mediafcgi.pid")
        script = d.example("spawn-fcgi.sh", SOCKET=sock, PIDFILE=pidfile,
                           MEDIAFCGI=d.binary, CONFIG=conf)
        d.stops.append(["sh", script, "stop"])
        r = subprocess.run(["sh", script, "start"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        assert subprocess.run(["sh", script, "status"], capture_output=True).returncode == 0
        master = int(open(pidfile).read())
        st = os.stat(sock)
        assert oct(st.st_mode & 0o777) == oct(0o660), oct(st.st_mode)
        if AS_ROOT:
            assert (st.st_uid, st.st_gid) == _web_ids()
            assert os.stat("/proc/%d" % master).st_uid == _web_ids()[0], "not run as www-data"
        port = d.start_front("nginx", lambda port: nginx_site(d, "nginx-unix.conf", port,
                                                              SOCKET=sock))
        check_media(port, d.logs)
        workers = procs.children(master)
        assert workers, "no workers under the spawned master %d" % master
        r = subprocess.run(["sh", script, "stop"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r
        assert procs.is_gone(master) and all(procs.is_gone(w) for w in workers)
        assert not os.path.exists(pidfile) and not os.path.exists(sock)
        d.stops.clear()


# ------------------------------------------------------------------ lighttpd

def test_lighttpd_socket(media):
    with Deploy(media, "lighttpd-socket") as d:
        check_media(_launch(d, "lighttpd-socket.conf"), d.logs)


def test_lighttpd_bin_path(media):
    """lighttpd starts mediafcgi (max-procs 1) on a socket it made, fd 0."""
    with Deploy(media, "lighttpd-bin-path") as d:
        check_media(_launch(d, "lighttpd-bin-path.conf"), d.logs)
        masters = [c for c in procs.children(d.procs[0][1].pid)
                   if os.path.realpath("/proc/%d/exe" % c) == os.path.realpath(d.binary)]
        assert len(masters) == 1, "lighttpd should start one mediafcgi: %s" % masters
        assert len(procs.workers(masters[0])) == 2


# ------------------------------------------------------------------ Apache

def test_apache_proxy_fcgi(media):
    with Deploy(media, "apache-proxy-fcgi") as d:
        check_media(_launch(d, "apache-proxy-fcgi.conf"), d.logs)


def test_apache_fcgid(media):
    """mod_fcgid starts mediafcgi itself (fd 0 is a unix socket it made) with
    --workers 1, as Apache's user; it sends one request at a time to each
    process it started and starts more (up to FcgidMaxProcessesPerClass)
    when requests overlap."""
    with Deploy(media, "apache-fcgid") as d:
        port = _launch(d, "apache-fcgid.conf")
        check_media(port, d.logs)
        # Overlapping requests: all answered (by up to 4 one-worker processes).
        with concurrent.futures.ThreadPoolExecutor(6) as ex:
            got = list(ex.map(lambda i: http_get(port, "/media/photo.jpg?size=%dx" % (100 + i)),
                              range(12)))
        assert [r.status for r in got] == [200] * 12, got
        masters = [p for p in d._ours()
                   if os.path.realpath("/proc/%d/exe" % p) == os.path.realpath(d.binary)
                   and procs.children(p)]
        assert 1 <= len(masters) <= 4, masters
        for m in masters:
            assert len(procs.workers(m)) == 1, "--workers 1 not applied"
            if AS_ROOT:
                assert os.stat("/proc/%d" % m).st_uid == _web_ids()[0]


# ------------------------------------------------------------------ scale-out

def _two_instances(d, workers=2):
    """Two instances on TCP: the second serves a copy of the media (other
    inodes, same sizes and mtimes), as another host would."""
    copy = d.path("media2")
    shutil.copytree(d.media_root, copy)         # copy2: keeps mtimes
    ports = []
    for i, root in enumerate((d.media_root, copy), 1):
        port = webservers.free_port()
        conf = d.mediafcgi_conf("mediafcgi%d.conf" % i, root=root, workers=workers,
                                extra={"access_log": d.path("access%d.log" % i)})
        d.start_mediafcgi("mediafcgi%d" % i,
                          _mediafcgi_cmd(d, conf, "--listen", "%s:%d" % (HOST, port)), port=port)
        ports.append(port)
    return ports


def _upstream_front(d, ports):
    return d.start_front("nginx", lambda port: nginx_site(
        d, "nginx-upstream.conf", port,
        BACKEND1="%s:%d" % (HOST, ports[0]), BACKEND2="%s:%d" % (HOST, ports[1])))


def test_scale_out_same_etag_from_every_instance(media):
    _need("nginx")
    with Deploy(media, "scale-etag") as d:
        p1, p2 = _two_instances(d)
        for uri in (THUMB, POSTER, "/media/photo.jpg?fit=cover&size=120x120&format=png",
                    "/media/video.mp4?sprite=2x2&size=80x45"):
            a, b = fcgi_get(p1, uri), fcgi_get(p2, uri)
            assert a.status == b.status == 200, (uri, a, b)
            assert a.headers.get("etag") and a.headers["etag"] == b.headers.get("etag"), \
                (uri, a.headers, b.headers)
            assert a.headers.get("last-modified") == b.headers.get("last-modified")
            assert a.body == b.body, uri
            # Either instance revalidates the other's ETag.
            assert fcgi_get(p2, uri, {"If-None-Match": a.headers["etag"]}).status == 304
        port = _upstream_front(d, (p1, p2))
        check_media(port, d.logs)
        etag = fcgi_get(p1, THUMB).headers["etag"]
        for _ in range(4):      # round robin: both instances
            assert http_get(port, THUMB, {"If-None-Match": etag}).status == 304


def test_scale_out_one_instance_killed_under_load_loses_nothing(media):
    """4 threads x 100 requests through the upstream; after 80 answers the
    first instance (master and workers) is SIGKILLed. nginx retries what
    failed on the other (fastcgi_next_upstream error timeout): every answer
    is a complete 200."""
    _need("nginx")
    with Deploy(media, "scale-kill") as d:
        p1, p2 = _two_instances(d)
        port = _upstream_front(d, (p1, p2))
        master = dict(d.procs)["mediafcgi1"]
        victims = [master.pid] + procs.children(master.pid)
        assert len(victims) == 3, victims
        done = []
        lock = threading.Lock()
        killed = threading.Event()
        done_at_kill = []

        def one(i):
            w = 64 + (i * 7) % 200
            if i % 5 == 0:
                path, want = "/media/video.mp4?t=%d&size=%dx" % (i % 3, w), None
            else:
                path, want = "/media/photo.jpg?size=%dx" % w, (w, w * 3 / 4)
            try:
                r = http_get(port, path)
                ok = r.status == 200 and r.content_type == "image/jpeg"
                size = image_size(r) if ok else None
                res = (path, r.status, size, want)
            except Exception as e:      # a cut answer: IncompleteRead, reset
                res = (path, repr(e), None, want)
            with lock:
                done.append(res)
                if len(done) == 80 and not killed.is_set():
                    done_at_kill.append(len(done))
                    for pid in victims:
                        os.kill(pid, signal.SIGKILL)
                    killed.set()
            return res

        def worker(t):
            return [one(t * 100 + k) for k in range(100)]

        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            results = [r for rs in ex.map(worker, range(4)) for r in rs]
        assert killed.is_set() and done_at_kill[0] < 400
        master.wait(5)
        assert all(procs.is_gone(p) for p in victims), "instance 1 still running: %s" % victims
        bad = [r for r in results if r[1] != 200 or (
            r[3] and (r[2][0] != r[3][0] or abs(r[2][1] - r[3][1]) > 0.5))]
        assert not bad, "%d of %d requests failed: %s\n%s" % (len(bad), len(results), bad[:10],
                                                              d.logs())
        assert len(results) == 400
        with open(d.path("access1.log")) as f1, open(d.path("access2.log")) as f2:
            n1, n2 = len(f1.readlines()), len(f2.readlines())
        assert n1 > 0 and n2 > 0, "both instances served (%d, %d)" % (n1, n2)
        # The survivor still serves; the victim stays out of the way.
        check_media(port, d.logs)


# ------------------------------------------------------------------ streams

SINGLE = ["nginx-unix.conf", "nginx-tcp.conf", "lighttpd-socket.conf", "lighttpd-bin-path.conf",
          "apache-proxy-fcgi.conf", "apache-fcgid.conf"]


@pytest.mark.parametrize("example", SINGLE)
def test_live_frames_arrive_as_produced_through(media, example):
    """Each example's streaming settings (nginx: X-Accel-Buffering: no from
    mediafcgi; lighttpd: stream-response-body = 2; Apache: flushpackets=on,
    FcgidOutputBufferSize 0): the first frames of a live source (cam1, the
    test video played at its own pace, fps = 5) reach the client one by
    one as the reader produces them, and a snapshot is one JPEG. The client
    then hangs up; the stream process and the reader must end (Deploy
    checks nothing is left running after the stop)."""
    with Deploy(media, "live") as d:
        port = _launch(d, example)
        _, parts = http_stream_parts(port, "/live/cam1")
        check_stream_parts(parts, d.logs)
        r = http_get(port, "/live/cam1?snapshot", follow=True)
        assert r.status == 200 and r.content_type == "image/jpeg", r
        assert image_size(r) == POSTER_SIZE




def test_stream_frames_leave_mediafcgi_as_produced(media):
    """Straight over FastCGI, no front end: the first frames of
    format=mjpeg arrive one by one, with X-Accel-Buffering: no."""
    with Deploy(media, "stream-direct") as d:
        port = webservers.free_port()
        d.start_mediafcgi("mediafcgi", _mediafcgi_cmd(d, d.mediafcgi_conf(), "--listen",
                                                      "%s:%d" % (HOST, port)), port=port)
        headers, parts = fcgi_stream_parts(port, STREAM)
        assert headers.get("x-accel-buffering") == "no", headers
        check_stream_parts(parts, d.logs)


@pytest.mark.parametrize("example", SINGLE)
def test_stream_frames_arrive_as_produced_through(media, example):
    """The same for a file: a few frames of format=mjpeg reach the client
    as they are produced through each example."""
    with Deploy(media, "stream") as d:
        port = _launch(d, example)
        _, parts = http_stream_parts(port, STREAM)
        check_stream_parts(parts, d.logs)


# ------------------------------------------------------------------ docs

def test_every_example_is_run():
    """A new file in examples/ needs a test here (RUN names it)."""
    assert sorted(os.listdir(EXAMPLES)) == sorted(RUN), \
        "examples/ and RUN differ: %s" % sorted(set(os.listdir(EXAMPLES)) ^ set(RUN))
    names = [n for n in globals() if n.startswith("test_")]
    for example, test in RUN.items():
        if test:
            assert any(re.fullmatch(test.replace("*", ".*"), n) for n in names), (example, test)


def _man_text(page):
    with open(os.path.join(MAN, page)) as f:
        return f.read().replace("\\-", "-")


def test_man_pages_document_every_key_and_flag():
    """mediafcgi.conf(5) names every key config.c accepts, mediafcgi(8)
    every long option of main.c."""
    code = ""
    # every file of fcgi/ that reads keys: the config, [program NAME] keys
    for path in sorted(glob.glob(os.path.join(REPO, "fcgi", "**", "*.c"), recursive=True)):
        with open(path) as f:
            code += f.read()
    keys = set(re.findall(r'strcmp\(key, "([a-z_]+)"\)', code))
    keys |= set(re.findall(r'strncmp\(key, "([a-z_]+\.)", \d+\)', code))    # param.NAME
    keys |= set(re.findall(r'(?m)^\s+NUM\(([a-z_]+),', code))  # [media]'s table of numbers
    sections = set(re.findall(r'strcmp\(section, "([a-z]+)"\)', code))
    sections |= set(re.findall(r'strncmp\(section, "([a-z]+) ", \d+\)', code))
    keys -= {"preset", "info"}          # the keys a preset may not hold
    assert len(keys) > 20, keys
    conf5 = _man_text("mediafcgi.conf.5")
    documented = set(re.findall(r"(?m)^\.TP\n\.BI? ([a-z_]+\.?)", conf5))
    assert keys <= documented, "mediafcgi.conf.5 lacks %s" % sorted(keys - documented)
    for s in sections:
        assert re.search(r"\[%s( NAME)?\]" % s, conf5), "mediafcgi.conf.5 lacks [%s]" % s
    with open(os.path.join(REPO, "fcgi", "proc", "main.c")) as f:
        flags = set(re.findall(r'\{ "([a-z-]+)", (?:no|required)_argument', f.read()))
    page8 = _man_text("mediafcgi.8")
    for flag in flags:
        assert re.search(r"(?m)^\.BI? --%s\b" % flag, page8), "mediafcgi.8 lacks --%s" % flag


def test_build_depends_cover_the_makefile_libraries():
    """Every pkg-config name of the Makefile (PKGS, TEST_PKGS) comes from a
    package debian/control lists in Build-Depends: a clean build machine
    installs only those."""
    with open(os.path.join(REPO, "Makefile")) as f:
        mk = f.read()
    names = []
    for var in ("PKGS", "TEST_PKGS"):
        m = re.search(r"(?m)^%s\s*:?=(.*)$" % var, mk)
        assert m, "no %s in the Makefile" % var
        names += m.group(1).split()
    with open(os.path.join(REPO, "debian", "control")) as f:
        control = f.read()
    m = re.search(r"(?ms)^Build-Depends:(.*?)^\S", control)
    build_deps = set(re.findall(r"([a-z0-9][a-z0-9.+-]+)", m.group(1)))
    for name in names:
        pc = subprocess.run(["pkg-config", "--path", name], capture_output=True, text=True)
        assert pc.returncode == 0, "pkg-config does not know %s" % name
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(pc.stdout.strip())],
                               capture_output=True, text=True)
        assert owner.returncode == 0, "no package owns %s" % pc.stdout
        pkg = owner.stdout.split(":")[0]
        assert pkg in build_deps, "%s (%s) is not in Build-Depends" % (pkg, name)


def test_packaged_config_is_accepted(tmp_path, media):
    """debian/conf/mediafcgi.conf, root aside, passes --test-config."""
    _need_binary()
    with open(PACKAGED_CONF) as f:
        text = f.read()
    assert re.search(r"(?m)^user = www-data$", text) and not re.search(r"(?m)^listen", text)
    conf = tmp_path / "mediafcgi.conf"
    conf.write_text(re.sub(r"(?m)^root = .*$", "root = %s" % media, text))
    r = subprocess.run([webservers.mediafcgi_bin(), "--config", str(conf), "--test-config"],
                       capture_output=True, text=True, timeout=20)
    if AS_ROOT:
        assert r.returncode == 0 and "config ok" in r.stdout, r
    else:       # user = www-data needs starting as root
        assert r.returncode == 1 and "www-data" in r.stderr, r
