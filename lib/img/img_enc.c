/*
 * img_enc - encoders: GraphicsMagick's writers straight into the sink
 * through a stdio stream (no blob copy), and animated WebP through
 * libwebpmux, which GraphicsMagick's WebP writer lacks.
 */
#include "img/img_enc.h"
#include "img/img_blurhash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webp/encode.h>
#include <webp/mux.h>

#include "img/enc_avif.h"
#include "img/enc_modern.h"
#include "img/watermark.h"
#include "req/geom.h"

/* Browsers show a GIF delay under 2/100 s as 1/10 s; so does this. */
static int
frame_ms(const Image *im)
{
	return im->delay >= 2 ? (int)im->delay * 10 : 100;
}

static int
encode_gm(Image *list, const struct img_enc *enc, struct sink *out,
    struct err *e)
{
	enum media_type t = enc->type;
	const char *coder = sniff_coder(t);
	ImageInfo *ii = CloneImageInfo(NULL);
	FILE *fp = NULL;
	int rc = 0;

	snprintf(ii->magick, sizeof(ii->magick), "%s", coder);
	snprintf(ii->filename, sizeof(ii->filename), "%s:", coder);
	ii->adjoin = MagickTrue;
	for (Image *im = list; im != NULL; im = im->next) {
		snprintf(im->magick, sizeof(im->magick), "%s", coder);
		snprintf(im->filename, sizeof(im->filename), "%s:", coder);
		/* Each frame is whole (coalesced): it replaces the last. */
		if (list->next != NULL) {
			im->page.width = im->columns;
			im->page.height = im->rows;
			im->page.x = im->page.y = 0;
			im->dispose = BackgroundDispose;
		}
	}
	if (t == MT_JPEG || t == MT_WEBP)
		ii->quality = enc->quality;
	if ((fp = sink_fopen(out)) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	ii->file = fp;
	if (WriteImage(ii, list) == MagickFail) {
		rc = img_fail(&list->exception, e, "encode");
		e->kind = ERR_INTERNAL;
	}
	/* Flushes stdio's last buffer into the sink. */
	if (fclose(fp) != 0 && rc == 0)
		rc = err_set(e, ERR_GONE, "client went away");
out:
	FREEF(DestroyImageInfo, ii);
	return rc;
}

static int
encode_webp_anim(Image *list, const struct img_enc *enc, struct sink *out,
    struct err *e)
{
	unsigned w = list->columns, h = list->rows;
	WebPAnimEncoderOptions opts;
	WebPAnimEncoder *anim = NULL;
	WebPConfig cfg;
	WebPData data = { NULL, 0 };
	unsigned char *rgba = NULL;
	ExceptionInfo ex;
	int ts = 0, rc = 0;

	GetExceptionInfo(&ex);
	if (!WebPAnimEncoderOptionsInit(&opts) || !WebPConfigInit(&cfg)) {
		rc = err_set(e, ERR_INTERNAL, "libwebp version mismatch");
		goto out;
	}
	opts.anim_params.loop_count = (int)list->iterations;
	cfg.quality = (float)enc->quality;
	if ((anim = WebPAnimEncoderNew((int)w, (int)h, &opts)) == NULL ||
	    (rgba = malloc((size_t)w * h * 4)) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (Image *im = list; im != NULL; im = im->next) {
		WebPPicture pic;
		int ok;

		if (im->columns != w || im->rows != h ||
		    DispatchImage(im, 0, 0, w, h, "RGBA", CharPixel, rgba,
		    &ex) == MagickFail) {
			rc = err_set(e, ERR_INTERNAL, "animation frame differs");
			goto out;
		}
		if (!WebPPictureInit(&pic)) {
			rc = err_set(e, ERR_INTERNAL, "libwebp version mismatch");
			goto out;
		}
		pic.use_argb = 1;
		pic.width = (int)w;
		pic.height = (int)h;
		ok = WebPPictureImportRGBA(&pic, rgba, (int)w * 4) &&
		    WebPAnimEncoderAdd(anim, &pic, ts, &cfg);
		WebPPictureFree(&pic);
		if (!ok) {
			rc = err_set(e, ERR_INTERNAL, "webp: %s",
			    WebPAnimEncoderGetError(anim));
			goto out;
		}
		ts += frame_ms(im);
	}
	if (!WebPAnimEncoderAdd(anim, NULL, ts, NULL) ||
	    !WebPAnimEncoderAssemble(anim, &data)) {
		rc = err_set(e, ERR_INTERNAL, "webp: %s",
		    WebPAnimEncoderGetError(anim));
		goto out;
	}
	if (sink_write(out, data.bytes, data.size) < 0)
		rc = err_set(e, ERR_GONE, "client went away");
out:
	WebPDataClear(&data);
	free(rgba);
	if (anim != NULL)
		WebPAnimEncoderDelete(anim);
	DestroyExceptionInfo(&ex);
	return rc;
}

void
img_encoder_limits(enum media_type t, struct geom_limits *lim)
{
	switch (t) {
	case MT_JPEG:
		lim->max_side = 65500;	/* libjpeg's JPEG_MAX_DIMENSION */
		lim->encoder = "JPEG";
		break;
	case MT_WEBP:
		lim->max_side = WEBP_MAX_DIMENSION;	/* 16383 */
		lim->encoder = "WebP";
		break;
	case MT_AVIF:
		lim->max_side = ENC_AVIF_MAX_SIDE;	/* 16384 */
		lim->encoder = "AVIF";
		break;
	default:
		/* PNG and GIF hold 16 bits a side and more: the plan's own. */
		lim->max_side = GEOM_MAX_SIDE;
		lim->encoder = NULL;
		break;
	}
}

int
img_encode(Image *list, const struct img_enc *enc, struct sink *out,
    struct err *e)
{
	if (sniff_coder(enc->type) == NULL)
		return err_set(e, ERR_BAD_PARAM, "format: not an image format");
	if (enc->blurhash)
		return img_blurhash_write(list, enc, out, e);
	if (enc->type == MT_WEBP && list->next != NULL)
		return encode_webp_anim(list, enc, out, e);
	if (enc_modern_is(enc->type))
		return enc_modern_write(list, enc, out, e);
	return encode_gm(list, enc, out, e);
}

bool
img_enc_has_alpha(enum media_type t)
{
	return t == MT_PNG || t == MT_WEBP || t == MT_GIF || t == MT_AVIF ||
	    t == MT_JXL;
}

/* format= as an output type; of the source's own, src when browsers all
 * show it. */
static enum media_type
enc_type(enum out_format f, enum media_type src)
{
	switch (f) {
	case OUT_JPEG: return MT_JPEG;
	case OUT_PNG: return MT_PNG;
	case OUT_WEBP: return MT_WEBP;
	case OUT_GIF: return MT_GIF;
	case OUT_AVIF: return MT_AVIF;
	case OUT_JXL: return MT_JXL;
	case OUT_VTT: case OUT_MJPEG: case OUT_MP4: case OUT_WEBM: case OUT_HLS:
		return MT_UNKNOWN;
	case OUT_BLURHASH:	/* pixels made as for JPEG: no alpha */
		return MT_JPEG;
	case OUT_SOURCE:
	case OUT_AUTO:	/* resolved by the caller; unresolved means source */
		break;
	}
	/* Sources that browsers do not all show (TIFF, HEIF, AVIF, JPEG XL)
	 * are answered as JPEG unless format= says otherwise. */
	switch (src) {
	case MT_JPEG: case MT_PNG: case MT_GIF: case MT_WEBP:
		return src;
	default:
		return MT_JPEG;
	}
}

enum media_type
img_output_type(const struct img_job *job)
{
	return enc_type(job->params->format, job->type);
}

void
img_enc_from_params(const struct params *p, enum media_type src,
    const struct img_limits *lim, struct img_enc *enc)
{
	enc->type = enc_type(p->format, src);
	enc->quality = p->quality ? p->quality : lim->default_quality;
	enc->avif_speed = lim->avif_speed;
	enc->jxl_effort = lim->jxl_effort;
	enc->max_filter_work = lim->max_filter_work;
	enc->bg = p->bg;
	enc->has_bg = (p->given & P_BG) != 0;
	enc->blur = p->blur;
	enc->sharpen = p->sharpen;
	/* The router refused a name the config lacks (400) before this. */
	enc->wm = (p->given & P_WM) ? wm_find(lim->watermarks,
	    lim->n_watermarks, p->wm) : NULL;
	enc->blurhash = p->format == OUT_BLURHASH;
	enc->bx = p->bx;
	enc->by = p->by;
}
