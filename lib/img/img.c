/*
 * img - the GraphicsMagick pipeline. See img.h for the contract.
 *
 * Order of operations, on the image as the viewer sees it: EXIF orientation,
 * conversion to sRGB, crop, rotate, flip, then the fit mode (scale, cut or
 * pad), filters, alpha flattened for formats without it, metadata stripped,
 * encoded into the sink. Limits and geometry come from the headers (a ping)
 * before any pixel is decoded; JPEG sources are then decoded at 1/2, 1/4 or
 * 1/8 scale when the output is small enough (libjpeg DCT scaling, asked for
 * through ImageInfo.size). An animated GIF read for GIF or WebP output is
 * coalesced and every frame goes through the same steps.
 */
#include "img/img_gm.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "req/geom.h"
#include "img/png_guard.h"

/*
 * Catmull-Rom: after libjpeg's DCT reduction the remaining factor is small
 * (at most ~2.5 for the usual thumbnails), where it is as sharp as Lanczos
 * to the eye (PSNR 42.7 dB against gm's full-decode Lanczos on the 20 MP
 * bench photo) at two thirds of the cost: support 2 instead of 3.
 */
#define RESIZE_FILTER CatromFilter

/* Coders that may ever run. Everything else is unregistered at start. */
static const char *const allowed_coders[] = {
	"JPEG", "PNG", "GIF", "WEBP", "TIFF", "JXL",
	/* one libheif coder under three names; it looks itself up by the
	 * brand it finds */
	"HEIF", "HEIC", "AVIF",
};

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
	GetExceptionInfo(&ex);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 96 << 20);
	/* The process's signals are the daemon's: GraphicsMagick's own
	 * handlers would turn SIGTERM into an exit() through atexit. */
	if (InitializeMagickEx(NULL, MAGICK_OPT_NO_SIGNAL_HANDER, &ex) ==
	    MagickFail) {
		fprintf(stderr, "img: GraphicsMagick does not start: %s\n",
		    ex.reason ? ex.reason : "?");
		DestroyExceptionInfo(&ex);
		return -1;
	}
	DestroyExceptionInfo(&ex);
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
	return img_color_init();
}

void
img_set_limits(unsigned long long max_pixels, unsigned long max_side,
    unsigned long long max_memory)
{
	/* Pixel caches past this fail (no disk to spill to): a dense PNG or
	 * TIFF within the pixel limit still cannot take gigabytes. */
	if (max_memory > 0) {
		SetMagickResourceLimit(MemoryResource, (magick_int64_t)max_memory);
		SetMagickResourceLimit(MapResource, (magick_int64_t)max_memory);
	}
	if (max_pixels > 0)
		SetMagickResourceLimit(PixelsResource, (magick_int64_t)max_pixels);
	if (max_side > 0) {
		SetMagickResourceLimit(WidthResource, (magick_int64_t)max_side);
		SetMagickResourceLimit(HeightResource, (magick_int64_t)max_side);
	}
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
	case OUT_VTT: case OUT_MJPEG: case OUT_MP4: case OUT_WEBM:
		return MT_UNKNOWN;
	case OUT_SOURCE:
	case OUT_AUTO:	/* resolved by the caller; unresolved means source */
		break;
	}
	/* Sources that browsers do not all show (TIFF, HEIF, AVIF, JPEG XL)
	 * are answered as JPEG unless format= says otherwise. */
	switch (job->type) {
	case MT_JPEG: case MT_PNG: case MT_GIF: case MT_WEBP:
		return job->type;
	default:
		return MT_JPEG;
	}
}

bool
img_type_has_alpha(enum media_type t)
{
	return t == MT_PNG || t == MT_WEBP || t == MT_GIF;
}

int
img_fail(const ExceptionInfo *ex, struct err *e, const char *what)
{
	const char *reason = ex->reason ? ex->reason : "unknown error";
	const char *desc = ex->description ? ex->description : "";
	enum err_kind kind;

	/* The severity's last two digits name the class (warnings 3xx,
	 * errors 4xx, fatal 7xx). */
	switch (ex->severity % 100) {
	case ResourceLimitError % 100:
		/* Without a disk cache, "disk space" means memory ran out. */
		return err_set(e, ERR_TOO_LARGE, "%s: over the memory or pixel "
		    "limits of a worker (max_memory, max_source_pixels)", what);
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

int
img_exif_orientation(const Image *im)
{
	const ImageAttribute *a = GetImageAttribute(im, "EXIF:Orientation");
	long v;

	if (a == NULL || a->value == NULL)
		return 1;
	v = strtol(a->value, NULL, 10);
	return v >= 1 && v <= 8 ? (int)v : 1;
}

int
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
	struct geom_limits gl = {
		.max_output_pixels = job->limits.max_output_pixels,
	};
	struct geom_box box;

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
	img_encoder_limits(img_output_type(job), &gl);
	geom_box_from_params(p, &box);
	return geom_plan_limited(w, h, &box, &gl, plan, e);
}

/*
 * The JPEG decoder's size hint ("WxH", stored orientation): the smallest
 * decoded size from which the plan's scaled size can still be cut. libjpeg
 * then picks the largest 1/N reduction that stays at or above it.
 */
static void
jpeg_hint(unsigned dw, unsigned dh, int orient, const struct geom_plan *plan,
    unsigned ew, unsigned eh, char *buf, size_t len)
{
	double f = fmax((double)plan->scale_w / ew, (double)plan->scale_h / eh);
	unsigned hw = (unsigned)ceil(dw * f), hh = (unsigned)ceil(dh * f);

	if (orient >= 5) {
		unsigned t = hw;
		hw = hh;
		hh = t;
	}
	snprintf(buf, len, "%ux%u", hw ? hw : 1, hh ? hh : 1);
}

/* What img_read() learnt, for the steps after it. */
struct img_src {
	unsigned dw, dh;	/* size as shown, before crop/rotate */
	struct geom_plan plan;
};

static bool
type_has_frames(enum media_type t)
{
	return t == MT_GIF || t == MT_TIFF || t == MT_WEBP;
}

/*
 * One frame more than allowed is enough to know a source is over the
 * limit, and then no source, whatever it holds, makes a coder allocate
 * more. GIF and TIFF honour subrange in ping mode as well (measured: 301
 * of 10^6 1x1 GIF frames pinged in 3 ms and 27 MB, against 36 s and 12 GB
 * for all of them); GraphicsMagick reads no WebP animation, only its first
 * frame.
 */
unsigned long
img_frames_bound(const struct img_job *job)
{
	return job->limits.max_frames ? job->limits.max_frames + 1ul : 0;
}

int
img_frames_over(const struct img_job *job, struct err *e)
{
	return err_set(e, ERR_TOO_LARGE, "frames: over the limit of %u frames "
	    "(max_frames)", job->limits.max_frames);
}

/*
 * Frame n of a list read either from frame 0 (GIF: every frame up to n) or
 * from frame n itself (TIFF seeks its directory): the one whose scene is n.
 */
static Image *
frame_pick(Image *list, unsigned long n)
{
	for (Image *i = list; i != NULL; i = i->next)
		if (i->scene == n)
			return i;
	return GetImageFromList(list, (long)n);
}

/*
 * Pixels a read of frames from..to (of the pinged list) decodes: each
 * frame's own, and for a GIF at least its logical screen sw x sh, since
 * every frame is coalesced onto one.
 */
static unsigned long long
frames_pixels(const Image *list, unsigned long from, unsigned long to,
    unsigned long sw, unsigned long sh)
{
	unsigned long long sum = 0, own;
	unsigned long i = 0;

	for (const Image *f = list; f != NULL && i <= to; f = f->next, i++) {
		if (i < from)
			continue;
		own = (unsigned long long)f->columns * f->rows;
		sum += own > (unsigned long long)sw * sh ? own :
		    (unsigned long long)sw * sh;
	}
	return sum;
}

/*
 * Reads the source into *out: one image, or every frame (coalesced) when
 * an animation is to be kept, or the one frame= names. The ping and the
 * read each stop after max_frames + 1 frames, and each read decodes only
 * the frames it needs (frame=N: GIF frames 0..N, which N is drawn over;
 * another source's page N alone), so the limits hold on what is decoded.
 */
static int
img_read(const struct img_job *job, const void *data, Image **out,
    struct img_src *src, ExceptionInfo *ex, struct err *e)
{
	const struct params *p = job->params;
	enum media_type t = img_output_type(job);
	bool gif = job->type == MT_GIF;
	bool anim = gif && p->frame < 0 && (t == MT_GIF || t == MT_WEBP);
	bool all = type_has_frames(job->type) && (p->frame >= 0 || anim);
	unsigned long n = p->frame >= 0 ? (unsigned long)p->frame : 0;
	ImageInfo *ii = CloneImageInfo(NULL);
	Image *im = NULL, *pick;
	unsigned long frames, w, h, sw, sh, from = 0, to = 0;
	unsigned long long px;
	unsigned ew = 1, eh = 1;
	int orient, rc;
	char hint[64];

	/* The coder is the sniffed one: an explicit magick, no filename. */
	snprintf(ii->magick, sizeof(ii->magick), "%s", sniff_coder(job->type));
	ii->filename[0] = '\0';
	ii->subimage = 0;
	ii->subrange = all ? img_frames_bound(job) : 1;

	/* Header first: limits and geometry before any pixel is decoded. */
	if ((im = PingBlob(ii, data, (size_t)job->size, ex)) == NULL) {
		rc = img_fail(ex, e, "not a decodable image");
		goto out;
	}
	frames = GetImageListLength(im);
	if (all && job->limits.max_frames && frames > job->limits.max_frames) {
		rc = img_frames_over(job, e);
		goto out;
	}
	if (p->frame >= 0 && n >= frames) {
		rc = err_set(e, ERR_BAD_PARAM,
		    "frame: %d, but the source has %lu frame%s", p->frame,
		    frames, frames == 1 ? "" : "s");
		goto out;
	}
	/* An animation's frames are drawn on its logical screen. */
	sw = gif && im->page.width > im->columns ? im->page.width : im->columns;
	sh = gif && im->page.height > im->rows ? im->page.height : im->rows;
	if (anim)
		to = frames - 1;
	else if (p->frame >= 0)
		to = n;
	if (p->frame >= 0 && !gif)
		from = n;
	if (!gif)
		sw = sh = 0;
	px = frames_pixels(im, from, to, sw, sh);
	/* The frame as shown: a GIF's on its screen, a page its own size. */
	pick = GetImageFromList(im, (long)from);
	w = gif ? (sw > pick->columns ? sw : pick->columns) : pick->columns;
	h = gif ? (sh > pick->rows ? sh : pick->rows) : pick->rows;
	if (job->limits.max_source_pixels && px > job->limits.max_source_pixels) {
		char all_px[64] = "";

		if (to > from)
			snprintf(all_px, sizeof(all_px), " (%lu frames, %llu "
			    "pixels)", to - from + 1, px);
		rc = err_set(e, ERR_TOO_LARGE,
		    "source %lux%lu%s is over the limit of %llu pixels", w, h,
		    all_px, job->limits.max_source_pixels);
		goto out;
	}
	orient = img_exif_orientation(im);
	src->dw = orient >= 5 ? (unsigned)h : (unsigned)w;
	src->dh = orient >= 5 ? (unsigned)w : (unsigned)h;
	DestroyImageList(im);
	im = NULL;
	if ((rc = img_plan(job, src->dw, src->dh, &src->plan, &ew, &eh, e)) < 0)
		goto out;
	if (job->type == MT_JPEG) {
		jpeg_hint(src->dw, src->dh, orient, &src->plan, ew, eh, hint,
		    sizeof(hint));
		(void)CloneString(&ii->size, hint);
	}

	/* Only the frames the answer needs, never past the frame limit. */
	ii->subimage = from;
	ii->subrange = anim ? img_frames_bound(job) : to - from + 1;
	/* A ping's warnings would hide the decode's own: start clean. */
	DestroyExceptionInfo(ex);
	GetExceptionInfo(ex);
	/* Data past a PNG's rows would cost libpng seconds to skip. */
	if (job->type == MT_PNG &&
	    (rc = png_guard_check(data, (size_t)job->size, e)) < 0)
		goto out;
	im = BlobToImage(ii, data, (size_t)job->size, ex);
	if (im == NULL || img_warning_fatal(ex)) {
		rc = img_fail(ex, e, "image does not decode");
		if (e->kind == ERR_INTERNAL || e->kind == ERR_NONE)
			e->kind = ERR_UNDECODABLE;
		goto out;
	}
	/* The decode may find more frames than the ping did. */
	if (anim && job->limits.max_frames &&
	    GetImageListLength(im) > job->limits.max_frames) {
		rc = img_frames_over(job, e);
		goto out;
	}
	if (all && gif && im->next != NULL) {
		Image *c = CoalesceImages(im, ex);

		if (c == NULL) {
			rc = img_fail(ex, e, "image does not decode");
			goto out;
		}
		DestroyImageList(im);
		im = c;
	}
	if (p->frame >= 0) {
		if ((pick = frame_pick(im, n)) == NULL ||
		    (pick = CloneImage(pick, 0, 0, MagickTrue, ex)) == NULL) {
			rc = img_fail(ex, e, "frame");
			goto out;
		}
		DestroyImageList(im);
		im = pick;
	}
	*out = im;
	im = NULL;
	rc = 0;
out:
	if (im != NULL)
		DestroyImageList(im);
	FREEF(DestroyImageInfo, ii);
	return rc;
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
img_finish(Image **im, const struct img_job *job, const struct geom_plan *plan,
    ExceptionInfo *ex, struct err *e)
{
	const struct params *p = job->params;
	enum media_type t = img_output_type(job);
	int rc = 0;

	if (plan->finish == GEOM_CROP) {
		RectangleInfo r = { plan->out_w, plan->out_h, plan->off_x,
		    plan->off_y };

		if (p->gravity == GRAV_SMART) {
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
		bool clear = img_type_has_alpha(t) && !(p->given & P_BG);

		if ((rc = img_compose_on(im, plan->out_w, plan->out_h,
		    plan->off_x, plan->off_y, p->bg, clear, ex, e)) < 0)
			return rc;
	}
	if (p->blur > 0 && (rc = img_replace(im, BlurImage(*im, 0, p->blur,
	    ex), ex, e, "blur")) < 0)
		return rc;
	if (p->sharpen > 0 && (rc = img_replace(im, SharpenImage(*im, 0,
	    p->sharpen, ex), ex, e, "sharpen")) < 0)
		return rc;
	if ((*im)->matte && !img_type_has_alpha(t) &&
	    (rc = img_compose_on(im, (*im)->columns, (*im)->rows, 0, 0, p->bg,
	    false, ex, e)) < 0)
		return rc;
	/* No EXIF, ICC, XMP, IPTC or comment leaves the server. */
	(void)ProfileImage(*im, "*", NULL, 0, MagickFalse);
	(void)SetImageAttribute(*im, "comment", NULL);
	return 0;
}

/* One frame from decoded to finished. */
static int
img_transform(Image **im, const struct img_job *job, const struct img_src *src,
    ExceptionInfo *ex, struct err *e)
{
	const struct params *p = job->params;
	const struct geom_plan *plan = &src->plan;
	int rc;

	/* Upright first: everything after works in the viewer's frame. */
	if ((*im)->orientation > TopLeftOrientation) {
		if ((rc = img_replace(im, AutoOrientImage(*im,
		    (*im)->orientation, ex), ex, e, "orient")) < 0)
			return rc;
		(*im)->orientation = TopLeftOrientation;
	}
	if ((rc = img_to_srgb(im, ex, e)) < 0)
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
	return img_finish(im, job, plan, ex, e);
}

int
img_map_source(const struct img_job *job, bool populate, void **map,
    struct err *e)
{
	*map = MAP_FAILED;
	if (job->limits.max_file_size &&
	    (unsigned long long)job->size > job->limits.max_file_size)
		return err_set(e, ERR_TOO_LARGE,
		    "file size %lld is over the limit of %llu bytes",
		    (long long)job->size, job->limits.max_file_size);
	if (job->size <= 0)
		return err_set(e, ERR_UNDECODABLE, "empty file");
	if (sniff_coder(job->type) == NULL)
		return err_set(e, ERR_UNSUPPORTED, "format not allowed");
	/* Populated at once: one call instead of a fault per page. */
	*map = mmap(NULL, (size_t)job->size, PROT_READ,
	    MAP_PRIVATE | (populate ? MAP_POPULATE : 0), job->fd, 0);
	if (*map == MAP_FAILED)
		return err_set(e, ERR_INTERNAL, "mmap: %s", strerror(errno));
	return 0;
}

int
img_thumb(const struct img_job *job, struct sink *out, struct err *e)
{
	struct img_src src;
	ExceptionInfo ex;
	Image *list = NULL, *done = NULL;
	void *map = MAP_FAILED;
	int rc;

	GetExceptionInfo(&ex);
	if (sniff_coder(img_output_type(job)) == NULL) {
		rc = err_set(e, ERR_UNSUPPORTED, "format not allowed");
		goto out;
	}
	if ((rc = img_map_source(job, true, &map, e)) < 0)
		goto out;
	if ((rc = img_read(job, map, &list, &src, &ex, e)) < 0)
		goto out;
	/* Each frame is taken off the list, finished, and appended. */
	while (list != NULL) {
		Image *im = RemoveFirstImageFromList(&list);

		if ((rc = img_transform(&im, job, &src, &ex, e)) < 0) {
			if (im != NULL)
				DestroyImage(im);
			goto out;
		}
		AppendImageToList(&done, im);
	}
	/* AppendImageToList() leaves done at the last frame. */
	done = GetFirstImageInList(done);
	rc = img_encode(done, job, out, e);
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
img_encode_rgb(const struct rgb *f, const struct img_job *job,
    struct sink *out, struct err *e)
{
	struct geom_plan plan = { .scale_w = f->w, .scale_h = f->h,
	    .out_w = f->w, .out_h = f->h, .finish = GEOM_NONE };
	ExceptionInfo ex;
	Image *im = NULL;
	int rc;

	GetExceptionInfo(&ex);
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
	if ((rc = img_finish(&im, job, &plan, &ex, e)) < 0)
		goto out;
	rc = img_encode(im, job, out, e);
out:
	FREEF(DestroyImage, im);
	DestroyExceptionInfo(&ex);
	return rc;
}
