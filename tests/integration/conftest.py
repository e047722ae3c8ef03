"""
Integration fixtures: media generated at test time (Pillow) into a temporary
media root, and mediafcgi started behind each real front end on a loopback
port chosen at run time. Every API test takes `stack` and so runs once behind
nginx and once behind lighttpd.

Run: make integration, or
     MEDIAFCGI_BIN=$PWD/build/mediafcgi /usr/bin/python3 -m pytest -q tests/integration
     (-k nginx / -k lighttpd for one front end; MEDIAFCGI_KEEP_TMP=1 keeps the
     generated configs and logs of the servers).
"""

import os
import shutil
import tempfile

import pytest

from support import webservers
from support.imaging import MOUNT, make_media


@pytest.fixture(scope="session")
def media_dirs():
    top = tempfile.mkdtemp(prefix="mediafcgi-it-")
    os.chmod(top, 0o755)
    root = os.path.join(top, "media")
    outside = os.path.join(top, "outside")
    os.makedirs(root)
    make_media(root, outside)
    yield {"top": top, "root": root, "outside": outside}
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="session")
def media_root(media_dirs):
    return media_dirs["root"]


# ------------------------------------------------------------------ servers

def _need_binary():
    b = webservers.mediafcgi_bin()
    if not os.access(b, os.X_OK):
        pytest.fail("%s not built (run make, or set MEDIAFCGI_BIN)" % b)


@pytest.fixture(scope="session", params=list(webservers.FRONTS))
def stack(request, media_root):
    """mediafcgi (2 workers, mount /media) behind nginx or lighttpd."""
    _need_binary()
    s = webservers.Stack(front=request.param, media_root=media_root, mount=MOUNT,
                         workers=2)
    s.start()
    yield s
    left = s.stop()
    assert not left, "processes left behind after SIGTERM: %s" % left
    assert not s.sanitizer_reports(), "sanitizer reports:\n" + "\n".join(s.sanitizer_reports())


@pytest.fixture(scope="module", params=list(webservers.FRONTS))
def limited_stack(request, media_root):
    """Like stack, with small limits (for 413) and a Cache-Control header."""
    _need_binary()
    extra = {"media": {"max_source_pixels": 500000, "max_file_size": 200000,
                       "max_output_pixels": 250000,
                       "cache_control": "public, max-age=86400"}}
    with webservers.Stack(front=request.param, media_root=media_root, mount=MOUNT,
                          workers=1, config_extra=extra) as s:
        yield s
    assert not s.sanitizer_reports(), "sanitizer reports:\n" + "\n".join(s.sanitizer_reports())
