/*
 * blurhash - the BlurHash encoder (see blurhash.h), from the published
 * description of the algorithm:
 *
 *   - every pixel is taken to linear light (the sRGB transfer curve);
 *   - component (i, j), i across and j down, is the mean over the image of
 *     the pixel times cos(pi i x / w) cos(pi j y / h), doubled for all but
 *     the first (the DC, which is the mean colour). x and y are taken at
 *     the pixels' centres (x + 0.5: the DCT-II), where the reference
 *     encoder takes their corners: sampled at the corners, the cosines of
 *     odd i do not sum to 0 over a row, so a flat image got AC values of
 *     2/w of its colour, which the max-relative quantisation then blows
 *     up to full scale. Any BlurHash decoder reads either; a hash here
 *     never equals another encoder's anyway, since it is computed from
 *     a 64-pixel downscale;
 *   - the DC is written as the sRGB colour it is (24 bits, 4 base-83
 *     digits); the largest magnitude of any AC value is quantised to
 *     0..82 as floor(max * 166 - 0.5), and each AC channel, divided by the
 *     maximum that quantised value stands for, (q + 1) / 166, is
 *     square-rooted with its sign kept and quantised to 0..18, the three
 *     channels one 19 x 19 x 19 number (2 digits);
 *   - first of all a digit says the component counts, (bx-1) + 9 (by-1).
 */
#include "img/blurhash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char b83[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    "#$%*+,-.:;=?@[]^_{|}~";

/* Appends v as n base-83 digits, most significant first. */
static char *
put83(char *o, unsigned long v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		o[i] = b83[v % 83];
		v /= 83;
	}
	return o + n;
}

static double
to_linear(unsigned v)
{
	double x = v / 255.0;

	return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4);
}

static unsigned
to_srgb(double x)
{
	x = x < 0 ? 0 : x > 1 ? 1 : x;
	x = x <= 0.0031308 ? x * 12.92 : 1.055 * pow(x, 1 / 2.4) - 0.055;
	return (unsigned)(x * 255 + 0.5);
}

/* sign(v) |v|^0.5 of v / max, as 0..18. */
static unsigned
quant_ac(double v, double max)
{
	double r = v / max, q;

	r = r < 0 ? -sqrt(-r) : sqrt(r);
	q = floor(r * 9 + 9.5);
	return q < 0 ? 0 : q > 18 ? 18 : (unsigned)q;
}

size_t
blurhash_len(unsigned bx, unsigned by)
{
	return 4 + 2 * (size_t)bx * by;
}

int
blurhash_encode(const unsigned char *px, unsigned w, unsigned h,
    size_t stride, unsigned bx, unsigned by, char *out, size_t len)
{
	double f[BLURHASH_MAX_COMP * BLURHASH_MAX_COMP][3], lin[256];
	double *cx = NULL, *cy = NULL, maxac = 0, maxv = 1;
	unsigned n = bx * by, qmax = 0;
	char *o = out;
	int rc = -1;

	if (px == NULL || w == 0 || h == 0 || stride < (size_t)w * 3 ||
	    bx < BLURHASH_MIN_COMP || bx > BLURHASH_MAX_COMP ||
	    by < BLURHASH_MIN_COMP || by > BLURHASH_MAX_COMP ||
	    out == NULL || len < blurhash_len(bx, by) + 1)
		goto out;
	if ((cx = malloc(sizeof(*cx) * bx * w)) == NULL ||
	    (cy = malloc(sizeof(*cy) * by * h)) == NULL)
		goto out;
	for (unsigned v = 0; v < 256; v++)
		lin[v] = to_linear(v);
	for (unsigned i = 0; i < bx; i++)
		for (unsigned x = 0; x < w; x++)
			cx[i * w + x] = cos(M_PI * i * (x + 0.5) / w);
	for (unsigned j = 0; j < by; j++)
		for (unsigned y = 0; y < h; y++)
			cy[j * h + y] = cos(M_PI * j * (y + 0.5) / h);
	memset(f, 0, sizeof(f));
	/* One pass over the pixels: each adds to every component. */
	for (unsigned y = 0; y < h; y++) {
		const unsigned char *row = px + (size_t)y * stride;

		for (unsigned x = 0; x < w; x++) {
			double r = lin[row[3 * x]], g = lin[row[3 * x + 1]],
			    b = lin[row[3 * x + 2]];

			for (unsigned j = 0; j < by; j++) {
				double yb = cy[j * h + y];

				for (unsigned i = 0; i < bx; i++) {
					double basis = yb * cx[i * w + x];
					double *c = f[j * bx + i];

					c[0] += basis * r;
					c[1] += basis * g;
					c[2] += basis * b;
				}
			}
		}
	}
	for (unsigned k = 0; k < n; k++)
		for (int c = 0; c < 3; c++) {
			f[k][c] *= (k == 0 ? 1.0 : 2.0) / ((double)w * h);
			if (k > 0 && fabs(f[k][c]) > maxac)
				maxac = fabs(f[k][c]);
		}
	o = put83(o, (bx - 1) + (by - 1) * 9, 1);
	if (n > 1) {
		double q = floor(maxac * 166 - 0.5);

		qmax = q < 0 ? 0 : q > 82 ? 82 : (unsigned)q;
		maxv = (qmax + 1) / 166.0;
	}
	o = put83(o, qmax, 1);
	o = put83(o, (unsigned long)to_srgb(f[0][0]) << 16 |
	    to_srgb(f[0][1]) << 8 | to_srgb(f[0][2]), 4);
	for (unsigned k = 1; k < n; k++)
		o = put83(o, quant_ac(f[k][0], maxv) * 19 * 19 +
		    quant_ac(f[k][1], maxv) * 19 + quant_ac(f[k][2], maxv), 2);
	*o = '\0';
	rc = (int)(o - out);
out:
	free(cx);
	free(cy);
	return rc;
}

const struct params *
blurhash_job_params(const struct params *p, struct params *tmp)
{
	unsigned w, h, side;

	if (p->format != OUT_BLURHASH)
		return p;
	*tmp = *p;
	params_box(p, &w, &h);
	tmp->dpr = 1;
	tmp->given &= ~P_DPR;
	if (w == 0 && h == 0) {
		tmp->width = tmp->height = BLURHASH_SIDE;
		tmp->fit = FIT_INSIDE;
		tmp->given |= P_SIZE;
		return tmp;
	}
	side = w > h ? w : h;
	if (side > BLURHASH_SIDE) {
		/* Rounded, never to 0: the box keeps its aspect. */
		w = w ? (unsigned)lround((double)w * BLURHASH_SIDE / side) : 0;
		h = h ? (unsigned)lround((double)h * BLURHASH_SIDE / side) : 0;
		if (p->width && w == 0)
			w = 1;
		if (p->height && h == 0)
			h = 1;
	}
	tmp->width = w;
	tmp->height = h;
	return tmp;
}
