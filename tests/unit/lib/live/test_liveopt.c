/*
 * liveopt: a live source's `options` syntax (accepted items, what each
 * refusal says), the key and format lookups through libav with
 * libavdevice's devices, and the listen test on options and URLs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <libavutil/dict.h>

#include "live/liveopt.h"
#include "support.h"

static const char *
get(const AVDictionary *d, const char *key)
{
	const AVDictionaryEntry *t = av_dict_get(d, key, NULL,
	    AV_DICT_MATCH_CASE);

	return t != NULL ? t->value : NULL;
}

/* s parses; the dictionary is the caller's. */
static AVDictionary *
parsed(const char *s)
{
	AVDictionary *d = NULL;
	char why[160] = "";

	if (liveopt_parse(s, &d, why, sizeof(why)) < 0)
		fail_msg("'%s' refused: %s", s, why);
	return d;
}

/* s is refused by the parser and by the check, saying needle. */
static void
refused(const char *s, const char *needle)
{
	AVDictionary *d = NULL;
	char why[160] = "";

	assert_int_equal(liveopt_parse(s, &d, why, sizeof(why)), -1);
	av_dict_free(&d);
	if (strstr(why, needle) == NULL)
		fail_msg("'%s': '%s' does not say '%s'", s, why, needle);
	why[0] = '\0';
	assert_int_equal(liveopt_check(s, why, sizeof(why)), -1);
	if (strstr(why, needle) == NULL)
		fail_msg("check '%s': '%s' does not say '%s'", s, why, needle);
}

static void
items_split_on_blanks(void **state)
{
	AVDictionary *d = parsed("  input_format=mjpeg\tvideo_size=1280x720 "
	    "framerate=30  ");

	(void)state;
	assert_int_equal(av_dict_count(d), 3);
	assert_string_equal(get(d, "input_format"), "mjpeg");
	assert_string_equal(get(d, "video_size"), "1280x720");
	assert_string_equal(get(d, "framerate"), "30");
	av_dict_free(&d);
}

static void
value_keeps_everything_after_the_first_equals(void **state)
{
	AVDictionary *d = parsed("graph=testsrc2=size=320x240:rate=15,"
	    "format=yuv420p");

	(void)state;
	assert_string_equal(get(d, "graph"),
	    "testsrc2=size=320x240:rate=15,format=yuv420p");
	av_dict_free(&d);
}

static void
quoted_values_hold_spaces_and_escapes(void **state)
{
	AVDictionary *d = parsed("user_agent=\"cam reader \\\"1\\\" \\\\ x\" "
	    "headers=\"\" listen=1");

	(void)state;
	assert_string_equal(get(d, "user_agent"), "cam reader \"1\" \\ x");
	assert_string_equal(get(d, "headers"), "");
	assert_string_equal(get(d, "listen"), "1");
	av_dict_free(&d);
}

static void
empty_and_null_are_no_options(void **state)
{
	AVDictionary *d = parsed("   ");
	char why[64];

	(void)state;
	assert_null(d);
	assert_int_equal(liveopt_parse(NULL, &d, why, sizeof(why)), 0);
	assert_null(d);
	assert_int_equal(liveopt_check("", why, sizeof(why)), 0);
}

/* The config's options override what livesrc set before them. */
static void
parse_overrides_what_is_there(void **state)
{
	AVDictionary *d = NULL;
	char why[64];

	(void)state;
	av_dict_set(&d, "rw_timeout", "5000000", 0);
	av_dict_set(&d, "fflags", "nobuffer", 0);
	assert_int_equal(liveopt_parse("rw_timeout=1000 probesize=32", &d, why,
	    sizeof(why)), 0);
	assert_string_equal(get(d, "rw_timeout"), "1000");
	assert_string_equal(get(d, "fflags"), "nobuffer");
	assert_string_equal(get(d, "probesize"), "32");
	av_dict_free(&d);
}

static void
bad_syntax_is_refused_with_its_reason(void **state)
{
	(void)state;
	refused("framerate", "expected key=value, got 'framerate'");
	refused("framerate 30", "expected key=value");
	refused("=30", "expected key=value");
	refused("frame rate=30", "expected key=value, got 'frame'");
	refused("video.size=1x1", "expected key=value");
	refused("framerate=", "framerate: empty value");
	refused("framerate= video_size=1x1", "framerate: empty value");
	refused("framerate=30 framerate=25", "framerate given twice");
	refused("user_agent=\"open", "user_agent: the quote is not closed");
	refused("user_agent=\"a\"b", "a space must follow the closing quote");
	refused("user_agent=a\"b\"", "quote the whole value");
	refused("k123456789012345678901234567890123456789012345678901234567890"
	    "12345=1", "too long");
}

static void
keys_are_looked_up_in_libav(void **state)
{
	char why[160] = "";

	(void)state;
	/* v4l2's, lavfi's (devices), rawvideo's, mjpeg's (demuxers), tcp's
	 * and http's (protocols), avformat's own. */
	if (liveopt_check("input_format=mjpeg video_size=1280x720 "
	    "framerate=30 graph=testsrc pixel_format=rgb24 listen=1 "
	    "user_agent=x probesize=32 rw_timeout=1000000", why,
	    sizeof(why)) < 0)
		fail_msg("refused: %s", why);
	assert_int_equal(liveopt_check("framerat=30", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "framerat: no libav demuxer, device or "
	    "protocol has this option"));
	assert_int_equal(liveopt_check("video_size=1x1 nosuchoption=1", why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "nosuchoption"));
}

static void
formats_and_devices_are_known(void **state)
{
	(void)state;
	assert_true(liveopt_format_known("lavfi"));
	assert_true(liveopt_format_known("v4l2"));
	assert_true(liveopt_format_known("mjpeg"));
	assert_true(liveopt_format_known("mpjpeg"));
	assert_true(liveopt_format_known("mpegts"));
	assert_true(liveopt_format_known("rawvideo"));
	assert_false(liveopt_format_known("nosuchformat"));
	assert_false(liveopt_format_known(""));
	assert_false(liveopt_format_known(NULL));
}

static void
listening_is_read_from_options_and_url(void **state)
{
	AVDictionary *d = NULL;

	(void)state;
	assert_true(liveopt_listens("tcp://127.0.0.1:9000?listen=1", NULL));
	assert_true(liveopt_listens("tcp://127.0.0.1:9000?listen", NULL));
	assert_true(liveopt_listens("tcp://127.0.0.1:9000?a=b&listen=2", NULL));
	assert_false(liveopt_listens("tcp://127.0.0.1:9000?listen=0", NULL));
	assert_false(liveopt_listens("tcp://127.0.0.1:9000?listened=1", NULL));
	assert_false(liveopt_listens("tcp://127.0.0.1:9000", NULL));
	assert_false(liveopt_listens("http://h/x?a=1#listen=1", NULL));
	av_dict_set(&d, "listen", "1", 0);
	assert_true(liveopt_listens("tcp://127.0.0.1:9000", d));
	/* tcp reads the URL's query after its options: the URL wins. */
	av_dict_set(&d, "listen", "0", 0);
	assert_true(liveopt_listens("tcp://127.0.0.1:9000?listen=1", d));
	assert_false(liveopt_listens("tcp://127.0.0.1:9000", d));
	av_dict_set(&d, "listen", "1", 0);
	assert_false(liveopt_listens("tcp://127.0.0.1:9000?listen=0", d));
	av_dict_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(items_split_on_blanks),
		cmocka_unit_test(value_keeps_everything_after_the_first_equals),
		cmocka_unit_test(quoted_values_hold_spaces_and_escapes),
		cmocka_unit_test(empty_and_null_are_no_options),
		cmocka_unit_test(parse_overrides_what_is_there),
		cmocka_unit_test(bad_syntax_is_refused_with_its_reason),
		cmocka_unit_test(keys_are_looked_up_in_libav),
		cmocka_unit_test(formats_and_devices_are_known),
		cmocka_unit_test(listening_is_read_from_options_and_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
