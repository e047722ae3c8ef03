/*
 * img/enc - the encoders' side of the image pipeline, without
 * GraphicsMagick types: the options an encoder reads (struct img_enc, made
 * from a request once), the output type, each encoder's side limit, and the
 * encoding of a finished RGB frame (video stills, sprites, streams and live
 * sources use it; img_thumb() ends in the same encoders).
 */
#ifndef MF_IMG_ENC_PUBLIC_H
#define MF_IMG_ENC_PUBLIC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/rgb.h"
#include "core/sink.h"
#include "img/job.h"

/*
 * What the encoders read: the output type and its options, taken from the
 * request and the limits once (img_enc_from_params()), so that no encoder
 * looks at the URL. Also what img_encode_rgb_opts() finishes a frame with
 * (filters, the colour alpha is flattened onto).
 */
struct wm;

struct img_enc {
	/* MT_JPEG, MT_PNG, MT_WEBP, MT_GIF, MT_AVIF or MT_JXL; MT_UNKNOWN
	 * when the format is not an image (vtt, a stream), which no encoder
	 * takes. */
	enum media_type type;
	unsigned quality;	/* 1..100: q=, else the configured default */
	unsigned avif_speed, jxl_effort;	/* the limits' (job.h) */
	unsigned long long max_filter_work;	/* the limits'; 0 = none */
	uint32_t bg;		/* 0xRRGGBB: padding, and under flattened alpha */
	bool has_bg;		/* bg= given: contain pads with bg even where
				 * the type could leave the padding clear */
	double blur, sharpen;	/* sigma of the filters; 0 = off */
	/* wm=: the watermark drawn after fitting and filters (watermark.h),
	 * from the limits' table; NULL = none. Not owned. */
	const struct wm *wm;
	/* format=blurhash: the finished pixels (planned and flattened as
	 * for JPEG, type MT_JPEG) are answered as their BlurHash of bx x by
	 * components, text, instead of being encoded (img_blurhash.c). */
	bool blurhash;
	unsigned bx, by;
};

/*
 * The encoder options of a request: format= mapped to an output type (of
 * OUT_SOURCE, src's own when browsers show it, else JPEG), q= or
 * lim->default_quality, bg=, blur=, sharpen=.
 */
void img_enc_from_params(const struct params *p, enum media_type src,
    const struct img_limits *lim, struct img_enc *enc);

/* The type the job's output will have (the source's unless format=):
 * img_enc_from_params()'s type, for callers that need no more. */
enum media_type img_output_type(const struct img_job *job);

struct geom_limits;

/*
 * The side limit of the encoder of output type t, into lim->max_side and
 * lim->encoder (JPEG 65500, WebP 16383, AVIF 16384; PNG, GIF and JPEG XL
 * GEOM_MAX_SIDE), for
 * geom_plan_limited().
 */
void img_encoder_limits(enum media_type t, struct geom_limits *lim);

/*
 * Encodes a finished frame (already scaled, turned and cut as the output
 * must look) as enc says: filters, alpha flattened, the type's encoder at
 * its quality. The encoder half of img_thumb(), for video stills, sprites,
 * streams and live sources. Fails with ERR_BAD_PARAM when enc->type is not
 * an image format.
 */
int img_encode_rgb_opts(const struct rgb *frame, const struct img_enc *enc,
    struct sink *out, struct err *e);

#endif
