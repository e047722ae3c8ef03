/*
 * img_src - the source side that a thumbnail (img.c) and ?info
 * (img_info.c) share: the checks every job starts with, the mapped file,
 * the frame bound, the EXIF orientation. Included by the files of
 * lib/img/ only.
 * Ownership: the caller munmaps what img_src_map() mapped.
 */
#ifndef MF_IMG_SRC_H
#define MF_IMG_SRC_H

#include <stdbool.h>

#include "img/enc.h"
#include "img/job.h"
#include "img/img_gm.h"
#include "req/geom.h"

/*
 * The checks every image job starts with (size limit, empty file, a coder
 * for the source type), then the source mapped read-only (populate: fault
 * it all in at once, for a full decode). 0 with *map set, or the error;
 * the caller munmaps job->size bytes.
 */
int img_src_map(const struct img_job *job, bool populate, void **map,
    struct err *e);

/*
 * The frame limit as ImageInfo.subrange: max_frames + 1, so that a ping or
 * a read stops one frame past the limit (0 when there is none); and the
 * error for a source found over it.
 */
unsigned long img_src_frames_bound(const struct img_job *job);
int img_src_frames_over(const struct img_job *job, struct err *e);

/* EXIF orientation 1..8 of a read or pinged image (1 when absent). */
int img_src_orientation(const Image *im);

/* What img_src_read() learnt, for the steps after it. */
struct img_src_geom {
	unsigned dw, dh;	/* size as shown, before crop/rotate */
	struct geom_plan plan;	/* for enc->type's encoder limits */
};

/*
 * Reads the mapped source data (job->size bytes) into *out: one image, or
 * every frame (coalesced) when an animation is to be kept (GIF to GIF or
 * WebP), or the one frame= names. The ping and the read each stop after
 * max_frames + 1 frames, and each read decodes only the frames it needs
 * (frame=N: GIF frames 0..N, which N is drawn over; another source's page
 * N alone), so the limits hold on what is decoded. A JPEG is decoded at
 * the smallest 1/N scale the plan allows. Fails 400 (crop outside, frame
 * past the end), 413 (limits), 422 (does not decode).
 */
int img_src_read(const struct img_job *job, const struct img_enc *enc,
    const void *data, Image **out, struct img_src_geom *g, ExceptionInfo *ex,
    struct err *e);

#endif
