/*
 * test_sniff_video - the video side of the allow-list: which first bytes
 * name a demuxer (MP4/MOV, Matroska/WebM, AVI, MPEG-TS), and that
 * playlists, concat lists and protocol strings, whatever their name, are
 * not videos.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "req/sniff.h"

#define TYPE(lit) sniff_type((const unsigned char *)(lit), sizeof(lit) - 1)

/* A box header: 4-byte big-endian size, then the type. */
#define BOX(size, type) "\x00\x00\x00" size type

static void
mp4_ftyp_brands_are_mp4(void **state)
{
	(void)state;
	assert_int_equal(TYPE(BOX("\x20", "ftyp") "isom\x00\x00\x02\x00"
	    "isomiso2avc1mp41"), MT_MP4);
	assert_int_equal(TYPE(BOX("\x14", "ftyp") "qt  \x00\x00\x02\x00"
	    "qt  "), MT_MP4);
	assert_int_equal(TYPE(BOX("\x18", "ftyp") "mp42\x00\x00\x00\x00"
	    "mp42isom"), MT_MP4);
	assert_int_equal(TYPE(BOX("\x1c", "ftyp") "M4V \x00\x00\x00\x01"
	    "M4V M4A mp42"), MT_MP4);
	assert_int_equal(TYPE(BOX("\x14", "ftyp") "3gp5\x00\x00\x02\x00"
	    "3gp5"), MT_MP4);
	/* the box header alone is enough */
	assert_int_equal(TYPE(BOX("\x20", "ftyp") "isom"), MT_MP4);
}

static void
quicktime_without_ftyp_is_mp4(void **state)
{
	(void)state;
	/* Old QuickTime files start with another top-level box. */
	assert_int_equal(TYPE(BOX("\x08", "wide") BOX("\x10", "mdat")),
	    MT_MP4);
	assert_int_equal(TYPE(BOX("\x6c", "moov") BOX("\x6c", "mvhd")),
	    MT_MP4);
	assert_int_equal(TYPE(BOX("\x10", "mdat") "\x00\x00\x00\x00"),
	    MT_MP4);
	assert_int_equal(TYPE(BOX("\x08", "free") BOX("\x10", "mdat")),
	    MT_MP4);
	assert_int_equal(TYPE(BOX("\x08", "skip") BOX("\x10", "mdat")),
	    MT_MP4);
}

static void
heif_and_avif_stills_are_not_video(void **state)
{
	static const char *const brands[] = {
		BOX("\x18", "ftyp") "heic\x00\x00\x00\x00mif1heic",
		BOX("\x18", "ftyp") "heix\x00\x00\x00\x00mif1heix",
		BOX("\x18", "ftyp") "mif1\x00\x00\x00\x00mif1heic",
		BOX("\x18", "ftyp") "msf1\x00\x00\x00\x00msf1hevc",
		BOX("\x1c", "ftyp") "avif\x00\x00\x00\x00" "avifmif1miaf",
		BOX("\x1c", "ftyp") "avis\x00\x00\x00\x00" "avismsf1miaf",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(brands) / sizeof(*brands); i++) {
		enum media_type t = sniff_type(
		    (const unsigned char *)brands[i], 24);

		/* An image type (where HEIF is read) or nothing: never the
		 * mov demuxer. */
		assert_int_not_equal(t, MT_MP4);
		assert_false(sniff_is_video(t));
		assert_null(sniff_demuxer(t));
	}
}

static void
ebml_is_mkv(void **state)
{
	(void)state;
	/* EBML header, DocType "webm" / "matroska" */
	assert_int_equal(TYPE("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7"
	    "\x81\x01\x42\x82\x84webm"), MT_MKV);
	assert_int_equal(TYPE("\x1A\x45\xDF\xA3\xA3\x42\x86\x81\x01\x42\x82"
	    "\x88matroska"), MT_MKV);
	assert_int_equal(TYPE("\x1A\x45\xDF\xA3"), MT_MKV);
	assert_int_equal(TYPE("\x1A\x45\xDF"), MT_UNKNOWN);
	assert_int_equal(TYPE("\x1A\x45\xDF\xA4"), MT_UNKNOWN);
}

static void
riff_avi_is_avi(void **state)
{
	(void)state;
	assert_int_equal(TYPE("RIFF\x24\x00\x00\x00" "AVI LIST\x00\x10\x00\x00"
	    "hdrlavih"), MT_AVI);
	assert_int_equal(TYPE("RIFF\xFF\xFF\xFF\xFF" "AVI "), MT_AVI);
	/* other RIFF forms are not AVI */
	assert_int_not_equal(TYPE("RIFF\x24\x00\x00\x00WAVEfmt "), MT_AVI);
	assert_int_equal(TYPE("RIFF\x24\x00\x00\x00WAVEfmt "), MT_UNKNOWN);
	assert_int_equal(TYPE("RIFF\x24\x00\x00\x00" "AVIXLIST"), MT_UNKNOWN);
	assert_int_equal(TYPE("RIFF\x24\x00\x00\x00" "AVI"), MT_UNKNOWN);
	assert_int_equal(TYPE("RIFX\x24\x00\x00\x00" "AVI "), MT_UNKNOWN);
}

/* n bytes of TS-like padding with the sync byte at the given offsets. */
static void
ts_buf(unsigned char *buf, size_t n, const size_t *syncs, size_t nsyncs)
{
	memset(buf, 0xFF, n);
	for (size_t i = 0; i < nsyncs; i++)
		if (syncs[i] < n)
			buf[syncs[i]] = 0x47;
}

static void
ts_with_three_syncs_is_mpegts(void **state)
{
	static const size_t at[] = { 0, 188, 376 };
	unsigned char buf[3 * 188];

	(void)state;
	ts_buf(buf, sizeof(buf), at, 3);
	assert_int_equal(sniff_type(buf, sizeof(buf)), MT_MPEGTS);
}

static void
ts_with_two_syncs_is_unknown(void **state)
{
	static const size_t two[] = { 0, 188 };
	static const size_t gap[] = { 0, 376 };
	static const size_t off[] = { 1, 189, 377 };
	unsigned char buf[3 * 188];

	(void)state;
	ts_buf(buf, sizeof(buf), two, 2);
	assert_int_equal(sniff_type(buf, sizeof(buf)), MT_UNKNOWN);
	ts_buf(buf, sizeof(buf), gap, 2);
	assert_int_equal(sniff_type(buf, sizeof(buf)), MT_UNKNOWN);
	/* three syncs, but not starting at 0 */
	ts_buf(buf, sizeof(buf), off, 3);
	assert_int_equal(sniff_type(buf, sizeof(buf)), MT_UNKNOWN);
	/* 192-byte (M2TS) spacing */
	{
		static const size_t m2ts[] = { 0, 192, 384 };

		ts_buf(buf, sizeof(buf), m2ts, 3);
		assert_int_equal(sniff_type(buf, sizeof(buf)), MT_UNKNOWN);
	}
}

static void
ts_short_buffer_is_unknown(void **state)
{
	static const size_t at[] = { 0, 188, 376 };
	unsigned char buf[3 * 188];

	(void)state;
	ts_buf(buf, sizeof(buf), at, 3);
	/* Only the first packet, or the first two, were read. */
	assert_int_equal(sniff_type(buf, 188), MT_UNKNOWN);
	assert_int_equal(sniff_type(buf, 300), MT_UNKNOWN);
	assert_int_equal(sniff_type(buf, 376), MT_UNKNOWN);
	assert_int_equal(sniff_type(buf, 1), MT_UNKNOWN);
}

/*
 * The router reads SNIFF_BYTES bytes and sniffs them: the third sync byte
 * (at 376) must be within what it reads, or no MPEG-TS file is ever
 * recognised.
 */
static void
ts_is_recognised_from_sniff_bytes(void **state)
{
	static const size_t at[] = { 0, 188, 376 };
	unsigned char buf[SNIFF_BYTES];

	(void)state;
	assert_true(SNIFF_BYTES >= 377);
	ts_buf(buf, sizeof(buf), at, 3);
	assert_int_equal(sniff_type(buf, sizeof(buf)), MT_MPEGTS);
}

static void
playlists_and_protocols_are_unknown(void **state)
{
	(void)state;
	assert_int_equal(TYPE("#EXTM3U\n#EXT-X-VERSION:3\n"
	    "#EXTINF:10,\nfile:///etc/passwd\n"), MT_UNKNOWN);
	assert_int_equal(TYPE("#EXTM3U\r\n"), MT_UNKNOWN);
	assert_int_equal(TYPE("\xEF\xBB\xBF#EXTM3U\n"), MT_UNKNOWN);
	assert_int_equal(TYPE("ffconcat version 1.0\nfile '/etc/passwd'\n"),
	    MT_UNKNOWN);
	assert_int_equal(TYPE("concat:/etc/passwd|/etc/hostname"), MT_UNKNOWN);
	assert_int_equal(TYPE("subfile,,start,0,end,100,,:/etc/passwd"),
	    MT_UNKNOWN);
	assert_int_equal(TYPE("file:/etc/passwd"), MT_UNKNOWN);
	assert_int_equal(TYPE("http://127.0.0.1/x.mp4"), MT_UNKNOWN);
	assert_int_equal(TYPE("[playlist]\nFile1=/etc/passwd\n"), MT_UNKNOWN);
	assert_int_equal(TYPE("<?xml version=\"1.0\"?><MPD "), MT_UNKNOWN);
	/* SDP would make libav open RTP sockets */
	assert_int_equal(TYPE("v=0\no=- 0 0 IN IP4 127.0.0.1\n"), MT_UNKNOWN);
}

static void
is_video_of_each_type(void **state)
{
	(void)state;
	assert_true(sniff_is_video(MT_MP4));
	assert_true(sniff_is_video(MT_MKV));
	assert_true(sniff_is_video(MT_AVI));
	assert_true(sniff_is_video(MT_MPEGTS));
	assert_false(sniff_is_video(MT_UNKNOWN));
	assert_false(sniff_is_video(MT_JPEG));
	assert_false(sniff_is_video(MT_PNG));
	assert_false(sniff_is_video(MT_GIF));
	assert_false(sniff_is_video(MT_WEBP));
	assert_false(sniff_is_video(MT_COUNT));
	assert_false(sniff_is_video((enum media_type)-1));
}

static void
demuxer_of_each_type(void **state)
{
	(void)state;
	assert_string_equal(sniff_demuxer(MT_MP4), "mov");
	assert_string_equal(sniff_demuxer(MT_MKV), "matroska");
	assert_string_equal(sniff_demuxer(MT_AVI), "avi");
	assert_string_equal(sniff_demuxer(MT_MPEGTS), "mpegts");
	assert_null(sniff_demuxer(MT_UNKNOWN));
	assert_null(sniff_demuxer(MT_JPEG));
	assert_null(sniff_demuxer(MT_PNG));
	assert_null(sniff_demuxer(MT_GIF));
	assert_null(sniff_demuxer(MT_WEBP));
	assert_null(sniff_demuxer(MT_COUNT));
	assert_null(sniff_demuxer((enum media_type)-1));
}

static void
videos_have_no_graphicsmagick_coder(void **state)
{
	(void)state;
	assert_null(sniff_coder(MT_MP4));
	assert_null(sniff_coder(MT_MKV));
	assert_null(sniff_coder(MT_AVI));
	assert_null(sniff_coder(MT_MPEGTS));
}

static void
video_mime_types(void **state)
{
	(void)state;
	assert_string_equal(sniff_mime(MT_MP4), "video/mp4");
	assert_string_equal(sniff_mime(MT_MKV), "video/x-matroska");
	assert_string_equal(sniff_mime(MT_AVI), "video/x-msvideo");
	assert_string_equal(sniff_mime(MT_MPEGTS), "video/mp2t");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mp4_ftyp_brands_are_mp4),
		cmocka_unit_test(quicktime_without_ftyp_is_mp4),
		cmocka_unit_test(heif_and_avif_stills_are_not_video),
		cmocka_unit_test(ebml_is_mkv),
		cmocka_unit_test(riff_avi_is_avi),
		cmocka_unit_test(ts_with_three_syncs_is_mpegts),
		cmocka_unit_test(ts_with_two_syncs_is_unknown),
		cmocka_unit_test(ts_short_buffer_is_unknown),
		cmocka_unit_test(ts_is_recognised_from_sniff_bytes),
		cmocka_unit_test(playlists_and_protocols_are_unknown),
		cmocka_unit_test(is_video_of_each_type),
		cmocka_unit_test(demuxer_of_each_type),
		cmocka_unit_test(videos_have_no_graphicsmagick_coder),
		cmocka_unit_test(video_mime_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
