"""
webservers - mediafcgi behind a real web server on loopback, in one call.

    with Stack(front="nginx", media_root="/srv/m") as s:
        r = s.get("/media/x.jpg?size=300x200")
        print(s.url("/media/x.jpg"), r.status, r.headers["Content-Type"])

A Stack owns a temporary directory holding the generated configs, the
unix socket, the pid files, the temp paths and the logs of both servers;
everything it starts is stopped (SIGTERM, then SIGKILL after a deadline)
and the directory removed when it stops. Nothing outside it is touched:
no system config (/etc/nginx is not read), no system service, no fixed
port unless one is asked for (`make run` asks for 8080; tests take a free
one chosen at run time).

Front ends:
  nginx     nginx -p TMP -c TMP/nginx.conf -e TMP/nginx-error.log
            -g 'daemon off;', master process with 2 workers, fastcgi_pass
            unix:SOCK with the fastcgi_param lines spelled out here.
  lighttpd  lighttpd -D -f TMP/lighttpd.conf, mod_fastcgi at the socket,
            "check-local" => "disable", server.stream-response-body = 2.
How mediafcgi is started (launch=):
  listen     mediafcgi --foreground --listen unix:SOCK --config CONF
  spawn-fcgi spawn-fcgi -n -s SOCK -- mediafcgi --foreground --config CONF
             (the socket is inherited as fd 0)
  bin-path   lighttpd only: lighttpd spawns mediafcgi itself on fd 0
Both front ends serve static files (index.html) from docroot and hand the
mount prefix (default /media/) to mediafcgi; mount "/" hands it everything.
Besides the mount they hand mediafcgi the prefixes of fcgi_paths (a path
ending in "/" is a prefix, another one an exact path); by default these
come from config_extra: the live_path prefix (default /live/) when a
[source NAME] is configured, and status_path / health_path when they lie
outside the mount. listen_sndbuf="8k" (nginx only) puts sndbuf= on the
listener and fastcgi_buffer_size="4k" that line in every FastCGI location:
the documented way to keep a slow stream viewer live (README, "Live
sources" and "Streams"), for a stack that serves streams; by default the
listener keeps the kernel's socket buffers and nginx its default buffer.

Only the Python standard library is used (and support.procs, which uses
only it), so scripts (serve.py, bench) can import this from
/usr/bin/python3 without anything else.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from support import procs

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
HOST = "127.0.0.1"
FRONTS = ("nginx", "lighttpd")
LAUNCHES = ("listen", "spawn-fcgi", "bin-path")


class StackError(RuntimeError):
    """A server did not start, or died; the message carries its logs."""


def mediafcgi_bin():
    """The binary under test: $MEDIAFCGI_BIN, else build/mediafcgi."""
    return os.environ.get("MEDIAFCGI_BIN") or os.path.join(REPO, "build", "mediafcgi")


def free_port(host=HOST):
    """A TCP port nothing listens on now (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port, host=HOST):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _tail(path, limit=4000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "(no %s)" % os.path.basename(path)
    text = data[-limit:].decode("utf-8", "replace")
    return text if text.strip() else "(%s is empty)" % os.path.basename(path)


class Response:
    """What the client got: status, reason, headers (case-insensitive), body."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %d %s, %s, %d bytes: %r>" % (
            self.status, self.reason, self.content_type, len(self.body), self.body[:160])


def http_request(host, port, method, path, headers=None, body=None, timeout=30):
    """Sends path exactly as given (no normalisation, no quoting) on a
    fresh connection and returns a Response. HEAD reads no body."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.reason, r.headers, data)
    finally:
        conn.close()


class Stack:
    """mediafcgi + a front end on loopback. Use as a context manager."""

    def __init__(self, front="nginx", media_root=None, docroot=None, mount="/media",
                 port=0, host=HOST, workers=2, launch="listen", config_extra=None,
                 binary=None, deadline=10.0, front_workers=2, fcgi_paths=None,
                 listen_sndbuf=None, fastcgi_buffer_size=None, worker_connections=512):
        if front not in FRONTS:
            raise ValueError("front must be one of %s" % (FRONTS,))
        if launch not in LAUNCHES:
            raise ValueError("launch must be one of %s" % (LAUNCHES,))
        if launch == "bin-path" and front != "lighttpd":
            raise ValueError("launch=bin-path is a lighttpd feature")
        if media_root is None:
            raise ValueError("media_root is required")
        mount = "/" + mount.strip("/") if mount and mount.strip("/") else ""
        self.front = front
        self.media_root = os.path.abspath(media_root)
        self.given_docroot = os.path.abspath(docroot) if docroot else None
        self.docroot = None
        self.mount = mount                    # "" = mediafcgi answers everything
        self.host = host
        self.fixed_port = port
        self.port = None
        self.workers = workers
        self.front_workers = front_workers
        self.worker_connections = worker_connections
        self.launch = launch
        self.config_extra = config_extra or {}
        self.binary = binary or mediafcgi_bin()
        self.deadline = deadline
        self.dir = None
        self.procs = {}                       # name -> Popen
        self.final_log = ""                   # mediafcgi's log, saved by stop()
        for key, v in (("listen_sndbuf", listen_sndbuf),
                       ("fastcgi_buffer_size", fastcgi_buffer_size)):
            if v is None:
                continue
            if front != "nginx":
                raise ValueError("%s is an nginx setting" % key)
            if not str(v).rstrip("kKmM").isdigit():
                raise ValueError("%s: a size such as 8k, not %r" % (key, v))
        self.listen_sndbuf = listen_sndbuf
        self.fastcgi_buffer_size = fastcgi_buffer_size
        self.fcgi_paths = self._extra_fcgi_paths(fcgi_paths)

    def _extra_fcgi_paths(self, given):
        """The paths handed to mediafcgi besides the mount: the given ones,
        or those the config names (live_path when a source is configured,
        status and health paths outside the mount). A path ending in "/" is
        a prefix, another one an exact path."""
        if not self.mount:
            return []                         # mediafcgi answers everything
        if given is None:
            srv = self.config_extra.get("server", {})
            given = []
            if any(sec.startswith("source ") for sec in self.config_extra):
                given.append(str(srv.get("live_path", "/live")).rstrip("/") + "/")
            for key in ("status_path", "health_path"):
                if srv.get(key):
                    given.append(str(srv[key]))
        out = []
        for path in given:
            if not path.startswith("/") or any(c in path for c in " \t\n\"'{};#"):
                raise ValueError("fcgi_paths: %r is not a plain URL path" % (path,))
            if path.startswith(self.mount + "/") or path in out:
                continue                      # the mount's location has it
            out.append(path)
        return out

    # ------------------------------------------------------------ paths
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def sock(self):
        return self.path("mediafcgi.sock")

    @property
    def conf(self):
        return self.path("mediafcgi.conf")

    @property
    def base(self):
        return "http://%s:%d" % (self.host, self.port)

    def url(self, path="/"):
        return self.base + path

    # ------------------------------------------------------------ lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        # Under `make check SAN=1` every stack fails its test on a sanitizer
        # report, even one from a worker that answered and was respawned.
        reports = self.sanitizer_reports()
        if reports and exc[0] is None:
            raise StackError("sanitizer reports in mediafcgi's log:\n" + "\n".join(reports[:20]))
        return False

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise StackError("%s is not an executable: run make first" % self.binary)
        self.dir = tempfile.mkdtemp(prefix="mediafcgi-%s-" % self.front)
        # nginx and lighttpd drop to other users only when told to; keep the
        # directory traversable anyway so a worker user could reach the socket.
        os.chmod(self.dir, 0o755)
        os.mkdir(self.path("tmp"))
        self.docroot = self.given_docroot
        if self.docroot is None:
            self.docroot = self.path("docroot")
            os.mkdir(self.docroot)
            with open(os.path.join(self.docroot, "index.html"), "w") as f:
                f.write("<!doctype html><title>mediafcgi</title><p>mediafcgi test front end\n")
        try:
            self._write_mediafcgi_conf()
            if self.launch != "bin-path":
                self._start_mediafcgi()
            # A port chosen now may be taken before the front end binds it;
            # try a few fresh ones (never when a fixed port was asked for).
            tries = 1 if self.fixed_port else 3
            for attempt in range(tries):
                self.port = self.fixed_port or free_port(self.host)
                try:
                    self._start_front()
                    break
                except StackError:
                    if attempt + 1 == tries or self.fixed_port:
                        raise
                    self._stop_proc(self.front)
            self._wait_front()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stops the front end, then mediafcgi; removes the temp dir.
        Returns the list of leftover PIDs that had to be killed."""
        leftovers = []
        for name in (self.front, "mediafcgi"):
            if name in self.procs:
                leftovers += self._stop_proc(name)
        if self.dir:
            # what mediafcgi logged (stderr, or lighttpd's log for bin-path),
            # kept for checks made after the directory is gone
            self.final_log = "".join(
                _tail(self.path(n), 1 << 20) for n in ("mediafcgi.log", "lighttpd-error.log"))
        if self.dir and os.environ.get("MEDIAFCGI_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        return leftovers

    def logs(self):
        """The tail of every log, for failure messages."""
        if not self.dir:
            return "(stopped)"
        out = []
        for name in ("mediafcgi.log", "%s-error.log" % self.front, "%s.out" % self.front):
            out.append("---- %s\n%s" % (name, _tail(self.path(name))))
        return "\n".join(out)

    def sanitizer_reports(self):
        """ASan/UBSan/LSan reports in mediafcgi's log (after stop()), for
        `make check SAN=1`: a worker that trips a sanitizer may still have
        answered, or been respawned unnoticed."""
        marks = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                 "SUMMARY: UndefinedBehaviorSanitizer")
        return [line for line in self.final_log.splitlines() if any(m in line for m in marks)]

    def mediafcgi_pid(self):
        """PID of the mediafcgi master (for launch=bin-path, lighttpd's child)."""
        if "mediafcgi" in self.procs:
            return self.procs["mediafcgi"].pid
        if self.front in self.procs:
            want = os.path.realpath(self.binary)
            for c in procs.children(self.procs[self.front].pid):
                try:
                    if os.path.realpath(os.readlink("/proc/%d/exe" % c)) == want:
                        return c
                except OSError:
                    continue
        return None

    def worker_pids(self):
        pid = self.mediafcgi_pid()
        return procs.children(pid) if pid else []

    # ------------------------------------------------------------ requests
    def request(self, method, path, headers=None, body=None, timeout=30):
        """http_request() to this stack's front end."""
        return http_request(self.host, self.port, method, path, headers, body, timeout)

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def head(self, path, headers=None):
        return self.request("HEAD", path, headers=headers)

    # ------------------------------------------------------------ internals
    def _spawn(self, name, argv, log, env=None):
        out = open(self.path(log), "ab")
        try:
            # Own session: a SIGKILL fallback can reach every process it forked.
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, cwd=self.dir,
                                 start_new_session=True, env=env)
        finally:
            out.close()
        self.procs[name] = p
        return p

    def _stop_proc(self, name, grace=10.0):
        p = self.procs.pop(name, None)
        if p is None:
            return []
        pgid = p.pid                      # start_new_session: pgid == pid
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        # Anything still in its process group (a worker the master did not
        # take down) is killed; the caller can report it.
        left = []
        end = time.monotonic() + 3.0
        while procs.group_alive(pgid) and time.monotonic() < end:
            time.sleep(0.05)
        if procs.group_alive(pgid):
            left = procs.group(pgid, zombies=True)
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return left

    def _write_mediafcgi_conf(self):
        sections = {
            "server": {"workers": str(self.workers)},
            "media": {"root": self.media_root},
        }
        if self.mount:
            sections["media"]["mount"] = self.mount
        if os.geteuid() == 0:
            # Tests run as root on CI; their media roots are private temp
            # dirs, so the workers stay root (mediafcgi refuses unless told).
            sections["server"]["allow_root"] = "yes"
        for sec, kv in self.config_extra.items():
            sections.setdefault(sec, {}).update({k: str(v) for k, v in kv.items()})
        with open(self.conf, "w") as f:
            for sec, kv in sections.items():
                f.write("[%s]\n" % sec)
                for k, v in kv.items():
                    f.write("%s = %s\n" % (k, v))
                f.write("\n")

    def _mediafcgi_argv(self):
        return [self.binary, "--foreground", "--config", self.conf]

    def _start_mediafcgi(self):
        if self.launch == "listen":
            argv = self._mediafcgi_argv()[:1] + ["--listen", "unix:" + self.sock] \
                + self._mediafcgi_argv()[1:]
        else:   # spawn-fcgi: -n execs the program in place, socket on fd 0
            argv = ["spawn-fcgi", "-n", "-s", self.sock, "-M", "0666", "--"] \
                + self._mediafcgi_argv()
        p = self._spawn("mediafcgi", argv, "mediafcgi.log")
        end = time.monotonic() + self.deadline
        while True:
            if p.poll() is not None:
                raise StackError("mediafcgi exited with %s before listening:\n%s"
                                 % (p.returncode, self.logs()))
            if os.path.exists(self.sock):
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                    try:
                        c.connect(self.sock)
                        return
                    except OSError:
                        pass
            if time.monotonic() > end:
                raise StackError("mediafcgi did not listen on %s within %.0f s:\n%s"
                                 % (self.sock, self.deadline, self.logs()))
            time.sleep(0.02)

    def _start_front(self):
        if self.front == "nginx":
            conf = self.path("nginx.conf")
            with open(conf, "w") as f:
                f.write(self._nginx_conf())
            argv = ["nginx", "-p", self.dir + "/", "-c", conf,
                    "-e", self.path("nginx-error.log"), "-g", "daemon off;"]
        else:
            conf = self.path("lighttpd.conf")
            with open(conf, "w") as f:
                f.write(self._lighttpd_conf())
            argv = ["lighttpd", "-D", "-f", conf]
        p = self._spawn(self.front, argv, "%s.out" % self.front)
        # Fails fast (address in use, config error) or keeps running.
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            if p.poll() is not None:
                raise StackError("%s exited with %s at start:\n%s"
                                 % (self.front, p.returncode, self.logs()))
            time.sleep(0.02)

    def _wait_front(self):
        """Polls until the front end answers HTTP (any status)."""
        p = self.procs[self.front]
        end = time.monotonic() + self.deadline
        last = None
        while time.monotonic() < end:
            if p.poll() is not None:
                raise StackError("%s exited with %s:\n%s" % (self.front, p.returncode, self.logs()))
            if "mediafcgi" in self.procs and self.procs["mediafcgi"].poll() is not None:
                raise StackError("mediafcgi exited with %s:\n%s"
                                 % (self.procs["mediafcgi"].returncode, self.logs()))
            try:
                self.request("GET", "/", timeout=2)
                return
            except (OSError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.05)
        raise StackError("%s did not answer on %s within %.0f s (%s):\n%s"
                         % (self.front, self.base, self.deadline, last, self.logs()))

    # ------------------------------------------------------------ configs
    def _nginx_conf(self):
        d = self.dir
        user = "user root root;\n" if os.geteuid() == 0 else ""
        if self.mount:
            static = """
        location / {
            try_files $uri $uri/ =404;
        }
"""
            loc = self.mount + "/"
        else:
            static = ""
            loc = "/"
        return """# generated by tests/support/webservers.py
%(user)smaster_process on;
worker_processes %(nworkers)d;
pid %(d)s/nginx.pid;
error_log %(d)s/nginx-error.log notice;
events {
    worker_connections %(wconn)d;
}
http {
    access_log %(d)s/nginx-access.log;
    client_body_temp_path %(d)s/tmp/client_body;
    fastcgi_temp_path %(d)s/tmp/fastcgi;
    proxy_temp_path %(d)s/tmp/proxy;
    uwsgi_temp_path %(d)s/tmp/uwsgi;
    scgi_temp_path %(d)s/tmp/scgi;
    types {
        text/html html htm;
        text/css css;
        application/javascript js;
        image/jpeg jpg jpeg;
        image/png png;
        image/gif gif;
        image/webp webp;
    }
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 30;

    server {
        listen %(host)s:%(port)d%(sndbuf)s;
        server_name localhost;
        root %(docroot)s;
        index index.html;
%(static)s
        location %(loc)s {
%(fastcgi)s        }
%(extra)s    }
}
""" % {"user": user, "nworkers": self.front_workers, "d": d, "host": self.host,
       "wconn": self.worker_connections,
       "port": self.port, "docroot": self.docroot, "static": static, "loc": loc,
       "fastcgi": self._nginx_fastcgi(), "extra": self._nginx_extra_locations(),
       "sndbuf": " sndbuf=%s" % self.listen_sndbuf if self.listen_sndbuf else ""}

    def _nginx_extra_locations(self):
        out = ""
        for path in self.fcgi_paths:
            out += """
        # handed to mediafcgi besides the mount (live_path, status, health)
        location %s%s {
%s        }
""" % ("" if path.endswith("/") else "= ", path, self._nginx_fastcgi())
        return out

    def _nginx_fastcgi(self):
        return """            fastcgi_pass unix:%(sock)s;
            # what include fastcgi_params would give, spelled out so that no
            # system file is needed; mediafcgi reads REQUEST_URI,
            # QUERY_STRING and REQUEST_METHOD (and the HTTP_* headers, which
            # nginx passes by itself).
            fastcgi_param QUERY_STRING      $query_string;
            fastcgi_param REQUEST_METHOD    $request_method;
            fastcgi_param CONTENT_TYPE      $content_type;
            fastcgi_param CONTENT_LENGTH    $content_length;
            fastcgi_param SCRIPT_NAME       $fastcgi_script_name;
            fastcgi_param REQUEST_URI       $request_uri;
            fastcgi_param DOCUMENT_URI      $document_uri;
            fastcgi_param DOCUMENT_ROOT     $document_root;
            fastcgi_param SERVER_PROTOCOL   $server_protocol;
            fastcgi_param REQUEST_SCHEME    $scheme;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param SERVER_SOFTWARE   nginx/$nginx_version;
            fastcgi_param REMOTE_ADDR       $remote_addr;
            fastcgi_param REMOTE_PORT       $remote_port;
            fastcgi_param SERVER_ADDR       $server_addr;
            fastcgi_param SERVER_PORT       $server_port;
            fastcgi_param SERVER_NAME       $server_name;
%(bufsize)s""" % {"sock": self.sock,
                  "bufsize": "            fastcgi_buffer_size %s;\n            fastcgi_buffers 4 %s;\n            fastcgi_busy_buffers_size %s;\n" % ((self.fastcgi_buffer_size,) * 3)
                  if self.fastcgi_buffer_size else ""}

    def _lighttpd_conf(self):
        d = self.dir
        prefix = self.mount + "/" if self.mount else "/"
        if self.launch == "bin-path":
            # lighttpd creates the socket and starts mediafcgi on it as fd 0
            backend = '"socket" => "%s", "bin-path" => "%s", "max-procs" => 1,' % (
                self.sock, " ".join(self._mediafcgi_argv()))
        else:
            backend = '"socket" => "%s",' % self.sock
        return """# generated by tests/support/webservers.py
server.modules = ("mod_access", "mod_accesslog", "mod_fastcgi")
server.document-root = "%(docroot)s"
server.bind = "%(host)s"
server.port = %(port)d
server.errorlog = "%(d)s/lighttpd-error.log"
accesslog.filename = "%(d)s/lighttpd-access.log"
server.upload-dirs = ("%(d)s/tmp")
server.max-worker = 0
# hand response bytes on as they come (thumbnails are encoded into the stream)
server.stream-response-body = 2
index-file.names = ("index.html")
mimetype.assign = (
    ".html" => "text/html", ".css" => "text/css", ".js" => "application/javascript",
    ".jpg" => "image/jpeg", ".jpeg" => "image/jpeg", ".png" => "image/png",
    ".gif" => "image/gif", ".webp" => "image/webp",
)
fastcgi.server = (
    "%(prefix)s" => ((
        %(backend)s
        # mediafcgi maps REQUEST_URI itself; no file under the docroot backs it
        "check-local" => "disable",
    )),%(extra)s
)
""" % {"docroot": self.docroot, "host": self.host, "port": self.port, "d": d,
       "prefix": prefix, "backend": backend, "extra": self._lighttpd_extra()}

    def _lighttpd_extra(self):
        # the same backend (its socket only: with bin-path the entry above
        # starts mediafcgi, these connect to it); lighttpd's keys are URL
        # prefixes, so an exact path such as /status is a prefix here
        out = ""
        for path in self.fcgi_paths:
            out += """
    "%s" => ((
        "socket" => "%s",
        "check-local" => "disable",
    )),""" % (path, self.sock)
        return out



def config_check(front, conf, prefix=None, timeout=30):
    """The web server's own check of a private config file (nothing under
    /etc is read but what conf includes; nothing is started or bound):
    nginx -t -p PREFIX -c CONF, lighttpd -tt -f CONF, apache2 -t -d PREFIX
    -f CONF. prefix: the server root (default: conf's directory). Returns
    (ok, output)."""
    prefix = prefix or os.path.dirname(os.path.abspath(conf))
    if front == "nginx":
        argv = ["nginx", "-t", "-p", prefix.rstrip("/") + "/", "-c", conf,
                "-e", os.path.join(prefix, "nginx-error.log")]
    elif front == "lighttpd":
        argv = ["lighttpd", "-tt", "-f", conf]
    elif front in ("apache", "apache2"):
        argv = ["apache2", "-t", "-d", prefix, "-f", conf]
    else:
        raise ValueError("no config check for %r" % (front,))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return r.returncode == 0, "%s: exit %d\n%s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr)
