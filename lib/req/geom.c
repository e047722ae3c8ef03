/*
 * geom - fit-mode geometry (see geom.h). Integer arithmetic only: ratios are
 * compared by cross-multiplying and scaled sides computed as a rounded
 * a * b / c in 64 bits, which holds any product of two 32-bit sides, so the
 * same request gives the same pixels on every machine.
 */
#include "req/geom.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

_Static_assert(UINT_MAX == 0xFFFFFFFFu, "geom assumes a 32-bit unsigned");

/* round(a * b / c), halves up; a, b, c < 2^32 and c > 0 cannot overflow. */
static uint64_t
muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	return (a * b + c / 2) / c;
}

/* round(a * b / c) as a side: at least 1 (a thin source stays visible). */
static uint64_t
side(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t v = muldiv(a, b, c);

	return v ? v : 1;
}

/*
 * Where each gravity puts a part within the room around it, along x and
 * along y: at the start (0), centred (1) or at the end (2). Smart is
 * centred here; img_smart.c moves the cut where the detail is.
 */
static const unsigned char gravity_at[][2] = {
	[GRAV_CENTER] = { 1, 1 }, [GRAV_NORTH] = { 1, 0 },
	[GRAV_SOUTH] = { 1, 2 }, [GRAV_EAST] = { 2, 1 },
	[GRAV_WEST] = { 0, 1 }, [GRAV_NORTHEAST] = { 2, 0 },
	[GRAV_NORTHWEST] = { 0, 0 }, [GRAV_SOUTHEAST] = { 2, 2 },
	[GRAV_SOUTHWEST] = { 0, 2 }, [GRAV_SMART] = { 1, 1 },
};

/* Offset of a part of size inner within outer along axis (0 x, 1 y). */
static unsigned
gravity_offset(enum gravity g, int axis, unsigned outer, unsigned inner)
{
	unsigned at = (unsigned)g < sizeof(gravity_at) / sizeof(*gravity_at) ?
	    gravity_at[g][axis] : 1;

	if (inner > outer)
		return 0;
	return at == 0 ? 0 : at == 1 ? (outer - inner) / 2 : outer - inner;
}

unsigned
geom_gravity_x(enum gravity g, unsigned outer, unsigned inner)
{
	return gravity_offset(g, 0, outer, inner);
}

unsigned
geom_gravity_y(enum gravity g, unsigned outer, unsigned inner)
{
	return gravity_offset(g, 1, outer, inner);
}

/*
 * Scales sw x sh to meet the box bw x bh (both > 0) at the factor
 * min(bw/sw, bh/sh) (smaller true) or max(...) (smaller false). The
 * limiting side equals the box's; the other is rounded. Returns true if
 * the factor was over 1 and !enlarge: then *w x *h is the source size.
 */
static bool
scale_to_box(uint64_t sw, uint64_t sh, uint64_t bw, uint64_t bh,
    bool smaller, bool enlarge, uint64_t *w, uint64_t *h)
{
	/* bw/sw <= bh/sh, by cross-multiplying: width is the tighter side. */
	bool by_width = (bw * sh <= bh * sw) == smaller;
	bool held = false;

	if (by_width && (bw <= sw || enlarge)) {
		*w = bw;
		*h = side(sh, bw, sw);
	} else if (!by_width && (bh <= sh || enlarge)) {
		*w = side(sw, bh, sh);
		*h = bh;
	} else {
		*w = sw;
		*h = sh;
		held = true;
	}
	return held;
}

/*
 * The rectangle of the box's aspect that fits in sw x sh (inner true: the
 * largest one inside) or holds it (inner false: the smallest one around).
 */
static void
box_aspect(uint64_t sw, uint64_t sh, uint64_t bw, uint64_t bh, bool inner,
    uint64_t *w, uint64_t *h)
{
	/* The box is wider than the source (relative to their heights). */
	bool wider = bw * sh >= bh * sw;

	if (wider == inner) {
		*w = sw;
		*h = side(sw, bh, bw);
	} else {
		*w = side(sh, bw, bh);
		*h = sh;
	}
}

/* A plan before it is known to fit in 32 bits. */
struct plan64 {
	uint64_t scw, sch, ow, oh;
	enum geom_finish finish;
};

static int
plan64(unsigned src_w, unsigned src_h, unsigned box_w, unsigned box_h,
    enum fit fit, bool enlarge, struct plan64 *pl)
{
	uint64_t sw = src_w, sh = src_h, bw = box_w, bh = box_h;
	uint64_t scw = sw, sch = sh, ow = 0, oh = 0;
	enum geom_finish finish = GEOM_NONE;

	if (src_w == 0 || src_h == 0 || (unsigned)fit > FIT_OUTSIDE)
		return -1;
	if (bw == 0 && bh == 0) {
		/* Nothing asked: the source size. */
	} else if (bw == 0 || bh == 0) {
		/* One side free: every mode scales to the other, aspect kept. */
		if (bw != 0 && (bw <= sw || enlarge)) {
			scw = bw;
			sch = side(sh, bw, sw);
		} else if (bh != 0 && (bh <= sh || enlarge)) {
			scw = side(sw, bh, sh);
			sch = bh;
		}
	} else {
		switch (fit) {
		case FIT_INSIDE:
			scale_to_box(sw, sh, bw, bh, true, enlarge, &scw, &sch);
			break;
		case FIT_OUTSIDE:
			scale_to_box(sw, sh, bw, bh, false, enlarge, &scw,
			    &sch);
			break;
		case FIT_COVER:
		case FIT_CONTAIN:
			/* Cover scales to cover the box and cuts it out;
			 * contain scales to fit inside it and pads. Held at
			 * the source size, either keeps the box's shape: the
			 * largest such part of the source (cover), the
			 * smallest around it (contain). */
			if (scale_to_box(sw, sh, bw, bh, fit == FIT_CONTAIN,
			    enlarge, &scw, &sch)) {
				box_aspect(sw, sh, bw, bh, fit == FIT_COVER, &ow,
				    &oh);
			} else {
				ow = bw;
				oh = bh;
			}
			finish = fit == FIT_COVER ? GEOM_CROP : GEOM_PAD;
			break;
		case FIT_FILL:
			if (enlarge || (bw <= sw && bh <= sh)) {
				scw = bw;
				sch = bh;
			} else {
				/* The box shrunk until it fits the source. */
				box_aspect(sw, sh, bw, bh, true, &scw, &sch);
			}
			break;
		}
	}
	if (finish == GEOM_NONE || (ow == scw && oh == sch)) {
		/* A cut or a pad of nothing is no finish at all. */
		finish = GEOM_NONE;
		ow = scw;
		oh = sch;
	}
	pl->scw = scw;
	pl->sch = sch;
	pl->ow = ow;
	pl->oh = oh;
	pl->finish = finish;
	return 0;
}

/* The plan in 32 bits, offsets at gravity; -1 if a side does not fit. */
static int
plan_store(const struct plan64 *pl, enum gravity gravity,
    struct geom_plan *plan)
{
	/* An enlarged thin source can outgrow 32 bits; no caller wants that. */
	if (pl->scw > UINT_MAX || pl->sch > UINT_MAX || pl->ow > UINT_MAX ||
	    pl->oh > UINT_MAX)
		return -1;
	plan->scale_w = (unsigned)pl->scw;
	plan->scale_h = (unsigned)pl->sch;
	plan->out_w = (unsigned)pl->ow;
	plan->out_h = (unsigned)pl->oh;
	plan->finish = pl->finish;
	if (pl->finish == GEOM_CROP) {
		plan->off_x = geom_gravity_x(gravity, plan->scale_w, plan->out_w);
		plan->off_y = geom_gravity_y(gravity, plan->scale_h, plan->out_h);
	} else if (pl->finish == GEOM_PAD) {
		plan->off_x = geom_gravity_x(gravity, plan->out_w, plan->scale_w);
		plan->off_y = geom_gravity_y(gravity, plan->out_h, plan->scale_h);
	}
	return 0;
}

int
geom_plan(unsigned src_w, unsigned src_h, unsigned box_w, unsigned box_h,
    enum fit fit, enum gravity gravity, bool enlarge, struct geom_plan *plan)
{
	struct plan64 pl;

	memset(plan, 0, sizeof(*plan));
	if (plan64(src_w, src_h, box_w, box_h, fit, enlarge, &pl) < 0 ||
	    plan_store(&pl, gravity, plan) < 0) {
		memset(plan, 0, sizeof(*plan));
		return -1;
	}
	return 0;
}

int
geom_plan_limited(unsigned src_w, unsigned src_h,
    const struct geom_box *box, const struct geom_limits *lim,
    struct geom_plan *plan, struct err *e)
{
	uint64_t tx = lim->tiles_x ? lim->tiles_x : 1;
	uint64_t ty = lim->tiles_y ? lim->tiles_y : 1;
	uint64_t max_out = lim->max_output_pixels &&
	    lim->max_output_pixels < GEOM_MAX_PIXELS ?
	    lim->max_output_pixels : GEOM_MAX_PIXELS;
	uint64_t max_scale = max_out * GEOM_SCALE_FACTOR;
	uint64_t max_side = lim->max_side && lim->max_side < GEOM_MAX_SIDE ?
	    lim->max_side : GEOM_MAX_SIDE;
	struct plan64 pl;
	const char *what;

	memset(plan, 0, sizeof(*plan));
	if (max_scale > GEOM_MAX_PIXELS)
		max_scale = GEOM_MAX_PIXELS;
	if (plan64(src_w, src_h, box->w, box->h, box->fit, box->enlarge,
	    &pl) < 0)
		return err_set(e, ERR_UNDECODABLE,
		    "the source has no picture size (%ux%u)", src_w, src_h);
	/* Without a cut the scaled image is the output: named as such. */
	what = pl.finish == GEOM_NONE ? "output" : "intermediate";
	/*
	 * Sides first: once they are under 2^16 (tiles included), no
	 * product below overflows 64 bits.
	 */
	if (pl.scw > GEOM_MAX_SIDE || pl.sch > GEOM_MAX_SIDE)
		return err_set(e, ERR_TOO_LARGE,
		    "size: %s %llux%llu is over the limit of %u pixels a side",
		    what, (unsigned long long)pl.scw,
		    (unsigned long long)pl.sch, GEOM_MAX_SIDE);
	/* ow * tx > max_side, without the product (ow may be near 2^64). */
	if (pl.ow > max_side / tx || pl.oh > max_side / ty)
		return err_set(e, ERR_TOO_LARGE,
		    "size: output %llux%llu is over the limit of %llu pixels "
		    "a side%s%s", (unsigned long long)(pl.ow * tx),
		    (unsigned long long)(pl.oh * ty),
		    (unsigned long long)max_side, lim->encoder ? " of " : "",
		    lim->encoder ? lim->encoder : "");
	if (pl.ow * tx * pl.oh * ty > max_out)
		return err_set(e, ERR_TOO_LARGE,
		    "size: output %llux%llu is over the limit of %llu pixels",
		    (unsigned long long)(pl.ow * tx),
		    (unsigned long long)(pl.oh * ty),
		    (unsigned long long)max_out);
	if (pl.finish != GEOM_NONE && pl.scw * pl.sch > max_scale)
		return err_set(e, ERR_TOO_LARGE,
		    "size: %s %llux%llu is over the limit of %llu pixels",
		    what, (unsigned long long)pl.scw,
		    (unsigned long long)pl.sch,
		    (unsigned long long)max_scale);
	(void)plan_store(&pl, box->gravity, plan);
	return 0;
}
