/*
 * vid/plan - video frames through the one pixel planner
 * (geom_plan_limited()): stills, sprites, MJPEG parts and transcodes are
 * all planned here. See core.h for the contract.
 */
#include "vid/core.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/*
 * Width the frame is shown at: non-square pixels stretched, at most
 * VID_MAX_SAR times (or 1/VID_MAX_SAR of) the coded width. Real video
 * stays far inside (anamorphic DVD 32:27, HDV 4:3, 1:2 line-doubled); a
 * header saying 1000:1 would otherwise turn a small frame into a huge or
 * a one-pixel-thin picture and every plan from it into an extreme one.
 */
static unsigned
display_width(unsigned w, AVRational sar)
{
	double r;

	if (sar.num <= 0 || sar.den <= 0 || sar.num == sar.den)
		return w;
	r = fmin(fmax(av_q2d(sar), 1.0 / VID_MAX_SAR), VID_MAX_SAR);
	return (unsigned)fmax(1, fmin(lround(w * r), UINT_MAX));
}

AVRational
vid_sar(const struct vctx *v, const AVFrame *f)
{
	/* The container's or the stream's first, as players do; the
	 * frame's (the codec header's) when they say nothing. */
	return av_guess_sample_aspect_ratio(v->fmt, v->st, (AVFrame *)f);
}

int
vid_plan(const struct vctx *v, const struct params *p,
    const struct geom_limits *lim, unsigned w, unsigned h, AVRational sar,
    struct geom_plan *plan, unsigned *turn, struct err *e)
{
	unsigned dw = display_width(w, sar), dh = h;
	struct geom_box box;

	*turn = (v->rotation + p->rotate) % 360;
	if (*turn == 90 || *turn == 270) {
		unsigned t = dw;
		dw = dh;
		dh = t;
	}
	params_geom_box(p, &box);
	return geom_plan_limited(dw, dh, &box, lim, plan, e);
}

void
vid_geom_limits(const struct params *p, const struct img_limits *il,
    struct geom_limits *gl)
{
	struct img_enc enc;

	img_enc_from_params(p, MT_JPEG, il, &enc);
	memset(gl, 0, sizeof(*gl));
	gl->max_output_pixels = il->max_output_pixels;
	/* The cues of format=vtt point into the sprite, a JPEG. */
	img_encoder_limits(p->format == OUT_VTT ? MT_JPEG : enc.type, gl);
}
