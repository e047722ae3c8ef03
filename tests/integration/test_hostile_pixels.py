"""A pixel path must not allocate unbounded memory (issue 16, item 1).

Every request that asks for a huge picture from a small source goes
through the one planner (lib/geom.c, geom_plan_limited()) before anything
is allocated: images, video stills, sprites (the whole sheet), MJPEG
streams and transcodes. Against mediafcgi behind nginx, with a 320x240
clip, the same clip with an extreme pixel aspect ratio (1000:1 and
1:1000, in the container and in the codec header) and a 320x240 JPEG:

- each hostile query gets its answer: 413 with the JSON body
  {"error": ..., "status": 413} naming the limit (a stream before its
  first byte, so the 413 is the answer), or 200 with a picture whose size
  is bounded where the request is legitimate once the aspect ratio is
  clamped (at most 16:1 either way);
- the workers' peak RSS (VmHWM, reset before the request and sampled
  while it runs, so a stream process that exits is seen too) stays
  within MAX_GROWTH_MB of what they held before (not under ASan);
- no worker is killed by a signal or exits in error (mediafcgi's log),
  a worker that served a plain request is still the same process;
- a normal still and a normal thumbnail right after are served.
"""

import io
import os
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
from PIL import Image

from support import procs, webservers
from support.checks import BAD_LOG, new_log, under_asan
from test_hostile import _decodes

MOUNT = "/media"
MAX_GROWTH_MB = 150
CONF = {"server": {"request_timeout": 20}}
GOOD = [(MOUNT + "/img.jpg?size=120x80&fit=cover", (120, 80)),
        (MOUNT + "/clip.mp4?t=1&size=120x80&fit=cover", (120, 80))]
W, H = 320, 240
SAR_MAX = 16                      # lib/vid/core.h VID_MAX_SAR


def _ffmpeg(out, *args):
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=%dx%d:rate=25:duration=2" % (W, H)]
                   + list(args) + [out], check=True, timeout=120)


def _make_media(root):
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"]
    _ffmpeg(os.path.join(root, "clip.mp4"), *x264)
    # Matroska keeps any pixel aspect ratio in the container (MP4's pasp
    # and x264's VUI drop these); MPEG-4 part 2 in AVI carries it in the
    # codec header, so the decoded frames say it.
    for name, sar in (("wide", "1000/1"), ("thin", "1/1000")):
        vf = ["-vf", "setsar=sar=%s:max=1000" % sar]
        _ffmpeg(os.path.join(root, "sar-%s.mkv" % name), *(vf + x264))
        _ffmpeg(os.path.join(root, "sar-%s.avi" % name), *(vf + ["-c:v", "mpeg4"]))
    im = Image.new("RGB", (W, H), (30, 90, 200))
    im.paste((240, 220, 20), (W // 2, 0, W, H))
    im.save(os.path.join(root, "img.jpg"), "JPEG", quality=90)


@pytest.fixture(scope="module")
def media():
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to make the clips")
    top = tempfile.mkdtemp(prefix="mediafcgi-pixels-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    os.makedirs(root)
    try:
        _make_media(root)
        yield root
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(media):
    if not os.access(webservers.mediafcgi_bin(), os.X_OK):
        pytest.fail("%s not built (run make, or set MEDIAFCGI_BIN)" % webservers.mediafcgi_bin())
    s = webservers.Stack(front="nginx", media_root=media, mount=MOUNT, workers=2,
                         config_extra=CONF)
    s.start()
    s.log_pos = 0
    s.asan = under_asan(s)
    try:
        yield s
    finally:
        left = s.stop()
        bad = [ln for ln in s.final_log.splitlines() if BAD_LOG.search(ln)]
        assert not left, "processes left behind after SIGTERM: %s" % left
        assert not bad, "mediafcgi's log:\n" + "\n".join(bad)


class Peak:
    """The workers' peak RSS growth during a request: VmHWM reset first
    (procs.reset_hwm), then sampled every few ms, so that a stream process,
    which exits after its answer, is measured while it lives."""

    def __init__(self, s):
        self.s = s
        self.base = {}
        self.peak = {}
        self._stop = threading.Event()
        self._thread = None

    def _sample(self):
        for pid in self.s.worker_pids():
            hwm = procs.status_kb(pid, "VmHWM")
            if hwm is None:
                continue
            if pid not in self.base:
                # a process forked during the request (a replacement
                # worker): its own start is its baseline
                self.base[pid] = procs.status_kb(pid, "VmRSS") or hwm
            self.peak[pid] = max(self.peak.get(pid, 0), hwm)

    def _run(self):
        while not self._stop.wait(0.005):
            self._sample()

    def __enter__(self):
        procs.reset_hwm(self.s.worker_pids())
        for pid in self.s.worker_pids():
            self.base[pid] = procs.status_kb(pid, "VmRSS") or 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self._sample()
        return False

    def growth_kb(self):
        """{pid: kB of peak over the RSS it had before}."""
        return {pid: self.peak[pid] - self.base.get(pid, 0) for pid in self.peak}


def _jpeg_parts(body):
    """The JPEGs of a multipart/x-mixed-replace body, decoded."""
    out = []
    pos = 0
    while True:
        start = body.find(b"\xff\xd8", pos)
        if start < 0:
            return out
        end = body.find(b"\r\n--", start)
        if end < 0:
            return out
        im = _decodes(body[start:end])
        if im is not None:
            out.append(im)
        pos = end


def ask(s, path, expect, msg=None, size_max=None, stream=False):
    """GETs path and checks the answer, the workers' memory and health,
    and that the good requests are served after it. Returns the Response."""
    problems = []
    before = set(s.worker_pids())
    with Peak(s) as peak:
        try:
            r = s.request("GET", path, timeout=60)
        except OSError as e:
            pytest.fail("GET %s: no answer (%r)\n%s" % (path, e, s.logs()))
    if r.status != expect:
        problems.append("status %d, expected %d" % (r.status, expect))
    elif expect == 413:
        if r.content_type != "application/json":
            problems.append("a 413 that is not JSON (%s)" % r.content_type)
        else:
            body = r.json()
            if body.get("status") != 413 or "limit" not in str(body.get("error")):
                problems.append("JSON body %r does not name a limit" % body)
            elif msg and msg not in body["error"]:
                problems.append("error %r lacks %r" % (body["error"], msg))
    elif expect == 200:
        if stream:
            ims = _jpeg_parts(r.body)
            if not r.content_type.startswith("multipart/x-mixed-replace") or not ims:
                problems.append("a stream without JPEG parts (%s)" % r.content_type)
            sizes = {im.size for im in ims}
        else:
            im = _decodes(r.body)
            if not r.content_type.startswith("image/") or im is None:
                problems.append("200 without an image that decodes (%s)" % r.content_type)
            sizes = {im.size} if im is not None else set()
        if size_max and any(w > size_max[0] or h > size_max[1] for w, h in sizes):
            problems.append("picture %s over %dx%d" % (sorted(sizes), *size_max))
    if not s.asan:
        for pid, kb in peak.growth_kb().items():
            if kb > MAX_GROWTH_MB * 1024:
                problems.append("worker %d grew by %d MB at its peak (limit %d MB)"
                                % (pid, kb // 1024, MAX_GROWTH_MB))
    time.sleep(0.05)            # let the master reap and log a death
    bad = [ln for ln in new_log(s).splitlines() if BAD_LOG.search(ln)]
    if bad:
        problems.append("mediafcgi's log: %s" % " | ".join(bad))
    if not stream and not before <= set(s.worker_pids()):
        problems.append("workers %s are gone" % sorted(before - set(s.worker_pids())))
    for good, size in GOOD:
        g = s.get(good)
        im = _decodes(g.body) if g.status == 200 else None
        if im is None or im.size != size:
            problems.append("the good request %s after it got %r" % (good, g))
    assert not problems, "GET %s\n  %s\n  -> %r\n%s" % (
        path, "\n  ".join(problems), r, s.logs())
    return r


COVER = "size=16384x1&fit=cover&enlarge=1"
TALL = "size=1x16384&fit=cover&enlarge=1"

# (file, query, status, what the 413 names)
REFUSED = [
    ("clip.mp4", "t=1&" + COVER, "intermediate 16384x12288 is over the limit of 100000000"),
    ("clip.mp4", "t=1&" + COVER + "&dpr=4", "over the limit of 65535 pixels a side"),
    ("clip.mp4", "t=1&" + TALL, "intermediate 21845x16384 is over the limit"),
    ("clip.mp4", "t=1&" + TALL + "&dpr=4", "over the limit of 65535 pixels a side"),
    ("clip.mp4", "t=1&size=16384x16384&fit=fill&enlarge=1",
     "output 16384x16384 is over the limit of 25000000 pixels"),
    ("clip.mp4", "t=1&size=16384x16384&fit=contain&enlarge=1", "output 16384x16384"),
    ("clip.mp4", "t=1&" + COVER + "&rotate=90", "intermediate 16384x21845"),
    ("clip.mp4", "t=1&" + TALL + "&rotate=270", "intermediate 12288x16384"),
    ("clip.mp4", "t=1&size=16384x4&fit=fill&enlarge=1&format=webp",
     "16383 pixels a side of WebP"),
    ("img.jpg", COVER, "intermediate 16384x12288 is over the limit of 100000000"),
    ("img.jpg", COVER + "&dpr=4", "over the limit of 65535 pixels a side"),
    ("img.jpg", TALL + "&rotate=90", "intermediate"),
    ("img.jpg", "size=16384x16384&fit=fill&enlarge=1", "output 16384x16384"),
    ("img.jpg", "size=16384x4&fit=fill&enlarge=1&format=webp", "16383 pixels a side of WebP"),
    # extreme pixel aspect ratios, clamped to 16:1, still over with enlarge
    ("sar-thin.mkv", "t=1&size=16384x16384&fit=cover&enlarge=1", "pixels a side"),
    ("sar-thin.avi", "t=1&size=16384x16384&fit=cover&enlarge=1", "pixels a side"),
    ("sar-wide.mkv", "t=1&" + COVER + "&dpr=4", "pixels a side"),
    ("sar-wide.avi", "t=1&" + TALL, "intermediate"),
    # sprites: the whole sheet counts
    ("clip.mp4", "sprite=20x5&size=16384x16384&enlarge=1", "of JPEG"),
    ("clip.mp4", "sprite=20x5&size=16384x16384&enlarge=1&format=vtt", "of JPEG"),
    ("clip.mp4", "sprite=20x5&size=2000x2000&enlarge=1",
     "output 40000x7500 is over the limit of 25000000 pixels"),
    ("sar-wide.mkv", "sprite=20x5", "output 102400x1200 is over the limit of 65500 "
     "pixels a side of JPEG"),
]

REFUSED_STREAMS = [
    ("clip.mp4", "format=mjpeg&" + COVER, "intermediate 16384x12288"),
    ("clip.mp4", "format=mjpeg&" + COVER + "&dpr=4", "pixels a side"),
    ("clip.mp4", "format=mjpeg&" + TALL + "&rotate=90", "intermediate"),
    ("sar-thin.mkv", "format=mjpeg&size=16384x16384&fit=cover&enlarge=1", "pixels a side"),
    ("clip.mp4", "format=mp4&size=16384x16384&enlarge=1",
     "output 16384x12288 is over the limit of 9437184 pixels"),
    ("clip.mp4", "format=mp4&" + COVER + "&dpr=4", "pixels a side"),
    ("clip.mp4", "format=webm&size=16384x1&fit=fill&enlarge=1",
     "16383 pixels a side of VP8"),
    ("sar-wide.mkv", "format=webm&size=1x8000&fit=cover&enlarge=1", "intermediate"),
]

# Legitimate once the aspect ratio is clamped: (file, query, largest picture)
CLAMPED = [
    ("sar-wide.mkv", "t=1", (W * SAR_MAX, H)),
    ("sar-thin.mkv", "t=1", (W, H)),
    ("sar-wide.avi", "t=1", (W * SAR_MAX, H)),
    ("sar-thin.avi", "t=1", (W, H)),
    ("sar-wide.mkv", "t=1&size=16384x16384&fit=cover", (W * SAR_MAX, H)),
    ("sar-thin.mkv", "t=1&size=16384x16384&fit=outside&rotate=90", (H, W)),
    ("sar-wide.mkv", "sprite=4x2", (4 * W * SAR_MAX, 2 * H)),
    ("sar-thin.avi", "sprite=20x5&size=16384x16384&fit=contain", (20 * W, 5 * H)),
]


def _id(case):
    return "%s?%s" % (case[0], case[1])


@pytest.mark.parametrize("case", REFUSED, ids=[_id(c) for c in REFUSED])
def test_over_the_pixel_limits_is_413(stack, case):
    name, query, msg = case
    ask(stack, "%s/%s?%s" % (MOUNT, name, query), 413, msg)


@pytest.mark.parametrize("case", REFUSED_STREAMS, ids=[_id(c) for c in REFUSED_STREAMS])
def test_stream_over_the_pixel_limits_is_413_before_it_starts(stack, case):
    name, query, msg = case
    ask(stack, "%s/%s?%s" % (MOUNT, name, query), 413, msg, stream=True)


@pytest.mark.parametrize("case", CLAMPED, ids=[_id(c) for c in CLAMPED])
def test_extreme_aspect_ratio_is_clamped(stack, case):
    name, query, size_max = case
    r = ask(stack, "%s/%s?%s" % (MOUNT, name, query), 200, size_max=size_max)
    im = Image.open(io.BytesIO(r.body))
    # the clamp is the only thing between the header and the picture:
    # the wide one is drawn 16 times as wide as coded, no wider
    if name.startswith("sar-wide") and query == "t=1":
        assert im.size == (W * SAR_MAX, H), im.size
    if name.startswith("sar-thin") and query == "t=1":
        assert im.size == (W // SAR_MAX, H), im.size


def test_stream_of_an_extreme_aspect_ratio_is_clamped(stack):
    ask(stack, MOUNT + "/sar-wide.mkv?format=mjpeg&fps=5", 200,
        size_max=(W * SAR_MAX, H), stream=True)
