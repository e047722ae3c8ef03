/*
 * vid/scale - the one swscale path of the video code: a decoded frame to
 * planned packed RGB (scaled, turned, flipped, cut or padded) for the JPEG
 * encoder and stills, and pixels to an encoder's own format (YUV) for
 * transcodes; and a rendered frame handed to the image encoder. See
 * core.h for the contract.
 */
#include "vid/core.h"

#include <libavutil/pixdesc.h>

#include "img/img.h"

static int
cannot_scale(int fmt, struct err *e)
{
	const char *name = av_get_pix_fmt_name(fmt);

	return err_set(e, ERR_UNDECODABLE, "cannot scale pixel format %s",
	    name ? name : "?");
}

/* src (w x h, fmt) into the planes dst of dw x dh in dfmt. */
static int
scale(struct SwsContext **sws, const uint8_t *const src[],
    const int stride[], int w, int h, int fmt, uint8_t *const dst[],
    const int dst_stride[], int dw, int dh, int dfmt, int flags,
    struct err *e)
{
	*sws = sws_getCachedContext(*sws, w, h, fmt, dw, dh, dfmt, flags, NULL,
	    NULL, NULL);
	if (*sws == NULL)
		return cannot_scale(fmt, e);
	sws_scale(*sws, src, stride, 0, h, dst, dst_stride);
	return 0;
}

int
vid_scale_into(struct SwsContext **sws, const uint8_t *const src[],
    const int stride[], int w, int h, int fmt, AVFrame *dst, int flags,
    struct err *e)
{
	int rc;

	if ((rc = av_frame_make_writable(dst)) < 0)
		return err_set(e, ERR_INTERNAL, "out of memory");
	return scale(sws, src, stride, w, h, fmt, dst->data, dst->linesize,
	    dst->width, dst->height, dst->format, flags, e);
}

/* v->frame scaled, turned, cut or padded into out (allocated here). */
int
vid_render(struct vctx *v, const struct params *p,
    const struct geom_plan *plan, unsigned turn, struct rgb *out,
    struct err *e)
{
	AVFrame *f = v->frame;
	bool swap = turn == 90 || turn == 270;
	unsigned tw = swap ? plan->scale_h : plan->scale_w;
	unsigned th = swap ? plan->scale_w : plan->scale_h;
	struct rgb sc = { 0 };
	uint8_t *dst[4] = { NULL };
	int dst_stride[4] = { 0 };
	int rc = 0;

	out->px = NULL;
	/* Only a plan from geom_plan_limited() gets here: sides fit an int. */
	if (tw == 0 || th == 0 || tw > GEOM_MAX_SIDE || th > GEOM_MAX_SIDE) {
		rc = err_set(e, ERR_TOO_LARGE, "size: %ux%u is over the limit "
		    "of %u pixels a side", tw, th, GEOM_MAX_SIDE);
		goto out;
	}
	if (rgb_alloc(&sc, tw, th) < 0) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	dst[0] = sc.px;
	dst_stride[0] = (int)sc.stride;	/* <= RGB_MAX_STRIDE */
	if ((rc = scale(&v->sws, (const uint8_t *const *)f->data, f->linesize,
	    f->width, f->height, f->format, dst, dst_stride, (int)tw, (int)th,
	    AV_PIX_FMT_RGB24, v->sws_flags, e)) < 0)
		goto out;
	if (rgb_orient(&sc, turn, p->flip_h, p->flip_v) < 0) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (plan->finish == GEOM_NONE) {
		*out = sc;
		sc.px = NULL;
		goto out;
	}
	if (rgb_alloc(out, plan->out_w, plan->out_h) < 0) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (plan->finish == GEOM_CROP) {
		rgb_blit(out, 0, 0, &sc, plan->off_x, plan->off_y, plan->out_w,
		    plan->out_h);
	} else {
		rgb_fill(out, p->bg);
		rgb_blit(out, plan->off_x, plan->off_y, &sc, 0, 0, sc.w, sc.h);
	}
out:
	rgb_free(&sc);
	return rc;
}

int
vid_encode_frame(struct vctx *v, const struct params *p,
    const struct geom_plan *plan, unsigned turn, const struct img_enc *enc,
    struct sink *out, struct err *e)
{
	struct rgb frame = { 0 };
	int rc;

	if ((rc = vid_render(v, p, plan, turn, &frame, e)) == 0)
		rc = img_encode_rgb_opts(&frame, enc, out, e);
	rgb_free(&frame);
	return rc;
}
