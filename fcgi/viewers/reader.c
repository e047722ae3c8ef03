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
#include "live/h264pass.h"
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
 * The source's H.264 rendition, made once for every viewer: on while an
 * H.264 viewer or request came within idle_timeout, off (freed)
 * otherwise. An input that already is H.264 (live/h264pass.h) has its
 * packets remuxed; any other, or one whose keyframes come too far
 * apart, has the frames the reader publishes encoded (live/h264live.h).
 * Either way the fragments are published the same way (reader_h264_out).
 */
struct reader_h264 {
	const struct source *src;
	struct live *l;
	unsigned i;
	uint32_t gen;
	struct h264live *enc;
	struct h264pass *pass;
	/* The input's packets decided: pass through (pass, or none while
	 * not wanted) or encode (no_pass, for the rest of the reader). */
	bool decided, no_pass;
	int epoch;		/* of the run in the ring; 0: not started */
	int64_t retry_ms;	/* after a failed start */
};

static void
reader_h264_off(struct reader_h264 *rh, const char *why)
{
	if (rh->enc == NULL && rh->pass == NULL)
		return;
	if (why != NULL)
		log_info("source %s: H.264 %s stopped (%s)", rh->src->name,
		    rh->enc != NULL ? "encoder" : "pass-through", why);
	h264live_free(rh->enc);
	rh->enc = NULL;
	h264pass_free(rh->pass);
	rh->pass = NULL;
	if (rh->epoch > 0)
		live_h264_stop(rh->l, rh->i);
	rh->epoch = 0;
}

/* A fragment made either way: the run started with init, published. */
static void
reader_h264_out(struct reader_h264 *rh, const unsigned char *init,
    size_t ilen, const struct h264live_frag *fr)
{
	if (rh->epoch <= 0) {
		__atomic_store_n(&rh->l->rings[rh->i].h264.remuxed,
		    rh->pass != NULL, __ATOMIC_RELAXED);
		if (init == NULL || (rh->epoch = live_h264_start(rh->l, rh->i,
		    rh->gen, init, ilen)) < 0) {
			log_error("source %s: H.264 init segment over %u bytes",
			    rh->src->name, LIVE_H264_INIT);
			reader_h264_off(rh, NULL);
			rh->no_pass = rh->decided = true;
			rh->retry_ms = clock_ms() + BACKOFF_MAX_MS;
			return;
		}
	}
	live_h264_publish(rh->l, rh->i, rh->gen, (uint32_t)rh->epoch,
	    fr->data, fr->len, fr->key, fr->pts, fr->duration);
}

/* livesrc's packet hook: an H.264 input remuxed while wanted. */
static void
reader_h264_packet(void *ctx, const struct livesrc_packet *lp)
{
	struct reader_h264 *rh = ctx;
	const struct source *src = rh->src;
	struct h264live_frag fr;
	const char *why = NULL;
	struct err e;
	int rc;

	if (rh->no_pass)
		return;
	if (!rh->decided) {
		rh->decided = true;
		if (!lp->as_is)
			why = "its size or rate is not the output's";
		else
			(void)h264pass_takes(lp->par, &why);
		if (why != NULL) {
			rh->no_pass = true;
			/* Said of an H.264 input only: the others never are. */
			if (h264pass_is_h264(lp->par))
				log_info("source %s: H.264 input re-encoded "
				    "(%s)", src->name, why);
			return;
		}
	}
	if (!live_h264_wanted(rh->l, rh->i,
	    (int64_t)src->idle_timeout * 1000)) {
		reader_h264_off(rh, "no H.264 viewers");
		return;
	}
	err_init(&e);
	if (rh->pass == NULL) {
		if ((rh->pass = h264pass_new(lp->par, lp->tb_num, lp->tb_den,
		    lp->rate, &e)) == NULL) {
			log_error("source %s: %s; re-encoding", src->name,
			    e.msg);
			rh->no_pass = true;
			return;
		}
		log_info("source %s: H.264 passed through (remuxed, no "
		    "encoder)", src->name);
	}
	rc = h264pass_push(rh->pass, lp->pkt, &fr, &e);
	if (rc == H264PASS_LONG || rc < 0) {
		if (rc < 0)
			log_error("source %s: %s; re-encoding", src->name,
			    e.msg);
		else
			log_info("source %s: keyframe interval over %.0f s; "
			    "re-encoding", src->name, H264PASS_MAX_GOP);
		reader_h264_off(rh, NULL);
		rh->no_pass = true;
		return;
	}
	if (rc == 1) {
		size_t ilen;
		const unsigned char *init = h264pass_init_segment(rh->pass,
		    &ilen);

		reader_h264_out(rh, init, ilen, &fr);
	}
}

/* A frame the reader published: encoded when the input is not remuxed. */
static void
reader_h264_frame(struct reader_h264 *rh, const unsigned char *jpeg,
    size_t len, uint64_t pts_us)
{
	const struct source *src = rh->src;
	int64_t idle_ms = (int64_t)src->idle_timeout * 1000;
	struct h264live_frag fr;
	struct err e;
	int rc;

	if (!live_h264_wanted(rh->l, rh->i, idle_ms)) {
		reader_h264_off(rh, "no H.264 viewers");
		return;
	}
	/* The packets decide first; remuxed, nothing to do here. */
	if (!rh->no_pass)
		return;
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
		reader_h264_off(rh, NULL);
		rh->retry_ms = clock_ms() + BACKOFF_MAX_MS;
		return;
	}
	if (rc == 0)
		return;
	{
		size_t ilen;
		const unsigned char *init = h264live_init_segment(rh->enc,
		    &ilen);

		reader_h264_out(rh, init, ilen, &fr);
	}
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
	struct reader_h264 rh = { .src = src, .l = l, .i = i, .gen = gen };
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
			.on_packet = reader_h264_packet, .ctx = &rh,
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
				reader_h264_frame(&rh, jpeg, len, pts);
				backoff = 0;
			}
			livesrc_close(ls);
		}
		/* A remux is of that connection's stream: a new one (its
		 * parameter sets may differ) starts a new run. */
		if (rh.pass != NULL)
			reader_h264_off(&rh, "the input ended");
		if (!rh.no_pass)
			rh.decided = false;
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
	reader_h264_off(&rh, "the reader stops");
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
