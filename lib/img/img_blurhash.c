/*
 * img_blurhash - the hash of a finished image (see img_blurhash.h).
 */
#include "img/img_blurhash.h"

#include <math.h>
#include <stdlib.h>

#include "img/blurhash.h"

/*
 * The pixels read back: the plan made them at most BLURHASH_SIDE on the
 * box's long side, but fit=outside (or a box of extreme aspect) may leave
 * one side longer; past this many pixels the image is shrunk first, which
 * changes a hash of 9 x 9 components by nothing visible.
 */
#define READ_MAX_PIXELS	(4ul * BLURHASH_SIDE * BLURHASH_SIDE)

int
img_blurhash_write(Image *list, const struct img_enc *enc, struct sink *out,
    struct err *e)
{
	char hash[BLURHASH_MAX_LEN];
	unsigned char *px = NULL;
	Image *small = NULL, *im = list;
	ExceptionInfo ex;
	unsigned long w = im->columns, h = im->rows;
	int rc, n;

	GetExceptionInfo(&ex);
	if (w * h > READ_MAX_PIXELS) {
		double k = sqrt((double)READ_MAX_PIXELS / ((double)w * h));

		w = (unsigned long)(w * k) ? (unsigned long)(w * k) : 1;
		h = (unsigned long)(h * k) ? (unsigned long)(h * k) : 1;
		if ((small = ResizeImage(im, w, h, TriangleFilter, 1.0,
		    &ex)) == NULL) {
			rc = img_fail(&ex, e, "blurhash");
			goto out;
		}
		im = small;
	}
	if ((px = malloc(w * h * 3)) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (DispatchImage(im, 0, 0, w, h, "RGB", CharPixel, px, &ex) ==
	    MagickFail) {
		rc = img_fail(&ex, e, "blurhash");
		goto out;
	}
	n = blurhash_encode(px, (unsigned)w, (unsigned)h, w * 3, enc->bx,
	    enc->by, hash, sizeof(hash));
	if (n < 0) {
		rc = err_set(e, ERR_INTERNAL, "blurhash: cannot encode %lux%lu",
		    w, h);
		goto out;
	}
	rc = sink_write(out, hash, (size_t)n) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 0;
out:
	free(px);
	FREEF(DestroyImage, small);
	DestroyExceptionInfo(&ex);
	return rc;
}
