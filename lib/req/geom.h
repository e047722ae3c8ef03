/*
 * geom - the geometry of the fit modes: from the source size and the box,
 * the size to scale the source to, and how that result meets the box
 * (cropped for cover, padded for contain). Pure arithmetic, no allocation;
 * 64-bit intermediate values, so no side of up to 2^31 overflows.
 *
 * geom_plan_limited() is the one pixel-limit planner: every path that
 * allocates pixels (images, video stills, sprites, MJPEG and transcoded
 * streams, live sources) plans through it before allocating anything, so
 * no request can make a worker hold more than its limits allow.
 */
#ifndef MF_GEOM_H
#define MF_GEOM_H

#include <stdbool.h>

#include "core/err.h"

/* fit=: how the source meets the box (geom_plan() says each). */
enum fit { FIT_INSIDE = 0, FIT_COVER, FIT_CONTAIN, FIT_FILL, FIT_OUTSIDE };

/* gravity=: where cover cuts and contain pads. */
enum gravity {
	GRAV_CENTER = 0, GRAV_NORTH, GRAV_SOUTH, GRAV_EAST, GRAV_WEST,
	GRAV_NORTHEAST, GRAV_NORTHWEST, GRAV_SOUTHEAST, GRAV_SOUTHWEST,
	GRAV_SMART	/* cover keeps the busiest part (img_smart.c says how);
			 * the arithmetic here treats it as the centre */
};

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

/*
 * Bounds of every plan, whatever the configuration: no side of an image
 * (the scaled one or the output) over GEOM_MAX_SIDE, which is
 * GraphicsMagick's own width/height limit here and keeps every row stride
 * (3 or 4 bytes a pixel) far inside an int for libswscale; no image over
 * GEOM_MAX_PIXELS (768 MiB as 8-bit RGB, under libav's 2 GiB frame
 * limit). The scaled image (the intermediate that cover cuts from) may
 * have GEOM_SCALE_FACTOR times the output limit's pixels, as much as a
 * cover from a 2:1 box asks for, and no more.
 */
#define GEOM_MAX_SIDE		65535u
#define GEOM_MAX_PIXELS		(1ull << 28)
#define GEOM_SCALE_FACTOR	4ull

/* How the source meets the box: size= (times dpr), fit=, gravity=, enlarge=
 * (params_geom_box() fills it from a request). */
struct geom_box {
	unsigned w, h;		/* 0 = that side is free */
	enum fit fit;
	enum gravity gravity;
	bool enlarge;
};

struct geom_limits {
	/* Of the whole output (a sprite sheet: every tile); 0 = none but
	 * GEOM_MAX_PIXELS. The scaled image may have GEOM_SCALE_FACTOR times
	 * this (of one tile). */
	unsigned long long max_output_pixels;
	/* Of a side of the whole output, the encoder's own limit (JPEG
	 * 65500, WebP 16383, ...); 0 = GEOM_MAX_SIDE. */
	unsigned max_side;
	const char *encoder;	/* named with max_side in the message; may be NULL */
	/* The output is tiles_x x tiles_y copies of the plan's (a sprite
	 * sheet); 0 counts as 1. */
	unsigned tiles_x, tiles_y;
};

/*
 * geom_plan() of a src_w x src_h source (as shown: after the pixel aspect
 * ratio, rotation and crop) meeting box, within lim. Fails with
 * ERR_UNDECODABLE when a source side is 0, and with ERR_TOO_LARGE and a
 * message naming the limit ("size: intermediate 65536x49152 is over the
 * limit of 100000000 pixels") when the scaled image or the output (times
 * the tiles) would be over the pixels or a side over the side limit.
 * Nothing is allocated; callers allocate only what an accepted plan says.
 */
int geom_plan_limited(unsigned src_w, unsigned src_h,
    const struct geom_box *box, const struct geom_limits *lim,
    struct geom_plan *plan, struct err *e);

/* Offset of a part of size inner within outer along x (or y) at gravity. */
unsigned geom_gravity_x(enum gravity g, unsigned outer, unsigned inner);
unsigned geom_gravity_y(enum gravity g, unsigned outer, unsigned inner);

#endif
