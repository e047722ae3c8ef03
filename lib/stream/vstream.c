/*
 * vstream - MJPEG streams and progressive transcodes of a user's file. See
 * vstream.h for the contract.
 *
 * Both read the video in order from `start` (struct vsrc): a seek to the
 * keyframe at or before it, then decoding forward, skipping the frames
 * that end before it. Frames are scaled as stills are (vid_plan and
 * vid_render, or swscale straight to the encoder's format when nothing
 * but a scale is asked for). JPEG goes through img_encode_rgb(), the
 * encoder of every other JPEG the server writes: on the 640x360 RGB
 * frames vid_render() makes it costs 1.45 ms of CPU, libavcodec's mjpeg
 * encoder 0.85 ms plus 1.15 ms to convert to the YUVJ420P it takes, and
 * with it q means what it means for stills.
 */
#include "stream/vstream.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "core/rgb.h"
#include "vid/vid_int.h"

#define OUT_AVIO_BUF	(64 * 1024)
/*
 * A transcode's frames: at most the largest frame of H.264 level 5.2
 * (36864 macroblocks, 4096x2304), what browsers decode; the encoders keep
 * a few dozen frames in flight (x264's lookahead, VP8's reference
 * buffers), so this bounds a stream's memory, not only the picture's.
 * Sides: libx264 refuses more than 16384, libvpx's VP8 more than 16383.
 */
#define VT_MAX_PIXELS		(36864ull * 256)
#define VT_MAX_SIDE_H264	16384u
#define VT_MAX_SIDE_VP8		16383u
#define BOUNDARY_MAX	70	/* RFC 2046 */
/*
 * MJPEG: a frame later than this (the client stopped reading, the disk
 * stalled) moves the schedule instead of being caught up: a viewer sees
 * the video pause where it stalled, never fast-forward through the gap.
 * Lateness below it is caught up by not sleeping.
 */
#define MAX_LATE	1.0	/* seconds */
/* Transcodes: a keyframe, so an MP4 fragment, every 2 s. */
#define GOP_SECONDS	2
#define AUDIO_MAX_CH	64	/* input channels a transcode accepts */

const char *
vstream_mime(enum out_format f)
{
	switch (f) {
	case OUT_MJPEG: return "multipart/x-mixed-replace";
	case OUT_MP4: return "video/mp4";
	case OUT_WEBM: return "video/webm";
	default: return NULL;
	}
}

static bool
stopped(const volatile int *stop)
{
	return stop != NULL && *stop != 0;
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps until due (CLOCK_MONOTONIC seconds). A signal ends the sleep
 * early only when it set *stop. */
static void
sleep_until(double due, const volatile int *stop)
{
	struct timespec ts;
	double s = floor(due);

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((due - s) * 1e9);
	if (ts.tv_nsec > 999999999)
		ts.tv_nsec = 999999999;
	while (!stopped(stop) &&
	    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * The video decoded in order from a point: what both answers share.
 */
struct vsrc {
	struct vctx v;
	int64_t target;		/* frames that end at or before it are skipped */
	int64_t first;		/* the stream's first timestamp */
	int64_t step;		/* one frame's duration (stream time base) */
	int64_t last_pts;	/* of the last frame out; INT64_MIN: none */
	unsigned skipped;	/* frames decoded and skipped since the seek */
	unsigned max_skip;	/* limits.max_decode_frames; 0 = none */
	bool draining;		/* the demuxer ended: the decoder empties */
	bool fresh;		/* nothing decoded since the seek */
	unsigned attempt;	/* of the seek (vsrc_goto()) */
	bool byte_zero;		/* the start is found at byte 0 (MPEG-TS) */
	/* Packets of the other streams (a transcode's audio); NULL: dropped. */
	int (*other)(void *ctx, const AVPacket *pkt, struct err *e);
	void *other_ctx;
};

static int
vsrc_open(struct vsrc *s, const struct vstream_job *job, struct err *e)
{
	struct vid_job vj = {
		.params = job->params, .fd = job->fd, .size = job->size,
		.type = job->type, .limits = job->limits,
	};
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = vid_open(&s->v, &vj, true, false, e)) < 0)
		return rc;
	s->first = s->v.st->start_time != AV_NOPTS_VALUE ?
	    s->v.st->start_time : 0;
	s->step = vid_frame_step(&s->v);
	s->max_skip = job->limits.max_decode_frames;
	s->byte_zero = job->type == MT_MPEGTS;
	return 0;
}

static double
vsrc_seconds(const struct vsrc *s, int64_t ts)
{
	return (double)ts * av_q2d(s->v.st->time_base);
}

/*
 * Seeks for the target: attempt 0 goes to the keyframe at or before it;
 * a seek that lands after it (MPEG-TS has no index; a damaged keyframe)
 * or finds nothing is tried again 2, 8 and 32 s earlier and finally from
 * the file's start, as vid_frame_at() does for stills. A target at the
 * start goes straight there.
 */
static const double seek_back[] = { 0, 2, 8, 32 };
#define SEEK_FROM_ZERO (sizeof(seek_back) / sizeof(*seek_back))

static int
vsrc_goto(struct vsrc *s, unsigned attempt, struct err *e)
{
	struct vctx *v = &s->v;
	int64_t at = s->target;
	int rc;

	avcodec_flush_buffers(v->dec);
	v->dec->skip_frame = AVDISCARD_DEFAULT;
	s->draining = false;
	s->fresh = true;
	s->last_pts = INT64_MIN;
	s->skipped = 0;
	if (attempt < SEEK_FROM_ZERO)
		at -= (int64_t)(seek_back[attempt] / av_q2d(v->st->time_base));
	if (at <= s->first)
		attempt = SEEK_FROM_ZERO;
	s->attempt = attempt;
	/* MPEG-TS: a search by timestamp may land past the first keyframe,
	 * byte 0 is the start. (Not for the others: Matroska takes a byte
	 * seek and then fails on its EBML header.) */
	if (attempt == SEEK_FROM_ZERO) {
		if (s->byte_zero &&
		    av_seek_frame(v->fmt, -1, 0, AVSEEK_FLAG_BYTE) >= 0)
			return 0;
		at = s->first;
	}
	if ((rc = av_seek_frame(v->fmt, v->si, at, AVSEEK_FLAG_BACKWARD)) < 0)
		rc = av_seek_frame(v->fmt, v->si, at,
		    AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_ANY);
	return rc < 0 ? vid_fail(rc, e, "video does not seek") : 0;
}

static int
vsrc_seek(struct vsrc *s, double sec, struct err *e)
{
	s->target = vid_ts(&s->v, sec > 0 ? sec : 0);
	return vsrc_goto(s, 0, e);
}

/*
 * v.frame := the next frame that does not end before the target, its
 * best_effort_timestamp filled in. 0, 1 at the end of the stream, or the
 * error. Packets of other streams go to s->other on the way.
 */
static int
vsrc_next(struct vsrc *s, struct err *e)
{
	struct vctx *v = &s->v;
	int rc;

	for (;;) {
		rc = avcodec_receive_frame(v->dec, v->frame);
		if (rc == 0) {
			AVFrame *f = v->frame;
			int64_t pts = f->best_effort_timestamp;
			int64_t dur = f->pkt_duration > 0 ? f->pkt_duration :
			    s->step;

			if (f->flags & AV_FRAME_FLAG_CORRUPT) {
				av_frame_unref(f);
				continue;
			}
			if (pts == AV_NOPTS_VALUE)
				pts = s->last_pts != INT64_MIN ?
				    s->last_pts + s->step : s->target;
			f->best_effort_timestamp = pts;
			/* The seek landed after the target: earlier. */
			if (s->fresh && s->attempt < SEEK_FROM_ZERO &&
			    pts > s->target) {
				av_frame_unref(f);
				if ((rc = vsrc_goto(s, s->attempt + 1, e)) < 0)
					return rc;
				continue;
			}
			s->fresh = false;
			if (pts + dur <= s->target) {
				av_frame_unref(f);
				if (s->max_skip && ++s->skipped > s->max_skip)
					return err_set(e, ERR_TOO_LARGE, "start: "
					    "more than %u frames to decode from "
					    "the keyframe", s->max_skip);
				continue;
			}
			/* A repeated timestamp would go back in time. */
			if (pts <= s->last_pts) {
				av_frame_unref(f);
				continue;
			}
			s->last_pts = pts;
			return 0;
		}
		if (rc == AVERROR_EOF && s->fresh &&
		    s->attempt < SEEK_FROM_ZERO) {
			/* Nothing decoded from there to the end. */
			if ((rc = vsrc_goto(s, s->attempt + 1, e)) < 0)
				return rc;
			continue;
		}
		if (rc == AVERROR_EOF)
			return 1;
		if (rc != AVERROR(EAGAIN))
			return vid_fail(rc, e, "video does not decode");
		if (s->draining)
			return 1;

		rc = av_read_frame(v->fmt, v->pkt);
		if (rc == AVERROR_EOF) {
			s->draining = true;
			(void)avcodec_send_packet(v->dec, NULL);
			continue;
		}
		if (rc < 0)
			return vid_fail(rc, e, "video does not decode");
		if (v->pkt->stream_index != v->si) {
			rc = s->other ? s->other(s->other_ctx, v->pkt, e) : 0;
			av_packet_unref(v->pkt);
			if (rc < 0)
				return rc;
			continue;
		}
		/* A non-reference frame that ends before the target is
		 * neither shown nor needed by a frame that is. */
		v->dec->skip_frame = v->pkt->pts != AV_NOPTS_VALUE &&
		    !(v->pkt->flags & AV_PKT_FLAG_KEY) &&
		    v->pkt->pts + (v->pkt->duration > 0 ? v->pkt->duration :
		    s->step) <= s->target ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
		rc = avcodec_send_packet(v->dec, v->pkt);
		av_packet_unref(v->pkt);
		/* A damaged packet is skipped as players do. */
		if (rc < 0 && rc != AVERROR_INVALIDDATA && rc != AVERROR(EAGAIN))
			return vid_fail(rc, e, "video does not decode");
	}
}

static int
check_start(const struct vsrc *s, const struct params *p, struct err *e)
{
	if (p->start > 0 && s->v.duration > 0 && p->start >= s->v.duration)
		return err_set(e, ERR_BAD_PARAM,
		    "start: %.3f s is past the end of the video (%.3f s)",
		    p->start, s->v.duration);
	return 0;
}

/*
 * fps cap: frames are kept on a grid of 1/fps slots, so the rate over any
 * stretch is at most fps while a 25 fps source capped at 10 still gives
 * 10 (keeping only frames 1/fps after the last one kept would give 8.3).
 * t: the frame's time on the output's schedule, seconds.
 */
static bool
fps_keep(double period, double *next_slot, double t)
{
	if (period <= 0)
		return true;
	if (t + 1e-6 < *next_slot)
		return false;
	*next_slot += period;
	/* A gap in the source leaves no backlog of slots behind it. */
	if (*next_slot <= t)
		*next_slot = t + period;
	return true;
}

/* ---- format=mjpeg ---- */

static bool
boundary_ok(const char *b)
{
	size_t n = b ? strlen(b) : 0;

	if (n == 0 || n > BOUNDARY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?", b[i]))
			return false;
	return true;
}

static int
write_part(struct sink *out, const char *boundary, const struct membuf *jpeg)
{
	char head[BOUNDARY_MAX + 96];
	int n = snprintf(head, sizeof(head), "--%s\r\nContent-Type: image/jpeg"
	    "\r\nContent-Length: %zu\r\n\r\n", boundary, jpeg->len);

	if (sink_write(out, head, (size_t)n) < 0 ||
	    sink_write(out, jpeg->data, jpeg->len) < 0 ||
	    sink_write(out, "\r\n", 2) < 0 || sink_flush(out) < 0)
		return -1;
	return 0;
}

static int
write_close(struct sink *out, const char *boundary)
{
	char tail[BOUNDARY_MAX + 8];
	int n = snprintf(tail, sizeof(tail), "--%s--\r\n", boundary);

	if (sink_write(out, tail, (size_t)n) < 0 || sink_flush(out) < 0)
		return -1;
	return 0;
}

/* The schedule of an MJPEG stream, in seconds. */
struct pace {
	double origin;		/* CLOCK_MONOTONIC time of schedule 0 */
	double base;		/* schedule time of the pass's first frame */
	double pass_first;	/* media time of the pass's first frame; NAN */
	double end;		/* schedule time where the last frame ends */
	double next_slot;	/* fps cap */
	unsigned pass_frames;
};

/* Waits until the frame at schedule time t is due; late past MAX_LATE,
 * the schedule moves instead. */
static void
pace_wait(struct pace *pc, double t, const volatile int *stop)
{
	double due = pc->origin + t, now = mono_now();

	if (now - due > MAX_LATE)
		pc->origin += now - due;
	else if (due > now)
		sleep_until(due, stop);
}

int
vstream_mjpeg(const struct vstream_job *job, const char *boundary,
    struct sink *out, struct err *e)
{
	struct params p = *job->params;
	struct img_job ij = { .params = &p, .type = MT_JPEG,
	    .limits = job->limits.img };
	struct pace pc = { .pass_first = NAN };
	double period = p.fps > 0 ? 1.0 / p.fps : 0;
	struct membuf jpeg;
	struct rgb frame = { 0 };
	struct geom_limits gl;
	struct geom_plan plan;
	struct sink js;
	struct vsrc s;
	unsigned turn = 0, parts = 0;
	bool planned = false;
	int rc;

	/* Each frame is a still: the JPEG encoder's own format. */
	p.format = OUT_JPEG;
	membuf_init(&jpeg);
	memset(&s, 0, sizeof(s));
	if (!boundary_ok(boundary)) {
		rc = err_set(e, ERR_INTERNAL, "bad multipart boundary");
		goto out;
	}
	if ((rc = vsrc_open(&s, job, e)) < 0 ||
	    (rc = check_start(&s, &p, e)) < 0 ||
	    (rc = vsrc_seek(&s, p.start, e)) < 0)
		goto out;
	while (!stopped(job->stop)) {
		AVFrame *f = s.v.frame;
		double sec, dur, t;

		if ((rc = vsrc_next(&s, e)) < 0)
			goto out;
		if (rc == 1) {
			/* A pass that showed nothing would loop for ever. */
			if (!p.loop || pc.pass_frames == 0)
				break;
			pc.base = pc.end;
			pc.pass_first = NAN;
			pc.pass_frames = 0;
			if ((rc = vsrc_seek(&s, p.start, e)) < 0)
				goto out;
			continue;
		}
		sec = vsrc_seconds(&s, f->best_effort_timestamp);
		dur = vsrc_seconds(&s, f->pkt_duration > 0 ? f->pkt_duration :
		    s.step);
		if (isnan(pc.pass_first))
			pc.pass_first = sec;
		t = pc.base + (sec - pc.pass_first);
		pc.end = t + dur;
		pc.pass_frames++;
		if (!fps_keep(period, &pc.next_slot, t)) {
			av_frame_unref(f);
			continue;
		}
		if (!planned) {
			/* Before the first part: a 413 is still an answer. */
			vid_geom_limits(&p, &job->limits.img, &gl);
			if ((rc = vid_plan(&s.v, &p, &gl, (unsigned)f->width,
			    (unsigned)f->height, vid_sar(&s.v, f), &plan, &turn,
			    e)) < 0)
				goto out;
			planned = true;
		}
		rc = vid_render(&s.v, &p, &plan, turn, &frame, e);
		av_frame_unref(f);
		if (rc < 0)
			goto out;
		jpeg.len = 0;
		sink_init_membuf(&js, &jpeg);
		rc = img_encode_rgb(&frame, &ij, &js, e);
		rgb_free(&frame);
		if (rc < 0)
			goto out;
		/* The clock starts when the first frame is ready to go. */
		if (parts == 0)
			pc.origin = mono_now() - t;
		else
			pace_wait(&pc, t, job->stop);
		if (stopped(job->stop))
			break;
		if (write_part(out, boundary, &jpeg) < 0) {
			rc = err_set(e, ERR_GONE, "client went away");
			goto out;
		}
		parts++;
	}
	if (parts == 0 && !stopped(job->stop)) {
		rc = err_set(e, ERR_UNDECODABLE,
		    "video does not decode: no frame");
		goto out;
	}
	rc = write_close(out, boundary) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 0;
out:
	rgb_free(&frame);
	membuf_cleanup(&jpeg);
	vid_close(&s.v);
	return rc;
}

/* ---- format=mp4, format=webm ---- */

struct vt_audio {
	int si;			/* the input's audio stream, -1: none */
	AVStream *in, *st;
	AVCodecContext *dec, *enc;
	SwrContext *swr;
	AVChannelLayout swr_layout;	/* the input the resampler is set for */
	int swr_fmt, swr_rate;
	AVAudioFifo *fifo;	/* resampled samples waiting for a whole frame */
	AVFrame *frame, *out;
	uint8_t **buf;		/* resampler output */
	int buf_cap;
	int64_t next_pts;	/* of the next sample out, 1/sample_rate */
	bool started;
};

struct vt {
	const struct vstream_job *job;
	struct params p;
	struct vsrc src;
	struct sink *out;
	bool gone;		/* a sink write failed */
	size_t flushed;		/* out->written at the last sink_flush() */
	AVFormatContext *ofmt;
	AVIOContext *pb;
	AVCodecContext *venc;
	AVStream *vst;
	struct SwsContext *sws;
	AVFrame *yuv;
	AVPacket *pkt;
	struct geom_plan plan;
	unsigned turn;
	bool direct;		/* a scale only: swscale straight to YUV */
	double t0;		/* where the output starts, file time (s) */
	int64_t last_vpts;
	double period, next_slot;
	struct vt_audio a;
};

static int
vt_write(void *opaque, uint8_t *buf, int len)
{
	struct vt *t = opaque;

	if (sink_write(t->out, buf, (size_t)len) < 0) {
		t->gone = true;
		return AVERROR(EPIPE);
	}
	return len;
}

/* A libav error while writing: the client gone, or the encoder's fault. */
static int
vt_fail(const struct vt *t, int averr, struct err *e, const char *what)
{
	if (t->gone)
		return err_set(e, ERR_GONE, "client went away");
	(void)vid_fail(averr, e, what);
	/* The user's file decoded; what failed is ours. */
	e->kind = ERR_INTERNAL;
	return -(int)ERR_INTERNAL;
}

/* One sink_flush() per fragment or cluster: the muxers hand their bytes
 * to the AVIOContext only when one is complete. */
static int
vt_flush(struct vt *t, struct err *e)
{
	if (t->gone)
		return err_set(e, ERR_GONE, "client went away");
	if (t->out->written == t->flushed)
		return 0;
	t->flushed = t->out->written;
	if (sink_flush(t->out) < 0) {
		t->gone = true;
		return err_set(e, ERR_GONE, "client went away");
	}
	return 0;
}

/* Sends frame (NULL: the end) to enc and muxes what comes out. */
static int
vt_encode(struct vt *t, AVCodecContext *enc, AVStream *st,
    const AVFrame *frame, struct err *e)
{
	int rc = avcodec_send_frame(enc, frame);

	if (rc < 0 && rc != AVERROR_EOF)
		return vt_fail(t, rc, e, "encode");
	while ((rc = avcodec_receive_packet(enc, t->pkt)) == 0) {
		av_packet_rescale_ts(t->pkt, enc->time_base, st->time_base);
		t->pkt->stream_index = st->index;
		if ((rc = av_interleaved_write_frame(t->ofmt, t->pkt)) < 0)
			return vt_fail(t, rc, e, "mux");
		if ((rc = vt_flush(t, e)) < 0)
			return rc;
	}
	if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
		return 0;
	return vt_fail(t, rc, e, "encode");
}

static int
vt_open_output(struct vt *t, struct err *e)
{
	const char *name = t->p.format == OUT_WEBM ? "webm" : "mp4";
	unsigned char *buf;
	int rc;

	if ((rc = avformat_alloc_output_context2(&t->ofmt, NULL, name,
	    NULL)) < 0)
		return vt_fail(t, rc, e, "muxer");
	if ((buf = av_malloc(OUT_AVIO_BUF)) == NULL ||
	    (t->pb = avio_alloc_context(buf, OUT_AVIO_BUF, 1, t, NULL, vt_write,
	    NULL)) == NULL) {
		av_free(buf);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	/* No seek callback: the muxers write forward only. */
	t->ofmt->pb = t->pb;
	t->ofmt->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_FLUSH_PACKETS;
	if ((t->pkt = av_packet_alloc()) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	return 0;
}

static unsigned
even(unsigned n)
{
	return n < 2 ? 2 : n & ~1u;
}

static int
vt_open_video(struct vt *t, struct err *e)
{
	struct vctx *v = &t->src.v;
	const AVCodecParameters *par = v->st->codecpar;
	bool webm = t->p.format == OUT_WEBM;
	const AVCodec *codec = avcodec_find_encoder_by_name(webm ? "libvpx" :
	    "libx264");
	AVRational sar = vid_sar(v, NULL);
	AVRational fr = v->st->avg_frame_rate;
	struct geom_limits gl = { 0 };
	unsigned q = t->p.quality ? t->p.quality :
	    t->job->limits.img.default_quality;
	AVCodecContext *c;
	AVDictionary *o = NULL;
	double fps;
	int rc;

	if (codec == NULL)
		return err_set(e, ERR_INTERNAL, "no %s encoder",
		    webm ? "VP8" : "H.264");
	if (q == 0 || q > 100)
		q = 80;
	/* The plan from the header: the muxer's header comes before any
	 * frame is decoded; a frame of another size is scaled into it.
	 * What the encoder takes bounds it (see VT_MAX_PIXELS). */
	gl.max_output_pixels = t->job->limits.img.max_output_pixels &&
	    t->job->limits.img.max_output_pixels < VT_MAX_PIXELS ?
	    t->job->limits.img.max_output_pixels : VT_MAX_PIXELS;
	gl.max_side = webm ? VT_MAX_SIDE_VP8 : VT_MAX_SIDE_H264;
	gl.encoder = webm ? "VP8" : "H.264";
	if ((rc = vid_plan(v, &t->p, &gl, (unsigned)par->width,
	    (unsigned)par->height, sar, &t->plan, &t->turn, e)) < 0)
		return rc;
	t->direct = t->turn == 0 && !t->p.flip_h && !t->p.flip_v &&
	    t->plan.finish == GEOM_NONE;
	if (fr.num <= 0 || fr.den <= 0)
		fr = v->st->r_frame_rate;
	if (fr.num <= 0 || fr.den <= 0 || av_q2d(fr) > 240)
		fr = (AVRational){ 25, 1 };
	if (t->period > 0 && av_q2d(fr) > t->p.fps)
		fr = av_d2q(t->p.fps, 1001000);
	fps = av_q2d(fr);

	if ((t->venc = c = avcodec_alloc_context3(codec)) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	/* Sides <= VT_MAX_SIDE_*: the plan said so. */
	c->width = (int)even(t->plan.out_w);
	c->height = (int)even(t->plan.out_h);
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	c->time_base = v->st->time_base;
	c->framerate = fr;
	c->gop_size = (int)fmax(1, lround(GOP_SECONDS * fps));
	/* Processes are the unit of parallelism. */
	c->thread_count = 1;
	if (t->ofmt->oformat->flags & AVFMT_GLOBALHEADER)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if (webm) {
		/* Constant quality under a bitrate ceiling; q 80 -> crf 31. */
		c->bit_rate = (int64_t)(c->width * (double)c->height * fps *
		    0.25);
		c->qmin = 4;
		c->qmax = 63;
		av_dict_set(&o, "deadline", "realtime", 0);
		av_dict_set(&o, "cpu-used", "8", 0);
		av_dict_set(&o, "lag-in-frames", "0", 0);
		av_dict_set_int(&o, "crf", lround(63 - q * 0.4), 0);
	} else {
		/* q 80 -> crf 23, x264's own default. */
		av_dict_set(&o, "preset", "veryfast", 0);
		av_dict_set_int(&o, "crf", lround(51 - q * 0.35), 0);
	}
	rc = avcodec_open2(c, codec, &o);
	av_dict_free(&o);
	if (rc < 0)
		return vt_fail(t, rc, e, "video encoder");
	if ((t->vst = avformat_new_stream(t->ofmt, NULL)) == NULL ||
	    (t->yuv = av_frame_alloc()) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	if ((rc = avcodec_parameters_from_context(t->vst->codecpar, c)) < 0)
		return vt_fail(t, rc, e, "video encoder");
	t->vst->time_base = c->time_base;
	t->vst->avg_frame_rate = fr;
	t->yuv->format = c->pix_fmt;
	t->yuv->width = c->width;
	t->yuv->height = c->height;
	if ((rc = av_frame_get_buffer(t->yuv, 0)) < 0)
		return vt_fail(t, rc, e, "frame");
	return 0;
}

static bool
rate_supported(const AVCodec *c, int rate)
{
	if (c->supported_samplerates == NULL)
		return true;
	for (const int *r = c->supported_samplerates; *r; r++)
		if (*r == rate)
			return true;
	return false;
}

static enum AVSampleFormat
pick_sample_fmt(const AVCodec *c)
{
	if (c->sample_fmts == NULL)
		return AV_SAMPLE_FMT_FLTP;
	for (const enum AVSampleFormat *f = c->sample_fmts; *f != -1; f++)
		if (*f == AV_SAMPLE_FMT_FLTP || *f == AV_SAMPLE_FMT_FLT)
			return *f;
	return c->sample_fmts[0];
}

static void
vt_audio_free(struct vt_audio *a)
{
	avcodec_free_context(&a->dec);
	avcodec_free_context(&a->enc);
	swr_free(&a->swr);
	av_channel_layout_uninit(&a->swr_layout);
	if (a->fifo)
		av_audio_fifo_free(a->fifo);
	a->fifo = NULL;
	av_frame_free(&a->frame);
	av_frame_free(&a->out);
	if (a->buf)
		av_freep(&a->buf[0]);
	av_freep(&a->buf);
}

/*
 * Audio is kept when it decodes and an encoder is there; anything wrong
 * with it (a codec libav lacks, a layout of more than AUDIO_MAX_CH
 * channels) drops it: the video is what was asked for. Called before the
 * muxer's header; an error only for memory.
 */
static int
vt_open_audio(struct vt *t, struct err *e)
{
	struct vt_audio *a = &t->a;
	AVFormatContext *in = t->src.v.fmt;
	bool webm = t->p.format == OUT_WEBM;
	const AVCodec *dc, *ec;
	AVCodecParameters *par;
	int ch;

	a->si = av_find_best_stream(in, AVMEDIA_TYPE_AUDIO, -1, t->src.v.si,
	    NULL, 0);
	if (a->si < 0)
		goto drop;
	a->in = in->streams[a->si];
	par = a->in->codecpar;
	ch = par->ch_layout.nb_channels;
	ec = webm ? avcodec_find_encoder_by_name("libopus") :
	    avcodec_find_encoder_by_name("aac");
	if (ec == NULL && webm)
		ec = avcodec_find_encoder_by_name("libvorbis");
	if ((dc = avcodec_find_decoder(par->codec_id)) == NULL || ec == NULL ||
	    ch <= 0 || ch > AUDIO_MAX_CH || par->sample_rate <= 0)
		goto drop;
	if ((a->dec = avcodec_alloc_context3(dc)) == NULL ||
	    (a->enc = avcodec_alloc_context3(ec)) == NULL ||
	    (a->frame = av_frame_alloc()) == NULL ||
	    (a->out = av_frame_alloc()) == NULL)
		goto nomem;
	if (avcodec_parameters_to_context(a->dec, par) < 0)
		goto drop;
	a->dec->thread_count = 1;
	a->dec->pkt_timebase = a->in->time_base;
	if (avcodec_open2(a->dec, dc, NULL) < 0)
		goto drop;

	a->enc->sample_rate = rate_supported(ec, par->sample_rate) ?
	    par->sample_rate : 48000;
	a->enc->sample_fmt = pick_sample_fmt(ec);
	av_channel_layout_default(&a->enc->ch_layout, ch > 2 ? 2 : ch);
	a->enc->bit_rate = 64000 * (ch > 2 ? 2 : ch);
	a->enc->time_base = (AVRational){ 1, a->enc->sample_rate };
	a->enc->thread_count = 1;
	if (t->ofmt->oformat->flags & AVFMT_GLOBALHEADER)
		a->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if (avcodec_open2(a->enc, ec, NULL) < 0)
		goto drop;
	if ((a->st = avformat_new_stream(t->ofmt, NULL)) == NULL)
		goto nomem;
	if (avcodec_parameters_from_context(a->st->codecpar, a->enc) < 0)
		goto nomem;
	a->st->time_base = a->enc->time_base;

	a->out->format = a->enc->sample_fmt;
	a->out->sample_rate = a->enc->sample_rate;
	a->out->nb_samples = a->enc->frame_size > 0 ? a->enc->frame_size : 1024;
	if (av_channel_layout_copy(&a->out->ch_layout, &a->enc->ch_layout) < 0 ||
	    av_frame_get_buffer(a->out, 0) < 0 ||
	    (a->fifo = av_audio_fifo_alloc(a->enc->sample_fmt,
	    a->enc->ch_layout.nb_channels, a->out->nb_samples * 4)) == NULL)
		goto nomem;
	return 0;
nomem:
	vt_audio_free(a);
	a->si = -1;
	return err_set(e, ERR_INTERNAL, "out of memory");
drop:
	/* The muxer's stream is added last, so none is left behind. */
	vt_audio_free(a);
	a->si = -1;
	return 0;
}

/* The resampler, set up (again) for the input frame f. */
static int
vt_audio_swr(struct vt_audio *a, const AVFrame *f)
{
	AVChannelLayout in;
	int rc;

	if (a->swr != NULL && a->swr_fmt == f->format &&
	    a->swr_rate == f->sample_rate &&
	    av_channel_layout_compare(&a->swr_layout, &f->ch_layout) == 0)
		return 0;
	swr_free(&a->swr);
	av_channel_layout_uninit(&a->swr_layout);
	if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
		av_channel_layout_default(&in, f->ch_layout.nb_channels);
	else if ((rc = av_channel_layout_copy(&in, &f->ch_layout)) < 0)
		return rc;
	rc = swr_alloc_set_opts2(&a->swr, &a->enc->ch_layout,
	    a->enc->sample_fmt, a->enc->sample_rate, &in, f->format,
	    f->sample_rate, 0, NULL);
	av_channel_layout_uninit(&in);
	if (rc < 0 || (rc = swr_init(a->swr)) < 0)
		return rc;
	a->swr_fmt = f->format;
	a->swr_rate = f->sample_rate;
	return av_channel_layout_copy(&a->swr_layout, &f->ch_layout);
}

/* Resamples into the fifo (n input samples from in; NULL: the
 * resampler's tail). */
static int
vt_audio_convert(struct vt *t, const uint8_t **in, int n, struct err *e)
{
	struct vt_audio *a = &t->a;
	int max = swr_get_out_samples(a->swr, n), got;

	if (max <= 0)
		return 0;
	if (max > a->buf_cap) {
		if (a->buf)
			av_freep(&a->buf[0]);
		av_freep(&a->buf);
		a->buf_cap = 0;
		if (av_samples_alloc_array_and_samples(&a->buf, NULL,
		    a->enc->ch_layout.nb_channels, max, a->enc->sample_fmt,
		    0) < 0)
			return err_set(e, ERR_INTERNAL, "out of memory");
		a->buf_cap = max;
	}
	if ((got = swr_convert(a->swr, a->buf, max, in, n)) < 0)
		return vt_fail(t, got, e, "resample");
	if (got > 0 && av_audio_fifo_write(a->fifo, (void **)a->buf, got) < got)
		return err_set(e, ERR_INTERNAL, "out of memory");
	return 0;
}

/*
 * A decoded audio frame: samples before t0 cut off, the first kept one
 * placed at its time after t0, the rest counted on from there (the
 * encoders want a gapless run of samples).
 */
static int
vt_audio_frame(struct vt *t, const AVFrame *f, struct err *e)
{
	struct vt_audio *a = &t->a;
	const uint8_t *in[AUDIO_MAX_CH];
	int ch = f->ch_layout.nb_channels, skip = 0, rc;
	bool planar = av_sample_fmt_is_planar(f->format);
	int bps = av_get_bytes_per_sample(f->format);

	if (ch <= 0 || ch > AUDIO_MAX_CH || f->sample_rate <= 0 || bps <= 0)
		return 0;
	if (f->best_effort_timestamp != AV_NOPTS_VALUE) {
		double at = f->best_effort_timestamp * av_q2d(a->in->time_base);

		if (at < t->t0) {
			double cut = (t->t0 - at) * f->sample_rate;

			if (cut >= f->nb_samples)
				return 0;
			skip = (int)cut;
		}
		if (!a->started)
			a->next_pts = llround(fmax(0, at + (double)skip /
			    f->sample_rate - t->t0) * a->enc->sample_rate);
	}
	a->started = true;
	if ((rc = vt_audio_swr(a, f)) < 0)
		return vt_fail(t, rc, e, "resample");
	for (int i = 0; i < (planar ? ch : 1); i++)
		in[i] = f->extended_data[i] +
		    (size_t)skip * bps * (planar ? 1 : (size_t)ch);
	return vt_audio_convert(t, in, f->nb_samples - skip, e);
}

static int
vt_audio_decoded(struct vt *t, struct err *e)
{
	struct vt_audio *a = &t->a;
	int rc;

	while ((rc = avcodec_receive_frame(a->dec, a->frame)) == 0) {
		rc = vt_audio_frame(t, a->frame, e);
		av_frame_unref(a->frame);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* vsrc's hook: the audio stream's packets decoded into the fifo. */
static int
vt_audio_packet(void *ctx, const AVPacket *pkt, struct err *e)
{
	struct vt *t = ctx;

	if (t->a.enc == NULL || pkt->stream_index != t->a.si)
		return 0;
	/* A damaged packet is skipped as players do. */
	if (avcodec_send_packet(t->a.dec, pkt) < 0)
		return 0;
	return vt_audio_decoded(t, e);
}

/* Encodes whole frames from the fifo; final: the rest too. */
static int
vt_audio_pump(struct vt *t, bool final, struct err *e)
{
	struct vt_audio *a = &t->a;
	int fs = a->enc ? a->out->nb_samples : 0, rc;
	bool short_ok = a->enc && (a->enc->codec->capabilities &
	    (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE));

	while (a->enc && (av_audio_fifo_size(a->fifo) >= fs ||
	    (final && av_audio_fifo_size(a->fifo) > 0))) {
		int n = av_audio_fifo_size(a->fifo);

		if (n > fs)
			n = fs;
		if ((rc = av_frame_make_writable(a->out)) < 0)
			return vt_fail(t, rc, e, "audio");
		a->out->nb_samples = fs;
		if (n < fs)
			av_samples_set_silence(a->out->extended_data, n, fs - n,
			    a->enc->ch_layout.nb_channels, a->enc->sample_fmt);
		if (av_audio_fifo_read(a->fifo, (void **)a->out->extended_data,
		    n) < n)
			return err_set(e, ERR_INTERNAL, "audio fifo");
		if (n < fs && short_ok)
			a->out->nb_samples = n;
		a->out->pts = a->next_pts;
		a->next_pts += a->out->nb_samples;
		rc = vt_encode(t, a->enc, a->st, a->out, e);
		a->out->nb_samples = fs;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The end of the audio: the decoder's and resampler's tails, the last
 * partial frame, the encoder's delay. */
static int
vt_audio_finish(struct vt *t, bool at_eof, struct err *e)
{
	struct vt_audio *a = &t->a;
	int rc;

	if (a->enc == NULL)
		return 0;
	if (at_eof && avcodec_send_packet(a->dec, NULL) == 0 &&
	    (rc = vt_audio_decoded(t, e)) < 0)
		return rc;
	if (a->swr != NULL && (rc = vt_audio_convert(t, NULL, 0, e)) < 0)
		return rc;
	if ((rc = vt_audio_pump(t, true, e)) < 0)
		return rc;
	return vt_encode(t, a->enc, a->st, NULL, e);
}

/* One decoded frame (t->src.v.frame): capped, scaled, encoded. */
static int
vt_video_frame(struct vt *t, struct err *e)
{
	struct vctx *v = &t->src.v;
	AVFrame *f = v->frame;
	AVCodecContext *c = t->venc;
	double sec = vsrc_seconds(&t->src, f->best_effort_timestamp);
	const uint8_t *const *src = (const uint8_t *const *)f->data;
	const int *stride = f->linesize;
	int sw = f->width, sh = f->height, sfmt = f->format, rgb_stride;
	struct rgb rgb = { 0 };
	int64_t pts;
	int rc;

	if (!fps_keep(t->period, &t->next_slot, sec - t->t0))
		return 0;
	/* The frame on screen at start begins the output. */
	pts = llround(fmax(0, sec - t->t0) / av_q2d(c->time_base));
	if (pts <= t->last_vpts)
		return 0;
	if (!t->direct) {
		/* Turned, mirrored, cut or padded as a still is, then to YUV. */
		if ((rc = vid_render(v, &t->p, &t->plan, t->turn, &rgb, e)) < 0)
			goto out;
		rgb_stride = (int)rgb.stride;	/* <= RGB_MAX_STRIDE */
		src = (const uint8_t *const *)&rgb.px;
		stride = &rgb_stride;
		sw = (int)rgb.w;
		sh = (int)rgb.h;
		sfmt = AV_PIX_FMT_RGB24;
	}
	t->sws = sws_getCachedContext(t->sws, sw, sh, sfmt, c->width,
	    c->height, c->pix_fmt, SWS_BICUBIC, NULL, NULL, NULL);
	if (t->sws == NULL) {
		rc = err_set(e, ERR_UNDECODABLE, "cannot scale pixel format %s",
		    av_get_pix_fmt_name(sfmt) ? av_get_pix_fmt_name(sfmt) : "?");
		goto out;
	}
	if ((rc = av_frame_make_writable(t->yuv)) < 0) {
		rc = vt_fail(t, rc, e, "frame");
		goto out;
	}
	sws_scale(t->sws, src, stride, 0, sh, t->yuv->data, t->yuv->linesize);
	t->last_vpts = pts;
	t->yuv->pts = pts;
	rc = vt_encode(t, c, t->vst, t->yuv, e);
out:
	rgb_free(&rgb);
	return rc;
}

int
vstream_transcode(const struct vstream_job *job, struct sink *out,
    struct err *e)
{
	AVDictionary *opts = NULL;
	struct vt t;
	bool at_eof = false;
	int rc;

	memset(&t, 0, sizeof(t));
	t.job = job;
	t.p = *job->params;
	t.out = out;
	t.flushed = out->written;
	t.last_vpts = INT64_MIN;
	t.a.si = -1;
	t.period = t.p.fps > 0 ? 1.0 / t.p.fps : 0;
	if (t.p.format != OUT_MP4 && t.p.format != OUT_WEBM) {
		rc = err_set(e, ERR_BAD_PARAM, "format: not a transcode");
		goto out;
	}
	if ((rc = vsrc_open(&t.src, job, e)) < 0 ||
	    (rc = check_start(&t.src, &t.p, e)) < 0 ||
	    (rc = vt_open_output(&t, e)) < 0 ||
	    (rc = vt_open_video(&t, e)) < 0 ||
	    (rc = vt_open_audio(&t, e)) < 0)
		goto out;
	t.src.other = vt_audio_packet;
	t.src.other_ctx = &t;
	if ((rc = vsrc_seek(&t.src, t.p.start, e)) < 0)
		goto out;
	t.t0 = vsrc_seconds(&t.src, t.src.target);
	/* Nothing is written before the first frame decodes. */
	if ((rc = vsrc_next(&t.src, e)) < 0)
		goto out;
	if (rc == 1) {
		rc = err_set(e, ERR_UNDECODABLE,
		    "video does not decode: no frame");
		goto out;
	}
	if (t.p.format == OUT_MP4)
		av_dict_set(&opts, "movflags",
		    "frag_keyframe+empty_moov+default_base_moof", 0);
	rc = avformat_write_header(t.ofmt, &opts);
	av_dict_free(&opts);
	if (rc < 0) {
		rc = vt_fail(&t, rc, e, "mux");
		goto out;
	}
	if ((rc = vt_flush(&t, e)) < 0)
		goto out;
	for (;;) {
		rc = vt_video_frame(&t, e);
		av_frame_unref(t.src.v.frame);
		if (rc < 0 || (rc = vt_audio_pump(&t, false, e)) < 0)
			goto out;
		if (stopped(job->stop))
			break;
		if ((rc = vsrc_next(&t.src, e)) < 0)
			goto out;
		if (rc == 1) {
			at_eof = true;
			break;
		}
	}
	if ((rc = vt_audio_finish(&t, at_eof, e)) < 0 ||
	    (rc = vt_encode(&t, t.venc, t.vst, NULL, e)) < 0)
		goto out;
	if ((rc = av_write_trailer(t.ofmt)) < 0) {
		rc = vt_fail(&t, rc, e, "mux");
		goto out;
	}
	avio_flush(t.pb);
	rc = vt_flush(&t, e);
out:
	vt_audio_free(&t.a);
	avcodec_free_context(&t.venc);
	sws_freeContext(t.sws);
	av_frame_free(&t.yuv);
	av_packet_free(&t.pkt);
	avformat_free_context(t.ofmt);
	if (t.pb != NULL) {
		av_freep(&t.pb->buffer);
		avio_context_free(&t.pb);
	}
	vid_close(&t.src.v);
	return rc;
}
