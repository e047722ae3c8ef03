/*
 * vid_int - what the vid*.c files share: the opened video (sandboxed
 * AVIOContext, demuxer, decoder) and the steps every video answer uses.
 * Included by lib/vid*.c and lib/vstream.c only.
 * Ownership: vid_open() fills a struct vctx the caller owns; vid_close()
 * frees what it holds (safe after a failed vid_open()).
 */
#ifndef MF_VID_INT_H
#define MF_VID_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "req/geom.h"
#include "core/rgb.h"
#include "vid/vid.h"

/* The user's file, read by libav through pread() only. */
struct vio {
	int fd;
	int64_t pos, size;
};

struct vctx {
	struct vio io;
	AVIOContext *pb;
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVStream *st;
	int si;			/* index of the video stream, -1 if none */
	AVPacket *pkt;
	AVFrame *frame, *prev;
	struct SwsContext *sws;
	double duration;	/* seconds; 0 when unknown */
	unsigned rotation;	/* clockwise degrees from the display matrix */
};

/* The one place an AVERROR becomes an err. */
int vid_fail(int averr, struct err *e, const char *what);

/*
 * Opens the job's file through the sandbox; want_decoder opens the video
 * stream's decoder (one thread), full_probe reads ahead for stream info
 * even where the header says enough.
 */
int vid_open(struct vctx *v, const struct vid_job *job, bool want_decoder,
    bool full_probe, struct err *e);
void vid_close(struct vctx *v);

/* Seconds to a timestamp of the video stream (rounded down); one frame's
 * duration in that time base. */
int64_t vid_ts(const struct vctx *v, double sec);
int64_t vid_frame_step(const struct vctx *v);

/* v->frame := the frame shown at sec (see vid.c). */
int vid_frame_at(struct vctx *v, double sec, enum seek_mode mode,
    unsigned max_frames, struct err *e);

/* A pixel aspect ratio counts up to this much either way (see vid.c). */
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

/* v->frame scaled (swscale), turned, flipped, cut or padded into out
 * (allocated here, packed RGB). */
int vid_render(struct vctx *v, const struct params *p,
    const struct geom_plan *plan, unsigned turn, struct rgb *out,
    struct err *e);

#endif
