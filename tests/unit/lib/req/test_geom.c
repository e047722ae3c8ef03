/*
 * test_geom - the fit modes' arithmetic: landscape and portrait sources into
 * landscape, portrait and square boxes, one-side and no boxes, enlarge on
 * and off, gravity, and sizes at the edges of the types; and the one
 * pixel-limit planner, geom_plan_limited(): intermediate, output, side and
 * sheet bounds, each refusal a 413 naming its limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "req/geom.h"
#include "req/params.h"	/* params_fit_name() in messages */

#define NO false
#define YES true

/*
 * Plans and compares every field, naming the case and the line of the
 * expectation (cmocka would name this helper's line).
 */
static void
expect_at(int line, unsigned sw, unsigned sh, unsigned bw, unsigned bh,
    enum fit fit, enum gravity g, bool enlarge, unsigned scw, unsigned sch,
    unsigned ow, unsigned oh, unsigned ox, unsigned oy, enum geom_finish fin)
{
	struct geom_plan p;
	int rc = geom_plan(sw, sh, bw, bh, fit, g, enlarge, &p);

	if (rc != 0)
		fail_msg("line %d: %ux%u into %ux%u %s: rc %d", line, sw, sh,
		    bw, bh, params_fit_name(fit), rc);
	if (p.scale_w != scw || p.scale_h != sch || p.out_w != ow ||
	    p.out_h != oh || p.off_x != ox || p.off_y != oy || p.finish != fin)
		fail_msg("line %d: %ux%u into %ux%u %s %s enlarge=%d: got "
		    "scale %ux%u out %ux%u off %u,%u finish %d; want "
		    "scale %ux%u out %ux%u off %u,%u finish %d", line, sw, sh,
		    bw, bh, params_fit_name(fit), params_gravity_name(g),
		    enlarge, p.scale_w, p.scale_h, p.out_w, p.out_h, p.off_x,
		    p.off_y, (int)p.finish, scw, sch, ow, oh, ox, oy, (int)fin);
}

#define EXPECT(...) expect_at(__LINE__, __VA_ARGS__)

/* Only the scaled size matters; the output is the scaled image. */
#define EXPECT_SCALE(sw, sh, bw, bh, fit, enl, w, h) \
	EXPECT(sw, sh, bw, bh, fit, GRAV_CENTER, enl, w, h, w, h, 0, 0, GEOM_NONE)

static void
inside_fits_within_the_box(void **state)
{
	(void)state;
	/* landscape 400x300 */
	EXPECT_SCALE(400, 300, 200, 200, FIT_INSIDE, NO, 200, 150);
	EXPECT_SCALE(400, 300, 200, 100, FIT_INSIDE, NO, 133, 100);
	EXPECT_SCALE(400, 300, 100, 200, FIT_INSIDE, NO, 100, 75);
	/* portrait 300x400 */
	EXPECT_SCALE(300, 400, 200, 200, FIT_INSIDE, NO, 150, 200);
	EXPECT_SCALE(300, 400, 200, 100, FIT_INSIDE, NO, 75, 100);
	EXPECT_SCALE(300, 400, 100, 200, FIT_INSIDE, NO, 100, 133);
	/* the box's aspect: both sides exact */
	EXPECT_SCALE(400, 300, 200, 150, FIT_INSIDE, NO, 200, 150);
}

static void
inside_does_not_enlarge_unless_asked(void **state)
{
	(void)state;
	EXPECT_SCALE(400, 300, 800, 800, FIT_INSIDE, NO, 400, 300);
	EXPECT_SCALE(400, 300, 800, 800, FIT_INSIDE, YES, 800, 600);
	EXPECT_SCALE(300, 400, 800, 800, FIT_INSIDE, YES, 600, 800);
	EXPECT_SCALE(400, 300, 400, 300, FIT_INSIDE, NO, 400, 300);
	/* one side over the source, the other under: shrinks anyway */
	EXPECT_SCALE(400, 300, 800, 150, FIT_INSIDE, NO, 200, 150);
}

static void
outside_covers_the_box_uncut(void **state)
{
	(void)state;
	EXPECT_SCALE(400, 300, 200, 200, FIT_OUTSIDE, NO, 267, 200);
	EXPECT_SCALE(400, 300, 200, 100, FIT_OUTSIDE, NO, 200, 150);
	EXPECT_SCALE(400, 300, 100, 200, FIT_OUTSIDE, NO, 267, 200);
	EXPECT_SCALE(300, 400, 200, 200, FIT_OUTSIDE, NO, 200, 267);
	EXPECT_SCALE(300, 400, 200, 100, FIT_OUTSIDE, NO, 200, 267);
	EXPECT_SCALE(300, 400, 100, 200, FIT_OUTSIDE, NO, 150, 200);
}

static void
outside_does_not_enlarge_unless_asked(void **state)
{
	(void)state;
	/* factor max(2, 1/3) = 2 */
	EXPECT_SCALE(400, 300, 800, 100, FIT_OUTSIDE, NO, 400, 300);
	EXPECT_SCALE(400, 300, 800, 100, FIT_OUTSIDE, YES, 800, 600);
	EXPECT_SCALE(400, 300, 800, 800, FIT_OUTSIDE, YES, 1067, 800);
}

static void
cover_scales_then_cuts_at_gravity(void **state)
{
	(void)state;
	/* landscape into square: 267x200, 67 columns to cut */
	EXPECT(400, 300, 200, 200, FIT_COVER, GRAV_CENTER, NO,
	    267, 200, 200, 200, 33, 0, GEOM_CROP);
	/* landscape into a wider box: 200x150, 50 rows to cut */
	EXPECT(400, 300, 200, 100, FIT_COVER, GRAV_CENTER, NO,
	    200, 150, 200, 100, 0, 25, GEOM_CROP);
	/* landscape into portrait */
	EXPECT(400, 300, 100, 200, FIT_COVER, GRAV_CENTER, NO,
	    267, 200, 100, 200, 83, 0, GEOM_CROP);
	/* portrait into square, three gravities */
	EXPECT(300, 400, 200, 200, FIT_COVER, GRAV_CENTER, NO,
	    200, 267, 200, 200, 0, 33, GEOM_CROP);
	EXPECT(300, 400, 200, 200, FIT_COVER, GRAV_NORTH, NO,
	    200, 267, 200, 200, 0, 0, GEOM_CROP);
	EXPECT(300, 400, 200, 200, FIT_COVER, GRAV_SOUTH, NO,
	    200, 267, 200, 200, 0, 67, GEOM_CROP);
	/* portrait into landscape and portrait boxes */
	EXPECT(300, 400, 200, 100, FIT_COVER, GRAV_CENTER, NO,
	    200, 267, 200, 100, 0, 83, GEOM_CROP);
	EXPECT(300, 400, 100, 200, FIT_COVER, GRAV_CENTER, NO,
	    150, 200, 100, 200, 25, 0, GEOM_CROP);
}

static void
cover_of_the_same_aspect_cuts_nothing(void **state)
{
	(void)state;
	EXPECT(400, 300, 200, 150, FIT_COVER, GRAV_CENTER, NO,
	    200, 150, 200, 150, 0, 0, GEOM_NONE);
	EXPECT(400, 300, 800, 600, FIT_COVER, GRAV_CENTER, NO,
	    400, 300, 400, 300, 0, 0, GEOM_NONE);
}

static void
cover_without_enlarge_cuts_the_box_shape_from_the_source(void **state)
{
	(void)state;
	/* the largest square in 400x300 */
	EXPECT(400, 300, 800, 800, FIT_COVER, GRAV_CENTER, NO,
	    400, 300, 300, 300, 50, 0, GEOM_CROP);
	EXPECT(400, 300, 800, 800, FIT_COVER, GRAV_WEST, NO,
	    400, 300, 300, 300, 0, 0, GEOM_CROP);
	EXPECT(400, 300, 800, 800, FIT_COVER, GRAV_EAST, NO,
	    400, 300, 300, 300, 100, 0, GEOM_CROP);
	/* box wider than the source, shorter: max(2, 1/3) > 1, 8:1 cut */
	EXPECT(400, 300, 800, 100, FIT_COVER, GRAV_CENTER, NO,
	    400, 300, 400, 50, 0, 125, GEOM_CROP);
	EXPECT(400, 300, 800, 100, FIT_COVER, GRAV_SOUTH, NO,
	    400, 300, 400, 50, 0, 250, GEOM_CROP);
	/* box a little taller than the source: factor 31/30 */
	EXPECT(400, 300, 300, 310, FIT_COVER, GRAV_CENTER, NO,
	    400, 300, 290, 300, 55, 0, GEOM_CROP);
	/* portrait source, landscape box larger than it */
	EXPECT(300, 400, 600, 300, FIT_COVER, GRAV_CENTER, NO,
	    300, 400, 300, 150, 0, 125, GEOM_CROP);
}

static void
cover_with_enlarge_scales_up(void **state)
{
	(void)state;
	EXPECT(400, 300, 800, 800, FIT_COVER, GRAV_CENTER, YES,
	    1067, 800, 800, 800, 133, 0, GEOM_CROP);
	EXPECT(400, 300, 800, 100, FIT_COVER, GRAV_NORTH, YES,
	    800, 600, 800, 100, 0, 0, GEOM_CROP);
}

static void
contain_scales_then_pads_at_gravity(void **state)
{
	(void)state;
	EXPECT(400, 300, 200, 200, FIT_CONTAIN, GRAV_CENTER, NO,
	    200, 150, 200, 200, 0, 25, GEOM_PAD);
	EXPECT(400, 300, 200, 200, FIT_CONTAIN, GRAV_NORTH, NO,
	    200, 150, 200, 200, 0, 0, GEOM_PAD);
	EXPECT(400, 300, 200, 200, FIT_CONTAIN, GRAV_SOUTH, NO,
	    200, 150, 200, 200, 0, 50, GEOM_PAD);
	EXPECT(400, 300, 200, 100, FIT_CONTAIN, GRAV_CENTER, NO,
	    133, 100, 200, 100, 33, 0, GEOM_PAD);
	EXPECT(400, 300, 100, 200, FIT_CONTAIN, GRAV_CENTER, NO,
	    100, 75, 100, 200, 0, 62, GEOM_PAD);
	EXPECT(300, 400, 200, 200, FIT_CONTAIN, GRAV_CENTER, NO,
	    150, 200, 200, 200, 25, 0, GEOM_PAD);
	EXPECT(300, 400, 200, 200, FIT_CONTAIN, GRAV_WEST, NO,
	    150, 200, 200, 200, 0, 0, GEOM_PAD);
	EXPECT(300, 400, 200, 200, FIT_CONTAIN, GRAV_EAST, NO,
	    150, 200, 200, 200, 50, 0, GEOM_PAD);
	EXPECT(300, 400, 200, 100, FIT_CONTAIN, GRAV_CENTER, NO,
	    75, 100, 200, 100, 62, 0, GEOM_PAD);
	EXPECT(300, 400, 100, 200, FIT_CONTAIN, GRAV_CENTER, NO,
	    100, 133, 100, 200, 0, 33, GEOM_PAD);
	/* the same aspect needs no padding */
	EXPECT(400, 300, 200, 150, FIT_CONTAIN, GRAV_CENTER, NO,
	    200, 150, 200, 150, 0, 0, GEOM_NONE);
}

static void
contain_without_enlarge_pads_the_source_to_the_box_shape(void **state)
{
	(void)state;
	/* the smallest square around 400x300 */
	EXPECT(400, 300, 800, 800, FIT_CONTAIN, GRAV_CENTER, NO,
	    400, 300, 400, 400, 0, 50, GEOM_PAD);
	EXPECT(400, 300, 800, 800, FIT_CONTAIN, GRAV_SOUTHEAST, NO,
	    400, 300, 400, 400, 0, 100, GEOM_PAD);
	/* min(2.5, 5/3) > 1: a 2:1 canvas around the source */
	EXPECT(400, 300, 1000, 500, FIT_CONTAIN, GRAV_CENTER, NO,
	    400, 300, 600, 300, 100, 0, GEOM_PAD);
	/* box wider but shorter: min(2, 1/3) < 1, a plain shrink */
	EXPECT(400, 300, 800, 100, FIT_CONTAIN, GRAV_CENTER, NO,
	    133, 100, 800, 100, 333, 0, GEOM_PAD);
	/* same aspect, larger: nothing to do */
	EXPECT(400, 300, 800, 600, FIT_CONTAIN, GRAV_CENTER, NO,
	    400, 300, 400, 300, 0, 0, GEOM_NONE);
}

static void
contain_with_enlarge_scales_up(void **state)
{
	(void)state;
	EXPECT(400, 300, 800, 800, FIT_CONTAIN, GRAV_CENTER, YES,
	    800, 600, 800, 800, 0, 100, GEOM_PAD);
	EXPECT(300, 400, 800, 800, FIT_CONTAIN, GRAV_NORTHWEST, YES,
	    600, 800, 800, 800, 0, 0, GEOM_PAD);
}

static void
fill_ignores_aspect(void **state)
{
	(void)state;
	EXPECT_SCALE(400, 300, 200, 200, FIT_FILL, NO, 200, 200);
	EXPECT_SCALE(400, 300, 200, 100, FIT_FILL, NO, 200, 100);
	EXPECT_SCALE(400, 300, 100, 250, FIT_FILL, NO, 100, 250);
	EXPECT_SCALE(300, 400, 200, 100, FIT_FILL, NO, 200, 100);
	EXPECT_SCALE(400, 300, 400, 300, FIT_FILL, NO, 400, 300);
}

static void
fill_without_enlarge_shrinks_the_box_into_the_source(void **state)
{
	(void)state;
	/* min(400/800, 300/100) = 1/2 */
	EXPECT_SCALE(400, 300, 800, 100, FIT_FILL, NO, 400, 50);
	/* min(400/800, 300/800) = 3/8 */
	EXPECT_SCALE(400, 300, 800, 800, FIT_FILL, NO, 300, 300);
	/* min(300/200, 400/800) = 1/2 */
	EXPECT_SCALE(300, 400, 200, 800, FIT_FILL, NO, 100, 400);
	EXPECT_SCALE(400, 300, 800, 800, FIT_FILL, YES, 800, 800);
	EXPECT_SCALE(400, 300, 800, 100, FIT_FILL, YES, 800, 100);
}

static void
one_side_scales_every_mode_keeping_aspect(void **state)
{
	static const enum fit fits[] = {
		FIT_INSIDE, FIT_COVER, FIT_CONTAIN, FIT_FILL, FIT_OUTSIDE
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fits) / sizeof(fits[0]); i++) {
		EXPECT_SCALE(400, 300, 200, 0, fits[i], NO, 200, 150);
		EXPECT_SCALE(400, 300, 0, 150, fits[i], NO, 200, 150);
		EXPECT_SCALE(300, 400, 0, 100, fits[i], NO, 75, 100);
		EXPECT_SCALE(300, 400, 100, 0, fits[i], NO, 100, 133);
		EXPECT_SCALE(400, 300, 800, 0, fits[i], NO, 400, 300);
		EXPECT_SCALE(400, 300, 0, 600, fits[i], NO, 400, 300);
		EXPECT_SCALE(400, 300, 800, 0, fits[i], YES, 800, 600);
		EXPECT_SCALE(400, 300, 0, 600, fits[i], YES, 800, 600);
	}
}

static void
no_box_keeps_the_source_size(void **state)
{
	(void)state;
	EXPECT_SCALE(400, 300, 0, 0, FIT_INSIDE, NO, 400, 300);
	EXPECT_SCALE(400, 300, 0, 0, FIT_COVER, YES, 400, 300);
	EXPECT_SCALE(300, 400, 0, 0, FIT_CONTAIN, NO, 300, 400);
	EXPECT_SCALE(300, 400, 0, 0, FIT_FILL, YES, 300, 400);
	EXPECT_SCALE(1, 1, 0, 0, FIT_OUTSIDE, NO, 1, 1);
}

static void
gravity_x_for_all_nine(void **state)
{
	(void)state;
	assert_int_equal(geom_gravity_x(GRAV_CENTER, 100, 40), 30);
	assert_int_equal(geom_gravity_x(GRAV_NORTH, 100, 40), 30);
	assert_int_equal(geom_gravity_x(GRAV_SOUTH, 100, 40), 30);
	assert_int_equal(geom_gravity_x(GRAV_EAST, 100, 40), 60);
	assert_int_equal(geom_gravity_x(GRAV_WEST, 100, 40), 0);
	assert_int_equal(geom_gravity_x(GRAV_NORTHEAST, 100, 40), 60);
	assert_int_equal(geom_gravity_x(GRAV_NORTHWEST, 100, 40), 0);
	assert_int_equal(geom_gravity_x(GRAV_SOUTHEAST, 100, 40), 60);
	assert_int_equal(geom_gravity_x(GRAV_SOUTHWEST, 100, 40), 0);
}

static void
gravity_y_for_all_nine(void **state)
{
	(void)state;
	assert_int_equal(geom_gravity_y(GRAV_CENTER, 100, 40), 30);
	assert_int_equal(geom_gravity_y(GRAV_NORTH, 100, 40), 0);
	assert_int_equal(geom_gravity_y(GRAV_SOUTH, 100, 40), 60);
	assert_int_equal(geom_gravity_y(GRAV_EAST, 100, 40), 30);
	assert_int_equal(geom_gravity_y(GRAV_WEST, 100, 40), 30);
	assert_int_equal(geom_gravity_y(GRAV_NORTHEAST, 100, 40), 0);
	assert_int_equal(geom_gravity_y(GRAV_NORTHWEST, 100, 40), 0);
	assert_int_equal(geom_gravity_y(GRAV_SOUTHEAST, 100, 40), 60);
	assert_int_equal(geom_gravity_y(GRAV_SOUTHWEST, 100, 40), 60);
}

static void
gravity_centre_rounds_down_and_inner_too_big_is_zero(void **state)
{
	enum gravity g;

	(void)state;
	assert_int_equal(geom_gravity_x(GRAV_CENTER, 101, 40), 30);
	assert_int_equal(geom_gravity_y(GRAV_CENTER, 101, 40), 30);
	for (g = GRAV_CENTER; g <= GRAV_SOUTHWEST; g++) {
		assert_int_equal(geom_gravity_x(g, 40, 100), 0);
		assert_int_equal(geom_gravity_y(g, 40, 100), 0);
		assert_int_equal(geom_gravity_x(g, 40, 40), 0);
		assert_int_equal(geom_gravity_y(g, 40, 40), 0);
	}
	assert_int_equal(geom_gravity_x(GRAV_EAST, 0xFFFFFFFFu, 0), 0xFFFFFFFFu);
	assert_int_equal(geom_gravity_x(GRAV_CENTER, 0xFFFFFFFFu, 0),
	    0x7FFFFFFFu);
	assert_int_equal(geom_gravity_y(GRAV_SOUTH, 0xFFFFFFFFu, 1),
	    0xFFFFFFFEu);
}

static void
cover_crop_offsets_follow_all_nine_gravities(void **state)
{
	(void)state;
	/* 400x300 into 200x200: scaled 267x200, cut 67 columns */
	EXPECT(400, 300, 200, 200, FIT_COVER, GRAV_NORTHWEST, NO,
	    267, 200, 200, 200, 0, 0, GEOM_CROP);
	EXPECT(400, 300, 200, 200, FIT_COVER, GRAV_NORTH, NO,
	    267, 200, 200, 200, 33, 0, GEOM_CROP);
	EXPECT(400, 300, 200, 200, FIT_COVER, GRAV_NORTHEAST, NO,
	    267, 200, 200, 200, 67, 0, GEOM_CROP);
	EXPECT(400, 300, 200, 200, FIT_COVER, GRAV_WEST, NO,
	    267, 200, 200, 200, 0, 0, GEOM_CROP);
	EXPECT(400, 300, 200, 200, FIT_COVER, GRAV_EAST, NO,
	    267, 200, 200, 200, 67, 0, GEOM_CROP);
	EXPECT(400, 300, 200, 200, FIT_COVER, GRAV_SOUTHWEST, NO,
	    267, 200, 200, 200, 0, 0, GEOM_CROP);
	EXPECT(400, 300, 200, 200, FIT_COVER, GRAV_SOUTH, NO,
	    267, 200, 200, 200, 33, 0, GEOM_CROP);
	EXPECT(400, 300, 200, 200, FIT_COVER, GRAV_SOUTHEAST, NO,
	    267, 200, 200, 200, 67, 0, GEOM_CROP);
	/* a portrait source cut in rows */
	EXPECT(300, 400, 200, 200, FIT_COVER, GRAV_NORTHEAST, NO,
	    200, 267, 200, 200, 0, 0, GEOM_CROP);
	EXPECT(300, 400, 200, 200, FIT_COVER, GRAV_SOUTHWEST, NO,
	    200, 267, 200, 200, 0, 67, GEOM_CROP);
	EXPECT(300, 400, 200, 200, FIT_COVER, GRAV_EAST, NO,
	    200, 267, 200, 200, 0, 33, GEOM_CROP);
}

static void
one_pixel_source(void **state)
{
	(void)state;
	EXPECT_SCALE(1, 1, 100, 100, FIT_INSIDE, NO, 1, 1);
	EXPECT_SCALE(1, 1, 100, 100, FIT_OUTSIDE, NO, 1, 1);
	EXPECT_SCALE(1, 1, 100, 100, FIT_COVER, NO, 1, 1);
	EXPECT_SCALE(1, 1, 100, 100, FIT_CONTAIN, NO, 1, 1);
	EXPECT_SCALE(1, 1, 100, 100, FIT_FILL, NO, 1, 1);
	EXPECT_SCALE(1, 1, 100, 100, FIT_INSIDE, YES, 100, 100);
	EXPECT_SCALE(1, 1, 65536, 65536, FIT_FILL, YES, 65536, 65536);
	/* a 1x1 source cannot be cut to 2:1; it is padded for contain */
	EXPECT_SCALE(1, 1, 200, 100, FIT_COVER, NO, 1, 1);
	EXPECT(1, 1, 200, 100, FIT_CONTAIN, GRAV_CENTER, NO,
	    1, 1, 2, 1, 0, 0, GEOM_PAD);
	EXPECT(1, 1, 200, 100, FIT_CONTAIN, GRAV_EAST, NO,
	    1, 1, 2, 1, 1, 0, GEOM_PAD);
}

static void
thin_source_keeps_sides_of_at_least_one(void **state)
{
	(void)state;
	/* 1/1000 of a row rounds to 0, kept at 1 */
	EXPECT_SCALE(100000, 1, 100, 100, FIT_INSIDE, NO, 100, 1);
	EXPECT_SCALE(1, 100000, 100, 100, FIT_INSIDE, NO, 1, 100);
	EXPECT_SCALE(100000, 1, 100, 0, FIT_COVER, NO, 100, 1);
	EXPECT(100000, 1, 100, 100, FIT_CONTAIN, GRAV_CENTER, NO,
	    100, 1, 100, 100, 0, 49, GEOM_PAD);
	/* cover without enlarge: a 1x1 square from the middle */
	EXPECT(100000, 1, 100, 100, FIT_COVER, GRAV_CENTER, NO,
	    100000, 1, 1, 1, 49999, 0, GEOM_CROP);
	EXPECT(100000, 1, 100, 100, FIT_COVER, GRAV_EAST, NO,
	    100000, 1, 1, 1, 99999, 0, GEOM_CROP);
	/* with enlarge: 10 million columns, 100 kept */
	EXPECT(100000, 1, 100, 100, FIT_COVER, GRAV_CENTER, YES,
	    10000000, 100, 100, 100, 4999950, 0, GEOM_CROP);
	EXPECT_SCALE(100000, 1, 65536, 65536, FIT_FILL, NO, 1, 1);
	EXPECT_SCALE(100000, 1, 65536, 65536, FIT_INSIDE, YES, 65536, 1);
}

static void
largest_boxes_do_not_overflow(void **state)
{
	(void)state;
	/* size=16384x16384 at dpr=4 */
	EXPECT_SCALE(400, 300, 65536, 65536, FIT_INSIDE, YES, 65536, 49152);
	EXPECT(400, 300, 65536, 65536, FIT_COVER, GRAV_CENTER, YES,
	    87381, 65536, 65536, 65536, 10922, 0, GEOM_CROP);
	EXPECT(400, 300, 65536, 65536, FIT_COVER, GRAV_CENTER, NO,
	    400, 300, 300, 300, 50, 0, GEOM_CROP);
	EXPECT(300, 400, 65536, 65536, FIT_CONTAIN, GRAV_CENTER, YES,
	    49152, 65536, 65536, 65536, 8192, 0, GEOM_PAD);
	/* sides of 2^32 - 1: products near 2^64 */
	EXPECT_SCALE(0xFFFFFFFFu, 0xFFFFFFFFu, 65536, 65536, FIT_INSIDE, NO,
	    65536, 65536);
	EXPECT_SCALE(0xFFFFFFFFu, 1, 0xFFFFFFFFu, 0xFFFFFFFFu, FIT_INSIDE, NO,
	    0xFFFFFFFFu, 1);
	EXPECT_SCALE(0xFFFFFFFEu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0, FIT_INSIDE, NO,
	    0xFFFFFFFEu, 0xFFFFFFFFu);
	EXPECT_SCALE(2, 0xFFFFFFFFu, 1, 0, FIT_INSIDE, NO, 1, 2147483648u);
}

static void
results_beyond_32_bits_are_refused(void **state)
{
	struct geom_plan p;

	(void)state;
	/* 100000 * 65536 columns do not fit in unsigned */
	assert_int_equal(geom_plan(100000, 1, 65536, 65536, FIT_OUTSIDE,
	    GRAV_CENTER, YES, &p), -1);
	assert_int_equal(geom_plan(1, 0xFFFFFFFFu, 0xFFFFFFFFu, 0, FIT_INSIDE,
	    GRAV_CENTER, YES, &p), -1);
	/* the same without enlarge stays at the source size */
	assert_int_equal(geom_plan(100000, 1, 65536, 65536, FIT_OUTSIDE,
	    GRAV_CENTER, NO, &p), 0);
	assert_int_equal(p.scale_w, 100000);
	assert_int_equal(p.scale_h, 1);
}

static void
bad_arguments_are_refused(void **state)
{
	struct geom_plan p;

	(void)state;
	assert_int_equal(geom_plan(0, 300, 100, 100, FIT_INSIDE, GRAV_CENTER,
	    NO, &p), -1);
	assert_int_equal(geom_plan(400, 0, 100, 100, FIT_INSIDE, GRAV_CENTER,
	    NO, &p), -1);
	assert_int_equal(geom_plan(0, 0, 0, 0, FIT_INSIDE, GRAV_CENTER,
	    NO, &p), -1);
	assert_int_equal(geom_plan(400, 300, 100, 100, (enum fit)17,
	    GRAV_CENTER, NO, &p), -1);
}

/* Invariants over a grid of sizes, every mode, both enlarge values. */
static void
plans_are_consistent_over_a_grid(void **state)
{
	static const unsigned sides[] = {
		1, 2, 3, 7, 99, 100, 101, 299, 300, 301, 400, 1000, 4096,
		100000
	};
	const size_t n = sizeof(sides) / sizeof(sides[0]);
	size_t a, b, c, d;
	int fit, enl;
	struct geom_plan p;

	(void)state;
	for (a = 0; a < n; a++)
	for (b = 0; b < n; b++)
	for (c = 0; c <= n; c++)
	for (d = 0; d <= n; d++)
	for (fit = FIT_INSIDE; fit <= FIT_OUTSIDE; fit++)
	for (enl = 0; enl <= 1; enl++) {
		unsigned sw = sides[a], sh = sides[b];
		/* index n stands for a free side (0) */
		unsigned bw = c < n ? sides[c] : 0, bh = d < n ? sides[d] : 0;

		if (geom_plan(sw, sh, bw, bh, (enum fit)fit, GRAV_SOUTHEAST,
		    enl, &p) != 0) {
			/* only when enlarging makes a side over 2^32 - 1 */
			if (!enl || ((uint64_t)sw * bh <= 0xFFFFFFFFull * sh &&
			    (uint64_t)sh * bw <= 0xFFFFFFFFull * sw))
				fail_msg("%ux%u into %ux%u fit %d: refused",
				    sw, sh, bw, bh, fit);
			continue;
		}
		assert_true(p.scale_w >= 1 && p.scale_h >= 1);
		assert_true(p.out_w >= 1 && p.out_h >= 1);
		if (!enl)
			assert_true(p.scale_w <= sw && p.scale_h <= sh);
		switch (p.finish) {
		case GEOM_NONE:
			assert_true(p.out_w == p.scale_w &&
			    p.out_h == p.scale_h);
			assert_true(p.off_x == 0 && p.off_y == 0);
			break;
		case GEOM_CROP:
			assert_int_equal(fit, FIT_COVER);
			assert_true(p.out_w != p.scale_w ||
			    p.out_h != p.scale_h);
			assert_true(p.off_x + p.out_w == p.scale_w);
			assert_true(p.off_y + p.out_h == p.scale_h);
			break;
		case GEOM_PAD:
			assert_int_equal(fit, FIT_CONTAIN);
			assert_true(p.out_w != p.scale_w ||
			    p.out_h != p.scale_h);
			assert_true(p.off_x + p.scale_w == p.out_w);
			assert_true(p.off_y + p.scale_h == p.out_h);
			break;
		default:
			fail();
		}
		if (bw == 0 || bh == 0)
			continue;
		if (fit == FIT_INSIDE || fit == FIT_CONTAIN)
			assert_true(p.scale_w <= bw && p.scale_h <= bh);
		if (fit == FIT_INSIDE || fit == FIT_CONTAIN ||
		    fit == FIT_OUTSIDE || fit == FIT_COVER)
			/* one side of the scaled image meets the box or
			 * the source size was kept */
			assert_true(p.scale_w == bw || p.scale_h == bh ||
			    (!enl && p.scale_w == sw && p.scale_h == sh));
		if (enl && (fit == FIT_COVER || fit == FIT_CONTAIN ||
		    fit == FIT_FILL))
			assert_true(p.out_w == bw && p.out_h == bh);
		if (fit == FIT_COVER && (enl || (bw <= sw && bh <= sh)))
			assert_true(p.out_w == bw && p.out_h == bh);
		if (fit == FIT_COVER)
			assert_true(p.out_w <= p.scale_w &&
			    p.out_h <= p.scale_h);
		if (fit == FIT_CONTAIN)
			assert_true(p.out_w >= p.scale_w &&
			    p.out_h >= p.scale_h);
	}
}

/* ---- geom_plan_limited(): the one pixel-limit planner ---- */

static int
limited(unsigned sw, unsigned sh, unsigned bw, unsigned bh, enum fit fit,
    bool enlarge, const struct geom_limits *lim, struct geom_plan *p,
    struct err *e)
{
	struct geom_box box = { .w = bw, .h = bh, .fit = fit,
	    .gravity = GRAV_CENTER, .enlarge = enlarge };

	err_init(e);
	return geom_plan_limited(sw, sh, &box, lim, p, e);
}

static void
expect_refused(int line, int rc, const struct err *e, const char *msg)
{
	if (rc != -(int)ERR_TOO_LARGE || e->kind != ERR_TOO_LARGE)
		fail_msg("line %d: rc %d kind %d (%s), want ERR_TOO_LARGE",
		    line, rc, (int)e->kind, e->msg);
	if (strstr(e->msg, msg) == NULL)
		fail_msg("line %d: message \"%s\" lacks \"%s\"", line, e->msg,
		    msg);
}

#define REFUSED(rc, e, msg) expect_refused(__LINE__, rc, e, msg)

static void
limited_plan_is_geom_plan_within_the_limits(void **state)
{
	struct geom_limits lim = { .max_output_pixels = 25000000 };
	struct geom_plan a, b;
	struct err e;

	(void)state;
	assert_int_equal(limited(1920, 1080, 300, 300, FIT_COVER, NO, &lim,
	    &a, &e), 0);
	assert_int_equal(geom_plan(1920, 1080, 300, 300, FIT_COVER,
	    GRAV_CENTER, NO, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(e.kind, ERR_NONE);
	/* Exactly at the limits: 5000x5000 output, 4x as much scaled. */
	assert_int_equal(limited(4000, 2000, 5000, 5000, FIT_COVER, YES, &lim,
	    &a, &e), 0);
	assert_int_equal(a.scale_w, 10000);
	assert_int_equal(a.scale_h, 5000);
	assert_int_equal(a.out_w, 5000);
	assert_int_equal(a.out_h, 5000);
}

static void
limited_refuses_a_huge_intermediate(void **state)
{
	struct geom_limits lim = { .max_output_pixels = 25000000 };
	struct geom_plan p;
	struct err e;
	int rc;

	(void)state;
	/* The issue: 320x240 cover 16384x1, enlarged: 16384x12288 scaled to
	 * cut a 16384x1 output of 16 kpx. */
	rc = limited(320, 240, 16384, 1, FIT_COVER, YES, &lim, &p, &e);
	REFUSED(rc, &e, "size: intermediate 16384x12288 is over the limit of "
	    "100000000 pixels");
	assert_int_equal(p.out_w, 0);	/* nothing to allocate from */
	/* dpr=4: sides past what any int stride or GraphicsMagick takes. */
	rc = limited(320, 240, 65536, 4, FIT_COVER, YES, &lim, &p, &e);
	REFUSED(rc, &e, "intermediate 65536x49152 is over the limit of 65535 "
	    "pixels a side");
	/* Tall as well as wide. */
	rc = limited(320, 240, 1, 16384, FIT_COVER, YES, &lim, &p, &e);
	REFUSED(rc, &e, "intermediate 21845x16384 is over the limit");
	/* A thin source (an extreme pixel aspect ratio): 1x240 to cover a
	 * square box takes a side of millions. */
	rc = limited(1, 240, 16384, 16384, FIT_COVER, YES, &lim, &p, &e);
	REFUSED(rc, &e, "intermediate 16384x3932160 is over the limit of "
	    "65535 pixels a side");
	/* outside has no cut: its scaled image is the output. */
	rc = limited(1, 240, 16384, 16384, FIT_OUTSIDE, YES, &lim, &p, &e);
	REFUSED(rc, &e, "size: output 16384x3932160");
}

static void
limited_refuses_a_huge_output(void **state)
{
	struct geom_limits lim = { .max_output_pixels = 25000000 };
	struct geom_plan p;
	struct err e;
	int rc;

	(void)state;
	rc = limited(320, 240, 16384, 16384, FIT_FILL, YES, &lim, &p, &e);
	REFUSED(rc, &e, "size: output 16384x16384 is over the limit of "
	    "25000000 pixels");
	/* Padded: the canvas counts, not the picture on it. */
	rc = limited(320, 240, 16384, 2000, FIT_CONTAIN, YES, &lim, &p, &e);
	REFUSED(rc, &e, "size: output 16384x2000 is over the limit");
	/* Without a configured limit the absolute one holds. */
	memset(&lim, 0, sizeof(lim));
	rc = limited(60000, 60000, 0, 0, FIT_INSIDE, NO, &lim, &p, &e);
	REFUSED(rc, &e, "over the limit of 268435456 pixels");
	assert_int_equal(limited(16384, 16384, 0, 0, FIT_INSIDE, NO, &lim, &p,
	    &e), 0);
}

static void
limited_applies_the_encoders_side(void **state)
{
	struct geom_limits lim = { .max_output_pixels = 25000000,
	    .max_side = 16383, .encoder = "WebP" };
	struct geom_plan p;
	struct err e;
	int rc;

	(void)state;
	rc = limited(320, 240, 16384, 4, FIT_FILL, YES, &lim, &p, &e);
	REFUSED(rc, &e, "size: output 16384x4 is over the limit of 16383 "
	    "pixels a side of WebP");
	assert_int_equal(limited(320, 240, 16383, 4, FIT_FILL, YES, &lim, &p,
	    &e), 0);
	/* A side limit over the absolute one is the absolute one. */
	lim.max_side = 100000;
	lim.encoder = NULL;
	rc = limited(320, 240, 65536, 4, FIT_FILL, YES, &lim, &p, &e);
	REFUSED(rc, &e, "over the limit of 65535 pixels a side");
}

static void
limited_counts_every_tile_of_a_sheet(void **state)
{
	struct geom_limits lim = { .max_output_pixels = 25000000,
	    .max_side = 65500, .encoder = "JPEG", .tiles_x = 20,
	    .tiles_y = 5 };
	struct geom_plan p;
	struct err e;
	int rc;

	(void)state;
	/* 100 tiles of 640x480: 30.7 MP. */
	rc = limited(640, 480, 0, 0, FIT_INSIDE, NO, &lim, &p, &e);
	REFUSED(rc, &e, "size: output 12800x2400 is over the limit of "
	    "25000000 pixels");
	/* 20 tiles of 4000 wide: a sheet wider than JPEG takes. */
	rc = limited(4000, 100, 0, 0, FIT_INSIDE, NO, &lim, &p, &e);
	REFUSED(rc, &e, "output 80000x500 is over the limit of 65500 pixels "
	    "a side of JPEG");
	/* Tiles of the largest box: sides times tiles stay in 64 bits. */
	lim.tiles_x = lim.tiles_y = UINT_MAX;
	rc = limited(UINT_MAX, UINT_MAX, 0, 0, FIT_INSIDE, NO, &lim, &p, &e);
	REFUSED(rc, &e, "over the limit");
	lim.tiles_x = 10;
	lim.tiles_y = 10;
	assert_int_equal(limited(640, 480, 160, 0, FIT_INSIDE, NO, &lim, &p,
	    &e), 0);
	assert_int_equal(p.out_w, 160);
	assert_int_equal(p.out_h, 120);
}

static void
limited_extremes_never_overflow(void **state)
{
	static const unsigned sides[] = { 1, 2, 3, 240, 65535, 65536,
	    1u << 31, UINT_MAX };
	static const enum fit fits[] = { FIT_INSIDE, FIT_COVER, FIT_CONTAIN,
	    FIT_FILL, FIT_OUTSIDE };
	struct geom_limits lims[] = { { .max_output_pixels = 1ull << 40 },
	    { .max_output_pixels = 25000000, .max_side = 65500,
	    .tiles_x = 20, .tiles_y = UINT_MAX } };
	size_t n = sizeof(sides) / sizeof(*sides);

	(void)state;
	/* Every accepted plan is inside every bound; every refusal is a
	 * 413 (or no picture size). */
	for (size_t l = 0; l < 2; l++)
	for (size_t a = 0; a < n; a++)
	for (size_t b = 0; b < n; b++)
	for (size_t c = 0; c < n; c++)
	for (size_t d = 0; d < n; d++)
	for (size_t f = 0; f < 5; f++)
	for (int en = 0; en < 2; en++) {
		struct geom_plan p;
		struct err e;
		int rc = limited(sides[a], sides[b], sides[c] == 1 ? 0 :
		    sides[c], sides[d] == 1 ? 0 : sides[d], fits[f], en,
		    &lims[l], &p, &e);

		if (rc == 0) {
			assert_true(p.scale_w <= GEOM_MAX_SIDE &&
			    p.scale_h <= GEOM_MAX_SIDE);
			assert_true(p.out_w <= GEOM_MAX_SIDE &&
			    p.out_h <= GEOM_MAX_SIDE);
			assert_true((uint64_t)p.scale_w * p.scale_h <=
			    GEOM_MAX_PIXELS);
			assert_true((uint64_t)p.out_w * p.out_h <=
			    GEOM_MAX_PIXELS);
		} else {
			assert_int_equal(e.kind, ERR_TOO_LARGE);
		}
	}
}

static void
limited_refuses_no_picture(void **state)
{
	struct geom_limits lim = { 0 };
	struct geom_plan p;
	struct err e;

	(void)state;
	assert_int_equal(limited(0, 240, 100, 100, FIT_COVER, NO, &lim, &p,
	    &e), -(int)ERR_UNDECODABLE);
	assert_int_equal(e.kind, ERR_UNDECODABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inside_fits_within_the_box),
		cmocka_unit_test(inside_does_not_enlarge_unless_asked),
		cmocka_unit_test(outside_covers_the_box_uncut),
		cmocka_unit_test(outside_does_not_enlarge_unless_asked),
		cmocka_unit_test(cover_scales_then_cuts_at_gravity),
		cmocka_unit_test(cover_of_the_same_aspect_cuts_nothing),
		cmocka_unit_test(
		    cover_without_enlarge_cuts_the_box_shape_from_the_source),
		cmocka_unit_test(cover_with_enlarge_scales_up),
		cmocka_unit_test(contain_scales_then_pads_at_gravity),
		cmocka_unit_test(
		    contain_without_enlarge_pads_the_source_to_the_box_shape),
		cmocka_unit_test(contain_with_enlarge_scales_up),
		cmocka_unit_test(fill_ignores_aspect),
		cmocka_unit_test(
		    fill_without_enlarge_shrinks_the_box_into_the_source),
		cmocka_unit_test(one_side_scales_every_mode_keeping_aspect),
		cmocka_unit_test(no_box_keeps_the_source_size),
		cmocka_unit_test(gravity_x_for_all_nine),
		cmocka_unit_test(gravity_y_for_all_nine),
		cmocka_unit_test(
		    gravity_centre_rounds_down_and_inner_too_big_is_zero),
		cmocka_unit_test(cover_crop_offsets_follow_all_nine_gravities),
		cmocka_unit_test(one_pixel_source),
		cmocka_unit_test(thin_source_keeps_sides_of_at_least_one),
		cmocka_unit_test(largest_boxes_do_not_overflow),
		cmocka_unit_test(results_beyond_32_bits_are_refused),
		cmocka_unit_test(bad_arguments_are_refused),
		cmocka_unit_test(plans_are_consistent_over_a_grid),
		cmocka_unit_test(limited_plan_is_geom_plan_within_the_limits),
		cmocka_unit_test(limited_refuses_a_huge_intermediate),
		cmocka_unit_test(limited_refuses_a_huge_output),
		cmocka_unit_test(limited_applies_the_encoders_side),
		cmocka_unit_test(limited_counts_every_tile_of_a_sheet),
		cmocka_unit_test(limited_extremes_never_overflow),
		cmocka_unit_test(limited_refuses_no_picture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
