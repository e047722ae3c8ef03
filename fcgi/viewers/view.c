/*
 * view - a live source's viewers and snapshots. See view.h.
 */
#include "viewers/view.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proc/config.h"
#include "req/params.h"
#include "streams/slots.h"
#include "viewers/fanout.h"
#include "viewers/hlslive.h"
#include "viewers/ring.h"

#define SNAPSHOT_WAIT_MS 5000	/* for a source's first frame */
#define RETRY_AFTER_S 5

static int
view_snapshot(const struct server *srv, unsigned i, uint32_t gen,
    struct response *r, struct err *e)
{
	struct live *l = srv->live;
	unsigned char *buf = malloc(l->room);
	uint64_t seq = 0;
	ssize_t n;
	int rc;

	if (buf == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	live_want(l, i);
	n = live_wait(l, i, gen, 0, SNAPSHOT_WAIT_MS, buf, l->room, &seq,
	    srv->stop);
	if (n <= 0) {
		rc = err_set(e, ERR_TIMEOUT, "source has no frame yet (input "
		    "down or starting)");
		goto out;
	}
	(void)response_header(r, "Content-Type", "image/jpeg");
	(void)response_header(r, "Cache-Control", "no-store");
	rc = sink_write(&r->body, buf, (size_t)n) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 1;
out:
	free(buf);
	return rc;
}

/*
 * A viewer: its headers (and for MJPEG the opening boundary) from here,
 * then the connection goes to the fan-out (fanout.h), which sends it the
 * newest frame each time the web server has read the last one, or (fMP4)
 * the H.264 init segment and fragments from a keyframe; this worker is
 * free at once. Viewers are counted against max_viewers, not stream
 * slots.
 */
static int
view_stream(const struct server *srv, const struct request *req,
    unsigned i, uint32_t gen, enum fanout_kind kind, struct response *r,
    struct err *e)
{
	const struct config *cfg = srv->cfg;
	struct live *l = srv->live;
	int sndbuf = (int)cfg->stream_sndbuf, devnull;
	bool mp4 = kind == FANOUT_MP4;

	if (mp4)
		(void)response_header(r, "Content-Type", "video/mp4");
	else
		(void)response_header(r, "Content-Type",
		    "multipart/x-mixed-replace; boundary=" STREAM_BOUNDARY);
	(void)response_header(r, "Cache-Control", "no-store");
	(void)response_header(r, "X-Accel-Buffering", "no");
	if (r->head)
		return 1;
	if (req->conn_fd <= 0)
		return err_set(e, ERR_INTERNAL, "no connection to hand over");
	if (__atomic_add_fetch(&l->sh->viewers, 1, __ATOMIC_ACQ_REL) >
	    cfg->max_viewers) {
		__atomic_sub_fetch(&l->sh->viewers, 1, __ATOMIC_ACQ_REL);
		__atomic_fetch_add(&l->sh->viewers_refused, 1, __ATOMIC_RELAXED);
		(void)response_header(r, "Retry-After", "%d", RETRY_AFTER_S);
		return err_set(e, ERR_NO_SLOT, "all %u viewers are taken "
		    "(max_viewers); try again later", cfg->max_viewers);
	}
	/* An fMP4 viewer turns the source's encoder on (the fan-out keeps
	 * it on while it stays). */
	if (mp4)
		live_h264_want(l, i);
	else
		live_want(l, i);
	/* Live viewers skip frames while the web server has not read the
	 * last one; a buffer of a whole frame or more lets each frame go in
	 * one system call. */
	if (sndbuf > 0)
		(void)setsockopt(req->conn_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
		    sizeof(sndbuf));
	/* Headers and the opening boundary at once: the client sees the
	 * stream open before the first frame (which may wait for a
	 * reconnecting source). */
	if ((!mp4 && sink_write(&r->body, "--" STREAM_BOUNDARY "\r\n",
	    sizeof("--" STREAM_BOUNDARY "\r\n") - 1) < 0) ||
	    response_flush(r) < 0) {
		__atomic_sub_fetch(&l->sh->viewers, 1, __ATOMIC_ACQ_REL);
		return err_set(e, ERR_GONE, "client went away");
	}
	if (fanout_hand(l, req->conn_fd, i, gen, req->request_id,
	    cfg->stream_timeout, kind) < 0) {
		__atomic_sub_fetch(&l->sh->viewers, 1, __ATOMIC_ACQ_REL);
		__atomic_fetch_add(&l->sh->viewers_refused, 1, __ATOMIC_RELAXED);
		/* The headers went out: the client sees a cut stream. */
		return err_set(e, ERR_NO_SLOT, "the viewers' process takes no "
		    "more: %s", strerror(errno));
	}
	/* Whatever this request would still write goes nowhere; the
	 * connection lives on in the fan-out. */
	if ((devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0) {
		(void)dup2(devnull, req->conn_fd);
		close(devnull);
	}
	r->handed_off = true;
	return 1;
}

int
view_live(const struct server *srv, const struct request *req,
    struct response *r, struct err *e)
{
	const struct config *cfg = srv->cfg;
	const struct params *p = req->params;
	size_t lp = strlen(cfg->live_path), n;
	const char *at;
	char name[LIVE_NAME];
	uint32_t gen;
	int index;

	/* The router chose this route on the decoded path and gated it. */
	while (lp > 0 && cfg->live_path[lp - 1] == '/')
		lp--;
	at = req->path + lp + 1;
	if ((n = strlen(at)) >= sizeof(name))
		return err_set(e, ERR_NOT_FOUND, "no such live source");
	memcpy(name, at, n + 1);
	if (p->given & ~(P_SNAPSHOT | P_PRESET | P_SIG | P_EXPIRES |
	    P_FORMAT | P_SEG))
		return err_set(e, ERR_BAD_PARAM, "%s%s%sa live source takes "
		    "only snapshot, format and seg; its size and rate are set "
		    "in its [source]",
		    (p->given & P_PRESET) ? "preset " : "",
		    (p->given & P_PRESET) ? p->preset : "",
		    (p->given & P_PRESET) ? ": " : "");
	if ((p->given & P_FORMAT) && p->format != OUT_MJPEG &&
	    p->format != OUT_MP4 && p->format != OUT_HLS)
		return err_set(e, ERR_BAD_PARAM, "format: a live source is "
		    "mjpeg (the default), mp4 or hls");
	if ((p->given & P_FORMAT) && p->snapshot)
		return err_set(e, ERR_BAD_PARAM, "snapshot: a JPEG, whatever "
		    "format says; not with format");
	if ((p->given & P_SEG) && p->format != OUT_HLS)
		return err_set(e, ERR_BAD_PARAM, "seg: needs format=hls");
	if (srv->live == NULL || (index = live_find(srv->live, name)) < 0)
		return err_set(e, ERR_NOT_FOUND, "no such live source");
	gen = __atomic_load_n(&srv->live->rings[index].gen, __ATOMIC_ACQUIRE);
	if (p->snapshot)
		return view_snapshot(srv, (unsigned)index, gen, r, e);
	if (p->format == OUT_HLS)
		return hlslive_answer(srv, req, (unsigned)index, gen, r, e);
	return view_stream(srv, req, (unsigned)index, gen,
	    p->format == OUT_MP4 ? FANOUT_MP4 : FANOUT_MJPEG, r, e);
}
