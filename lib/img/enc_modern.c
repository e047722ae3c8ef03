/*
 * enc_modern - GraphicsMagick pixels to the AVIF and JPEG XL encoders.
 * See enc_modern.h.
 */
#include "img/enc_modern.h"

#include <stdlib.h>

#include "img/enc_avif.h"
#include "img/enc_jxl.h"

bool
enc_modern_is(enum media_type t)
{
	return t == MT_AVIF || t == MT_JXL;
}

int
enc_modern_write(Image *im, const struct img_enc *enc, struct sink *out,
    struct err *e)
{
	unsigned w = (unsigned)im->columns, h = (unsigned)im->rows;
	bool alpha = im->matte != MagickFalse;
	unsigned char *px = NULL;
	ExceptionInfo ex;
	int rc;

	GetExceptionInfo(&ex);
	/* The plan kept w x h under the output limit: this is bounded. */
	if ((px = malloc((size_t)w * h * (alpha ? 4 : 3))) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (DispatchImage(im, 0, 0, w, h, alpha ? "RGBA" : "RGB", CharPixel,
	    px, &ex) == MagickFail) {
		rc = img_fail(&ex, e, "pixels");
		goto out;
	}
	if (enc->type == MT_AVIF)
		rc = enc_avif_write(px, w, h, alpha, enc->quality,
		    enc->avif_speed, out, e);
	else if (enc->type == MT_JXL)
		rc = enc_jxl_write(px, w, h, alpha, enc->quality,
		    enc->jxl_effort, out, e);
	else
		rc = err_set(e, ERR_INTERNAL, "not an AVIF or JPEG XL answer");
out:
	free(px);
	DestroyExceptionInfo(&ex);
	return rc;
}
