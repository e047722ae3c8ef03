/*
 * png_guard: PNGs an encoder wrote pass (plain, interlaced, every colour
 * type GraphicsMagick picks) and their rows are the size computed from
 * IHDR; image data that inflates past the rows is refused; truncated
 * files, absurd chunk lengths, empty IDATs and APNG frames are walked
 * without reading past the buffer (each input is an exact-size heap copy,
 * so ASan catches an overread under make check SAN=1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magick/api.h>
#include <zlib.h>

#include "img/png_guard.h"

struct buf {
	unsigned char *data;
	size_t len;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	b->data = realloc(b->data, b->len + n);
	assert_non_null(b->data);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
put32(struct buf *b, uint32_t v)
{
	unsigned char be[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, be, 4);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
chunk(struct buf *b, const char *type, const void *data, uint32_t n)
{
	uint32_t crc = (uint32_t)crc32(0, (const Bytef *)type, 4);

	crc = (uint32_t)crc32(crc, data, n);
	put32(b, n);
	put(b, type, 4);
	if (n)
		put(b, data, n);
	put32(b, crc);
}

/* Signature and IHDR of a w x h image. */
static void
head(struct buf *b, uint32_t w, uint32_t h, unsigned depth, unsigned colour,
    unsigned interlace)
{
	unsigned char ihdr[13] = {
		w >> 24, w >> 16, w >> 8, w, h >> 24, h >> 16, h >> 8, h,
		depth, colour, 0, 0, interlace
	};

	put(b, "\x89PNG\r\n\x1a\n", 8);
	chunk(b, "IHDR", ihdr, sizeof(ihdr));
}

/* A zlib stream of n bytes (a pattern: filter byte 0 where it falls is
 * as good as any other), *len bytes long, malloc'd. */
static unsigned char *
zstream(size_t n, size_t *len)
{
	unsigned char *raw = malloc(n ? n : 1), *z;
	uLongf zl = compressBound(n);

	assert_non_null(raw);
	for (size_t i = 0; i < n; i++)
		raw[i] = (unsigned char)(i % 5);
	z = malloc(zl);
	assert_non_null(z);
	assert_int_equal(compress2(z, &zl, raw, n, 6), Z_OK);
	free(raw);
	*len = zl;
	return z;
}

/* data as IDAT chunks of at most step bytes each. */
static void
idats(struct buf *b, const unsigned char *data, size_t n, size_t step)
{
	for (size_t i = 0; i < n; i += step)
		chunk(b, "IDAT", data + i, (uint32_t)(n - i < step ? n - i :
		    step));
}

static void
iend(struct buf *b)
{
	chunk(b, "IEND", "", 0);
}

/* A w x h grey PNG whose stream inflates to `out` bytes. */
static struct buf
grey_png(uint32_t w, uint32_t h, unsigned interlace, size_t out)
{
	struct buf b = { NULL, 0 };
	size_t zl;
	unsigned char *z = zstream(out, &zl);

	head(&b, w, h, 8, 0, interlace);
	idats(&b, z, zl, 8192);
	iend(&b);
	free(z);
	return b;
}

/* The guard on an exact-size copy of data[0..len). */
static int
check(const unsigned char *data, size_t len, struct err *e)
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, data, len);
	err_init(e);
	rc = png_guard_check(copy, len, e);
	free(copy);
	return rc;
}

static void
raw_size_of_known_headers(void **state)
{
	(void)state;
	assert_int_equal(png_guard_raw_size(1, 1, 8, 0, 0), 2);
	assert_int_equal(png_guard_raw_size(1, 1, 8, 0, 1), 2);
	/* 8x8 grey: 8 rows of 1 + 8; Adam7: 1x1, 1x1, 2x1, 2x2, 4x2,
	 * 4x4, 8x4 passes, each row with its filter byte. */
	assert_int_equal(png_guard_raw_size(8, 8, 8, 0, 0), 72);
	assert_int_equal(png_guard_raw_size(8, 8, 8, 0, 1),
	    2 + 2 + 3 + 2 * 3 + 2 * 5 + 4 * 5 + 4 * 9);
	/* 9 pixels of 1 bit: 2 bytes and the filter byte */
	assert_int_equal(png_guard_raw_size(9, 2, 1, 0, 0), 6);
	/* RGBA 16: 8 bytes a pixel */
	assert_int_equal(png_guard_raw_size(3, 1, 16, 6, 0), 25);
	assert_int_equal(png_guard_raw_size(2000, 2000, 8, 0, 0), 4002000);
	/* the largest headers: saturated, no overflow */
	assert_int_equal(png_guard_raw_size(0x7fffffff, 0x7fffffff, 16, 6, 0),
	    (uint64_t)1 << 62);
	assert_int_equal(png_guard_raw_size(0x7fffffff, 0x7fffffff, 16, 6, 1),
	    (uint64_t)1 << 62);
	assert_int_equal(png_guard_raw_size(0x7fffffff, 1, 16, 6, 0),
	    1 + (uint64_t)0x7fffffff * 8);
	/* headers libpng refuses */
	assert_int_equal(png_guard_raw_size(0, 1, 8, 0, 0), 0);
	assert_int_equal(png_guard_raw_size(1, 0x80000000u, 8, 0, 0), 0);
	assert_int_equal(png_guard_raw_size(1, 1, 16, 3, 0), 0);
	assert_int_equal(png_guard_raw_size(1, 1, 4, 2, 0), 0);
	assert_int_equal(png_guard_raw_size(1, 1, 8, 5, 0), 0);
	assert_int_equal(png_guard_raw_size(1, 1, 8, 0, 2), 0);
}

/*
 * PNGs GraphicsMagick writes (it picks the colour type and depth: grey,
 * palette, RGB, RGBA), plain and Adam7, odd sizes: every one passes, and
 * its stream inflates to exactly the computed size.
 */
static void
encoder_output_passes_and_matches(void **state)
{
	static const unsigned sizes[][2] = {
		{ 1, 1 }, { 2, 3 }, { 7, 5 }, { 13, 9 }, { 33, 17 }, { 64, 48 },
	};
	static const char *const maps[] = { "I", "RGB", "RGBA", "P" };

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(*sizes); s++)
	for (size_t m = 0; m < sizeof(maps) / sizeof(*maps); m++)
	for (int il = 0; il < 2; il++) {
		unsigned w = sizes[s][0], h = sizes[s][1];
		unsigned char *px = malloc((size_t)w * h * 4);
		ExceptionInfo ex;
		ImageInfo *ii = CloneImageInfo(NULL);
		Image *im;
		unsigned char *blob, *rows;
		size_t len = 0, off = 8;
		z_stream z;
		uint64_t want;
		struct err e;

		for (size_t i = 0; i < (size_t)w * h * 4; i++)
			px[i] = maps[m][0] == 'P' ? (i / 4 % 3) * 100 :
			    (unsigned char)(i * 37);
		GetExceptionInfo(&ex);
		im = ConstituteImage(w, h, maps[m][0] == 'P' ? "RGB" : maps[m],
		    CharPixel, px, &ex);
		assert_non_null(im);
		snprintf(ii->magick, sizeof(ii->magick), "PNG");
		snprintf(im->magick, sizeof(im->magick), "PNG");
		ii->interlace = il ? LineInterlace : NoInterlace;
		blob = ImageToBlob(ii, im, &len, &ex);
		assert_non_null(blob);
		assert_int_equal(blob[28], il);		/* IHDR interlace */
		want = png_guard_raw_size(get32(blob + 16), get32(blob + 20),
		    blob[24], blob[25], blob[28]);
		assert_true(want > 0);

		/* inflate the IDAT run: exactly the rows */
		rows = malloc(want + 1);
		memset(&z, 0, sizeof(z));
		assert_int_equal(inflateInit(&z), Z_OK);
		z.next_out = rows;
		z.avail_out = (uInt)want + 1;
		while (off + 8 <= len) {
			uint32_t n = get32(blob + off);

			if (memcmp(blob + off + 4, "IDAT", 4) == 0) {
				z.next_in = blob + off + 8;
				z.avail_in = n;
				(void)inflate(&z, Z_NO_FLUSH);
			}
			off += 12 + n;
		}
		assert_int_equal(z.total_out, want);
		inflateEnd(&z);

		assert_int_equal(check(blob, len, &e), 0);
		assert_int_equal(e.kind, ERR_NONE);
		free(rows);
		MagickFree(blob);
		DestroyImage(im);
		DestroyImageInfo(ii);
		DestroyExceptionInfo(&ex);
		free(px);
	}
}

/* The hostile corpus's case, smaller: 200x200 grey (40200 bytes of rows)
 * whose stream goes on to 8 MiB. Interlaced the same. */
static void
data_past_the_rows_is_refused(void **state)
{
	struct err e;

	(void)state;
	for (unsigned il = 0; il < 2; il++) {
		struct buf b = grey_png(200, 200, il, 8u << 20);

		assert_int_equal(check(b.data, b.len, &e), -ERR_UNDECODABLE);
		assert_int_equal(e.kind, ERR_UNDECODABLE);
		assert_non_null(strstr(e.msg, "PNG: image data inflates past "
		    "its rows"));
		free(b.data);
	}
}

/* A little more than the rows (a sloppy encoder) passes; the slack is an
 * eighth of the rows and 1 MiB, and one byte more is refused. */
static void
a_little_excess_passes(void **state)
{
	size_t rows = 200 * 201, limit = rows + rows / 8 + PNG_GUARD_SLACK;
	struct buf ok = grey_png(200, 200, 0, rows + 1000);
	struct buf edge = grey_png(200, 200, 0, limit);
	struct buf over = grey_png(200, 200, 0, limit + 1);
	struct err e;

	(void)state;
	assert_int_equal(check(ok.data, ok.len, &e), 0);
	assert_int_equal(check(edge.data, edge.len, &e), 0);
	assert_int_equal(check(over.data, over.len, &e), -ERR_UNDECODABLE);
	free(ok.data);
	free(edge.data);
	free(over.data);
}

/* Short data is libpng's to judge (it reads what is there). */
static void
too_little_data_passes(void **state)
{
	struct buf b = grey_png(200, 200, 0, 100);
	struct err e;

	(void)state;
	assert_int_equal(check(b.data, b.len, &e), 0);
	free(b.data);
}

/* Every prefix of a good file and of a bomb: walked within the buffer,
 * and a prefix passes unless it already holds more than the rows. */
static void
every_truncation_stays_in_the_buffer(void **state)
{
	struct buf good = grey_png(40, 30, 0, 40 * 41);
	struct buf bomb = grey_png(40, 30, 1, 4u << 20);
	struct err e;

	(void)state;
	for (size_t n = 0; n <= good.len; n++)
		assert_int_equal(check(good.data, n, &e), 0);
	for (size_t n = 0; n <= bomb.len; n += 7) {
		int rc = check(bomb.data, n, &e);

		assert_true(rc == 0 || rc == -ERR_UNDECODABLE);
	}
	assert_int_equal(check(bomb.data, bomb.len, &e), -ERR_UNDECODABLE);
	free(good.data);
	free(bomb.data);
}

/* A chunk length over 2^31 - 1 is refused; one within it but past the
 * end of the file is a truncation, walked no further. */
static void
garbage_chunk_lengths(void **state)
{
	struct buf b = { NULL, 0 };
	struct err e;
	size_t at;

	(void)state;
	head(&b, 10, 10, 8, 0, 0);
	at = b.len;
	chunk(&b, "tEXt", "a\0b", 3);
	iend(&b);
	memcpy(b.data + at, "\xff\xff\xff\xf0", 4);
	assert_int_equal(check(b.data, b.len, &e), -ERR_UNDECODABLE);
	assert_non_null(strstr(e.msg, "chunk length"));
	memcpy(b.data + at, "\x7f\xff\xff\xff", 4);
	assert_int_equal(check(b.data, b.len, &e), 0);
	/* an IDAT that says 2 GiB, with a few bytes behind it */
	memcpy(b.data + at + 4, "IDAT", 4);
	assert_int_equal(check(b.data, b.len, &e), 0);
	free(b.data);
}

/* Empty IDATs between the real ones, or only empty ones. */
static void
zero_size_idat(void **state)
{
	struct buf b = { NULL, 0 }, only = { NULL, 0 };
	size_t zl;
	unsigned char *z = zstream(10 * 11, &zl);
	struct err e;

	(void)state;
	head(&b, 10, 10, 8, 0, 0);
	chunk(&b, "IDAT", "", 0);
	idats(&b, z, zl, 16);
	chunk(&b, "IDAT", "", 0);
	iend(&b);
	assert_int_equal(check(b.data, b.len, &e), 0);
	head(&only, 10, 10, 8, 0, 0);
	chunk(&only, "IDAT", "", 0);
	chunk(&only, "IDAT", "", 0);
	iend(&only);
	assert_int_equal(check(only.data, only.len, &e), 0);
	free(z);
	free(b.data);
	free(only.data);
}

/*
 * APNG: acTL and fcTL before the default image, fdAT frames after it
 * holding a stream that inflates to 8 MiB; and a second IDAT run after
 * another chunk (libpng never inflates it). Only the first IDAT run is
 * image data: both pass. The same bomb as the default image is refused.
 */
static void
apng_frames_and_later_idats_are_not_the_image(void **state)
{
	struct buf b = { NULL, 0 }, later = { NULL, 0 }, bad = { NULL, 0 };
	unsigned char actl[8] = { 0, 0, 0, 2, 0, 0, 0, 0 }, fctl[26] = { 0 };
	size_t zl, bl;
	unsigned char *z = zstream(20 * 21, &zl), *big = zstream(8u << 20, &bl);
	unsigned char *fdat = malloc(bl + 4);
	struct err e;

	(void)state;
	memcpy(fdat, "\0\0\0\2", 4);		/* sequence number */
	memcpy(fdat + 4, big, bl);

	head(&b, 20, 20, 8, 0, 0);
	chunk(&b, "acTL", actl, sizeof(actl));
	chunk(&b, "fcTL", fctl, sizeof(fctl));
	idats(&b, z, zl, 64);
	chunk(&b, "fcTL", fctl, sizeof(fctl));
	chunk(&b, "fdAT", fdat, (uint32_t)bl + 4);
	iend(&b);
	assert_int_equal(check(b.data, b.len, &e), 0);

	head(&later, 20, 20, 8, 0, 0);
	idats(&later, z, zl, 64);
	chunk(&later, "tEXt", "a\0b", 3);
	idats(&later, big, bl, 65536);
	iend(&later);
	assert_int_equal(check(later.data, later.len, &e), 0);

	head(&bad, 20, 20, 8, 0, 0);
	chunk(&bad, "acTL", actl, sizeof(actl));
	chunk(&bad, "fcTL", fctl, sizeof(fctl));
	idats(&bad, big, bl, 65536);
	iend(&bad);
	assert_int_equal(check(bad.data, bad.len, &e), -ERR_UNDECODABLE);

	free(z);
	free(big);
	free(fdat);
	free(b.data);
	free(later.data);
	free(bad.data);
}

/* Not a PNG, no IHDR first, or an IHDR libpng refuses: not judged here. */
static void
not_for_the_guard(void **state)
{
	struct buf b = { NULL, 0 };
	struct err e;

	(void)state;
	assert_int_equal(check((const unsigned char *)"GIF89a", 6, &e), 0);
	assert_int_equal(check((const unsigned char *)"", 0, &e), 0);
	head(&b, 10, 10, 8, 7, 0);		/* colour type 7 */
	iend(&b);
	assert_int_equal(check(b.data, b.len, &e), 0);
	memcpy(b.data + 12, "IHDX", 4);
	assert_int_equal(check(b.data, b.len, &e), 0);
	free(b.data);
}

static int
init(void **state)
{
	(void)state;
	InitializeMagick(NULL);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(raw_size_of_known_headers),
		cmocka_unit_test(encoder_output_passes_and_matches),
		cmocka_unit_test(data_past_the_rows_is_refused),
		cmocka_unit_test(a_little_excess_passes),
		cmocka_unit_test(too_little_data_passes),
		cmocka_unit_test(every_truncation_stays_in_the_buffer),
		cmocka_unit_test(garbage_chunk_lengths),
		cmocka_unit_test(zero_size_idat),
		cmocka_unit_test(apng_frames_and_later_idats_are_not_the_image),
		cmocka_unit_test(not_for_the_guard),
	};

	return cmocka_run_group_tests_name("png_guard", tests, init, NULL);
}
