/*
 * venc - the video encoder of a transcode, one for format=mp4 and
 * format=webm (transcode.c) and for format=hls's transcoded segments
 * (hls.c): the planner's size within what the encoder takes, q -> crf,
 * one thread; and a decoded frame scaled into it (straight from the
 * decoder's format when nothing but a scale is asked for, else through
 * vid_render()) and encoded. Private to lib/stream/.
 * Ownership: what venc_open() makes is t's (struct vt, transcode.h) and
 * freed by t's owner: t->venc, t->yuv, t->sws (t->vst is t->ofmt's).
 */
#ifndef MF_VENC_H
#define MF_VENC_H

#include <stdint.h>

#include "stream/transcode.h"

/*
 * The plan of v's frames for p (VP8 for format=webm, else H.264) within
 * what the encoder takes: job's output pixel limit, at most the largest
 * frame of H.264 level 5.2, the codec's longest side.
 */
int venc_plan(const struct vctx *v, const struct vid_job *job,
    const struct params *p, struct geom_plan *plan, unsigned *turn,
    struct err *e);

/*
 * Opens t->venc for t->src.v and t->p (VP8 for format=webm, else H.264)
 * at the video's frame rate (capped by t->fps), a keyframe every
 * gop_seconds; adds its stream to t->ofmt (t->vst) and allocates the
 * frame it takes (t->yuv, padding cleared); sets t->plan, t->turn and
 * t->direct. t->ofmt must be open, its header not yet written.
 */
int venc_open(struct vt *t, double gop_seconds, struct err *e);

/*
 * t->src.v.frame scaled into t->yuv and encoded (vt_encode()) at pts, in
 * t->venc's time base; a pts at or before the last frame's is dropped
 * (0). t->last_vpts is the last pts encoded.
 */
int venc_frame(struct vt *t, int64_t pts, struct err *e);

#endif
