/*
 * test_sniff - magic bytes of the allow-list, and everything else refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "req/sniff.h"

#define TYPE(lit) sniff_type((const unsigned char *)(lit), sizeof(lit) - 1)

static void
jpeg_magic_is_jpeg(void **state)
{
	(void)state;
	assert_int_equal(TYPE("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"), MT_JPEG);
	assert_int_equal(TYPE("\xFF\xD8\xFF\xE1....Exif"), MT_JPEG);
	assert_int_equal(TYPE("\xFF\xD8\xFF"), MT_JPEG);
}

static void
png_magic_is_png(void **state)
{
	(void)state;
	assert_int_equal(TYPE("\x89PNG\r\n\x1A\n\x00\x00\x00\rIHDR"), MT_PNG);
	assert_int_equal(TYPE("\x89PNG\r\n\x1A\n"), MT_PNG);
}

static void
gif_87a_and_89a_are_gif(void **state)
{
	(void)state;
	assert_int_equal(TYPE("GIF87a\x01\x00\x01\x00"), MT_GIF);
	assert_int_equal(TYPE("GIF89a\x01\x00\x01\x00"), MT_GIF);
	assert_int_equal(TYPE("GIF89a"), MT_GIF);
}

static void
webp_riff_is_webp(void **state)
{
	(void)state;
	assert_int_equal(TYPE("RIFF\x24\x00\x00\x00WEBPVP8 "), MT_WEBP);
	assert_int_equal(TYPE("RIFF\xFF\xFF\xFF\xFFWEBP"), MT_WEBP);
}

static void
other_riff_forms_are_unknown(void **state)
{
	(void)state;
	assert_int_equal(TYPE("RIFF\x24\x00\x00\x00WAVEfmt "), MT_UNKNOWN);
	/* AVI is a RIFF form the allow-list has: a video. */
	assert_int_equal(TYPE("RIFF\x24\x00\x00\x00" "AVI LIST"), MT_AVI);
	/* WEBP at the wrong offset */
	assert_int_equal(TYPE("RIFFWEBP\x00\x00\x00\x00"), MT_UNKNOWN);
}

static void
truncated_magics_are_unknown(void **state)
{
	(void)state;
	assert_int_equal(TYPE("\xFF\xD8"), MT_UNKNOWN);
	assert_int_equal(TYPE("\x89PNG\r\n\x1A"), MT_UNKNOWN);
	assert_int_equal(TYPE("GIF89"), MT_UNKNOWN);
	assert_int_equal(TYPE("RIFF\x24\x00\x00\x00WEB"), MT_UNKNOWN);
	assert_int_equal(TYPE("RIFF"), MT_UNKNOWN);
	assert_int_equal(TYPE("\xFF"), MT_UNKNOWN);
}

static void
empty_and_null_are_unknown(void **state)
{
	(void)state;
	assert_int_equal(sniff_type((const unsigned char *)"", 0), MT_UNKNOWN);
	assert_int_equal(sniff_type(NULL, 0), MT_UNKNOWN);
	assert_int_equal(sniff_type(NULL, 16), MT_UNKNOWN);
}

static void
len_is_respected_not_the_buffer(void **state)
{
	static const unsigned char jpeg[] = { 0xFF, 0xD8, 0xFF, 0xE0 };

	(void)state;
	/* The bytes are there, but the caller says only 2 were read. */
	assert_int_equal(sniff_type(jpeg, 2), MT_UNKNOWN);
	assert_int_equal(sniff_type(jpeg, 3), MT_JPEG);
}

static void
near_misses_are_unknown(void **state)
{
	(void)state;
	assert_int_equal(TYPE("\xFF\xD8\xFE\xE0"), MT_UNKNOWN);
	assert_int_equal(TYPE("\x89PNG\n\r\x1A\n"), MT_UNKNOWN);
	assert_int_equal(TYPE("\x88PNG\r\n\x1A\n"), MT_UNKNOWN);
	assert_int_equal(TYPE("GIF88a\x01\x00"), MT_UNKNOWN);
	assert_int_equal(TYPE("gif89a\x01\x00"), MT_UNKNOWN);
	assert_int_equal(TYPE("riff\x24\x00\x00\x00WEBP"), MT_UNKNOWN);
	assert_int_equal(TYPE("RIFF\x24\x00\x00\x00webp"), MT_UNKNOWN);
	/* the magic, but not at offset 0 */
	assert_int_equal(TYPE(" \xFF\xD8\xFF\xE0"), MT_UNKNOWN);
}

static void
svg_mvg_ps_and_text_are_unknown(void **state)
{
	(void)state;
	assert_int_equal(TYPE("<?xml version=\"1.0\"?><svg "), MT_UNKNOWN);
	assert_int_equal(TYPE("<svg xmlns=\"http://www.w3.org/2000/svg\">"),
	    MT_UNKNOWN);
	assert_int_equal(TYPE("push graphic-context\nviewbox 0 0 1 1\n"),
	    MT_UNKNOWN);
	assert_int_equal(TYPE("viewbox 0 0 640 480 image over 0,0 0,0 "
	    "'|id'"), MT_UNKNOWN);
	assert_int_equal(TYPE("%!PS-Adobe-3.0\n"), MT_UNKNOWN);
	assert_int_equal(TYPE("%PDF-1.7\n"), MT_UNKNOWN);
	assert_int_equal(TYPE("hello world, plain text\n"), MT_UNKNOWN);
	assert_int_equal(TYPE("BM\x36\x00\x0c\x00"), MT_UNKNOWN);
}

static void
coder_names_match_graphicsmagick(void **state)
{
	(void)state;
	assert_string_equal(sniff_coder(MT_JPEG), "JPEG");
	assert_string_equal(sniff_coder(MT_PNG), "PNG");
	assert_string_equal(sniff_coder(MT_GIF), "GIF");
	assert_string_equal(sniff_coder(MT_WEBP), "WEBP");
	assert_null(sniff_coder(MT_UNKNOWN));
	assert_null(sniff_coder(MT_COUNT));
	assert_null(sniff_coder((enum media_type)-1));
}

static void
mime_types(void **state)
{
	(void)state;
	assert_string_equal(sniff_mime(MT_JPEG), "image/jpeg");
	assert_string_equal(sniff_mime(MT_PNG), "image/png");
	assert_string_equal(sniff_mime(MT_GIF), "image/gif");
	assert_string_equal(sniff_mime(MT_WEBP), "image/webp");
	assert_string_equal(sniff_mime(MT_UNKNOWN),
	    "application/octet-stream");
	assert_string_equal(sniff_mime(MT_COUNT), "application/octet-stream");
}

#define PTYPE(lit) \
	sniff_type_program((const unsigned char *)(lit), sizeof(lit) - 1)

static void
netpbm_is_only_for_programs(void **state)
{
	(void)state;
	/* Media routes never get one: no decoder here reads it. */
	assert_int_equal(TYPE("P6\n160 120\n255\n"), MT_UNKNOWN);
	assert_int_equal(PTYPE("P6\n160 120\n255\n"), MT_PNM);
	assert_int_equal(PTYPE("P5 8 8 255 "), MT_PNM);
	assert_int_equal(PTYPE("P1\r\n"), MT_PNM);
	assert_int_equal(PTYPE("P7\nWIDTH 2\n"), MT_PNM);
	assert_int_equal(PTYPE("P3\t"), MT_PNM);
	assert_int_equal(PTYPE("P8\n"), MT_UNKNOWN);
	assert_int_equal(PTYPE("P0\n"), MT_UNKNOWN);
	assert_int_equal(PTYPE("p6\n"), MT_UNKNOWN);
	assert_int_equal(PTYPE("P6x"), MT_UNKNOWN);
	assert_int_equal(PTYPE("P6"), MT_UNKNOWN);
	assert_int_equal(sniff_type_program(NULL, 8), MT_UNKNOWN);
	/* Otherwise the media sniffer's answer, refusals included. */
	assert_int_equal(PTYPE("\xFF\xD8\xFF\xE0"), MT_JPEG);
	assert_int_equal(PTYPE("\x1A\x45\xDF\xA3"), MT_MKV);
	assert_int_equal(PTYPE("#EXTM3U\n#EXT-X-VERSION:3\n"), MT_UNKNOWN);
	assert_int_equal(PTYPE("ffconcat version 1.0\nfile /etc/passwd\n"),
	    MT_UNKNOWN);
	assert_int_equal(PTYPE("<svg xmlns=\"http://www.w3.org/2000/svg\">"),
	    MT_UNKNOWN);
	assert_int_equal(PTYPE("push graphic-context\nviewbox 0 0 1 1\n"),
	    MT_UNKNOWN);
	assert_null(sniff_coder(MT_PNM));
	assert_false(sniff_is_video(MT_PNM));
}

static void
names_round_trip_and_aliases(void **state)
{
	(void)state;
	for (int t = MT_UNKNOWN + 1; t < MT_ALL; t++) {
		const char *n = sniff_name((enum media_type)t);

		assert_non_null(n);
		assert_int_equal(sniff_type_named(n, strlen(n)), t);
	}
	assert_string_equal(sniff_name(MT_JPEG), "jpeg");
	assert_string_equal(sniff_name(MT_MPEGTS), "mpegts");
	assert_string_equal(sniff_name(MT_PNM), "pnm");
	assert_null(sniff_name(MT_UNKNOWN));
	assert_null(sniff_name(MT_ALL));
	assert_null(sniff_name((enum media_type)-1));
	assert_int_equal(sniff_type_named("jpg", 3), MT_JPEG);
	assert_int_equal(sniff_type_named("JPEG", 4), MT_JPEG);
	assert_int_equal(sniff_type_named("avif", 4), MT_HEIF);
	assert_int_equal(sniff_type_named("mov", 3), MT_MP4);
	assert_int_equal(sniff_type_named("webm", 4), MT_MKV);
	assert_int_equal(sniff_type_named("ts", 2), MT_MPEGTS);
	/* n bytes, not the rest of the string */
	assert_int_equal(sniff_type_named("png,gif", 3), MT_PNG);
	assert_int_equal(sniff_type_named("jpegx", 5), MT_UNKNOWN);
	assert_int_equal(sniff_type_named("jpe", 3), MT_UNKNOWN);
	assert_int_equal(sniff_type_named("svg", 3), MT_UNKNOWN);
	assert_int_equal(sniff_type_named("hls", 3), MT_UNKNOWN);
	assert_int_equal(sniff_type_named("", 0), MT_UNKNOWN);
}

static void
sniff_bytes_covers_every_magic(void **state)
{
	(void)state;
	/* The longest magic (WebP's form type) ends at byte 12. */
	assert_true(SNIFF_BYTES >= 12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jpeg_magic_is_jpeg),
		cmocka_unit_test(png_magic_is_png),
		cmocka_unit_test(gif_87a_and_89a_are_gif),
		cmocka_unit_test(webp_riff_is_webp),
		cmocka_unit_test(other_riff_forms_are_unknown),
		cmocka_unit_test(truncated_magics_are_unknown),
		cmocka_unit_test(empty_and_null_are_unknown),
		cmocka_unit_test(len_is_respected_not_the_buffer),
		cmocka_unit_test(near_misses_are_unknown),
		cmocka_unit_test(svg_mvg_ps_and_text_are_unknown),
		cmocka_unit_test(coder_names_match_graphicsmagick),
		cmocka_unit_test(mime_types),
		cmocka_unit_test(sniff_bytes_covers_every_magic),
		cmocka_unit_test(netpbm_is_only_for_programs),
		cmocka_unit_test(names_round_trip_and_aliases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
