/*
 * blurhash - the BlurHash placeholder of an image (format=blurhash): a few
 * cosine components of its colour in linear light, quantised and written
 * in base 83, written from the algorithm's published description.
 *
 *   [size flag: 1][max AC: 1][DC: 4][AC: 2 each, bx * by - 1 of them]
 *
 * blurhash_encode() is pure arithmetic on packed RGB (it allocates only
 * its cosine tables, bx * w + by * h numbers); blurhash_job_params() is what makes the pixels it reads cheap:
 * the request with its box shrunk, so that the existing planner decodes a
 * JPEG at 1/8 scale and resizes to a few dozen pixels.
 * Ownership: the caller owns every buffer.
 */
#ifndef MF_BLURHASH_H
#define MF_BLURHASH_H

#include <stddef.h>

#include "req/params.h"

#define BLURHASH_MIN_COMP	1
#define BLURHASH_MAX_COMP	9
/* The longest hash, 9 x 9 components, and its NUL. */
#define BLURHASH_MAX_LEN	(4 + 2 * BLURHASH_MAX_COMP * BLURHASH_MAX_COMP + 1)
/* The long side of the pixels a hash is computed from: 9 components need
 * no more than a few samples each, and the cost is w * h * bx * by. */
#define BLURHASH_SIDE		64

/* The length of the hash of bx x by components: 4 + 2 * bx * by. */
size_t blurhash_len(unsigned bx, unsigned by);

/*
 * Writes the hash of the w x h packed RGB image px (stride bytes a row) with
 * bx x by components (1..9 each) into out (len bytes, NUL-terminated).
 * Returns the hash's length, or -1 when an argument is out of range (w or
 * h 0, a component count outside 1..9, out too small) or memory is out.
 */
int blurhash_encode(const unsigned char *px, unsigned w, unsigned h,
    size_t stride, unsigned bx, unsigned by, char *out, size_t len);

/*
 * The parameters the pixels of a hash are made with: p itself unless
 * format=blurhash; else tmp, a copy of p whose box is scaled down (aspect
 * kept) to at most BLURHASH_SIDE on its long side, dpr 1 — BLURHASH_SIDE
 * square, fit inside, when p has no size. fit, gravity, crop, rotate,
 * flip, enlarge and bg keep their meaning: the hash is of the answer the
 * same request with an image format would give, only smaller.
 */
const struct params *blurhash_job_params(const struct params *p,
    struct params *tmp);

#endif
