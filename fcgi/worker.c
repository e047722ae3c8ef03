/*
 * worker - the accept loop.
 *
 * Signals: SIGTERM/SIGHUP ask for a graceful stop. They stay blocked while
 * a request runs and are let in only inside ppoll(), so a stop request is
 * seen exactly between requests, with no window where one is lost or cuts
 * an answer short.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "http.h"
#include "img.h"
#include "log.h"
#include "router.h"
#include "vid.h"

#define HOLD_BYTES (64 * 1024)

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int
fcgx_write(void *ctx, const void *buf, size_t len)
{
	FCGX_Stream *out = ctx;

	while (len > 0) {
		int chunk = len > (1u << 30) ? 1 << 30 : (int)len;

		if (FCGX_PutStr(buf, chunk, out) != chunk)
			return -1;
		buf = (const char *)buf + chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

static int
fcgx_flush(void *ctx)
{
	return FCGX_FFlush(ctx) < 0 ? -1 : 0;
}

static void
worker_serve(const struct config *cfg, int rootfd, FCGX_Request *fr,
    unsigned char *hold)
{
	struct sink raw = { .write = fcgx_write, .flush = fcgx_flush,
	    .ctx = fr->out };
	struct request req;
	struct response r;
	struct err e;

	req.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	req.uri = FCGX_GetParam("REQUEST_URI", fr->envp);
	req.if_none_match = FCGX_GetParam("HTTP_IF_NONE_MATCH", fr->envp);
	req.if_modified_since = FCGX_GetParam("HTTP_IF_MODIFIED_SINCE",
	    fr->envp);
	req.accept = FCGX_GetParam("HTTP_ACCEPT", fr->envp);
	if (req.method == NULL)
		req.method = "GET";
	if (req.uri == NULL)
		req.uri = "/";
	err_init(&e);
	response_init(&r, &raw, strcmp(req.method, "HEAD") == 0, hold,
	    HOLD_BYTES);
	router_handle(cfg, rootfd, &req, &r, &e);
	if (e.kind != ERR_NONE && http_status_of(e.kind) >= 500) {
		char uri[512];

		log_escape(uri, sizeof(uri), req.uri);
		log_error("%s \"%s\": %s", err_kind_name(e.kind), uri, e.msg);
	}
	if (r.aborted) {
		/* Bytes went out: the client must see a cut answer, so the
		 * connection ends without FastCGI's END_REQUEST. */
		shutdown(fr->ipcFd, SHUT_RDWR);
	}
}

void
worker_main(const struct config *cfg, int listen_fd)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigset_t block, waitmask;
	FCGX_Request fr;
	unsigned char *hold = NULL;
	unsigned long served = 0;
	int rootfd = -1;

	/* Die with the master; if it is already gone, do not start. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	/* The master blocked everything around fork(); keep only these. */
	sigprocmask(SIG_SETMASK, &block, &waitmask);
	sigemptyset(&waitmask);

	if ((rootfd = open(cfg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_error("cannot open root %s: %s", cfg->root, strerror(errno));
		_exit(2);
	}
	vid_init();
	if ((hold = malloc(HOLD_BYTES)) == NULL || img_init() < 0 ||
	    FCGX_Init() != 0 || FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
		log_error("worker start-up failed");
		_exit(2);
	}

	while (!stop_requested) {
		struct pollfd pfd[2] = {
			{ .fd = listen_fd, .events = POLLIN },
			{ .fd = fr.ipcFd, .events = POLLIN },
		};
		int rc;

		if (getppid() == 1)
			break;
		rc = ppoll(pfd, fr.ipcFd >= 0 ? 2 : 1, NULL, &waitmask);
		if (rc < 0) {
			if (errno != EINTR)
				log_error("poll: %s", strerror(errno));
			continue;
		}
		rc = FCGX_Accept_r(&fr);
		if (rc < 0) {
			/* Another worker took the connection. */
			if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR)
				log_warn("accept: %s", strerror(-rc));
			continue;
		}
		worker_serve(cfg, rootfd, &fr, hold);
		FCGX_Finish_r(&fr);
		served++;
		if (cfg->max_requests && served >= cfg->max_requests)
			break;
	}
	FCGX_Free(&fr, 1);
	close(rootfd);
	free(hold);
	_exit(0);
}
