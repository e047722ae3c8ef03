/*
 * accept: media ranges, weights, specificity, and format=auto's choice
 * against the config's auto_formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http/accept.h"

static const enum out_format AVIF_WEBP[] = { OUT_AVIF, OUT_WEBP };
static const enum out_format WEBP_ONLY[] = { OUT_WEBP };

static void
test_q_of_the_most_specific_range(void **state)
{
	enum accept_match how;

	(void)state;
	assert_int_equal(accept_q("image/webp", "image/webp", &how), 1000);
	assert_int_equal(how, ACCEPT_EXACT);
	assert_int_equal(accept_q("image/*;q=0.8", "image/webp", &how), 800);
	assert_int_equal(how, ACCEPT_TYPE);
	assert_int_equal(accept_q("*/*;q=0.5", "image/webp", &how), 500);
	assert_int_equal(how, ACCEPT_ANY);
	/* The exact range decides over the wildcards, whatever the order. */
	assert_int_equal(accept_q("*/*;q=0.1, image/*;q=0.2, image/webp;q=0.3",
	    "image/webp", &how), 300);
	assert_int_equal(accept_q("image/webp;q=0, image/*", "image/webp",
	    &how), 0);
	assert_int_equal(how, ACCEPT_EXACT);
	assert_int_equal(accept_q("image/*;q=0, image/webp", "image/webp",
	    &how), 1000);
	assert_int_equal(accept_q("image/*;q=0, image/webp", "image/avif",
	    &how), 0);
	assert_int_equal(how, ACCEPT_TYPE);
	/* Nothing matches: 0 and NONE. */
	assert_int_equal(accept_q("text/html", "image/webp", &how), 0);
	assert_int_equal(how, ACCEPT_NONE);
	assert_int_equal(accept_q(NULL, "image/webp", &how), 0);
	assert_int_equal(how, ACCEPT_NONE);
	assert_int_equal(accept_q("", "image/webp", &how), 0);
}

static void
test_syntax_case_spaces_and_parameters(void **state)
{
	enum accept_match how;

	(void)state;
	assert_int_equal(accept_q("IMAGE/WebP ; Q=0.75", "image/webp", &how), 750);
	assert_int_equal(accept_q("  text/html ,\timage/avif;level=1;q=0.5 ,",
	    "image/avif", &how), 500);
	assert_int_equal(accept_q("image/avif;q=1.000", "image/avif", &how), 1000);
	assert_int_equal(accept_q("image/avif;q=0.001", "image/avif", &how), 1);
	assert_int_equal(accept_q("image/avif;x=\"a,b;q=0\";q=0.2",
	    "image/avif", &how), 200);
	assert_int_equal(accept_q(",,image/avif,,", "image/avif", &how), 1000);
	/* Bad elements are skipped, the good ones still count. */
	static const char *const bad[] = {
		"image/avif;q=2", "image/avif;q=1.5", "image/avif;q=0.1234",
		"image/avif;q=", "image/avif;q=-1", "image/avif;q=abc",
		"image/avif;q=.5", "image", "image/", "/avif", "*/avif",
		"image/avif junk", "image/avif;=1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char h[128];

		assert_int_equal(accept_q(bad[i], "image/avif", &how), 0);
		assert_int_equal(how, ACCEPT_NONE);
		snprintf(h, sizeof(h), "%s, image/webp;q=0.4", bad[i]);
		assert_int_equal(accept_q(h, "image/webp", &how), 400);
	}
	/* An unterminated quote runs to the end: nothing after it counts. */
	assert_int_equal(accept_q("image/avif;x=\"open, image/webp", "image/webp",
	    &how), 0);
}

static void
test_long_header_is_bounded(void **state)
{
	static char h[ACCEPT_MAX_LEN * 2];

	(void)state;
	memset(h, ' ', sizeof(h) - 1);
	h[sizeof(h) - 1] = '\0';
	/* Past the bound: not read. */
	memcpy(h + ACCEPT_MAX_LEN + 10, "image/avif", 10);
	assert_int_equal(accept_q(h, "image/avif", NULL), 0);
	memcpy(h + 10, "image/avif", 10);
	assert_int_equal(accept_q(h, "image/avif", NULL), 1000);
}

static void
test_pick_by_config_order(void **state)
{
	(void)state;
	/* auto_formats = avif, webp */
	assert_int_equal(accept_pick("image/avif", AVIF_WEBP, 2, false), OUT_AVIF);
	assert_int_equal(accept_pick("image/webp", AVIF_WEBP, 2, false), OUT_WEBP);
	assert_int_equal(accept_pick("image/avif,image/webp,*/*", AVIF_WEBP, 2,
	    false), OUT_AVIF);
	/* The config's order decides, not the client's weights. */
	assert_int_equal(accept_pick("image/webp,image/avif;q=0.5", AVIF_WEBP,
	    2, false), OUT_AVIF);
	assert_int_equal(accept_pick("image/avif;q=0, image/webp", AVIF_WEBP, 2,
	    false), OUT_WEBP);
	assert_int_equal(accept_pick("image/avif;q=0, image/webp;q=0, */*",
	    AVIF_WEBP, 2, false), OUT_SOURCE);
	/* Any-type alone admits neither; image wildcard WebP, never AVIF. */
	assert_int_equal(accept_pick("*/*", AVIF_WEBP, 2, false), OUT_SOURCE);
	assert_int_equal(accept_pick(NULL, AVIF_WEBP, 2, false), OUT_SOURCE);
	assert_int_equal(accept_pick("", AVIF_WEBP, 2, false), OUT_SOURCE);
	assert_int_equal(accept_pick("image/*", AVIF_WEBP, 2, false), OUT_WEBP);
	assert_int_equal(accept_pick("image/jpeg", AVIF_WEBP, 2, false), OUT_SOURCE);
	/* The default (webp only) never picks AVIF. */
	assert_int_equal(accept_pick("image/avif", WEBP_ONLY, 1, false), OUT_SOURCE);
	assert_int_equal(accept_pick("image/avif,image/webp", WEBP_ONLY, 1, false),
	    OUT_WEBP);
	/* A GIF that may be animated: only WebP keeps it. */
	assert_int_equal(accept_pick("image/avif,image/webp", AVIF_WEBP, 2, true),
	    OUT_WEBP);
	assert_int_equal(accept_pick("image/avif", AVIF_WEBP, 2, true),
	    OUT_SOURCE);
	/* auto_formats = none */
	assert_int_equal(accept_pick("image/webp", NULL, 0, false), OUT_SOURCE);
	/* A format the table does not know is never picked. */
	{
		static const enum out_format odd[] = { OUT_PNG, OUT_WEBP };

		assert_int_equal(accept_pick("image/png,image/webp", odd, 2, false),
		    OUT_WEBP);
	}
}

static void
test_formats_config_value(void **state)
{
	enum out_format f[ACCEPT_MAX_FORMATS];
	unsigned n = 99;
	char why[200];

	(void)state;
	assert_int_equal(accept_formats_parse("avif, webp", f, 4, &n, why,
	    sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(f[0], OUT_AVIF);
	assert_int_equal(f[1], OUT_WEBP);
	assert_int_equal(accept_formats_parse("webp,jxl,avif", f, 4, &n, why,
	    sizeof(why)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(f[1], OUT_JXL);
	assert_int_equal(accept_formats_parse("none", f, 4, &n, why,
	    sizeof(why)), 0);
	assert_int_equal(n, 0);
	n = 7;
	assert_int_equal(accept_formats_parse("webp, png", f, 4, &n, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "auto_formats"));
	assert_non_null(strstr(why, "png"));
	assert_int_equal(n, 7);		/* untouched on failure */
	assert_int_equal(accept_formats_parse("webp, webp", f, 4, &n, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "twice"));
	assert_int_equal(accept_formats_parse("webp avif", f, 4, &n, why,
	    sizeof(why)), -1);
	assert_int_equal(accept_formats_parse("", f, 4, &n, why,
	    sizeof(why)), -1);
	assert_int_equal(accept_formats_parse("webp,", f, 4, &n, why,
	    sizeof(why)), -1);
	assert_int_equal(accept_formats_parse("avif,webp", f, 1, &n, why,
	    sizeof(why)), -1);
	assert_string_equal(accept_format_mime(OUT_AVIF), "image/avif");
	assert_null(accept_format_mime(OUT_JPEG));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_q_of_the_most_specific_range),
		cmocka_unit_test(test_syntax_case_spaces_and_parameters),
		cmocka_unit_test(test_long_header_is_bounded),
		cmocka_unit_test(test_pick_by_config_order),
		cmocka_unit_test(test_formats_config_value),
	};

	return cmocka_run_group_tests_name("accept", tests, NULL, NULL);
}
