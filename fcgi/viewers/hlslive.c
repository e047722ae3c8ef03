/*
 * hlslive - a live source's HLS playlist and segments. See hlslive.h.
 */
#include "viewers/hlslive.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/sink.h"
#include "proc/config.h"
#include "req/params.h"
#include "route/sign.h"
#include "stream/hls.h"
#include "live/h264live.h"
#include "viewers/ring.h"

/* A first request starts the encoder: its first segment is complete
 * after a keyframe interval (<= 1 s) and the reader's start. */
#define FIRST_WAIT_MS 8000
#define POLL_MS 50
#define URL_MAX 1536

/* Whether stop was set (SIGTERM): a wait ends. */
static bool
stopping(const struct server *srv)
{
	return srv->stop != NULL && *srv->stop;
}

/*
 * PATH?format=hls[&expires=...][&sig=...]&seg=WHAT into buf: the path as
 * the request sent it; the signature over the canonical form with seg=
 * (what the gate checks, whatever the order); seg= last so that the URL
 * ends in the segment's type (params.c says why). 0 or -1 (too long).
 */
static int
seg_url(const struct server *srv, const struct request *req,
    const struct params *base, unsigned seg, char *buf, size_t len)
{
	const struct config *cfg = srv->cfg;
	size_t path_len = strcspn(req->uri, "?#"), l;
	struct params sp = *base;
	char hex[65];
	int w;

	w = snprintf(buf, len, "%.*s?", (int)path_len, req->uri);
	if (w < 0 || (size_t)w >= len ||
	    params_canonical(base, buf + w, len - (size_t)w) < 0)
		return -1;
	l = strlen(buf);
	sp.seg = seg;
	sp.given |= P_SEG;
	if (cfg->n_signing_keys > 0) {
		if (sign_compute(cfg->signing_keys[0], req->uri, path_len, &sp,
		    hex) < 0)
			return -1;
		w = snprintf(buf + l, len - l, "&sig=%s", hex);
		if (w < 0 || (size_t)w >= len - l)
			return -1;
		l += (size_t)w;
	}
	if (seg == PARAMS_SEG_INIT)
		w = snprintf(buf + l, len - l, "&seg=init.mp4");
	else
		w = snprintf(buf + l, len - l, "&seg=%u.m4s", seg);
	return w < 0 || (size_t)w >= len - l ? -1 : 0;
}

/*
 * The complete segments of the running encoder's run, oldest first, at
 * most HLSLIVE_LIST: their count (0: none yet).
 */
static unsigned
newest_segments(const struct live *l, unsigned i, uint32_t gen,
    uint64_t nums[HLSLIVE_LIST], struct live_seg segs[HLSLIVE_LIST])
{
	const struct live_h264 *h = &l->rings[i].h264;
	uint64_t n = __atomic_load_n(&h->seg, __ATOMIC_ACQUIRE);
	uint32_t epoch = __atomic_load_n(&h->epoch, __ATOMIC_ACQUIRE);
	struct live_seg tmp[HLSLIVE_LIST];
	uint64_t tn[HLSLIVE_LIST];
	unsigned count = 0;

	/* A run that ended (no H.264 viewer for idle_timeout) is not live:
	 * the playlist waits for the next one's segments. */
	if (!__atomic_load_n(&h->running, __ATOMIC_ACQUIRE) ||
	    l->rings[i].reader <= 0)
		return 0;
	for (; n > 0 && count < HLSLIVE_LIST; n--) {
		struct live_seg m;

		if (live_h264_seg(l, i, gen, n, &m) < 0 || m.epoch != epoch)
			break;
		if (!m.complete) {
			if (count == 0)
				continue;	/* the open one */
			break;
		}
		tmp[count] = m;
		tn[count++] = n;
	}
	for (unsigned k = 0; k < count; k++) {
		segs[k] = tmp[count - 1 - k];
		nums[k] = tn[count - 1 - k];
	}
	return count;
}

static int
playlist(const struct server *srv, const struct request *req, unsigned i,
    uint32_t gen, struct response *r, struct err *e)
{
	struct live *l = srv->live;
	const struct params *p = req->params;
	struct params base;
	uint64_t nums[HLSLIVE_LIST];
	struct live_seg segs[HLSLIVE_LIST];
	int64_t deadline = clock_ms() + FIRST_WAIT_MS;
	unsigned count, target = 1;
	char url[URL_MAX];
	struct membuf m;
	struct sink out;
	int rc = 1;

	/* Until a segment is complete (the encoder may only be starting). */
	while ((count = newest_segments(l, i, gen, nums, segs)) == 0) {
		if (clock_ms() > deadline || stopping(srv) ||
		    __atomic_load_n(&l->rings[i].gen, __ATOMIC_ACQUIRE) != gen)
			return err_set(e, ERR_TIMEOUT, "source has no H.264 "
			    "segment yet (input down or starting)");
		live_h264_want(l, i);
		usleep(POLL_MS * 1000);
	}
	/* The URLs' parameters: format=hls, the expiry kept, nothing else
	 * (a live source has nothing else to choose); under presets_only
	 * the preset's name instead (the gate takes seg= beside it). */
	params_init(&base);
	base.given = P_FORMAT | (p->given & P_EXPIRES);
	base.format = OUT_HLS;
	base.expires = p->expires;
	if (srv->cfg->presets_only && (p->given & P_PRESET)) {
		base.given = P_PRESET | (p->given & P_EXPIRES);
		snprintf(base.preset, sizeof(base.preset), "%s", p->preset);
	}
	for (unsigned k = 0; k < count; k++) {
		unsigned d = (unsigned)ceil(segs[k].duration /
		    (double)H264LIVE_TIMESCALE);

		if (d > target)
			target = d;
	}
	membuf_init(&m);
	sink_init_membuf(&out, &m);
	if (seg_url(srv, req, &base, PARAMS_SEG_INIT, url, sizeof(url)) < 0) {
		rc = err_set(e, ERR_BAD_PARAM, "the segment URLs are too long");
		goto out;
	}
	{
		char head[URL_MAX + 256];
		int n = snprintf(head, sizeof(head), "#EXTM3U\n"
		    "#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%u\n"
		    "#EXT-X-MEDIA-SEQUENCE:%llu\n#EXT-X-INDEPENDENT-SEGMENTS\n"
		    "#EXT-X-MAP:URI=\"%s\"\n", target,
		    (unsigned long long)nums[0], url);

		(void)sink_write(&out, head, (size_t)n);
	}
	for (unsigned k = 0; k < count; k++) {
		char line[URL_MAX + 64];
		int n;

		if (nums[k] > PARAMS_MAX_SEG ||
		    seg_url(srv, req, &base, (unsigned)nums[k], url,
		    sizeof(url)) < 0) {
			rc = err_set(e, ERR_INTERNAL, "segment number %llu "
			    "cannot be written", (unsigned long long)nums[k]);
			goto out;
		}
		n = snprintf(line, sizeof(line), "#EXTINF:%.3f,\n%s\n",
		    segs[k].duration / (double)H264LIVE_TIMESCALE, url);
		(void)sink_write(&out, line, (size_t)n);
	}
	if (m.data == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	(void)response_header(r, "Content-Type", HLS_PLAYLIST_MIME);
	(void)response_header(r, "Cache-Control", "no-store");
	if (sink_write(&r->body, m.data, m.len) < 0)
		rc = err_set(e, ERR_GONE, "client went away");
out:
	membuf_cleanup(&m);
	return rc;
}

/* n bytes as the body, with Content-Length also when they do not fit the
 * response's hold (it adds one only to what it held whole). */
static int
send_body(struct response *r, const void *d, size_t n, struct err *e)
{
	if (n > r->hold_cap - r->held)
		(void)response_header(r, "Content-Length", "%zu", n);
	return sink_write(&r->body, d, n) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 1;
}

static int
init_segment(const struct server *srv, unsigned i, uint32_t gen,
    struct response *r, struct err *e)
{
	struct live *l = srv->live;
	unsigned char buf[LIVE_H264_INIT];
	int64_t deadline = clock_ms() + FIRST_WAIT_MS;
	uint32_t epoch;
	ssize_t n;

	while ((n = live_h264_init(l, i, gen, buf, sizeof(buf), &epoch)) <= 0) {
		if (clock_ms() > deadline || stopping(srv))
			return err_set(e, ERR_TIMEOUT, "source has no H.264 "
			    "stream yet (input down or starting)");
		live_h264_want(l, i);
		usleep(POLL_MS * 1000);
	}
	(void)response_header(r, "Content-Type", "video/mp4");
	(void)response_header(r, "Cache-Control", "no-cache");
	return send_body(r, buf, (size_t)n, e);
}

static int
segment(const struct server *srv, unsigned i, uint32_t gen, uint64_t n,
    struct response *r, struct err *e)
{
	struct live *l = srv->live;
	struct live_seg m;
	unsigned char *buf;
	ssize_t len;
	int rc;

	if (live_h264_seg(l, i, gen, n, &m) < 0 || !m.complete ||
	    m.len > LIVE_H264_AREA)
		return err_set(e, ERR_NOT_FOUND, "seg: segment %llu is not "
		    "held (too old, or not complete yet)",
		    (unsigned long long)n);
	if ((buf = malloc((size_t)m.len)) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	/* Overwritten since the look: gone. */
	if ((len = live_h264_seg_copy(l, i, gen, n, buf, (size_t)m.len)) < 0) {
		rc = err_set(e, ERR_NOT_FOUND, "seg: segment %llu is no "
		    "longer held", (unsigned long long)n);
		goto out;
	}
	(void)response_header(r, "Content-Type", "video/mp4");
	(void)response_header(r, "Cache-Control", "max-age=10");
	rc = send_body(r, buf, (size_t)len, e);
out:
	free(buf);
	return rc;
}

int
hlslive_answer(const struct server *srv, const struct request *req,
    unsigned i, uint32_t gen, struct response *r, struct err *e)
{
	const struct params *p = req->params;

	/* Each playlist and segment a client fetches keeps it encoding. */
	live_h264_want(srv->live, i);
	(void)response_header(r, "X-Content-Type-Options", "nosniff");
	if (!(p->given & P_SEG))
		return playlist(srv, req, i, gen, r, e);
	if (p->seg == PARAMS_SEG_INIT)
		return init_segment(srv, i, gen, r, e);
	return segment(srv, i, gen, p->seg, r, e);
}
