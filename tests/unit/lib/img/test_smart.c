/*
 * img_smart: gravity=smart, driven through img_thumb() as a request would
 * (PNG in, PNG out, both lossless and the cover cut at the source's scale,
 * so the answer's pixels are the source's pixels at the window chosen).
 * Each test says where the detail is and checks which window was kept:
 * the one holding the detail; of windows that tie, the one nearest the
 * centre; on an image with no busier part, the centre cut, byte for byte
 * what gravity=center answers.
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

#include "img/img.h"

#define GREY	128

/* A w x h RGB source, grey unless a painter below says otherwise. */
struct src {
	unsigned w, h;
	unsigned char *px;	/* w * h * 3, owned */
};

static void
src_new(struct src *s, unsigned w, unsigned h)
{
	s->w = w;
	s->h = h;
	s->px = malloc((size_t)w * h * 3);
	assert_non_null(s->px);
	memset(s->px, GREY, (size_t)w * h * 3);
}

/* A black-and-white checkerboard of 1-pixel squares over the rectangle:
 * the most contrast a region can have, and no colour. */
static void
src_checker(struct src *s, unsigned x0, unsigned y0, unsigned w, unsigned h)
{
	for (unsigned y = y0; y < y0 + h; y++)
		for (unsigned x = x0; x < x0 + w; x++)
			memset(s->px + ((size_t)y * s->w + x) * 3,
			    (x + y) % 2 ? 255 : 0, 3);
}

/* A grey ramp, one level a column: every column as busy as the next
 * (the same step to its right neighbour), yet each one tells where it
 * was cut from. */
static void
src_ramp(struct src *s)
{
	for (unsigned y = 0; y < s->h; y++)
		for (unsigned x = 0; x < s->w; x++)
			memset(s->px + ((size_t)y * s->w + x) * 3,
			    (int)(x % 256), 3);
}

/* The source as a PNG in a memfd (no file on disk); its size in *size. */
static int
src_png(const struct src *s, off_t *size)
{
	ExceptionInfo ex;
	ImageInfo *ii = CloneImageInfo(NULL);
	Image *im;
	size_t len = 0;
	void *blob;
	int fd;

	GetExceptionInfo(&ex);
	im = ConstituteImage(s->w, s->h, "RGB", CharPixel, s->px, &ex);
	assert_non_null(im);
	snprintf(ii->magick, sizeof(ii->magick), "PNG");
	snprintf(im->magick, sizeof(im->magick), "PNG");
	blob = ImageToBlob(ii, im, &len, &ex);
	assert_non_null(blob);
	fd = memfd_create("src", 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, blob, len), (ssize_t)len);
	*size = (off_t)len;
	MagickFree(blob);
	DestroyImage(im);
	DestroyImageInfo(ii);
	DestroyExceptionInfo(&ex);
	return fd;
}

/* img_thumb() of s with query (format=png added); the answer's bytes. */
static void
thumb(const struct src *s, const char *query, struct membuf *out)
{
	struct img_limits lim = { .default_quality = 80 };
	char q[256];
	struct params p;
	struct err e;
	struct sink sk;
	struct img_job job;
	off_t size;
	int fd = src_png(s, &size);

	snprintf(q, sizeof(q), "%s&format=png", query);
	params_init(&p);
	err_init(&e);
	assert_int_equal(params_parse(q, &p, &e), 0);
	membuf_init(out);
	sink_init_membuf(&sk, out);
	job = (struct img_job){ .params = &p, .fd = fd, .size = size,
	    .type = MT_PNG, .limits = lim };
	if (img_thumb(&job, &sk, &e) != 0)
		fail_msg("%s: %s", q, e.msg);
	close(fd);
}

/*
 * Decodes the answer to query and finds where in s it was cut from: the
 * answer must be exactly the w x h window of s at (*x, *y), for one
 * window; fails the test unless exactly that.
 */
static void
cut_at(const struct src *s, const char *query, unsigned w, unsigned h,
    unsigned *x, unsigned *y)
{
	struct membuf out;
	ExceptionInfo ex;
	ImageInfo *ii = CloneImageInfo(NULL);
	Image *im;
	unsigned char *px = malloc((size_t)w * h * 3);
	bool found = false;

	assert_non_null(px);
	thumb(s, query, &out);
	GetExceptionInfo(&ex);
	im = BlobToImage(ii, out.data, out.len, &ex);
	assert_non_null(im);
	assert_int_equal(im->columns, w);
	assert_int_equal(im->rows, h);
	assert_int_equal(DispatchImage(im, 0, 0, w, h, "RGB", CharPixel, px,
	    &ex), MagickPass);
	for (unsigned wy = 0; wy + h <= s->h && !found; wy++)
		for (unsigned wx = 0; wx + w <= s->w && !found; wx++) {
			bool same = true;

			for (unsigned r = 0; r < h && same; r++)
				same = memcmp(px + (size_t)r * w * 3, s->px +
				    ((size_t)(wy + r) * s->w + wx) * 3,
				    (size_t)w * 3) == 0;
			if (same) {
				*x = wx;
				*y = wy;
				found = true;
			}
		}
	if (!found)
		fail_msg("%s: the answer is no window of the source", query);
	free(px);
	DestroyImage(im);
	DestroyImageInfo(ii);
	DestroyExceptionInfo(&ex);
	membuf_cleanup(&out);
}

/* Whether query with gravity=smart and with gravity=center answer the
 * same bytes. */
static bool
same_as_center(const struct src *s, const char *size)
{
	struct membuf a, b;
	char q[128];
	bool same;

	snprintf(q, sizeof(q), "%s&fit=cover&gravity=smart", size);
	thumb(s, q, &a);
	snprintf(q, sizeof(q), "%s&fit=cover&gravity=center", size);
	thumb(s, q, &b);
	same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
	membuf_cleanup(&a);
	membuf_cleanup(&b);
	return same;
}

/*
 * A busy patch on a grey source: the window kept is the one that holds
 * all of it. Around a patch the grey column (or row) just before it is
 * busy too, by its step to the patch.
 */
static void
test_the_window_with_the_detail_is_kept(void **state)
{
	static const struct {
		const char *what;
		unsigned w, h;			/* the source */
		unsigned px, py, pw, ph;	/* its busy patch */
		unsigned side;			/* the box: side x side */
		unsigned x, y;			/* where the answer is cut */
	} cases[] = {
		{ "left third", 300, 100, 0, 0, 100, 100, 100, 0, 0 },
		{ "right third", 300, 100, 200, 0, 100, 100, 100, 200, 0 },
		{ "bottom third", 100, 300, 0, 200, 100, 100, 100, 0, 200 },
		{ "top-right corner", 400, 200, 300, 0, 100, 100, 200, 200, 0 },
		/* Columns 19..39 are busy: every window from 0 to 19 holds
		 * them all and they tie; the one nearest the centre (150)
		 * is 19. */
		{ "tie near the left", 400, 100, 20, 0, 20, 100, 100, 19, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct src s;
		char q[64];
		unsigned x = 0, y = 0;

		src_new(&s, cases[i].w, cases[i].h);
		src_checker(&s, cases[i].px, cases[i].py, cases[i].pw,
		    cases[i].ph);
		snprintf(q, sizeof(q), "size=%ux%u&fit=cover&gravity=smart",
		    cases[i].side, cases[i].side);
		cut_at(&s, q, cases[i].side, cases[i].side, &x, &y);
		if (x != cases[i].x || y != cases[i].y)
			fail_msg("%s: cut at %u,%u, want %u,%u", cases[i].what,
			    x, y, cases[i].x, cases[i].y);
		free(s.px);
	}
}

/* No part busier than another: the centre cut, as gravity=center. */
static void
test_uniform_image_is_cut_at_the_centre(void **state)
{
	struct src s;
	unsigned x = 99, y = 99;

	(void)state;
	/* Every window but the last (whose last column has no right
	 * neighbour) ties: the centre, (240 - 80) / 2. */
	src_new(&s, 240, 80);
	src_ramp(&s);
	cut_at(&s, "size=80x80&fit=cover&gravity=smart", 80, 80, &x, &y);
	assert_int_equal(x, 80);
	assert_int_equal(y, 0);
	assert_true(same_as_center(&s, "size=80x80"));
	free(s.px);

	/* Flat: nothing to find, and the same answer as the centre's. */
	src_new(&s, 300, 100);
	assert_true(same_as_center(&s, "size=100x100"));
	free(s.px);
	src_new(&s, 100, 300);
	assert_true(same_as_center(&s, "size=100x100"));
	free(s.px);
}

/* Scaled first, then cut: the detail still decides (a 2:1 reduction of
 * a 600x200 source, detail on the right). */
static void
test_detail_is_found_after_scaling(void **state)
{
	struct src s;
	struct membuf out;
	ExceptionInfo ex;
	ImageInfo *ii;
	Image *im;
	unsigned char px[3 * 100];
	unsigned lo = 255, hi = 0;

	(void)state;
	/* 1-pixel squares would average to grey: 4-pixel ones survive a
	 * 2:1 reduction. */
	src_new(&s, 600, 200);
	for (unsigned y = 0; y < 200; y++)
		for (unsigned x = 400; x < 600; x++)
			memset(s.px + ((size_t)y * 600 + x) * 3,
			    (x / 4 + y / 4) % 2 ? 255 : 0, 3);
	thumb(&s, "size=100x100&fit=cover&gravity=smart", &out);
	GetExceptionInfo(&ex);
	ii = CloneImageInfo(NULL);
	im = BlobToImage(ii, out.data, out.len, &ex);
	assert_non_null(im);
	assert_int_equal(im->columns, 100);
	assert_int_equal(im->rows, 100);
	/* Row 50 of the answer: the squares, not the grey of the left. */
	assert_int_equal(DispatchImage(im, 0, 50, 100, 1, "RGB", CharPixel, px,
	    &ex), MagickPass);
	for (unsigned i = 0; i < sizeof(px); i++) {
		lo = px[i] < lo ? px[i] : lo;
		hi = px[i] > hi ? px[i] : hi;
	}
	assert_true(lo < 40 && hi > 215);
	DestroyImage(im);
	DestroyImageInfo(ii);
	DestroyExceptionInfo(&ex);
	membuf_cleanup(&out);
	free(s.px);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_window_with_the_detail_is_kept),
		cmocka_unit_test(test_uniform_image_is_cut_at_the_centre),
		cmocka_unit_test(test_detail_is_found_after_scaling),
	};

	/* Once for the process, as a worker does after fork. */
	if (img_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("img_smart", tests, NULL, NULL);
}
