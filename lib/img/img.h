/*
 * img - the image pipeline on GraphicsMagick: sniffed source in, one scaled
 * and encoded image out through a sink. Reads the source from memory mapped
 * from the fd the caller opened, so GraphicsMagick never sees a filename.
 * Ownership: the caller owns the job, the fd (not closed here) and the sink.
 *
 * The encoder's half (struct img_enc, img_enc_from_params(),
 * img_output_type(), img_encoder_limits()) is implemented in img_enc.c,
 * the process setup in img_init.c, ?info in img_info.c, the rest in
 * img.c. The img_*.h headers beside this one are private to lib/img/ and
 * may name GraphicsMagick types; none of them is included by this one.
 */
#ifndef MF_IMG_H
#define MF_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
 * What the encoders read: the output type and its options, taken from the
 * request and the limits once (img_enc_from_params()), so that no encoder
 * looks at the URL. Also what img_encode_rgb_opts() finishes a frame with
 * (filters, the colour alpha is flattened onto).
 */
struct img_enc {
	/* MT_JPEG, MT_PNG, MT_WEBP or MT_GIF; MT_UNKNOWN when the format is
	 * not an image (vtt, a stream), which no encoder takes. */
	enum media_type type;
	unsigned quality;	/* 1..100: q=, else the configured default */
	uint32_t bg;		/* 0xRRGGBB: padding, and under flattened alpha */
	bool has_bg;		/* bg= given: contain pads with bg even where
				 * the type could leave the padding clear */
	double blur, sharpen;	/* sigma of the filters; 0 = off */
};

/*
 * The encoder options of a request: format= mapped to an output type (of
 * OUT_SOURCE, src's own when browsers show it, else JPEG), q= or
 * lim->default_quality, bg=, blur=, sharpen=.
 */
void img_enc_from_params(const struct params *p, enum media_type src,
    const struct img_limits *lim, struct img_enc *enc);

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

/* The type the job's output will have (the source's unless format=):
 * img_enc_from_params()'s type, for callers that need no more. */
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
 * must look) as enc says: filters, alpha flattened, the type's encoder at
 * its quality. The encoder half of img_thumb(), for video stills, sprites,
 * streams and live sources. Fails with ERR_BAD_PARAM when enc->type is not
 * an image format.
 */
int img_encode_rgb_opts(const struct rgb *frame, const struct img_enc *enc,
    struct sink *out, struct err *e);

/*
 * compatibility: callers move to img_encode_rgb_opts() with
 * img_enc_from_params(); removed after issue 12. The same as
 * img_encode_rgb_opts() with the options of job->params, job->type and
 * job->limits.
 */
int img_encode_rgb(const struct rgb *frame, const struct img_job *job,
    struct sink *out, struct err *e);

#endif
