"""Signed URLs and presets-only mode, behind nginx: with a [security]
signing_key every media request needs sig= (HMAC-SHA256 of the path and
the query, either in canonical order as `mediafcgi --sign` writes it or
exactly as sent); a missing, wrong or tampered signature is 403 JSON and
nothing is decoded; presets_only answers only preset= requests."""

import hashlib
import hmac
import subprocess

import pytest

from support import webservers
from support.checks import assert_json_error
from support.imaging import MOUNT, decode

KEY = "test-key-0123456789-abcdef"


def app_sign(path_query):
    """What an application does: HMAC over path?query as it will send it."""
    sig = hmac.new(KEY.encode(), path_query.encode(), hashlib.sha256).hexdigest()
    return path_query + "&sig=" + sig


def cli_sign(stack, path_query):
    out = subprocess.run([stack.binary, "--config", stack.conf, "--sign", path_query],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture(scope="module")
def signed(media_root):
    s = webservers.Stack(front="nginx", media_root=media_root, mount=MOUNT, workers=2,
                         config_extra={"security": {"signing_key": KEY},
                                       "preset thumb": {"size": "120x80", "fit": "cover"}})
    s.start()
    yield s
    assert not s.stop()
    assert not s.sanitizer_reports(), s.sanitizer_reports()


@pytest.fixture(scope="module")
def presets(media_root):
    s = webservers.Stack(front="nginx", media_root=media_root, mount=MOUNT, workers=2,
                         config_extra={"security": {"presets_only": "yes"},
                                       "preset thumb": {"size": "120x80", "fit": "cover"}})
    s.start()
    yield s
    assert not s.stop()
    assert not s.sanitizer_reports(), s.sanitizer_reports()


def test_unsigned_is_403(signed):
    assert_json_error(signed.get(MOUNT + "/landscape.jpg?size=300x200"), 403, "sig")
    assert_json_error(signed.get(MOUNT + "/landscape.jpg"), 403, "sig")


def test_cli_signed_url_is_served(signed):
    url = cli_sign(signed, MOUNT + "/landscape.jpg?fit=cover&size=300x200")
    assert "&sig=" in url and url.startswith(MOUNT + "/landscape.jpg?size=300x200&fit=cover")
    assert decode(signed.get(url)).size == (300, 200)


def test_application_signed_url_is_served(signed):
    """Signed by an application with Python's hmac, parameters in its own
    order: the query as sent is accepted too."""
    url = app_sign(MOUNT + "/landscape.jpg?size=0300x200&fit=cover&format=png")
    r = signed.get(url)
    im = decode(r)
    assert im.size == (300, 200) and im.format == "PNG"


@pytest.mark.parametrize("change", ["size", "path", "key", "dropped", "added"])
def test_tampered_signature_is_403(signed, change):
    good = app_sign(MOUNT + "/landscape.jpg?size=300x200")
    bad = {
        "size": good.replace("size=300x200", "size=900x600"),
        "path": good.replace("/landscape.jpg", "/portrait.jpg"),
        "key": MOUNT + "/landscape.jpg?size=300x200&sig=" + hmac.new(
            b"another-key-0000000", (MOUNT + "/landscape.jpg?size=300x200").encode(),
            hashlib.sha256).hexdigest(),
        "dropped": good.replace("size=300x200&", ""),
        "added": good.replace("size=300x200", "size=300x200&format=png"),
    }[change]
    assert bad != good
    assert_json_error(signed.get(bad), 403, "sig")


def test_signed_preset(signed):
    im = decode(signed.get(cli_sign(signed, MOUNT + "/landscape.jpg?preset=thumb")))
    assert im.size == (120, 80)


def test_presets_only(presets):
    assert_json_error(presets.get(MOUNT + "/landscape.jpg?size=300x200"), 403, "preset")
    assert_json_error(presets.get(MOUNT + "/landscape.jpg?preset=thumb&q=90"), 403, "preset")
    assert_json_error(presets.get(MOUNT + "/landscape.jpg?preset=nosuch"), 400, "preset")
    assert decode(presets.get(MOUNT + "/landscape.jpg?preset=thumb")).size == (120, 80)
