/*
 * img - the GraphicsMagick pipeline. See img.h for the contract.
 *
 * Order of operations, on the image as the viewer sees it: EXIF orientation,
 * conversion to sRGB, crop, rotate, flip, then the fit mode (scale, cut or
 * pad), filters, the watermark (wm=), alpha flattened for formats without
 * it, metadata stripped,
 * encoded into the sink. Limits and geometry come from the headers (a
 * ping, img_src.c) before any pixel is decoded; JPEG sources are then
 * decoded at 1/2, 1/4 or 1/8 scale when the output is small enough
 * (libjpeg DCT scaling, asked for through ImageInfo.size). An animated GIF
 * read for GIF or WebP output is coalesced and every frame goes through
 * the same steps.
 */
#include "img/img.h"

#include <math.h>
#include <sys/mman.h>

#include "img/img_color.h"
#include "img/img_enc.h"
#include "img/img_gm.h"
#include "img/img_smart.h"
#include "img/img_src.h"
#include "img/img_wm.h"
#include "req/geom.h"

/*
 * Catmull-Rom: after libjpeg's DCT reduction the remaining factor is small
 * (at most ~2.5 for the usual thumbnails), where it is as sharp as Lanczos
 * to the eye (PSNR 42.7 dB against gm's full-decode Lanczos on the 20 MP
 * bench photo) at two thirds of the cost: support 2 instead of 3.
 */
#define RESIZE_FILTER CatromFilter

static void
pixel_from_rgb(PixelPacket *px, uint32_t rgb, bool transparent)
{
	px->red = ScaleCharToQuantum((rgb >> 16) & 0xff);
	px->green = ScaleCharToQuantum((rgb >> 8) & 0xff);
	px->blue = ScaleCharToQuantum(rgb & 0xff);
	px->opacity = transparent ? TransparentOpacity : OpaqueOpacity;
}

/* A w x h canvas of one colour, with *im composited at (x, y). */
static int
img_compose_on(Image **im, unsigned w, unsigned h, unsigned x, unsigned y,
    uint32_t bg, bool transparent, ExceptionInfo *ex, struct err *e)
{
	Image *canvas;
	PixelPacket px;

	if ((canvas = CloneImage(*im, w, h, MagickTrue, ex)) == NULL)
		return img_fail(ex, e, "pad");
	pixel_from_rgb(&px, bg, transparent);
	canvas->background_color = px;
	canvas->matte = transparent ? MagickTrue : MagickFalse;
	if (SetImageColor(canvas, &px) == MagickFail ||
	    CompositeImage(canvas, transparent ? CopyCompositeOp : OverCompositeOp,
	    *im, x, y) == MagickFail) {
		int rc = img_fail(&canvas->exception, e, "pad");

		DestroyImage(canvas);
		return rc;
	}
	DestroyImage(*im);
	*im = canvas;
	return 0;
}

/* Cuts the user's crop rectangle, scaled to the decoded size. */
static int
img_crop_user(Image **im, const struct params *p, unsigned dw, unsigned dh,
    ExceptionInfo *ex, struct err *e)
{
	RectangleInfo r;
	double fx = (double)(*im)->columns / dw, fy = (double)(*im)->rows / dh;
	unsigned cw = p->crop_w < dw - p->crop_x ? p->crop_w : dw - p->crop_x;
	unsigned ch = p->crop_h < dh - p->crop_y ? p->crop_h : dh - p->crop_y;

	r.x = (long)floor(p->crop_x * fx);
	r.y = (long)floor(p->crop_y * fy);
	r.width = (unsigned long)fmax(1, round(cw * fx));
	r.height = (unsigned long)fmax(1, round(ch * fy));
	return img_replace(im, CropImage(*im, &r, ex), ex, e, "crop");
}

/* The user's rotate and flip, after EXIF orientation and crop. */
static int
img_rotate_flip(Image **im, const struct params *p, ExceptionInfo *ex,
    struct err *e)
{
	int rc = 0;

	if (p->rotate != 0 &&
	    (rc = img_replace(im, RotateImage(*im, p->rotate, ex), ex, e,
	    "rotate")) < 0)
		return rc;
	if (p->flip_h &&
	    (rc = img_replace(im, FlopImage(*im, ex), ex, e, "flip")) < 0)
		return rc;
	if (p->flip_v &&
	    (rc = img_replace(im, FlipImage(*im, ex), ex, e, "flip")) < 0)
		return rc;
	return 0;
}

/*
 * The steps every output shares after scaling, image or video frame: the
 * fit mode's cut or pad, filters, alpha flattened for formats without it,
 * metadata stripped. *im is at the plan's scale size.
 */
static int
img_finish(Image **im, const struct img_enc *enc, const struct geom_plan *plan,
    bool smart, ExceptionInfo *ex, struct err *e)
{
	int rc = 0;

	if (plan->finish == GEOM_CROP) {
		RectangleInfo r = { plan->out_w, plan->out_h, plan->off_x,
		    plan->off_y };

		if (smart) {
			unsigned x, y;

			img_smart_offset(*im, plan->out_w, plan->out_h, &x, &y);
			r.x = x;
			r.y = y;
		}
		if ((rc = img_replace(im, CropImage(*im, &r, ex), ex, e,
		    "cut")) < 0)
			return rc;
		(*im)->page.x = (*im)->page.y = 0;
	} else if (plan->finish == GEOM_PAD) {
		bool clear = img_enc_has_alpha(enc->type) && !enc->has_bg;

		if ((rc = img_compose_on(im, plan->out_w, plan->out_h,
		    plan->off_x, plan->off_y, enc->bg, clear, ex, e)) < 0)
			return rc;
	}
	if (enc->blur > 0 && (rc = img_replace(im, BlurImage(*im, 0, enc->blur,
	    ex), ex, e, "blur")) < 0)
		return rc;
	if (enc->sharpen > 0 && (rc = img_replace(im, SharpenImage(*im, 0,
	    enc->sharpen, ex), ex, e, "sharpen")) < 0)
		return rc;
	/* After the filters: the logo stays as crisp as its file. */
	if (enc->wm != NULL && (rc = img_wm_apply(*im, enc->wm, e)) < 0)
		return rc;
	if ((*im)->matte && !img_enc_has_alpha(enc->type) &&
	    (rc = img_compose_on(im, (*im)->columns, (*im)->rows, 0, 0, enc->bg,
	    false, ex, e)) < 0)
		return rc;
	/* No EXIF, ICC, XMP, IPTC or comment leaves the server. */
	(void)ProfileImage(*im, "*", NULL, 0, MagickFalse);
	(void)SetImageAttribute(*im, "comment", NULL);
	return 0;
}

/* One frame from decoded to finished. */
static int
img_transform(Image **im, const struct params *p, const struct img_enc *enc,
    const struct img_src_geom *src, ExceptionInfo *ex, struct err *e)
{
	const struct geom_plan *plan = &src->plan;
	int rc;

	/* Upright first: everything after works in the viewer's frame. */
	if ((*im)->orientation > TopLeftOrientation) {
		if ((rc = img_replace(im, AutoOrientImage(*im,
		    (*im)->orientation, ex), ex, e, "orient")) < 0)
			return rc;
		(*im)->orientation = TopLeftOrientation;
	}
	if ((rc = img_color_to_srgb(im, ex, e)) < 0)
		return rc;
	if ((p->given & P_CROP) &&
	    (rc = img_crop_user(im, p, src->dw, src->dh, ex, e)) < 0)
		return rc;
	if ((rc = img_rotate_flip(im, p, ex, e)) < 0)
		return rc;
	if (((*im)->columns != plan->scale_w || (*im)->rows != plan->scale_h) &&
	    (rc = img_replace(im, ResizeImage(*im, plan->scale_w,
	    plan->scale_h, RESIZE_FILTER, 1.0, ex), ex, e, "resize")) < 0)
		return rc;
	return img_finish(im, enc, plan, p->gravity == GRAV_SMART, ex, e);
}

/*
 * What blur= and sharpen= will cost, checked before any frame is filtered:
 * BlurImage runs two 1-D passes of GraphicsMagick's kernel for the sigma,
 * SharpenImage one 2-D convolution with the square of it (and fails on an
 * image smaller than that kernel). A filter that would keep a worker busy
 * for seconds (past max_filter_work multiply-adds) is refused (413)
 * instead of ending in request_timeout.
 */

static int
img_filter_check(const struct img_enc *enc, unsigned long w, unsigned long h,
    unsigned long frames, struct err *e)
{
	unsigned long long px = (unsigned long long)w * h * frames, work = 0;

	if (enc->sharpen > 0) {
		unsigned long kw = (unsigned long)GetOptimalKernelWidth2D(0,
		    enc->sharpen);

		if (w < kw || h < kw)
			return err_set(e, ERR_BAD_PARAM, "sharpen: sigma %g needs "
			    "an output of at least %lux%lu pixels", enc->sharpen,
			    kw, kw);
		work += px * kw * kw;
	}
	if (enc->blur > 0)
		work += px * 2 *
		    (unsigned long)GetOptimalKernelWidth1D(0, enc->blur);
	if (enc->max_filter_work && work > enc->max_filter_work)
		return err_set(e, ERR_TOO_LARGE, "blur, sharpen: filtering "
		    "%lux%lu%s takes %llu multiply-adds, over the limit of %llu "
		    "(max_filter_work; a smaller sigma or output)", w, h,
		    frames > 1 ? " (every frame)" : "", work,
		    enc->max_filter_work);
	return 0;
}

int
img_thumb(const struct img_job *job, struct sink *out, struct err *e)
{
	struct img_src_geom src;
	struct img_enc enc;
	ExceptionInfo ex;
	Image *list = NULL, *done = NULL;
	void *map = MAP_FAILED;
	int rc;

	GetExceptionInfo(&ex);
	img_enc_from_params(job->params, job->type, &job->limits, &enc);
	if (sniff_coder(enc.type) == NULL) {
		rc = err_set(e, ERR_UNSUPPORTED, "format not allowed");
		goto out;
	}
	if ((rc = img_src_map(job, true, &map, e)) < 0)
		goto out;
	if ((rc = img_src_read(job, &enc, map, &list, &src, &ex, e)) < 0 ||
	    (rc = img_filter_check(&enc, src.plan.out_w, src.plan.out_h,
	    GetImageListLength(list), e)) < 0)
		goto out;
	/* Each frame is taken off the list, finished, and appended. */
	while (list != NULL) {
		Image *im = RemoveFirstImageFromList(&list);

		if ((rc = img_transform(&im, job->params, &enc, &src, &ex,
		    e)) < 0) {
			if (im != NULL)
				DestroyImage(im);
			goto out;
		}
		AppendImageToList(&done, im);
	}
	/* AppendImageToList() leaves done at the last frame. */
	done = GetFirstImageInList(done);
	rc = img_encode(done, &enc, out, e);
out:
	if (list != NULL)
		DestroyImageList(list);
	if (done != NULL)
		DestroyImageList(done);
	if (map != MAP_FAILED)
		munmap(map, (size_t)job->size);
	DestroyExceptionInfo(&ex);
	return rc;
}

int
img_encode_rgb_opts(const struct rgb *f, const struct img_enc *enc,
    struct sink *out, struct err *e)
{
	struct geom_plan plan = { .scale_w = f->w, .scale_h = f->h,
	    .out_w = f->w, .out_h = f->h, .finish = GEOM_NONE };
	ExceptionInfo ex;
	Image *im = NULL;
	int rc;

	GetExceptionInfo(&ex);
	if ((rc = img_filter_check(enc, f->w, f->h, 1, e)) < 0)
		goto out;
	/* ConstituteImage() reads rows back to back. */
	if (f->stride != (size_t)f->w * 3) {
		rc = err_set(e, ERR_INTERNAL, "frame rows are padded");
		goto out;
	}
	if ((im = ConstituteImage(f->w, f->h, "RGB", CharPixel, f->px,
	    &ex)) == NULL) {
		rc = img_fail(&ex, e, "frame");
		goto out;
	}
	if ((rc = img_finish(&im, enc, &plan, false, &ex, e)) < 0)
		goto out;
	rc = img_encode(im, enc, out, e);
out:
	FREEF(DestroyImage, im);
	DestroyExceptionInfo(&ex);
	return rc;
}
