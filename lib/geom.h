/*
 * geom - the geometry of the fit modes: from the source size and the box,
 * the size to scale the source to, and how that result meets the box
 * (cropped for cover, padded for contain). Pure arithmetic, no allocation;
 * 64-bit intermediate values, so no side of up to 2^31 overflows.
 */
#ifndef MF_GEOM_H
#define MF_GEOM_H

#include <stdbool.h>

#include "params.h"

enum geom_finish {
	GEOM_NONE = 0,	/* the scaled image is the output */
	GEOM_CROP,	/* cut out_w x out_h at (off_x, off_y) of the scaled image */
	GEOM_PAD	/* put the scaled image at (off_x, off_y) on an out_w x out_h canvas */
};

struct geom_plan {
	unsigned scale_w, scale_h;	/* scale the source to this (>= 1) */
	unsigned out_w, out_h;		/* the output's size (>= 1) */
	unsigned off_x, off_y;
	enum geom_finish finish;
};

/*
 * Plans src_w x src_h (both >= 1) meeting a box_w x box_h box (0 = that side
 * is free) with fit and gravity:
 *   inside   scale to fit within the box, aspect kept;
 *   outside  scale to cover the box, aspect kept, nothing cut;
 *   cover    scale to cover the box, then cut to the box at gravity;
 *   contain  scale to fit within the box, then pad to the box at gravity;
 *   fill     scale to the box exactly, aspect ignored.
 * With only one side given every mode scales to that side, aspect kept.
 * With no side given the source size is kept. Unless enlarge, nothing is
 * scaled up: the output keeps the mode's aspect at the source's scale (cover
 * cuts the largest box-shaped region of the source; contain pads the source
 * to the box's aspect; fill shrinks the box until it fits the source).
 * Returns 0, or -1 if an argument is out of range (src side 0).
 */
int geom_plan(unsigned src_w, unsigned src_h, unsigned box_w, unsigned box_h,
    enum fit fit, enum gravity gravity, bool enlarge, struct geom_plan *plan);

/* Offset of a part of size inner within outer along x (or y) at gravity. */
unsigned geom_gravity_x(enum gravity g, unsigned outer, unsigned inner);
unsigned geom_gravity_y(enum gravity g, unsigned outer, unsigned inner);

#endif
