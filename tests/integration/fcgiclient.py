"""A FastCGI client for tests that talk to mediafcgi without a web server,
to send what a web server would (another REMOTE_ADDR, a raw REQUEST_URI)
or to read exactly what mediafcgi writes.

    fcgi_request("/tmp/x/mediafcgi.sock", "/media/a.jpg?size=10x10")
    fcgi_request(("127.0.0.1", 9000), "/_status", remote_addr="203.0.113.7")

returns an Answer: status, headers (lower-case names), body, ended (whether
END_REQUEST arrived, i.e. the answer was not cut).
"""

import json
import socket
import struct

BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT = 1, 3, 4, 5, 6


class Answer:
    def __init__(self, status, headers, body, ended):
        self.status = status
        self.headers = headers
        self.body = body
        self.ended = ended

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


def fcgi_request(where, uri, method="GET", remote_addr="127.0.0.1", headers=None,
                 timeout=30):
    """One responder request to where (a unix socket path or (host, port)).
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
        s.connect(where)
    else:
        s = socket.create_connection(where, timeout=timeout)
    out, buf, ended = b"", b"", False
    try:
        s.sendall(msg)
        while not ended:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 8:
                _, rtype, _, clen, plen, _ = struct.unpack("!BBHHBB", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
                if rtype == STDOUT:
                    out += content
                elif rtype == END_REQUEST:
                    ended = True
    finally:
        s.close()
    head, _, data = out.partition(b"\r\n\r\n")
    hdrs = {}
    for line in head.decode("latin-1").split("\r\n"):
        k, _, v = line.partition(":")
        if k.strip():
            hdrs[k.strip().lower()] = v.strip()
    status = int(hdrs.get("status", "200").split()[0])
    return Answer(status, hdrs, data, ended)
