/*
 * view - a live source's viewers and snapshots. See view.h.
 */
#include "viewers/view.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "http/conn.h"
#include "proc/config.h"
#include "proc/scoreboard.h"
#include "req/params.h"
#include "streams/slots.h"
#include "viewers/ring.h"

#define SNAPSHOT_WAIT_MS 5000	/* for a source's first frame */

/*
 * Room before and after a frame in a viewer's buffer, so that the part's
 * head, the JPEG and the boundary that ends it go out in one write. The
 * boundary goes with the frame (the stream opened with the first one): a
 * client that shows a part when the next boundary arrives shows this frame
 * now, not one frame later.
 */
#define PART_HEAD_MAX 96
#define PART_TAIL "\r\n--" STREAM_BOUNDARY "\r\n"

static int
send_part(struct response *r, unsigned char *buf, size_t len)
{
	char head[PART_HEAD_MAX];
	int n = snprintf(head, sizeof(head),
	    "Content-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n", len);
	unsigned char *p = buf + PART_HEAD_MAX - n;

	memcpy(p, head, (size_t)n);
	memcpy(buf + PART_HEAD_MAX + len, PART_TAIL, sizeof(PART_TAIL) - 1);
	if (sink_write(&r->body, p, (size_t)n + len + sizeof(PART_TAIL) - 1) < 0 ||
	    response_flush(r) < 0)
		return -1;
	return 0;
}

static int
view_snapshot(const struct server *srv, struct live_ring *ring,
    struct response *r, struct err *e)
{
	unsigned char *buf = malloc(ring->max_frame);
	uint64_t seq = 0;
	ssize_t n;
	int rc;

	if (buf == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	live_want(ring);
	n = live_wait(ring, 0, SNAPSHOT_WAIT_MS, buf, ring->max_frame, &seq,
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
 * A viewer: the newest frame each time the web server has read the last
 * one. A frame that arrives while the previous one is still unread in the
 * connection is skipped, so what waits for a slow viewer is at most one
 * frame here plus the web server's own buffers, and a fast viewer gets each
 * frame in one write. While the source reconnects the viewer waits and
 * resumes.
 */
static int
view_stream(const struct server *srv, const struct request *req,
    unsigned index, struct live_ring *ring, struct response *r,
    struct err *e)
{
	size_t cap = ring->max_frame;
	unsigned char *buf = NULL;
	uint64_t seq = 0;
	int64_t last_sent;
	int rc;

	(void)response_header(r, "Content-Type",
	    "multipart/x-mixed-replace; boundary=" STREAM_BOUNDARY);
	if (r->head)
		return 1;
	if ((rc = slots_take(srv, req, r, e)) < 0)
		return rc;
	if ((buf = malloc(PART_HEAD_MAX + cap + sizeof(PART_TAIL))) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	if (srv->slot != NULL)
		srv->slot->live_source = (int)index + 1;
	live_want(ring);
	/* Headers and the opening boundary at once: the client sees the
	 * stream open before the first frame (which may wait for a
	 * reconnecting source). */
	if (sink_write(&r->body, "--" STREAM_BOUNDARY "\r\n",
	    sizeof("--" STREAM_BOUNDARY "\r\n") - 1) < 0 ||
	    response_flush(r) < 0) {
		rc = err_set(e, ERR_GONE, "client went away");
		goto out;
	}
	last_sent = clock_ms();
	for (;;) {
		ssize_t n = live_wait(ring, seq, 1000, buf + PART_HEAD_MAX, cap,
		    &seq, srv->stop);

		if (n < 0)
			break;
		if (n > 0 && conn_unread(req->conn_fd) == 0) {
			if (send_part(r, buf, (size_t)n) < 0) {
				/* The viewer left (or stalled past
				 * stream_timeout inside the write). */
				rc = 1;
				goto out;
			}
			last_sent = clock_ms();
			continue;
		}
		/* Nothing sent (no frame for a second while the source
		 * reconnects, or the last frame still unread): look whether
		 * the viewer left or has taken nothing for too long. */
		if (conn_is_gone(req->conn_fd) ||
		    clock_ms() - last_sent > (int64_t)srv->cfg->stream_timeout * 1000) {
			rc = 1;
			goto out;
		}
		if (n == 0)
			live_want(ring);
	}
	/* Stopping: a clean end after the last boundary (an empty last
	 * part, which clients skip). */
	(void)sink_write(&r->body, "\r\n--" STREAM_BOUNDARY "--\r\n",
	    sizeof("\r\n--" STREAM_BOUNDARY "--\r\n") - 1);
	rc = 1;
out:
	if (srv->slot != NULL)
		srv->slot->live_source = 0;
	free(buf);
	return rc;
}

int
view_live(const struct server *srv, const struct request *req,
    struct response *r, struct err *e)
{
	const struct config *cfg = srv->cfg;
	const struct params *p = req->params;
	size_t lp = strlen(cfg->live_path), n;
	const char *at;
	char name[40];
	int index;

	/* The router chose this route on the decoded path and gated it. */
	while (lp > 0 && cfg->live_path[lp - 1] == '/')
		lp--;
	at = req->path + lp + 1;
	if ((n = strlen(at)) >= sizeof(name))
		return err_set(e, ERR_NOT_FOUND, "no such live source");
	memcpy(name, at, n + 1);
	if (p->given & ~(P_SNAPSHOT | P_PRESET | P_SIG | P_EXPIRES))
		return err_set(e, ERR_BAD_PARAM, "%s%s%sa live source takes "
		    "only snapshot; its size and rate are set in its [source]",
		    (p->given & P_PRESET) ? "preset " : "",
		    (p->given & P_PRESET) ? p->preset : "",
		    (p->given & P_PRESET) ? ": " : "");
	if ((index = live_find(cfg, name)) < 0 || srv->live == NULL ||
	    (unsigned)index >= srv->live->n)
		return err_set(e, ERR_NOT_FOUND, "no such live source");
	if (p->snapshot)
		return view_snapshot(srv, &srv->live->rings[index], r, e);
	return view_stream(srv, req, (unsigned)index, &srv->live->rings[index],
	    r, e);
}
