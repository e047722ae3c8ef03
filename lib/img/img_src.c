/*
 * img_src - the source of a job: checks, mapping, and the read that
 * decodes no pixel before the headers passed the limits (see img_src.h).
 */
#include "img/img_src.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "img/png_guard.h"

/*
 * One frame more than allowed is enough to know a source is over the
 * limit, and then no source, whatever it holds, makes a coder allocate
 * more. GIF and TIFF honour subrange in ping mode as well (measured: 301
 * of 10^6 1x1 GIF frames pinged in 3 ms and 27 MB, against 36 s and 12 GB
 * for all of them); GraphicsMagick reads no WebP animation, only its first
 * frame.
 */
unsigned long
img_src_frames_bound(const struct img_job *job)
{
	return job->limits.max_frames ? job->limits.max_frames + 1ul : 0;
}

int
img_src_frames_over(const struct img_job *job, struct err *e)
{
	return err_set(e, ERR_TOO_LARGE, "frames: over the limit of %u frames "
	    "(max_frames)", job->limits.max_frames);
}

int
img_src_orientation(const Image *im)
{
	const ImageAttribute *a = GetImageAttribute(im, "EXIF:Orientation");
	long v;

	if (a == NULL || a->value == NULL)
		return 1;
	v = strtol(a->value, NULL, 10);
	return v >= 1 && v <= 8 ? (int)v : 1;
}

int
img_src_map(const struct img_job *job, bool populate, void **map,
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

/*
 * Geometry of the job on a source of w x h as the viewer sees it: fills
 * plan and the size after crop and rotate (*ew x *eh). Fails 400 when crop
 * leaves the source, 413 when the output is over the limit.
 */
static int
img_plan(const struct img_job *job, enum media_type out_type, unsigned w,
    unsigned h,
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
	img_encoder_limits(out_type, &gl);
	params_geom_box(p, &box);
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

static bool
type_has_frames(enum media_type t)
{
	return t == MT_GIF || t == MT_TIFF || t == MT_WEBP;
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

/* See img_src.h. */
int
img_src_read(const struct img_job *job, const struct img_enc *enc,
    const void *data, Image **out, struct img_src_geom *src,
    ExceptionInfo *ex, struct err *e)
{
	const struct params *p = job->params;
	enum media_type t = enc->type;
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
	ii->subrange = all ? img_src_frames_bound(job) : 1;

	/* Header first: limits and geometry before any pixel is decoded. */
	if ((im = PingBlob(ii, data, (size_t)job->size, ex)) == NULL) {
		rc = img_fail(ex, e, "not a decodable image");
		goto out;
	}
	frames = GetImageListLength(im);
	if (all && job->limits.max_frames && frames > job->limits.max_frames) {
		rc = img_src_frames_over(job, e);
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
	orient = img_src_orientation(im);
	src->dw = orient >= 5 ? (unsigned)h : (unsigned)w;
	src->dh = orient >= 5 ? (unsigned)w : (unsigned)h;
	DestroyImageList(im);
	im = NULL;
	if ((rc = img_plan(job, enc->type, src->dw, src->dh, &src->plan, &ew, &eh, e)) < 0)
		goto out;
	if (job->type == MT_JPEG) {
		jpeg_hint(src->dw, src->dh, orient, &src->plan, ew, eh, hint,
		    sizeof(hint));
		(void)CloneString(&ii->size, hint);
	}

	/* Only the frames the answer needs, never past the frame limit. */
	ii->subimage = from;
	ii->subrange = anim ? img_src_frames_bound(job) : to - from + 1;
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
		rc = img_src_frames_over(job, e);
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
