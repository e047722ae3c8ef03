/*
 * img_enc: the encoder options a request gives (img_enc_from_params():
 * type from format= and the source, quality from q= or the configured
 * default, bg=, filters), and img_encode_rgb_opts() encoding a finished
 * frame with them into a memory sink, decoded again to check it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <magick/api.h>

#include "img/img.h"

static const struct img_limits lim = { .default_quality = 77 };

/* The options of query on a source of type src. */
static void
enc_of(const char *query, enum media_type src, struct img_enc *enc)
{
	struct params p;
	struct err e;

	params_init(&p);
	err_init(&e);
	if (params_parse(query, &p, &e) != 0)
		fail_msg("'%s' refused: %s", query, e.msg);
	memset(enc, 0xa5, sizeof(*enc));	/* every field must be set */
	img_enc_from_params(&p, src, &lim, enc);
}

static void
test_quality_is_q_or_the_configured_default(void **state)
{
	struct img_enc enc;

	(void)state;
	enc_of("", MT_JPEG, &enc);
	assert_int_equal(enc.quality, 77);
	enc_of("q=55", MT_JPEG, &enc);
	assert_int_equal(enc.quality, 55);
	enc_of("q=100&format=webp", MT_PNG, &enc);
	assert_int_equal(enc.quality, 100);
}

static void
test_bg_and_whether_it_was_given(void **state)
{
	struct img_enc enc;

	(void)state;
	enc_of("", MT_PNG, &enc);
	assert_int_equal(enc.bg, 0xFFFFFF);	/* flattened alpha: white */
	assert_false(enc.has_bg);		/* padding may stay clear */
	enc_of("bg=102030", MT_PNG, &enc);
	assert_int_equal(enc.bg, 0x102030);
	assert_true(enc.has_bg);
}

static void
test_filters_are_carried(void **state)
{
	struct img_enc enc;

	(void)state;
	enc_of("", MT_JPEG, &enc);
	assert_true(enc.blur == 0 && enc.sharpen == 0);
	enc_of("blur=2.5&sharpen=0.5", MT_JPEG, &enc);
	assert_true(enc.blur == 2.5 && enc.sharpen == 0.5);
}

static void
test_format_maps_to_an_output_type(void **state)
{
	static const struct {
		const char *query;
		enum media_type src, want;
	} cases[] = {
		/* format= wins over the source */
		{ "format=jpeg", MT_PNG, MT_JPEG },
		{ "format=png", MT_JPEG, MT_PNG },
		{ "format=webp", MT_GIF, MT_WEBP },
		{ "format=gif", MT_WEBP, MT_GIF },
		/* the source's own, when browsers show it */
		{ "", MT_JPEG, MT_JPEG },
		{ "", MT_PNG, MT_PNG },
		{ "", MT_GIF, MT_GIF },
		{ "", MT_WEBP, MT_WEBP },
		/* else JPEG */
		{ "", MT_TIFF, MT_JPEG },
		{ "", MT_HEIF, MT_JPEG },
		{ "", MT_JXL, MT_JPEG },
		/* auto unresolved by the caller is the source */
		{ "format=auto", MT_PNG, MT_PNG },
		{ "format=auto", MT_TIFF, MT_JPEG },
		/* not an image: no encoder takes it */
		{ "format=mjpeg", MT_JPEG, MT_UNKNOWN },
		{ "format=mp4", MT_JPEG, MT_UNKNOWN },
		{ "format=webm", MT_JPEG, MT_UNKNOWN },
	};
	struct img_enc enc;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		enc_of(cases[i].query, cases[i].src, &enc);
		if (enc.type != cases[i].want)
			fail_msg("'%s' on type %d: type %d, want %d",
			    cases[i].query, cases[i].src, enc.type,
			    cases[i].want);
	}
}

/* A w x h frame, left half red, right half blue. */
static void
frame_new(struct rgb *f, unsigned w, unsigned h)
{
	assert_int_equal(rgb_alloc(f, w, h), 0);
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			unsigned char *p = f->px + y * f->stride + x * 3;

			p[0] = x < w / 2 ? 255 : 0;
			p[1] = 0;
			p[2] = x < w / 2 ? 0 : 255;
		}
}

/* img_encode_rgb_opts() of f into out; its rc. */
static int
encode(const struct rgb *f, const struct img_enc *enc, struct membuf *out,
    struct err *e)
{
	struct sink s;

	membuf_init(out);
	sink_init_membuf(&s, out);
	err_init(e);
	return img_encode_rgb_opts(f, enc, &s, e);
}

static void
test_frame_is_encoded_as_the_options_say(void **state)
{
	struct rgb f;
	struct img_enc enc;
	struct membuf out;
	struct err e;
	ExceptionInfo ex;
	ImageInfo *ii = CloneImageInfo(NULL);
	Image *im;
	PixelPacket px;

	(void)state;
	frame_new(&f, 64, 32);
	enc_of("format=png", MT_JPEG, &enc);
	assert_int_equal(encode(&f, &enc, &out, &e), 0);
	GetExceptionInfo(&ex);
	im = BlobToImage(ii, out.data, out.len, &ex);
	assert_non_null(im);
	assert_string_equal(im->magick, "PNG");
	assert_int_equal(im->columns, 64);
	assert_int_equal(im->rows, 32);
	px = AcquireOnePixel(im, 60, 10, &ex);
	assert_int_equal(ScaleQuantumToChar(px.blue), 255);
	assert_int_equal(ScaleQuantumToChar(px.red), 0);
	DestroyImage(im);
	DestroyImageInfo(ii);
	DestroyExceptionInfo(&ex);
	membuf_cleanup(&out);
	rgb_free(&f);
}

static void
test_jpeg_quality_reaches_the_encoder(void **state)
{
	struct rgb f;
	struct img_enc enc;
	struct membuf lo, hi;
	struct err e;

	(void)state;
	/* Noise: its size depends on the quality as nothing else does. */
	assert_int_equal(rgb_alloc(&f, 64, 64), 0);
	for (size_t i = 0; i < (size_t)64 * 64 * 3; i++)
		f.px[i] = (unsigned char)((i * 2654435761u) >> 13);
	enc_of("q=10", MT_JPEG, &enc);
	assert_int_equal(encode(&f, &enc, &lo, &e), 0);
	enc_of("q=95", MT_JPEG, &enc);
	assert_int_equal(encode(&f, &enc, &hi, &e), 0);
	assert_memory_equal(lo.data, "\xff\xd8", 2);
	assert_true(hi.len > lo.len * 2);
	membuf_cleanup(&lo);
	membuf_cleanup(&hi);
	rgb_free(&f);
}

static void
test_not_an_image_format_is_refused(void **state)
{
	struct rgb f;
	struct img_enc enc;
	struct membuf out;
	struct err e;

	(void)state;
	frame_new(&f, 8, 8);
	enc_of("format=mjpeg", MT_JPEG, &enc);
	assert_int_equal(encode(&f, &enc, &out, &e), -ERR_BAD_PARAM);
	assert_int_equal(e.kind, ERR_BAD_PARAM);
	assert_int_equal(out.len, 0);
	membuf_cleanup(&out);
	rgb_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quality_is_q_or_the_configured_default),
		cmocka_unit_test(test_bg_and_whether_it_was_given),
		cmocka_unit_test(test_filters_are_carried),
		cmocka_unit_test(test_format_maps_to_an_output_type),
		cmocka_unit_test(test_frame_is_encoded_as_the_options_say),
		cmocka_unit_test(test_jpeg_quality_reaches_the_encoder),
		cmocka_unit_test(test_not_an_image_format_is_refused),
	};

	/* Once for the process, as a worker does after fork. */
	if (img_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("img_enc", tests, NULL, NULL);
}
