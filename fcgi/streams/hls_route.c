/*
 * hls_route - the playlist and segments of format=hls. See hls_route.h.
 */
#include "streams/hls_route.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proc/config.h"
#include "route/sign.h"
#include "stream/hls.h"

/* What a segment URL is made of: the request's path as sent, and its
 * parameters without sig. */
struct seg_url {
	const struct config *cfg;
	const char *uri;
	size_t path_len;
	struct params base;
};

/*
 * hls_url_fn: PATH?parameters[&sig=...]&seg=N.ts. The signature is over
 * the canonical form with seg= (the gate checks that, whatever the
 * order); seg= comes last so that the URL ends in ".ts" (params.c says
 * why).
 */
static int
seg_url(void *ctx, unsigned n, char *buf, size_t len)
{
	struct seg_url *u = ctx;
	struct params sp = u->base;
	char hex[65];
	int w;
	size_t l;

	w = snprintf(buf, len, "%.*s?", (int)u->path_len, u->uri);
	if (w < 0 || (size_t)w >= len ||
	    params_canonical(&sp, buf + w, len - (size_t)w) < 0)
		return -1;
	sp.seg = n;
	sp.given |= P_SEG;
	l = strlen(buf);
	if (u->cfg->n_signing_keys > 0) {
		if (sign_compute(u->cfg->signing_keys[0], u->uri, u->path_len,
		    &sp, hex) < 0)
			return -1;
		w = snprintf(buf + l, len - l, "&sig=%s", hex);
		if (w < 0 || (size_t)w >= len - l)
			return -1;
		l += (size_t)w;
	}
	w = snprintf(buf + l, len - l, "&seg=%u.ts", n);
	return w < 0 || (size_t)w >= len - l ? -1 : 0;
}

/*
 * The parameters segment URLs carry: the request's (a preset's values
 * written out, as VTT cues do), or under presets_only the preset's name
 * (a gate that takes seg= with it answers them); expires kept, sig not.
 */
static void
seg_base(const struct config *cfg, const struct params *p, struct params *b)
{
	*b = *p;
	b->given &= ~(P_SIG | P_PRESET | P_SEG);
	b->given |= P_FORMAT;
	b->format = OUT_HLS;
	if (cfg->presets_only && (p->given & P_PRESET)) {
		params_init(b);
		b->given = P_PRESET | (p->given & P_EXPIRES);
		snprintf(b->preset, sizeof(b->preset), "%s", p->preset);
		b->expires = p->expires;
	}
}

/* Reads a byte position: digits only, no overflow. */
static bool
range_pos(const char **s, unsigned long long *v)
{
	const char *c = *s;

	*v = 0;
	if (*c < '0' || *c > '9')
		return false;
	for (; *c >= '0' && *c <= '9'; c++) {
		if (*v > (~0ull - 9) / 10)
			return false;
		*v = *v * 10 + (unsigned long long)(*c - '0');
	}
	*s = c;
	return true;
}

enum { RANGE_ALL = 1, RANGE_NONE = 2 };

/*
 * The one range of h ("bytes=a-b", "bytes=a-", "bytes=-n") within size
 * bytes: 0 with [*off, *off + *n), RANGE_ALL to answer everything (no
 * usable Range: absent, not bytes, malformed, or several ranges, which a
 * server may answer whole), RANGE_NONE when it is unsatisfiable (416).
 */
static int
range_parse(const char *h, size_t size, size_t *off, size_t *n)
{
	unsigned long long a, b;
	const char *s = h;

	if (h == NULL || strncasecmp(s, "bytes", 5) != 0)
		return RANGE_ALL;
	s += 5;
	s += strspn(s, " \t");
	if (*s++ != '=')
		return RANGE_ALL;
	s += strspn(s, " \t");
	if (strchr(s, ',') != NULL)
		return RANGE_ALL;
	if (*s == '-') {
		s++;
		if (!range_pos(&s, &b) || s[strspn(s, " \t")] != '\0')
			return RANGE_ALL;
		if (b == 0 || size == 0)
			return RANGE_NONE;
		*n = b < size ? (size_t)b : size;
		*off = size - *n;
		return 0;
	}
	if (!range_pos(&s, &a) || *s++ != '-')
		return RANGE_ALL;
	if (*s == '\0' || *s == ' ' || *s == '\t') {
		b = ~0ull;
	} else if (!range_pos(&s, &b) || b < a) {
		return RANGE_ALL;
	}
	if (s[strspn(s, " \t")] != '\0')
		return RANGE_ALL;
	if (a >= size)
		return RANGE_NONE;
	if (b >= size)
		b = size - 1;
	*off = (size_t)a;
	*n = (size_t)(b - a + 1);
	return 0;
}

/* n bytes as the body, with Content-Length also when they do not fit the
 * response's hold (it adds one only to what it held whole). */
static int
send_body(struct response *r, const void *d, size_t n, struct err *e)
{
	if (n > r->hold_cap - r->held)
		(void)response_header(r, "Content-Length", "%zu", n);
	return sink_write(&r->body, d, n) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 0;
}

/* A built segment, whole (200) or the range asked for (206, 416). */
static int
send_segment(const struct membuf *m, const char *range, const char *if_range,
    const char *etag, struct response *r, struct err *e)
{
	size_t off = 0, n = m->len;
	char body[160];
	int rc = RANGE_ALL, len;

	(void)response_header(r, "Accept-Ranges", "bytes");
	/* If-Range: the range only of the bytes the client has part of. */
	if (range != NULL && (if_range == NULL || strcmp(if_range, etag) == 0))
		rc = range_parse(range, m->len, &off, &n);
	if (rc == RANGE_NONE) {
		response_status(r, 416);
		(void)response_header(r, "Content-Range", "bytes */%zu", m->len);
		(void)response_header(r, "Content-Type", "application/json");
		len = snprintf(body, sizeof(body), "{\"error\": \"Range: "
		    "the segment has %zu bytes\", \"status\": 416}\n", m->len);
		return send_body(r, body, (size_t)len, e);
	}
	if (rc == 0) {
		response_status(r, 206);
		(void)response_header(r, "Content-Range", "bytes %zu-%zu/%zu",
		    off, off + n - 1, m->len);
	}
	(void)response_header(r, "Content-Type", HLS_SEGMENT_MIME);
	return send_body(r, m->data + off, n, e);
}

int
hls_route(const struct server *srv, const struct request *req,
    const char *range, const char *if_range, const char *etag, int fd,
    off_t size, enum media_type type, const struct params *p,
    struct response *r, struct err *e)
{
	const struct config *cfg = srv->cfg;
	struct vid_job job = {
		.params = p, .fd = fd, .size = size, .type = type,
		.limits = cfg->limits.vid, .stop = srv->stop,
	};
	struct seg_url u = {
		.cfg = cfg, .uri = req->uri,
		.path_len = strcspn(req->uri, "?#"),
	};
	struct membuf m;
	int rc;

	(void)response_header(r, "X-Content-Type-Options", "nosniff");
	if (!(p->given & P_SEG)) {
		seg_base(cfg, p, &u.base);
		(void)response_header(r, "Content-Type", HLS_PLAYLIST_MIME);
		return hls_playlist(&job, seg_url, &u, &r->body, e);
	}
	membuf_init(&m);
	if ((rc = hls_segment(&job, 0, &m, e)) == 0)
		rc = send_segment(&m, range, if_range, etag, r, e);
	membuf_cleanup(&m);
	return rc;
}
