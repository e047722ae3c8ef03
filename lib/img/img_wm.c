/*
 * img_wm - the GraphicsMagick side of watermarks (watermark.h): the
 * watermark drawn over a finished image, its alpha combined with the
 * image's own.
 */
#include "img/img_wm.h"

#include <math.h>

/* One row over a GraphicsMagick image, its alpha (if any) combined. */
static int
gm_row(void *ctx, long x, long y, unsigned n, const float *s, struct err *e)
{
	Image *im = ctx;
	PixelPacket *q;

	if ((q = GetImagePixels(im, x, y, n, 1)) == NULL)
		return img_fail(&im->exception, e, "watermark");
	for (unsigned i = 0; i < n; i++, q++, s += 4) {
		float sa = s[3], da = 1, oa;
		Quantum *ch[3] = { &q->red, &q->green, &q->blue };

		if (im->matte)
			da = 1 - (float)q->opacity / MaxRGB;
		/* Porter-Duff over: an opaque image keeps da = oa = 1. */
		oa = sa + da * (1 - sa);
		for (int c = 0; c < 3; c++) {
			float v = oa > 0 ? (s[c] * MaxRGB + *ch[c] * da *
			    (1 - sa)) / oa : 0;

			*ch[c] = (Quantum)lrintf(fminf(MaxRGB, fmaxf(0, v)));
		}
		if (im->matte)
			q->opacity = (Quantum)lrintf((1 - oa) * MaxRGB);
	}
	if (SyncImagePixels(im) == MagickFail)
		return img_fail(&im->exception, e, "watermark");
	return 0;
}

int
img_wm_apply(Image *im, const struct wm *wm, struct err *e)
{
	/* Colours are written where a palette or a grey image had none. */
	im->storage_class = DirectClass;
	im->is_grayscale = MagickFalse;
	im->is_monochrome = MagickFalse;
	return wm_render(wm, (unsigned)im->columns, (unsigned)im->rows, gm_row,
	    im, e);
}
