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
#include "live/h264live.h"
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

/*
 * The source's H.264 rendition, one encoder for every viewer: on while
 * an H.264 viewer or request came within idle_timeout, fed each frame
 * the reader publishes; off (freed) otherwise.
 */
struct reader_h264 {
	struct h264live *enc;
	int epoch;		/* of the run in the ring; 0: not started */
	int64_t retry_ms;	/* after a failed start */
};

static void
reader_h264_off(struct reader_h264 *rh, const struct source *src,
    struct live *l, unsigned i, const char *why)
{
	if (rh->enc == NULL)
		return;
	h264live_free(rh->enc);
	rh->enc = NULL;
	if (rh->epoch > 0)
		live_h264_stop(l, i);
	rh->epoch = 0;
	if (why != NULL)
		log_info("source %s: H.264 encoder stopped (%s)", src->name,
		    why);
}

static void
reader_h264_frame(struct reader_h264 *rh, const struct source *src,
    struct live *l, unsigned i, uint32_t gen, const unsigned char *jpeg,
    size_t len, uint64_t pts_us)
{
	int64_t idle_ms = (int64_t)src->idle_timeout * 1000;
	struct h264live_frag fr;
	struct err e;
	int rc;

	if (!live_h264_wanted(l, i, idle_ms)) {
		reader_h264_off(rh, src, l, i, "no H.264 viewers");
		return;
	}
	err_init(&e);
	if (rh->enc == NULL) {
		struct h264live_cfg hc = {
			.width = 0, .height = 0,	/* the JPEGs' own */
			.fps = src->fps, .quality = src->quality,
		};

		if (clock_ms() < rh->retry_ms)
			return;
		if ((rh->enc = h264live_new(&hc, &e)) == NULL) {
			log_error("source %s: no H.264 encoder: %s", src->name,
			    e.msg);
			rh->retry_ms = clock_ms() + BACKOFF_MAX_MS;
			return;
		}
		log_info("source %s: H.264 encoder started", src->name);
	}
	rc = h264live_push(rh->enc, jpeg, len, (int64_t)pts_us, &fr, &e);
	if (rc < 0) {
		if (e.kind == ERR_UNDECODABLE)
			return;		/* this frame only */
		log_error("source %s: H.264: %s", src->name, e.msg);
		reader_h264_off(rh, src, l, i, NULL);
		rh->retry_ms = clock_ms() + BACKOFF_MAX_MS;
		return;
	}
	if (rc == 0)
		return;
	if (rh->epoch <= 0) {
		size_t ilen;
		const unsigned char *init = h264live_init_segment(rh->enc,
		    &ilen);

		if (init == NULL || (rh->epoch = live_h264_start(l, i, gen,
		    init, ilen)) < 0) {
			log_error("source %s: H.264 init segment over %u bytes",
			    src->name, LIVE_H264_INIT);
			reader_h264_off(rh, src, l, i, NULL);
			rh->retry_ms = clock_ms() + BACKOFF_MAX_MS;
			return;
		}
	}
	live_h264_publish(l, i, gen, (uint32_t)rh->epoch, fr.data, fr.len,
	    fr.key, fr.pts, fr.duration);
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
	struct reader_h264 rh = { .enc = NULL };
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
				reader_h264_frame(&rh, src, l, i, gen, jpeg,
				    len, pts);
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
	reader_h264_off(&rh, src, l, i, "the reader stops");
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
