/*
 * h264live: JPEG frames (made here with libavcodec's MJPEG encoder, a
 * moving pattern) encoded to H.264 fMP4 in memory. The init segment and
 * the fragments concatenated are demuxed and decoded by libavformat /
 * libavcodec: the right size, every frame, a keyframe exactly every
 * keyint frames; the init segment followed by the fragments from a later
 * keyframe decodes too (what a viewer joining late gets); a frame that
 * is not a JPEG fails alone.
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

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "core/sink.h"
#include "live/h264live.h"
#include "support.h"

#define W 160
#define H 120
#define FPS 10
#define FRAMES 35

static unsigned char *jpegs[FRAMES];
static size_t jlen[FRAMES];

/* FRAMES JPEGs of a square moving over a gradient. */
static int
setup(void **state)
{
	const AVCodec *c = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *enc = avcodec_alloc_context3(c);
	AVFrame *f = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();

	(void)state;
	enc->width = W;
	enc->height = H;
	enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
	enc->time_base = (AVRational){ 1, FPS };
	if (avcodec_open2(enc, c, NULL) < 0)
		return -1;
	f->format = enc->pix_fmt;
	f->width = W;
	f->height = H;
	if (av_frame_get_buffer(f, 0) < 0)
		return -1;
	for (int n = 0; n < FRAMES; n++) {
		av_frame_make_writable(f);
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				f->data[0][y * f->linesize[0] + x] = (uint8_t)
				    ((x >= n * 4 && x < n * 4 + 20 && y > 40 &&
				    y < 60) ? 235 : x + y);
		for (int y = 0; y < H / 2; y++)
			for (int x = 0; x < W / 2; x++) {
				f->data[1][y * f->linesize[1] + x] = (uint8_t)(64 + x);
				f->data[2][y * f->linesize[2] + x] = (uint8_t)(192 - y);
			}
		f->pts = n;
		if (avcodec_send_frame(enc, f) < 0 ||
		    avcodec_receive_packet(enc, pkt) < 0)
			return -1;
		jpegs[n] = malloc((size_t)pkt->size);
		memcpy(jpegs[n], pkt->data, (size_t)pkt->size);
		jlen[n] = (size_t)pkt->size;
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	av_frame_free(&f);
	avcodec_free_context(&enc);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int n = 0; n < FRAMES; n++)
		free(jpegs[n]);
	return 0;
}

static void
append(struct membuf *m, const void *d, size_t n)
{
	struct sink s;

	sink_init_membuf(&s, m);
	assert_int_equal(sink_write(&s, d, n), 0);
}

struct decoded {
	int frames, keys, w, h, errors;
};

/* Demuxes and decodes the fMP4 in m (through a file: libavformat's own
 * reader, as a client would). */
static struct decoded
decode_all(const struct membuf *m)
{
	char path[] = "/tmp/h264live-XXXXXX";
	int fd = mkstemp(path);
	AVFormatContext *fmt = NULL;
	AVCodecContext *dec = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	struct decoded d = { 0 };
	const AVCodec *c;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, m->data, m->len), (ssize_t)m->len);
	close(fd);
	assert_int_equal(avformat_open_input(&fmt, path, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
	assert_int_equal(fmt->nb_streams, 1);
	assert_int_equal(fmt->streams[0]->codecpar->codec_id, AV_CODEC_ID_H264);
	c = avcodec_find_decoder(AV_CODEC_ID_H264);
	dec = avcodec_alloc_context3(c);
	avcodec_parameters_to_context(dec, fmt->streams[0]->codecpar);
	assert_int_equal(avcodec_open2(dec, c, NULL), 0);
	while (av_read_frame(fmt, pkt) >= 0) {
		if (pkt->flags & AV_PKT_FLAG_KEY)
			d.keys++;
		if (avcodec_send_packet(dec, pkt) < 0)
			d.errors++;
		av_packet_unref(pkt);
		while (avcodec_receive_frame(dec, f) == 0) {
			d.frames++;
			d.w = f->width;
			d.h = f->height;
			if (f->decode_error_flags)
				d.errors++;
		}
	}
	avcodec_send_packet(dec, NULL);
	while (avcodec_receive_frame(dec, f) == 0)
		d.frames++;
	av_frame_free(&f);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	unlink(path);
	return d;
}

static void
test_fragments_decode(void **state)
{
	struct h264live_cfg cfg = { .fps = FPS, .quality = 80 };
	struct h264live *h;
	struct membuf all, late;
	struct err e;
	const unsigned char *init;
	size_t init_len;
	int keys_at[FRAMES], nkeys = 0, frags = 0;
	struct decoded d;

	(void)state;
	err_init(&e);
	membuf_init(&all);
	membuf_init(&late);
	h = h264live_new(&cfg, &e);
	assert_non_null(h);
	assert_null(h264live_init_segment(h, &init_len));
	for (int n = 0; n < FRAMES; n++) {
		struct h264live_frag fr;
		int rc = h264live_push(h, jpegs[n], jlen[n],
		    1000000 + (int64_t)n * 100000, &fr, &e);

		assert_int_equal(rc, 1);	/* zerolatency: one in, one out */
		if (n == 0) {
			init = h264live_init_segment(h, &init_len);
			assert_non_null(init);
			/* ftyp first, then the moov. */
			assert_memory_equal(init + 4, "ftyp", 4);
			append(&all, init, init_len);
			append(&late, init, init_len);
		}
		/* moof + mdat, nothing else. */
		assert_memory_equal(fr.data + 4, "moof", 4);
		assert_int_equal(fr.pts, (int64_t)n * 9000);
		assert_int_equal(fr.duration, 9000);
		if (fr.key)
			keys_at[nkeys++] = n;
		append(&all, fr.data, fr.len);
		if (n >= 2 * FPS)
			append(&late, fr.data, fr.len);
		frags++;
	}
	/* A keyframe every FPS frames, and only there. */
	assert_int_equal(nkeys, (FRAMES + FPS - 1) / FPS);
	for (int k = 0; k < nkeys; k++)
		assert_int_equal(keys_at[k], k * FPS);
	assert_int_equal(h264live_frames(h), FRAMES);
	{
		unsigned w, ht;

		h264live_size(h, &w, &ht);
		assert_int_equal(w, W);
		assert_int_equal(ht, H);
	}

	d = decode_all(&all);
	assert_int_equal(d.frames, FRAMES);
	assert_int_equal(d.keys, nkeys);
	assert_int_equal(d.w, W);
	assert_int_equal(d.h, H);
	assert_int_equal(d.errors, 0);

	/* Joining at the third keyframe: init + fragments from there. */
	d = decode_all(&late);
	assert_int_equal(d.frames, FRAMES - 2 * FPS);
	assert_int_equal(d.errors, 0);

	membuf_cleanup(&all);
	membuf_cleanup(&late);
	h264live_free(h);
}

static void
test_size_from_config_and_bad_frame(void **state)
{
	/* An odd box: rounded down to even sides, frames scaled to it. */
	struct h264live_cfg cfg = { .width = 81, .height = 61, .fps = 5,
	    .keyint = 3 };
	struct h264live *h;
	struct h264live_frag fr;
	struct err e;
	unsigned w, ht;
	int keys = 0;

	(void)state;
	err_init(&e);
	h = h264live_new(&cfg, &e);
	assert_non_null(h);
	/* Not a JPEG: refused, nothing opened. */
	assert_true(h264live_push(h, (const unsigned char *)"nope", 4, 0, &fr,
	    &e) < 0);
	assert_int_equal(e.kind, ERR_UNDECODABLE);
	for (int n = 0; n < 7; n++) {
		/* Times that go backwards are moved forward. */
		assert_int_equal(h264live_push(h, jpegs[n], jlen[n],
		    n == 4 ? 0 : (int64_t)n * 200000, &fr, &e), 1);
		keys += fr.key;
	}
	assert_int_equal(keys, 3);	/* 0, 3, 6 */
	h264live_size(h, &w, &ht);
	assert_int_equal(w, 80);
	assert_int_equal(ht, 60);
	/* A bad frame midway leaves the encoder usable. */
	assert_true(h264live_push(h, (const unsigned char *)"\xff\xd8xx", 4,
	    2000000, &fr, &e) < 0);
	assert_int_equal(h264live_push(h, jpegs[8], jlen[8], 3000000, &fr, &e),
	    1);
	h264live_free(h);
	h264live_free(NULL);
}

/* Rate unknown (a source without fps): a keyframe each second of the
 * frames' own times, durations from the intervals. */
static void
test_timed_keyframes(void **state)
{
	struct h264live_cfg cfg = { .fps = 0 };
	struct h264live *h;
	struct h264live_frag fr;
	struct err e;

	(void)state;
	err_init(&e);
	h = h264live_new(&cfg, &e);
	assert_non_null(h);
	for (int n = 0; n < FRAMES; n++) {
		/* 15 fps. */
		assert_int_equal(h264live_push(h, jpegs[n], jlen[n],
		    (int64_t)n * 1000000 / 15, &fr, &e), 1);
		assert_int_equal(fr.key, n % 15 == 0);
		if (n > 1)
			assert_in_range(fr.duration, 5999, 6001);
	}
	h264live_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fragments_decode),
		cmocka_unit_test(test_size_from_config_and_bad_frame),
		cmocka_unit_test(test_timed_keyframes),
	};

	av_log_set_level(AV_LOG_QUIET);
	return cmocka_run_group_tests(tests, setup, teardown);
}
