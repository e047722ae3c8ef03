"""Work is bounded per answer: decoding, and the filters.

A still decodes from the keyframe before t; a storyboard does that once per
tile. With one keyframe in a whole clip, `sprite=10x10&seek=accurate` asks
for thousands of decoded frames: without a bound it runs into
request_timeout (a 504, a worker busy for a minute). Every frame an answer
decodes counts against `max_decode_pixels`; past it the answer is 413
naming the limit, quickly, and the next request is served. Keyframe
sprites and stills within the bound are answered as before.

blur= and sharpen= cost the output's pixels times GraphicsMagick's kernel
for the sigma (sharpen: its square): a large sigma on a large output would
keep a worker busy until request_timeout (504, the worker killed). It is
413 naming the limit before any frame is filtered, and a sharpen kernel
larger than the output (which GraphicsMagick refuses) is 400 naming
sharpen, for images and video stills alike.
"""

import os
import shutil
import subprocess
import tempfile
import time

import pytest
from PIL import Image

from support import webservers
from support.checks import assert_json_error
from support.imaging import decode

MOUNT = "/media"
W, H, FPS, SECONDS = 320, 180, 25, 10
BUDGET = W * H * 200            # 200 frames' worth


@pytest.fixture(scope="module")
def stack():
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to make the clip")
    top = tempfile.mkdtemp(prefix="mediafcgi-decode-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    os.makedirs(root)
    # One keyframe for the whole clip: every t decodes from frame 0.
    Image.new("RGB", (1200, 800), (120, 60, 200)).save(os.path.join(root, "photo.jpg"))
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc2=size=%dx%d:rate=%d:duration=%d" % (W, H, FPS, SECONDS),
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-g", str(FPS * SECONDS), "-keyint_min", str(FPS * SECONDS),
                    "-sc_threshold", "0", os.path.join(root, "long-gop.mp4")],
                   check=True, timeout=120)
    s = webservers.Stack(front="nginx", media_root=root, mount=MOUNT, workers=2,
                         config_extra={"media": {"max_decode_pixels": BUDGET}})
    s.start()
    try:
        yield s
    finally:
        assert not s.stop()
        assert not s.sanitizer_reports(), s.sanitizer_reports()
        shutil.rmtree(top, ignore_errors=True)


def _timed(s, path):
    t0 = time.monotonic()
    r = s.get(path)
    return r, time.monotonic() - t0


@pytest.mark.parametrize("query", [
    "sprite=10x10&size=32x18&seek=accurate",
    "sprite=4x4&size=64x36&seek=accurate&format=png",
    "t=9.9",                    # 247 frames from the keyframe
    "t=99%",
])
def test_too_much_decoding_is_413(stack, query):
    pids = set(stack.worker_pids())
    r, took = _timed(stack, MOUNT + "/long-gop.mp4?" + query)
    assert_json_error(r, 413, "max_decode_pixels")
    assert took < 10, "refused only after %.1f s" % took
    ok = stack.get(MOUNT + "/long-gop.mp4?t=1&size=64x36")
    assert ok.status == 200 and decode(ok).size == (64, 36), ok
    assert pids <= set(stack.worker_pids()), "a worker died"


@pytest.mark.parametrize("query, size", [
    ("sprite=10x10&size=32x18", (320, 180)),    # keyframes: one decode a tile
    ("t=5&size=64x36", (64, 36)),               # 126 frames
    ("t=auto&size=64x36", (64, 36)),
])
def test_within_the_bound_is_served(stack, query, size):
    r = stack.get(MOUNT + "/long-gop.mp4?" + query)
    assert r.status == 200, (r, stack.logs())
    assert decode(r).size == size


@pytest.mark.parametrize("path, status, name", [
    ("/photo.jpg?size=5000x5000&enlarge=1&blur=50", 413, "blur, sharpen"),
    ("/photo.jpg?size=1200x800&sharpen=5", 413, "blur, sharpen"),
    ("/photo.jpg?size=300x200&sharpen=50", 400, "sharpen"),
    ("/long-gop.mp4?t=1&size=5000x5000&enlarge=1&blur=50", 413, "blur, sharpen"),
    ("/long-gop.mp4?t=1&size=20x20&sharpen=40", 400, "sharpen"),
    ("/long-gop.mp4?sprite=4x4&size=40x40&sharpen=30", 400, "sharpen"),
])
def test_costly_filters_are_refused_quickly(stack, path, status, name):
    pids = set(stack.worker_pids())
    r, took = _timed(stack, MOUNT + path)
    assert_json_error(r, status, name)
    assert took < 5, "refused only after %.1f s" % took
    assert pids <= set(stack.worker_pids()), "a worker died"
    ok = stack.get(MOUNT + "/photo.jpg?size=120x80")
    assert ok.status == 200 and decode(ok).size == (120, 80), ok


@pytest.mark.parametrize("query", ["size=300x200&sharpen=1", "size=300x200&blur=50",
                                   "size=1200x800&blur=2"])
def test_reasonable_filters_are_served(stack, query):
    r = stack.get(MOUNT + "/photo.jpg?" + query)
    assert r.status == 200 and r.content_type == "image/jpeg", r
