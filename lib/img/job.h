/*
 * img/job - what an image job is: its source (fd, size, sniffed type), the
 * request's parameters and the limits it runs under. Shared by the image
 * pipeline's parts (img.h, enc.h, the private img_*.h) so that none of
 * them needs another's header for these types.
 */
#ifndef MF_IMG_JOB_H
#define MF_IMG_JOB_H

#include <sys/types.h>

#include "req/params.h"
#include "req/sniff.h"

struct wm;

struct img_limits {
	unsigned long long max_file_size;	/* bytes; 0 = none */
	unsigned long long max_source_pixels;	/* 0 = none */
	unsigned long long max_output_pixels;	/* 0 = none */
	unsigned default_quality;		/* 1..100 */
	unsigned max_frames;			/* of an animation; 0 = none */
	/* format=avif: libavif's speed, 0 (slowest) .. 10 (fastest);
	 * format=jxl: libjxl's effort, 1 (fastest) .. 9 (0 = 1). */
	unsigned avif_speed, jxl_effort;
	/* blur= and sharpen=: multiply-adds one answer may spend; 0 = none */
	unsigned long long max_filter_work;
	/* The configured watermarks wm= names (watermark.h), read-only,
	 * owned by the config; NULL/0 = none. */
	const struct wm *watermarks;
	unsigned n_watermarks;
};

struct img_job {
	const struct params *params;
	int fd;			/* open on the source, positioned anywhere */
	off_t size;		/* its size from fstat */
	enum media_type type;	/* from sniff_type() */
	struct img_limits limits;
};

#endif
