"""One gate in front of every route (issue 16, items 2, 3 and 8), behind a
real nginx:

- live sources are gated like media: with a signing_key an unsigned viewer
  or snapshot is 403, a signed one is served (sig is a parameter there
  too); presets_only holds on live routes and program routes;
- the cues of format=vtt point at signed sprite URLs that answer as written;
- routes are chosen on the decoded path and a dot segment (raw or %2e, any
  case) is refused before routing, so `location /internal/ { deny all; }`
  in nginx protects a [program] whose prefix is /internal/;
- expires= (covered by the signature) is refused once past, with or
  without keys; `--sign --expires S` writes it;
- several signing_key lines: the first signs, every one verifies.

Each case asserts the status and the JSON body, that no worker died, and
that the next request is served.
"""

import hashlib
import hmac
import http.client
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from support import webservers
from support.checks import BAD_LOG, assert_json_error, new_log
from support.imaging import MOUNT, decode

NEW_KEY = "the-new-key-0123456789"
OLD_KEY = "the-old-key-0123456789"
OTHER_KEY = "not-a-configured-key-000"
PAST = 1000000000                     # 2001-09-09T01:46:40Z


def hsign(key, path_query):
    """What an application does: HMAC over path?query as it will send it."""
    sig = hmac.new(key.encode(), path_query.encode(), hashlib.sha256).hexdigest()
    return path_query + ("&" if "?" in path_query else "?") + "sig=" + sig


def cli_sign(s, path_query, expires=None):
    argv = [s.binary, "--config", s.conf, "--sign", path_query]
    if expires is not None:
        argv += ["--expires", str(expires)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def next_served(s):
    """No worker died or was killed since the last check, and a good request
    is answered right after."""
    bad = [ln for ln in new_log(s).splitlines() if BAD_LOG.search(ln)]
    assert not bad, "mediafcgi's log: %s" % " | ".join(bad)
    assert decode(s.get(s.good)).size == (120, 80)


def live_first_part(s, path, timeout=15):
    """Opens a live viewer and returns (status, content type, first JPEG
    part's bytes) or the error response's (status, content type, body)."""
    conn = http.client.HTTPConnection(s.host, s.port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        ctype = r.getheader("Content-Type", "")
        if r.status != 200:
            return r.status, ctype, r.read()
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = r.read1(65536)
            if not chunk:
                break
            buf += chunk
            m = re.search(rb"Content-Length: (\d+)\r\n\r\n", buf)
            if m and len(buf) >= m.end() + int(m.group(1)):
                return r.status, ctype, buf[m.end():m.end() + int(m.group(1))]
        raise AssertionError("no frame from %s in %d s: %r" % (path, timeout, buf[:200]))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def groot(media_root):
    """A media root of its own: a photo and a short clip, which is also the
    live source's input (a file is played in a loop at its own pace)."""
    top = tempfile.mkdtemp(prefix="mediafcgi-gate-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    os.makedirs(root)
    os.chmod(root, 0o755)
    shutil.copy(os.path.join(media_root, "landscape.jpg"), root)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc=size=320x240:rate=10", "-t", "4", "-c:v", "libx264",
                    "-preset", "veryfast", "-g", "10", "-pix_fmt", "yuv420p",
                    os.path.join(root, "clip.mp4")], check=True, timeout=120)
    os.chmod(top, 0o755)
    yield {"top": top, "root": root}
    shutil.rmtree(top, ignore_errors=True)


def _stack(groot, extra, cls=webservers.Stack):
    cfg = {"server": {"max_streams": 8},
           "source cam1": {"input": os.path.join(groot["root"], "clip.mp4"),
                           "idle_timeout": 5},
           "preset thumb": {"size": "120x80", "fit": "cover"},
           "preset snap": {"snapshot": "1"}}
    for sec, kv in extra.items():
        cfg.setdefault(sec, {}).update(kv)
    s = cls(front="nginx", media_root=groot["root"], mount=MOUNT, workers=2,
            config_extra=cfg)
    s.start()
    return s


def _stop(s):
    assert not s.stop()
    assert not s.sanitizer_reports(), s.sanitizer_reports()


class TwoKeyStack(webservers.Stack):
    """A config dict holds a key once: the second signing_key line (the
    old key, which still verifies) is appended to the written file."""

    def _write_mediafcgi_conf(self):
        super()._write_mediafcgi_conf()
        with open(self.conf, "a") as f:
            f.write("[security]\nsigning_key = %s\n" % OLD_KEY)


@pytest.fixture(scope="module")
def signed(groot):
    """Two keys: NEW signs (first), OLD still verifies."""
    s = _stack(groot, {"security": {"signing_key": NEW_KEY}}, cls=TwoKeyStack)
    s.good = cli_sign(s, MOUNT + "/landscape.jpg?preset=thumb")
    new_log(s)
    yield s
    _stop(s)


@pytest.fixture(scope="module")
def presets(groot):
    s = _stack(groot, {"security": {"presets_only": "yes"},
                       "program echo": {"match": "prefix:/media/echo/",
                                        "argv": "echo hello"},
                       "preset board": {"sprite": "2x2", "size": "80x60"},
                       "preset boardvtt": {"sprite": "2x2", "size": "80x60",
                                           "format": "vtt"}})
    s.good = MOUNT + "/landscape.jpg?preset=thumb"
    new_log(s)
    yield s
    _stop(s)


# ------------------------------------------------------------------ live, signed

def test_unsigned_live_is_403(signed):
    # A viewer that is let through streams for ever: read it with a deadline.
    status, ctype, body = live_first_part(signed, "/live/cam1")
    assert status == 403 and ctype == "application/json", (status, ctype, body[:200])
    assert b'"status": 403' in body and b"sig: this server needs" in body, body
    next_served(signed)
    for path in ("/live/cam1?snapshot", "/live/nosuch?snapshot"):
        assert_json_error(signed.get(path), 403, "sig")
        next_served(signed)


def test_signed_snapshot_is_a_jpeg(signed):
    for url in (cli_sign(signed, "/live/cam1?snapshot"),
                hsign(OLD_KEY, "/live/cam1?snapshot=1")):
        r = signed.get(url)
        assert r.status == 200 and r.content_type == "image/jpeg", r
        assert decode(r).size == (320, 240)
        next_served(signed)
    # Signed for the viewer, used for the snapshot: refused.
    viewer = cli_sign(signed, "/live/cam1")
    assert_json_error(signed.get(viewer.replace("?", "?snapshot&")), 403, "sig")
    next_served(signed)


def test_signed_live_view_streams(signed):
    status, ctype, first = live_first_part(signed, cli_sign(signed, "/live/cam1"))
    assert status == 200, (status, first[:200])
    assert ctype.startswith("multipart/x-mixed-replace"), ctype
    assert first[:2] == b"\xff\xd8"
    status, ctype, body = live_first_part(signed, "/live/cam1?sig=" + "0" * 64)
    assert status == 403 and b'"status": 403' in body and b"sig" in body, body
    next_served(signed)


# ------------------------------------------------------------------ VTT cues

@pytest.mark.parametrize("expires", [None, 600])
def test_vtt_cues_are_signed_and_answer(signed, expires):
    url = cli_sign(signed, MOUNT + "/clip.mp4?sprite=2x2&size=80x60&format=vtt",
                   expires=expires)
    r = signed.get(url)
    assert r.status == 200 and r.content_type.startswith("text/vtt"), r
    cues = re.findall(r"(?m)^(\S+)#xywh=\d+,\d+,\d+,\d+$", r.body.decode())
    assert len(cues) == 4 and len(set(cues)) == 1, r.body[:400]
    assert "&sig=" in cues[0] and "format=" not in cues[0], cues[0]
    if expires:
        assert re.search(r"expires=(\d+)", cues[0]).group(1) == \
            re.search(r"expires=(\d+)", url).group(1)
    sprite = signed.get(cues[0])
    assert sprite.status == 200 and sprite.content_type == "image/jpeg", sprite
    assert decode(sprite).size == (160, 120)
    next_served(signed)


# ------------------------------------------------------------------ expires

def test_expired_url_is_403_naming_the_expiry(signed):
    url = hsign(NEW_KEY, MOUNT + "/landscape.jpg?size=100x100&expires=%d" % PAST)
    r = signed.get(url)
    assert_json_error(r, 403, "expires")
    assert "2001-09-09T01:46:40Z" in r.json()["error"], r.json()
    next_served(signed)


def test_future_expiry_is_served_and_tampering_is_403(signed):
    url = cli_sign(signed, MOUNT + "/landscape.jpg?size=100x100", expires=300)
    t = int(re.search(r"expires=(\d+)", url).group(1))
    assert abs(t - (time.time() + 300)) < 30, url
    assert decode(signed.get(url)).size == (100, 67)
    for later in (t + 1, t + 86400):
        assert_json_error(signed.get(url.replace("expires=%d" % t, "expires=%d" % later)),
                          403, "sig")
        next_served(signed)
    # Removed: the signature no longer matches either.
    assert_json_error(signed.get(url.replace("&expires=%d" % t, "")), 403, "sig")
    next_served(signed)


def test_cli_expires_on_a_live_snapshot(signed):
    url = cli_sign(signed, "/live/cam1?snapshot", expires=120)
    r = signed.get(url)
    assert r.status == 200 and r.content_type == "image/jpeg", r
    next_served(signed)


# ------------------------------------------------------------------ key rotation

def test_old_key_still_verifies_and_cli_signs_with_the_first(signed):
    assert decode(signed.get(hsign(OLD_KEY, MOUNT + "/landscape.jpg?size=90x60&fit=cover"))).size \
        == (90, 60)
    assert decode(signed.get(hsign(NEW_KEY, MOUNT + "/landscape.jpg?size=90x60&fit=cover"))).size \
        == (90, 60)
    assert_json_error(signed.get(hsign(OTHER_KEY, MOUNT + "/landscape.jpg?size=90x60&fit=cover")),
                      403, "sig")
    next_served(signed)
    url = cli_sign(signed, MOUNT + "/landscape.jpg?size=90x60&fit=cover")
    assert url == hsign(NEW_KEY, MOUNT + "/landscape.jpg?size=90x60&fit=cover"), url


# ------------------------------------------------------------------ presets_only

def test_presets_only_holds_on_live_routes(presets):
    assert_json_error(presets.get("/live/cam1?snapshot"), 403, "preset")
    next_served(presets)
    r = presets.get("/live/cam1?preset=snap")
    assert r.status == 200 and r.content_type == "image/jpeg", r
    assert decode(r).size == (320, 240)
    next_served(presets)
    # A preset with parameters a live source does not take.
    r = presets.get("/live/cam1?preset=thumb")
    assert_json_error(r, 400, "live source")
    assert "preset thumb" in r.json()["error"], r.json()
    next_served(presets)
    # The viewer has nothing to choose: it needs no preset.
    status, ctype, first = live_first_part(presets, "/live/cam1")
    assert status == 200 and first[:2] == b"\xff\xd8", (status, first[:200])
    next_served(presets)


def test_presets_only_vtt_cues_name_the_sprite_preset(presets):
    """Under presets_only a cue must be a URL the server answers: the
    preset that holds exactly the sprite's parameters."""
    r = presets.get(MOUNT + "/clip.mp4?preset=boardvtt")
    assert r.status == 200 and r.content_type.startswith("text/vtt"), r
    cues = re.findall(r"(?m)^(\S+)#xywh=\d+,\d+,\d+,\d+$", r.body.decode())
    assert len(cues) == 4 and len(set(cues)) == 1, r.body[:400]
    assert cues[0] == MOUNT + "/clip.mp4?preset=board", cues[0]
    sprite = presets.get(cues[0])
    assert sprite.status == 200 and sprite.content_type == "image/jpeg", sprite
    assert decode(sprite).size == (160, 120)
    next_served(presets)


def test_presets_only_holds_on_program_routes(presets):
    for path in (MOUNT + "/echo/x", MOUNT + "/echo/x?preset=thumb"):
        r = presets.get(path)
        assert_json_error(r, 403, "preset")
        assert b"hello" not in r.body
        next_served(presets)


def test_expires_without_keys_is_enforced(presets):
    r = presets.get(MOUNT + "/landscape.jpg?preset=thumb&expires=%d" % PAST)
    assert_json_error(r, 403, "expires")
    assert "2001-09-09T01:46:40Z" in r.json()["error"]
    next_served(presets)
    far = int(time.time()) + 3600
    assert decode(presets.get(MOUNT + "/landscape.jpg?preset=thumb&expires=%d" % far)).size \
        == (120, 80)
    next_served(presets)


# ------------------------------------------------------------------ routing

class DenyStack(webservers.Stack):
    """nginx with the operator's guard in front of the program's prefix."""

    def _nginx_extra_locations(self):
        return super()._nginx_extra_locations() + """
        location /internal/ {
            deny all;
        }
"""


@pytest.fixture(scope="module")
def routing(groot):
    marks = tempfile.mkdtemp(prefix="mediafcgi-gate-marks-")
    os.chmod(marks, 0o777)
    s = _stack(groot, {"program internal": {
        "match": "prefix:/internal/",
        "argv": "cp -v /dev/null %s" % os.path.join(marks, "internal-ran")},
        "program open": {
        "match": "prefix:/media/open/",
        "argv": "cp -v /dev/null %s" % os.path.join(marks, "open-ran")}}, cls=DenyStack)
    s.marks = marks
    s.good = MOUNT + "/landscape.jpg?preset=thumb"
    new_log(s)
    yield s
    _stop(s)
    shutil.rmtree(marks, ignore_errors=True)


def test_program_marker_works(routing):
    """The control: a program that is reached leaves its marker and says so."""
    r = routing.get(MOUNT + "/open/x")
    assert r.status == 200 and b"->" in r.body, r
    assert os.path.exists(os.path.join(routing.marks, "open-ran"))
    # And nginx's guard is in place.
    assert routing.get("/internal/x").status == 403
    next_served(routing)


@pytest.mark.parametrize("path", [
    "/internal/%2e%2e/media/landscape.jpg",
    "/internal/%2E%2E/media/landscape.jpg",
    "/internal/%2e%2E/media/landscape.jpg?size=10x10",
    "/internal/./x",
    "/internal/%2e/x",
    "/live/%2e%2e/media/landscape.jpg",
    "/live/%2e%2e/internal/x",
    "/media/%2e/landscape.jpg",
    "/media/%2e%2e/internal/x",
    "/media/./landscape.jpg",
])
def test_dot_segments_never_reach_a_program(routing, path):
    r = routing.get(path)
    assert not os.path.exists(os.path.join(routing.marks, "internal-ran")), path
    assert b"->" not in r.body, r
    if r.content_type == "application/json":
        assert_json_error(r, 403, "segment")
    else:
        assert 400 <= r.status < 500, r     # nginx refused it itself
    next_served(routing)
