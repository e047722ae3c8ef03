"""What a URL carries that is not media: a raw '%' as browsers send it, and
signatures, which must never be shown back.

- `?t=50%` arrives raw through nginx and lighttpd (browsers do not encode a
  lone '%'): it is the percent sign itself, the same still (and the same
  ETag) as `?t=50%25`, and a signature over the query as sent verifies.
- The status page answers loopback clients only unless `status_allow` says
  otherwise (a FastCGI request with another REMOTE_ADDR, as a web server
  passes a remote client, is 403), and the requests in flight it lists,
  like the access log, carry `sig=REDACTED`, never the signature.
"""

import hashlib
import hmac
import os
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from support import webservers
from support.fcgiclient import fcgi_request
from support.checks import assert_json_error
from support.imaging import MOUNT, decode

KEY = "hostile-url-key-0123456789"
STATUS = "/_status"
CLIP = "clip.mp4"


@pytest.fixture(scope="module")
def mroot():
    top = tempfile.mkdtemp(prefix="mediafcgi-url-")
    os.chmod(top, 0o755)
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=160x120:rate=10:duration=12", "-pix_fmt", "yuv420p",
                    "-g", "10", "-c:v", "libx264", "-preset", "ultrafast",
                    os.path.join(top, CLIP)], check=True, timeout=120)
    os.chmod(os.path.join(top, CLIP), 0o644)
    yield top
    shutil.rmtree(top, ignore_errors=True)


def app_sign(path_query):
    return path_query + "&sig=" + hmac.new(KEY.encode(), path_query.encode(),
                                           hashlib.sha256).hexdigest()


@pytest.fixture(scope="module", params=list(webservers.FRONTS))
def plain(request, mroot):
    s = webservers.Stack(front=request.param, media_root=mroot, mount=MOUNT, workers=2)
    s.start()
    yield s
    assert not s.stop()
    assert not s.sanitizer_reports(), s.sanitizer_reports()


def test_raw_percent_is_the_percent_sign(plain):
    raw = plain.get(MOUNT + "/" + CLIP + "?t=50%&size=80x60")
    assert raw.status == 200, (raw, plain.logs())
    assert raw.content_type == "image/jpeg", raw
    enc = plain.get(MOUNT + "/" + CLIP + "?t=50%25&size=80x60")
    assert enc.status == 200, enc
    assert raw.body == enc.body
    assert raw.headers.get("ETag") == enc.headers.get("ETag"), (raw.headers, enc.headers)
    assert decode(raw).size == (80, 60)
    # the middle of 12 s is not the start: another frame than t=0
    first = plain.get(MOUNT + "/" + CLIP + "?t=0&size=80x60")
    assert first.status == 200 and first.body != raw.body
    # a lone '%' elsewhere is a value like any other: judged, not a crash
    for q in ("fit=cover%", "q=%", "size=%g0x10", "si%zze=1x1", "t=%"):
        r = plain.get(MOUNT + "/" + CLIP + "?" + q)
        assert_json_error(r, 400)
    ok = plain.get(MOUNT + "/" + CLIP + "?t=1&size=80x60")
    assert ok.status == 200


@pytest.fixture(scope="module")
def signed(mroot):
    s = webservers.Stack(front="nginx", media_root=mroot, mount=MOUNT, workers=2,
                         config_extra={"security": {"signing_key": KEY},
                                       "server": {"status_path": STATUS}})
    s.start()
    yield s
    assert not s.stop()
    assert not s.sanitizer_reports(), s.sanitizer_reports()


def test_raw_percent_signed_as_sent(signed):
    r = signed.get(app_sign(MOUNT + "/" + CLIP + "?t=50%&size=80x60"))
    assert r.status == 200, (r, signed.logs())
    assert decode(r).size == (80, 60)
    bad = app_sign(MOUNT + "/" + CLIP + "?t=50%&size=80x60").replace("t=50%", "t=51%")
    assert_json_error(signed.get(bad), 403)


def test_status_page_is_loopback_only_by_default(signed):
    uri = STATUS
    local = fcgi_request(signed.sock, uri, remote_addr="127.0.0.1")
    assert local.status == 200, local
    for addr in ("203.0.113.7", "10.1.2.3", "::ffff:192.0.2.1", "2001:db8::1"):
        r = fcgi_request(signed.sock, uri, remote_addr=addr)
        assert r.status == 403, (addr, r)
        assert r.json()["status"] == 403
    r = fcgi_request(signed.sock, uri, remote_addr=None)
    assert r.status == 403, r
    # through the web server, from this machine
    assert signed.get(STATUS).status == 200


def test_status_page_and_access_log_redact_signatures(mroot, tmp_path):
    access = tmp_path / "access.log"
    s = webservers.Stack(front="nginx", media_root=mroot, mount=MOUNT, workers=2,
                         config_extra={"security": {"signing_key": KEY},
                                       "server": {"status_path": STATUS,
                                                  "access_log": str(access)}})
    s.start()
    try:
        url = app_sign(MOUNT + "/" + CLIP + "?format=mjpeg&size=80x60")
        sig = url.rsplit("=", 1)[1]
        got = {}

        def watch():   # a stream that lasts ~12 s: in flight meanwhile
            got["r"] = s.request("GET", url, timeout=40)

        t = threading.Thread(target=watch)
        t.start()
        seen = None
        deadline = time.time() + 10
        while time.time() < deadline:
            page = s.get(STATUS)
            assert page.status == 200, page
            text = page.body.decode()
            assert sig not in text, "the status page shows a signature"
            if CLIP in text:
                seen = text
                break
            time.sleep(0.2)
        assert seen is not None, "the stream never showed on the status page"
        assert "sig=REDACTED" in seen, seen
        t.join(60)
        assert got["r"].status == 200, got["r"]
        log = access.read_text()
        assert CLIP in log and "sig=REDACTED" in log, log
        assert sig not in log, "the access log holds a signature"
    finally:
        assert not s.stop()
    assert not s.sanitizer_reports(), s.sanitizer_reports()
