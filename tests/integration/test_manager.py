"""The process manager with real processes and real signals, behind nginx:
a worker killed mid-request, request_timeout, max_requests recycling,
SIGHUP reloads under load (and a refused bad config), SIGTERM / SIGINT /
SIGQUIT, the status page (JSON and Prometheus text), the health check, the
access and error logs (escaping, SIGUSR1 reopen after a logrotate-style
move) and dropping privileges to `user = nobody`.

Every wait is bounded in count and in time. The slow requests are blurs of
large PNGs drawn at test time: on a 2-CPU box `big.png?blur=30` (6000x4000)
takes ~10 s (always cut short here) and `mid.png?blur=20` (3000x2000) ~2 s
(allowed to finish).

The status page and the health check live under the mount (/media/_status,
/media/_health): the test front ends hand only the mount prefix to FastCGI.
"""

import calendar
import collections
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
from support.imaging import MOUNT, decode, photo_like, save_jpeg
from support.waiting import wait_until

STATUS = MOUNT + "/_status"
HEALTH = MOUNT + "/_health"
SLOW_CUT = MOUNT + "/big.png?blur=30"      # ~10 s: killed / timed out long before
SLOW_DONE = MOUNT + "/mid.png?blur=20"     # ~2 s: completes
THUMBS = [MOUNT + "/photo.jpg?size=%s" % s for s in ("64x64", "80x60", "100x", "x50")]
THUMB = THUMBS[0]
# ~20-30 ms each (a PNG decodes in full): keeps 2 workers busy for seconds
LOAD = [MOUNT + "/photo.png?size=%s" % s for s in ("64x64", "80x60", "100x", "x50")]

# 2026-11-22T06:01:02.345Z CLIENT "METHOD URI" STATUS BYTES NNms pid=PID
# Everything between the quotes is printable ASCII; ", \ and anything
# else come as \xHH.
ESCAPED = r'(?:[\x21\x23-\x5b\x5d-\x7e]|\\x[0-9a-f]{2})'
ACCESS_RE = re.compile(
    r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z (%s+) "(%s+) (%s*)" (\d{3}) (\d+) (\d+)ms '
    r'pid=(\d+)$' % (ESCAPED, ESCAPED, ESCAPED))


# ------------------------------------------------------------------ media

@pytest.fixture(scope="module")
def mroot():
    """A media root anyone may read (0755 dirs, 0644 files) under /tmp, so
    that workers running as nobody can open it too."""
    top = tempfile.mkdtemp(prefix="mediafcgi-mgr-")
    os.chmod(top, 0o755)
    ramp = Image.linear_gradient("L")
    for name, (w, h) in (("big.png", (6000, 4000)), ("mid.png", (3000, 2000))):
        r = ramp.resize((w, h))
        Image.merge("RGB", (r, r.transpose(Image.Transpose.FLIP_LEFT_RIGHT), r)) \
            .save(os.path.join(top, name), "PNG", compress_level=1)
    save_jpeg(photo_like(640, 400), os.path.join(top, "photo.jpg"))
    photo_like(1200, 800).save(os.path.join(top, "photo.png"), "PNG")
    for name in os.listdir(top):
        os.chmod(os.path.join(top, name), 0o644)
    yield top
    shutil.rmtree(top, ignore_errors=True)


# ------------------------------------------------------------------ stacks

@pytest.fixture
def stacks(mroot):
    """start(workers=2, server={...}, media={...}, status=True) -> a started
    nginx Stack; all are stopped at teardown, which fails on leftovers."""
    started = []

    def start(workers=2, server=None, media=None, status=True):
        srv = {"status_path": STATUS, "health_path": HEALTH} if status else {}
        srv.update(server or {})
        # Slow requests are these tests' tool: blur on a large PNG, let
        # past the default bound on filter work (test_hostile_work).
        extra = {"server": srv, "media": {"max_filter_work": 10 ** 13, **(media or {})}}
        s = webservers.Stack(front="nginx", media_root=mroot, mount=MOUNT,
                             workers=workers, config_extra=extra)
        started.append(s)
        s.start()
        return s

    yield start
    problems = []
    for s in started:
        left = s.stop()
        if left:
            problems.append("processes left behind after SIGTERM: %s" % left)
        problems += s.sanitizer_reports()
    assert not problems, "\n".join(problems)


def status(s):
    r = s.get(STATUS, headers={"Connection": "close"})
    assert r.status == 200 and r.content_type == "application/json", r
    return r.json()


def pool_is(s, n):
    """True once the status page counts n live workers and the master has
    exactly n children."""
    st = status(s)
    return st["workers"]["total"] == n and len(s.worker_pids()) == n


def busy_worker(s, needle, timeout=10):
    """PID of the worker whose slot says processing a URI containing needle."""
    def find():
        for slot in status(s)["slots"]:
            if slot["state"] == "processing" and needle in slot.get("uri", ""):
                return slot["pid"]
        return None
    pid = wait_until(find, timeout)
    assert pid, "no worker processing %s within %d s:\n%s" % (needle, timeout, s.logs())
    return pid


class InFlight(threading.Thread):
    """One GET in a thread: .resp (a Response) or .error, and .elapsed."""

    def __init__(self, s, path, timeout=30):
        super().__init__(daemon=True)
        self.s, self.path, self.timeout = s, path, timeout
        self.resp = self.error = None
        self.elapsed = None

    def run(self):
        t0 = time.monotonic()
        try:
            self.resp = self.s.request("GET", self.path, timeout=self.timeout)
        except Exception as e:  # noqa: BLE001 - a cut connection is an outcome
            self.error = e
        self.elapsed = time.monotonic() - t0

    def outcome(self):
        return self.resp if self.resp is not None else self.error


def failed_request(t):
    """The request did not get through: a 502 from nginx, or a cut."""
    return t.error is not None or t.resp.status == 502


def raw_get(s, target, timeout=10):
    """GET with the request target sent as raw bytes (no client-side
    quoting); returns (status, body)."""
    with socket.create_connection((s.host, s.port), timeout=timeout) as c:
        c.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def send_signal(s, sig):
    os.kill(s.mediafcgi_pid(), sig)


# ------------------------------------------------------------------ crashes

def test_kill_busy_worker_fails_only_its_request(stacks):
    s = stacks(workers=2)
    before = s.worker_pids()
    assert len(before) == 2, before
    slow = InFlight(s, SLOW_CUT)
    slow.start()
    victim = busy_worker(s, "big.png")
    assert victim in before
    os.kill(victim, signal.SIGKILL)
    slow.join(15)
    assert not slow.is_alive(), "the killed request did not end within 15 s"
    assert failed_request(slow), "expected a 502 or a cut, got %r" % (slow.outcome(),)

    for path in THUMBS * 2:
        r = s.get(path)
        assert r.status == 200, "%r\n%s" % (r, s.logs())
        decode(r)
    assert wait_until(lambda: pool_is(s, 2), 10), \
        "pool not back to 2 workers: %s %s" % (status(s)["workers"], s.worker_pids())
    assert victim not in s.worker_pids()
    assert status(s)["crashes"] >= 1

    line_re = re.compile(r"worker %d killed by signal 9\b.*GET \"%s\"" % (victim, re.escape(SLOW_CUT)))
    assert wait_until(lambda: line_re.search(s.logs()), 5), \
        "no log line naming signal 9 and %s:\n%s" % (SLOW_CUT, s.logs())


# ------------------------------------------------------------------ request_timeout

def test_request_timeout_answers_504(stacks):
    s = stacks(workers=2, server={"request_timeout": 1})
    slow = InFlight(s, SLOW_CUT)
    slow.start()
    slow.join(10)
    assert not slow.is_alive(), "request still running 10 s after a 1 s request_timeout"
    r = slow.resp
    assert r is not None, "connection cut instead of an answer: %r" % (slow.error,)
    if r.status == 504:
        assert r.content_type == "application/json", r
        body = r.json()
        assert body.get("status") == 504 and isinstance(body.get("error"), str) and body["error"], body
    else:
        assert r.status == 502, "expected 504 (or 502), got %r\n%s" % (r, s.logs())
    assert 0.8 <= slow.elapsed <= 3.5, "answered after %.2f s with request_timeout = 1" % slow.elapsed

    assert wait_until(lambda: "request_timeout" in s.logs() and SLOW_CUT in s.logs(), 5), \
        "the log does not name the timed-out request:\n%s" % s.logs()
    assert wait_until(lambda: status(s)["timeouts"] >= 1, 5), status(s)
    assert wait_until(lambda: pool_is(s, 2), 10), status(s)["workers"]
    for path in THUMBS:
        decode(s.get(path))


# ------------------------------------------------------------------ max_requests

def test_max_requests_recycles_workers(stacks, tmp_path):
    log = tmp_path / "access.log"
    s = stacks(workers=2, server={"max_requests": 5, "access_log": str(log)}, status=False)
    first = set(s.worker_pids())
    seen = set(first)
    bad = []
    for i in range(60):
        r = s.get(THUMBS[i % len(THUMBS)])
        if r.status != 200:
            bad.append(r)
        seen.update(s.worker_pids())

    results = []
    lock = threading.Lock()

    def burst():
        for i in range(10):
            try:
                r = s.request("GET", THUMBS[i % len(THUMBS)], timeout=20)
                out = r.status
            except Exception as e:  # noqa: BLE001
                out = repr(e)
            with lock:
                results.append(out)

    threads = [threading.Thread(target=burst, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "concurrent requests hung"
    bad += [x for x in results if x != 200]
    assert not bad, "failures while recycling: %r\n%s" % (bad[:5], s.logs())
    assert len(results) == 40

    assert not first & set(s.worker_pids()), "the first workers were never recycled"
    assert len(seen) >= 12, "only %d worker pids seen over 60 requests: %s" % (len(seen), seen)
    lines = wait_until(lambda: log.read_text().splitlines()
                       if len(log.read_text().splitlines()) >= 100 else None, 5)
    assert lines and len(lines) == 100, "access log has %d lines, want 100" % len(log.read_text().splitlines())
    per_pid = collections.Counter(ACCESS_RE.match(line).group(9) for line in lines)
    assert max(per_pid.values()) <= 5, "a worker served more than max_requests: %s" % per_pid
    assert len(per_pid) >= 20, per_pid
    assert wait_until(lambda: len(s.worker_pids()) == 2, 5), s.worker_pids()
    assert "killed by signal" not in s.logs(), s.logs()


# ------------------------------------------------------------------ SIGHUP

def _set_cache_control(s, value):
    text = open(s.conf).read()
    new, n = re.subn(r"(?m)^cache_control = .*$", "cache_control = " + value, text)
    assert n == 1, text
    with open(s.conf + ".tmp", "w") as f:
        f.write(new)
    os.replace(s.conf + ".tmp", s.conf)


def _generation_settled(s, gen, n, bad=None):
    """True once exactly n workers run, all of config generation gen. A
    status request that fails goes to bad (when given) instead of failing."""
    r = s.get(STATUS, headers={"Connection": "close"})
    if r.status != 200:
        if bad is None:
            raise AssertionError("status page: %r" % r)
        bad.append(r)
        return False
    slots = r.json()["slots"]
    return len(slots) == n and all(x["generation"] == gen for x in slots) \
        and len(s.worker_pids()) == n


def test_sighup_reload_under_load(stacks):
    """3 reloads while 8 clients keep 2 workers busy (so connections are
    always waiting in the listen queue): no answer other than 200, the new
    Cache-Control once reloaded, and the old workers gone after the request
    they had in hand, not when the load lets up."""
    s = stacks(workers=2, media={"cache_control": "public, max-age=100"})
    pids0 = set(s.worker_pids())
    assert {x["generation"] for x in status(s)["slots"]} == {0}

    lock = threading.Lock()
    done = [0]
    bad = []
    seen = collections.Counter()

    def load():
        for i in range(75):
            try:
                r = s.request("GET", LOAD[i % len(LOAD)], timeout=20)
                ok = r.status == 200
                cc = r.headers.get("Cache-Control")
            except Exception as e:  # noqa: BLE001
                ok, r, cc = False, e, None
            with lock:
                done[0] += 1
                seen[cc] += 1
                if not ok:
                    bad.append(r)

    threads = [threading.Thread(target=load, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    at, took = [], []
    for k in (1, 2, 3):
        wait_until(lambda: done[0] >= 150 * k - 50, 30)
        _set_cache_control(s, "public, max-age=%d" % (100 + k))
        with lock:
            at.append(done[0])
        t0 = time.monotonic()
        send_signal(s, signal.SIGHUP)
        settled = wait_until(lambda: _generation_settled(s, k, 2, bad), 15)
        took.append(round(time.monotonic() - t0, 2))
        assert settled, "generation %d did not take over within 15 s: %s\n%s" % (
            k, status(s)["slots"], s.logs())
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "load threads hung"
    assert done[0] == 600
    assert not bad, "%d non-200 answers during reloads, e.g. %r\n%s" % (len(bad), bad[:3], s.logs())
    assert max(took) < 3, ("old workers kept serving (the old config) for %s s after "
                           "SIGHUP (requests take ~25 ms); reloads at request %s of 600"
                           % (took, at))
    assert all(a < 600 for a in at), "a reload came after the load ended: %s" % at

    assert seen["public, max-age=100"] > 0, seen
    for path in THUMBS:
        r = s.get(path)
        assert r.status == 200 and r.headers["Cache-Control"] == "public, max-age=103", r
    assert not pids0 & set(s.worker_pids()), "old workers still running after 3 reloads"
    assert "reloaded: generation 3" in s.logs(), s.logs()


def test_sighup_bad_config_is_refused_then_fixed(stacks):
    s = stacks(workers=2, media={"cache_control": "public, max-age=100"})
    good = open(s.conf).read()
    pids0 = sorted(s.worker_pids())

    # garbage in the whole file, then a bad value on a known line
    lines = good.splitlines()
    wline = lines.index("workers = 2") + 1
    bads = [("this is not an INI file at all\n", 1),
            (good.replace("workers = 2", "workers = many"), wline)]
    for n, (text, line) in enumerate(bads, 1):
        with open(s.conf, "w") as f:
            f.write(text)
        send_signal(s, signal.SIGHUP)
        want = "%s:%d:" % (s.conf, line)

        def refused():
            hits = [x for x in s.logs().splitlines() if "reload refused" in x]
            return hits if len(hits) >= n else None
        hits = wait_until(refused, 5)
        assert hits, "no 'reload refused' in the log:\n%s" % s.logs()
        assert want in hits[-1], "%r does not name %s" % (hits[-1], want)
        # still serving, with the old config and the old workers
        for path in THUMBS:
            r = s.get(path)
            assert r.status == 200 and r.headers["Cache-Control"] == "public, max-age=100", r
        assert sorted(s.worker_pids()) == pids0
        assert {x["generation"] for x in status(s)["slots"]} == {0}

    with open(s.conf, "w") as f:
        f.write(good.replace("max-age=100", "max-age=200"))
    send_signal(s, signal.SIGHUP)
    assert wait_until(lambda: _generation_settled(s, 1, 2), 10), status(s)["slots"]
    for path in THUMBS:
        r = s.get(path)
        assert r.status == 200 and r.headers["Cache-Control"] == "public, max-age=200", r
    assert not set(pids0) & set(s.worker_pids())


# ------------------------------------------------------------------ stopping

def test_sigterm_lets_the_request_in_flight_finish(stacks):
    s = stacks(workers=2)
    p = s.procs["mediafcgi"]
    workers = s.worker_pids()
    slow = InFlight(s, SLOW_DONE)
    slow.start()
    busy_worker(s, "mid.png")
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    slow.join(30)
    assert not slow.is_alive()
    assert slow.resp is not None and slow.resp.status == 200, \
        "%r\n%s" % (slow.outcome(), s.logs())
    decode(slow.resp)
    rc = p.wait(15)
    assert rc == 0, "master exited %s on SIGTERM\n%s" % (rc, s.logs())
    assert time.monotonic() - t0 < 15
    assert all(procs.is_gone(w) for w in workers), [w for w in workers if not procs.is_gone(w)]
    assert "SIGTERM" in s.logs()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT], ids=["SIGINT", "SIGQUIT"])
def test_stop_now_signals(stacks, sig):
    s = stacks(workers=2)
    p = s.procs["mediafcgi"]
    workers = s.worker_pids()
    slow = InFlight(s, SLOW_CUT)
    slow.start()
    busy_worker(s, "big.png")
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        rc = p.wait(5)
    except subprocess.TimeoutExpired:
        pytest.fail("master still running 5 s after %s\n%s" % (sig.name, s.logs()))
    took = time.monotonic() - t0
    assert took < 2.0, "%s took %.2f s" % (sig.name, took)
    assert rc == 0, "master exited %s on %s" % (rc, sig.name)
    slow.join(10)
    assert failed_request(slow), slow.outcome()
    assert wait_until(lambda: all(procs.is_gone(w) for w in workers), 3), \
        [w for w in workers if not procs.is_gone(w)]


# ------------------------------------------------------------------ status page

def test_status_json(stacks):
    s = stacks(workers=2)
    st0 = status(s)
    assert isinstance(st0["version"], str) and st0["version"], st0
    assert isinstance(st0["uptime"], int) and st0["uptime"] >= 0
    w = st0["workers"]
    assert w["configured"] == 2 and w["total"] == 2, w
    for k in ("idle", "reading", "processing", "writing"):
        assert isinstance(w[k], int), w
    assert w["total"] == sum(v for k, v in w.items() if k not in ("configured", "total"))
    for k in ("bad_param", "not_found", "forbidden", "internal", "timeout"):
        assert k in st0["errors"], st0["errors"]

    assert s.head(THUMB).status == 200
    assert s.get(THUMB).status == 200
    assert s.get(THUMBS[1]).status == 200
    assert s.get(MOUNT + "/nope.jpg").status == 404
    assert s.get(MOUNT + "/photo.jpg?size=huge").status == 400
    # A request is counted when its worker is done with it, which can be
    # just after the client has its answer (nginx ends a HEAD at the
    # header): read the page until no other worker is busy.
    for polls in range(1, 21):
        st1 = status(s)
        if all(x["state"] == "idle" for x in st1["slots"] if x.get("uri") != STATUS):
            break
        time.sleep(0.05)

    req0, req1 = st0["requests"], st1["requests"]
    # + the first status request and the polls before the last, each
    # counted once it was answered
    assert req1["2xx"] - req0["2xx"] == 3 + polls, (req0, req1, polls)
    assert req1["4xx"] - req0["4xx"] == 2, (req0, req1)
    assert req1["5xx"] == req0["5xx"] and req1["3xx"] == req0["3xx"]
    assert st1["errors"]["not_found"] - st0["errors"]["not_found"] == 1, st1["errors"]
    assert st1["errors"]["bad_param"] - st0["errors"]["bad_param"] == 1, st1["errors"]

    lat = st1["latency_ms"]
    counts = [b["count"] for b in lat["buckets"]]
    assert counts == sorted(counts), "buckets not cumulative: %s" % lat
    assert lat["buckets"][-1]["le"] == "+Inf" and counts[-1] == lat["count"], lat
    les = [b["le"] for b in lat["buckets"][:-1]]
    assert les == sorted(les) and all(isinstance(x, int) for x in les), les
    assert lat["count"] == sum(req1.values()), (lat, req1)
    assert lat["sum"] >= 0

    slots = st1["slots"]
    assert len(slots) == 2 and sorted(x["pid"] for x in slots) == sorted(s.worker_pids()), slots
    assert sum(x["requests"] for x in slots) == lat["count"], slots
    for x in slots:
        assert x["state"] in ("idle", "reading", "processing", "writing"), x
    me = [x for x in slots if x["state"] == "processing"]
    assert len(me) == 1 and me[0]["uri"] == STATUS, slots   # the status request itself


def test_status_prometheus(stacks):
    from prometheus_client.parser import text_string_to_metric_families

    s = stacks(workers=2)
    for path in THUMBS:
        assert s.get(path).status == 200
    assert s.get(MOUNT + "/nope.jpg").status == 404
    r = s.get(STATUS + "?format=prometheus")
    assert r.status == 200 and r.content_type == "text/plain", r
    fams = {f.name: f for f in text_string_to_metric_families(r.body.decode())}

    def fam(name, typ):
        # the parser names a counter family without its _total suffix
        f = fams.get(name) or fams.get(re.sub(r"_total$", "", name))
        assert f is not None, "no %s in %s" % (name, sorted(fams))
        assert f.type == typ, (name, f.type)
        return f

    def samples(f, suffix=""):
        return {tuple(sorted(x.labels.items())): x.value for x in f.samples
                if x.name == f.name + suffix}

    workers = samples(fam("mediafcgi_workers", "gauge"))
    assert workers[(("state", "idle"),)] + workers[(("state", "processing"),)] >= 2, workers
    assert sum(workers.values()) == 2, workers
    req = samples(fam("mediafcgi_requests_total", "counter"), "_total")
    assert req[(("class", "2xx"),)] == 4 and req[(("class", "4xx"),)] == 1, req
    errs = samples(fam("mediafcgi_errors_total", "counter"), "_total")
    assert errs[(("kind", "not_found"),)] == 1 and errs[(("kind", "bad_param"),)] == 0, errs
    h = fam("mediafcgi_request_duration_seconds", "histogram")
    buckets = {x.labels["le"]: x.value for x in h.samples if x.name.endswith("_bucket")}
    count = [x.value for x in h.samples if x.name.endswith("_count")]
    total = [x.value for x in h.samples if x.name.endswith("_sum")]
    assert "+Inf" in buckets and count and buckets["+Inf"] == count[0] == 5, h.samples
    ordered = [buckets[k] for k in sorted(buckets, key=lambda k: float(k))]
    assert ordered == sorted(ordered), buckets
    assert total and total[0] > 0
    up = samples(fam("mediafcgi_uptime_seconds", "gauge"))
    assert list(up.values())[0] >= 0
    info = fam("mediafcgi_info", "gauge")
    assert info.samples[0].value == 1 and info.samples[0].labels.get("version"), info.samples

    assert s.get(STATUS + "?format=xml").status == 400


def test_status_off_unless_configured_and_health(stacks):
    s = stacks(workers=1, status=False)
    r = s.get(STATUS)
    assert r.status == 404 and r.content_type == "application/json", r
    assert s.get(HEALTH).status == 404

    s = stacks(workers=1, server={"status_allow": "10.9.9.9, 10.9.9.10"})
    r = s.get(STATUS)
    assert r.status == 403 and r.content_type == "application/json", r
    assert s.get(STATUS + "?format=prometheus").status == 403
    r = s.get(HEALTH)
    assert r.status == 200 and r.content_type == "application/json", r
    assert r.json() == {"status": "ok"}
    assert r.headers.get("Cache-Control") == "no-store", r.headers

    s = stacks(workers=1, server={"status_allow": "10.9.9.9,127.0.0.1"})
    assert s.get(STATUS).status == 200


# ------------------------------------------------------------------ logs

def _unescape(field):
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  field.encode("ascii"))


def test_access_log_escaping_and_reopen(stacks, tmp_path):
    access = tmp_path / "access.log"
    errors = tmp_path / "error.log"
    s = stacks(workers=2, server={"access_log": str(access), "error_log": str(errors)},
               status=False)
    # (raw request target, status the worker answers)
    reqs = [
        (THUMB.encode(), 200),
        (MOUNT.encode() + b"/nope.jpg", 404),
        (MOUNT.encode() + b"/photo.jpg?size=huge", 400),
        (MOUNT.encode() + b"/a%0Ab.jpg", None),
        (MOUNT.encode() + b"/x%22y%1Bz%C3%A9.jpg?q=%0D%0A", None),
        (MOUNT.encode() + b'/forge.jpg?a="%0A2026-01-01T00:00:00.000Z', None),
        (MOUNT.encode() + b'/quote"quote\\back.jpg', None),
        (MOUNT.encode() + b"/caf\xc3\xa9.jpg?size=\xff%7F", None),
        (MOUNT.encode() + b'/x.jpg?"%20200%200%200ms%20pid=1%0A', None),
    ]
    t0 = time.time()
    answers = []
    for target, want in reqs:
        st, body = raw_get(s, target)
        answers.append(st)
        if want is not None:
            assert st == want, (target, st, body[:200])
        else:
            # answered by mediafcgi (a JSON error), not refused by nginx
            assert st in (400, 403, 404) and body.startswith(b"{"), (target, st, body[:200])
    t1 = time.time()

    def lines():
        return access.read_bytes().decode("ascii").splitlines()
    assert wait_until(lambda: len(lines()) >= len(reqs), 5), access.read_bytes()
    got = lines()
    assert len(got) == len(reqs), "%d requests, %d lines:\n%s" % (len(reqs), len(got), "\n".join(got))
    workers = set(s.worker_pids())
    for line, (target, _), st in zip(got, reqs, answers):
        m = ACCESS_RE.match(line)
        assert m, "line does not match the format: %r" % line
        when = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
        assert t0 - 2 <= when <= t1 + 2, (line, t0, t1)
        assert m.group(3) == "127.0.0.1", line
        assert m.group(4) == "GET", line
        assert _unescape(m.group(5)) == target, (line, target)
        assert int(m.group(6)) == st, (line, st)
        assert int(m.group(9)) in workers, (line, workers)
    assert int(ACCESS_RE.match(got[0]).group(7)) > 0

    # logrotate: move, SIGUSR1, new lines in a new file
    rotated = tmp_path / "access.log.1"
    os.rename(access, rotated)
    send_signal(s, signal.SIGUSR1)
    assert wait_until(access.exists, 5), "access.log not reopened after SIGUSR1"
    time.sleep(0.5)      # the master passes SIGUSR1 on to the workers
    for path in THUMBS:
        assert s.get(path).status == 200
    assert wait_until(lambda: len(lines()) >= len(THUMBS), 5), access.read_bytes()
    assert len(lines()) == len(THUMBS), lines()
    assert all(ACCESS_RE.match(x) for x in lines()), lines()
    assert rotated.read_bytes().decode("ascii").splitlines() == got, \
        "rotated file changed after SIGUSR1"

    # the error log gets the crash of a worker
    victim = s.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: errors.exists() and
                      ("worker %d killed by signal 9" % victim) in errors.read_text(), 5), \
        "error log: %r" % (errors.read_text() if errors.exists() else None)
    assert wait_until(lambda: len(s.worker_pids()) == 2, 10)


# ------------------------------------------------------------------ privileges

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@needs_root
def test_workers_run_as_the_configured_user(stacks):
    nobody = pwd.getpwnam("nobody")
    s = stacks(workers=2, server={"user": "nobody", "allow_root": "no"})
    workers = s.worker_pids()
    assert len(workers) == 2
    for w in workers:
        uid, gid = procs.uids(w)
        assert uid == (nobody.pw_uid,) * 4 and gid == (nobody.pw_gid,) * 4, (w, uid, gid)
    assert procs.uids(s.mediafcgi_pid())[0][0] == 0, "the master should stay root"
    for path in THUMBS:
        decode(s.get(path))
    assert status(s)["workers"]["total"] == 2
    # a replacement drops privileges too
    os.kill(workers[0], signal.SIGKILL)
    assert wait_until(lambda: len(s.worker_pids()) == 2 and workers[0] not in s.worker_pids(), 10)
    for w in s.worker_pids():
        assert procs.uids(w)[0] == (nobody.pw_uid,) * 4, w
    decode(s.get(THUMB))


@needs_root
def test_refuses_root_workers_without_allow_root(tmp_path, mroot):
    conf = tmp_path / "root.conf"
    conf.write_text("[server]\nworkers = 1\n\n[media]\nroot = %s\n" % mroot)
    r = subprocess.run([webservers.mediafcgi_bin(), "--config", str(conf), "--test-config"],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r
    assert "refusing to run workers as root" in r.stderr, r
    conf.write_text("[server]\nworkers = 1\nallow_root = yes\n\n[media]\nroot = %s\n" % mroot)
    r = subprocess.run([webservers.mediafcgi_bin(), "--config", str(conf), "--test-config"],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r
