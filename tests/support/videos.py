"""
videos - the video fixtures of the integration tests, made with the ffmpeg
CLI at test time (ffmpeg makes fixtures and references only, never answers
a request), and the checks the tests make on decoded stills.

Every frame of the frame-numbered videos carries its own number in its
pixels, in a way that survives H.264/VP8/... and scaling down to a sprite
tile: the top half of the picture is two rows of NBITS big blocks, the
number in binary (white = 1, most significant bit on the left) over its
complement, so a block pair is read by comparing its two halves and an
illegible picture (black, garbage) is told apart from any number. The
bottom-left quarter is a grey whose brightness ramps with the frame number;
the bottom-right quarter is a fixed blue, so the picture is asymmetric.

build(dir) writes every file into dir and returns a manifest (dict, also
saved as manifest.json): per file what ffprobe says (format, streams, the
timestamps of the keyframes read back with -show_frames, never assumed)
and, per encoder this ffmpeg lacks, why the file was skipped. ensure()
caches the whole set under build/test-videos/<hash of this file and of the
ffmpeg version>/ so a second run does not encode anything.
"""

import concurrent.futures
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import tempfile

from PIL import Image, ImageDraw, ImageStat

from support import imaging
from support.imaging import quadrants

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

FPS = 25
W, H = 320, 240
GOP = 25                  # frames from one keyframe to the next
NBITS = 8                 # frame numbers 0..255
FRAMES_SECONDS = 6        # frames.mp4: 150 frames, keyframes every second
CONTAINER_SECONDS = 2     # the container/codec matrix: 50 frames each
BLUE_BR = (40, 90, 200)   # the bottom-right quarter of every numbered frame

# The rotated videos show imaging's quadrants (imaging.QUADS colours).

# Hostile files: text that some libav demuxer or protocol would follow to
# another file. Each is saved with a .mp4 name: the name must not matter.
HOSTILE = {
    "hls.mp4": (b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
                b"#EXT-X-MEDIA-SEQUENCE:0\n"
                b"#EXTINF:10.0,\nfile:///etc/passwd\n"
                b"#EXTINF:10.0,\n/etc/passwd\n"
                b"#EXTINF:10.0,\nsegment.ts\n"
                b"#EXT-X-ENDLIST\n"),
    "ffconcat.mp4": (b"ffconcat version 1.0\nfile '/etc/passwd'\n"
                     b"file 'segment.ts'\n"),
    "concat.mp4": b"concat:/etc/passwd|/etc/hostname",
    "subfile.mp4": b"subfile,,start,0,end,100,,:/etc/passwd",
}


# ------------------------------------------------------------------ pictures

def frame_image(n, total, w=W, h=H):
    """Frame n (0-based) of a video of total frames: its number in blocks,
    a brightness ramp, a fixed colour."""
    im = Image.new("RGB", (w, h), (0, 0, 0))
    d = ImageDraw.Draw(im)
    for i in range(NBITS):
        bit = (n >> (NBITS - 1 - i)) & 1
        x0, x1 = i * w // NBITS, (i + 1) * w // NBITS - 1
        top, bottom = ((255,) * 3, (0,) * 3) if bit else ((0,) * 3, (255,) * 3)
        d.rectangle([x0, 0, x1, h // 4 - 1], fill=top)
        d.rectangle([x0, h // 4, x1, h // 2 - 1], fill=bottom)
    g = ramp_level(n, total)
    d.rectangle([0, h // 2, w // 2 - 1, h - 1], fill=(g, g, g))
    d.rectangle([w // 2, h // 2, w - 1, h - 1], fill=BLUE_BR)
    return im


def ramp_level(n, total):
    """The grey of the bottom-left quarter of frame n."""
    return 40 + (180 * n) // max(1, total - 1)


def read_frame_number(im):
    """The frame number shown in im (a numbered frame, possibly scaled),
    or None if the blocks cannot be read."""
    g = im.convert("L")
    w, h = g.size
    n = 0
    for i in range(NBITS):
        x0, x1 = i * w / NBITS, (i + 1) * w / NBITS
        cx0, cx1 = x0 + (x1 - x0) * 0.25, x1 - (x1 - x0) * 0.25
        a = _mean(g, cx0, h * 0.06, cx1, h * 0.19)
        b = _mean(g, cx0, h * 0.31, cx1, h * 0.44)
        if abs(a - b) < 80:
            return None
        n = n * 2 + (1 if a > b else 0)
    return n


def ramp_of(im):
    """Mean grey of the bottom-left quarter (the brightness ramp)."""
    g = im.convert("L")
    w, h = g.size
    return _mean(g, w * 0.1, h * 0.6, w * 0.4, h * 0.9)


def luma_stats(im):
    s = ImageStat.Stat(im.convert("L"))
    return s.mean[0], s.stddev[0]


def _mean(g, x0, y0, x1, y1):
    box = (int(round(x0)), int(round(y0)), max(int(round(x1)), int(round(x0)) + 1),
           max(int(round(y1)), int(round(y0)) + 1))
    return ImageStat.Stat(g.crop(box)).mean[0]


def corner_colours(im):
    """Mean colour near the middle of each quadrant of im."""
    im = im.convert("RGB")
    w, h = im.size
    out = {}
    for name, (fx, fy) in {"tl": (0.25, 0.25), "tr": (0.75, 0.25),
                           "bl": (0.25, 0.75), "br": (0.75, 0.75)}.items():
        box = (int(w * (fx - 0.1)), int(h * (fy - 0.1)), int(w * (fx + 0.1)), int(h * (fy + 0.1)))
        out[name] = tuple(ImageStat.Stat(im.crop(box)).mean)
    return out


# ------------------------------------------------------------------ ffmpeg

def _run(argv, data=None, timeout=300):
    p = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s" % (" ".join(argv), p.returncode,
                                                    p.stderr.decode("utf-8", "replace")[-3000:]))
    return p.stdout


def ffmpeg_version():
    return _run(["ffmpeg", "-hide_banner", "-version"]).decode().splitlines()[0]


def encoders():
    """Names of the encoders this ffmpeg has."""
    out = _run(["ffmpeg", "-hide_banner", "-encoders"]).decode("utf-8", "replace")
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return names


def ffprobe(path):
    """ffprobe's format and streams (JSON), plus the video frames' timestamps
    and key flags."""
    info = json.loads(_run(["ffprobe", "-v", "error", "-print_format", "json",
                            "-show_format", "-show_streams", path]))
    if any(s.get("codec_type") == "video" for s in info.get("streams", [])):
        fr = json.loads(_run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                              "-show_entries", "frame=pts_time,key_frame,pict_type",
                              "-print_format", "json", path]))
        frames = [f for f in fr.get("frames", []) if f.get("pts_time") not in (None, "N/A")]
        info["frame_times"] = [float(f["pts_time"]) for f in frames]
        info["keyframes"] = [float(f["pts_time"]) for f in frames if int(f["key_frame"])]
        info["pict_types"] = "".join(f.get("pict_type", "?") for f in frames)
    return info


def raw_frames(frames):
    return b"".join(im.convert("RGB").tobytes() for im in frames)


def encode(raw, out, codec_args, fps=FPS, size=(W, H), extra_inputs=(), post=()):
    """Raw RGB frames (bytes) -> out, encoded with codec_args."""
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "%dx%d" % size,
            "-r", str(fps), "-i", "-"]
    for inp in extra_inputs:
        argv += inp
    argv += list(codec_args) + list(post) + [out]
    _run(argv, data=raw)


X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
        "-g", str(GOP), "-keyint_min", str(GOP), "-sc_threshold", "0", "-bf", "3",
        "-x264-params", "b-adapt=0"]
SINE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=%d"]


def _matrix(have):
    """(file name, encoder needed, ffmpeg arguments) of the container/codec
    matrix; the encoder list is tried in order."""
    av1 = None
    for enc, args in (("libsvtav1", ["-c:v", "libsvtav1", "-preset", "12", "-crf", "35",
                                     "-g", str(GOP)]),
                      ("libaom-av1", ["-c:v", "libaom-av1", "-cpu-used", "8", "-crf", "35",
                                      "-b:v", "0", "-row-mt", "1", "-g", str(GOP)]),
                      ("librav1e", ["-c:v", "librav1e", "-speed", "10", "-qp", "80",
                                    "-g", str(GOP)])):
        if enc in have:
            av1 = (enc, args)
            break
    rows = [
        ("h264.mp4", "libx264", X264 + ["-movflags", "+faststart"]),
        ("h264.mov", "libx264", X264 + ["-c:a", "aac", "-b:a", "64k", "-ac", "2"]),
        ("h264.ts", "libx264", X264 + ["-f", "mpegts"]),
        ("hevc.mkv", "libx265", ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "24",
                                 "-pix_fmt", "yuv420p", "-g", str(GOP),
                                 "-x265-params", "log-level=error"]),
        ("vp8.webm", "libvpx", ["-c:v", "libvpx", "-b:v", "1M", "-crf", "10",
                                "-deadline", "realtime", "-cpu-used", "8", "-g", str(GOP)]),
        ("vp9.webm", "libvpx-vp9", ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "30",
                                    "-deadline", "realtime", "-cpu-used", "8",
                                    "-g", str(GOP), "-pix_fmt", "yuv420p"]),
        ("av1.mkv", av1[0] if av1 else "libaom-av1",
         (av1[1] if av1 else []) + ["-pix_fmt", "yuv420p"]),
        ("mpeg4.avi", "mpeg4", ["-c:v", "mpeg4", "-q:v", "3", "-g", str(GOP)]),
        ("mjpeg.avi", "mjpeg", ["-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p"]),
    ]
    return rows


# ------------------------------------------------------------------ ISO BMFF

def boxes(data, start=0, end=None):
    """Top-level boxes of data[start:end] as (type, offset, size)."""
    out = []
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, typ = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        elif size == 0:
            size = end - pos
        if size < 8:
            break
        out.append((typ.decode("latin-1"), pos, size))
        pos += size
    return out


def _box(data, typ):
    for t, off, size in boxes(data):
        if t == typ:
            return off, size
    raise ValueError("no %s box" % typ)


# ------------------------------------------------------------------ build

def build(d):
    """Writes every fixture into d; returns the manifest."""
    os.makedirs(d, exist_ok=True)
    have = encoders()
    skipped = {}
    jobs = []

    def p(name):
        return os.path.join(d, name)

    total = FPS * FRAMES_SECONDS
    numbered = raw_frames(frame_image(n, total) for n in range(total))
    if "libx264" not in have:
        raise RuntimeError("this ffmpeg has no libx264: the video fixtures need it")

    # frames.mp4: the reference for frame accuracy (video only, so its
    # duration is the video's: 150 frames at 25 fps, keyframes every 25).
    jobs.append(lambda: encode(numbered, p("frames.mp4"), X264 + ["-movflags", "+faststart"]))
    # frames-tail.mp4: the same with moov at the end (source of nomoov.mp4).
    jobs.append(lambda: encode(numbered, p("frames-tail.mp4"), X264))

    ctotal = FPS * CONTAINER_SECONDS
    craw = raw_frames(frame_image(n, ctotal) for n in range(ctotal))
    for name, enc, args in _matrix(have):
        if enc not in have:
            skipped[name] = "this ffmpeg has no %s encoder" % enc
            continue
        extra = ()
        if name == "h264.mov":
            sine = list(SINE)
            sine[-1] = sine[-1] % CONTAINER_SECONDS
            extra = (sine,)
        jobs.append(lambda name=name, args=args, extra=extra:
                    encode(craw, p(name), args, extra_inputs=extra))

    # t=auto: 2 s of black, then numbered frames; 12 s at 10 fps so that the
    # keyframe at 2 s lies within the first fifth of the video.
    bfps, btotal = 10, 120
    black = Image.new("RGB", (160, 120), (0, 0, 0))
    braw = raw_frames(black if n < 2 * bfps else frame_image(n, btotal, 160, 120)
                      for n in range(btotal))
    jobs.append(lambda: encode(braw, p("black-intro.mp4"),
                               X264[:8] + ["-g", str(bfps), "-keyint_min", str(bfps),
                                           "-sc_threshold", "0", "-bf", "2"],
                               fps=bfps, size=(160, 120)))

    # The stored picture of the rotated videos: quadrants, 1 s.
    qraw = raw_frames([quadrants(W, H)] * FPS)
    jobs.append(lambda: encode(qraw, p("upright.mp4"), X264))

    # Audio only, AAC in MP4.
    jobs.append(lambda: _run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                              "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2",
                              "-c:a", "aac", "-b:a", "64k", p("audio.mp4")]))

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        for f in [ex.submit(j) for j in jobs]:
            f.result()

    # Phone-style rotation: the display matrix is written by a stream copy
    # (ffmpeg 5.1's muxer takes the old "rotate" tag there). rotate=270
    # gives ffprobe's rotation -90 = shown turned 90 degrees clockwise, the
    # matrix of a phone held upright.
    for name, tag in (("rotated.mp4", "270"), ("rotated-ccw.mp4", "90"),
                      ("rotated180.mp4", "180")):
        _run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", p("upright.mp4"),
              "-c", "copy", "-metadata:s:v:0", "rotate=" + tag, p(name)])
        # What a player shows: ffmpeg's own autorotation, frame 0.
        _run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", p(name),
              "-frames:v", "1", p(name + ".ref.png")])

    if os.path.exists(p("h264.ts")):
        # A real MPEG-TS with a playlist's name: the bytes decide, not the name.
        shutil.copyfile(p("h264.ts"), p("ts-named.m3u8"))
        # The segment the hostile playlists name, inside the root.
        shutil.copyfile(p("h264.ts"), p("segment.ts"))

    _damaged(p)
    for name, text in HOSTILE.items():
        with open(p(name), "wb") as f:
            f.write(text)
    # MP4 magic, then a playlist: sniffed as MP4, the mov demuxer must not
    # follow anything in it.
    with open(p("ftyp-playlist.mp4"), "wb") as f:
        f.write(struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 0x200, b"isom", b"mp41"))
        f.write(HOSTILE["hls.mp4"])

    manifest = {"ffmpeg": ffmpeg_version(), "skipped": skipped, "files": {}}
    for name in sorted(os.listdir(d)):
        if name.endswith((".png", ".json")) or name in HOSTILE or name == "ftyp-playlist.mp4":
            continue
        try:
            manifest["files"][name] = ffprobe(p(name))
        except RuntimeError as e:
            manifest["files"][name] = {"ffprobe_error": str(e)[-500:]}
    with open(p("manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def _damaged(p):
    with open(p("frames.mp4"), "rb") as f:
        good = f.read()                      # faststart: ftyp, moov, mdat
    mdat_off, mdat_size = _box(good, "mdat")
    moov_off, moov_size = _box(good, "moov")
    assert moov_off < mdat_off, "frames.mp4 is not faststart"
    # Cut in the middle of mdat: the index names samples that are not there.
    with open(p("truncated.mp4"), "wb") as f:
        f.write(good[: mdat_off + mdat_size // 2])
    # Random bytes over the middle third of mdat (the index intact).
    rnd = random.Random(5)
    bad = bytearray(good)
    a, b = mdat_off + mdat_size // 3, mdat_off + 2 * mdat_size // 3
    bad[a:b] = rnd.randbytes(b - a)
    with open(p("corrupt.mp4"), "wb") as f:
        f.write(bytes(bad))
    # Random bytes over the middle of the moov box (its header kept).
    bad = bytearray(good)
    a, b = moov_off + 64, moov_off + moov_size - 64
    bad[a:b] = rnd.randbytes(b - a)
    with open(p("corrupt-moov.mp4"), "wb") as f:
        f.write(bytes(bad))
    # No moov at all: ftyp, (free), mdat.
    with open(p("frames-tail.mp4"), "rb") as f:
        tail = f.read()
    moov_off, moov_size = _box(tail, "moov")
    with open(p("nomoov.mp4"), "wb") as f:
        f.write(tail[:moov_off] + tail[moov_off + moov_size:])


def _fingerprint():
    h = hashlib.sha256()
    # this file and imaging's, whose quadrants the rotated videos show
    for path in (__file__, imaging.__file__):
        with open(os.path.abspath(path), "rb") as f:
            h.update(f.read())
    h.update(ffmpeg_version().encode())
    return h.hexdigest()[:16]


def ensure(cache_top=None):
    """(directory, manifest) of the fixtures, built once and cached under
    build/test-videos/ (MEDIAFCGI_VIDEO_CACHE overrides the place)."""
    top = cache_top or os.environ.get("MEDIAFCGI_VIDEO_CACHE") or \
        os.path.join(REPO, "build", "test-videos")
    fp = _fingerprint()
    d = os.path.join(top, fp)
    mf = os.path.join(d, "manifest.json")
    if not os.path.exists(mf):
        os.makedirs(top, exist_ok=True)
        # sets made by an older videos.py or ffmpeg are of no more use
        for old in os.listdir(top):
            if len(old) == len(fp) and old != fp and all(c in "0123456789abcdef" for c in old):
                shutil.rmtree(os.path.join(top, old), ignore_errors=True)
        tmp = tempfile.mkdtemp(prefix="build-", dir=top)
        try:
            build(tmp)
            try:
                os.rename(tmp, d)
            except OSError:          # another run made it first
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    with open(mf) as f:
        return d, json.load(f)


if __name__ == "__main__":
    import sys
    import time
    t0 = time.monotonic()
    out = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="videos-")
    m = build(out)
    print("built in %.1f s into %s; skipped: %s" % (time.monotonic() - t0, out, m["skipped"]))
    for n, i in m["files"].items():
        print(n, i.get("keyframes"), i.get("pict_types", "")[:40], i.get("ffprobe_error", ""))
