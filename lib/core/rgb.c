#include "core/rgb.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int
rgb_alloc(struct rgb *r, unsigned w, unsigned h)
{
	size_t bytes;

	r->px = NULL;
	r->w = w;
	r->h = h;
	r->stride = 0;
	if (w == 0 || h == 0 ||
	    __builtin_mul_overflow((size_t)w, (size_t)3, &r->stride) ||
	    r->stride > RGB_MAX_STRIDE ||
	    __builtin_mul_overflow(r->stride, (size_t)h, &bytes) ||
	    bytes > RGB_MAX_BYTES)
		return -1;
	if ((r->px = malloc(bytes + RGB_PAD)) == NULL)
		return -1;
	/* Read too: see RGB_PAD. */
	memset(r->px + bytes, 0, RGB_PAD);
	return 0;
}

void
rgb_free(struct rgb *r)
{
	free(r->px);
	r->px = NULL;
}

void
rgb_fill(struct rgb *r, uint32_t color)
{
	unsigned char c[3] = { color >> 16, (color >> 8) & 0xff, color & 0xff };

	for (unsigned y = 0; y < r->h; y++) {
		unsigned char *row = r->px + y * r->stride;

		for (unsigned x = 0; x < r->w; x++)
			memcpy(row + 3 * x, c, 3);
	}
}

void
rgb_blit(struct rgb *dst, unsigned dx, unsigned dy, const struct rgb *src,
    unsigned sx, unsigned sy, unsigned w, unsigned h)
{
	for (unsigned y = 0; y < h; y++)
		memcpy(dst->px + (dy + y) * dst->stride + 3 * (size_t)dx,
		    src->px + (sy + y) * src->stride + 3 * (size_t)sx,
		    3 * (size_t)w);
}

int
rgb_orient(struct rgb *r, unsigned deg, bool flip_h, bool flip_v)
{
	struct rgb o;
	bool swap = deg == 90 || deg == 270;

	deg %= 360;
	if (deg == 0 && !flip_h && !flip_v)
		return 0;
	if (rgb_alloc(&o, swap ? r->h : r->w, swap ? r->w : r->h) < 0)
		return -1;
	/* For each output pixel, where it comes from in r. */
	for (unsigned y = 0; y < o.h; y++) {
		unsigned char *row = o.px + y * o.stride;

		for (unsigned x = 0; x < o.w; x++) {
			unsigned ox = flip_h ? o.w - 1 - x : x;
			unsigned oy = flip_v ? o.h - 1 - y : y;
			unsigned sx, sy;

			switch (deg) {
			case 90: sx = oy; sy = r->h - 1 - ox; break;
			case 180: sx = r->w - 1 - ox; sy = r->h - 1 - oy; break;
			case 270: sx = r->w - 1 - oy; sy = ox; break;
			default: sx = ox; sy = oy; break;
			}
			memcpy(row + 3 * (size_t)x,
			    r->px + sy * r->stride + 3 * (size_t)sx, 3);
		}
	}
	rgb_free(r);
	*r = o;
	return 0;
}
