/*
 * enc_avif, enc_jxl and their place in img_enc: pixels encoded into a
 * memory sink and decoded again with libavif's and libjxl's own decoders
 * (dimensions, alpha, PSNR against the source); AVIF's colour planes
 * 4:4:4 and full range, with and without alpha; the q tables monotone;
 * format=avif|jxl as output types with the configured speed and effort;
 * a video still's frame (img_encode_rgb_opts()) as AVIF and JPEG XL; the
 * AVIF side limit for the planner; a client gone mid-answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <avif/avif.h>
#include <jxl/decode.h>

#include "img/enc_avif.h"
#include "img/enc_jxl.h"
#include "img/img.h"
#include "req/geom.h"

#define W 96
#define H 64

/*
 * A smooth picture (what photos are made of, so a lossy codec keeps it
 * well) with a hard edge, and an alpha ramp from clear on the left to
 * opaque on the right when ch is 4.
 */
static unsigned char *
picture(unsigned ch)
{
	unsigned char *px = malloc((size_t)W * H * ch);

	assert_non_null(px);
	for (unsigned y = 0; y < H; y++)
		for (unsigned x = 0; x < W; x++) {
			unsigned char *p = px + ((size_t)y * W + x) * ch;

			p[0] = (unsigned char)(x * 255 / (W - 1));
			p[1] = (unsigned char)(y * 255 / (H - 1));
			p[2] = x > W / 2 && y > H / 2 ? 200 : 40;
			if (ch == 4)
				p[3] = (unsigned char)(x * 255 / (W - 1));
		}
	return px;
}

/* PSNR in dB of channel c..c+n-1 of two frames of ch bytes a pixel. */
static double
psnr(const unsigned char *a, const unsigned char *b, unsigned ch,
    unsigned c, unsigned n)
{
	double se = 0;
	size_t cnt = 0;

	for (size_t i = 0; i < (size_t)W * H; i++)
		for (unsigned k = c; k < c + n; k++) {
			double d = (double)a[i * ch + k] - b[i * ch + k];

			se += d * d;
			cnt++;
		}
	return se == 0 ? 99 : 10 * log10(255.0 * 255.0 / (se / (double)cnt));
}

/* The AVIF in m decoded by libavif to RGBA; whether it had alpha. */
static unsigned char *
avif_decode(const struct membuf *m, unsigned *w, unsigned *h, bool *alpha)
{
	avifDecoder *d = avifDecoderCreate();
	avifRGBImage rgb;
	unsigned char *px;

	assert_non_null(d);
	assert_int_equal(avifDecoderSetIOMemory(d, m->data, m->len),
	    AVIF_RESULT_OK);
	assert_int_equal(avifDecoderParse(d), AVIF_RESULT_OK);
	assert_int_equal(avifDecoderNextImage(d), AVIF_RESULT_OK);
	*w = d->image->width;
	*h = d->image->height;
	*alpha = d->alphaPresent;
	avifRGBImageSetDefaults(&rgb, d->image);
	rgb.format = AVIF_RGB_FORMAT_RGBA;
	rgb.depth = 8;
	px = malloc((size_t)*w * *h * 4);
	assert_non_null(px);
	rgb.pixels = px;
	rgb.rowBytes = *w * 4;
	assert_int_equal(avifImageYUVToRGB(d->image, &rgb), AVIF_RESULT_OK);
	avifDecoderDestroy(d);
	return px;
}

/* The JPEG XL in m decoded by libjxl to RGBA; whether it had alpha. */
static unsigned char *
jxl_decode(const struct membuf *m, unsigned *w, unsigned *h, bool *alpha)
{
	JxlDecoder *d = JxlDecoderCreate(NULL);
	JxlPixelFormat pf = { 4, JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0 };
	JxlBasicInfo info;
	unsigned char *px = NULL;
	size_t size;

	assert_non_null(d);
	assert_int_equal(JxlDecoderSubscribeEvents(d, JXL_DEC_BASIC_INFO |
	    JXL_DEC_FULL_IMAGE), JXL_DEC_SUCCESS);
	assert_int_equal(JxlDecoderSetInput(d, m->data, m->len),
	    JXL_DEC_SUCCESS);
	JxlDecoderCloseInput(d);
	for (;;) {
		JxlDecoderStatus st = JxlDecoderProcessInput(d);

		if (st == JXL_DEC_BASIC_INFO) {
			assert_int_equal(JxlDecoderGetBasicInfo(d, &info),
			    JXL_DEC_SUCCESS);
			*w = info.xsize;
			*h = info.ysize;
			*alpha = info.alpha_bits > 0;
		} else if (st == JXL_DEC_NEED_IMAGE_OUT_BUFFER) {
			assert_int_equal(JxlDecoderImageOutBufferSize(d, &pf,
			    &size), JXL_DEC_SUCCESS);
			assert_int_equal(size, (size_t)*w * *h * 4);
			px = malloc(size);
			assert_non_null(px);
			assert_int_equal(JxlDecoderSetImageOutBuffer(d, &pf, px,
			    size), JXL_DEC_SUCCESS);
		} else if (st == JXL_DEC_FULL_IMAGE || st == JXL_DEC_SUCCESS) {
			break;
		} else {
			fail_msg("libjxl: decoder status %d", (int)st);
		}
	}
	JxlDecoderDestroy(d);
	assert_non_null(px);
	return px;
}

typedef int (*writer)(const unsigned char *, unsigned, unsigned, bool,
    unsigned, unsigned, struct sink *, struct err *);
typedef unsigned char *(*reader)(const struct membuf *, unsigned *,
    unsigned *, bool *);

/* px (ch bytes a pixel) through the writer at q and setting, into m. */
static void
encode_px(writer wr, const unsigned char *px, unsigned ch, unsigned q,
    unsigned setting, struct membuf *m)
{
	struct sink s;
	struct err e;

	membuf_init(m);
	sink_init_membuf(&s, m);
	err_init(&e);
	if (wr(px, W, H, ch == 4, q, setting, &s, &e) != 0)
		fail_msg("encode: %s", e.msg);
	assert_true(m->len > 0);
}

/* Source RGB(A) px against the decoded RGBA: size, alpha, PSNR bounds. */
static void
round_trip(writer wr, reader rd, unsigned setting, unsigned ch)
{
	unsigned char *px = picture(ch), *back, *src4;
	struct membuf m;
	unsigned w = 0, h = 0;
	bool alpha = false;

	encode_px(wr, px, ch, 75, setting, &m);
	back = rd(&m, &w, &h, &alpha);
	assert_int_equal(w, W);
	assert_int_equal(h, H);
	assert_int_equal(alpha, ch == 4);
	/* The source as RGBA, to compare channel by channel. */
	src4 = malloc((size_t)W * H * 4);
	assert_non_null(src4);
	for (size_t i = 0; i < (size_t)W * H; i++) {
		memcpy(src4 + i * 4, px + i * ch, 3);
		src4[i * 4 + 3] = ch == 4 ? px[i * ch + 3] : 255;
	}
	print_message("  %ux%u %s: %zu bytes, RGB %.1f dB, alpha %.1f dB\n",
	    w, h, ch == 4 ? "RGBA" : "RGB", m.len, psnr(src4, back, 4, 0, 3),
	    psnr(src4, back, 4, 3, 1));
	/* A wrong decode is far below (~10 dB); these encoders give ~32 dB
	 * at q=75 on this picture's hard chroma edges, JPEG alike. */
	assert_true(psnr(src4, back, 4, 0, 3) > 28);
	if (ch == 4)
		assert_true(psnr(src4, back, 4, 3, 1) > 35);
	else
		assert_true(psnr(src4, back, 4, 3, 1) == 99);
	free(src4);
	free(back);
	free(px);
	membuf_cleanup(&m);
}

static void
test_avif_round_trip_rgb(void **state)
{
	(void)state;
	round_trip(enc_avif_write, avif_decode, 8, 3);
}

static void
test_avif_round_trip_keeps_alpha(void **state)
{
	(void)state;
	round_trip(enc_avif_write, avif_decode, 8, 4);
}

/*
 * The colour planes are 4:4:4 and full range (README "AVIF and JPEG XL":
 * 4:2:0 lost more SSIM than the bytes it saved), with alpha too: libaom's
 * options for the colour planes are accepted either way.
 */
static void
test_avif_is_444_full_range(void **state)
{
	(void)state;
	for (unsigned ch = 3; ch <= 4; ch++) {
		unsigned char *px = picture(ch);
		avifDecoder *d = avifDecoderCreate();
		struct membuf m;

		assert_non_null(d);
		encode_px(enc_avif_write, px, ch, 50, 6, &m);
		assert_int_equal(avifDecoderSetIOMemory(d, m.data, m.len),
		    AVIF_RESULT_OK);
		assert_int_equal(avifDecoderParse(d), AVIF_RESULT_OK);
		assert_int_equal(d->image->yuvFormat, AVIF_PIXEL_FORMAT_YUV444);
		assert_int_equal(d->image->yuvRange, AVIF_RANGE_FULL);
		assert_int_equal(d->alphaPresent, ch == 4);
		avifDecoderDestroy(d);
		membuf_cleanup(&m);
		free(px);
	}
}

static void
test_jxl_round_trip_rgb(void **state)
{
	(void)state;
	round_trip(enc_jxl_write, jxl_decode, 3, 3);
}

static void
test_jxl_round_trip_keeps_alpha(void **state)
{
	(void)state;
	round_trip(enc_jxl_write, jxl_decode, 3, 4);
}

static void
test_avif_codec_is_aom(void **state)
{
	(void)state;
	assert_non_null(enc_avif_codec());
	assert_string_equal(enc_avif_codec(), "aom");
}

/* A higher q never a coarser setting, and the ends where they belong. */
static void
test_q_tables_are_monotone(void **state)
{
	(void)state;
	for (unsigned q = 2; q <= 100; q++) {
		assert_true(enc_avif_quantizer(q) <= enc_avif_quantizer(q - 1));
		assert_true(enc_jxl_distance(q) <= enc_jxl_distance(q - 1));
	}
	assert_int_equal(enc_avif_quantizer(1), AVIF_QUANTIZER_WORST_QUALITY);
	assert_true(enc_avif_quantizer(100) >= AVIF_QUANTIZER_BEST_QUALITY);
	assert_true(enc_jxl_distance(100) > 0);	/* lossy, never 0 */
	assert_true(enc_jxl_distance(1) <= 15);
}

/* Bytes grow with q for both encoders. */
static void
test_bytes_grow_with_q(void **state)
{
	static const unsigned qs[] = { 20, 50, 75, 95 };
	unsigned char *px = picture(3);
	size_t last_avif = 0, last_jxl = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(qs) / sizeof(*qs); i++) {
		struct membuf a, j;

		encode_px(enc_avif_write, px, 3, qs[i], 8, &a);
		encode_px(enc_jxl_write, px, 3, qs[i], 3, &j);
		assert_true(a.len > last_avif);
		assert_true(j.len > last_jxl);
		last_avif = a.len;
		last_jxl = j.len;
		membuf_cleanup(&a);
		membuf_cleanup(&j);
	}
	free(px);
}

static int
refuse_write(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return -1;
}

static void
test_client_gone_is_err_gone(void **state)
{
	unsigned char *px = picture(3);
	struct sink s = { refuse_write, NULL, NULL, 0 };
	struct err e;

	(void)state;
	err_init(&e);
	assert_int_equal(enc_avif_write(px, W, H, false, 75, 8, &s, &e),
	    -ERR_GONE);
	err_init(&e);
	assert_int_equal(enc_jxl_write(px, W, H, false, 75, 3, &s, &e),
	    -ERR_GONE);
	free(px);
}

static void
test_avif_past_its_side_is_refused(void **state)
{
	unsigned char px[3] = { 0 };
	struct membuf m;
	struct sink s;
	struct err e;

	(void)state;
	membuf_init(&m);
	sink_init_membuf(&s, &m);
	err_init(&e);
	/* Refused from the size alone: px is never read that far. */
	assert_true(enc_avif_write(px, ENC_AVIF_MAX_SIDE + 1, 1, false, 75,
	    8, &s, &e) < 0);
	assert_int_equal(m.len, 0);
	membuf_cleanup(&m);
}

static void
test_format_gives_type_speed_and_limit(void **state)
{
	static const struct img_limits lim = { .default_quality = 70,
	    .avif_speed = 6, .jxl_effort = 5 };
	struct geom_limits gl;
	struct params p;
	struct img_enc enc;
	struct err e;

	(void)state;
	params_init(&p);
	err_init(&e);
	assert_int_equal(params_parse("format=avif&q=40", &p, &e), 0);
	img_enc_from_params(&p, MT_JPEG, &lim, &enc);
	assert_int_equal(enc.type, MT_AVIF);
	assert_int_equal(enc.quality, 40);
	assert_int_equal(enc.avif_speed, 6);
	assert_int_equal(enc.jxl_effort, 5);
	assert_string_equal(sniff_mime(enc.type), "image/avif");
	params_init(&p);
	assert_int_equal(params_parse("format=jxl", &p, &e), 0);
	img_enc_from_params(&p, MT_PNG, &lim, &enc);
	assert_int_equal(enc.type, MT_JXL);
	assert_string_equal(sniff_mime(enc.type), "image/jxl");
	memset(&gl, 0, sizeof(gl));
	img_encoder_limits(MT_AVIF, &gl);
	assert_int_equal(gl.max_side, ENC_AVIF_MAX_SIDE);
	assert_string_equal(gl.encoder, "AVIF");
	img_encoder_limits(MT_JXL, &gl);
	assert_int_equal(gl.max_side, GEOM_MAX_SIDE);
}

/* A video still's frame goes through the same encoders. */
static void
test_rgb_frame_as_avif_and_jxl(void **state)
{
	static const struct img_limits lim = { .default_quality = 75,
	    .avif_speed = 9, .jxl_effort = 3 };
	static const char *const q[] = { "format=avif", "format=jxl" };
	static const reader rd[] = { avif_decode, jxl_decode };
	unsigned char *px = picture(3), *back;
	struct rgb f = { px, W, H, (size_t)W * 3 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct params p;
		struct img_enc enc;
		struct membuf m;
		struct sink s;
		struct err e;
		unsigned w, h;
		bool alpha;

		params_init(&p);
		err_init(&e);
		assert_int_equal(params_parse(q[i], &p, &e), 0);
		img_enc_from_params(&p, MT_JPEG, &lim, &enc);
		membuf_init(&m);
		sink_init_membuf(&s, &m);
		if (img_encode_rgb_opts(&f, &enc, &s, &e) != 0)
			fail_msg("%s: %s", q[i], e.msg);
		back = rd[i](&m, &w, &h, &alpha);
		assert_int_equal(w, W);
		assert_int_equal(h, H);
		assert_false(alpha);
		free(back);
		membuf_cleanup(&m);
	}
	free(px);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_avif_round_trip_rgb),
		cmocka_unit_test(test_avif_round_trip_keeps_alpha),
		cmocka_unit_test(test_avif_is_444_full_range),
		cmocka_unit_test(test_jxl_round_trip_rgb),
		cmocka_unit_test(test_jxl_round_trip_keeps_alpha),
		cmocka_unit_test(test_avif_codec_is_aom),
		cmocka_unit_test(test_q_tables_are_monotone),
		cmocka_unit_test(test_bytes_grow_with_q),
		cmocka_unit_test(test_client_gone_is_err_gone),
		cmocka_unit_test(test_avif_past_its_side_is_refused),
		cmocka_unit_test(test_format_gives_type_speed_and_limit),
		cmocka_unit_test(test_rgb_frame_as_avif_and_jxl),
	};

	if (img_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("enc_modern", tests, NULL, NULL);
}
