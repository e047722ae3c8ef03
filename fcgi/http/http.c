/*
 * http - status table, JSON errors, the held response writer.
 */
#include "http/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	enum err_kind kind;
	int status;
} status_table[] = {
	{ ERR_NONE, 200 },
	{ ERR_BAD_PARAM, 400 },
	{ ERR_FORBIDDEN, 403 },
	{ ERR_NOT_FOUND, 404 },
	{ ERR_METHOD, 405 },
	{ ERR_TOO_LARGE, 413 },
	{ ERR_UNSUPPORTED, 415 },
	{ ERR_UNDECODABLE, 422 },
	{ ERR_NO_SLOT, 503 },
	{ ERR_TIMEOUT, 504 },
	{ ERR_INTERNAL, 500 },
	{ ERR_BAD_GATEWAY, 502 },
	{ ERR_GONE, 499 },	/* nginx's "client closed request": never sent */
};

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 200, "OK" }, { 206, "Partial Content" }, { 304, "Not Modified" },
	{ 400, "Bad Request" }, { 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 413, "Payload Too Large" },
	{ 415, "Unsupported Media Type" }, { 416, "Range Not Satisfiable" },
	{ 422, "Unprocessable Entity" }, { 499, "Client Closed Request" },
	{ 500, "Internal Server Error" }, { 502, "Bad Gateway" },
	{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
};

int
http_status_of(enum err_kind kind)
{
	for (size_t i = 0; i < sizeof(status_table) / sizeof(*status_table); i++)
		if (status_table[i].kind == kind)
			return status_table[i].status;
	return 500;
}

const char *
http_reason(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(*reasons); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

size_t
http_json_error(char *buf, size_t len, int status, const char *msg)
{
	static const char hex[] = "0123456789abcdef";
	char tail[32];
	size_t o, tl;

	tl = (size_t)snprintf(tail, sizeof(tail), "\", \"status\": %d}", status);
	o = (size_t)snprintf(buf, len, "{\"error\": \"");
	if (len < o + tl + 1)
		return 0;
	for (; msg && *msg; msg++) {
		unsigned char ch = (unsigned char)*msg;
		char esc[7];
		size_t el;

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			el = 2;
		} else if (ch < 0x20 || ch == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			el = 6;
		} else {
			esc[0] = ch >= 0x80 ? '?' : (char)ch;
			el = 1;
		}
		if (o + el + tl + 1 > len)
			break;
		memcpy(buf + o, esc, el);
		o += el;
	}
	memcpy(buf + o, tail, tl + 1);
	return o + tl;
}

static int
response_commit(struct response *r, bool with_length)
{
	char head[2600];
	int n;

	n = snprintf(head, sizeof(head), "Status: %d %s\r\n%.*s", r->status,
	    http_reason(r->status), (int)r->hlen, r->hdr);
	/* A 304 describes the stored answer; it has no body of its own. */
	if (with_length && r->status != 304 && n > 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Content-Length: %llu\r\n", r->body_bytes);
	if (n < 0 || (size_t)n + 2 >= sizeof(head))
		return -1;
	memcpy(head + n, "\r\n", 2);
	n += 2;
	r->committed = true;
	return sink_write(r->raw, head, (size_t)n);
}

static int
response_body_write(void *ctx, const void *buf, size_t len)
{
	struct response *r = ctx;
	int rc;

	r->body_bytes += len;
	if (!r->committed) {
		if (len <= r->hold_cap - r->held) {
			memcpy(r->hold + r->held, buf, len);
			r->held += len;
			return 0;
		}
		/* Larger than the hold: stream from here on, without a length. */
		if (response_commit(r, false) < 0 || (!r->head && r->held &&
		    sink_write(r->raw, r->hold, r->held) < 0)) {
			r->gone = true;
			return -1;
		}
		r->held = 0;
	}
	if ((rc = r->head ? 0 : sink_write(r->raw, buf, len)) < 0)
		r->gone = true;
	return rc;
}

static int
response_body_flush(void *ctx)
{
	struct response *r = ctx;

	/* A flush asked for by the writer (a stream's frame) commits: the
	 * client must have what was written, not wait for the hold to fill. */
	return response_flush(r);
}

void
response_init(struct response *r, struct sink *raw, bool head,
    unsigned char *hold, size_t hold_cap)
{
	memset(r, 0, sizeof(*r));
	r->raw = raw;
	r->head = head;
	r->status = 200;
	r->hold = hold;
	r->hold_cap = hold_cap;
	r->body.write = response_body_write;
	r->body.flush = response_body_flush;
	r->body.ctx = r;
}

void
response_status(struct response *r, int status)
{
	r->status = status;
}

int
response_header(struct response *r, const char *name, const char *fmt, ...)
{
	char value[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(value) || strpbrk(value, "\r\n"))
		return -1;
	n = snprintf(r->hdr + r->hlen, sizeof(r->hdr) - r->hlen, "%s: %s\r\n",
	    name, value);
	if (n < 0 || (size_t)n >= sizeof(r->hdr) - r->hlen)
		return -1;
	r->hlen += (size_t)n;
	return 0;
}

/* Commits (with Content-Length when the body is all held), sends what is
 * held, pushes it out. */
static int
response_release(struct response *r, bool with_length)
{
	if (!r->committed) {
		if (response_commit(r, with_length) < 0 || (!r->head && r->held &&
		    sink_write(r->raw, r->hold, r->held) < 0)) {
			r->gone = true;
			return -1;
		}
		r->held = 0;
	}
	if (sink_flush(r->raw) < 0) {
		r->gone = true;
		return -1;
	}
	return 0;
}

int
response_end(struct response *r)
{
	return response_release(r, true);
}

int
response_flush(struct response *r)
{
	return response_release(r, false);
}

void
response_fail(struct response *r, const struct err *e)
{
	char body[600];
	char allow[64] = "", retry[16] = "";
	const char *a;
	bool vary;
	size_t n;
	int status = http_status_of(e->kind);

	if (r->committed) {
		r->aborted = true;
		return;
	}
	/* Keep Allow (405), Retry-After (503) and Vary across the reset;
	 * every other header was for a success that did not happen. */
	if ((a = strstr(r->hdr, "Allow: ")) != NULL)
		snprintf(allow, sizeof(allow), "%.*s", (int)strcspn(a + 7, "\r"),
		    a + 7);
	if ((a = strstr(r->hdr, "Retry-After: ")) != NULL)
		snprintf(retry, sizeof(retry), "%.*s",
		    (int)strcspn(a + 13, "\r"), a + 13);
	vary = strstr(r->hdr, "Vary: Accept\r\n") != NULL;
	r->hlen = 0;
	r->hdr[0] = '\0';
	r->held = 0;
	r->body_bytes = 0;
	r->status = status;
	n = http_json_error(body, sizeof(body), status,
	    e->msg[0] ? e->msg : http_reason(status));
	(void)response_header(r, "Content-Type", "application/json");
	(void)response_header(r, "Cache-Control", "no-store");
	(void)response_header(r, "X-Content-Type-Options", "nosniff");
	if (allow[0])
		(void)response_header(r, "Allow", "%s", allow);
	if (vary)
		(void)response_header(r, "Vary", "Accept");
	if (retry[0])
		(void)response_header(r, "Retry-After", "%s", retry);
	body[n++] = '\n';
	if (sink_write(&r->body, body, n) < 0 || response_end(r) < 0)
		r->aborted = true;
}
