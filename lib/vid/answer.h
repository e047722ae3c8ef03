/*
 * vid/answer - the answers vid_run() dispatches to, one file each:
 * still.c (a still at t, t=auto), sprite.c (a sprite and its WebVTT),
 * info.c (the metadata as JSON). Private to lib/vid/.
 * Ownership: v is opened by vid_run() (with a decoder unless info) and
 * closed by it; nothing is written to out before the answer is known.
 */
#ifndef MF_VID_ANSWER_H
#define MF_VID_ANSWER_H

#include "vid/core.h"

int vid_still(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e);
int vid_sprite(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e);
int vid_vtt(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e);
int vid_info(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e);

#endif
