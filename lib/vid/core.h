/*
 * vid/core - the one video core: what stills, sprites, info, file streams
 * (MJPEG, transcodes) and live sources share. Each step exists once:
 *   open.c    the sandboxed open of a user's file, the decoder (pixel cap)
 *   seek.c    the seek-back ladder and MPEG-TS byte-0 start
 *   decode.c  the ordered decode loop: the next frame, damaged packets and
 *             corrupt frames skipped, packets of other streams handed on
 *   play.c    a file played in order from a point (file streams)
 *   at.c      the frame shown at t (stills, sprites, t=auto)
 *   plan.c    frames through the one pixel planner (geom_plan_limited)
 *   scale.c   the one swscale path: to planned RGB, to an encoder's format
 *   pace.c    the fps cap on a 1/fps grid and the pacer (core/clock)
 * Included by lib/vid/, lib/stream/ and lib/live/ only.
 * Ownership: vid_open() fills a struct vctx the caller owns; vid_close()
 * frees what it holds (safe after a failed vid_open() and on a zeroed one).
 */
#ifndef MF_VID_CORE_H
#define MF_VID_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "core/err.h"
#include "core/rgb.h"
#include "core/sink.h"
#include "img/img.h"
#include "req/geom.h"
#include "vid/vid.h"

/* ---- open.c ---- */

/* The user's file, read by libav through pread() only. */
struct vio {
	int fd;
	int64_t pos, size;
};

struct vctx {
	struct vio io;
	AVIOContext *pb;	/* NULL when libav opened the input (live) */
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVStream *st;
	int si;			/* index of the video stream, -1 if none */
	AVPacket *pkt;
	AVFrame *frame, *prev;
	struct SwsContext *sws;
	int sws_flags;		/* of vid_render(); vid_open(): accurate */
	double duration;	/* seconds; 0 when unknown */
	unsigned rotation;	/* clockwise degrees from the display matrix */
	/* Decode work: pixels of the frames decoded so far, and the most the
	 * answer may decode (0: no bound; vid_run() sets it for stills and
	 * sprites). vid_read_frame() charges and checks it. */
	unsigned long long decoded_px, max_decoded_px;
};

/* The one place an AVERROR of a user's file becomes an err. */
int vid_fail(int averr, struct err *e, const char *what);

/*
 * Opens the job's file through the sandbox; want_decoder opens the video
 * stream's decoder (one thread), full_probe reads ahead for stream info
 * even where the header says enough.
 */
int vid_open(struct vctx *v, const struct vid_job *job, bool want_decoder,
    bool full_probe, struct err *e);
void vid_close(struct vctx *v);

/*
 * *dec := the decoder of st: one thread (processes are the unit of
 * parallelism), frames over max_pixels refused by the decoder before it
 * allocates them (0: no cap). 0, AVERROR_DECODER_NOT_FOUND or another
 * AVERROR; *dec is the caller's either way (avcodec_free_context()).
 */
int vid_decoder_open(const AVStream *st, int64_t max_pixels,
    AVCodecContext **dec);

/* Clockwise degrees the display matrix of st turns the picture. */
unsigned vid_rotation(const AVStream *st);

/* ---- seek.c ---- */

/* Seconds to a timestamp of the video stream (rounded down); one frame's
 * duration in that time base; a timestamp to seconds. */
int64_t vid_ts(const struct vctx *v, double sec);
int64_t vid_frame_step(const struct vctx *v);
double vid_seconds_of(const struct vctx *v, int64_t ts);

/* The last rung of the ladder: the file's start. */
#define VID_SEEK_FROM_START	4u

/*
 * Rung *attempt of the seek-back ladder for a frame at target: 0 the
 * keyframe at or before it, 1..3 that 2, 8 and 32 s earlier (an index-less
 * MPEG-TS or a damaged keyframe lands a seek late), VID_SEEK_FROM_START the
 * start (byte 0 for MPEG-TS, where a search by timestamp may not reach
 * back that far). A rung at or before the start is the start: *attempt
 * says which was taken. The decoder is flushed. 0 or an AVERROR.
 */
int vid_seek(struct vctx *v, int64_t target, unsigned *attempt);

/*
 * The demuxer put before the keyframe at key (a timestamp the index
 * holds), preroll seconds earlier where the container allows, so that
 * packets of other streams stored ahead of that keyframe are read too
 * (a remux's audio); the decoder is flushed. 0 or an AVERROR.
 */
int vid_seek_keyframe(struct vctx *v, int64_t key, double preroll);

/* ---- decode.c ---- */

/* What a packet hook answers for a packet read. */
enum vid_pkt { VID_PKT_DECODE, VID_PKT_DROP, VID_PKT_TAKE };

/* vid_read_frame()'s answers besides 0 (a frame) and errors. */
enum { VID_END = 1, VID_PACKET = 2 };

struct vid_reader {
	struct vctx *v;		/* v->dec may be NULL until a packet needs it */
	/* Packets of the video stream ending at or before it are not needed
	 * unless others refer to them (AVDISCARD_NONREF); INT64_MIN: none. */
	int64_t skip_before;
	bool keys_only;		/* only keyframes decoded (seek=key) */
	bool draining;		/* the demuxer ended: the decoder empties */
	int64_t last_pkt_pts;	/* highest video packet pts read; INT64_MIN */
	/*
	 * Each packet read, before anything else: VID_PKT_DECODE (the
	 * video stream's go to the decoder, others are dropped), _DROP,
	 * _TAKE (left in v->pkt for the caller: VID_PACKET), or a negative
	 * error. NULL: every video packet decoded, the others dropped.
	 */
	int (*on_packet)(void *ctx, AVPacket *pkt, struct err *e);
	/* A libav error: reading (read true; answering 0 makes it the end
	 * of the input) or decoding. NULL: vid_fail(). */
	int (*fail)(void *ctx, int averr, bool read, struct err *e);
	void *ctx;
};

/* A reader of v from wherever its demuxer stands. */
void vid_reader_init(struct vid_reader *r, struct vctx *v);

/* After a seek: the decoder flushed, nothing draining. */
void vid_reader_reset(struct vid_reader *r);

/*
 * v->frame := the next decoded frame of the video stream that is not
 * marked corrupt (damaged packets are skipped as players do). 0;
 * VID_END when the stream has ended and the decoder is empty; VID_PACKET
 * when on_packet took one; or the negative error.
 */
int vid_read_frame(struct vid_reader *r, struct err *e);

/* ---- play.c ---- */

/* The video decoded in order from a point: a file stream's source. */
struct vid_play {
	struct vctx v;
	struct vid_reader r;
	int64_t target;		/* frames that end at or before it are skipped */
	int64_t step;		/* one frame's duration (stream time base) */
	int64_t last_pts;	/* of the last frame out; INT64_MIN: none */
	unsigned skipped;	/* frames decoded and skipped since the seek */
	unsigned max_skip;	/* limits.max_decode_frames; 0 = none */
	unsigned attempt;	/* the ladder's rung (vid_seek()) */
	bool fresh;		/* nothing decoded since the seek */
};

int vid_play_open(struct vid_play *s, const struct vid_job *job,
    struct err *e);
void vid_play_close(struct vid_play *s);

/* From sec on: the keyframe at or before it, frames before it skipped. */
int vid_play_seek(struct vid_play *s, double sec, struct err *e);

/*
 * v.frame := the next frame that does not end before the target, its
 * best_effort_timestamp filled in and increasing. 0, VID_END, or the
 * error. A seek that landed late goes down the ladder on its own.
 */
int vid_play_next(struct vid_play *s, struct err *e);

/* ---- at.c ---- */

/*
 * v->frame := the frame shown at sec (SEEK_ACCURATE: the one whose
 * presentation interval holds sec; past the end, the last one) or the
 * keyframe at or before sec (SEEK_KEY), decoding at most max_frames from
 * the keyframe.
 */
int vid_frame_at(struct vctx *v, double sec, enum seek_mode mode,
    unsigned max_frames, struct err *e);

/* ---- plan.c ---- */

/* A pixel aspect ratio counts up to this much either way (see plan.c). */
#define VID_MAX_SAR 16

/*
 * The pixel aspect ratio frames of v are shown with: the container's or
 * the stream's, else frame f's (f may be NULL: the header's only).
 */
AVRational vid_sar(const struct vctx *v, const AVFrame *f);

/*
 * The limits of a still, a sprite or an MJPEG part of p: the output pixel
 * limit of il and the side limit of the image encoder p asks for (the
 * caller adds tiles for a sprite).
 */
void vid_geom_limits(const struct params *p, const struct img_limits *il,
    struct geom_limits *gl);

/*
 * The output plan for frames of w x h with sar (clamped to VID_MAX_SAR),
 * through geom_plan_limited() within lim, and the total turn (display
 * matrix + rotate=) in degrees. 0, or ERR_TOO_LARGE naming the limit.
 */
int vid_plan(const struct vctx *v, const struct params *p,
    const struct geom_limits *lim, unsigned w, unsigned h, AVRational sar,
    struct geom_plan *plan, unsigned *turn, struct err *e);

/* ---- scale.c ---- */

/*
 * v->frame scaled (swscale, v->sws_flags), turned, flipped, cut or padded
 * (p->bg) into out (allocated here, packed RGB).
 */
int vid_render(struct vctx *v, const struct params *p,
    const struct geom_plan *plan, unsigned turn, struct rgb *out,
    struct err *e);

/*
 * v->frame rendered (vid_render()) and encoded as enc says into out: a
 * still, an MJPEG part, a live source's frame.
 */
int vid_encode_frame(struct vctx *v, const struct params *p,
    const struct geom_plan *plan, unsigned turn, const struct img_enc *enc,
    struct sink *out, struct err *e);

/*
 * Pixels of w x h in fmt (planes src, strides stride) scaled into dst,
 * an allocated frame of the encoder's size and format, through the cached
 * context *sws (the caller frees it).
 */
int vid_scale_into(struct SwsContext **sws, const uint8_t *const src[],
    const int stride[], int w, int h, int fmt, AVFrame *dst, int flags,
    struct err *e);

/* ---- pace.c ---- */

/*
 * fps cap: frames are kept on a grid of 1/fps slots, so the rate over any
 * stretch is at most fps while a 25 fps source capped at 10 still gives
 * 10 (keeping only frames 1/fps after the last one kept would give 8.3).
 */
struct vid_fps {
	double period;		/* 1/fps; 0: no cap */
	double next_slot;
};

void vid_fps_init(struct vid_fps *c, double fps);
/* Whether the frame at t (seconds on the output's schedule) is kept. */
bool vid_fps_keep(struct vid_fps *c, double t);

/*
 * The pacer: frames at media times, passes (a loop starts the media
 * again) laid end to end on one schedule against core/clock.
 */
struct vid_pace {
	double origin;		/* clock_s() of schedule 0; NAN: not started */
	double base;		/* schedule time of the pass's first frame */
	double pass_first;	/* media time of the pass's first frame; NAN */
	double end;		/* schedule time where the last frame ends */
	unsigned pass_frames;	/* frames placed in this pass */
	struct vid_fps fps;
};

void vid_pace_init(struct vid_pace *pc, double fps);

/*
 * Places the frame at media time sec lasting dur on the schedule (*t) and
 * says whether the fps cap keeps it.
 */
bool vid_pace_place(struct vid_pace *pc, double sec, double dur, double *t);

/* A new pass: the media starts again where the last frame ended. */
void vid_pace_loop(struct vid_pace *pc);

/* The schedule starts now at t (the first frame is ready to go). */
void vid_pace_start(struct vid_pace *pc, double t);

/*
 * Sleeps until the frame at schedule time t is due, in slices of 100 ms
 * so *stop (may be NULL) is seen with or without a signal. Late by more
 * than VID_MAX_LATE (the client stopped reading, the disk stalled) the
 * schedule moves instead: a viewer sees the video pause where it
 * stalled, never fast-forward through the gap; lateness below it is
 * caught up by not sleeping.
 */
#define VID_MAX_LATE	1.0	/* seconds */
void vid_pace_wait(struct vid_pace *pc, double t, const volatile int *stop);

#endif
