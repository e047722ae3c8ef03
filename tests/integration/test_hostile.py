"""A hostile corpus, generated at test time into a fresh media root
(hostile.py), and a list of URL attacks, against mediafcgi behind nginx
(the URL attacks behind lighttpd as well).

Every hostile request must get its clean answer within its time limit:
the expected 4xx with a JSON body {"error", "status"} (or, for a URL form
a front end refuses itself, that front end's own 4xx), or 200 with an
image that decodes where the input really is an image (a polyglot, a bit
flip that still decodes). Never a 5xx, never a hang, never a byte of the
secret file outside the root (it holds a random marker) or of
/etc/passwd, never an injected header; no marker file is ever created
(payloads aim at the system temp dir, the media root and the workers'
working directory); a good request right after each one is answered
correctly; no worker dies. For bombs, video payloads and the dense files
(a few kB declaring a size within the limits) the workers' peak RSS is
reset before the request (/proc/PID/clear_refs) and must stay under
300 MB (not checked under ASan, make check SAN=1).

Around the whole module (the `world` fixture): the media root gains no
entry, the system temp dirs gain no GraphicsMagick/ImageMagick temp file
(gm*, magick-*) and the idle workers hold no temp file open (deleted or
not), no marker exists, and mediafcgi's log shows no worker killed by a
signal, no request_timeout and no sanitizer report.

MEDIAFCGI_HOSTILE_REPORT=FILE writes a table of every hostile request,
the status it got, the time it took and what the input is (tab-separated)
when the module ends.
"""

import http.client
import io
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
import time
import urllib.parse

import pytest
from PIL import Image

from support import hostile, procs, webservers
from support.checks import BAD_LOG, new_log, under_asan

MOUNT = "/media"
GOOD = MOUNT + "/good.jpg?size=120x80"
QUICK = 5.0            # seconds: bombs, payloads, names, URL attacks
SLOW = 10.0            # seconds: mutants of good files (they may decode), dense bombs
MAX_HWM_KB = 300 * 1024
CONF = {"server": {"request_timeout": 20}}   # a hang ends as a 504 long before the client gives up
PASSWD = b"root:x:0:0:"
GM_TEMP = re.compile(r"^(gm|magick-?)[A-Za-z0-9_]{6,}$")
INJECTED = ("set-cookie", "location", "x-pwned", "refresh")

BOMBS = hostile.bomb_cases()
DENSE = hostile.dense_cases()
TRAGICK = hostile.tragick_cases()
VIDEO = hostile.video_cases()
MUTANT_FORMATS = ["jpeg", "pjpeg", "png", "gif", "webp", "webpll", "tiff", "mp4", "webm"]


# ------------------------------------------------------------------ the world

class World:
    """The media root, the secret, the markers, and what every request got."""

    def __init__(self, top):
        self.top = top
        self.root = os.path.join(top, "media")
        self.outside = os.path.join(top, "outside")
        token = secrets.token_hex(12)
        self.token = token
        self.secret = ("mediafcgi-hostile-secret-%s" % token).encode()
        self.secret_txt = os.path.join(self.outside, "secret.txt")
        self.secret_jpg = os.path.join(self.outside, "secret.jpg")
        self.markers = {
            "abs_tmp": os.path.join(tempfile.gettempdir(), "mediafcgi-pwned-%s" % token),
            "abs_root": os.path.join(self.root, "pwned-%s" % token),
            "rel": "pwned-rel-%s" % token,
        }
        self.ctx = hostile.Ctx(self.secret_txt, self.markers, os.path.join(top, "clips"))
        self.results = []          # (front, category, name, query, status, seconds, message)
        self.leaks = []
        self.stacks = []
        self.cwds = {"/"}
        self.mutants = {}          # file name -> how it was damaged

    def path(self, rel):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def write(self, rel, data):
        with open(self.path(rel), "wb") as f:
            f.write(data)

    def marker_paths(self):
        out = [self.markers["abs_tmp"], self.markers["abs_root"]]
        out += [os.path.join(d, self.markers["rel"]) for d in self.cwds]
        out += [os.path.join(self.root, self.markers["rel"])]
        return out

    def markers_present(self):
        return [p for p in self.marker_paths() if os.path.lexists(p)]


def _tree(root):
    """Every entry under root (relative path -> file type), symlinks not followed."""
    out = {}
    for d, dirs, files in os.walk(root, followlinks=False):
        for n in dirs + files:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = stat.S_IFMT(os.lstat(p).st_mode)
    return out


def _temp_entries():
    out = set()
    for d in {tempfile.gettempdir(), "/tmp", "/var/tmp"}:
        try:
            out |= {os.path.join(d, n) for n in os.listdir(d)}
        except OSError:
            pass
    return out


def _good_jpeg(size=(240, 160)):
    im = Image.new("RGB", size, (30, 90, 200))
    im.paste((240, 220, 20), (size[0] // 2, 0, size[0], size[1]))
    b = io.BytesIO()
    im.save(b, "JPEG", quality=90)
    return b.getvalue()


def _build(W):
    os.makedirs(W.root)
    os.makedirs(W.outside)
    os.chmod(W.top, 0o755)
    # the secret, outside the root: text, and a JPEG carrying it in a comment
    with open(W.secret_txt, "wb") as f:
        f.write(W.secret + b"\n")
    j = _good_jpeg((64, 64))
    com = b"\xff\xfe" + len(W.secret + b"\0\0").to_bytes(2, "big") + W.secret
    with open(W.secret_jpg, "wb") as f:
        f.write(j[:2] + com + j[2:])
    os.makedirs(os.path.join(W.outside, "dir"))
    shutil.copy(W.secret_txt, os.path.join(W.outside, "dir", "secret.txt"))

    W.write("good.jpg", _good_jpeg())
    W.write("sub/good.jpg", _good_jpeg())
    W.write("\u00e9t\u00e9.jpg", _good_jpeg())

    for case in BOMBS + DENSE + TRAGICK + VIDEO:
        W.write(os.path.join(category_dir(case), case.name), case.make(W.ctx))
    for name in hostile.tragick_names(W.markers["rel"]):
        W.write(os.path.join("names", name), _good_jpeg())
    # the segment the playlists name, inside the root
    W.write(os.path.join("video", W.ctx.segment), W.ctx.clips["mp4"])

    goods = hostile.good_images()
    goods.update(W.ctx.clips)
    for fmt in MUTANT_FORMATS:
        W.write("mut/%s.%s" % (fmt, hostile.EXT[fmt]), goods[fmt])
        for i in range(hostile.MUTANTS):
            what, data = hostile.mutant(goods[fmt], fmt, i)
            name = "%s-%02d.%s" % (fmt, i, hostile.EXT[fmt])
            W.write("mut/" + name, data)
            W.mutants[name] = what

    _symlinks(W)


def category_dir(case):
    if case in BOMBS:
        return "bomb"
    if case in DENSE:
        return "dense"
    if case in TRAGICK:
        return "tragick"
    return "video"


def _symlinks(W):
    L = os.path.join(W.root, "links")
    os.makedirs(os.path.join(L, "sub"))

    def ln(target, name):
        os.symlink(target, os.path.join(L, name))

    ln(W.secret_txt, "abs-secret.jpg")
    ln(W.secret_jpg, "abs-secret-jpeg.jpg")
    ln(os.path.relpath(W.secret_jpg, L), "rel-secret.jpg")
    ln(os.path.relpath(W.secret_txt, os.path.join(L, "sub")), "sub/rel-secret.jpg")
    ln("/etc/passwd", "passwd.jpg")
    ln(W.outside, "dir-out")
    ln(os.path.join(W.outside, "dir"), "dir-out2")
    ln("chain2.jpg", "chain1.jpg")
    ln("sub/chain3.jpg", "chain2.jpg")
    ln("../../../outside/secret.jpg", "sub/chain3.jpg")
    ln("loop-b.jpg", "loop-a.jpg")
    ln("loop-a.jpg", "loop-b.jpg")
    ln("/proc/self/root" + W.secret_jpg, "proc-root.jpg")
    ln("/proc/self/cwd/../../.." + W.secret_jpg, "proc-cwd.jpg")
    ln("/proc/self/fd/0", "proc-fd.jpg")
    ln("/proc/self/environ", "proc-environ.jpg")
    ln("../../media/good.jpg", "out-and-back.jpg")
    ln(os.path.join(W.root, "good.jpg"), "abs-inside.jpg")
    ln("../good.jpg", "rel-inside.jpg")
    ln("missing.jpg", "dangling.jpg")
    os.mkfifo(os.path.join(L, "fifo.jpg"))
    os.mkdir(os.path.join(L, "dir.jpg"))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(L, "socket.jpg"))
    s.close()
    if os.geteuid() == 0:
        for name, dev in (("devnull.jpg", "/dev/null"), ("devzero.jpg", "/dev/zero"),
                          ("devurandom.jpg", "/dev/urandom")):
            st = os.stat(dev)
            os.mknod(os.path.join(L, name), 0o644 | stat.S_IFCHR, st.st_rdev)


@pytest.fixture(scope="module")
def world():
    temp_before = _temp_entries()
    top = tempfile.mkdtemp(prefix="mediafcgi-hostile-")
    W = World(top)
    try:
        _build(W)
        tree_before = _tree(W.root)
        yield W
        # ---- the checks around the whole module
        problems = []
        for s in W.stacks:                       # stopped by now: final logs
            bad = [ln for ln in s.final_log.splitlines() if BAD_LOG.search(ln)]
            if bad:
                problems.append("%s: mediafcgi's log:\n  %s" % (s.front, "\n  ".join(bad[:20])))
        after = _tree(W.root)
        new = sorted(set(after) - set(tree_before))
        gone = sorted(set(tree_before) - set(after))
        if new or gone:
            problems.append("the media root changed: new %s, gone %s" % (new, gone))
        new_tmp = sorted(p for p in _temp_entries() - temp_before
                         if GM_TEMP.match(os.path.basename(p)))
        if new_tmp:
            problems.append("GraphicsMagick-style temp files appeared: %s" % new_tmp)
        if W.markers_present():
            problems.append("marker files exist: %s" % W.markers_present())
        if W.leaks:
            problems.append("leaks:\n  " + "\n  ".join(W.leaks))
        _report(W)
        assert not problems, "\n".join(problems)
    finally:
        for p in W.markers_present():
            try:
                os.unlink(p)
            except OSError:
                pass
        shutil.rmtree(top, ignore_errors=True)


def _report(W):
    out = os.environ.get("MEDIAFCGI_HOSTILE_REPORT")
    if not out:
        return
    with open(out, "w") as f:
        f.write("front\tcategory\tfile/path\tquery\tstatus\tseconds\tanswer\twhat\n")
        for row in W.results:
            f.write("%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\n" % row)


def _start(W, front, workers=2):
    if not os.access(webservers.mediafcgi_bin(), os.X_OK):
        pytest.fail("%s not built (run make, or set MEDIAFCGI_BIN)" % webservers.mediafcgi_bin())
    s = webservers.Stack(front=front, media_root=W.root, mount=MOUNT, workers=workers,
                         config_extra=CONF)
    s.start()
    s.log_pos = 0
    s.asan = under_asan(s)
    W.stacks.append(s)
    for pid in s.worker_pids():
        try:
            W.cwds.add(os.readlink("/proc/%d/cwd" % pid))
        except OSError:
            pass
    W.cwds.add(s.dir)
    return s


def _temp_fds(W, s):
    """Files in the temp dirs that the idle workers hold open, deleted or
    not (a temp file unlinked at once would escape the directory listings),
    besides the media root itself and the stack's own files (log, socket);
    a media file still open after its request would show here too."""
    tmps = tuple(os.path.join(d, "") for d in {tempfile.gettempdir(), "/tmp", "/var/tmp"})
    out = []
    for pid in s.worker_pids():
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith(tmps) and target != W.root and \
                    not target.startswith(os.path.join(s.dir, "")):
                out.append("worker %d fd %s -> %s" % (pid, fd, target))
    return out


def _stop(W, s):
    stack_dir = s.dir
    rel = os.path.join(stack_dir, W.markers["rel"]) if stack_dir else None
    if rel and os.path.lexists(rel):
        W.leaks.append("marker %s created in the workers' working directory" % rel)
    held = _temp_fds(W, s)
    if held:
        W.leaks.append("%s: workers hold temp files open: %s" % (s.front, held))
    left = s.stop()
    assert not left, "processes left behind after SIGTERM: %s" % left


@pytest.fixture(scope="module")
def nginx_stack(world):
    s = _start(world, "nginx")
    yield s
    _stop(world, s)


@pytest.fixture(scope="module")
def lighttpd_stack(world):
    s = _start(world, "lighttpd")
    yield s
    _stop(world, s)


@pytest.fixture(scope="module", params=list(webservers.FRONTS))
def url_stack(request, world):
    return request.getfixturevalue("%s_stack" % request.param)


# ------------------------------------------------------------------ one request

def _message(r):
    if r.content_type == "application/json":
        try:
            return str(r.json().get("error"))[:160]
        except ValueError:
            pass
    if r.status == 200:
        return "%s, %d bytes" % (r.content_type, len(r.body))
    return "%s: %r" % (r.content_type, r.body[:80])


def _decodes(body):
    try:
        im = Image.open(io.BytesIO(body))
        im.load()
        return im
    except Exception:  # noqa: BLE001 - any decoder error is the finding
        return None


def probe(W, s, path, category, name, expect, limit=QUICK, front_may_refuse=False,
          rss=False, what=""):
    """GETs path (sent as is) and checks everything the module promises
    about one hostile request; returns the Response."""
    query = path.split("?", 1)[1] if "?" in path else ""
    problems = []
    rss = rss and not s.asan
    if rss:
        procs.reset_hwm(s.worker_pids())
    t0 = time.monotonic()
    try:
        r = s.request("GET", path, timeout=limit + 30)
    except (OSError, http.client.HTTPException) as e:
        took = time.monotonic() - t0
        W.results.append((s.front, category, name, query, "no answer", took, repr(e), what))
        pytest.fail("GET %s: no answer after %.1f s (%r)\n%s" % (path[:300], took, e, s.logs()))
    took = time.monotonic() - t0
    W.results.append((s.front, category, name[:70], query[:60], r.status, took, _message(r),
                      what))

    if W.secret in r.body:
        W.leaks.append("GET %s (%s): the secret marker is in the body" % (path[:200], s.front))
        problems.append("the SECRET marker is in the body")
    if PASSWD in r.body:
        W.leaks.append("GET %s (%s): /etc/passwd is in the body" % (path[:200], s.front))
        problems.append("/etc/passwd is in the body")
    if took > limit:
        problems.append("took %.1f s (limit %.0f s)" % (took, limit))
    if r.status >= 500:
        problems.append("a %d" % r.status)
    elif r.status not in expect:
        problems.append("status %d, expected %s" % (r.status, sorted(expect)))
    if r.status == 200:
        if not r.content_type.startswith("image/") or _decodes(r.body) is None:
            problems.append("200 without an image that decodes (%s)" % r.content_type)
    elif 400 <= r.status < 500:
        if r.content_type == "application/json":
            try:
                body = r.json()
                if body.get("status") != r.status or not body.get("error"):
                    problems.append("JSON error body %r" % body)
            except ValueError:
                problems.append("error body is not JSON")
        elif not front_may_refuse:
            problems.append("a %d that is not mediafcgi's JSON (%s)" % (r.status, r.content_type))
    for h, v in r.headers.items():
        if h.lower() in INJECTED or "pwned" in h.lower() or "pwned" in v.lower():
            problems.append("injected header %s: %s" % (h, v))
    if W.secret.decode() in str(r.headers):
        problems.append("the SECRET marker is in a header")
    if W.markers_present():
        problems.append("marker files exist: %s" % W.markers_present())
    bad = [ln for ln in new_log(s).splitlines() if BAD_LOG.search(ln)]
    if bad:
        problems.append("mediafcgi's log: %s" % " | ".join(bad))
    if rss:
        for pid in s.worker_pids():     # reset before the request by procs.reset_hwm
            hwm = procs.status_kb(pid, "VmHWM")
            if hwm and hwm > MAX_HWM_KB:
                problems.append("worker %d peak RSS %d MB (limit %d MB)"
                                % (pid, hwm // 1024, MAX_HWM_KB // 1024))
    # a good request right after
    g = s.get(GOOD)
    im = _decodes(g.body) if g.status == 200 else None
    if im is None or im.size != (120, 80):
        problems.append("the good request after it got %r" % g)
    assert not problems, "GET %s (behind %s)\n  %s\n  -> %r\n%s" % (
        path[:300], s.front, "\n  ".join(problems), r, s.logs() if any(
            "log" in p or p.startswith("a 5") for p in problems) else "")
    return r


def url(*parts):
    return MOUNT + "/" + "/".join(urllib.parse.quote(p) for p in parts)


def _q(case):
    return "?" + case.query if case.query else ""


# ------------------------------------------------------------------ bombs

@pytest.mark.parametrize("case", BOMBS, ids=[c.name for c in BOMBS])
def test_bomb(nginx_stack, world, case):
    """Over a limit: 413 naming the limit (or 422/415: refused by the
    decoder), fast, without memory. A PNG whose image data inflates past
    its rows is refused by lib/png_guard.c before libpng spends seconds
    skipping the rest (422 naming it)."""
    r = probe(world, nginx_stack, url("bomb", case.name) + _q(case), "bomb", case.name,
              case.expect, QUICK, rss=True, what=case.what)
    if r.status == 413:
        assert "limit" in r.json()["error"], r
    if case.name.startswith("png-4gib-idat"):
        assert "past its rows" in r.json()["error"], r


@pytest.mark.parametrize("case", DENSE, ids=[c.name for c in DENSE])
def test_dense_bomb_within_limits(nginx_stack, world, case):
    """A few kB whose headers declare 81 MP (the default limit is 100 MP):
    answered in time, and the worker's peak RSS stays under 300 MB."""
    probe(world, nginx_stack, url("dense", case.name) + _q(case), "dense", case.name,
          case.expect, SLOW, rss=True, what=case.what)


# ------------------------------------------------------------------ ImageTragick

@pytest.mark.parametrize("case", TRAGICK, ids=[c.name for c in TRAGICK])
def test_tragick_payload(nginx_stack, world, case):
    probe(world, nginx_stack, url("tragick", case.name) + _q(case), "tragick", case.name,
          case.expect, QUICK, what=case.what)


NAMES = hostile.tragick_names("MARKER")


@pytest.mark.parametrize("i", range(len(NAMES)), ids=NAMES)
def test_coder_and_shell_names_are_only_names(nginx_stack, world, i):
    """A good JPEG under a name that means something to GraphicsMagick or
    a shell is served as the JPEG it is, and nothing runs."""
    name = hostile.tragick_names(world.markers["rel"])[i]
    r = probe(world, nginx_stack, url("names", name) + "?size=60x40", "names", name, {200})
    assert Image.open(io.BytesIO(r.body)).size == (60, 40)


@pytest.mark.parametrize("path", [
    "/%7Ctouch%20MARKER.jpg",
    "/%7Ctouch%20MARKER",
    "/msl:MARKER.jpg",
    "/text:%2Fetc%2Fpasswd",
    "/text:SECRET",
    "/@SECRET",
    "/@%2Fetc%2Fpasswd",
    "/mvg:good.jpg",
    "/jpeg:good.jpg",
    "/good.jpg[0]",
    "/good.jpg%5B0%5D",
    "/%60touch%20MARKER%60.jpg",
    "/$(touch%20MARKER).jpg",
    "/good.jpg;touch%20MARKER",
    "/good.jpg%7Ctouch%20MARKER",
    "/ephemeral:SECRET",
    "/https:%2F%2F127.0.0.1%2Fx.jpg",
    "/file:%2F%2F%2Fetc%2Fpasswd",
])
def test_coder_prefixes_in_the_url(nginx_stack, world, path):
    """Coder prefixes, @file and |cmd in the URL are file names: 404."""
    path = path.replace("MARKER", urllib.parse.quote(world.markers["abs_tmp"], safe="")) \
        .replace("SECRET", urllib.parse.quote(world.secret_txt, safe=""))
    probe(world, nginx_stack, MOUNT + path, "url-names", path, {403, 404})


# ------------------------------------------------------------------ video

@pytest.mark.parametrize("case", VIDEO, ids=[c.name for c in VIDEO])
def test_video_payload(nginx_stack, world, case):
    """Playlists and protocol URLs are 415; a real container around them
    or an alias dref has nothing to decode (422); headers over the video
    limits are 413, fast and without memory."""
    probe(world, nginx_stack, url("video", case.name) + _q(case), "video", case.name,
          case.expect, QUICK, rss=True, what=case.what)


# ------------------------------------------------------------------ damaged files

@pytest.mark.parametrize("fmt", MUTANT_FORMATS)
def test_good_fixture_is_served(nginx_stack, world, fmt):
    """The files the mutants are made from are good."""
    probe(world, nginx_stack, url("mut", "%s.%s" % (fmt, hostile.EXT[fmt])) + "?size=64x48",
          "mutant", fmt, {200}, SLOW)


@pytest.mark.parametrize("fmt,i", [(f, i) for f in MUTANT_FORMATS
                                   for i in range(hostile.MUTANTS)],
                         ids=["%s-%02d" % (f, i) for f in MUTANT_FORMATS
                              for i in range(hostile.MUTANTS)])
def test_truncated_or_bit_flipped(nginx_stack, world, fmt, i):
    """200 with an image that decodes, or a clean 413/415/422: never a 5xx,
    a hang or a crash."""
    name = "%s-%02d.%s" % (fmt, i, hostile.EXT[fmt])
    what = world.mutants.get(name, "")
    probe(world, nginx_stack, url("mut", name) + "?size=64x48", "mutant", name,
          {200, 413, 415, 422}, SLOW, what=what)


# ------------------------------------------------------------------ links and special files

LINKS = [
    ("abs-secret.jpg", {403}),
    ("abs-secret-jpeg.jpg", {403}),
    ("abs-secret-jpeg.jpg?size=32x32", {403}),
    ("rel-secret.jpg", {403}),
    ("sub/rel-secret.jpg", {403}),
    ("passwd.jpg", {403}),
    ("dir-out/secret.txt", {403}),
    ("dir-out/secret.jpg?size=32x32", {403}),
    ("dir-out2/secret.txt", {403}),
    ("dir-out/dir/secret.txt", {403}),
    ("chain1.jpg", {403}),
    ("loop-a.jpg", {403}),
    ("proc-root.jpg", {403}),
    ("proc-cwd.jpg", {403}),
    ("proc-fd.jpg", {403}),
    ("proc-environ.jpg", {403}),
    ("out-and-back.jpg", {403}),
    ("abs-inside.jpg", {403}),
    ("rel-inside.jpg?size=120x80", {200}),
    ("dangling.jpg", {404}),
    ("fifo.jpg", {404}),
    ("fifo.jpg?size=10x10", {404}),
    ("dir.jpg", {404}),
    ("socket.jpg", {404}),
    ("devnull.jpg", {404}),
    ("devzero.jpg?size=10x10", {404}),
    ("devurandom.jpg", {404}),
]


@pytest.mark.parametrize("rel,expect", LINKS, ids=[x[0] for x in LINKS])
def test_link_or_special_file(nginx_stack, world, rel, expect):
    """Symlinks that leave the root (absolute, relative, chained, through
    /proc magic links) are 403; FIFOs, sockets, devices and directories
    are 404 and never read (a FIFO must not block a worker)."""
    if rel.startswith("dev") and os.geteuid() != 0:
        pytest.skip("mknod needs root")
    probe(world, nginx_stack, MOUNT + "/links/" + rel, "links", rel, expect)


# ------------------------------------------------------------------ URL attacks

LONG = "a" * 5000
# (id, raw path, statuses): 400/404/414 besides mediafcgi's own are what
# nginx or lighttpd answer themselves for a form they refuse (not JSON).
ATTACKS = [
    ("dotdot", "/media/../outside/secret.txt", {400, 403, 404}),
    ("dotdot-deep", "/media/../../../../../../etc/passwd", {400, 403, 404}),
    ("dotdot-under-mount", "/media/sub/../../outside/secret.txt", {400, 403, 404}),
    ("pct-dotdot", "/media/%2e%2e/outside/secret.txt", {400, 403, 404}),
    ("pct-dotdot-under-mount", "/media/sub/%2e%2e/%2e%2e/outside/secret.txt",
     {400, 403, 404}),
    ("pct-dotdot-stays", "/media/sub/%2e%2e/good.jpg", {403}),
    ("double-pct-dotdot", "/media/%252e%252e/outside/secret.txt", {404}),
    ("double-pct-dotdot-stays", "/media/sub/%252e%252e/good.jpg", {404}),
    ("dotdot-pct-slash", "/media/..%2foutside%2fsecret.txt", {400, 403, 404}),
    ("dotdot-pct-slash-under", "/media/sub/..%2f..%2foutside%2fsecret.txt",
     {400, 403, 404}),
    ("dotdot-pct-backslash", "/media/%2e%2e%5coutside%5csecret.txt", {400, 403, 404}),
    ("backslash-raw", "/media/sub\\..\\..\\outside\\secret.txt", {400, 403, 404}),
    ("backslash-pct", "/media/sub%5c..%5c..%5coutside%5csecret.txt", {400, 403, 404}),
    ("overlong-utf8-dot", "/media/%c0%ae%c0%ae/outside/secret.txt", {400, 403, 404}),
    ("nul", "/media/good.jpg%00.png", {400, 403, 404}),
    ("nul-alone", "/media/%00", {400, 403, 404}),
    ("nul-query", "/media/good.jpg?size=10x10%00", {400}),
    ("nul-param-name", "/media/good.jpg?size%00=10x10", {400}),
    ("long-path", "/media/" + LONG + ".jpg", {400, 403, 404, 414}),
    ("long-path-dirs", "/media/" + "/".join(["ab"] * 1700) + "/good.jpg",
     {400, 403, 404, 414}),
    ("long-query", "/media/good.jpg?size=100x100&q=" + "9" * 5000, {400, 414}),
    ("long-query-name", "/media/good.jpg?" + LONG + "=1", {400, 414}),
    ("many-params", "/media/good.jpg?" + "&".join(["fit=cover"] * 600), {400, 414}),
    ("repeated-param", "/media/good.jpg?size=100x100&size=200x200", {400}),
    ("repeated-param-pct", "/media/good.jpg?size=100x100&%73ize=200x200", {400}),
    ("huge-size", "/media/good.jpg?size=99999999999x1", {400}),
    ("huge-size-2", "/media/good.jpg?size=4294967297x4294967297", {400}),
    ("size-over-output", "/media/good.jpg?size=16384x16384&dpr=4&enlarge=1", {413}),
    ("size-16384-dpr4", "/media/good.jpg?size=16384x16384&dpr=4", {200, 413}),
    ("size-fill-over-output", "/media/good.jpg?size=16384x16384&fit=fill&enlarge=1", {413}),
    ("size-contain-over-output", "/media/good.jpg?size=16384x16384&fit=contain&enlarge=1",
     {413}),
    ("crop-absurd", "/media/good.jpg?crop=4294967295,4294967295,4294967295,4294967295",
     {400}),
    ("crop-outside", "/media/good.jpg?crop=100000,100000,10,10", {400}),
    ("crop-past-edge", "/media/good.jpg?crop=0,0,1000000,1000000&size=120x80", {200}),
    ("crop-zero", "/media/good.jpg?crop=0,0,0,0", {400}),
    ("negative-size", "/media/good.jpg?size=-1x-1", {400}),
    ("negative-crop", "/media/good.jpg?crop=-1,-1,10,10", {400}),
    ("negative-q", "/media/good.jpg?q=-5", {400}),
    ("negative-rotate", "/media/good.jpg?rotate=-90", {400}),
    ("negative-blur", "/media/good.jpg?blur=-1", {400}),
    ("negative-dpr", "/media/good.jpg?dpr=-1", {400}),
    ("negative-frame", "/media/good.jpg?frame=-1", {400}),
    ("nan-dpr", "/media/good.jpg?dpr=nan", {400}),
    ("inf-blur", "/media/good.jpg?blur=inf", {400}),
    ("hex-size", "/media/good.jpg?size=0x10x0x10", {400}),
    ("exp-q", "/media/good.jpg?q=1e2", {400}),
    ("negative-t", "/media/video/segment.ts?t=-5", {400}),
    ("huge-t", "/media/video/segment.ts?t=99999999999999999999999", {400}),
    ("nan-t", "/media/video/segment.ts?t=nan", {400}),
    ("unicode-file", "/media/%C3%A9t%C3%A9.jpg?size=120x80", {200}),
    ("unicode-missing", "/media/%E2%80%AEgpj.exe", {404}),
    ("invalid-utf8", "/media/%ff%fe%fd.jpg", {400, 404}),
    ("unicode-digits", "/media/good.jpg?size=%EF%BC%91%EF%BC%90x%EF%BC%91%EF%BC%90", {400}),
    ("unicode-param", "/media/good.jpg?s%C4%B1ze=10x10", {400}),
    ("bad-pct", "/media/good.jpg?size=%zz", {400}),
    ("bad-pct-path", "/media/good%zz.jpg", {400, 404}),
    ("crlf-query", "/media/good.jpg?size=100x100%0d%0aSet-Cookie:%20pwned=1", {400}),
    ("crlf-param-name", "/media/good.jpg?%0d%0aLocation:%20http://evil/=1", {400}),
    ("crlf-path", "/media/x%0d%0aSet-Cookie:%20pwned=1.jpg", {400, 404}),
    ("crlf-format", "/media/good.jpg?format=jpeg%0d%0aX-Pwned:%201", {400}),
    ("format-svg", "/media/good.jpg?format=svg", {400}),
    ("format-msl", "/media/good.jpg?format=msl", {400}),
    ("format-path", "/media/good.jpg?format=..%2f..%2fetc%2fpasswd", {400}),
    ("preset-path", "/media/good.jpg?preset=..%2f..%2fetc%2fpasswd", {400, 403, 404}),
    ("sig-junk", "/media/good.jpg?size=10x10&sig=" + "f" * 200, {400, 403}),
    ("root-slashes", "/media//etc/passwd", {403, 404}),
    ("pct-slash-root", "/media/%2fetc%2fpasswd", {403, 404}),
    ("semicolon", "/media/good.jpg;/../../outside/secret.txt", {400, 403, 404}),
    ("absolute-form", "http://127.0.0.1/media/../outside/secret.txt", {400, 403, 404}),
    ("mount-prefix-trick", "/media../outside/secret.txt", {400, 403, 404}),
    ("hash", "/media/good.jpg%23/../../outside/secret.txt", {400, 403, 404}),
]


@pytest.mark.parametrize("rid,raw,expect", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_url_attack(url_stack, world, rid, raw, expect):
    """Sent as is (no client normalisation): the expected clean 4xx (or
    the front end's own 4xx), never the secret, no injected header; a good
    request right after is answered."""
    probe(world, url_stack, raw, "url", rid, expect, QUICK, front_may_refuse=True)
