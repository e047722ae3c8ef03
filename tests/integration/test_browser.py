"""
Streams in a real browser: Debian's Chromium (/usr/bin/chromium, headless),
driven by playwright-core from npm (tests/integration/browser/: run.js and
its package.json; no browser is ever downloaded), loads a page served from
the front end's docroot with

    <img src="/live/cam1">                          the live source (MJPEG)
    <video src="/media/long.mp4?format=mp4&...">     fragmented MP4 transcode
    <video src="/media/long.mp4?format=webm&...">    WebM transcode

(a 30 s clip, muted autoplay). The live image must move (two screenshots a
second apart differ, and the frame numbers stamped in the feed's pixels
advance) and each video must play (currentTime past 0.5 s).

What it needs and installs when missing: the npm packages of browser/ (npm
ci there: playwright-core only), and chromium (apt-get, as root; the test is
skipped, saying why, only when chromium cannot be installed).
"""

import json
import os
import shutil
import subprocess
import tempfile

import pytest
from PIL import Image, ImageChops, ImageStat

from support import webservers
from test_streams import LIVE, Feed, _long_clip, _stop_stack, _viewer_module

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER_DIR = os.path.join(HERE, "browser")
CHROMIUM = os.environ.get("MEDIAFCGI_CHROMIUM", "/usr/bin/chromium")


def _chromium():
    """The chromium binary, installed from Debian's packages if missing;
    skips the test when that cannot be done."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    if os.geteuid() != 0:
        pytest.skip("%s missing and not root: cannot apt-get install chromium" % CHROMIUM)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log = []
    for argv in (["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
                 ["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]):
        try:
            p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=900)
        except (OSError, subprocess.TimeoutExpired) as e:
            log.append("%s: %s" % (" ".join(argv), e))
            continue
        log.append("%s: exit %d %s" % (" ".join(argv), p.returncode,
                                       p.stdout.decode("utf-8", "replace")[-300:]))
        if argv[1] == "install" and p.returncode == 0 and os.access(CHROMIUM, os.X_OK):
            return CHROMIUM
    pytest.skip("chromium cannot be installed (%s)" % "; ".join(log)[-600:])


def _npm_deps():
    """playwright-core in browser/node_modules (npm ci from the lock file)."""
    if os.path.isfile(os.path.join(BROWSER_DIR, "node_modules", "playwright-core", "package.json")):
        return
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "node and npm are needed for the browser test"
    lock = os.path.isfile(os.path.join(BROWSER_DIR, "package-lock.json"))
    argv = [npm, "ci" if lock else "install", "--no-audit", "--no-fund"]
    p = subprocess.run(argv, cwd=BROWSER_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    assert p.returncode == 0, "%s failed in %s:\n%s" % (
        " ".join(argv), BROWSER_DIR, p.stdout.decode("utf-8", "replace")[-3000:])


def _stamp(png):
    """(frame number, ms) stamped in a screenshot of the live image."""
    _viewer_module()
    import barcode  # noqa: E402 - the peers' live/barcode.py
    return barcode.read(Image.open(png).convert("RGB"))


def test_browser_live_image_and_transcodes(tmp_path):
    exe = _chromium()
    _npm_deps()
    feed = Feed(tmp=str(tmp_path)).start()
    top = tempfile.mkdtemp(prefix="mediafcgi-browser-")
    os.chmod(top, 0o755)
    media, docroot = os.path.join(top, "media"), os.path.join(top, "www")
    os.mkdir(media)
    os.mkdir(docroot)
    _long_clip(os.path.join(media, "long.mp4"))
    shutil.copyfile(os.path.join(BROWSER_DIR, "page.html"), os.path.join(docroot, "streams.html"))
    for d, names in ((media, ["long.mp4"]), (docroot, ["streams.html"])):
        for n in names:
            os.chmod(os.path.join(d, n), 0o644)
    extra = {"server": {"max_streams": 8},
             "source cam1": {"input": feed.url, "size": "640x360", "quality": 80}}
    s = webservers.Stack(front="nginx", media_root=media, docroot=docroot, mount="/media",
                         workers=2, config_extra=extra)
    out = tmp_path / "shots"
    out.mkdir()
    try:
        s.start()
        p = subprocess.run(["node", os.path.join(BROWSER_DIR, "run.js"), s.url("/streams.html"),
                            str(out), "--chromium", exe, "--wait", "12", "--min-time", "0.5"],
                           cwd=BROWSER_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=90)
        text = p.stdout.decode("utf-8", "replace").strip().splitlines()
        try:
            rep = json.loads(text[-1])
        except (IndexError, ValueError):
            raise AssertionError("run.js printed no report (exit %d):\n%s\n%s" % (
                p.returncode, p.stdout.decode()[-2000:], p.stderr.decode()[-2000:]))
        assert p.returncode == 0 and "fatal" not in rep, "%s\n%s%s" % (
            rep.get("fatal"), p.stderr.decode()[-2000:], s.logs())
        diag = json.dumps({k: rep.get(k) for k in ("browser", "videos", "console", "failed",
                                                   "elapsed_ms")}, indent=1)

        # the live image: 640x360 frames, and it moves
        assert rep["live_natural"] == [640, 360], diag
        a = Image.open(out / "live1.png").convert("RGB")
        b = Image.open(out / "live2.png").convert("RGB")
        assert a.size == b.size
        diff = ImageStat.Stat(ImageChops.difference(a, b).convert("L")).mean[0]
        assert diff > 1.0, "the live image did not change in %d ms (mean difference %.2f)" % (
            rep["screenshot_gap_ms"], diff)
        sa, sb = _stamp(out / "live1.png"), _stamp(out / "live2.png")
        assert sa and sb, "frame stamps in the screenshots do not read: %s %s" % (sa, sb)
        gap_frames = sb[0] - sa[0]
        # ~30 frames in a second (the feed's rate); a browser may paint fewer
        assert gap_frames >= 10, "the live image advanced %d frames (%s -> %s) in %d ms" % (
            gap_frames, sa[0], sb[0], rep["screenshot_gap_ms"])

        # both transcodes play while they are made
        for vid in ("mp4", "webm"):
            v = rep["videos"].get(vid)
            assert v, diag
            assert v["error"] is None, "%s: %s\n%s" % (vid, v["error"], diag)
            assert (v["width"], v["height"]) == (320, 240), diag
            assert v["currentTime"] > 0.5, "%s did not play: %s" % (vid, diag)
        print("browser %s: live image advanced %d frames in %d ms; mp4 at %.2f s, webm at "
              "%.2f s after %d ms" % (rep.get("browser"), gap_frames, rep["screenshot_gap_ms"],
                                      rep["videos"]["mp4"]["currentTime"],
                                      rep["videos"]["webm"]["currentTime"], rep["elapsed_ms"]))
    finally:
        _stop_stack(s)
        feed.stop()
        shutil.rmtree(top, ignore_errors=True)
    assert LIVE  # the peers' rig was found (Feed() skips otherwise)
