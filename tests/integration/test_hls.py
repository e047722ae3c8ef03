"""
format=hls: a VOD playlist of a video file and its segments, behind nginx.

The fixture is a 40 s clip (320x240, 25 fps, H.264 with a keyframe every
2 s, B-frames, AAC) whose every frame shows its own number in its pixels
(12-bit blocks, the scheme of support/videos.py), so a decoded frame says
where in the file it came from. The same clip as MPEG-TS (no index) and
with size= is transcoded instead of copied.

What is checked: the playlist (VOD, ENDLIST, segments of about segment=
seconds cut at keyframes); ffprobe/ffmpeg reading the playlist through
nginx as an HLS client get every frame and the duration; the segment that
holds t=30 s holds exactly the frames of its time range, frame 750 among
them; a segment is the same bytes every time, with ETag, Content-Length,
HEAD, 304 and Range, transcoded ones too (rotate=90, q=, a 203x77 4:4:4
clip) whichever worker answers after whatever else it did; with a signing key the playlist's segment URLs work
and an unsigned or altered one is 403; under presets_only the playlist of
a preset names it in its segment URLs, which are answered (seg= beside
preset=, nothing else); hostile seg= and segment= values;
and hls.js in headless Chromium plays the playlist and seeks to the middle.
"""

import concurrent.futures
import hashlib
import hmac
import io
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest
from PIL import Image, ImageDraw

from support import videos, webservers
from support.checks import assert_json_error

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
HLS_DIR = os.path.join(HERE, "browser", "hls")
CHROMIUM = os.environ.get("MEDIAFCGI_CHROMIUM", "/usr/bin/chromium")
MOUNT = "/media"
KEY = "hls-test-key-0123456789"

FPS = 25
SECONDS = 40
FRAMES = FPS * SECONDS
W, H = 320, 240
BITS = 12


# ------------------------------------------------------------------ fixture

def stamp(n):
    """Frame n: its number in BITS blocks (white over black = 1), as
    support/videos.py draws them, and a blue lower half."""
    im = Image.new("RGB", (W, H), (0, 0, 0))
    d = ImageDraw.Draw(im)
    for i in range(BITS):
        bit = (n >> (BITS - 1 - i)) & 1
        x0, x1 = i * W // BITS, (i + 1) * W // BITS - 1
        top, bottom = ((255,) * 3, (0,) * 3) if bit else ((0,) * 3, (255,) * 3)
        d.rectangle([x0, 0, x1, H // 4 - 1], fill=top)
        d.rectangle([x0, H // 4, x1, H // 2 - 1], fill=bottom)
    d.rectangle([0, H // 2, W - 1, H - 1], fill=(40, 90, 200))
    return im


def read_stamp(im):
    """The number stamp() drew into im (any size), or None."""
    g = im.convert("L")
    w, h = g.size
    n = 0
    for i in range(BITS):
        x0, x1 = i * w / BITS, (i + 1) * w / BITS
        cx = (int(x0 + (x1 - x0) * 0.3), int(x1 - (x1 - x0) * 0.3) + 1)
        a = sum(g.crop((cx[0], int(h * 0.06), cx[1], int(h * 0.19))).getdata())
        b = sum(g.crop((cx[0], int(h * 0.31), cx[1], int(h * 0.44))).getdata())
        area = (cx[1] - cx[0]) * (int(h * 0.19) - int(h * 0.06))
        if abs(a - b) < 80 * area:
            return None
        n = n * 2 + (1 if a > b else 0)
    return n


def _clip(path):
    """numbered.mp4 made once (cached under build/test-videos/hls/)."""
    args = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-bf", "3",
            "-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart"]
    key = hashlib.sha256((" ".join(args) + videos.ffmpeg_version() + "%d" % BITS)
                         .encode()).hexdigest()[:12]
    cache = os.path.join(REPO, "build", "test-videos", "hls", "numbered-%s.mp4" % key)
    if not os.path.exists(cache):
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        tmp = cache + ".%d.tmp.mp4" % os.getpid()
        raw = b"".join(stamp(n).tobytes() for n in range(FRAMES))
        argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "%dx%d" % (W, H), "-r", str(FPS),
                "-i", "-", "-f", "lavfi",
                "-i", "sine=frequency=440:sample_rate=48000:duration=%d" % SECONDS] + args + [tmp]
        subprocess.run(argv, input=raw, check=True, timeout=300)
        os.replace(tmp, cache)
    shutil.copyfile(cache, path)


@pytest.fixture(scope="module")
def hmedia():
    top = tempfile.mkdtemp(prefix="mediafcgi-hls-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    os.mkdir(root)
    _clip(os.path.join(root, "numbered.mp4"))
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i",
                    os.path.join(root, "numbered.mp4"), "-c", "copy",
                    os.path.join(root, "numbered.ts")], check=True, timeout=60)
    # odd sides in 4:4:4 (transcoded: x264 keeps them, browsers do not)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
                    "-vf", "scale=203:77,setsar=1,format=yuv444p", "-c:v", "libx264",
                    "-preset", "veryfast", "-g", "25", "-c:a", "aac", "-shortest",
                    os.path.join(root, "odd444.mp4")], check=True, timeout=60)
    stamp(0).save(os.path.join(root, "photo.jpg"), "JPEG")
    for n in os.listdir(root):
        os.chmod(os.path.join(root, n), 0o644)
    yield root
    shutil.rmtree(top, ignore_errors=True)


def _stack(root, extra=None):
    s = webservers.Stack(front="nginx", media_root=root, mount=MOUNT, workers=2,
                         config_extra=extra or {})
    s.start()
    return s


def _stop(s):
    assert not s.stop()
    assert not s.sanitizer_reports(), s.sanitizer_reports()


@pytest.fixture(scope="module")
def hstack(hmedia):
    s = _stack(hmedia)
    yield s
    _stop(s)


@pytest.fixture(scope="module")
def signed(hmedia):
    s = _stack(hmedia, {"security": {"signing_key": KEY}})
    yield s
    _stop(s)


@pytest.fixture(scope="module")
def presets(hmedia):
    s = _stack(hmedia, {"security": {"presets_only": "yes"},
                        "preset vod": {"format": "hls", "segment": "4"},
                        "preset thumb": {"size": "80x60"}})
    yield s
    _stop(s)


# ------------------------------------------------------------------ helpers

def playlist(stack, query):
    r = stack.get(query if query.startswith("/") else MOUNT + "/numbered.mp4?" + query)
    assert r.status == 200, r
    assert r.content_type == "application/vnd.apple.mpegurl"
    return parse(r.body.decode())


def parse(text):
    """(target duration, [(EXTINF seconds, URL)]), checking the VOD tags."""
    lines = text.strip().splitlines()
    assert lines[0] == "#EXTM3U"
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines
    assert lines[-1] == "#EXT-X-ENDLIST"
    target = int(next(l for l in lines if l.startswith("#EXT-X-TARGETDURATION:")).split(":")[1])
    segs = []
    for i, l in enumerate(lines):
        if l.startswith("#EXTINF:"):
            segs.append((float(l[8:].split(",")[0]), lines[i + 1]))
    return target, segs


def decode_frames(data):
    """The frame numbers of a TS segment, in presentation order."""
    p = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "mpegts",
                        "-i", "-", "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                       input=data, stdout=subprocess.PIPE, check=True, timeout=60)
    size = W * H * 3
    return [read_stamp(Image.frombytes("RGB", (W, H), p.stdout[i:i + size]))
            for i in range(0, len(p.stdout) - size + 1, size)]


def ffprobe_url(url):
    p = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-print_format", "json",
                        "-show_entries", "stream=codec_name,codec_type,width,height,nb_read_frames",
                        "-show_entries", "format=duration", url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


# ------------------------------------------------------------------ playlist

def test_playlist_is_vod_and_cut_at_keyframes(hstack):
    target, segs = playlist(hstack, "format=hls")
    assert target == 6
    assert [round(d, 3) for d, _ in segs] == [6.0] * 6 + [4.0]
    assert abs(sum(d for d, _ in segs) - SECONDS) < 0.05
    for n, (_, url) in enumerate(segs):
        assert url == "%s/numbered.mp4?format=hls&seg=%d.ts" % (MOUNT, n)


@pytest.mark.parametrize("segment,lengths", [("2", [2.0] * 20), ("4", [4.0] * 10),
                                             ("5", [6.0] * 6 + [4.0])])
def test_segment_length_is_rounded_up_to_a_keyframe(hstack, segment, lengths):
    target, segs = playlist(hstack, "format=hls&segment=" + segment)
    assert [round(d, 3) for d, _ in segs] == lengths
    assert all("segment=%s" % segment in u for _, u in segs)
    assert target >= max(lengths)


def test_ffmpeg_as_hls_client_reads_every_frame(hstack):
    info = ffprobe_url(hstack.url(MOUNT + "/numbered.mp4?format=hls"))
    v = [s for s in info["streams"] if s["codec_type"] == "video"][0]
    a = [s for s in info["streams"] if s["codec_type"] == "audio"][0]
    assert (v["codec_name"], v["width"], v["height"]) == ("h264", W, H)
    assert int(v["nb_read_frames"]) == FRAMES
    assert a["codec_name"] == "aac"
    # 48 kHz AAC: 1024 samples a frame, each in exactly one segment
    assert abs(int(a["nb_read_frames"]) - SECONDS * 48000 / 1024) <= 2
    assert abs(float(info["format"]["duration"]) - SECONDS) < 0.2


def test_segment_holding_30s_holds_the_frame_of_30s(hstack):
    _, segs = playlist(hstack, "format=hls")
    start = 0.0
    for n, (d, url) in enumerate(segs):
        if start <= 30 < start + d:
            break
        start += d
    r = hstack.get(url)
    assert r.status == 200 and r.content_type == "video/mp2t"
    got = decode_frames(r.body)
    first, last = round(start * FPS), round((start + d) * FPS) - 1
    assert got == list(range(first, last + 1)), got
    assert 30 * FPS in got


def test_any_segment_first_and_all_frames_once(hstack):
    _, segs = playlist(hstack, "format=hls&segment=4")
    seen = []
    for _, url in reversed(segs):
        r = hstack.get(url)
        assert r.status == 200
        seen = decode_frames(r.body) + seen
    assert seen == list(range(FRAMES))


def test_transcoded_without_index_and_with_size(hstack):
    # MPEG-TS has no index: cut every segment= seconds by an encoder
    target, segs = playlist(hstack, MOUNT + "/numbered.ts?format=hls")
    assert [round(d, 3) for d, _ in segs[:-1]] == [6.0] * 6
    assert abs(segs[-1][0] - 4.0) < 0.05      # the file's duration (its audio)
    r = hstack.get(segs[5][1])
    assert r.status == 200
    assert decode_frames(r.body) == list(range(750, 900))
    # size= that shrinks the picture: transcoded, same cuts
    info = ffprobe_url(hstack.url(MOUNT + "/numbered.mp4?format=hls&size=160x&segment=10"))
    v = [s for s in info["streams"] if s["codec_type"] == "video"][0]
    assert (v["width"], v["height"]) == (160, 120)
    assert int(v["nb_read_frames"]) == FRAMES


# ------------------------------------------------------------------ a segment as a file

def test_segment_is_deterministic_with_validators(hstack):
    for q in ("format=hls&seg=3", "format=hls&seg=2&size=160x"):
        url = MOUNT + "/numbered.mp4?" + q
        a, b = hstack.get(url), hstack.get(url)
        assert a.status == b.status == 200
        assert a.body == b.body, q
        assert a.headers["ETag"] == b.headers["ETag"]
        assert int(a.headers["Content-Length"]) == len(a.body)
        h = hstack.head(url)
        assert h.status == 200 and h.body == b""
        assert int(h.headers["Content-Length"]) == len(a.body)
        assert h.headers["ETag"] == a.headers["ETag"]
        nm = hstack.get(url, headers={"If-None-Match": a.headers["ETag"]})
        assert nm.status == 304 and nm.body == b""
    # "3" and "3.ts" are one segment, one ETag
    a = hstack.get(MOUNT + "/numbered.mp4?format=hls&seg=3")
    b = hstack.get(MOUNT + "/numbered.mp4?seg=3.ts&format=hls")
    assert a.headers["ETag"] == b.headers["ETag"] and a.body == b.body


def test_transcoded_segment_is_the_same_whichever_worker_answers(hstack):
    """Regression: transcoded segments differed from one request to the
    next once a worker's heap had a history. Two causes: swscale reads
    RGB24 one pixel past an odd-width row (4:2:0 chroma), which for the
    last row of a turned frame was malloc garbage (rgb_alloc() zeroes
    RGB_PAD now); x264's AVX-512 code reads memory it has not written
    when its macroblock tree weighs B-frames (venc_open() keeps x264 at
    AVX2). Each segment is asked for three times by two clients at once,
    between stills, a remuxed segment and other transcodes, so both
    workers answer with different heaps; bytes and ETag must not move."""
    segs = [MOUNT + "/numbered.mp4?format=hls&seg=1&rotate=90",
            MOUNT + "/numbered.mp4?format=hls&seg=2&q=50",
            MOUNT + "/odd444.mp4?format=hls&seg=0",
            MOUNT + "/odd444.mp4?format=hls&seg=0&q=50",
            MOUNT + "/odd444.mp4?format=hls&seg=0&rotate=90"]
    others = [MOUNT + "/numbered.mp4?t=3&size=77x33&format=png",
              MOUNT + "/numbered.mp4?format=hls&seg=4",
              MOUNT + "/odd444.mp4?t=1&size=1x1&fit=fill&format=png",
              MOUNT + "/numbered.mp4?format=hls&seg=0&size=161x",
              MOUNT + "/odd444.mp4?t=2&rotate=270&format=jpeg"]
    order = []
    for n in range(3):
        for i, u in enumerate(segs):
            order += [u, others[(i + n) % len(others)]]

    def fetch(u):
        r = hstack.get(u)
        assert r.status == 200, (u, r)
        return u, hashlib.sha256(r.body).hexdigest(), r.headers["ETag"]

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        got = list(pool.map(fetch, order))
    for u in segs:
        answers = [(h, etag) for v, h, etag in got if v == u]
        assert len(answers) == 3
        assert len(set(answers)) == 1, (u, answers)


def test_segment_answers_range(hstack):
    url = MOUNT + "/numbered.mp4?format=hls&seg=1.ts"
    whole = hstack.get(url)
    n = len(whole.body)
    assert whole.headers.get("Accept-Ranges") == "bytes"
    r = hstack.get(url, headers={"Range": "bytes=100-1099"})
    if r.status == 200:
        pytest.fail("Range ignored: the worker does not pass HTTP_RANGE to the router "
                    "(struct request needs range/if_range; see the HLS report)")
    assert r.status == 206
    assert r.headers["Content-Range"] == "bytes 100-1099/%d" % n
    assert r.body == whole.body[100:1100]
    r = hstack.get(url, headers={"Range": "bytes=-188"})
    assert r.status == 206 and r.body == whole.body[-188:]
    r = hstack.get(url, headers={"Range": "bytes=%d-" % (n - 10)})
    assert r.status == 206 and r.body == whole.body[-10:]
    r = hstack.get(url, headers={"Range": "bytes=%d-" % n})
    assert r.status == 416
    assert r.headers["Content-Range"] == "bytes */%d" % n
    # If-Range with another validator: the whole segment
    r = hstack.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert r.status == 200 and r.body == whole.body
    r = hstack.get(url, headers={"Range": "bytes=0-9", "If-Range": whole.headers["ETag"]})
    assert r.status == 206 and r.body == whole.body[:10]


# ------------------------------------------------------------------ signed URLs

def app_sign(path_query):
    sig = hmac.new(KEY.encode(), path_query.encode(), hashlib.sha256).hexdigest()
    return path_query + "&sig=" + sig


def test_signed_playlist_writes_signed_segment_urls(signed):
    assert_json_error(signed.get(MOUNT + "/numbered.mp4?format=hls"), 403, "sig")
    r = signed.get(app_sign(MOUNT + "/numbered.mp4?format=hls&expires=4000000000"))
    assert r.status == 200, r
    _, segs = parse(r.body.decode())
    assert len(segs) == 7
    for _, url in segs:
        assert "expires=4000000000" in url and "&sig=" in url
        assert url.endswith(".ts")
    seg = signed.get(segs[5][1])
    assert seg.status == 200 and seg.content_type == "video/mp2t"
    assert decode_frames(seg.body)[0] == 750
    # unsigned, or the signature of another segment: 403
    plain = re.sub(r"&sig=[0-9a-f]+", "", segs[5][1])
    assert_json_error(signed.get(plain), 403, "sig")
    other = segs[5][1].replace("seg=5.ts", "seg=4.ts")
    assert_json_error(signed.get(other), 403, "sig")


# ------------------------------------------------------------------ presets_only

def test_presets_only_answers_the_segment_urls_it_writes(presets):
    """Under presets_only the playlist of a preset holding format=hls names
    the preset in its segment URLs (preset=vod&seg=N.ts): the gate takes
    seg= beside preset=, and nothing else."""
    target, segs = playlist(presets, "preset=vod")
    assert target >= 4 and len(segs) == 10, segs
    for i, (_, url) in enumerate(segs):
        assert url == MOUNT + "/numbered.mp4?preset=vod&seg=%d.ts" % i, url
    seg = presets.get(segs[3][1])
    assert seg.status == 200 and seg.content_type == "video/mp2t", seg
    assert decode_frames(seg.body)[0] == 300
    # seg= only beside a preset; every other parameter is still refused
    for q in ("format=hls", "format=hls&seg=3.ts", "seg=3.ts",
              "preset=vod&seg=3.ts&size=160x", "preset=vod&segment=2",
              "preset=vod&seg=3.ts&format=hls", "preset=vod&t=3"):
        assert_json_error(presets.get(MOUNT + "/numbered.mp4?" + q), 403, "preset")
    # a preset without format=hls: seg= means nothing there
    assert_json_error(presets.get(MOUNT + "/numbered.mp4?preset=thumb&seg=1"), 400, "seg")
    r = presets.get(MOUNT + "/numbered.mp4?preset=thumb")
    assert r.status == 200 and r.content_type == "image/jpeg", r


# ------------------------------------------------------------------ hostile input

@pytest.mark.parametrize("query,status,word", [
    ("format=hls&seg=7", 404, "seg"),
    ("format=hls&seg=999999", 404, "seg"),
    ("format=hls&segment=2&seg=20", 404, "seg"),
    ("format=hls&seg=1000000", 400, "seg"),
    ("format=hls&seg=-1", 400, "seg"),
    ("format=hls&seg=init.mp4", 400, "init.mp4"),
    ("format=hls&seg=1.5", 400, "seg"),
    ("format=hls&seg=1.tsx", 400, "seg"),
    ("format=hls&seg=.ts", 400, "seg"),
    ("format=hls&seg=", 400, "seg"),
    ("format=hls&seg=1&seg=2", 400, "seg"),
    ("format=hls&segment=0", 400, "segment"),
    ("format=hls&segment=31", 400, "segment"),
    ("format=hls&segment=1.5", 400, "segment"),
    ("format=hls&segment=99999999999999999999", 400, "segment"),
    ("seg=1", 400, "seg"),
    ("segment=6", 400, "segment"),
    ("format=hls&t=3", 400, "t"),
    ("format=hls&start=3", 400, "start"),
    ("format=hls&fps=10", 400, "fps"),
])
def test_hostile_values(hstack, query, status, word):
    assert_json_error(hstack.get(MOUNT + "/numbered.mp4?" + query), status, word)


def test_hls_of_an_image_is_400(hstack):
    assert_json_error(hstack.get(MOUNT + "/photo.jpg?format=hls"), 400, "format")


# ------------------------------------------------------------------ a browser

def _chromium():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("%s is missing (scripts/deps.sh installs it)" % CHROMIUM)
    return CHROMIUM


def _npm():
    if os.path.isfile(os.path.join(HLS_DIR, "node_modules", "hls.js", "package.json")) and \
            os.path.isfile(os.path.join(HERE, "browser", "node_modules", "playwright-core",
                                        "package.json")):
        return
    for d in (os.path.join(HERE, "browser"), HLS_DIR):
        lock = os.path.isfile(os.path.join(d, "package-lock.json"))
        argv = ["npm", "ci" if lock else "install", "--no-audit", "--no-fund"]
        p = subprocess.run(argv, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=600)
        assert p.returncode == 0, "%s in %s:\n%s" % (" ".join(argv), d,
                                                    p.stdout.decode()[-2000:])


def test_hlsjs_in_chromium_plays_and_seeks(hmedia):
    exe = _chromium()
    _npm()
    docroot = tempfile.mkdtemp(prefix="mediafcgi-hls-www-")
    os.chmod(docroot, 0o755)
    shutil.copyfile(os.path.join(HLS_DIR, "page.html"), os.path.join(docroot, "hls.html"))
    shutil.copyfile(os.path.join(HLS_DIR, "node_modules", "hls.js", "dist", "hls.min.js"),
                    os.path.join(docroot, "hls.min.js"))
    for n in os.listdir(docroot):
        os.chmod(os.path.join(docroot, n), 0o644)
    s = webservers.Stack(front="nginx", media_root=hmedia, docroot=docroot, mount=MOUNT,
                         workers=2)
    try:
        s.start()
        p = subprocess.run(["node", os.path.join(HLS_DIR, "run_hls.js"), s.url("/hls.html"),
                            MOUNT + "/numbered.mp4?format=hls", "--chromium", exe,
                            "--wait", "20"],
                           cwd=HLS_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=120)
        lines = p.stdout.decode("utf-8", "replace").strip().splitlines()
        try:
            rep = json.loads(lines[-1])
        except (IndexError, ValueError):
            raise AssertionError("run_hls.js printed no report (exit %d):\n%s" % (
                p.returncode, p.stderr.decode()[-2000:]))
        assert p.returncode == 0 and "fatal" not in rep, "%s\n%s" % (
            rep.get("fatal"), p.stderr.decode()[-2000:])
        diag = json.dumps(rep, indent=1)[-3000:]
        assert abs(rep["start"]["duration"] - SECONDS) < 0.5, diag
        assert (rep["start"]["width"], rep["start"]["height"]) == (W, H), diag
        # landed within one segment (6 s) of the target, and plays on
        assert abs(rep["seeked_at"] - rep["target"]) <= 6.0, diag
        assert rep["after"]["currentTime"] > rep["seeked_at"] + 0.5, diag
        assert not [e for e in rep["after"]["hls"]["errors"] if "FATAL" in e], diag
        print("hls.js in %s: seek to %.1f s landed at %.2f s in %d ms, then %.2f s" % (
            rep.get("browser"), rep["target"], rep["seeked_at"], rep["seek_ms"],
            rep["after"]["currentTime"]))
    finally:
        _stop(s)
        shutil.rmtree(docroot, ignore_errors=True)
