/*
 * slots - a stream slot taken, and the worker turned into a stream
 * process. See slots.h.
 */
#include "streams/slots.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "proc/config.h"
#include "proc/scoreboard.h"

#define RETRY_AFTER_S 5

int
slots_take(const struct server *srv, const struct request *req,
    struct response *r, struct err *e)
{
	const struct config *cfg = srv->cfg;
	struct timeval tv = { .tv_sec = cfg->stream_timeout };
	int sndbuf = (int)cfg->stream_sndbuf;
	sigset_t quit;

	if (srv->sb != NULL &&
	    __atomic_add_fetch(&srv->sb->streams, 1, __ATOMIC_ACQ_REL) >
	    cfg->max_streams) {
		__atomic_sub_fetch(&srv->sb->streams, 1, __ATOMIC_ACQ_REL);
		__atomic_fetch_add(&srv->sb->streams_refused, 1, __ATOMIC_RELAXED);
		(void)response_header(r, "Retry-After", "%d", RETRY_AFTER_S);
		return err_set(e, ERR_NO_SLOT,
		    "all %u stream slots are taken; try again later",
		    cfg->max_streams);
	}
	/* The master gives the slot back when this process ends. */
	if (srv->streamed != NULL)
		*srv->streamed = true;
	alarm(0);
	if (srv->slot != NULL) {
		srv->slot->stream = 1;
		sb_set_state(srv->slot, SB_STREAMING);
		kill(getppid(), SIGUSR2);
	}
	if (req->conn_fd > 0) {
		/* Live viewers skip frames while the web server has not read
		 * the last one (viewers/view.c); a buffer of a whole frame or more
		 * lets each frame go in one system call. */
		if (sndbuf > 0)
			(void)setsockopt(req->conn_fd, SOL_SOCKET, SO_SNDBUF,
			    &sndbuf, sizeof(sndbuf));
		(void)setsockopt(req->conn_fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
		    sizeof(tv));
	}
	/* SIGQUIT (graceful stop, reload) now ends the stream at its next
	 * frame instead of waiting for the request to end. */
	sigemptyset(&quit);
	sigaddset(&quit, SIGQUIT);
	sigprocmask(SIG_UNBLOCK, &quit, NULL);
	(void)response_header(r, "Cache-Control", "no-store");
	(void)response_header(r, "X-Accel-Buffering", "no");
	return 0;
}

