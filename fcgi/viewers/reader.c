/*
 * reader - a live source's reader process, and the master's management of
 * readers. See reader.h.
 */
#include "viewers/reader.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/clock.h"
#include "live/livesrc.h"
#include "proc/child.h"
#include "proc/log.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000

/* SIGTERM from the master: the loop ends at the next frame or timeout. */
static volatile sig_atomic_t reader_stop;

static void
on_reader_stop(int sig)
{
	(void)sig;
	reader_stop = 1;
}

void
live_reader_main(const struct config *cfg, struct live *l, unsigned index)
{
	const struct source *src = &cfg->sources[index];
	struct live_ring *r = &l->rings[index];
	struct sigaction sa = { .sa_handler = on_reader_stop };
	unsigned backoff = 0;
	sigset_t none;

	child_signals((const int[]){ SIGINT, SIGCHLD, 0 },
	    (const int[]){ SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, 0 });
	prctl(PR_SET_NAME, "mediafcgi-live");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (livesrc_init() < 0) {
		log_error("source %s: cannot start its decoder", src->name);
		_exit(2);
	}

	while (!reader_stop) {
		struct livesrc_cfg lc = {
			.input = src->input, .width = src->width,
			.height = src->height, .quality = src->quality,
			.fps = src->fps,
			.stop = (const volatile int *)&reader_stop,
		};
		struct livesrc *ls;
		struct err e;
		int rc = 0;

		err_init(&e);
		if ((ls = livesrc_open(&lc, &e)) != NULL) {
			const unsigned char *jpeg;
			size_t len;
			uint64_t pts;

			while (!reader_stop &&
			    (rc = livesrc_next(ls, &jpeg, &len, &pts, &e)) == 0) {
				live_publish(r, jpeg, len);
				backoff = 0;
			}
			livesrc_close(ls);
		}
		if (reader_stop)
			break;
		/* Input gone: try again, waiting longer each time. */
		backoff = backoff ? (backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
		    backoff * 2) : BACKOFF_MIN_MS;
		__atomic_fetch_add(&r->reconnects, 1, __ATOMIC_RELAXED);
		log_warn("source %s: %s; reconnecting in %u ms", src->name,
		    rc == 1 ? "input ended" : e.msg, backoff);
		for (unsigned w = 0; w < backoff && !reader_stop; w += 50)
			usleep(50000);
	}
	_exit(0);
}

void
live_manage(const struct config *cfg, struct live *l, unsigned viewers[],
    int (*spawn)(void *ctx, unsigned index), void *ctx)
{
	int64_t now = clock_ms();

	for (unsigned i = 0; i < l->n && i < cfg->n_sources; i++) {
		struct live_ring *r = &l->rings[i];
		const struct source *src = &cfg->sources[i];

		if (viewers[i] > 0)
			r->last_use_ms = now;
		if (r->reader == 0 && (src->always_on || r->wanted)) {
			r->wanted = 0;
			(void)spawn(ctx, i);
			continue;
		}
		if (r->wanted) {
			r->wanted = 0;
			r->last_use_ms = now;
		}
		if (r->reader > 0 && !src->always_on && viewers[i] == 0 &&
		    now - r->last_use_ms > (int64_t)src->idle_timeout * 1000) {
			log_info("source %s: no viewers for %u s, stopping its reader",
			    src->name, src->idle_timeout);
			kill(r->reader, SIGTERM);
			r->last_use_ms = now;	/* once; reaped as it exits */
		}
	}
}

