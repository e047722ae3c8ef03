/*
 * worker - the accept loop.
 *
 * Signals from the master: SIGQUIT asks for a graceful stop (after the
 * request in hand), SIGUSR1 to reopen the logs. Both stay blocked while a
 * request runs and are let in only inside ppoll(), so they are seen
 * exactly between requests, with no window where one is lost or cuts an
 * answer short. SIGTERM keeps its default action: the master uses it (then
 * SIGKILL) on a worker stuck past request_timeout. The worker's own alarm
 * fires first and, if nothing was sent yet, answers 504 before exiting.
 */
#include "proc/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "core/clock.h"
#include "http/conn.h"
#include "http/http.h"
#include "img/img.h"
#include "proc/child.h"
#include "proc/log.h"
#include "route/router.h"
#include "vid/vid.h"

#define HOLD_BYTES (64 * 1024)

static volatile sig_atomic_t stop_requested, reopen_requested;

/*
 * What the SIGALRM handler needs to answer 504 on its own: the connection,
 * whether the answer has started, and the FastCGI records of a 504 for the
 * request in hand, prepared before the alarm can fire (nothing in a signal
 * handler may format or allocate).
 */
static volatile sig_atomic_t timeout_fd = -1;
static const volatile bool *timeout_committed;
static unsigned char timeout_records[512];
static volatile sig_atomic_t timeout_len;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
on_reopen(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

static void
on_alarm(int sig)
{
	(void)sig;
	if (timeout_fd >= 0 && timeout_committed != NULL && !*timeout_committed)
		(void)!write(timeout_fd, timeout_records, (size_t)timeout_len);
	_exit(3);
}

/* STDOUT with the 504 answer, an empty STDOUT, END_REQUEST. */
static void
prepare_timeout(int id, unsigned timeout_s)
{
	char body[256], head[200];
	size_t bl, hl, o = 0;

	bl = http_json_error(body, sizeof(body), 504, "request timed out");
	body[bl++] = '\n';
	hl = (size_t)snprintf(head, sizeof(head), "Status: 504 Gateway Timeout\r\n"
	    "Content-Type: application/json\r\nCache-Control: no-store\r\n"
	    "Content-Length: %zu\r\n\r\n", bl);
	(void)timeout_s;
	conn_record_header(timeout_records + o, FCGI_REC_STDOUT, (unsigned)id,
	    hl + bl);
	o += 8;
	memcpy(timeout_records + o, head, hl);
	o += hl;
	memcpy(timeout_records + o, body, bl);
	o += bl;
	conn_record_header(timeout_records + o, FCGI_REC_STDOUT, (unsigned)id,
	    0);
	o += 8;
	conn_record_header(timeout_records + o, FCGI_REC_END_REQUEST,
	    (unsigned)id, 8);
	o += 8;
	memset(timeout_records + o, 0, 8);
	o += 8;
	timeout_len = (sig_atomic_t)o;
}

/*
 * A large write framed here: what libfcgi holds goes first, then STDOUT
 * records of at most 65528 bytes, each header and its data handed to the
 * kernel in one writev() straight from the caller's buffer (no copy into
 * libfcgi's 8 KiB buffer, one system call per 16 records).
 */
static int
fcgx_write_records(FCGX_Request *fr, const unsigned char *p, size_t len)
{
	enum { REC_MAX = 65528, NREC = 16 };
	unsigned char hdr[NREC][8];
	struct iovec iov[2 * NREC];

	if (FCGX_FFlush(fr->out) < 0)
		return -1;
	while (len > 0) {
		int n = 0, i = 0;

		for (int k = 0; k < NREC && len > 0; k++) {
			size_t c = len < REC_MAX ? len : REC_MAX;

			conn_record_header(hdr[k], FCGI_REC_STDOUT,
			    (unsigned)fr->requestId, c);
			iov[n++] = (struct iovec){ .iov_base = hdr[k], .iov_len = 8 };
			iov[n++] = (struct iovec){ .iov_base = (void *)p, .iov_len = c };
			p += c;
			len -= c;
		}
		while (i < n) {
			ssize_t w = writev(fr->ipcFd, iov + i, n - i);

			if (w < 0) {
				struct pollfd pf = { .fd = fr->ipcFd, .events = POLLOUT };

				if (errno == EAGAIN)
					(void)poll(&pf, 1, -1);
				else if (errno != EINTR)
					return -1;
				continue;
			}
			for (; i < n && (size_t)w >= iov[i].iov_len; i++)
				w -= (ssize_t)iov[i].iov_len;
			if (i < n) {
				iov[i].iov_base = (char *)iov[i].iov_base + w;
				iov[i].iov_len -= (size_t)w;
			}
		}
	}
	return 0;
}

static int
fcgx_write(void *ctx, const void *buf, size_t len)
{
	FCGX_Request *fr = ctx;

	if (len >= 8192)
		return fcgx_write_records(fr, buf, len);
	return FCGX_PutStr(buf, (int)len, fr->out) == (int)len ? 0 : -1;
}

static int
fcgx_flush(void *ctx)
{
	return FCGX_FFlush(((FCGX_Request *)ctx)->out) < 0 ? -1 : 0;
}

static void
worker_serve(const struct server *srv, struct sb_slot *slot, FCGX_Request *fr,
    unsigned char *hold)
{
	const struct config *cfg = srv->cfg;
	struct sink raw = { .write = fcgx_write, .flush = fcgx_flush,
	    .ctx = fr };
	struct request req = { .conn_fd = -1 };
	struct response r;
	struct err e;
	int64_t t0 = clock_ms();
	int status;

	req.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	req.uri = FCGX_GetParam("REQUEST_URI", fr->envp);
	req.if_none_match = FCGX_GetParam("HTTP_IF_NONE_MATCH", fr->envp);
	req.if_modified_since = FCGX_GetParam("HTTP_IF_MODIFIED_SINCE",
	    fr->envp);
	req.accept = FCGX_GetParam("HTTP_ACCEPT", fr->envp);
	req.range = FCGX_GetParam("HTTP_RANGE", fr->envp);
	req.if_range = FCGX_GetParam("HTTP_IF_RANGE", fr->envp);
	req.remote_addr = FCGX_GetParam("REMOTE_ADDR", fr->envp);
	req.conn_fd = fr->ipcFd;
	req.request_id = (unsigned)fr->requestId;
	if (req.method == NULL)
		req.method = "GET";
	if (req.uri == NULL)
		req.uri = "/";
	err_init(&e);
	response_init(&r, &raw, strcmp(req.method, "HEAD") == 0, hold,
	    HOLD_BYTES);
	if (slot != NULL)
		sb_begin(slot, req.method, req.uri);
	if (cfg->request_timeout > 0) {
		prepare_timeout(fr->requestId, cfg->request_timeout);
		timeout_committed = &r.committed;
		timeout_fd = fr->ipcFd;
		alarm(cfg->request_timeout);
	}
	router_handle(srv, &req, &r, &e);
	alarm(0);
	timeout_fd = -1;
	status = r.status;
	if (e.kind != ERR_NONE && http_status_of(e.kind) >= 500) {
		char uri[512];

		log_escape(uri, sizeof(uri), req.uri);
		log_error("%s %s \"%s\": %s", err_kind_name(e.kind), req.method,
		    uri, e.msg);
	}
	if (r.aborted) {
		/* Bytes went out: the client must see a cut answer, so the
		 * connection ends without FastCGI's END_REQUEST. nginx takes
		 * a plain close as the end of the answer (fastcgi_keep_conn
		 * off, or unbuffered) and would finish it cleanly; a record
		 * it cannot parse makes it cut the client's connection too. */
		static const unsigned char bad[8] = { 0xff };

		(void)!write(fr->ipcFd, bad, sizeof(bad));
		shutdown(fr->ipcFd, SHUT_RDWR);
	}
	/* A live viewer's connection is the fan-out's now (its descriptor
	 * here points at /dev/null): libfcgi must not keep it. */
	if (r.handed_off)
		fr->keepConnection = 0;
	if (slot != NULL)
		sb_end(srv->sb, slot, status, e.kind, r.body_bytes);
	log_access(req.remote_addr, req.method, req.uri, status, r.body_bytes,
	    clock_ms() - t0);
}

void
worker_main(const struct config *cfg, int listen_fd, struct scoreboard *sb,
    unsigned index, struct live *live)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct sigaction ra = { .sa_handler = on_reopen };
	struct sigaction aa = { .sa_handler = on_alarm };
	struct sb_slot *slot = sb ? &sb->slots[index] : NULL;
	bool streamed = false;
	struct server srv = { .cfg = cfg, .sb = sb, .slot = slot, .live = live,
	    .rootfd = -1, .streamed = &streamed,
	    .stop = (const volatile int *)&stop_requested };
	sigset_t block, waitmask;
	FCGX_Request fr;
	unsigned char *hold = NULL;
	unsigned long served = 0;

	/* SIGTERM keeps its default: the master's way to end a stuck one. */
	child_signals((const int[]){ SIGTERM, SIGINT, SIGCHLD, 0 },
	    (const int[]){ SIGHUP, SIGPIPE, 0 });
	sigemptyset(&sa.sa_mask);
	sigemptyset(&ra.sa_mask);
	sigemptyset(&aa.sa_mask);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGUSR1, &ra, NULL);
	sigaction(SIGALRM, &aa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGUSR1);
	/* The master blocked everything around fork(); keep only these. */
	sigprocmask(SIG_SETMASK, &block, NULL);
	sigemptyset(&waitmask);

	if (child_drop_privileges(cfg) < 0)
		_exit(2);
	if ((srv.rootfd = open(cfg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_error("cannot open root %s: %s", cfg->root, strerror(errno));
		_exit(2);
	}
	vid_init();
	if ((hold = malloc(HOLD_BYTES)) == NULL || img_init() < 0 ||
	    FCGX_Init() != 0 || FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
		log_error("worker start-up failed");
		_exit(2);
	}
	img_set_limits(cfg->limits.gm_max_pixels, cfg->limits.gm_max_side,
	    cfg->limits.gm_max_memory);
	if (slot != NULL)
		sb_set_state(slot, SB_IDLE);

	while (!stop_requested) {
		struct pollfd pfd[2] = {
			{ .fd = listen_fd, .events = POLLIN },
			{ .fd = fr.ipcFd, .events = POLLIN },
		};
		int rc;

		if (getppid() == 1)
			break;
		rc = ppoll(pfd, fr.ipcFd >= 0 ? 2 : 1, NULL, &waitmask);
		/* Under load ppoll() returns at once, before a pending stop
		 * or reopen gets in: let them in now, between requests. */
		{
			sigset_t pending;

			if (sigpending(&pending) == 0 &&
			    (sigismember(&pending, SIGQUIT) ||
			    sigismember(&pending, SIGUSR1))) {
				sigprocmask(SIG_UNBLOCK, &block, NULL);
				sigprocmask(SIG_BLOCK, &block, NULL);
			}
		}
		if (stop_requested)
			break;
		if (reopen_requested) {
			reopen_requested = 0;
			(void)log_reopen();
		}
		if (rc < 0) {
			if (errno != EINTR)
				log_error("poll: %s", strerror(errno));
			continue;
		}
		if (slot != NULL) {
			/* The clock of request_timeout starts with the read. */
			slot->request_ms = clock_ms();
			sb_set_state(slot, SB_READING);
		}
		rc = FCGX_Accept_r(&fr);
		if (rc < 0) {
			if (slot != NULL)
				sb_set_state(slot, SB_IDLE);
			/* Another worker took the connection. */
			if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR)
				log_warn("accept: %s", strerror(-rc));
			continue;
		}
		worker_serve(&srv, slot, &fr, hold);
		FCGX_Finish_r(&fr);
		served++;
		/* A stream process leaves the pool: the master replaced it. */
		if (streamed)
			break;
		if (cfg->max_requests && served >= cfg->max_requests)
			break;
	}
	FCGX_Free(&fr, 1);
	close(srv.rootfd);
	free(hold);
	_exit(0);
}
