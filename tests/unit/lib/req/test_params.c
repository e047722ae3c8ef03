/*
 * test_params - the URL API's query parser: every accepted form, every
 * refused one (400 naming the parameter), and the canonical text.
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

/* Parses q into a scratch struct params; the result, e filled. */
static int
try_parse(const char *q, struct err *e)
{
	struct params p;

	params_init(&p);
	err_init(e);
	return params_parse(q, &p, e);
}

/* q must be refused with a 400 whose message starts with "NAME: ". */
static void
refused_value(const char *q, const char *name)
{
	char prefix[64];
	struct err e;

	snprintf(prefix, sizeof(prefix), "%s: ", name);
	sup_params_refused(q, prefix);
	try_parse(q, &e);
	if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
		fail_msg("'%s': message '%s' does not start with '%s'", q,
		    e.msg, prefix);
}

/* The canonical text of q, which must itself parse to the same text. */
static void
canon_of(const char *q, char *buf, size_t len)
{
	struct params p, again;
	char buf2[4096];

	sup_params_ok(q, &p);
	assert_true(params_canonical(&p, buf, len) >= 0);
	sup_params_ok(buf, &again);
	assert_true(params_canonical(&again, buf2, sizeof(buf2)) >= 0);
	assert_string_equal(buf, buf2);
}

static void
init_sets_defaults(void **state)
{
	struct params p;

	(void)state;
	memset(&p, 0xA5, sizeof(p));
	params_init(&p);
	assert_int_equal(p.given, 0);
	assert_int_equal(p.width, 0);
	assert_int_equal(p.height, 0);
	assert_int_equal(p.fit, FIT_INSIDE);
	assert_int_equal(p.gravity, GRAV_CENTER);
	assert_int_equal(p.rotate, 0);
	assert_false(p.flip_h);
	assert_false(p.flip_v);
	assert_int_equal(p.format, OUT_SOURCE);
	assert_int_equal(p.quality, 0);
	assert_int_equal(p.bg, 0xFFFFFF);
	assert_true(p.blur == 0);
	assert_true(p.sharpen == 0);
	assert_true(p.dpr == 1);
	assert_false(p.enlarge);
	assert_int_equal(p.frame, -1);
}

static void
null_and_empty_query_give_defaults(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok(NULL, &p);
	assert_int_equal(p.given, 0);
	sup_params_ok("", &p);
	assert_int_equal(p.given, 0);
	sup_params_ok("&", &p);
	assert_int_equal(p.given, 0);
	sup_params_ok("&&&", &p);
	assert_int_equal(p.given, 0);
	assert_int_equal(p.frame, -1);
}

static void
empty_pairs_are_skipped(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("&&size=10x20&&fit=cover&", &p);
	assert_int_equal(p.given, P_SIZE | P_FIT);
	assert_int_equal(p.width, 10);
	assert_int_equal(p.height, 20);
	assert_int_equal(p.fit, FIT_COVER);
}

static void
size_accepts_wxh_wx_and_xh(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("size=300x200", &p);
	assert_int_equal(p.given, P_SIZE);
	assert_int_equal(p.width, 300);
	assert_int_equal(p.height, 200);
	sup_params_ok("size=300x", &p);
	assert_int_equal(p.width, 300);
	assert_int_equal(p.height, 0);
	sup_params_ok("size=x200", &p);
	assert_int_equal(p.width, 0);
	assert_int_equal(p.height, 200);
	sup_params_ok("size=1x1", &p);
	assert_int_equal(p.width, 1);
	assert_int_equal(p.height, 1);
	sup_params_ok("size=16384x16384", &p);
	assert_int_equal(p.width, PARAMS_MAX_SIDE);
	assert_int_equal(p.height, PARAMS_MAX_SIDE);
}

static void
size_refuses_bad_forms(void **state)
{
	(void)state;
	refused_value("size", "size");
	refused_value("size=", "size");
	refused_value("size=x", "size");
	refused_value("size=xx", "size");
	refused_value("size=0x10", "size");
	refused_value("size=10x0", "size");
	refused_value("size=0x", "size");
	refused_value("size=x0", "size");
	refused_value("size=10x10x", "size");
	refused_value("size=10x10x10", "size");
	refused_value("size=10", "size");
	refused_value("size=10X10", "size");
	refused_value("size=+10x10", "size");
	refused_value("size=%2B10x10", "size");
	refused_value("size=10x+10", "size");
	refused_value("size=-10x10", "size");
	refused_value("size=%2010x10", "size");
	refused_value("size=10%20x10", "size");
	refused_value("size=10x10%20", "size");
	refused_value("size=10.5x10", "size");
	refused_value("size=ax10", "size");
	refused_value("size=0x0", "size");
}

static void
size_refuses_out_of_range_and_overflow(void **state)
{
	(void)state;
	refused_value("size=16385x1", "size");
	refused_value("size=1x16385", "size");
	refused_value("size=100000x1", "size");
	refused_value("size=123456x1", "size");
	refused_value("size=99999999999999999999x1", "size");
	refused_value("size=1x99999999999999999999", "size");
	/* 2^32 + 10 would wrap to 10 in a 32-bit sum */
	refused_value("size=4294967306x10", "size");
}

static void
name_without_value_is_missing_value(void **state)
{
	(void)state;
	/* no parameter is a flag yet */
	sup_params_refused("size", "size: missing value");
	sup_params_refused("size=", "size: missing value");
	sup_params_refused("fit=cover&q", "q: missing value");
	sup_params_refused("enlarge", "enlarge: missing value");
	sup_params_refused("bg=", "bg: missing value");
}

static void
plus_is_not_a_space(void **state)
{
	(void)state;
	/* As a form would decode it, "+10x10" would be " 10x10"; both are
	 * refused, but the echoed name shows which decoding ran. */
	sup_params_refused("a+b=1", "unknown parameter 'a+b'");
	refused_value("fit=cover+", "fit");
}

static void
fit_accepts_every_mode(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("fit=inside", &p);
	assert_int_equal(p.fit, FIT_INSIDE);
	assert_int_equal(p.given, P_FIT);
	sup_params_ok("fit=cover", &p);
	assert_int_equal(p.fit, FIT_COVER);
	sup_params_ok("fit=contain", &p);
	assert_int_equal(p.fit, FIT_CONTAIN);
	sup_params_ok("fit=fill", &p);
	assert_int_equal(p.fit, FIT_FILL);
	sup_params_ok("fit=outside", &p);
	assert_int_equal(p.fit, FIT_OUTSIDE);
}

static void
fit_refuses_others(void **state)
{
	(void)state;
	refused_value("fit=Cover", "fit");
	refused_value("fit=COVER", "fit");
	refused_value("fit=cover%20", "fit");
	refused_value("fit=crop", "fit");
	refused_value("fit=", "fit");
	refused_value("fit", "fit");
	refused_value("fit=0", "fit");
}

static void
gravity_accepts_all_nine(void **state)
{
	static const struct { const char *q; enum gravity g; } cases[] = {
		{ "gravity=center", GRAV_CENTER },
		{ "gravity=north", GRAV_NORTH },
		{ "gravity=south", GRAV_SOUTH },
		{ "gravity=east", GRAV_EAST },
		{ "gravity=west", GRAV_WEST },
		{ "gravity=northeast", GRAV_NORTHEAST },
		{ "gravity=northwest", GRAV_NORTHWEST },
		{ "gravity=southeast", GRAV_SOUTHEAST },
		{ "gravity=southwest", GRAV_SOUTHWEST },
	};
	struct params p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sup_params_ok(cases[i].q, &p);
		assert_int_equal(p.gravity, cases[i].g);
		assert_int_equal(p.given, P_GRAVITY);
	}
}

static void
gravity_refuses_others(void **state)
{
	(void)state;
	refused_value("gravity=North", "gravity");
	refused_value("gravity=centre", "gravity");
	refused_value("gravity=north-east", "gravity");
	refused_value("gravity=ne", "gravity");
	refused_value("gravity=", "gravity");
}

static void
crop_accepts_four_integers(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("crop=10,20,300,400", &p);
	assert_int_equal(p.given, P_CROP);
	assert_int_equal(p.crop_x, 10);
	assert_int_equal(p.crop_y, 20);
	assert_int_equal(p.crop_w, 300);
	assert_int_equal(p.crop_h, 400);
	sup_params_ok("crop=0,0,1,1", &p);
	assert_int_equal(p.crop_x, 0);
	assert_int_equal(p.crop_w, 1);
	sup_params_ok("crop=1000000,1000000,1000000,1000000", &p);
	assert_int_equal(p.crop_x, PARAMS_MAX_CROP);
	assert_int_equal(p.crop_h, PARAMS_MAX_CROP);
	sup_params_ok("crop=1%2C2%2C3%2C4", &p);
	assert_int_equal(p.crop_y, 2);
	assert_int_equal(p.crop_h, 4);
}

static void
crop_refuses_bad_forms(void **state)
{
	(void)state;
	refused_value("crop=0,0,0,1", "crop");
	refused_value("crop=0,0,1,0", "crop");
	refused_value("crop=1,2,3", "crop");
	refused_value("crop=1,2,3,4,5", "crop");
	refused_value("crop=1,2,3,4,", "crop");
	refused_value("crop=,1,2,3", "crop");
	refused_value("crop=1,,2,3", "crop");
	refused_value("crop=1000001,0,1,1", "crop");
	refused_value("crop=0,0,1,1000001", "crop");
	refused_value("crop=-1,0,1,1", "crop");
	refused_value("crop=+1,0,1,1", "crop");
	refused_value("crop=1,%202,3,4", "crop");
	refused_value("crop=1x2x3x4", "crop");
	refused_value("crop=99999999999999999999,0,1,1", "crop");
	refused_value("crop=", "crop");
}

static void
rotate_accepts_right_angles_only(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("rotate=0", &p);
	assert_int_equal(p.rotate, 0);
	assert_int_equal(p.given, P_ROTATE);
	sup_params_ok("rotate=90", &p);
	assert_int_equal(p.rotate, 90);
	sup_params_ok("rotate=180", &p);
	assert_int_equal(p.rotate, 180);
	sup_params_ok("rotate=270", &p);
	assert_int_equal(p.rotate, 270);
	refused_value("rotate=45", "rotate");
	refused_value("rotate=360", "rotate");
	refused_value("rotate=-90", "rotate");
	refused_value("rotate=090", "rotate");
	refused_value("rotate=90.0", "rotate");
	refused_value("rotate=", "rotate");
}

static void
flip_accepts_h_or_v(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("flip=h", &p);
	assert_true(p.flip_h);
	assert_false(p.flip_v);
	assert_int_equal(p.given, P_FLIP);
	sup_params_ok("flip=v", &p);
	assert_false(p.flip_h);
	assert_true(p.flip_v);
	refused_value("flip=hv", "flip");
	refused_value("flip=H", "flip");
	refused_value("flip=x", "flip");
	refused_value("flip=", "flip");
}

static void
format_accepts_names_and_jpg_alias(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("format=jpeg", &p);
	assert_int_equal(p.format, OUT_JPEG);
	assert_int_equal(p.given, P_FORMAT);
	sup_params_ok("format=jpg", &p);
	assert_int_equal(p.format, OUT_JPEG);
	sup_params_ok("format=png", &p);
	assert_int_equal(p.format, OUT_PNG);
	sup_params_ok("format=webp", &p);
	assert_int_equal(p.format, OUT_WEBP);
	sup_params_ok("format=gif", &p);
	assert_int_equal(p.format, OUT_GIF);
}

static void
format_refuses_others(void **state)
{
	(void)state;
	refused_value("format=JPEG", "format");
	refused_value("format=tiff", "format");
	refused_value("format=svg", "format");
	refused_value("format=source", "format");
	refused_value("format=jpe", "format");
	refused_value("format=", "format");
}

static void
q_accepts_1_to_100(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("q=1", &p);
	assert_int_equal(p.quality, 1);
	assert_int_equal(p.given, P_Q);
	sup_params_ok("q=85", &p);
	assert_int_equal(p.quality, 85);
	sup_params_ok("q=100", &p);
	assert_int_equal(p.quality, 100);
	refused_value("q=0", "q");
	refused_value("q=101", "q");
	refused_value("q=-1", "q");
	refused_value("q=1.5", "q");
	refused_value("q=50%25", "q");
	refused_value("q=99999999999999999999", "q");
	refused_value("q=", "q");
	refused_value("q", "q");
}

static void
bg_accepts_six_hex_digits_either_case(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("bg=ff8800", &p);
	assert_int_equal(p.bg, 0xFF8800);
	assert_int_equal(p.given, P_BG);
	sup_params_ok("bg=FF8800", &p);
	assert_int_equal(p.bg, 0xFF8800);
	sup_params_ok("bg=aBcDeF", &p);
	assert_int_equal(p.bg, 0xABCDEF);
	sup_params_ok("bg=000000", &p);
	assert_int_equal(p.bg, 0);
	assert_int_equal(p.given, P_BG);
}

static void
bg_refuses_other_forms(void **state)
{
	(void)state;
	refused_value("bg=fff", "bg");
	refused_value("bg=ff88001", "bg");
	refused_value("bg=ff880", "bg");
	refused_value("bg=gg0000", "bg");
	refused_value("bg=%23ff8800", "bg");
	refused_value("bg=0xff88", "bg");
	refused_value("bg=ff 880", "bg");
	refused_value("bg=", "bg");
}

static void
blur_and_sharpen_accept_decimals_in_range(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("blur=0.3", &p);
	assert_true(p.blur == 0.3);
	assert_int_equal(p.given, P_BLUR);
	sup_params_ok("blur=50", &p);
	assert_true(p.blur == 50);
	sup_params_ok("blur=1.5", &p);
	assert_true(p.blur == 1.5);
	sup_params_ok("blur=.5", &p);
	assert_true(p.blur == 0.5);
	sup_params_ok("blur=5.", &p);
	assert_true(p.blur == 5);
	sup_params_ok("sharpen=2", &p);
	assert_true(p.sharpen == 2);
	assert_int_equal(p.given, P_SHARPEN);
	sup_params_ok("sharpen=0.30", &p);
	assert_true(p.sharpen == 0.3);
}

static void
blur_and_sharpen_refuse_nan_inf_hex_junk(void **state)
{
	static const char *const bad[] = {
		"0.2", "0.29", "50.01", "51", "0", "nan", "NAN", "inf",
		"infinity", "0x10", "0x1p3", "1e1", "-1", "+1", "%201", "1%20",
		"1.5.2", ".", "1,5", "1.5x", "",
		"99999999999999999999999999999999999999",
	};
	char q[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(q, sizeof(q), "blur=%s", bad[i]);
		refused_value(q, "blur");
		snprintf(q, sizeof(q), "sharpen=%s", bad[i]);
		refused_value(q, "sharpen");
	}
}

static void
dpr_accepts_1_to_4(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("dpr=1", &p);
	assert_true(p.dpr == 1);
	assert_int_equal(p.given, P_DPR);
	sup_params_ok("dpr=1.5", &p);
	assert_true(p.dpr == 1.5);
	sup_params_ok("dpr=4", &p);
	assert_true(p.dpr == 4);
	refused_value("dpr=0", "dpr");
	refused_value("dpr=0.5", "dpr");
	refused_value("dpr=4.01", "dpr");
	refused_value("dpr=5", "dpr");
	refused_value("dpr=2x", "dpr");
	refused_value("dpr=inf", "dpr");
	refused_value("dpr=", "dpr");
}

static void
enlarge_accepts_0_or_1(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("enlarge=1", &p);
	assert_true(p.enlarge);
	assert_int_equal(p.given, P_ENLARGE);
	sup_params_ok("enlarge=0", &p);
	assert_false(p.enlarge);
	assert_int_equal(p.given, P_ENLARGE);
	refused_value("enlarge=2", "enlarge");
	refused_value("enlarge=true", "enlarge");
	refused_value("enlarge=01", "enlarge");
	refused_value("enlarge=", "enlarge");
	refused_value("enlarge", "enlarge");
}

static void
frame_accepts_0_to_max(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("frame=0", &p);
	assert_int_equal(p.frame, 0);
	assert_int_equal(p.given, P_FRAME);
	sup_params_ok("frame=7", &p);
	assert_int_equal(p.frame, 7);
	sup_params_ok("frame=100000", &p);
	assert_int_equal(p.frame, PARAMS_MAX_FRAME);
	refused_value("frame=100001", "frame");
	refused_value("frame=-1", "frame");
	refused_value("frame=1.0", "frame");
	refused_value("frame=99999999999999999999", "frame");
	refused_value("frame=", "frame");
}

static void
every_parameter_at_once(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("size=300x200&fit=cover&gravity=north&crop=1,2,3,4&rotate=90"
	    "&flip=v&format=webp&q=70&bg=102030&blur=1&sharpen=2&dpr=2"
	    "&enlarge=1&frame=3", &p);
	assert_int_equal(p.given, P_SIZE | P_FIT | P_GRAVITY | P_CROP |
	    P_ROTATE | P_FLIP | P_FORMAT | P_Q | P_BG | P_BLUR | P_SHARPEN |
	    P_DPR | P_ENLARGE | P_FRAME);
	assert_int_equal(p.width, 300);
	assert_int_equal(p.fit, FIT_COVER);
	assert_int_equal(p.gravity, GRAV_NORTH);
	assert_int_equal(p.crop_w, 3);
	assert_int_equal(p.rotate, 90);
	assert_true(p.flip_v);
	assert_int_equal(p.format, OUT_WEBP);
	assert_int_equal(p.quality, 70);
	assert_int_equal(p.bg, 0x102030);
	assert_true(p.blur == 1);
	assert_true(p.sharpen == 2);
	assert_true(p.dpr == 2);
	assert_true(p.enlarge);
	assert_int_equal(p.frame, 3);
}

static void
unknown_name_is_refused_and_named(void **state)
{
	(void)state;
	sup_params_refused("foo=1", "unknown parameter 'foo'");
	sup_params_refused("Size=10x10", "unknown parameter 'Size'");
	sup_params_refused("size=1x1&width=10", "unknown parameter 'width'");
	sup_params_refused("=1", "unknown parameter ''");
	sup_params_refused("thumbnail", "unknown parameter 'thumbnail'");
}

static void
unknown_name_echo_is_capped_and_sanitized(void **state)
{
	struct params p;
	struct err e;
	char q[256], a41[42];

	(void)state;
	memset(q, 'a', 100);
	strcpy(q + 100, "=1");
	memset(a41, 'a', 41);
	a41[41] = '\0';
	params_init(&p);
	err_init(&e);
	assert_int_equal(params_parse(q, &p, &e), -ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "unknown parameter 'aaaa"));
	assert_null(strstr(e.msg, a41));
	assert_true(strlen(e.msg) < 80);

	/* control bytes and non-ASCII come back as '?' */
	sup_params_refused("x%01%0Ay%FF=1", "unknown parameter 'x??y?'");
	sup_params_refused("%1b%5b31m=1", "unknown parameter '?[31m'");
}

static void
repeated_name_is_refused(void **state)
{
	(void)state;
	sup_params_refused("size=1x1&size=2x2", "parameter 'size' given twice");
	sup_params_refused("size=1x1&size=1x1", "parameter 'size' given twice");
	sup_params_refused("flip=h&flip=v", "parameter 'flip' given twice");
	sup_params_refused("q=1&fit=cover&q=2", "parameter 'q' given twice");
	sup_params_refused("enlarge=0&enlarge=0",
	    "parameter 'enlarge' given twice");
	/* the same name, once encoded */
	sup_params_refused("fit=cover&%66it=fill",
	    "parameter 'fit' given twice");
}

static void
names_and_values_are_decoded_once(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("%73ize=10%7820", &p);
	assert_int_equal(p.width, 10);
	assert_int_equal(p.height, 20);
	sup_params_ok("fit=%63%6F%76%65%72", &p);
	assert_int_equal(p.fit, FIT_COVER);
	/* "%2563" is "%63" once decoded, not "c" */
	refused_value("fit=%2563over", "fit");
	sup_params_refused("%2573ize=1x1", "unknown parameter '%73ize'");
	/* an encoded '=' or '&' is data, not syntax */
	refused_value("fit=cover%26size%3D1x1", "fit");
}

/*
 * Browsers send a '%' that starts no escape raw ("t=50%"): it is the
 * character itself, so such a value means what it says, and the canonical
 * form writes it as %25, which parses back to the same.
 */
static void
lone_percent_is_literal(void **state)
{
	struct params p;
	char buf[256];

	(void)state;
	sup_params_ok("t=50%", &p);
	assert_int_equal(p.t_kind, T_PERCENT);
	assert_true(p.t == 50);
	sup_params_ok("t=12.5%&size=10x10", &p);
	assert_true(p.t == 12.5);
	assert_int_equal(p.width, 10);
	canon_of("t=50%", buf, sizeof(buf));
	assert_string_equal(buf, "t=50%25");
	refused_value("t=%", "t");
	/* Taken literally, a stray '%' is then judged as a value. */
	refused_value("fit=%zz", "fit");
	refused_value("fit=cover%", "fit");
	refused_value("fit=cover%4", "fit");
	refused_value("size=%g0x10", "size");
	refused_value("q=%", "q");
	sup_params_refused("si%zze=1x1", "unknown parameter 'si%zze'");
	sup_params_refused("size%=1x1", "unknown parameter 'size%'");
}

static void
decoded_nul_is_refused(void **state)
{
	(void)state;
	sup_params_refused("fit=cover%00", "fit: NUL");
	sup_params_refused("fit=%00cover", "fit: NUL");
	sup_params_refused("size%00=1x1", "NUL byte in a parameter name");
	sup_params_refused("%00=1", "NUL byte in a parameter name");
}

static void
query_longer_than_max_is_refused(void **state)
{
	char q[PARAMS_MAX_QUERY + 2];
	struct params p;

	(void)state;
	/* a valid pair padded with empty pairs to exactly the limit */
	strcpy(q, "size=1x1");
	memset(q + 8, '&', PARAMS_MAX_QUERY - 8);
	q[PARAMS_MAX_QUERY] = '\0';
	sup_params_ok(q, &p);
	assert_int_equal(p.width, 1);
	q[PARAMS_MAX_QUERY] = '&';
	q[PARAMS_MAX_QUERY + 1] = '\0';
	sup_params_refused(q, "query string longer than 2048 bytes");
}

static void
failed_parse_leaves_params_unchanged(void **state)
{
	struct params p;
	struct err e;

	(void)state;
	params_init(&p);
	err_init(&e);
	assert_int_equal(params_parse("size=10x10&q=90&fit=bogus", &p, &e),
	    -ERR_BAD_PARAM);
	assert_int_equal(p.given, 0);
	assert_int_equal(p.width, 0);
	assert_int_equal(p.quality, 0);
}

static void
box_multiplies_by_dpr_and_rounds(void **state)
{
	struct params p;
	unsigned w, h;

	(void)state;
	sup_params_ok("size=300x200&dpr=2", &p);
	params_box(&p, &w, &h);
	assert_int_equal(w, 600);
	assert_int_equal(h, 400);
	sup_params_ok("size=301x3&dpr=1.5", &p);
	params_box(&p, &w, &h);
	assert_int_equal(w, 452);	/* 451.5 rounds up */
	assert_int_equal(h, 5);		/* 4.5 rounds up */
	sup_params_ok("size=301x&dpr=1.5", &p);
	params_box(&p, &w, &h);
	assert_int_equal(w, 452);
	assert_int_equal(h, 0);
	sup_params_ok("size=x100&dpr=3", &p);
	params_box(&p, &w, &h);
	assert_int_equal(w, 0);
	assert_int_equal(h, 300);
	sup_params_ok("size=16384x16384&dpr=4", &p);
	params_box(&p, &w, &h);
	assert_int_equal(w, 65536);
	assert_int_equal(h, 65536);
	sup_params_ok("size=300x200", &p);
	params_box(&p, &w, &h);
	assert_int_equal(w, 300);
	assert_int_equal(h, 200);
	sup_params_ok("dpr=2", &p);
	params_box(&p, &w, &h);
	assert_int_equal(w, 0);
	assert_int_equal(h, 0);
}

static void
canonical_of_nothing_is_empty(void **state)
{
	struct params p;
	char buf[16];

	(void)state;
	sup_params_ok("", &p);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(params_canonical(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void
canonical_has_fixed_order(void **state)
{
	static const char *const want =
	    "size=300x200&fit=cover&gravity=northeast&crop=1,2,3,4"
	    "&rotate=270&flip=h&format=png&q=70&bg=0a0b0c&blur=1.5"
	    "&sharpen=0.3&dpr=2&enlarge=1&frame=0";
	char buf[512];

	(void)state;
	canon_of("frame=0&enlarge=1&dpr=2&sharpen=0.3&blur=1.5&bg=0a0b0c"
	    "&q=70&format=png&flip=h&rotate=270&crop=1,2,3,4"
	    "&gravity=northeast&fit=cover&size=300x200", buf, sizeof(buf));
	assert_string_equal(buf, want);
	canon_of("q=70&size=300x200&bg=0a0b0c&rotate=270&fit=cover&frame=0"
	    "&crop=1,2,3,4&blur=1.5&flip=h&dpr=2&gravity=northeast"
	    "&format=png&enlarge=1&sharpen=0.3", buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
canonical_is_order_independent(void **state)
{
	char a[256], b[256];

	(void)state;
	canon_of("size=100x&fit=fill&q=5", a, sizeof(a));
	canon_of("q=5&fit=fill&size=100x", b, sizeof(b));
	assert_string_equal(a, b);
	canon_of("&&format=gif&&rotate=90", a, sizeof(a));
	canon_of("rotate=90&format=gif", b, sizeof(b));
	assert_string_equal(a, b);
	assert_string_equal(a, "rotate=90&format=gif");
}

static void
canonical_normalises_values(void **state)
{
	char buf[256];

	(void)state;
	canon_of("format=jpg", buf, sizeof(buf));
	assert_string_equal(buf, "format=jpeg");
	canon_of("bg=FFAA00", buf, sizeof(buf));
	assert_string_equal(buf, "bg=ffaa00");
	canon_of("bg=000000", buf, sizeof(buf));
	assert_string_equal(buf, "bg=000000");
	canon_of("size=0300x0200", buf, sizeof(buf));
	assert_string_equal(buf, "size=300x200");
	canon_of("size=300x", buf, sizeof(buf));
	assert_string_equal(buf, "size=300x");
	canon_of("size=x200", buf, sizeof(buf));
	assert_string_equal(buf, "size=x200");
	canon_of("blur=1.50", buf, sizeof(buf));
	assert_string_equal(buf, "blur=1.5");
	canon_of("blur=.5", buf, sizeof(buf));
	assert_string_equal(buf, "blur=0.5");
	canon_of("dpr=2.0", buf, sizeof(buf));
	assert_string_equal(buf, "dpr=2");
	canon_of("enlarge=0", buf, sizeof(buf));
	assert_string_equal(buf, "enlarge=0");
	/* a default that was given is named, as given */
	canon_of("gravity=center&fit=inside", buf, sizeof(buf));
	assert_string_equal(buf, "fit=inside&gravity=center");
	canon_of("rotate=0&q=100", buf, sizeof(buf));
	assert_string_equal(buf, "rotate=0&q=100");
	canon_of("%73ize=10%7810&fit=%63over", buf, sizeof(buf));
	assert_string_equal(buf, "size=10x10&fit=cover");
}

static void
canonical_value_is_the_value_used(void **state)
{
	struct params p;
	char buf[64];

	(void)state;
	/* Two requests with one canonical text must render alike. */
	sup_params_ok("blur=1.0000001", &p);
	assert_int_equal(params_canonical(&p, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "blur=1");
	assert_true(p.blur == 1);
}

static void
canonical_refuses_short_buffer(void **state)
{
	struct params p;
	char buf[64];
	int n;

	(void)state;
	sup_params_ok("size=300x200&fit=cover", &p);
	n = params_canonical(&p, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen("size=300x200&fit=cover"));
	assert_int_equal(params_canonical(&p, buf, (size_t)n + 1), n);
	assert_string_equal(buf, "size=300x200&fit=cover");
	assert_int_equal(params_canonical(&p, buf, (size_t)n), -1);
	assert_int_equal(params_canonical(&p, buf, 1), -1);
	assert_int_equal(params_canonical(&p, buf, 0), -1);
}

static void
canonical_never_writes_past_len(void **state)
{
	struct params p;
	char buf[64];
	size_t len;

	(void)state;
	sup_params_ok("size=300x200&fit=cover&bg=abcdef", &p);
	/* every length short of the text: 12 ends at "size=300x200" */
	for (len = 1; len <= strlen("size=300x200&fit=cover&bg=abcdef");
	    len++) {
		memset(buf, 'Z', sizeof(buf));
		assert_int_equal(params_canonical(&p, buf, len), -1);
		if (buf[len] != 'Z')
			fail_msg("len %zu: byte %zu written", len, len);
		if (memchr(buf, '\0', len) == NULL)
			fail_msg("len %zu: not NUL-terminated", len);
	}
}

static void
names_are_lowercase_and_never_null(void **state)
{
	(void)state;
	assert_string_equal(params_fit_name(FIT_INSIDE), "inside");
	assert_string_equal(params_fit_name(FIT_COVER), "cover");
	assert_string_equal(params_fit_name(FIT_CONTAIN), "contain");
	assert_string_equal(params_fit_name(FIT_FILL), "fill");
	assert_string_equal(params_fit_name(FIT_OUTSIDE), "outside");
	assert_string_equal(params_gravity_name(GRAV_CENTER), "center");
	assert_string_equal(params_gravity_name(GRAV_NORTH), "north");
	assert_string_equal(params_gravity_name(GRAV_SOUTH), "south");
	assert_string_equal(params_gravity_name(GRAV_EAST), "east");
	assert_string_equal(params_gravity_name(GRAV_WEST), "west");
	assert_string_equal(params_gravity_name(GRAV_NORTHEAST), "northeast");
	assert_string_equal(params_gravity_name(GRAV_NORTHWEST), "northwest");
	assert_string_equal(params_gravity_name(GRAV_SOUTHEAST), "southeast");
	assert_string_equal(params_gravity_name(GRAV_SOUTHWEST), "southwest");
	assert_string_equal(params_format_name(OUT_JPEG), "jpeg");
	assert_string_equal(params_format_name(OUT_PNG), "png");
	assert_string_equal(params_format_name(OUT_WEBP), "webp");
	assert_string_equal(params_format_name(OUT_GIF), "gif");
	assert_non_null(params_format_name(OUT_SOURCE));
	assert_non_null(params_fit_name((enum fit)99));
	assert_non_null(params_gravity_name((enum gravity)99));
	assert_non_null(params_format_name((enum out_format)99));
}

static void
t_accepts_seconds_clock_percent_and_auto(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("t=12.5", &p);
	assert_int_equal(p.t_kind, T_SECONDS);
	assert_true(p.t == 12.5);
	sup_params_ok("t=01:02:03.5", &p);
	assert_true(p.t == 3723.5);
	sup_params_ok("t=2:30", &p);
	assert_true(p.t == 150);
	sup_params_ok("t=50%25", &p);
	assert_int_equal(p.t_kind, T_PERCENT);
	assert_true(p.t == 50);
	sup_params_ok("t=auto", &p);
	assert_int_equal(p.t_kind, T_AUTO);
	assert_true(p.given & P_T);
}

static void
t_refuses_bad_forms(void **state)
{
	(void)state;
	refused_value("t=-1", "t");
	refused_value("t=abc", "t");
	refused_value("t=1:60", "t");
	refused_value("t=1:2:3:4", "t");
	refused_value("t=101%25", "t");
	refused_value("t=:5", "t");
	refused_value("t=1e3", "t");
	refused_value("t=999999999", "t");
}

static void
seek_sprite_info_parse(void **state)
{
	struct params p;

	(void)state;
	sup_params_ok("seek=key&sprite=5x4&info", &p);
	assert_int_equal(p.seek, SEEK_KEY);
	assert_int_equal(p.sprite_cols, 5);
	assert_int_equal(p.sprite_rows, 4);
	assert_true(p.info);
	sup_params_ok("info=1", &p);
	assert_true(p.info);
	refused_value("info=yes", "info");
	refused_value("seek=fast", "seek");
	refused_value("sprite=0x3", "sprite");
	refused_value("sprite=21x1", "sprite");
	refused_value("sprite=11x10", "sprite");
	refused_value("sprite=5", "sprite");
	sup_params_ok("format=vtt&sprite=2x2", &p);
	assert_int_equal(p.format, OUT_VTT);
}

static void
kind_check_names_the_misplaced_parameter(void **state)
{
	struct params p;
	struct err e;

	(void)state;
	sup_params_ok("t=5&size=10x10", &p);
	err_init(&e);
	assert_int_equal(params_check_kind(&p, false, &e), -ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "t: does not apply to an image"));
	err_init(&e);
	assert_int_equal(params_check_kind(&p, true, &e), 0);
	sup_params_ok("crop=0,0,5,5", &p);
	err_init(&e);
	assert_int_equal(params_check_kind(&p, true, &e), -ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "crop"));
	sup_params_ok("format=vtt", &p);
	err_init(&e);
	assert_int_equal(params_check_kind(&p, true, &e), -ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "format"));
}

static void
stream_and_still_parameters_do_not_mix(void **state)
{
	static const struct { const char *q, *name; } bad_mix[] = {
		{ "fps=10", "fps" }, { "start=3&size=10x10", "start" },
		{ "loop=1", "loop" }, { "format=mjpeg&t=3", "t" },
		{ "format=mp4&sprite=2x2", "sprite" }, { "format=webm&info", "info" },
		{ "format=mp4&loop=1", "loop" }, { "snapshot", "snapshot" },
	};
	struct params p;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_mix) / sizeof(*bad_mix); i++) {
		char want[32];

		sup_params_ok(bad_mix[i].q, &p);
		err_init(&e);
		assert_int_equal(params_check_kind(&p, true, &e), -ERR_BAD_PARAM);
		snprintf(want, sizeof(want), "%s: ", bad_mix[i].name);
		if (strncmp(e.msg, want, strlen(want)) != 0)
			fail_msg("'%s': '%s' does not name %s", bad_mix[i].q, e.msg,
			    bad_mix[i].name);
	}
	sup_params_ok("format=mjpeg&fps=10&start=2&loop=1&size=64x", &p);
	err_init(&e);
	assert_int_equal(params_check_kind(&p, true, &e), 0);
	sup_params_ok("format=mjpeg", &p);
	err_init(&e);
	assert_int_equal(params_check_kind(&p, false, &e), -ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "format: mjpeg needs a video"));
}

static void
canonical_of_video_params(void **state)
{
	char buf[256];

	(void)state;
	canon_of("info&sprite=3x2&seek=key&t=00:01:05", buf, sizeof(buf));
	assert_string_equal(buf, "t=65&seek=key&sprite=3x2&info");
	/* Found by fuzz_params: a bare '%' did not parse again. */
	canon_of("t=25%25", buf, sizeof(buf));
	assert_string_equal(buf, "t=25%25");
	canon_of("t=000%25", buf, sizeof(buf));
	assert_string_equal(buf, "t=0%25");
	/* Found by fuzz_params: "%g" wrote 1.9279e-07, which the parser
	 * refuses; decimals are plain, at most 6 places, never an exponent. */
	canon_of("t=.00000019279", buf, sizeof(buf));
	assert_string_equal(buf, "t=0");
	canon_of("t=99:59:59.1234567&start=0.0000015", buf, sizeof(buf));
	assert_string_equal(buf, "t=359999.123457&start=0.000002");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_sets_defaults),
		cmocka_unit_test(null_and_empty_query_give_defaults),
		cmocka_unit_test(empty_pairs_are_skipped),
		cmocka_unit_test(size_accepts_wxh_wx_and_xh),
		cmocka_unit_test(size_refuses_bad_forms),
		cmocka_unit_test(size_refuses_out_of_range_and_overflow),
		cmocka_unit_test(name_without_value_is_missing_value),
		cmocka_unit_test(plus_is_not_a_space),
		cmocka_unit_test(fit_accepts_every_mode),
		cmocka_unit_test(fit_refuses_others),
		cmocka_unit_test(gravity_accepts_all_nine),
		cmocka_unit_test(gravity_refuses_others),
		cmocka_unit_test(crop_accepts_four_integers),
		cmocka_unit_test(crop_refuses_bad_forms),
		cmocka_unit_test(rotate_accepts_right_angles_only),
		cmocka_unit_test(flip_accepts_h_or_v),
		cmocka_unit_test(format_accepts_names_and_jpg_alias),
		cmocka_unit_test(format_refuses_others),
		cmocka_unit_test(q_accepts_1_to_100),
		cmocka_unit_test(bg_accepts_six_hex_digits_either_case),
		cmocka_unit_test(bg_refuses_other_forms),
		cmocka_unit_test(blur_and_sharpen_accept_decimals_in_range),
		cmocka_unit_test(blur_and_sharpen_refuse_nan_inf_hex_junk),
		cmocka_unit_test(dpr_accepts_1_to_4),
		cmocka_unit_test(enlarge_accepts_0_or_1),
		cmocka_unit_test(frame_accepts_0_to_max),
		cmocka_unit_test(every_parameter_at_once),
		cmocka_unit_test(unknown_name_is_refused_and_named),
		cmocka_unit_test(t_accepts_seconds_clock_percent_and_auto),
		cmocka_unit_test(t_refuses_bad_forms),
		cmocka_unit_test(seek_sprite_info_parse),
		cmocka_unit_test(kind_check_names_the_misplaced_parameter),
		cmocka_unit_test(stream_and_still_parameters_do_not_mix),
		cmocka_unit_test(canonical_of_video_params),
		cmocka_unit_test(unknown_name_echo_is_capped_and_sanitized),
		cmocka_unit_test(repeated_name_is_refused),
		cmocka_unit_test(names_and_values_are_decoded_once),
		cmocka_unit_test(lone_percent_is_literal),
		cmocka_unit_test(decoded_nul_is_refused),
		cmocka_unit_test(query_longer_than_max_is_refused),
		cmocka_unit_test(failed_parse_leaves_params_unchanged),
		cmocka_unit_test(box_multiplies_by_dpr_and_rounds),
		cmocka_unit_test(canonical_of_nothing_is_empty),
		cmocka_unit_test(canonical_has_fixed_order),
		cmocka_unit_test(canonical_is_order_independent),
		cmocka_unit_test(canonical_normalises_values),
		cmocka_unit_test(canonical_value_is_the_value_used),
		cmocka_unit_test(canonical_refuses_short_buffer),
		cmocka_unit_test(canonical_never_writes_past_len),
		cmocka_unit_test(names_are_lowercase_and_never_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
