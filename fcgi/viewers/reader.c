/*
 * reader - a live source's reader process, and the master's management of
 * readers. See reader.h.
 */
#include "viewers/reader.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/clock.h"
#include "live/livesrc.h"
#include "proc/child.h"
#include "proc/log.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000
#define STOP_GRACE_MS 2000	/* SIGTERM, then SIGKILL */

/* SIGTERM from the master: the loop ends at the next frame or timeout. */
static volatile sig_atomic_t reader_stop;

static void
on_reader_stop(int sig)
{
	(void)sig;
	reader_stop = 1;
}

void
live_reader_main(const struct config *cfg, const struct source *src,
    struct live *l, unsigned i, uint32_t gen)
{
	/* Readers keep the master's user (a camera device may need it). */
	(void)cfg;
	struct live_ring *r = &l->rings[i];
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

	/* A ring given to another source is not this reader's any more. */
	while (!reader_stop && r->gen == gen) {
		struct livesrc_cfg lc = {
			.input = src->input, .format = src->format,
			.options = src->options, .width = src->width,
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

			while (!reader_stop && r->gen == gen &&
			    (rc = livesrc_next(ls, &jpeg, &len, &pts, &e)) == 0) {
				live_publish(l, i, gen, jpeg, len);
				backoff = 0;
			}
			livesrc_close(ls);
		}
		if (reader_stop || r->gen != gen)
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

static const struct source *
source_named(const struct config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_sources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	return NULL;
}

static void
reader_stop_now(struct live_ring *r, int64_t now, const char *why)
{
	if (r->reader <= 0 || r->stopping_ms)
		return;
	if (why != NULL)
		log_info("source %s: %s, stopping its reader", r->name, why);
	kill(r->reader, SIGTERM);
	r->stopping_ms = now;	/* once; reaped as it exits */
}

void
live_manage(const struct config *cfg, struct live *l,
    int restart[LIVE_RINGS],
    int (*spawn)(void *ctx, unsigned i, const struct source *src), void *ctx)
{
	int64_t now = clock_ms();

	for (unsigned i = 0; i < LIVE_RINGS; i++) {
		struct live_ring *r = &l->rings[i];
		const struct source *src = r->assigned ?
		    source_named(cfg, r->name) : NULL;

		if (r->reader > 0 && r->stopping_ms &&
		    now - r->stopping_ms > STOP_GRACE_MS) {
			kill(r->reader, SIGKILL);
			r->stopping_ms = now;
		}
		if (restart != NULL && restart[i]) {
			restart[i] = 0;
			reader_stop_now(r, now, src ? "changed by the reload" :
			    NULL);
		}
		if (src == NULL) {
			reader_stop_now(r, now, NULL);
			continue;
		}
		if (r->viewers > 0)
			r->last_use_ms = now;
		if (r->reader == 0 && (src->always_on || r->wanted ||
		    r->viewers > 0)) {
			r->wanted = 0;
			r->stopping_ms = 0;
			(void)spawn(ctx, i, src);
			continue;
		}
		if (r->wanted) {
			r->wanted = 0;
			r->last_use_ms = now;
		}
		if (r->reader > 0 && !src->always_on && r->viewers == 0 &&
		    now - r->last_use_ms > (int64_t)src->idle_timeout * 1000) {
			char why[64];

			snprintf(why, sizeof(why), "no viewers for %u s",
			    src->idle_timeout);
			reader_stop_now(r, now, why);
		}
	}
}
