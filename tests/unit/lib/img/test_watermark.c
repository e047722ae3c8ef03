/*
 * watermark: where a watermark lands for each gravity (margin kept, size a
 * fraction of the frame's width), the blend (white at opacity 0.5 over
 * black is mid grey inside the rectangle and nothing changes outside it),
 * on packed RGB frames and on GraphicsMagick images (with alpha too), and
 * wm_load() of PNG and WebP files, refusing what is not one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>
#include <webp/encode.h>

#include "img/img.h"
#include "img/img_wm.h"
#include "img/watermark.h"

/* A w x h watermark of one straight RGBA colour. */
static void
wm_solid(struct wm *wm, unsigned w, unsigned h, uint32_t rgba)
{
	wm_init(wm, "t");
	wm->w = w;
	wm->h = h;
	wm->px = malloc((size_t)w * h * 4);
	assert_non_null(wm->px);
	for (size_t i = 0; i < (size_t)w * h; i++) {
		wm->px[i * 4] = (uint8_t)(rgba >> 24);
		wm->px[i * 4 + 1] = (uint8_t)(rgba >> 16);
		wm->px[i * 4 + 2] = (uint8_t)(rgba >> 8);
		wm->px[i * 4 + 3] = (uint8_t)rgba;
	}
	wm_seal(wm);
}

static bool
inside(const struct wm_rect *r, unsigned x, unsigned y)
{
	return (long)x >= r->x && (long)x < r->x + (long)r->w &&
	    (long)y >= r->y && (long)y < r->y + (long)r->h;
}

/* Every pixel of f: v inside r, 0 (black) outside. */
static void
expect_frame(const struct rgb *f, const struct wm_rect *r, int lo, int hi)
{
	for (unsigned y = 0; y < f->h; y++)
		for (unsigned x = 0; x < f->w; x++) {
			const unsigned char *p = f->px + y * f->stride + x * 3;

			for (int c = 0; c < 3; c++) {
				if (inside(r, x, y) ? p[c] < lo || p[c] > hi :
				    p[c] != 0)
					fail_msg("pixel %u,%u channel %d = %d "
					    "(rect %ld,%ld %ux%u)", x, y, c, p[c],
					    r->x, r->y, r->w, r->h);
			}
		}
}

static void
test_each_gravity_lands_where_expected(void **state)
{
	/* 100 x 60 frame, width 0.25: 25 x 10 from a 40 x 16 image. */
	static const struct {
		enum gravity g;
		long x, y;
	} want[] = {
		{ GRAV_NORTHWEST, 4, 4 }, { GRAV_NORTH, 37, 4 },
		{ GRAV_NORTHEAST, 71, 4 }, { GRAV_WEST, 4, 25 },
		{ GRAV_CENTER, 37, 25 }, { GRAV_EAST, 71, 25 },
		{ GRAV_SOUTHWEST, 4, 46 }, { GRAV_SOUTH, 37, 46 },
		{ GRAV_SOUTHEAST, 71, 46 },
	};
	struct wm wm;

	(void)state;
	wm_solid(&wm, 40, 16, 0xffffffff);
	wm.width = 0.25;
	wm.margin = 4;
	wm.opacity = 0.5;
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		struct rgb f = { 0 };
		struct wm_rect at;
		struct err e;

		wm.gravity = want[i].g;
		wm_place(&wm, 100, 60, &at);
		assert_int_equal(at.w, 25);
		assert_int_equal(at.h, 10);
		assert_int_equal(at.x, want[i].x);
		assert_int_equal(at.y, want[i].y);
		assert_int_equal(rgb_alloc(&f, 100, 60), 0);
		rgb_fill(&f, 0x000000);
		err_init(&e);
		assert_int_equal(wm_apply_rgb(&wm, &f, &e), 0);
		/* White at half opacity over black: 127.5, mid grey. */
		expect_frame(&f, &at, 127, 128);
		rgb_free(&f);
	}
	wm_cleanup(&wm);
}

static void
test_alpha_times_opacity(void **state)
{
	struct rgb f = { 0 };
	struct wm_rect at;
	struct wm wm;
	struct err e;

	(void)state;
	/* Alpha 128/255 at opacity 0.5: a quarter of white over black. */
	wm_solid(&wm, 20, 20, 0xffffff80);
	wm.opacity = 0.5;
	wm.width = 0.5;
	assert_int_equal(rgb_alloc(&f, 40, 40), 0);
	rgb_fill(&f, 0x000000);
	err_init(&e);
	assert_int_equal(wm_apply_rgb(&wm, &f, &e), 0);
	wm_place(&wm, 40, 40, &at);
	assert_int_equal(at.x, 20);
	assert_int_equal(at.y, 20);
	expect_frame(&f, &at, 63, 65);
	rgb_free(&f);
	/* Opacity 0 leaves the frame alone. */
	wm.opacity = 0;
	assert_int_equal(rgb_alloc(&f, 40, 40), 0);
	rgb_fill(&f, 0x000000);
	assert_int_equal(wm_apply_rgb(&wm, &f, &e), 0);
	at.w = at.h = 0;
	expect_frame(&f, &at, 0, 0);
	rgb_free(&f);
	wm_cleanup(&wm);
}

static void
test_upscaled_fills_its_rectangle(void **state)
{
	struct rgb f = { 0 };
	struct wm_rect at;
	struct wm wm;
	struct err e;

	(void)state;
	/* 4 x 2 up to 20 x 10 (width 0.5 of 40): every pixel of it, none
	 * past it; bilinear between equal samples stays exact. */
	wm_solid(&wm, 4, 2, 0xffffffff);
	wm.width = 0.5;
	wm.opacity = 0.5;
	wm.gravity = GRAV_CENTER;
	assert_int_equal(rgb_alloc(&f, 40, 40), 0);
	rgb_fill(&f, 0);
	err_init(&e);
	assert_int_equal(wm_apply_rgb(&wm, &f, &e), 0);
	wm_place(&wm, 40, 40, &at);
	assert_int_equal(at.w, 20);
	assert_int_equal(at.h, 10);
	assert_int_equal(at.x, 10);
	assert_int_equal(at.y, 15);
	expect_frame(&f, &at, 127, 128);
	rgb_free(&f);
	wm_cleanup(&wm);
}

static void
test_too_tall_shrinks_inside_the_margins(void **state)
{
	struct wm_rect at;
	struct wm wm;

	(void)state;
	/* 10 x 100 at width 0.5 of 200 x 50 would be 100 x 1000. */
	wm_solid(&wm, 10, 100, 0xffffffff);
	wm.width = 0.5;
	wm.margin = 5;
	wm_place(&wm, 200, 50, &at);
	assert_int_equal(at.h, 40);
	assert_int_equal(at.w, 4);
	assert_int_equal(at.x, 200 - 5 - 4);
	assert_int_equal(at.y, 5);
	/* A frame smaller than two margins: one pixel, clipped, no crash. */
	{
		struct rgb f = { 0 };
		struct err e;

		assert_int_equal(rgb_alloc(&f, 6, 6), 0);
		rgb_fill(&f, 0);
		err_init(&e);
		assert_int_equal(wm_apply_rgb(&wm, &f, &e), 0);
		rgb_free(&f);
	}
	wm_cleanup(&wm);
}

static void
test_downscale_keeps_a_two_tone_split(void **state)
{
	struct rgb f = { 0 };
	struct wm wm;
	struct err e;

	(void)state;
	/* Left half white, right half clear, 200 x 100 down to 50 x 25. */
	wm_solid(&wm, 200, 100, 0xffffffff);
	for (unsigned y = 0; y < 100; y++)
		for (unsigned x = 100; x < 200; x++)
			wm.px[(y * 200 + x) * 4 + 3] = 0;
	wm.width = 0.5;
	wm.gravity = GRAV_NORTHWEST;
	assert_int_equal(rgb_alloc(&f, 100, 50), 0);
	rgb_fill(&f, 0);
	err_init(&e);
	assert_int_equal(wm_apply_rgb(&wm, &f, &e), 0);
	/* Far from the edge between them: pure; at it, a ramp. */
	assert_int_equal(f.px[10 * f.stride + 10 * 3], 255);
	assert_int_equal(f.px[10 * f.stride + 40 * 3], 0);
	assert_int_equal(f.px[10 * f.stride + 60 * 3], 0);
	assert_int_equal(f.px[30 * f.stride + 10 * 3], 0);
	rgb_free(&f);
	wm_cleanup(&wm);
}

static void
test_gm_image_opaque_and_clear(void **state)
{
	ExceptionInfo ex;
	unsigned char px[32 * 32 * 4];
	Image *im;
	struct wm wm;
	struct err e;

	(void)state;
	wm_solid(&wm, 8, 8, 0xffffffff);
	wm.opacity = 0.5;
	wm.width = 0.25;
	wm.gravity = GRAV_NORTHWEST;
	GetExceptionInfo(&ex);
	/* Opaque black: mid grey at the top left 8 x 8. */
	memset(px, 0, sizeof(px));
	im = ConstituteImage(32, 32, "RGB", CharPixel, px, &ex);
	assert_non_null(im);
	err_init(&e);
	assert_int_equal(img_wm_apply(im, &wm, &e), 0);
	assert_int_equal(DispatchImage(im, 0, 0, 32, 32, "RGB", CharPixel, px,
	    &ex), MagickPass);
	for (unsigned y = 0; y < 32; y++)
		for (unsigned x = 0; x < 32; x++) {
			int v = px[(y * 32 + x) * 3];

			if (x < 8 && y < 8)
				assert_in_range(v, 127, 128);
			else
				assert_int_equal(v, 0);
		}
	DestroyImage(im);
	/* Fully clear: white at alpha 0.5 over nothing is white at 0.5. */
	memset(px, 0, sizeof(px));
	im = ConstituteImage(32, 32, "RGBA", CharPixel, px, &ex);
	assert_non_null(im);
	assert_true(im->matte);
	assert_int_equal(img_wm_apply(im, &wm, &e), 0);
	assert_int_equal(DispatchImage(im, 0, 0, 32, 32, "RGBA", CharPixel,
	    px, &ex), MagickPass);
	assert_int_equal(px[0], 255);
	assert_in_range(px[3], 127, 128);
	assert_int_equal(px[(20 * 32 + 20) * 4 + 3], 0);
	DestroyImage(im);
	DestroyExceptionInfo(&ex);
	wm_cleanup(&wm);
}

/* A 6 x 4 red PNG whose left half is opaque and right half clear. */
static void
write_png(const char *path)
{
	png_image img;
	uint8_t px[6 * 4 * 4];

	for (int i = 0; i < 24; i++) {
		px[i * 4] = 255;
		px[i * 4 + 1] = px[i * 4 + 2] = 0;
		px[i * 4 + 3] = i % 6 < 3 ? 255 : 0;
	}
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = 6;
	img.height = 4;
	img.format = PNG_FORMAT_RGBA;
	assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
}

static void
write_bytes(const char *path, const void *b, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(b, 1, n, fp), n);
	fclose(fp);
}

static void
test_load_png_webp_and_refusals(void **state)
{
	char dir[] = "/tmp/wmtestXXXXXX", path[64];
	struct wm wm;
	struct err e;
	uint8_t rgba[4 * 4 * 4], *webp = NULL;
	size_t n;
	uint32_t id;

	(void)state;
	assert_non_null(mkdtemp(dir));
	wm_init(&wm, "logo");
	snprintf(path, sizeof(path), "%s/a.png", dir);
	write_png(path);
	err_init(&e);
	assert_int_equal(wm_load(&wm, path, &e), 0);
	assert_int_equal(wm.w, 6);
	assert_int_equal(wm.h, 4);
	assert_int_equal(wm.px[0], 255);
	assert_int_equal(wm.px[3], 255);
	assert_int_equal(wm.px[5 * 4 + 3], 0);
	id = wm.id;
	wm.opacity = 0.5;
	wm_seal(&wm);
	assert_int_not_equal(wm.id, id);

	/* WebP, lossless so the pixels come back as written. */
	memset(rgba, 0, sizeof(rgba));
	for (int i = 0; i < 16; i++)
		rgba[i * 4 + 2] = rgba[i * 4 + 3] = 255;
	n = WebPEncodeLosslessRGBA(rgba, 4, 4, 16, &webp);
	assert_true(n > 0);
	snprintf(path, sizeof(path), "%s/b.webp", dir);
	write_bytes(path, webp, n);
	WebPFree(webp);
	assert_int_equal(wm_load(&wm, path, &e), 0);
	assert_int_equal(wm.w, 4);
	assert_int_equal(wm.px[2], 255);

	/* Not an image, a cut PNG, no file, a relative path. */
	snprintf(path, sizeof(path), "%s/c.png", dir);
	write_bytes(path, "hello, not a picture\n", 21);
	err_init(&e);
	assert_true(wm_load(&wm, path, &e) < 0);
	assert_int_equal(e.kind, ERR_UNSUPPORTED);
	assert_null(wm.px);
	{
		static const unsigned char sig[] = { 0x89, 'P', 'N', 'G', '\r',
		    '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0 };

		write_bytes(path, sig, sizeof(sig));
		err_init(&e);
		assert_true(wm_load(&wm, path, &e) < 0);
		assert_int_equal(e.kind, ERR_UNDECODABLE);
	}
	unlink(path);
	err_init(&e);
	assert_true(wm_load(&wm, path, &e) < 0);
	assert_int_equal(e.kind, ERR_NOT_FOUND);
	err_init(&e);
	assert_true(wm_load(&wm, "logo.png", &e) < 0);
	assert_non_null(strstr(e.msg, "absolute"));
	snprintf(path, sizeof(path), "%s/a.png", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.webp", dir);
	unlink(path);
	rmdir(dir);
	wm_cleanup(&wm);
}

static void
test_find_by_name(void **state)
{
	struct wm v[2];

	(void)state;
	wm_init(&v[0], "logo");
	wm_init(&v[1], "big-logo");
	assert_ptr_equal(wm_find(v, 2, "big-logo"), &v[1]);
	assert_null(wm_find(v, 2, "nope"));
	assert_null(wm_find(NULL, 0, "logo"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_gravity_lands_where_expected),
		cmocka_unit_test(test_alpha_times_opacity),
		cmocka_unit_test(test_upscaled_fills_its_rectangle),
		cmocka_unit_test(test_too_tall_shrinks_inside_the_margins),
		cmocka_unit_test(test_downscale_keeps_a_two_tone_split),
		cmocka_unit_test(test_gm_image_opaque_and_clear),
		cmocka_unit_test(test_load_png_webp_and_refusals),
		cmocka_unit_test(test_find_by_name),
	};

	if (img_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("watermark", tests, NULL, NULL);
}
