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

#include "img/img.h"

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

/* The job of a source held in fd (closed here) with query, through
 * img_thumb(), its output decoded again into r. */
static void
run_fd(int fd, off_t size, enum media_type type, const char *query,
    const struct img_limits *lim, struct result *r)
{
	struct img_limits dflt = { .default_quality = 80 };
	struct params p;
	struct sink s;
	struct img_job job;
	ExceptionInfo ex;
	ImageInfo *ii;

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
run(const char *coder, enum media_type type, unsigned w, unsigned h,
    bool alpha, size_t cut, const char *query, const struct img_limits *lim,
    struct result *r)
{
	off_t size;
	int fd = make_source(coder, w, h, alpha, cut, &size);

	run_fd(fd, size, type, query, lim, r);
}

static void
done(struct result *r)
{
	if (r->im)
		DestroyImageList(r->im);	/* an animation is a list */
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
	struct img_limits px = { .max_source_pixels = 1000,
	    .default_quality = 80 };
	struct img_limits bytes = { .max_file_size = 100,
	    .default_quality = 80 };
	struct img_limits out = { .max_output_pixels = 2500,
	    .default_quality = 80 };
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
test_pixel_plan_refuses_before_decoding(void **state)
{
	struct img_limits lim = { .max_output_pixels = 25000000,
	    .default_quality = 80 };
	struct result r;

	(void)state;
	/* A cut of 16 kpx from a scaled image of 201 MP. */
	run("JPEG", MT_JPEG, 320, 240, false, 0,
	    "size=16384x1&fit=cover&enlarge=1", &lim, &r);
	assert_int_equal(r.e.kind, ERR_TOO_LARGE);
	assert_non_null(strstr(r.e.msg, "size: intermediate 16384x12288 is "
	    "over the limit of 100000000 pixels"));
	done(&r);
	/* WebP holds 16383 pixels a side: a 413, not the encoder's 500. */
	run("JPEG", MT_JPEG, 320, 240, false, 0,
	    "size=16384x4&fit=fill&enlarge=1&format=webp", &lim, &r);
	assert_int_equal(r.e.kind, ERR_TOO_LARGE);
	assert_non_null(strstr(r.e.msg, "16383 pixels a side of WebP"));
	done(&r);
	/* The same size as PNG is within every limit. */
	run("JPEG", MT_JPEG, 320, 240, false, 0,
	    "size=16384x4&fit=fill&enlarge=1&format=png", &lim, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.im->columns, 16384);
	assert_int_equal(r.im->rows, 4);
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

/* A memfd holding len bytes of data. */
static int
memfd_of(const void *data, size_t len, off_t *size)
{
	int fd = memfd_create("src", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	*size = (off_t)len;
	return fd;
}

/*
 * A GIF of n 1x1 frames written by hand (15 bytes each: a descriptor and
 * the LZW data of one pixel), as a hostile client would: 10^5 frames are
 * 1.5 MB and cost nothing to make.
 */
static unsigned char *
gif_of_tiny_frames(unsigned long n, size_t *len)
{
	static const unsigned char head[] = {
		'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,
		0xff, 0, 0, 0, 0, 0xff,		/* two colours */
	};
	static const unsigned char frame[] = {
		0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0,	/* 1x1 at 0,0 */
		2, 2, 0x4c, 0x01, 0,			/* clear, 0, end */
	};
	unsigned char *b, *q;

	*len = sizeof(head) + n * sizeof(frame) + 1;
	assert_non_null(b = malloc(*len));
	memcpy(b, head, sizeof(head));
	q = b + sizeof(head);
	for (unsigned long i = 0; i < n; i++, q += sizeof(frame))
		memcpy(q, frame, sizeof(frame));
	*q = 0x3b;
	return b;
}

/*
 * A TIFF of n 1x1 grey pages written by hand, each IFD pointing at the
 * same one-byte strip: 10^4 pages in 1 MB.
 */
static unsigned char *
tiff_of_tiny_pages(unsigned long n, size_t *len)
{
	/* width, height, bits (8), compression, photometric, strip offset
	 * (8), samples, rows per strip, strip bytes: (tag, type, value) */
	static const uint16_t entry[9][3] = {
		{ 256, 4, 1 }, { 257, 4, 1 }, { 258, 3, 8 }, { 259, 3, 1 },
		{ 262, 3, 1 }, { 273, 4, 8 }, { 277, 3, 1 }, { 278, 4, 1 },
		{ 279, 4, 1 },
	};
	const size_t ifd = 2 + 12 * 9 + 4;
	unsigned char *b, *q;

	*len = 10 + n * ifd;
	assert_non_null(b = calloc(1, *len));
	memcpy(b, "II*\0\12\0\0\0", 8);	/* first IFD at 10, strip at 8 */
	for (unsigned long i = 0; i < n; i++) {
		uint32_t next = i + 1 < n ? (uint32_t)(10 + (i + 1) * ifd) : 0;

		q = b + 10 + i * ifd;
		q[0] = 9;
		for (int t = 0; t < 9; t++) {
			unsigned char *en = q + 2 + 12 * t;

			en[0] = entry[t][0] & 0xff;
			en[1] = entry[t][0] >> 8;
			en[2] = (unsigned char)entry[t][1];
			en[4] = 1;			/* count */
			en[8] = (unsigned char)entry[t][2];
		}
		memcpy(q + 2 + 12 * 9, &next, 4);	/* little-endian host */
	}
	return b;
}

/* A GIF (animated) or TIFF (pages) of the given frames, frame i of size
 * w[i] x h[i] in one solid colour[i] (0xRRGGBB), written by GraphicsMagick. */
static int
make_frames(const char *coder, unsigned n, const unsigned *w,
    const unsigned *h, const uint32_t *colour, off_t *size)
{
	ExceptionInfo ex;
	ImageInfo *ii = CloneImageInfo(NULL);
	Image *list = NULL;
	size_t len = 0;
	void *blob;
	int fd;

	GetExceptionInfo(&ex);
	for (unsigned i = 0; i < n; i++) {
		unsigned char *px = malloc((size_t)w[i] * h[i] * 3);
		Image *im;

		for (size_t k = 0; k < (size_t)w[i] * h[i]; k++) {
			px[3 * k] = colour[i] >> 16;
			px[3 * k + 1] = (colour[i] >> 8) & 0xff;
			px[3 * k + 2] = colour[i] & 0xff;
		}
		assert_non_null(im = ConstituteImage(w[i], h[i], "RGB",
		    CharPixel, px, &ex));
		free(px);
		im->delay = 10;
		snprintf(im->magick, sizeof(im->magick), "%s", coder);
		AppendImageToList(&list, im);
	}
	list = GetFirstImageInList(list);
	snprintf(ii->magick, sizeof(ii->magick), "%s", coder);
	ii->adjoin = MagickTrue;
	assert_non_null(blob = ImageToBlob(ii, list, &len, &ex));
	fd = memfd_of(blob, len, size);
	MagickFree(blob);
	DestroyImageList(list);
	DestroyImageInfo(ii);
	DestroyExceptionInfo(&ex);
	return fd;
}

/* ?info on the source in fd (closed here): rc, and the JSON in out. */
static int
info_fd(int fd, off_t size, enum media_type type,
    const struct img_limits *lim, struct membuf *out, struct err *e)
{
	struct params p;
	struct sink s;
	struct img_job job;
	int rc;

	params_init(&p);
	err_init(e);
	membuf_init(out);
	sink_init_membuf(&s, out);
	job = (struct img_job){ .params = &p, .fd = fd, .size = size,
	    .type = type, .limits = *lim };
	rc = img_info(&job, &s, e);
	close(fd);
	return rc;
}

/*
 * Issue 16 item 5: a GIF of 10^5 1x1 frames (a TIFF of 10^4 pages) is
 * refused for its frame count, which is found while reading headers; every
 * path that reads more than the first frame answers ERR_TOO_LARGE naming
 * the limit, and the first frame alone is still served.
 */
static void
test_frame_count_over_limit_is_too_large(void **state)
{
	static const char *const gif_q[] = { "", "size=10x10&enlarge=1",
	    "frame=0", "frame=99999", "format=webp", "format=gif" };
	static const char *const tiff_q[] = { "frame=0", "frame=9999" };
	struct img_limits lim = { .max_source_pixels = 100000000,
	    .default_quality = 80, .max_frames = 300 };
	struct { unsigned char *data; size_t len; enum media_type t;
	    const char *const *q; size_t nq; } src[2];
	struct result r;
	struct membuf m;
	struct err e;
	off_t size;
	int fd;

	(void)state;
	src[0].data = gif_of_tiny_frames(100000, &src[0].len);
	src[0].t = MT_GIF;
	src[0].q = gif_q;
	src[0].nq = sizeof(gif_q) / sizeof(*gif_q);
	src[1].data = tiff_of_tiny_pages(10000, &src[1].len);
	src[1].t = MT_TIFF;
	src[1].q = tiff_q;
	src[1].nq = sizeof(tiff_q) / sizeof(*tiff_q);
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < src[k].nq; i++) {
			fd = memfd_of(src[k].data, src[k].len, &size);
			run_fd(fd, size, src[k].t, src[k].q[i], &lim, &r);
			if (r.rc >= 0 || r.e.kind != ERR_TOO_LARGE ||
			    strstr(r.e.msg, "max_frames") == NULL)
				fail_msg("%s?%s: rc %d, %s", src[k].t == MT_GIF ?
				    "gif" : "tiff", src[k].q[i], r.rc, r.e.msg);
			done(&r);
		}
		fd = memfd_of(src[k].data, src[k].len, &size);
		assert_true(info_fd(fd, size, src[k].t, &lim, &m, &e) < 0);
		assert_int_equal(e.kind, ERR_TOO_LARGE);
		assert_non_null(strstr(e.msg, "max_frames"));
		assert_int_equal(m.len, 0);
		membuf_cleanup(&m);
		/* The first frame alone, as JPEG. */
		fd = memfd_of(src[k].data, src[k].len, &size);
		run_fd(fd, size, src[k].t, "format=jpeg", &lim, &r);
		assert_int_equal(r.rc, 0);
		assert_int_equal(r.im->columns, 1);
		done(&r);
		free(src[k].data);
	}
}

/* A GIF of exactly max_frames frames stays animated, every frame in
 * order; one frame more is refused. */
static void
test_animation_of_max_frames_is_served(void **state)
{
	static const uint32_t colour[] = { 0xff0000, 0x00ff00, 0x0000ff,
	    0xffff00, 0xff00ff };
	static const unsigned w[] = { 40, 40, 40, 40, 40 };
	static const unsigned h[] = { 30, 30, 30, 30, 30 };
	struct img_limits lim = { .default_quality = 80, .max_frames = 5 };
	struct img_limits four = { .default_quality = 80, .max_frames = 4 };
	struct result r;
	unsigned long n = 0;
	off_t size;
	int fd;

	(void)state;
	fd = make_frames("GIF", 5, w, h, colour, &size);
	run_fd(fd, size, MT_GIF, "size=20x20", &lim, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.magick, "GIF");
	for (Image *f = r.im; f != NULL; f = f->next, n++) {
		unsigned red, green, blue;

		assert_int_equal(f->columns, 20);
		pixel(f, 10, 7, &red, &green, &blue);
		assert_int_equal(red > 128, (colour[n] >> 16) > 128);
		assert_int_equal(green > 128, ((colour[n] >> 8) & 0xff) > 128);
		assert_int_equal(blue > 128, (colour[n] & 0xff) > 128);
	}
	assert_int_equal(n, 5);
	done(&r);
	fd = make_frames("GIF", 5, w, h, colour, &size);
	run_fd(fd, size, MT_GIF, "size=20x20", &four, &r);
	assert_int_equal(r.e.kind, ERR_TOO_LARGE);
	assert_non_null(strstr(r.e.msg, "max_frames"));
	done(&r);
}

/*
 * The source pixel limit counts what a read decodes: frame=N of a GIF is
 * drawn over frames 0..N, so N+1 screens; page N of a TIFF is its own size,
 * whatever page 0's is.
 */
static void
test_source_pixels_count_the_frames_decoded(void **state)
{
	static const uint32_t colour[] = { 0xff0000, 0x00ff00, 0x0000ff };
	static const unsigned gw[] = { 100, 100, 100 }, gh[] = { 100, 100, 100 };
	static const unsigned tw[] = { 10, 200 }, th[] = { 10, 150 };
	struct img_limits two = { .max_source_pixels = 20000,
	    .default_quality = 80, .max_frames = 300 };
	struct img_limits small = { .max_source_pixels = 1000,
	    .default_quality = 80, .max_frames = 300 };
	struct img_limits page = { .max_source_pixels = 30000,
	    .default_quality = 80, .max_frames = 300 };
	struct result r;
	unsigned red, green, blue;
	off_t size;
	int fd;

	(void)state;
	fd = make_frames("GIF", 3, gw, gh, colour, &size);
	run_fd(fd, size, MT_GIF, "frame=1&format=png", &two, &r);
	assert_int_equal(r.rc, 0);
	pixel(r.im, 50, 50, &red, &green, &blue);
	assert_true(green > 200 && red < 50 && blue < 50);
	done(&r);
	fd = make_frames("GIF", 3, gw, gh, colour, &size);
	run_fd(fd, size, MT_GIF, "frame=2&format=png", &two, &r);
	assert_int_equal(r.e.kind, ERR_TOO_LARGE);
	assert_non_null(strstr(r.e.msg, "3 frames"));
	done(&r);
	fd = make_frames("GIF", 3, gw, gh, colour, &size);
	run_fd(fd, size, MT_GIF, "", &two, &r);
	assert_int_equal(r.e.kind, ERR_TOO_LARGE);
	done(&r);

	fd = make_frames("TIFF", 2, tw, th, colour, &size);
	run_fd(fd, size, MT_TIFF, "frame=0", &small, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.im->columns, 10);
	done(&r);
	fd = make_frames("TIFF", 2, tw, th, colour, &size);
	run_fd(fd, size, MT_TIFF, "frame=1", &small, &r);
	assert_int_equal(r.e.kind, ERR_TOO_LARGE);
	assert_non_null(strstr(r.e.msg, "200x150"));
	done(&r);
	fd = make_frames("TIFF", 2, tw, th, colour, &size);
	run_fd(fd, size, MT_TIFF, "frame=1&format=png", &page, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.im->columns, 200);
	assert_int_equal(r.im->rows, 150);
	pixel(r.im, 100, 75, &red, &green, &blue);
	assert_true(green > 200 && red < 50 && blue < 50);
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
		cmocka_unit_test(test_pixel_plan_refuses_before_decoding),
		cmocka_unit_test(test_crop_outside_source_is_bad_param),
		cmocka_unit_test(test_rotate_swaps_box_sides),
		cmocka_unit_test(test_frame_count_over_limit_is_too_large),
		cmocka_unit_test(test_animation_of_max_frames_is_served),
		cmocka_unit_test(test_source_pixels_count_the_frames_decoded),
	};

	return cmocka_run_group_tests_name("img", tests, init, NULL);
}
