/*
 * img - GraphicsMagick pipeline. See img.h for the contract.
 *
 * Order of operations, on the image as the viewer sees it: EXIF orientation,
 * crop, rotate, flip, then the fit mode (scale, cut or pad), filters, alpha
 * flattened for formats without it, metadata stripped, encoded into the sink.
 * JPEG sources are decoded at 1/2, 1/4 or 1/8 scale when the output is small
 * enough (libjpeg DCT scaling, asked for through ImageInfo.size).
 */
#include "img.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>

#include <magick/api.h>

#include "geom.h"
#include "json.h"

/*
 * Catmull-Rom: after libjpeg's DCT reduction the remaining factor is small
 * (at most ~2.5 for the usual thumbnails), where it is as sharp as Lanczos
 * to the eye (PSNR 42.7 dB against gm's full-decode Lanczos on the 20 MP
 * bench photo) at two thirds of the cost: support 2 instead of 3.
 */
#define RESIZE_FILTER CatromFilter

#define FREEF(f, p) do { if (p) { f(p); (p) = NULL; } } while (0)

/* Coders that may ever run. Everything else is unregistered at start. */
static const char *const allowed_coders[] = { "JPEG", "PNG", "GIF", "WEBP" };

static bool
coder_allowed(const char *name)
{
	for (size_t i = 0; i < sizeof(allowed_coders) / sizeof(*allowed_coders); i++)
		if (strcmp(name, allowed_coders[i]) == 0)
			return true;
	return false;
}

/*
 * GraphicsMagick reads and writes only through memory and the FILE * it is
 * handed; any attempt to open a path or a URL means a coder went somewhere
 * it must not, so every one is refused.
 */
static MagickPassFail
img_deny_access(const ConfirmAccessMode mode, const char *path,
    ExceptionInfo *ex)
{
	(void)mode;
	(void)path;
	(void)ex;
	return MagickFail;
}

int
img_init(void)
{
	ExceptionInfo ex;
	MagickInfo **all;
	char (*names)[MaxTextExtent] = NULL;
	size_t n = 0;

	/*
	 * Pixel buffers of a few MB come and go with every request; kept in
	 * the heap instead of mmap()ed and unmapped each time, they stop
	 * costing page faults. Bounded: a worker keeps at most this much.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 96 << 20);
	InitializeMagick(NULL);
	/* Processes are the unit of parallelism: one thread, no OpenMP team. */
	SetMagickResourceLimit(ThreadsResource, 1);
	/* A pixel cache never spills into a temporary file. */
	SetMagickResourceLimit(DiskResource, 0);
	MagickSetConfirmAccessHandler(img_deny_access);

	GetExceptionInfo(&ex);
	if ((all = GetMagickInfoArray(&ex)) == NULL) {
		fprintf(stderr, "img: cannot list coders: %s\n",
		    ex.reason ? ex.reason : "?");
		DestroyExceptionInfo(&ex);
		return -1;
	}
	while (all[n] != NULL)
		n++;
	/* Copy the names first: unregistering frees the MagickInfo. */
	if ((names = calloc(n ? n : 1, sizeof(*names))) == NULL) {
		MagickFree(all);
		DestroyExceptionInfo(&ex);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		snprintf(names[i], sizeof(names[i]), "%s", all[i]->name);
	MagickFree(all);
	for (size_t i = 0; i < n; i++)
		if (!coder_allowed(names[i]))
			(void)UnregisterMagickInfo(names[i]);
	free(names);
	DestroyExceptionInfo(&ex);
	return 0;
}

void
img_cleanup(void)
{
	DestroyMagick();
}

enum media_type
img_output_type(const struct img_job *job)
{
	switch (job->params->format) {
	case OUT_JPEG: return MT_JPEG;
	case OUT_PNG: return MT_PNG;
	case OUT_WEBP: return MT_WEBP;
	case OUT_GIF: return MT_GIF;
	case OUT_VTT: return MT_UNKNOWN;
	case OUT_SOURCE: break;
	}
	return job->type;
}

/*
 * The one place a GraphicsMagick exception becomes an err. The severity's
 * last two digits name the class (warnings 3xx, errors 4xx, fatal 7xx).
 */
static int
img_fail(const ExceptionInfo *ex, struct err *e, const char *what)
{
	const char *reason = ex->reason ? ex->reason : "unknown error";
	const char *desc = ex->description ? ex->description : "";
	enum err_kind kind;

	switch (ex->severity % 100) {
	case ResourceLimitError % 100:
		kind = ERR_TOO_LARGE;
		break;
	case MissingDelegateError % 100:
		kind = ERR_UNSUPPORTED;
		break;
	case CorruptImageError % 100:
	case CoderError % 100:
	case BlobError % 100:
	case ImageError % 100:
	case StreamError % 100:
		kind = ERR_UNDECODABLE;
		break;
	default:
		kind = ex->severity == UndefinedException ? ERR_UNDECODABLE :
		    ERR_INTERNAL;
		break;
	}
	return err_set(e, kind, "%s: %s%s%s", what, reason, *desc ? " " : "",
	    desc);
}

/*
 * libjpeg reports a truncated file as a warning and fills the rest with
 * grey; serving that half-image would look like success, so it is an error
 * here. Other decoder warnings (stray bytes before a marker, common in
 * camera files) are tolerated as browsers tolerate them.
 */
static bool
img_warning_fatal(const ExceptionInfo *ex)
{
	if (ex->severity < WarningException || ex->severity >= ErrorException)
		return false;
	return ex->reason != NULL &&
	    (strstr(ex->reason, "Premature end") != NULL ||
	     strstr(ex->reason, "Corrupt") != NULL ||
	     strstr(ex->reason, "insufficient image data") != NULL);
}

static int
exif_orientation(const Image *im)
{
	const ImageAttribute *a = GetImageAttribute(im, "EXIF:Orientation");
	long v;

	if (a == NULL || a->value == NULL)
		return 1;
	v = strtol(a->value, NULL, 10);
	return v >= 1 && v <= 8 ? (int)v : 1;
}

/* Replaces *im with next (when next is not NULL) and frees the old one. */
static int
img_replace(Image **im, Image *next, const ExceptionInfo *ex, struct err *e,
    const char *what)
{
	if (next == NULL)
		return img_fail(ex, e, what);
	DestroyImage(*im);
	*im = next;
	return 0;
}

static void
pixel_from_rgb(PixelPacket *px, uint32_t rgb, bool transparent)
{
	px->red = ScaleCharToQuantum((rgb >> 16) & 0xff);
	px->green = ScaleCharToQuantum((rgb >> 8) & 0xff);
	px->blue = ScaleCharToQuantum(rgb & 0xff);
	px->opacity = transparent ? TransparentOpacity : OpaqueOpacity;
}

/* A w x h canvas of one colour, with im composited at (x, y). */
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

static bool
type_has_alpha(enum media_type t)
{
	return t == MT_PNG || t == MT_WEBP || t == MT_GIF;
}

/* Transforms of the user's rotate and flip, after EXIF orientation. */
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
 * Geometry of the job on a source of w x h as the viewer sees it: fills
 * plan and the size after crop and rotate (*ew x *eh). Fails 400 when crop
 * leaves the source, 413 when the output is over the limit.
 */
static int
img_plan(const struct img_job *job, unsigned w, unsigned h,
    struct geom_plan *plan, unsigned *ew, unsigned *eh, struct err *e)
{
	const struct params *p = job->params;
	unsigned bw, bh;

	if (p->given & P_CROP) {
		if (p->crop_x >= w || p->crop_y >= h)
			return err_set(e, ERR_BAD_PARAM,
			    "crop: origin %u,%u outside the %ux%u source",
			    p->crop_x, p->crop_y, w, h);
		/* A crop running past the edge is clipped to it. */
		w = p->crop_w < w - p->crop_x ? p->crop_w : w - p->crop_x;
		h = p->crop_h < h - p->crop_y ? p->crop_h : h - p->crop_y;
	}
	if (p->rotate == 90 || p->rotate == 270) {
		unsigned t = w;
		w = h;
		h = t;
	}
	*ew = w;
	*eh = h;
	params_box(p, &bw, &bh);
	if (geom_plan(w, h, bw, bh, p->fit, p->gravity, p->enlarge, plan) < 0)
		return err_set(e, ERR_UNDECODABLE, "source has no pixels");
	if (job->limits.max_output_pixels &&
	    (unsigned long long)plan->out_w * plan->out_h >
	    job->limits.max_output_pixels)
		return err_set(e, ERR_TOO_LARGE,
		    "size: output %ux%u is over the limit of %llu pixels",
		    plan->out_w, plan->out_h, job->limits.max_output_pixels);
	if ((unsigned long long)plan->scale_w * plan->scale_h >
	    (job->limits.max_output_pixels ? job->limits.max_output_pixels * 4 :
	    (1ull << 32)))
		return err_set(e, ERR_TOO_LARGE,
		    "size: intermediate %ux%u is over the output limit",
		    plan->scale_w, plan->scale_h);
	return 0;
}

/*
 * The JPEG decoder's size hint ("WxH", stored orientation): the smallest
 * decoded size from which the plan's scaled size can still be cut. libjpeg
 * then picks the largest 1/N reduction that stays at or above it.
 */
static void
jpeg_hint(const struct img_job *job, unsigned dw, unsigned dh, int orient,
    const struct geom_plan *plan, unsigned ew, unsigned eh, char *buf,
    size_t len)
{
	double f = fmax((double)plan->scale_w / ew, (double)plan->scale_h / eh);
	unsigned hw, hh;

	(void)job;
	hw = (unsigned)ceil(dw * f);
	hh = (unsigned)ceil(dh * f);
	if (orient >= 5) {
		unsigned t = hw;
		hw = hh;
		hh = t;
	}
	snprintf(buf, len, "%ux%u", hw ? hw : 1, hh ? hh : 1);
}

static int
img_read(const struct img_job *job, const void *data, Image **out,
    struct geom_plan *plan, ExceptionInfo *ex, struct err *e)
{
	const struct params *p = job->params;
	ImageInfo *ii = NULL;
	Image *im = NULL;
	unsigned dw, dh, ew = 1, eh = 1;
	int orient, rc;
	char hint[64];

	ii = CloneImageInfo(NULL);
	/* The coder is the sniffed one: an explicit magick, no filename. */
	snprintf(ii->magick, sizeof(ii->magick), "%s", sniff_coder(job->type));
	ii->filename[0] = '\0';
	ii->subimage = p->frame >= 0 ? (unsigned long)p->frame : 0;
	ii->subrange = 1;

	/* Header first: limits and geometry before any pixel is decoded. */
	if ((im = PingBlob(ii, data, (size_t)job->size, ex)) == NULL) {
		rc = img_fail(ex, e, "not a decodable image");
		goto out;
	}
	if (job->limits.max_source_pixels &&
	    (unsigned long long)im->columns * im->rows >
	    job->limits.max_source_pixels) {
		rc = err_set(e, ERR_TOO_LARGE,
		    "source %lux%lu is over the limit of %llu pixels",
		    im->columns, im->rows, job->limits.max_source_pixels);
		goto out;
	}
	orient = exif_orientation(im);
	dw = orient >= 5 ? im->rows : im->columns;
	dh = orient >= 5 ? im->columns : im->rows;
	FREEF(DestroyImage, im);
	if ((rc = img_plan(job, dw, dh, plan, &ew, &eh, e)) < 0)
		goto out;

	if (job->type == MT_JPEG) {
		jpeg_hint(job, dw, dh, orient, plan, ew, eh, hint, sizeof(hint));
		(void)CloneString(&ii->size, hint);
	}
	GetExceptionInfo(ex);
	im = BlobToImage(ii, data, (size_t)job->size, ex);
	if (im == NULL || img_warning_fatal(ex)) {
		rc = img_fail(ex, e, "image does not decode");
		if (e->kind == ERR_INTERNAL || e->kind == ERR_NONE)
			e->kind = ERR_UNDECODABLE;
		goto out;
	}
	*out = im;
	im = NULL;
	rc = 0;
out:
	FREEF(DestroyImage, im);
	FREEF(DestroyImageInfo, ii);
	return rc;
}

/* Crops the user's crop rectangle, scaled to the decoded size. */
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

static int
img_write(Image *im, const struct img_job *job, struct sink *out,
    struct err *e)
{
	const struct params *p = job->params;
	enum media_type t = img_output_type(job);
	const char *coder = sniff_coder(t);
	ImageInfo *ii = CloneImageInfo(NULL);
	FILE *fp = NULL;
	int rc = 0;

	snprintf(ii->magick, sizeof(ii->magick), "%s", coder);
	snprintf(ii->filename, sizeof(ii->filename), "%s:", coder);
	snprintf(im->magick, sizeof(im->magick), "%s", coder);
	snprintf(im->filename, sizeof(im->filename), "%s:", coder);
	if (t == MT_JPEG || t == MT_WEBP)
		ii->quality = p->quality ? p->quality :
		    job->limits.default_quality;
	if ((fp = sink_fopen(out)) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	ii->file = fp;
	if (WriteImage(ii, im) == MagickFail) {
		rc = img_fail(&im->exception, e, "encode");
		if (e->kind != ERR_INTERNAL)
			e->kind = ERR_INTERNAL;
	}
	/* Flushes stdio's last buffer into the sink. */
	if (fclose(fp) != 0 && rc == 0)
		rc = err_set(e, ERR_INTERNAL, "client went away");
	fp = NULL;
out:
	FREEF(DestroyImageInfo, ii);
	return rc;
}

/*
 * The stages every output shares, image or video frame: the fit mode's cut
 * or pad, filters, alpha flattened for formats without it, metadata
 * stripped, encoded into out. *im is at the plan's scale size.
 */
static int
img_finish(Image **imp, const struct img_job *job, const struct geom_plan *pl,
    struct sink *out, ExceptionInfo *exp, struct err *e)
{
	const struct params *p = job->params;
	enum media_type t = img_output_type(job);
	const struct geom_plan plan = *pl;
	int rc;

	if (plan.finish == GEOM_CROP) {
		RectangleInfo r = { plan.out_w, plan.out_h, plan.off_x,
		    plan.off_y };

		if ((rc = img_replace(imp, CropImage(*imp, &r, exp), exp, e,
		    "cut")) < 0)
			goto out;
	} else if (plan.finish == GEOM_PAD) {
		bool clear = type_has_alpha(t) && !(p->given & P_BG);

		if ((rc = img_compose_on(imp, plan.out_w, plan.out_h,
		    plan.off_x, plan.off_y, p->bg, clear, exp, e)) < 0)
			goto out;
	}
	if (p->blur > 0 && (rc = img_replace(imp, BlurImage(*imp, 0, p->blur,
	    exp), exp, e, "blur")) < 0)
		goto out;
	if (p->sharpen > 0 && (rc = img_replace(imp, SharpenImage(*imp, 0,
	    p->sharpen, exp), exp, e, "sharpen")) < 0)
		goto out;
	if ((*imp)->matte && !type_has_alpha(t) &&
	    (rc = img_compose_on(imp, (*imp)->columns, (*imp)->rows, 0, 0, p->bg,
	    false, exp, e)) < 0)
		goto out;
	/* No EXIF, ICC, XMP, IPTC or comment leaves the server. */
	(void)ProfileImage(*imp, "*", NULL, 0, MagickFalse);
	(void)SetImageAttribute(*imp, "comment", NULL);
	rc = img_write(*imp, job, out, e);
out:
	return rc;
}

int
img_thumb(const struct img_job *job, struct sink *out, struct err *e)
{
	const struct params *p = job->params;
	enum media_type t = img_output_type(job);
	struct geom_plan plan;
	ExceptionInfo ex;
	Image *im = NULL;
	void *map = MAP_FAILED;
	unsigned dw, dh;
	int rc;

	GetExceptionInfo(&ex);
	if (job->limits.max_file_size &&
	    (unsigned long long)job->size > job->limits.max_file_size) {
		rc = err_set(e, ERR_TOO_LARGE,
		    "file size %lld is over the limit of %llu bytes",
		    (long long)job->size, job->limits.max_file_size);
		goto out;
	}
	if (job->size <= 0) {
		rc = err_set(e, ERR_UNDECODABLE, "empty file");
		goto out;
	}
	if (sniff_coder(job->type) == NULL || sniff_coder(t) == NULL) {
		rc = err_set(e, ERR_UNSUPPORTED, "format not allowed");
		goto out;
	}
	/* Populated at once: one call instead of a fault per page. */
	map = mmap(NULL, (size_t)job->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
	    job->fd, 0);
	if (map == MAP_FAILED) {
		rc = err_set(e, ERR_INTERNAL, "mmap: %s", strerror(errno));
		goto out;
	}
	if ((rc = img_read(job, map, &im, &plan, &ex, e)) < 0)
		goto out;

	/* Upright first: everything after works in the viewer's frame. */
	if (exif_orientation(im) != 1 || im->orientation > TopLeftOrientation) {
		if ((rc = img_replace(&im, AutoOrientImage(im, im->orientation,
		    &ex), &ex, e, "orient")) < 0)
			goto out;
		im->orientation = TopLeftOrientation;
	}
	dw = im->columns;
	dh = im->rows;
	if ((p->given & P_CROP) &&
	    (rc = img_crop_user(&im, p, dw, dh, &ex, e)) < 0)
		goto out;
	if ((rc = img_rotate_flip(&im, p, &ex, e)) < 0)
		goto out;
	if ((im->columns != plan.scale_w || im->rows != plan.scale_h) &&
	    (rc = img_replace(&im, ResizeImage(im, plan.scale_w, plan.scale_h,
	    RESIZE_FILTER, 1.0, &ex), &ex, e, "resize")) < 0)
		goto out;
	rc = img_finish(&im, job, &plan, out, &ex, e);
out:
	FREEF(DestroyImage, im);
	if (map != MAP_FAILED)
		munmap(map, (size_t)job->size);
	DestroyExceptionInfo(&ex);
	return rc;
}

int
img_encode_rgb(const struct rgb *f, const struct img_job *job,
    struct sink *out, struct err *e)
{
	struct geom_plan plan = { .scale_w = f->w, .scale_h = f->h,
	    .out_w = f->w, .out_h = f->h, .finish = GEOM_NONE };
	ExceptionInfo ex;
	Image *im = NULL;
	int rc;

	GetExceptionInfo(&ex);
	if (sniff_coder(img_output_type(job)) == NULL) {
		rc = err_set(e, ERR_BAD_PARAM, "format: not an image format");
		goto out;
	}
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
	rc = img_finish(&im, job, &plan, out, &ex, e);
out:
	FREEF(DestroyImage, im);
	DestroyExceptionInfo(&ex);
	return rc;
}

static const char *
colorspace_name(const Image *im)
{
	/* A ping fills colorspace for CMYK; libjpeg's own name is the only
	 * word on a grey JPEG before its pixels are read. */
	const ImageAttribute *a = GetImageAttribute(im, "JPEG-Colorspace-Name");

	if (IsCMYKColorspace(im->colorspace))
		return "cmyk";
	if (IsGrayColorspace(im->colorspace) ||
	    (a != NULL && a->value != NULL && strcmp(a->value, "GRAYSCALE") == 0))
		return "gray";
	return "rgb";
}

int
img_info(const struct img_job *job, struct sink *out, struct err *e)
{
	ExceptionInfo ex;
	ImageInfo *ii = NULL;
	Image *im = NULL;
	void *map = MAP_FAILED;
	struct membuf m;
	size_t icc = 0;
	int orient, rc;

	membuf_init(&m);
	GetExceptionInfo(&ex);
	if (job->size <= 0 || sniff_coder(job->type) == NULL) {
		rc = err_set(e, job->size <= 0 ? ERR_UNDECODABLE : ERR_UNSUPPORTED,
		    job->size <= 0 ? "empty file" : "format not allowed");
		goto out;
	}
	if (job->limits.max_file_size &&
	    (unsigned long long)job->size > job->limits.max_file_size) {
		rc = err_set(e, ERR_TOO_LARGE,
		    "file size %lld is over the limit of %llu bytes",
		    (long long)job->size, job->limits.max_file_size);
		goto out;
	}
	map = mmap(NULL, (size_t)job->size, PROT_READ, MAP_PRIVATE, job->fd, 0);
	if (map == MAP_FAILED) {
		rc = err_set(e, ERR_INTERNAL, "mmap: %s", strerror(errno));
		goto out;
	}
	ii = CloneImageInfo(NULL);
	snprintf(ii->magick, sizeof(ii->magick), "%s", sniff_coder(job->type));
	ii->filename[0] = '\0';
	if ((im = PingBlob(ii, map, (size_t)job->size, &ex)) == NULL) {
		rc = img_fail(&ex, e, "not a decodable image");
		goto out;
	}
	orient = exif_orientation(im);
	(void)GetImageProfile(im, "ICM", &icc);
	json_raw(&m, "{\"format\": ");
	json_str(&m, sniff_coder(job->type));
	json_raw(&m, ", \"mime\": ");
	json_str(&m, sniff_mime(job->type));
	json_raw(&m, ", \"width\": %lu, \"height\": %lu, \"frames\": %lu, "
	    "\"orientation\": %d, \"alpha\": %s, \"colorspace\": ",
	    orient >= 5 ? im->rows : im->columns,
	    orient >= 5 ? im->columns : im->rows,
	    (unsigned long)GetImageListLength(im), orient,
	    im->matte ? "true" : "false");
	json_str(&m, colorspace_name(im));
	json_raw(&m, ", \"icc\": %s, \"size\": %lld}\n",
	    icc ? "true" : "false", (long long)job->size);
	rc = sink_write(out, m.data, m.len) < 0 ?
	    err_set(e, ERR_INTERNAL, "client went away") : 0;
out:
	if (im != NULL)
		DestroyImageList(im);
	FREEF(DestroyImageInfo, ii);
	if (map != MAP_FAILED)
		munmap(map, (size_t)job->size);
	DestroyExceptionInfo(&ex);
	membuf_cleanup(&m);
	return rc;
}
