"""Errors: status, JSON body {"error": "...", "status": N} with Content-Type
application/json, and a good request still answered after each bad one.

What the front ends intercept before mediafcgi sees the request (measured
with nginx 1.22 and lighttpd 1.4.69, both with their default settings):
  - both normalise the path ("..", "%2e%2e", "%2f" decoded) before choosing a
    location, so /media/../x and /media/%2e%2e/x fall out of the /media/
    location and get the front end's own 404 (nginx: 400 when ".." climbs
    above "/"); a traversal that stays under /media/ after normalisation,
    such as /media/sub/%2e%2e/landscape.jpg, does reach mediafcgi, with the
    raw path in REQUEST_URI, and must be refused there (403);
  - both refuse "%00" in the path with their own 400 (HTML), so a NUL never
    reaches mediafcgi through them (its 403 for a NUL is a unit test).
test_traversal_never_leaks asserts what the user gets either way: never the
file, and mediafcgi's 403 whenever mediafcgi answered.
"""

import re

import pytest

from support.checks import assert_json_error, assert_still_works
from support.imaging import MOUNT, SECRET, decode

# ------------------------------------------------------------------ 400

BAD_PARAMS = [
    ("foo=1", "foo"),                       # unknown
    ("size=100x100&bogus=2", "bogus"),
    ("size=abc", "size"),
    ("size=0x0", "size"),
    ("size=x", "size"),
    ("size=-10x10", "size"),
    ("size=100y100", "size"),
    ("size=100x100&size=200x200", "size"),  # repeated
    ("fit=cover&fit=cover", "fit"),
    ("q=0", "q"),
    ("q=101", "q"),
    ("q=abc", "q"),
    ("fit=bogus", "fit"),
    ("gravity=up", "gravity"),
    ("format=bmp", "format"),
    ("enlarge=2", "enlarge"),
    ("rotate=45", "rotate"),
    ("flip=x", "flip"),
    ("bg=12345", "bg"),
    ("bg=gggggg", "bg"),
    ("crop=1,2,3", "crop"),
    ("dpr=9", "dpr"),
    ("blur=100", "blur"),
    ("sharpen=0.1", "sharpen"),
    ("frame=-1", "frame"),
]


def names(message, param):
    return re.search(r"(?<![A-Za-z])%s(?![A-Za-z])" % re.escape(param), message, re.I)


@pytest.mark.parametrize("query,param", BAD_PARAMS, ids=[q for q, _ in BAD_PARAMS])
def test_bad_parameter_is_400(stack, query, param):
    path = "%s/landscape.jpg?%s" % (MOUNT, query)
    body = assert_json_error(stack.get(path), 400)
    assert names(body["error"], param), \
        "GET %s: message %r does not name %r" % (path, body["error"], param)
    assert_still_works(stack)


# ------------------------------------------------------------------ 403

@pytest.mark.parametrize("path", [
    # ".." that survives the front end's normalisation (see the top)
    MOUNT + "/sub/%2e%2e/landscape.jpg",
    MOUNT + "/sub/%2E%2E/landscape.jpg?size=10x10",
    MOUNT + "/sub/../landscape.jpg",
    # symlinks out of the root: absolute, relative, and a directory
    MOUNT + "/escape-abs.jpg",
    MOUNT + "/escape-rel.jpg?size=50x50",
    MOUNT + "/escape-dir/secret.jpg",
    MOUNT + "/escape-dir/secret.txt",
])
def test_outside_root_is_403(stack, path):
    r = stack.get(path)
    assert SECRET not in r.body
    assert_json_error(r, 403)
    assert_still_works(stack)


@pytest.mark.parametrize("path", [
    MOUNT + "/../outside/secret.txt",
    MOUNT + "/../outside/secret.jpg?size=10x10",
    MOUNT + "/%2e%2e/outside/secret.txt",
    MOUNT + "/%2e%2e/outside/secret.jpg",
    MOUNT + "/..%2foutside%2fsecret.jpg",
    MOUNT + "/sub/%2e%2e/%2e%2e/outside/secret.jpg",
    MOUNT + "/../../outside/secret.jpg",
    MOUNT + "/landscape.jpg%00.png",
    MOUNT + "/%00/landscape.jpg",
])
def test_traversal_never_leaks(stack, path):
    r = stack.get(path)
    assert SECRET not in r.body
    assert r.status in (400, 403, 404), r
    assert not r.content_type.startswith("image/"), r
    if r.content_type == "application/json":   # mediafcgi answered, not the front end
        assert_json_error(r, 403)
    assert_still_works(stack)


def test_symlink_inside_root_is_served(stack):
    r = stack.get(MOUNT + "/inside-link.jpg?size=60x40")
    assert decode(r).size == (60, 40)


def test_percent_decoded_once(stack):
    """'with space.jpg' is reached as %20; %2520 means a literal '%20'."""
    r = stack.get(MOUNT + "/with%20space.jpg?size=60x")
    assert decode(r).size == (60, 40)
    assert_json_error(stack.get(MOUNT + "/with%2520space.jpg"), 404)


# ------------------------------------------------------------------ 404

@pytest.mark.parametrize("path", [
    MOUNT + "/missing.jpg",
    MOUNT + "/missing.jpg?size=100x100",
    MOUNT + "/sub/missing.jpg",
    MOUNT + "/nodir/missing.jpg",
    MOUNT + "/sub",
    MOUNT + "/sub/",
    MOUNT + "/",
    MOUNT + "/sub/nested.jpg/",
])
def test_missing_is_404(stack, path):
    assert_json_error(stack.get(path), 404)
    assert_still_works(stack)


def test_subdirectory_file_is_served(stack):
    r = stack.get(MOUNT + "/sub/nested.jpg?size=120x")
    assert decode(r).size == (120, 80)


# ------------------------------------------------------------------ 405

@pytest.mark.parametrize("method,body", [
    ("POST", b"a=1"), ("PUT", b"\xff\xd8\xff\xe0 not really"), ("DELETE", None),
])
def test_method_not_allowed_is_405(stack, method, body):
    r = stack.request(method, MOUNT + "/landscape.jpg?size=100x100", body=body)
    assert_json_error(r, 405)
    allow = {m.strip() for m in (r.headers.get("Allow") or "").split(",")}
    assert {"GET", "HEAD"} <= allow, "405 without Allow: GET, HEAD (RFC 9110): %r" % r.headers.items()
    assert_still_works(stack)


# ------------------------------------------------------------------ 415

@pytest.mark.parametrize("name", ["svg-named.jpg", "image.svg", "text.jpg", "random.jpg"])
@pytest.mark.parametrize("query", ["", "?size=100x100", "?size=100x100&format=png"])
def test_not_an_allowed_format_is_415(stack, name, query):
    assert_json_error(stack.get("%s/%s%s" % (MOUNT, name, query)), 415)
    assert_still_works(stack)


# ------------------------------------------------------------------ 422

@pytest.mark.parametrize("name", ["truncated.jpg", "corrupt.jpg"])
@pytest.mark.parametrize("query", ["", "?size=100x100", "?size=1000x1000&format=png"])
def test_undecodable_is_422(stack, name, query):
    r = stack.get("%s/%s%s" % (MOUNT, name, query))
    assert_json_error(r, 422)
    assert_still_works(stack)


# ------------------------------------------------------------------ 413
# limited_stack: max_source_pixels 500000, max_file_size 200000,
# max_output_pixels 250000.

def test_over_source_pixels_is_413(limited_stack):
    # landscape.jpg is 1200x800 = 960000 pixels
    assert_json_error(limited_stack.get(MOUNT + "/landscape.jpg?size=100x100"), 413)
    assert_still_works_limited(limited_stack)


def test_over_file_size_is_413(limited_stack):
    # noise.png is 400x400 but about 480 kB
    assert_json_error(limited_stack.get(MOUNT + "/noise.png?size=100x100"), 413)
    assert_still_works_limited(limited_stack)


def test_over_output_pixels_is_refused(limited_stack):
    r = limited_stack.get(MOUNT + "/sub/nested.jpg?size=1200x800&enlarge=1")
    assert r.status in (400, 413), r
    assert_json_error(r, r.status)
    assert_still_works_limited(limited_stack)


def assert_still_works_limited(s):
    r = s.get(MOUNT + "/sub/nested.jpg?size=120x80")
    assert decode(r).size == (120, 80)
