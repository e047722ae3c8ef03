"""HTTP behaviour seen through the front ends: HEAD, caching headers,
concurrency, and the static part of the site next to the mount."""

import threading

import pytest

from support.checks import assert_json_error
from support.imaging import MOUNT, decode

# Headers that legitimately differ between two answers or between GET and
# HEAD (hop-by-hop, clock, framing). lighttpd adds Accept-Ranges only to an
# answer it holds whole (a streamed GET, sent chunked, has none; the HEAD
# of it, with no body, does).
VOLATILE = {"date", "connection", "keep-alive", "transfer-encoding", "content-length",
            "accept-ranges"}


def comparable(headers):
    return sorted((k.lower(), v) for k, v in headers.items() if k.lower() not in VOLATILE)


@pytest.mark.parametrize("path", [
    MOUNT + "/landscape.jpg?size=300x200",
    MOUNT + "/alpha.png?size=100x100&format=webp",
    MOUNT + "/photo.png",
    MOUNT + "/missing.jpg",
    MOUNT + "/landscape.jpg?size=abc",
])
def test_head_same_headers_as_get_and_no_body(stack, path):
    g = stack.get(path)
    h = stack.head(path)
    assert h.status == g.status, (h, g)
    assert h.body == b"", h
    assert comparable(h.headers) == comparable(g.headers), \
        "HEAD %s headers differ from GET:\n%s\n%s" % (path, h.headers.items(), g.headers.items())
    if h.headers.get("Content-Length") is not None:
        assert int(h.headers["Content-Length"]) == len(g.body)


def test_etag_and_304(stack):
    """DESIGN: strong ETag and Last-Modified; 304 on If-None-Match."""
    path = MOUNT + "/landscape.jpg?size=300x200"
    r = stack.get(path)
    decode(r)
    etag = r.headers.get("ETag")
    assert etag and not etag.startswith("W/"), r.headers.items()
    assert r.headers.get("Last-Modified"), r.headers.items()
    again = stack.get(path)
    assert again.headers.get("ETag") == etag
    nm = stack.get(path, headers={"If-None-Match": etag})
    assert nm.status == 304, nm
    assert nm.body == b""
    other = stack.get(MOUNT + "/landscape.jpg?size=301x200")
    assert other.headers.get("ETag") != etag
    # the same request in another parameter order is the same resource
    same = stack.get(MOUNT + "/landscape.jpg?fit=inside&size=300x200")
    assert same.headers.get("ETag") == stack.get(
        MOUNT + "/landscape.jpg?size=300x200&fit=inside").headers.get("ETag")


def test_cache_control_from_config(limited_stack):
    r = limited_stack.get(MOUNT + "/sub/nested.jpg?size=60x40")
    decode(r)
    assert r.headers.get("Cache-Control") == "public, max-age=86400", r.headers.items()


def test_concurrent_requests(stack):
    """More clients than workers: every answer is whole and right."""
    results = []
    lock = threading.Lock()
    sizes = [(120, 80), (300, 200), (90, 60), (240, 160)]

    def client(i):
        for j in range(6):
            w, h = sizes[(i + j) % len(sizes)]
            r = stack.get("%s/photo.jpg?size=%dx%d" % (MOUNT, w, h))
            try:
                ok = decode(r).size == (w, h)
            except BaseException:  # noqa: BLE001 - pytest.fail in a thread
                ok = False
            with lock:
                results.append((ok, r.status, w, h))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    bad = [x for x in results if not x[0]]
    assert len(results) == 48 and not bad, bad[:5]


def test_front_end_serves_the_rest_of_the_site(stack):
    r = stack.get("/")
    assert r.status == 200 and b"<title>" in r.body
    assert r.content_type == "text/html"
    r = stack.get("/index.html")
    assert r.status == 200


def test_error_after_image_on_same_worker(stack):
    """A 404 between two thumbnails does not disturb the worker."""
    for _ in range(3):
        assert decode(stack.get(MOUNT + "/landscape.jpg?size=30x20")).size == (30, 20)
        assert_json_error(stack.get(MOUNT + "/nothing-here.jpg"), 404)
