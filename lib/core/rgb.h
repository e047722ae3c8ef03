/*
 * rgb - packed 8-bit RGB frames and the few whole-frame moves video stills
 * need after scaling: quarter turns, mirrors, and copying one rectangle
 * into another (cut, pad, sprite tiles).
 * Ownership: rgb_alloc() gives the frame its pixels; rgb_free() takes them.
 */
#ifndef MF_RGB_H
#define MF_RGB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rgb {
	unsigned char *px;	/* NULL until rgb_alloc() */
	unsigned w, h;
	size_t stride;		/* bytes per row, >= 3 * w */
};

/*
 * A row is at most RGB_MAX_STRIDE bytes, so it is a valid int stride for
 * libswscale and libav; a frame at most RGB_MAX_BYTES (a plan that
 * geom_plan_limited() accepted is far inside both).
 */
#define RGB_MAX_STRIDE	((size_t)INT_MAX)
#define RGB_MAX_BYTES	((size_t)1 << 32)
/*
 * Bytes allocated past the last row: libswscale's SIMD writers store whole
 * vectors and run up to this far past a row whose length is not a multiple
 * of their width (measured: 16 bytes for RGB24 at 200 pixels a row). Its
 * readers go past a row too: RGB24 to 4:2:0 at an odd width averages the
 * last pixel with the one after it, which for the last row is in here.
 * rgb_alloc() zeroes these bytes so that such a read gives the same
 * picture every time (heap garbage there made transcoded HLS segments of
 * rotate=90 differ between requests).
 */
#define RGB_PAD		64

/* 0, or -1 when w x h is 0 or over the maxima above, or out of memory. */
int rgb_alloc(struct rgb *r, unsigned w, unsigned h);
void rgb_free(struct rgb *r);		/* r can hold NULL pixels */

/* Fills r with 0xRRGGBB. */
void rgb_fill(struct rgb *r, uint32_t color);

/*
 * Copies the w x h rectangle of src at (sx, sy) to (dx, dy) of dst. The
 * caller keeps both rectangles inside their frames.
 */
void rgb_blit(struct rgb *dst, unsigned dx, unsigned dy,
    const struct rgb *src, unsigned sx, unsigned sy, unsigned w, unsigned h);

/*
 * Replaces *r by r turned clockwise by deg (0, 90, 180, 270), then
 * mirrored left-right (flip_h) and top-bottom (flip_v). 0 or -1 (memory).
 */
int rgb_orient(struct rgb *r, unsigned deg, bool flip_h, bool flip_v);

#endif
