/*
 * img - the image pipeline on GraphicsMagick: sniffed source in, one scaled
 * and encoded image out through a sink. Reads the source from memory mapped
 * from the fd the caller opened, so GraphicsMagick never sees a filename.
 * Ownership: the caller owns the job, the fd (not closed here) and the sink.
 */
#ifndef MF_IMG_H
#define MF_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"
#include "req/params.h"
#include "core/rgb.h"
#include "core/sink.h"
#include "req/sniff.h"

struct img_limits {
	unsigned long long max_file_size;	/* bytes; 0 = none */
	unsigned long long max_source_pixels;	/* 0 = none */
	unsigned long long max_output_pixels;	/* 0 = none */
	unsigned default_quality;		/* 1..100 */
	unsigned max_frames;			/* of an animation; 0 = none */
};

struct img_job {
	const struct params *params;
	int fd;			/* open on the source, positioned anywhere */
	off_t size;		/* its size from fstat */
	enum media_type type;	/* from sniff_type() */
	struct img_limits limits;
};

/*
 * Once per process, after fork: starts GraphicsMagick with one thread, no
 * disk pixel cache, every coder outside the allow-list unregistered and
 * every file or URL access refused. Returns 0 or -1 (logged to stderr).
 */
int img_init(void);
void img_cleanup(void);

/*
 * GraphicsMagick's own limits, a second line behind the checks made from
 * the headers: no image (source or intermediate) of more than max_pixels
 * pixels or wider/taller than max_side is ever allocated by a coder, and
 * pixel memory stays under max_memory bytes (0: no limit); past them the
 * job fails with ERR_TOO_LARGE.
 */
void img_set_limits(unsigned long long max_pixels, unsigned long max_side,
    unsigned long long max_memory);

/* The type the job's output will have (the source's unless format=). */
enum media_type img_output_type(const struct img_job *job);

struct geom_limits;

/*
 * The side limit of the encoder of output type t, into lim->max_side and
 * lim->encoder (JPEG 65500, WebP 16383; PNG and GIF GEOM_MAX_SIDE), for
 * geom_plan_limited().
 */
void img_encoder_limits(enum media_type t, struct geom_limits *lim);

/*
 * Decodes, orients, scales, cuts or pads, strips metadata and encodes the
 * job's source into out. Errors before the first byte is written leave out
 * untouched (out->written == 0); the caller decides what an error after
 * that means. Returns 0 or the negative error with e filled.
 */
int img_thumb(const struct img_job *job, struct sink *out, struct err *e);

/*
 * Writes the source's metadata as JSON: format, width and height as shown
 * (after EXIF orientation), frames, orientation, alpha, colour space, ICC
 * profile present, file size. Reads headers only, and of a multi-frame
 * source no more than max_frames + 1 of them: past max_frames it is
 * ERR_TOO_LARGE, as for a thumbnail.
 */
int img_info(const struct img_job *job, struct sink *out, struct err *e);

/*
 * Encodes a finished frame (already scaled, turned and cut as the output
 * must look) as the job's output type with its quality and filters: the
 * encoder half of img_thumb(), for video stills and sprites. Only
 * job->params and job->limits are used.
 */
int img_encode_rgb(const struct rgb *frame, const struct img_job *job,
    struct sink *out, struct err *e);

#endif
