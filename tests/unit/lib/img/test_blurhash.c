/*
 * blurhash: the hash's structure (length 4 + 2 bx by, base-83 alphabet,
 * size flag), known vectors worked out by hand from the algorithm's
 * description, a flat image's AC all zero, an edge's energy in the right
 * component, bad arguments refused; and the small box the pixels of a
 * hash are planned on (blurhash_job_params()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "img/blurhash.h"
#include "support.h"

static const char B83[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    "#$%*+,-.:;=?@[]^_{|}~";

static unsigned
d83(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		const char *c = strchr(B83, s[i]);

		assert_non_null(c);
		v = v * 83 + (unsigned)(c - B83);
	}
	return v;
}

/* A w x h image of one colour, or left half a, right half b. */
static unsigned char *
image(unsigned w, unsigned h, uint32_t a, uint32_t b)
{
	unsigned char *px = malloc((size_t)w * h * 3);

	assert_non_null(px);
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			uint32_t c = x < w / 2 ? a : b;
			unsigned char *p = px + ((size_t)y * w + x) * 3;

			p[0] = (unsigned char)(c >> 16);
			p[1] = (unsigned char)(c >> 8);
			p[2] = (unsigned char)c;
		}
	return px;
}

static void
test_structure_for_every_component_count(void **state)
{
	unsigned char *px = image(40, 30, 0x204060, 0xe0c080);
	char out[BLURHASH_MAX_LEN];

	(void)state;
	for (unsigned bx = 1; bx <= 9; bx++)
		for (unsigned by = 1; by <= 9; by++) {
			int n = blurhash_encode(px, 40, 30, 120, bx, by, out,
			    sizeof(out));

			assert_int_equal(n, (int)blurhash_len(bx, by));
			assert_int_equal(n, 4 + 2 * (int)(bx * by));
			assert_int_equal(strlen(out), (size_t)n);
			assert_int_equal(strspn(out, B83), (size_t)n);
			assert_int_equal(d83(out, 1), (bx - 1) + (by - 1) * 9);
		}
	free(px);
}

static void
test_flat_image_has_zero_ac_and_its_colour_as_dc(void **state)
{
	unsigned char *px = image(17, 11, 0x5a8cc8, 0x5a8cc8);
	char out[BLURHASH_MAX_LEN];

	(void)state;
	assert_int_equal(blurhash_encode(px, 17, 11, 51, 4, 3, out,
	    sizeof(out)), 28);
	assert_int_equal(out[0], 'L');		/* 3 + 2 * 9 = 21 */
	assert_int_equal(out[1], '0');		/* quantised max AC 0 */
	assert_int_equal(d83(out + 2, 4), 0x5a8cc8);	/* exact round trip */
	/* Each AC: 9, 9, 9 of 0..18, i.e. zero = 9 * 361 + 9 * 19 + 9. */
	for (int k = 0; k < 11; k++)
		assert_int_equal(d83(out + 6 + 2 * k, 2), 3429);
	/* 1 x 1 components: the DC alone, max AC 0. */
	assert_int_equal(blurhash_encode(px, 17, 11, 51, 1, 1, out,
	    sizeof(out)), 6);
	assert_string_equal(out, "00AVYT");
	free(px);
}

static void
test_known_vector_by_hand(void **state)
{
	/*
	 * 4 x 1, black black white white, 2 x 1 components. Linear 0 0 1 1;
	 * DC 0.5 -> sRGB 187.5..: 188 = 0xbc each. AC(1, 0) = 2/4 * sum
	 * cos(pi (x + 0.5) / 4) * lin = 0.5 * (cos(5pi/8) + cos(7pi/8)) =
	 * -0.6533; max 0.6533 -> floor(107.9) -> 82 ('~'), standing for
	 * 83/166 = 0.5; -0.6533 / 0.5 -> -sqrt(1.3066) * 9 + 9.5 = -0.79 -> 0
	 * for each channel: "00". Size flag 1.
	 */
	static const unsigned char px[] = { 0, 0, 0, 0, 0, 0,
	    255, 255, 255, 255, 255, 255 };
	char out[BLURHASH_MAX_LEN];

	(void)state;
	assert_int_equal(blurhash_encode(px, 4, 1, 12, 2, 1, out, sizeof(out)),
	    8);
	assert_string_equal(out, "1~Lqe900");
	/* Mirrored (white then black): the AC flips sign, 18 each. */
	{
		static const unsigned char m[] = { 255, 255, 255, 255, 255, 255,
		    0, 0, 0, 0, 0, 0 };

		assert_int_equal(blurhash_encode(m, 4, 1, 12, 2, 1, out,
		    sizeof(out)), 8);
		assert_int_equal(d83(out + 6, 2), 18 * 361 + 18 * 19 + 18);
		assert_memory_equal(out, "1~Lqe9", 6);
	}
}

static void
test_vertical_edge_lives_in_the_x_component(void **state)
{
	unsigned char *px = image(32, 32, 0x000000, 0xffffff);
	char out[BLURHASH_MAX_LEN];
	unsigned ac10, ac01;

	(void)state;
	assert_int_equal(blurhash_encode(px, 32, 32, 96, 2, 2, out,
	    sizeof(out)), 12);
	/* Components in order (0,0) (1,0) (0,1) (1,1): across varies fastest. */
	ac10 = d83(out + 6, 2);
	ac01 = d83(out + 8, 2);
	assert_int_not_equal(ac10, 3429);
	assert_true(ac10 / 361 < 9);		/* dark left: negative */
	assert_int_equal(ac01, 3429);		/* nothing changes down */
	free(px);
}

static void
test_bad_arguments(void **state)
{
	unsigned char px[12] = { 0 };
	char out[BLURHASH_MAX_LEN];

	(void)state;
	assert_int_equal(blurhash_encode(px, 0, 1, 3, 4, 3, out, sizeof(out)), -1);
	assert_int_equal(blurhash_encode(px, 1, 0, 3, 4, 3, out, sizeof(out)), -1);
	assert_int_equal(blurhash_encode(px, 2, 2, 3, 4, 3, out, sizeof(out)), -1);
	assert_int_equal(blurhash_encode(px, 2, 2, 6, 0, 3, out, sizeof(out)), -1);
	assert_int_equal(blurhash_encode(px, 2, 2, 6, 4, 10, out, sizeof(out)), -1);
	assert_int_equal(blurhash_encode(px, 2, 2, 6, 4, 3, out, 28), -1);
	assert_int_equal(blurhash_encode(px, 2, 2, 6, 4, 3, out, 29), 28);
	assert_int_equal(blurhash_encode(NULL, 2, 2, 6, 4, 3, out, 29), -1);
}

static void
test_job_params_small_box(void **state)
{
	struct params p, tmp;
	const struct params *q;

	(void)state;
	/* Not blurhash: p itself. */
	sup_params_ok("size=300x200", &p);
	assert_ptr_equal(blurhash_job_params(&p, &tmp), &p);
	/* No size: BLURHASH_SIDE square, inside. */
	sup_params_ok("format=blurhash", &p);
	q = blurhash_job_params(&p, &tmp);
	assert_ptr_equal(q, &tmp);
	assert_int_equal(q->width, BLURHASH_SIDE);
	assert_int_equal(q->height, BLURHASH_SIDE);
	assert_int_equal(q->fit, FIT_INSIDE);
	assert_int_equal(q->bx, 4);
	assert_int_equal(q->by, 3);
	/* The box's aspect and fit kept, dpr folded in. */
	sup_params_ok("format=blurhash&size=300x200&fit=cover&dpr=2&bx=9&by=1",
	    &p);
	q = blurhash_job_params(&p, &tmp);
	assert_int_equal(q->width, 64);
	assert_int_equal(q->height, 43);
	assert_int_equal(q->fit, FIT_COVER);
	assert_true(q->dpr == 1);
	assert_false(q->given & P_DPR);
	assert_int_equal(q->bx, 9);
	assert_int_equal(q->by, 1);
	sup_params_ok("format=blurhash&size=x1000", &p);
	q = blurhash_job_params(&p, &tmp);
	assert_int_equal(q->width, 0);
	assert_int_equal(q->height, 64);
	sup_params_ok("format=blurhash&size=16384x1", &p);
	q = blurhash_job_params(&p, &tmp);
	assert_int_equal(q->width, 64);
	assert_int_equal(q->height, 1);
	/* A box already small stays. */
	sup_params_ok("format=blurhash&size=20x30", &p);
	q = blurhash_job_params(&p, &tmp);
	assert_int_equal(q->width, 20);
	assert_int_equal(q->height, 30);
}

static void
test_params_bx_by(void **state)
{
	struct params p;
	char buf[256];
	struct err e;

	(void)state;
	sup_params_ok("format=blurhash&bx=1&by=9", &p);
	assert_int_equal(p.format, OUT_BLURHASH);
	assert_int_equal(p.bx, 1);
	assert_int_equal(p.by, 9);
	assert_true(params_canonical(&p, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "format=blurhash&bx=1&by=9");
	sup_params_refused("format=blurhash&bx=0", "bx");
	sup_params_refused("format=blurhash&bx=10", "bx");
	sup_params_refused("format=blurhash&by=01", "by");
	sup_params_refused("format=blurhash&by=", "by");
	sup_params_refused("format=blurhash&bx=+3", "bx");
	/* Only with format=blurhash, and nothing of encoded pixels with it. */
	sup_params_ok("bx=3", &p);
	err_init(&e);
	assert_int_equal(params_check_kind(&p, false, &e), -1);
	assert_int_equal(e.kind, ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "bx"));
	sup_params_ok("format=webp&by=3", &p);
	err_init(&e);
	assert_int_equal(params_check_kind(&p, false, &e), -1);
	assert_int_equal(e.kind, ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "by"));
	sup_params_ok("format=blurhash&q=50", &p);
	err_init(&e);
	assert_int_equal(params_check_kind(&p, false, &e), -1);
	assert_int_equal(e.kind, ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "q"));
	sup_params_ok("format=blurhash&sprite=2x2", &p);
	assert_int_equal(params_check_kind(&p, true, &e), -1);
	sup_params_ok("format=blurhash&bx=2&size=100x100&fit=cover", &p);
	assert_int_equal(params_check_kind(&p, false, &e), 0);
	assert_int_equal(params_check_kind(&p, true, &e), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure_for_every_component_count),
		cmocka_unit_test(test_flat_image_has_zero_ac_and_its_colour_as_dc),
		cmocka_unit_test(test_known_vector_by_hand),
		cmocka_unit_test(test_vertical_edge_lives_in_the_x_component),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_job_params_small_box),
		cmocka_unit_test(test_params_bx_by),
	};

	return cmocka_run_group_tests_name("blurhash", tests, NULL, NULL);
}
