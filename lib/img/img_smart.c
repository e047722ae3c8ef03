/*
 * img_smart - gravity=smart: which part of an image a cover cut keeps.
 *
 * The busiest part: for every pixel, the contrast with its right and lower
 * neighbours (sum of absolute luma differences, which finds edges, texture
 * and text) plus its saturation (max - min of R, G, B, which finds colourful
 * subjects against sky, walls or studio backgrounds). Summed per column
 * (or row), the window of the output's width (or height) with the largest
 * sum wins; of equal sums the one nearest the centre. Only one axis is ever
 * cut by cover, so the search is one-dimensional and linear in the pixels.
 */
#include "img/img_smart.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Interest of each column (horiz) or row of the w x h RGB pixels. */
static void
profile(const unsigned char *px, unsigned w, unsigned h, bool horiz,
    uint64_t *sum)
{
	for (unsigned y = 0; y < h; y++) {
		const unsigned char *row = px + (size_t)y * w * 3;
		const unsigned char *next = y + 1 < h ? row + (size_t)w * 3 : row;

		for (unsigned x = 0; x < w; x++) {
			const unsigned char *c = row + 3 * (size_t)x;
			const unsigned char *r = x + 1 < w ? c + 3 : c;
			const unsigned char *d = next + 3 * (size_t)x;
			int l = c[0] * 2 + c[1] * 5 + c[2];
			int lr = r[0] * 2 + r[1] * 5 + r[2];
			int ld = d[0] * 2 + d[1] * 5 + d[2];
			int mx = c[0] > c[1] ? c[0] : c[1], mn = c[0] < c[1] ? c[0] : c[1];

			mx = mx > c[2] ? mx : c[2];
			mn = mn < c[2] ? mn : c[2];
			sum[horiz ? x : y] += (uint64_t)(abs(l - lr) + abs(l - ld)) +
			    (uint64_t)(mx - mn) * 2;
		}
	}
}

void
img_smart_offset(const Image *im, unsigned out_w, unsigned out_h,
    unsigned *x, unsigned *y)
{
	unsigned w = im->columns, h = im->rows;
	bool horiz = out_w < w;
	unsigned n = horiz ? w : h, win = horiz ? out_w : out_h;
	unsigned char *px = NULL;
	uint64_t *sum = NULL, cur = 0, best = 0;
	unsigned best_at, centre;
	ExceptionInfo ex;

	*x = (w - (out_w < w ? out_w : w)) / 2;
	*y = (h - (out_h < h ? out_h : h)) / 2;
	if (win >= n)
		return;
	GetExceptionInfo(&ex);
	if ((px = malloc((size_t)w * h * 3)) == NULL ||
	    (sum = calloc(n, sizeof(*sum))) == NULL ||
	    DispatchImage(im, 0, 0, w, h, "RGB", CharPixel, px, &ex) ==
	    MagickFail)
		goto out;
	profile(px, w, h, horiz, sum);
	for (unsigned i = 0; i < win; i++)
		cur += sum[i];
	centre = (n - win) / 2;
	best = cur;
	best_at = 0;
	for (unsigned at = 1; at + win <= n; at++) {
		cur += sum[at + win - 1] - sum[at - 1];
		if (cur > best || (cur == best &&
		    abs((int)at - (int)centre) < abs((int)best_at - (int)centre))) {
			best = cur;
			best_at = at;
		}
	}
	if (horiz)
		*x = best_at;
	else
		*y = best_at;
out:
	free(sum);
	free(px);
	DestroyExceptionInfo(&ex);
}
