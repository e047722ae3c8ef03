/*
 * img: the GraphicsMagick pipeline in-process, on sources made here and
 * held in memfds (no file on disk), output to a memory sink and decoded
 * again to check what a user would: format, size, colours, errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <magick/api.h>

#include "img.h"

/* A w x h source whose left half is red and right half blue, as `coder`. */
static int
make_source(const char *coder, unsigned w, unsigned h, bool alpha,
    size_t cut, off_t *size)
{
	unsigned char *px = malloc((size_t)w * h * 4);
	ExceptionInfo ex;
	ImageInfo *ii = CloneImageInfo(NULL);
	Image *im;
	size_t len = 0;
	void *blob;
	int fd;

	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			unsigned char *p = px + ((size_t)y * w + x) * 4;
			p[0] = x < w / 2 ? 255 : 0;
			p[1] = 0;
			p[2] = x < w / 2 ? 0 : 255;
			p[3] = alpha ? 0 : 255;
		}
	GetExceptionInfo(&ex);
	im = ConstituteImage(w, h, "RGBA", CharPixel, px, &ex);
	assert_non_null(im);
	im->matte = alpha ? MagickTrue : MagickFalse;
	snprintf(ii->magick, sizeof(ii->magick), "%s", coder);
	snprintf(im->magick, sizeof(im->magick), "%s", coder);
	ii->quality = 95;
	blob = ImageToBlob(ii, im, &len, &ex);
	assert_non_null(blob);
	fd = memfd_create("src", 0);
	if (cut && cut < len)
		len -= cut;
	assert_int_equal(write(fd, blob, len), (ssize_t)len);
	*size = (off_t)len;
	MagickFree(blob);
	DestroyImage(im);
	DestroyImageInfo(ii);
	DestroyExceptionInfo(&ex);
	free(px);
	return fd;
}

struct result {
	int rc;
	struct err e;
	struct membuf out;
	Image *im;		/* the output decoded, NULL on error */
	char magick[16];
};

static void
run(const char *coder, enum media_type type, unsigned w, unsigned h,
    bool alpha, size_t cut, const char *query, const struct img_limits *lim,
    struct result *r)
{
	struct img_limits dflt = { 0, 0, 0, 80 };
	struct params p;
	struct sink s;
	struct img_job job;
	ExceptionInfo ex;
	ImageInfo *ii;
	off_t size;
	int fd = make_source(coder, w, h, alpha, cut, &size);

	params_init(&p);
	err_init(&r->e);
	assert_int_equal(params_parse(query, &p, &r->e), 0);
	membuf_init(&r->out);
	sink_init_membuf(&s, &r->out);
	job = (struct img_job){ .params = &p, .fd = fd, .size = size,
	    .type = type, .limits = lim ? *lim : dflt };
	r->rc = img_thumb(&job, &s, &r->e);
	close(fd);
	r->im = NULL;
	if (r->rc < 0) {
		assert_int_equal(r->out.len, 0);	/* nothing written */
		return;
	}
	GetExceptionInfo(&ex);
	ii = CloneImageInfo(NULL);
	r->im = BlobToImage(ii, r->out.data, r->out.len, &ex);
	assert_non_null(r->im);
	snprintf(r->magick, sizeof(r->magick), "%.15s", r->im->magick);
	DestroyImageInfo(ii);
	DestroyExceptionInfo(&ex);
}

static void
done(struct result *r)
{
	if (r->im)
		DestroyImage(r->im);
	membuf_cleanup(&r->out);
}

static void
pixel(Image *im, long x, long y, unsigned *red, unsigned *green,
    unsigned *blue)
{
	ExceptionInfo ex;
	PixelPacket px;

	GetExceptionInfo(&ex);
	px = AcquireOnePixel(im, x, y, &ex);
	*red = ScaleQuantumToChar(px.red);
	*green = ScaleQuantumToChar(px.green);
	*blue = ScaleQuantumToChar(px.blue);
	DestroyExceptionInfo(&ex);
}

static void
test_inside_keeps_aspect_and_format(void **state)
{
	struct result r;

	(void)state;
	run("JPEG", MT_JPEG, 400, 200, false, 0, "size=100x100", NULL, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.magick, "JPEG");
	assert_int_equal(r.im->columns, 100);
	assert_int_equal(r.im->rows, 50);
	done(&r);
}

static void
test_large_jpeg_is_shrunk_on_load_to_exact_box(void **state)
{
	struct result r;

	(void)state;
	/* 1/8 DCT scaling gives 250x125; the resize must still hit 200. */
	run("JPEG", MT_JPEG, 2000, 1000, false, 0, "size=200x200", NULL, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.im->columns, 200);
	assert_int_equal(r.im->rows, 100);
	done(&r);
}

static void
test_each_output_format(void **state)
{
	static const struct { const char *q, *magick; } cases[] = {
		{ "size=50x50&format=png", "PNG" },
		{ "size=50x50&format=webp", "WEBP" },
		{ "size=50x50&format=gif", "GIF" },
		{ "size=50x50&format=jpeg", "JPEG" },
	};
	struct result r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		run("PNG", MT_PNG, 100, 80, false, 0, cases[i].q, NULL, &r);
		assert_int_equal(r.rc, 0);
		assert_string_equal(r.magick, cases[i].magick);
		assert_int_equal(r.im->columns, 50);
		assert_int_equal(r.im->rows, 40);
		done(&r);
	}
}

static void
test_cover_gravity_keeps_chosen_side(void **state)
{
	struct result r;
	unsigned red, green, blue;

	(void)state;
	run("PNG", MT_PNG, 400, 100, false, 0,
	    "size=50x50&fit=cover&gravity=west", NULL, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.im->columns, 50);
	assert_int_equal(r.im->rows, 50);
	pixel(r.im, 40, 25, &red, &green, &blue);
	assert_true(red > 200 && blue < 50);
	done(&r);
	run("PNG", MT_PNG, 400, 100, false, 0,
	    "size=50x50&fit=cover&gravity=east", NULL, &r);
	pixel(r.im, 10, 25, &red, &green, &blue);
	assert_true(blue > 200 && red < 50);
	done(&r);
}

static void
test_contain_pads_with_bg(void **state)
{
	struct result r;
	unsigned red, green, blue;

	(void)state;
	run("PNG", MT_PNG, 200, 100, false, 0,
	    "size=100x100&fit=contain&bg=00ff00&format=jpeg", NULL, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.im->columns, 100);
	assert_int_equal(r.im->rows, 100);
	pixel(r.im, 50, 5, &red, &green, &blue);	/* top pad */
	assert_true(green > 200 && red < 60 && blue < 60);
	pixel(r.im, 10, 50, &red, &green, &blue);	/* image, red half */
	assert_true(red > 200 && green < 60);
	done(&r);
}

static void
test_alpha_flattened_on_white_for_jpeg(void **state)
{
	struct result r;
	unsigned red, green, blue;

	(void)state;
	run("PNG", MT_PNG, 60, 60, true, 0, "format=jpeg", NULL, &r);
	assert_int_equal(r.rc, 0);
	pixel(r.im, 30, 30, &red, &green, &blue);
	assert_true(red > 240 && green > 240 && blue > 240);
	done(&r);
}

static void
test_truncated_jpeg_is_undecodable(void **state)
{
	struct result r;

	(void)state;
	run("JPEG", MT_JPEG, 600, 400, false, 3000, "size=100x100", NULL, &r);
	assert_true(r.rc < 0);
	assert_int_equal(r.e.kind, ERR_UNDECODABLE);
	done(&r);
}

static void
test_limits_refuse_before_decoding(void **state)
{
	struct img_limits px = { 0, 1000, 0, 80 };
	struct img_limits bytes = { 100, 0, 0, 80 };
	struct img_limits out = { 0, 0, 2500, 80 };
	struct result r;

	(void)state;
	run("PNG", MT_PNG, 100, 100, false, 0, "", &px, &r);
	assert_int_equal(r.e.kind, ERR_TOO_LARGE);
	assert_non_null(strstr(r.e.msg, "over the limit"));
	done(&r);
	run("PNG", MT_PNG, 100, 100, false, 0, "", &bytes, &r);
	assert_int_equal(r.e.kind, ERR_TOO_LARGE);
	assert_non_null(strstr(r.e.msg, "file size"));
	done(&r);
	run("PNG", MT_PNG, 100, 100, false, 0, "size=60x60", &out, &r);
	assert_int_equal(r.e.kind, ERR_TOO_LARGE);
	assert_non_null(strstr(r.e.msg, "size"));
	done(&r);
}

static void
test_crop_outside_source_is_bad_param(void **state)
{
	struct result r;

	(void)state;
	run("PNG", MT_PNG, 100, 100, false, 0, "crop=150,0,10,10", NULL, &r);
	assert_int_equal(r.e.kind, ERR_BAD_PARAM);
	assert_non_null(strstr(r.e.msg, "crop"));
	done(&r);
	run("PNG", MT_PNG, 100, 100, false, 0, "crop=50,0,500,40", NULL, &r);
	assert_int_equal(r.rc, 0);	/* clipped at the edge */
	assert_int_equal(r.im->columns, 50);
	assert_int_equal(r.im->rows, 40);
	done(&r);
}

static void
test_rotate_swaps_box_sides(void **state)
{
	struct result r;
	unsigned red, green, blue;

	(void)state;
	run("PNG", MT_PNG, 200, 100, false, 0, "rotate=90&size=100x100", NULL,
	    &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.im->columns, 50);
	assert_int_equal(r.im->rows, 100);
	/* Clockwise: the red left half ends on top. */
	pixel(r.im, 25, 10, &red, &green, &blue);
	assert_true(red > 200 && blue < 50);
	done(&r);
}

static int
init(void **state)
{
	(void)state;
	return img_init();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside_keeps_aspect_and_format),
		cmocka_unit_test(test_large_jpeg_is_shrunk_on_load_to_exact_box),
		cmocka_unit_test(test_each_output_format),
		cmocka_unit_test(test_cover_gravity_keeps_chosen_side),
		cmocka_unit_test(test_contain_pads_with_bg),
		cmocka_unit_test(test_alpha_flattened_on_white_for_jpeg),
		cmocka_unit_test(test_truncated_jpeg_is_undecodable),
		cmocka_unit_test(test_limits_refuse_before_decoding),
		cmocka_unit_test(test_crop_outside_source_is_bad_param),
		cmocka_unit_test(test_rotate_swaps_box_sides),
	};

	return cmocka_run_group_tests_name("img", tests, init, NULL);
}
