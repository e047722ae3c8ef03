"""
checks - what the integration tests assert about mediafcgi's answers and
its log, written once: a JSON error naming what was wrong, a good request
served right after a bad one, nothing alarming logged since the last look.
"""

import re

import pytest

from support import procs
from support.imaging import MOUNT, decode

# Lines of mediafcgi's log that mean a request took a worker down or ran
# away, or a sanitizer spoke (make check SAN=1).
BAD_LOG = re.compile(r"killed by signal|exited with code|over request_timeout|answered 504"
                     r"|AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer")

GOOD = MOUNT + "/landscape.jpg?size=120x80"


def bad_lines(log):
    """The lines of log that BAD_LOG matches."""
    return [ln for ln in log.splitlines() if BAD_LOG.search(ln)]


def new_log(s):
    """What mediafcgi logged since the last call for stack s (s.log_pos
    remembers where that was)."""
    try:
        with open(s.path("mediafcgi.log"), "rb") as f:
            f.seek(getattr(s, "log_pos", 0))
            data = f.read()
    except OSError:
        return ""
    s.log_pos = getattr(s, "log_pos", 0) + len(data)
    return data.decode("utf-8", "replace")


def under_asan(s):
    """Whether the workers run under AddressSanitizer (make check SAN=1):
    its shadow memory and quarantine make their RSS meaningless."""
    return any(procs.maps_mention(pid, "libasan") for pid in s.worker_pids())


def assert_json_error(resp, status, mention=None):
    """A mediafcgi error: the status, JSON body {"error": str, "status": N}."""
    assert resp.status == status, resp
    assert resp.content_type == "application/json", resp
    try:
        body = resp.json()
    except ValueError:
        pytest.fail("error body is not JSON: %r" % resp)
    assert body.get("status") == status, body
    assert isinstance(body.get("error"), str) and body["error"], body
    if mention:
        assert mention.lower() in body["error"].lower(), \
            "error message %r does not name %r" % (body["error"], mention)
    return body


def assert_still_works(stack):
    """After a bad request, a good one is answered normally."""
    r = stack.get(GOOD)
    assert r.status == 200, "good request after a bad one: %r\n%s" % (r, stack.logs())
    im = decode(r)
    assert im.size == (120, 80), im.size
