"""
Live sources in H.264 (README "Live sources"): /live/NAME?format=mp4 is a
fragmented MP4 stream (init segment, then one fragment per frame from a
keyframe) and /live/NAME?format=hls a live HLS playlist of fMP4 segments
served from memory; one encode per source whatever the number of viewers,
only while someone watches an H.264 rendition.

Sources are lavfi generators (`format = lavfi`, testsrc2 at 320x240,
15 fps; keyframe interval = fps). Viewers are raw HTTP/1.0 sockets behind
nginx (no chunking: the body is the stream as mediafcgi wrote it), parsed
box by box: each complete moof+mdat with its mfhd sequence number and
tfdt; what a viewer got is decoded by the ffmpeg command line tool, which
must report no error. Each server and client started here is stopped at
the end of its test.
"""

import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest

from support import webservers
from support.waiting import wait_until

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"
GRAPH = "testsrc2=size=320x240:rate=15"
# The documented stream listener (README "Live sources"), as test_streams.
STREAM_LISTENER = {"listen_sndbuf": "8k", "fastcgi_buffer_size": "4k"}


def need_ffmpeg():
    if not (os.access(FFMPEG, os.X_OK) and os.access(FFPROBE, os.X_OK)):
        pytest.skip("no ffmpeg/ffprobe command line tools")


def live_stack(sources, server=None, extra=None, **kw):
    srv = {"max_streams": 4, "stream_timeout": 30}
    srv.update(server or {})
    cfg = {"server": srv}
    cfg.update(extra or {})
    for name, sec in sources.items():
        sec = dict({"format": "lavfi", "input": GRAPH, "fps": 15, "idle_timeout": 30}, **sec)
        # None: the key left out (e.g. no format: probed)
        cfg["source " + name] = {k: v for k, v in sec.items() if v is not None}
    root = tempfile.mkdtemp(prefix="mediafcgi-h264-media-")
    os.chmod(root, 0o755)
    s = webservers.Stack(front="nginx", media_root=root, mount="/media", workers=2,
                         config_extra=cfg, **kw)
    s.empty_root = root
    s.start()
    return s


def stop_stack(s):
    try:
        left = s.stop()
        assert not left, "processes left behind after SIGTERM: %s" % left
        # under `make check SAN=1`: a report fails the test
        assert not s.sanitizer_reports(), "\n".join(s.sanitizer_reports()[:20])
    finally:
        shutil.rmtree(s.empty_root, ignore_errors=True)


def log_text(s):
    try:
        with open(s.path("mediafcgi.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except (OSError, TypeError):
        return ""


def boxes(data, off=0, end=None):
    """(type, start, end) of the ISO BMFF boxes in data[off:end]."""
    end = len(data) if end is None else end
    while off + 8 <= end:
        size, typ = struct.unpack(">I4s", data[off:off + 8])
        if size < 8 or off + size > end:
            return
        yield typ.decode("latin-1"), off, off + size
        off += size


def moof_info(data, a, b):
    """(mfhd sequence number, tfdt base decode time) of the moof data[a:b]."""
    seq = tfdt = None
    for t, x, y in boxes(data, a + 8, b):
        if t == "mfhd":
            seq = struct.unpack(">I", data[x + 12:x + 16])[0]
        elif t == "traf":
            for t2, x2, y2 in boxes(data, x + 8, y):
                if t2 == "tfdt":
                    v = data[x2 + 8]
                    tfdt = struct.unpack(">Q", data[x2 + 12:x2 + 20])[0] if v == 1 \
                        else struct.unpack(">I", data[x2 + 12:x2 + 16])[0]
    return seq, tfdt


class Mp4Viewer(threading.Thread):
    """GET NAME?format=mp4 over HTTP/1.0; the init segment and each whole
    fragment (moof + mdat) with its arrival, sequence number and tfdt.
    `rate` > 0 reads that many bytes a second through a small SO_RCVBUF
    (a slow viewer)."""

    def __init__(self, s, path, rate=0, rcvbuf=16384):
        super().__init__(daemon=True)
        self.halt = threading.Event()
        self.rate = rate
        self.status = None
        self.headers = {}
        self.init = None
        self.frags = []           # (arrival, seq, tfdt, bytes)
        self.order = []           # box types in order
        self.error = None
        self.eof = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rate:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect((s.host, s.port))
        self.sock.sendall(("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % path).encode())
        self.start()

    def stop(self):
        self.halt.set()
        self.join(10)
        try:
            self.sock.close()
        except OSError:
            pass

    def run(self):
        buf = bytearray()
        try:
            while not self.halt.is_set():
                n = 4096 if self.rate else 65536
                try:
                    d = self.sock.recv(n)
                except socket.timeout:
                    continue
                if not d:
                    self.eof = True
                    return
                buf += d
                if self.status is None:
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        continue
                    head = buf[:end].decode("latin-1").split("\r\n")
                    self.status = int(head[0].split()[1])
                    for ln in head[1:]:
                        k, _, v = ln.partition(":")
                        self.headers[k.strip().lower()] = v.strip()
                    del buf[:end + 4]
                    if self.status != 200:
                        return
                self._parse(buf)
                if self.rate:
                    time.sleep(len(d) / self.rate)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = repr(e)

    def _parse(self, buf):
        while True:
            got = list(boxes(buf))
            if not got:
                return
            typ, a, b = got[0]
            if self.init is None:
                # ftyp + moov, then fragments
                if len(got) < 2 or typ != "ftyp" or got[1][0] != "moov":
                    if typ != "ftyp":
                        raise ValueError("stream does not open with ftyp: %r" % typ)
                    return
                self.init = bytes(buf[:got[1][2]])
                self.order += ["ftyp", "moov"]
                del buf[:got[1][2]]
                continue
            if typ != "moof":
                raise ValueError("expected moof, got %r" % typ)
            if len(got) < 2:
                return
            if got[1][0] != "mdat":
                raise ValueError("moof not followed by mdat: %r" % got[1][0])
            seq, tfdt = moof_info(buf, a, b)
            self.frags.append((time.monotonic(), seq, tfdt, bytes(buf[:got[1][2]])))
            self.order += ["moof", "mdat"]
            del buf[:got[1][2]]

    def body(self):
        """(init + the fragments so far, how many)."""
        frags = list(self.frags)
        return self.init + b"".join(f[3] for f in frags), len(frags)


def decode(data, tmpdir):
    """(frames, width, height, stderr) of the ffmpeg command line tool
    decoding data (an MP4)."""
    path = os.path.join(tmpdir, "got.mp4")
    with open(path, "wb") as f:
        f.write(data)
    r = subprocess.run([FFPROBE, "-v", "error", "-select_streams", "v:0", "-count_frames",
                        "-show_entries", "stream=codec_name,width,height,nb_read_frames",
                        "-of", "default=nw=1", path], capture_output=True, text=True, timeout=60)
    info = dict(ln.split("=", 1) for ln in r.stdout.split() if "=" in ln)
    d = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"],
                       capture_output=True, text=True, timeout=60)
    return info, r.stderr + d.stderr


# ------------------------------------------------------------------ fMP4

def test_mp4_stream_plays_and_is_shared(tmp_path):
    """Two viewers of format=mp4: video/mp4, the init segment then moof +
    mdat pairs, in order, from a keyframe; what each got decodes with no
    error to 320x240 H.264 at about the source's rate; the fragments both
    got are the same bytes (one encode for both), and the encoder started
    once. ffprobe reads the stream over HTTP too."""
    need_ffmpeg()
    s = live_stack({"gen": {}}, server={"status_path": "/status"},
                   fcgi_paths=["/live/", "/status"])
    a = b = None
    try:
        a = Mp4Viewer(s, "/live/gen?format=mp4")
        b = Mp4Viewer(s, "/live/gen?format=mp4")
        assert wait_until(lambda: len(a.frags) >= 45 and len(b.frags) >= 45, 15), \
            (a.status, a.error, len(a.frags), b.error, len(b.frags), log_text(s)[-2000:])
        for v in (a, b):
            assert v.status == 200 and v.headers["content-type"] == "video/mp4", v.headers
            assert v.error is None, v.error
            seqs = [f[1] for f in v.frags]
            # every fragment in order (a fast viewer skips none)
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
            # at the source's pace: 15 a second (the first group may come at once)
            span = v.frags[-1][0] - v.frags[15][0]
            rate = (len(v.frags) - 16) / span
            assert 10 <= rate <= 20, "%.1f fragments/s" % rate
            body, n = v.body()
            info, err = decode(body, str(tmp_path))
            assert err.strip() == "", err[-2000:]
            assert info["codec_name"] == "h264", info
            assert (info["width"], info["height"]) == ("320", "240"), info
            assert int(info["nb_read_frames"]) == n, (info, n)
        # one encode: a fragment both got is the same bytes
        fa = {f[1]: f[3] for f in a.frags}
        common = [f for f in b.frags if f[1] in fa]
        assert len(common) >= 30, len(common)
        assert all(fa[f[1]] == f[3] for f in common), "the viewers got different fragments"
        assert a.init == b.init
        assert log_text(s).count("H.264 encoder started") == 1, log_text(s)
        # the status page says so too: one run, running, fragments counted
        src = [x for x in s.get("/status").json()["sources"] if x["name"] == "gen"][0]
        assert src["h264"]["running"] is True and src["h264"]["runs"] == 1, src
        assert src["h264"]["fragments"] >= 45 and src["viewers"] == 2, src
        # ffprobe reads the stream itself
        r = subprocess.run([FFPROBE, "-v", "error", "-show_entries",
                            "stream=codec_name,width,height", "-of", "default=nw=1",
                            s.url("/live/gen?format=mp4")], capture_output=True, text=True,
                           timeout=30)
        assert "codec_name=h264" in r.stdout and "width=320" in r.stdout, (r.stdout, r.stderr)
    finally:
        for v in (a, b):
            if v is not None:
                v.stop()
        stop_stack(s)


def test_slow_viewer_stays_clean_and_live(tmp_path):
    """A viewer reading 50 kB/s through a 16 KiB window of a ~200 kB/s
    stream, behind the documented stream listener: it skips whole groups
    of frames (resuming at keyframes), so what it got decodes with no
    error, and the newest picture it has stays within 3 s of a fast
    viewer's, without growing."""
    need_ffmpeg()
    s = live_stack({"noisy": {"input": GRAPH + ",noise=alls=12:allf=t"}},
                   **STREAM_LISTENER)
    fast = slow = None
    try:
        fast = Mp4Viewer(s, "/live/noisy?format=mp4")
        slow = Mp4Viewer(s, "/live/noisy?format=mp4", rate=50000)
        lags = []
        t_end = time.monotonic() + 14
        while time.monotonic() < t_end:
            time.sleep(0.5)
            if fast.frags and slow.frags:
                lags.append((time.monotonic(), (fast.frags[-1][2] - slow.frags[-1][2]) / 90000))
        assert fast.error is None and slow.error is None, (fast.error, slow.error)
        got_fast, got_slow = len(fast.frags), len(slow.frags)
        seqs = [f[1] for f in slow.frags]
        assert got_slow >= 10, (got_slow, got_fast)
        # it skipped: fewer fragments than the fast one, with holes
        assert got_slow < 0.8 * got_fast, (got_slow, got_fast)
        assert any(b - a > 1 for a, b in zip(seqs, seqs[1:])), seqs
        body, n = slow.body()
        info, err = decode(body, str(tmp_path))
        assert err.strip() == "", err[-2000:]
        assert int(info["nb_read_frames"]) == n, (info, n)
        print("slow viewer: %d of %d fragments, lag behind the fast one %s s"
              % (got_slow, got_fast, " ".join("%.1f" % x for _, x in lags)))
        late = [lag for t, lag in lags if t > t_end - 8]
        early = [lag for t, lag in lags if t <= t_end - 8]
        # about a keyframe interval (1 s) and what the buffers on the way
        # hold (fan-out <= 32 KiB unread, nginx's, the viewer's window)
        assert late and max(late) < 3.0, lags
        assert early and max(late) < max(early) + 1.5, lags
        # the fast one kept every fragment
        fseqs = [f[1] for f in fast.frags]
        assert fseqs == list(range(fseqs[0], fseqs[0] + len(fseqs)))
    finally:
        for v in (fast, slow):
            if v is not None:
                v.stop()
        stop_stack(s)


# ------------------------------------------------------------------ HLS

def playlist_lines(s, path):
    r = s.get(path)
    assert r.status == 200, (r.status, r.body[:300])
    assert r.content_type == "application/vnd.apple.mpegurl", r.content_type
    return r.body.decode().splitlines()


def test_hls_live_playlist_and_segments(tmp_path):
    """format=hls: a live playlist (version 7, init map, target duration,
    media sequence, the last complete one-second segments, no ENDLIST)
    that moves on; its init + a segment decode; a segment no longer held
    is 404; the ffmpeg command line tool as an HLS client decodes frames."""
    need_ffmpeg()
    s = live_stack({"gen": {}})
    try:
        lines = playlist_lines(s, "/live/gen?format=hls")
        assert lines[0] == "#EXTM3U"
        assert "#EXT-X-VERSION:7" in lines
        assert "#EXT-X-ENDLIST" not in lines
        assert "#EXT-X-TARGETDURATION:1" in lines, lines
        maps = [ln for ln in lines if ln.startswith("#EXT-X-MAP:")]
        assert maps == ['#EXT-X-MAP:URI="/live/gen?format=hls&seg=init.mp4"'], lines
        time.sleep(5)
        lines = playlist_lines(s, "/live/gen?format=hls")
        segs = [ln for ln in lines if ln and not ln.startswith("#")]
        durs = [float(ln.split(":")[1].rstrip(",")) for ln in lines if ln.startswith("#EXTINF")]
        assert 4 <= len(segs) <= 6, lines
        assert all(abs(d - 1.0) < 0.01 for d in durs), durs
        seq = int([ln for ln in lines if ln.startswith("#EXT-X-MEDIA-SEQUENCE:")][0].split(":")[1])
        nums = [int(u.rsplit("seg=", 1)[1].split(".")[0]) for u in segs]
        assert nums == list(range(seq, seq + len(nums))), (seq, nums)
        assert segs[-1] == "/live/gen?format=hls&seg=%d.m4s" % nums[-1]

        init = s.get("/live/gen?format=hls&seg=init.mp4")
        assert init.status == 200 and init.content_type == "video/mp4"
        seg = s.get(segs[-1])
        assert seg.status == 200 and seg.content_type == "video/mp4"
        assert int(seg.headers.get("content-length", "0")) == len(seg.body)
        info, err = decode(init.body + seg.body, str(tmp_path))
        assert err.strip() == "", err
        assert info["nb_read_frames"] == "15", info       # one second at 15 fps

        # not held (never made, or long gone), and bad values
        assert s.get("/live/gen?format=hls&seg=999999.m4s").status == 404
        for q in ("format=hls&seg=abc", "seg=3.m4s", "format=webm", "format=mp4&snapshot",
                  "format=hls&size=10x10"):
            assert s.get("/live/gen?" + q).status == 400, q

        # ffmpeg as an HLS client
        r = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i",
                            s.url("/live/gen?format=hls"), "-t", "3", "-f", "null", "-"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr.strip() == "", r.stderr[-2000:]
        # the playlist moved on meanwhile
        later = playlist_lines(s, "/live/gen?format=hls")
        seq2 = int([ln for ln in later if ln.startswith("#EXT-X-MEDIA-SEQUENCE:")][0].split(":")[1])
        assert seq2 > seq, (seq, seq2)
    finally:
        stop_stack(s)


def test_hls_signed_urls():
    """Under a signing key the playlist's URLs carry their signatures (as
    the VOD playlists' do): the init and every segment it lists are
    answered; unsigned or altered, 403."""
    need_ffmpeg()
    key = "live-h264-test-key-0123456789abcdef"
    s = live_stack({"gen": {}}, extra={"security": {"signing_key": key}})
    try:
        pq = "/live/gen?format=hls&expires=4000000000"
        url = pq + "&sig=" + hmac.new(key.encode(), pq.encode(), hashlib.sha256).hexdigest()
        assert s.get("/live/gen?format=hls").status == 403
        time.sleep(2)
        lines = playlist_lines(s, url)
        uris = [ln.split('"')[1] for ln in lines if ln.startswith("#EXT-X-MAP:")]
        uris += [ln for ln in lines if ln and not ln.startswith("#")]
        assert len(uris) >= 2, lines
        for u in uris:
            assert "&sig=" in u and "expires=4000000000" in u, u
            r = s.get(u)
            assert r.status == 200, (u, r.status, r.body[:200])
        n = int(uris[-1].rsplit("seg=", 1)[1].split(".")[0])
        other = uris[-1].replace("seg=%d.m4s" % n, "seg=%d.m4s" % (n - 1))
        assert s.get(other).status == 403, other
        assert s.get(uris[-1].split("&sig=")[0] + "&seg=%d.m4s" % n).status == 403
    finally:
        stop_stack(s)


# ------------------------------------------------------------------ idle

def test_encoder_runs_only_while_watched():
    """MJPEG viewers alone never start the H.264 encoder; an fMP4 viewer
    does; idle_timeout seconds after the last H.264 viewer left the
    encoder stops, while the reader goes on for its MJPEG viewer."""
    need_ffmpeg()
    s = live_stack({"gen": {"idle_timeout": 2}})
    mj = None
    try:
        mj = socket.create_connection((s.host, s.port), timeout=10)
        mj.sendall(b"GET /live/gen HTTP/1.0\r\nHost: localhost\r\n\r\n")
        assert mj.recv(100).startswith(b"HTTP/1.1 200")
        time.sleep(2)
        assert "H.264 encoder started" not in log_text(s)
        v = Mp4Viewer(s, "/live/gen?format=mp4")
        assert wait_until(lambda: len(v.frags) >= 10, 10), (v.status, v.error)
        assert log_text(s).count("H.264 encoder started") == 1
        v.stop()
        t0 = time.monotonic()
        assert wait_until(lambda: "H.264 encoder stopped" in log_text(s), 10), log_text(s)
        waited = time.monotonic() - t0
        assert 1.5 <= waited <= 6, waited
        assert "reader" in log_text(s) and "stopping its reader" not in log_text(s)
        # a playlist starts it again
        assert s.get("/live/gen?format=hls").status == 200
        assert log_text(s).count("H.264 encoder started") == 2
    finally:
        if mj is not None:
            mj.close()
        stop_stack(s)


def test_viewers_after_the_encoder_stopped_get_the_new_run():
    """A viewer that comes after the encoder (and the reader) stopped is
    sent the new run from its first keyframe, never the tail of the run
    that ended (whose init and fragments are still in memory), and is not
    cut when the new run begins."""
    need_ffmpeg()
    s = live_stack({"gen": {"idle_timeout": 1}})
    try:
        for round_ in range(3):
            v = Mp4Viewer(s, "/live/gen?format=mp4")
            ok = wait_until(lambda: len(v.frags) >= 40, 10)
            v.stop()
            assert ok and not v.eof and v.error is None, (round_, len(v.frags), v.eof, v.error)
            # the new run's: its pts start again at 0
            assert v.frags[0][2] == 0, (round_, v.frags[0][1:3])
            seqs = [f[1] for f in v.frags]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
            assert wait_until(lambda: log_text(s).count("H.264 encoder stopped") > round_, 10)
        assert log_text(s).count("H.264 encoder started") == 3
    finally:
        stop_stack(s)


# ------------------------------------------------------------------ a browser

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER_DIR = os.path.join(HERE, "browser")
HLS_DIR = os.path.join(BROWSER_DIR, "hls")
CHROMIUM = os.environ.get("MEDIAFCGI_CHROMIUM", "/usr/bin/chromium")

# The page: the fMP4 stream as a <video> src, or the live playlist through
# hls.js (test_hls.py's copy from npm), muted; the runner reads it.
LIVE_PAGE = """<!doctype html>
<meta charset="utf-8">
<video id="v" muted playsinline autoplay width="320" height="240"></video>
<script src="hls.min.js"></script>
<script>
window.report = { errors: [], fragments: 0 };
const v = document.getElementById('v');
const [kind, src] = decodeURIComponent(location.hash.slice(1)).split('|');
v.addEventListener('error', () => window.report.errors.push('video: ' +
  (v.error ? v.error.code + ' ' + v.error.message : '?')));
if (kind === 'mp4') {
  v.src = src;
  v.play().catch((e) => window.report.errors.push('play: ' + e));
} else if (!Hls.isSupported()) {
  window.report.errors.push('hls.js: MSE not supported');
} else {
  const hls = new Hls({ liveSyncDurationCount: 2 });
  hls.on(Hls.Events.ERROR, (e, d) => window.report.errors.push(
    d.type + ' ' + d.details + (d.fatal ? ' FATAL' : '')));
  hls.on(Hls.Events.FRAG_LOADED, () => { window.report.fragments++; });
  hls.on(Hls.Events.MANIFEST_PARSED, () => { v.play().catch((e) =>
    window.report.errors.push('play: ' + e)); });
  hls.loadSource(src);
  hls.attachMedia(v);
}
</script>
"""

# The runner (node, playwright-core from browser/node_modules through
# NODE_PATH, Debian's Chromium): once playing, the video's state and a
# screenshot of it, twice 3 s apart.
LIVE_RUNNER = r"""
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { chromium } = require('playwright-core');
async function main() {
  const [pageUrl, kind, src, exe] = process.argv.slice(2);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mediafcgi-chromium-'));
  const report = { console: [] };
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: exe, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
    report.browser = ctx.browser() ? ctx.browser().version() : null;
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('console', (m) => report.console.push(m.type() + ': ' + m.text()));
    await page.goto(pageUrl + '#' + encodeURIComponent(kind + '|' + src),
      { waitUntil: 'load', timeout: 15000 });
    const state = async () => {
      const st = await page.evaluate(() => {
        const v = document.getElementById('v');
        return { currentTime: v.currentTime, paused: v.paused, readyState: v.readyState,
                 width: v.videoWidth, height: v.videoHeight, report: window.report };
      });
      const shot = await page.locator('#v').screenshot();
      st.shot = crypto.createHash('sha256').update(shot).digest('hex');
      return st;
    };
    await page.waitForFunction(() => document.getElementById('v').currentTime > 0.5,
      null, { timeout: 20000 }).catch(() => {});
    report.first = await state();
    await new Promise((r) => setTimeout(r, 3000));
    report.later = await state();
  } finally {
    if (ctx) await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(report) + '\n');
}
main().catch((e) => {
  process.stdout.write(JSON.stringify({ fatal: String(e && e.stack || e) }) + '\n');
  process.exit(1);
});
"""


def _browser_ready():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("%s is missing (scripts/deps.sh installs it)" % CHROMIUM)
    for f in (os.path.join(HLS_DIR, "node_modules", "hls.js", "dist", "hls.min.js"),
              os.path.join(BROWSER_DIR, "node_modules", "playwright-core", "package.json")):
        if not os.path.isfile(f):
            pytest.skip("%s is missing (test_hls.py installs it with npm)" % f)


@pytest.mark.parametrize("kind", ["mp4", "hls"])
@pytest.mark.parametrize("made", ["encoded", "remuxed"])
def test_chromium_plays_live(kind, made, tmp_path):
    """Headless Chromium plays the live source: the fMP4 stream as a
    <video> src, the live playlist through hls.js; currentTime advances
    and the picture changes (testsrc2 moves), at 320x240. Encoded from
    a lavfi graph, or remuxed from an H.264 file (with B-frames) played
    in a loop."""
    _browser_ready()
    if made == "remuxed":
        need_ffmpeg()
        src, _ = h264_file(str(tmp_path), "in.mp4", 15, 15, 4)
        source = {"input": src, "fps": 15, "idle_timeout": 30}
    else:
        source = {"format": "lavfi", "input": GRAPH, "fps": 15, "idle_timeout": 30}
    docroot = tempfile.mkdtemp(prefix="mediafcgi-h264-www-")
    os.chmod(docroot, 0o755)
    with open(os.path.join(docroot, "live.html"), "w") as f:
        f.write(LIVE_PAGE)
    shutil.copyfile(os.path.join(HLS_DIR, "node_modules", "hls.js", "dist", "hls.min.js"),
                    os.path.join(docroot, "hls.min.js"))
    for n in os.listdir(docroot):
        os.chmod(os.path.join(docroot, n), 0o644)
    runner = tmp_path / "run_live.js"
    runner.write_text(LIVE_RUNNER)
    srv = {"max_streams": 4, "stream_timeout": 30}
    cfg = {"server": srv, "source gen": source}
    root = tempfile.mkdtemp(prefix="mediafcgi-h264-media-")
    os.chmod(root, 0o755)
    s = webservers.Stack(front="nginx", media_root=root, docroot=docroot, mount="/media",
                         workers=2, config_extra=cfg, **STREAM_LISTENER)
    s.empty_root = root
    try:
        s.start()
        env = dict(os.environ, NODE_PATH=os.path.join(BROWSER_DIR, "node_modules"))
        p = subprocess.run(["node", str(runner), s.url("/live.html"), kind,
                            "/live/gen?format=" + kind, CHROMIUM],
                           cwd=BROWSER_DIR, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        lines = p.stdout.decode("utf-8", "replace").strip().splitlines()
        try:
            rep = json.loads(lines[-1])
        except (IndexError, ValueError):
            raise AssertionError("the runner printed no report (exit %d):\n%s" % (
                p.returncode, p.stderr.decode()[-2000:]))
        diag = json.dumps(rep, indent=1)[-3000:]
        assert p.returncode == 0 and "fatal" not in rep, diag
        a, b = rep["first"], rep["later"]
        assert (a["width"], a["height"]) == (320, 240), diag
        assert a["currentTime"] > 0.5 and not a["paused"], diag
        assert b["currentTime"] > a["currentTime"] + 2.0, diag
        assert a["shot"] != b["shot"], "the picture did not change\n" + diag
        assert not [e for e in b["report"]["errors"] if "FATAL" in e or "video" in e], diag
        print("Chromium %s plays live %s (%s): %.2f s then %.2f s" % (
            rep.get("browser"), kind, made, a["currentTime"], b["currentTime"]))
        started = "H.264 encoder started" in log_text(s)
        assert started == (made == "encoded"), log_text(s)[-2000:]
    finally:
        stop_stack(s)
        shutil.rmtree(docroot, ignore_errors=True)


# ------------------------------------------------------------------ reload, gate

def test_reload_that_changes_the_source_ends_fmp4_viewers_cleanly():
    """A reload that changes the source restarts its reader: a new encoder
    run, whose fragments need their own init segment, so an fMP4 viewer's
    stream ends cleanly (whole fragments, then the end of the answer) and
    a new one plays the new run."""
    need_ffmpeg()
    s = live_stack({"gen": {}})
    try:
        v = Mp4Viewer(s, "/live/gen?format=mp4")
        assert wait_until(lambda: len(v.frags) >= 15, 10), (v.status, v.error)
        s.config_extra["source gen"]["quality"] = 60
        s._write_mediafcgi_conf()
        s.procs["mediafcgi"].send_signal(signal.SIGHUP)
        assert wait_until(lambda: v.eof, 15), (len(v.frags), v.error, log_text(s)[-1500:])
        assert v.error is None, v.error
        w = Mp4Viewer(s, "/live/gen?format=mp4")
        ok = wait_until(lambda: len(w.frags) >= 15, 10)
        w.stop()
        v.stop()
        assert ok and not w.eof, (len(w.frags), w.error)
        assert w.init != v.init or w.frags[0][2] == 0
    finally:
        stop_stack(s)


def test_head_and_presets_only():
    """HEAD of format=mp4: the headers only (no viewer, no encoder). Under
    presets_only the gate takes nothing but preset= on live URLs: format=mp4
    is 403, a preset holding it streams."""
    need_ffmpeg()
    s = live_stack({"gen": {}}, extra={"security": {"presets_only": "yes"},
                                       "preset livemp4": {"format": "mp4"},
                                       "preset livehls": {"format": "hls"}})
    v = None
    try:
        assert s.get("/live/gen?format=mp4").status == 403
        r = s.head("/live/gen?preset=livemp4")
        assert r.status == 200 and r.content_type == "video/mp4", r
        time.sleep(1)
        assert "H.264 encoder started" not in log_text(s)
        v = Mp4Viewer(s, "/live/gen?preset=livemp4")
        assert wait_until(lambda: len(v.frags) >= 10, 10), (v.status, v.error)
        # a preset holding format=hls: its playlist names the preset, and
        # the segment URLs it writes pass the gate; seg= alone does not
        lines = playlist_lines(s, "/live/gen?preset=livehls")
        uris = [ln for ln in lines if ln and not ln.startswith("#")]
        uris += [ln.split('URI="')[1].split('"')[0] for ln in lines
                 if ln.startswith("#EXT-X-MAP")]
        assert uris and all("preset=livehls" in u and "format=" not in u for u in uris), lines
        for u in uris[-2:]:
            r = s.get(u)
            assert r.status == 200 and len(r.body) > 0, (u, r.status, r.body[:200])
        assert s.get("/live/gen?seg=init.mp4").status in (400, 403)
        assert s.get("/live/gen?preset=livehls&seg=0.m4s&format=hls").status == 403
    finally:
        if v is not None:
            v.stop()
        stop_stack(s)


# ------------------------------------------------------------------ H.264 input

def h264_file(tmpdir, name, rate, gop, seconds, extra=()):
    """A small libx264 MP4 at 320x240 (the source's input, played in a
    loop) and its packets' sizes."""
    path = os.path.join(tmpdir, name)
    r = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc2=size=320x240:rate=%d" % rate, "-t", str(seconds),
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
                       + list(extra) + [path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    os.chmod(tmpdir, 0o755)
    os.chmod(path, 0o644)
    p = subprocess.run([FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "packet=size", "-of", "csv=p=0", path],
                       capture_output=True, text=True, timeout=60)
    return path, [int(x.split(",")[0]) for x in p.stdout.split() if x.split(",")[0]]


def mdat_payloads(frag):
    """The mdat payload sizes of a fragment (moof + mdat)."""
    return [b - a - 8 for t, a, b in boxes(frag) if t == "mdat"]


@pytest.mark.parametrize("container", ["mp4", "ts"])
def test_h264_input_is_passed_through(container, tmp_path):
    """A source whose input already is H.264 (320x240, a keyframe every
    second, with B-frames, no size set; an MP4 file with its avcC, or
    MPEG-TS with Annex B) is remuxed, not re-encoded: no encoder starts,
    format=mp4 and format=hls decode with no error to H.264 at the
    input's size, each fragment carries one of the input's packets (from
    an MP4, its very size; from MPEG-TS, its start codes made lengths),
    and an HLS segment is one keyframe interval. MJPEG viewers still get
    JPEGs."""
    need_ffmpeg()
    src, sizes = h264_file(str(tmp_path), "in." + container, 15, 15, 4)
    s = live_stack({"cam": {"input": src, "format": None}}, server={"status_path": "/status"},
                   fcgi_paths=["/live/", "/status"])
    v = None
    try:
        v = Mp4Viewer(s, "/live/cam?format=mp4")
        assert wait_until(lambda: len(v.frags) >= 60, 20), \
            (v.status, v.error, len(v.frags), log_text(s)[-2000:])
        assert v.error is None, v.error
        seqs = [f[1] for f in v.frags]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
        body, n = v.body()
        info, err = decode(body, str(tmp_path))
        assert err.strip() == "", err[-2000:]
        assert info["codec_name"] == "h264", info
        assert (info["width"], info["height"]) == ("320", "240"), info
        assert int(info["nb_read_frames"]) == n, (info, n)
        # remuxed: each fragment's sample is one of the input's packets
        got = [sum(mdat_payloads(f[3])) for f in v.frags]
        if container == "mp4":
            assert set(got) <= set(sizes), (sorted(set(got) - set(sizes))[:10],
                                            sorted(sizes)[:10])
        per_frame = sum(got) / len(got)
        assert 0.8 < per_frame / (sum(sizes) / len(sizes)) < 1.25, (per_frame, sizes)
        # at the file's pace: 15 a second
        span = v.frags[-1][0] - v.frags[15][0]
        assert 10 <= (len(v.frags) - 16) / span <= 20

        lines = playlist_lines(s, "/live/cam?format=hls")
        segs = [ln for ln in lines if ln and not ln.startswith("#")]
        durs = [float(ln.split(":")[1].rstrip(",")) for ln in lines if ln.startswith("#EXTINF")]
        assert segs and all(abs(d - 1.0) < 0.01 for d in durs), lines
        init = s.get("/live/cam?format=hls&seg=init.mp4")
        seg = s.get(segs[-1])
        assert init.status == 200 and seg.status == 200
        info, err = decode(init.body + seg.body, str(tmp_path))
        assert err.strip() == "", err
        assert info["codec_name"] == "h264" and info["width"] == "320", info
        assert info["nb_read_frames"] == "15", info
        r = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i",
                            s.url("/live/cam?format=hls"), "-t", "2", "-f", "null", "-"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr.strip() == "", r.stderr[-2000:]

        snap = s.get("/live/cam?snapshot")
        assert snap.status == 200 and snap.body[:2] == b"\xff\xd8"
        log = log_text(s)
        assert "H.264 passed through" in log, log[-2000:]
        assert "H.264 encoder started" not in log, log[-2000:]
        # the status page says so too: one run, remuxed
        st = [x for x in s.get("/status").json()["sources"] if x["name"] == "cam"][0]
        assert st["h264"]["remuxed"] is True and st["h264"]["runs"] == 1, st
    finally:
        if v is not None:
            v.stop()
        stop_stack(s)


def test_h264_input_with_long_keyframe_interval_is_re_encoded(tmp_path):
    """An H.264 input whose keyframes are 10 s apart (-g 250 at 25 fps)
    is not passed through: after its first interval ran over 2 s the
    reader re-encodes it, and format=mp4 plays with a keyframe a second."""
    need_ffmpeg()
    src, _ = h264_file(str(tmp_path), "long.mp4", 25, 250, 12)
    s = live_stack({"cam": {"input": src, "format": None, "fps": 25}},
                   server={"status_path": "/status"}, fcgi_paths=["/live/", "/status"])
    v = None
    try:
        v = Mp4Viewer(s, "/live/cam?format=mp4")
        assert wait_until(lambda: len(v.frags) >= 50, 20), \
            (v.status, v.error, len(v.frags), log_text(s)[-2000:])
        assert v.error is None, v.error
        body, n = v.body()
        info, err = decode(body, str(tmp_path))
        assert err.strip() == "", err[-2000:]
        assert info["codec_name"] == "h264", info
        assert (info["width"], info["height"]) == ("320", "240"), info
        assert int(info["nb_read_frames"]) == n, (info, n)
        log = log_text(s)
        assert "keyframe interval over 2 s; re-encoding" in log, log[-2000:]
        assert log.count("H.264 encoder started") == 1, log[-2000:]
        st = [x for x in s.get("/status").json()["sources"] if x["name"] == "cam"][0]
        assert st["h264"]["remuxed"] is False and st["h264"]["runs"] == 1, st
        assert s.get("/live/cam?format=hls").status == 200
    finally:
        if v is not None:
            v.stop()
        stop_stack(s)
