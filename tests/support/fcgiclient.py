"""A FastCGI client for tests that talk to mediafcgi without a web server,
to send what a web server would (another REMOTE_ADDR, a raw REQUEST_URI)
or to read exactly what mediafcgi writes.

    fcgi_request("/tmp/x/mediafcgi.sock", "/media/a.jpg?size=10x10")
    fcgi_request(("127.0.0.1", 9000), "/_status", remote_addr="203.0.113.7")

returns an Answer: status, headers (lower-case names), body, ended (whether
END_REQUEST arrived, i.e. the answer was not cut), head (the header text).
For a stream read as it comes: fcgi_open() sends the request, records()
yields each record as it arrives.
"""

import json
import socket
import struct

BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT = 1, 3, 4, 5, 6


class Answer:
    def __init__(self, status, headers, body, ended, head=""):
        self.status = status
        self.headers = headers      # lower-case names
        self.body = body
        self.ended = ended
        self.head = head            # the CGI header lines as sent

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Answer %d %r %r%s>" % (self.status, self.headers.get("content-type"),
                                        self.body[:200], "" if self.ended else " cut")


def record(rtype, content, rid=1):
    return struct.pack("!BBHHBB", 1, rtype, rid, len(content), 0, 0) + content


def name_value(name, value):
    out = b""
    for n in (len(name), len(value)):
        out += struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)
    return out + name + value


def parse_head(head):
    """CGI header text -> {lower-case name: value}."""
    hdrs = {}
    for line in head.split("\r\n"):
        k, _, v = line.partition(":")
        if k.strip():
            hdrs[k.strip().lower()] = v.strip()
    return hdrs


def fcgi_open(where, uri, method="GET", remote_addr="127.0.0.1", headers=None,
              timeout=30):
    """Sends one responder request to where (a unix socket path or (host,
    port)) and returns the connected socket, for records() to read.
    remote_addr None leaves REMOTE_ADDR out."""
    path, _, query = uri.partition("?")
    params = {"REQUEST_METHOD": method, "REQUEST_URI": uri, "QUERY_STRING": query,
              "SCRIPT_NAME": path, "SERVER_PROTOCOL": "HTTP/1.1",
              "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_NAME": "localhost",
              "SERVER_PORT": "80"}
    if remote_addr is not None:
        params["REMOTE_ADDR"] = remote_addr
    for k, v in (headers or {}).items():
        params["HTTP_" + k.upper().replace("-", "_")] = v
    body = b"".join(name_value(k.encode(), v.encode("latin-1")) for k, v in params.items())
    msg = (record(BEGIN_REQUEST, struct.pack("!HB5x", 1, 0))
           + record(PARAMS, body) + record(PARAMS, b"") + record(STDIN, b""))
    if isinstance(where, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(where)
        except OSError:
            s.close()
            raise
    else:
        s = socket.create_connection(where, timeout=timeout)
    try:
        s.sendall(msg)
    except OSError:
        s.close()
        raise
    return s


def records(s):
    """Yields (type, content) for each record as it arrives on s, until
    END_REQUEST or the connection closes."""
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return
        buf += chunk
        while len(buf) >= 8:
            _, rtype, _, clen, plen, _ = struct.unpack("!BBHHBB", buf[:8])
            if len(buf) < 8 + clen + plen:
                break
            content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
            yield rtype, content
            if rtype == END_REQUEST:
                return


def fcgi_request(where, uri, method="GET", remote_addr="127.0.0.1", headers=None,
                 timeout=30, must_end=False):
    """One responder request to where (a unix socket path or (host, port)),
    read whole: an Answer. remote_addr None leaves REMOTE_ADDR out;
    must_end raises ConnectionError when no END_REQUEST came."""
    out, ended = b"", False
    s = fcgi_open(where, uri, method, remote_addr, headers, timeout)
    try:
        for rtype, content in records(s):
            if rtype == STDOUT:
                out += content
            elif rtype == END_REQUEST:
                ended = True
    finally:
        s.close()
    if must_end and not ended:
        raise ConnectionError("FastCGI connection closed before END_REQUEST")
    head, _, data = out.partition(b"\r\n\r\n")
    head = head.decode("latin-1")
    hdrs = parse_head(head)
    status = int(hdrs.get("status", "200").split()[0])
    return Answer(status, hdrs, data, ended, head)
