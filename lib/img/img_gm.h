/*
 * img_gm - what the img*.c files share about GraphicsMagick; included by
 * them only (everything else sees img.h, which names no GraphicsMagick
 * type).
 * Ownership: functions taking Image **im replace *im and free the old one.
 */
#ifndef MF_IMG_GM_H
#define MF_IMG_GM_H

#include <stdbool.h>

#include <magick/api.h>

#include "img/img.h"

#define FREEF(f, p) do { if (p) { f(p); (p) = NULL; } } while (0)

/* The one place a GraphicsMagick exception becomes an err (img.c). */
int img_fail(const ExceptionInfo *ex, struct err *e, const char *what);

/* *im = next (freeing the old one), or the error from ex if next is NULL. */
int img_replace(Image **im, Image *next, const ExceptionInfo *ex,
    struct err *e, const char *what);

/*
 * The checks every image job starts with (size limit, empty file, a coder
 * for the source type), then the source mapped read-only (populate: fault
 * it all in at once, for a full decode). 0 with *map set, or the error;
 * the caller munmaps job->size bytes.
 */
int img_map_source(const struct img_job *job, bool populate, void **map,
    struct err *e);

/*
 * The frame limit as ImageInfo.subrange: max_frames + 1, so that a ping or
 * a read stops one frame past the limit (0 when there is none); and the
 * error for a source found over it.
 */
unsigned long img_frames_bound(const struct img_job *job);
int img_frames_over(const struct img_job *job, struct err *e);

/* EXIF orientation 1..8 of a read or pinged image (1 when absent). */
int img_exif_orientation(const Image *im);

/* Whether an output type can carry transparency. */
bool img_type_has_alpha(enum media_type t);

/* img_enc.c: encodes the frames of list (one, or an animation) as the
 * job's output type into out. */
int img_encode(Image *list, const struct img_job *job, struct sink *out,
    struct err *e);

/* img_color.c: makes the built-in sRGB profile (once, after
 * InitializeMagick); converts *im to sRGB when it is CMYK or carries an ICC
 * profile that is not sRGB. */
int img_color_init(void);
int img_to_srgb(Image **im, ExceptionInfo *ex, struct err *e);

/* img_smart.c: where a out_w x out_h cut of im keeps the most detail. */
void img_smart_offset(const Image *im, unsigned out_w, unsigned out_h,
    unsigned *x, unsigned *y);

#endif
