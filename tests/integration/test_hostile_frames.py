"""Frame-count bombs behind nginx (issue 16 item 5): a GIF of 10^6 1x1
frames (31 MB) and a TIFF of 10^5 1x1 pages (11 MB), generated at test
time into a fresh media root. The frame limit (max_frames, 300 by
default) is checked while the headers are read: no reader goes past
max_frames + 1 frames, so every request that would read more than the
first frame is answered 413 with a JSON body naming max_frames, within
test_hostile's time limit, with the worker's peak RSS (VmHWM, reset
before the request) under MAX_GROWTH_KB over what it held before, no
worker killed by a signal (same workers after as before, nothing in the
log) and the next request served. Before the bound, the GIF's 10^6 frames
were all pinged: 36 s and 12 GB.

A GIF of exactly max_frames frames is still served animated, every frame
there in order; one frame more is the 413.

The request plumbing (timing, the JSON body, the log, the good request
after) is test_hostile.probe().
"""

import io
import os
import shutil
import tempfile

import pytest
from PIL import Image

from support import hostile, procs
from support.checks import BAD_LOG
import test_hostile
from test_hostile import url

MAX_FRAMES = 300                  # mediafcgi's default
MAX_GROWTH_KB = 100 * 1024        # peak RSS over the worker's RSS before
GIF_FRAMES = 10 ** 6
TIFF_PAGES = 10 ** 5
RED, BLUE = (230, 30, 30), (30, 40, 220)


@pytest.fixture(scope="module")
def world():
    top = tempfile.mkdtemp(prefix="mediafcgi-frames-")
    W = test_hostile.World(top)
    try:
        os.makedirs(W.root)
        os.chmod(top, 0o755)
        W.write("good.jpg", test_hostile._good_jpeg())
        W.write("frames/1m.gif", hostile.gif_frames(1, 1, GIF_FRAMES))
        W.write("frames/100k.tif",
                hostile.tiff([hostile.tiff_gray(1, 1, 1)] * TIFF_PAGES, data=bytes(2)))
        W.write("frames/max.gif", hostile.gif_frames(8, 6, MAX_FRAMES, colours=(RED, BLUE)))
        W.write("frames/max1.gif", hostile.gif_frames(8, 6, MAX_FRAMES + 1, colours=(RED, BLUE)))
        yield W
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(world):
    s = test_hostile._start(world, "nginx")
    yield s
    test_hostile._stop(world, s)
    bad = [ln for ln in s.final_log.splitlines() if BAD_LOG.search(ln)]
    assert not bad, "mediafcgi's log:\n  " + "\n  ".join(bad[:20])


def bounded(W, s, path, expect, name):
    """probe() (status, JSON body, time, log, the good request after), and
    around it: the same workers before and after (none died and was
    respawned) and each one's peak RSS within MAX_GROWTH_KB of its RSS
    before the request."""
    before = {pid: procs.status_kb(pid, "VmRSS") for pid in s.worker_pids()}
    r = test_hostile.probe(W, s, path, "frames", name, expect, test_hostile.QUICK, rss=True)
    after = set(s.worker_pids())
    assert after == set(before), "workers %s before, %s after GET %s" % (
        sorted(before), sorted(after), path)
    if not s.asan:
        for pid, rss in before.items():
            hwm = procs.status_kb(pid, "VmHWM")
            assert rss and hwm and hwm - rss < MAX_GROWTH_KB, \
                "GET %s: worker %d peak RSS %d MB, %d MB before" % (
                    path, pid, (hwm or 0) // 1024, (rss or 0) // 1024)
    return r


def names_max_frames(r):
    body = r.json()
    assert body["status"] == 413 and "max_frames" in body["error"], body


@pytest.mark.parametrize("query", ["", "size=50x50", "info", "frame=0", "frame=99999",
                                   "format=webp", "format=gif&size=20x20"])
def test_gif_of_a_million_frames(stack, world, query):
    r = bounded(world, stack, url("frames", "1m.gif") + "?" + query, {413}, "1m.gif")
    names_max_frames(r)


def test_gif_frame_past_the_parameter_range(stack, world):
    """frame=999999 is past what the parser takes (0..100000): a 400 naming
    frame before the file is opened."""
    r = bounded(world, stack, url("frames", "1m.gif") + "?frame=999999", {400}, "1m.gif")
    assert "frame" in r.json()["error"], r


def test_gif_first_frame_alone_is_served(stack, world):
    """A JPEG of the first frame reads one frame: served."""
    r = bounded(world, stack, url("frames", "1m.gif") + "?format=jpeg&size=20x20", {200},
                "1m.gif")
    assert Image.open(io.BytesIO(r.body)).size == (1, 1)


@pytest.mark.parametrize("query", ["info", "frame=0", "frame=99999", "frame=50&size=10x10"])
def test_tiff_of_100k_pages(stack, world, query):
    r = bounded(world, stack, url("frames", "100k.tif") + "?" + query, {413}, "100k.tif")
    names_max_frames(r)


@pytest.mark.parametrize("query", ["", "size=50x50&enlarge=1", "format=webp"])
def test_tiff_first_page_is_served(stack, world, query):
    """Without frame= a TIFF answers its first page, read alone."""
    r = bounded(world, stack, url("frames", "100k.tif") + "?" + query, {200}, "100k.tif")
    im = Image.open(io.BytesIO(r.body))
    assert getattr(im, "n_frames", 1) == 1


def frame_colours(im):
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(im.convert("RGB").getpixel((im.width // 2, im.height // 2)))
    return out


def close(c, want, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(c, want))


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_gif_of_max_frames_stays_animated(stack, world, fmt):
    """Exactly max_frames frames: every one out, in order (they alternate
    red and blue, so none can be merged away)."""
    r = bounded(world, stack, url("frames", "max.gif") + "?format=%s&size=16x12&enlarge=1"
                % fmt, {200}, "max.gif")
    im = Image.open(io.BytesIO(r.body))
    assert im.format == fmt.upper() and im.size == (16, 12), (im.format, im.size)
    assert im.n_frames == MAX_FRAMES, "%d frames out of %d" % (im.n_frames, MAX_FRAMES)
    got = frame_colours(im)
    bad = [i for i, c in enumerate(got) if not close(c, RED if i % 2 == 0 else BLUE)]
    assert not bad, "frames %s have the wrong colour (%s)" % (bad[:10], [got[i] for i in bad[:10]])


@pytest.mark.parametrize("query", ["", "info", "format=webp"])
def test_gif_of_max_frames_plus_one_is_413(stack, world, query):
    r = bounded(world, stack, url("frames", "max1.gif") + "?" + query, {413}, "max1.gif")
    names_max_frames(r)

