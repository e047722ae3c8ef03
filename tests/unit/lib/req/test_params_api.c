/*
 * test_params_api - the parts of the query parser that the complete image
 * API added: gravity=smart, format=auto, preset=NAME, and a query parsed
 * over a preset's parameters (params_parse_over) the way the router does:
 * the preset's query first, then the request's over it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "req/params.h"
#include "support.h"

/* The canonical text of p. */
static void
canon(const struct params *p, char *buf, size_t len)
{
	assert_true(params_canonical(p, buf, len) >= 0);
}

/*
 * What the router does for ?query naming a preset whose parameters are
 * preset_q: the preset's own parse, then the query over it. Returns the
 * rc of params_parse_over(); e is filled.
 */
static int
over(const char *preset_q, const char *query, struct params *p,
    struct err *e)
{
	params_init(p);
	err_init(e);
	if (params_parse(preset_q, p, e) != 0)
		fail_msg("preset '%s' refused: '%s'", preset_q, e->msg);
	return params_parse_over(query, p, e);
}

/* over() that must succeed. */
static void
over_ok(const char *preset_q, const char *query, struct params *p)
{
	struct err e;
	int rc = over(preset_q, query, p, &e);

	if (rc != 0 || e.kind != ERR_NONE)
		fail_msg("'%s' over preset '%s' refused: rc %d, '%s'", query,
		    preset_q, rc, e.msg);
}

/* ------------------------------------------------------------ smart */

static void
gravity_smart_is_accepted(void **state)
{
	struct params p;
	char buf[128];

	(void)state;
	sup_params_ok("gravity=smart", &p);
	assert_int_equal(p.gravity, GRAV_SMART);
	assert_true(p.given & P_GRAVITY);
	assert_string_equal(params_gravity_name(GRAV_SMART), "smart");
	sup_params_ok("size=200x200&fit=cover&gravity=smart", &p);
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf, "size=200x200&fit=cover&gravity=smart");
	sup_params_ok("gravity=smart&fit=cover&size=200x200", &p);
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf, "size=200x200&fit=cover&gravity=smart");
}

static void
gravity_smart_refuses_lookalikes(void **state)
{
	(void)state;
	sup_params_refused("gravity=Smart", "gravity: ");
	sup_params_refused("gravity=SMART", "gravity: ");
	sup_params_refused("gravity=smart%20", "gravity: ");
	sup_params_refused("gravity=smartest", "gravity: ");
	sup_params_refused("gravity=smar", "gravity: ");
	sup_params_refused("gravity=auto", "gravity: ");
	sup_params_refused("gravity=", "gravity: ");
	sup_params_refused("gravity=smart&gravity=smart", "gravity");
	sup_params_refused("gravity=smart&gravity=center", "gravity");
}

/* ------------------------------------------------------------ auto */

static void
format_auto_is_accepted(void **state)
{
	struct params p;
	char buf[128];

	(void)state;
	sup_params_ok("format=auto", &p);
	assert_int_equal(p.format, OUT_AUTO);
	assert_true(p.given & P_FORMAT);
	assert_string_equal(params_format_name(OUT_AUTO), "auto");
	sup_params_ok("q=70&format=auto&size=100x", &p);
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf, "size=100x&format=auto&q=70");
}

static void
format_auto_refuses_lookalikes(void **state)
{
	(void)state;
	sup_params_refused("format=Auto", "format: ");
	sup_params_refused("format=AUTO", "format: ");
	sup_params_refused("format=automatic", "format: ");
	sup_params_refused("format=source", "format: ");	/* the absence of format= */
	sup_params_refused("format=auto&format=webp", "format");
}

static void
format_auto_is_an_image_or_video_format(void **state)
{
	struct params p;
	struct err e;

	(void)state;
	sup_params_ok("format=auto&size=100x100", &p);
	err_init(&e);
	assert_int_equal(params_check_kind(&p, false, &e), 0);
	err_init(&e);
	assert_int_equal(params_check_kind(&p, true, &e), 0);
}

/* ------------------------------------------------------------ preset */

static void
preset_accepts_names(void **state)
{
	static const char *const names[] = {
		"thumb", "a", "0", "thumb-2x", "card_small", "x-_-y",
		"abcdefghijklmnopqrstuvwxyz01234",	/* 31: the longest */
	};
	struct params p;
	char q[64], buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(q, sizeof(q), "preset=%s", names[i]);
		sup_params_ok(q, &p);
		assert_true(p.given & P_PRESET);
		assert_string_equal(p.preset, names[i]);
		canon(&p, buf, sizeof(buf));
		assert_string_equal(buf, q);
	}
	/* percent-decoded once, like every value */
	sup_params_ok("preset=th%75mb", &p);
	assert_string_equal(p.preset, "thumb");
}

static void
preset_refuses_bad_names(void **state)
{
	(void)state;
	sup_params_refused("preset=Thumb", "preset: ");
	sup_params_refused("preset=THUMB", "preset: ");
	sup_params_refused("preset=a.b", "preset: ");
	sup_params_refused("preset=a/b", "preset: ");
	sup_params_refused("preset=a%2Fb", "preset: ");
	sup_params_refused("preset=..", "preset: ");
	sup_params_refused("preset=a%20b", "preset: ");
	sup_params_refused("preset=a+b", "preset: ");
	sup_params_refused("preset=%C3%A9t%C3%A9", "preset: ");
	sup_params_refused("preset=a%00b", "preset");
	sup_params_refused("preset=", "preset: ");
	sup_params_refused("preset", "preset: ");
	sup_params_refused("preset=thumb&preset=thumb", "preset");
	sup_params_refused("preset=thumb&preset=card", "preset");
}

static void
preset_refuses_too_long_names(void **state)
{
	char q[128];

	(void)state;
	/* 32 characters: one over PARAMS_MAX_PRESET - 1 */
	snprintf(q, sizeof(q), "preset=%s", "abcdefghijklmnopqrstuvwxyz012345");
	sup_params_refused(q, "preset: ");
	snprintf(q, sizeof(q), "preset=%0100d", 7);
	sup_params_refused(q, "preset: ");
}

static void
preset_name_is_last_in_canonical_text(void **state)
{
	struct params p;
	char buf[128];

	(void)state;
	sup_params_ok("preset=thumb&size=10x10&q=5", &p);
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf, "size=10x10&q=5&preset=thumb");
}

/* ------------------------------------------------------------ over */

static void
over_keeps_preset_values_the_query_does_not_name(void **state)
{
	struct params p;
	char buf[256];

	(void)state;
	over_ok("size=300x200&fit=cover&q=70", "preset=thumb", &p);
	assert_int_equal(p.width, 300);
	assert_int_equal(p.height, 200);
	assert_int_equal(p.fit, FIT_COVER);
	assert_int_equal(p.quality, 70);
	assert_string_equal(p.preset, "thumb");
	assert_int_equal(p.given, P_SIZE | P_FIT | P_Q | P_PRESET);
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf, "size=300x200&fit=cover&q=70&preset=thumb");
}

static void
over_query_values_replace_the_presets(void **state)
{
	struct params p;
	char buf[256];

	(void)state;
	over_ok("size=300x200&fit=cover&q=70&gravity=north",
	    "preset=thumb&size=40x40&gravity=smart", &p);
	assert_int_equal(p.width, 40);
	assert_int_equal(p.height, 40);
	assert_int_equal(p.fit, FIT_COVER);
	assert_int_equal(p.gravity, GRAV_SMART);
	assert_int_equal(p.quality, 70);
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf,
	    "size=40x40&fit=cover&gravity=smart&q=70&preset=thumb");

	/* a one-sided size replaces both sides, not only the one named */
	over_ok("size=300x200", "preset=t&size=40x", &p);
	assert_int_equal(p.width, 40);
	assert_int_equal(p.height, 0);
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf, "size=40x&preset=t");

	over_ok("format=png&enlarge=1&dpr=2", "preset=t&format=auto&enlarge=0",
	    &p);
	assert_int_equal(p.format, OUT_AUTO);
	assert_false(p.enlarge);
	assert_true(p.dpr == 2);
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf, "format=auto&dpr=2&enlarge=0&preset=t");
}

static void
over_query_flip_replaces_the_presets(void **state)
{
	struct params p;
	char buf[128];

	(void)state;
	/* preset flip=h, query flip=v: the query's mirror, not both */
	over_ok("flip=h", "preset=m&flip=v", &p);
	assert_true(p.flip_v);
	if (p.flip_h)
		fail_msg("flip=v over a preset's flip=h left flip_h set too "
		    "(both mirrors: a 180 degree turn)");
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf, "flip=v&preset=m");
	over_ok("flip=v", "preset=m&flip=h", &p);
	assert_true(p.flip_h);
	assert_false(p.flip_v);
}

static void
over_is_order_independent(void **state)
{
	struct params a, b;
	char ca[256], cb[256];

	(void)state;
	over_ok("size=300x200&fit=cover", "preset=thumb&size=40x40&q=9", &a);
	over_ok("size=300x200&fit=cover", "q=9&size=40x40&preset=thumb", &b);
	canon(&a, ca, sizeof(ca));
	canon(&b, cb, sizeof(cb));
	assert_string_equal(ca, cb);
	/* and the same parameters spelled out differ only by preset=NAME */
	sup_params_ok("size=40x40&fit=cover&q=9", &b);
	canon(&b, cb, sizeof(cb));
	assert_string_equal(cb, "size=40x40&fit=cover&q=9");
	assert_string_equal(ca, "size=40x40&fit=cover&q=9&preset=thumb");
}

static void
over_refuses_a_name_twice_within_the_query(void **state)
{
	struct params p;
	struct err e;

	(void)state;
	assert_int_equal(over("size=300x200&fit=cover",
	    "preset=thumb&size=1x1&size=2x2", &p, &e), -ERR_BAD_PARAM);
	assert_int_equal(e.kind, ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "size"));
	/* the failed parse leaves the preset's values as they were */
	assert_int_equal(p.width, 300);
	assert_int_equal(p.height, 200);
	assert_true(p.given & P_SIZE);
	assert_true(p.given & P_FIT);

	assert_int_equal(over("q=70", "preset=a&preset=a", &p, &e),
	    -ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "preset"));
	assert_int_equal(over("q=70", "preset=a&fit=cover&fit=fill", &p, &e),
	    -ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "fit"));
}

static void
over_refuses_bad_query_values(void **state)
{
	struct params p;
	struct err e;

	(void)state;
	assert_int_equal(over("size=300x200", "preset=t&size=abc", &p, &e),
	    -ERR_BAD_PARAM);
	assert_int_equal(strncmp(e.msg, "size: ", 6), 0);
	assert_int_equal(over("size=300x200", "preset=t&bogus=1", &p, &e),
	    -ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "bogus"));
	assert_int_equal(over("size=300x200", "preset=t&gravity=Smart", &p,
	    &e), -ERR_BAD_PARAM);
	assert_int_equal(strncmp(e.msg, "gravity: ", 9), 0);
}

static void
over_a_name_in_preset_and_query_is_not_a_repeat(void **state)
{
	struct params p;

	(void)state;
	over_ok("size=10x10&fit=fill&q=1&rotate=90", "preset=t&size=20x20"
	    "&fit=inside&q=2&rotate=180", &p);
	assert_int_equal(p.width, 20);
	assert_int_equal(p.fit, FIT_INSIDE);
	assert_int_equal(p.quality, 2);
	assert_int_equal(p.rotate, 180);
	assert_int_equal(p.given,
	    P_SIZE | P_FIT | P_Q | P_ROTATE | P_PRESET);
}

static void
over_empty_or_null_query_keeps_the_preset(void **state)
{
	struct params p;
	char buf[128];

	(void)state;
	over_ok("size=300x200&gravity=smart", NULL, &p);
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf, "size=300x200&gravity=smart");
	over_ok("size=300x200&gravity=smart", "", &p);
	canon(&p, buf, sizeof(buf));
	assert_string_equal(buf, "size=300x200&gravity=smart");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gravity_smart_is_accepted),
		cmocka_unit_test(gravity_smart_refuses_lookalikes),
		cmocka_unit_test(format_auto_is_accepted),
		cmocka_unit_test(format_auto_refuses_lookalikes),
		cmocka_unit_test(format_auto_is_an_image_or_video_format),
		cmocka_unit_test(preset_accepts_names),
		cmocka_unit_test(preset_refuses_bad_names),
		cmocka_unit_test(preset_refuses_too_long_names),
		cmocka_unit_test(preset_name_is_last_in_canonical_text),
		cmocka_unit_test(over_keeps_preset_values_the_query_does_not_name),
		cmocka_unit_test(over_query_values_replace_the_presets),
		cmocka_unit_test(over_query_flip_replaces_the_presets),
		cmocka_unit_test(over_is_order_independent),
		cmocka_unit_test(over_refuses_a_name_twice_within_the_query),
		cmocka_unit_test(over_refuses_bad_query_values),
		cmocka_unit_test(over_a_name_in_preset_and_query_is_not_a_repeat),
		cmocka_unit_test(over_empty_or_null_query_keeps_the_preset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
