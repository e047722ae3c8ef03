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

#include "img/img.h"
#include "img/img_gm.h"

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

#endif
