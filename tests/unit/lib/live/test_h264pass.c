/*
 * h264pass: H.264 packets (made here with libx264, B-frames, a keyframe
 * every GOP frames) remuxed into fMP4 in memory. Nothing comes out while
 * the first keyframe interval is measured, then a fragment a packet; the
 * init segment and the fragments decode with libavformat / libavcodec to
 * every frame at the input's size, each fragment carrying its packet's
 * bytes as they were; a file played twice (times going back) stays one
 * stream (x264's Annex B packets made length-prefixed, as an MPEG-TS
 * or RTSP input's are); an interval over H264PASS_MAX_GOP is H264PASS_LONG with
 * nothing handed out; streams that are not 8-bit 4:2:0 H.264 with
 * parameter sets are refused.
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
#include <libavutil/opt.h>

#include "core/sink.h"
#include "live/h264pass.h"
#include "support.h"

#define W 160
#define H 120
#define FPS 10
#define FRAMES 35

struct stream {
	AVCodecParameters *par;
	AVRational tb;
	AVPacket *pkts[FRAMES + 8];
	int n;
};

/* FRAMES pictures of a moving square through libx264, one key per gop. */
static void
make_stream(struct stream *s, int gop)
{
	const AVCodec *c = avcodec_find_encoder_by_name("libx264");
	AVCodecContext *enc;
	AVFrame *f = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();

	assert_non_null(c);
	enc = avcodec_alloc_context3(c);
	enc->width = W;
	enc->height = H;
	enc->pix_fmt = AV_PIX_FMT_YUV420P;
	enc->time_base = (AVRational){ 1, FPS };
	enc->framerate = (AVRational){ FPS, 1 };
	enc->gop_size = gop;
	enc->keyint_min = gop;
	enc->max_b_frames = 2;
	enc->thread_count = 1;
	enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	av_opt_set(enc->priv_data, "preset", "veryfast", 0);
	av_opt_set(enc->priv_data, "x264-params", "scenecut=0", 0);
	assert_int_equal(avcodec_open2(enc, c, NULL), 0);
	f->format = enc->pix_fmt;
	f->width = W;
	f->height = H;
	assert_int_equal(av_frame_get_buffer(f, 0), 0);
	s->n = 0;
	for (int n = 0; n <= FRAMES; n++) {
		if (n < FRAMES) {
			av_frame_make_writable(f);
			for (int y = 0; y < H; y++)
				for (int x = 0; x < W; x++)
					f->data[0][y * f->linesize[0] + x] =
					    (uint8_t)((x >= n * 4 && x < n * 4 +
					    20 && y > 40 && y < 60) ? 235 :
					    x + y);
			for (int y = 0; y < H / 2; y++) {
				memset(f->data[1] + y * f->linesize[1], 128,
				    W / 2);
				memset(f->data[2] + y * f->linesize[2], 128,
				    W / 2);
			}
			f->pts = n;
			assert_int_equal(avcodec_send_frame(enc, f), 0);
		} else {
			avcodec_send_frame(enc, NULL);
		}
		while (avcodec_receive_packet(enc, pkt) == 0) {
			assert_true(s->n < FRAMES + 8);
			s->pkts[s->n++] = av_packet_clone(pkt);
			av_packet_unref(pkt);
		}
	}
	assert_int_equal(s->n, FRAMES);
	s->par = avcodec_parameters_alloc();
	avcodec_parameters_from_context(s->par, enc);
	s->tb = enc->time_base;
	av_packet_free(&pkt);
	av_frame_free(&f);
	avcodec_free_context(&enc);
}

static void
free_stream(struct stream *s)
{
	for (int i = 0; i < s->n; i++)
		av_packet_free(&s->pkts[i]);
	avcodec_parameters_free(&s->par);
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

/* Demuxes and decodes the fMP4 in m through a file, as a client would. */
static struct decoded
decode_all(const struct membuf *m)
{
	char path[] = "/tmp/h264pass-XXXXXX";
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

/* The mdat payload of a fragment (moof + mdat): its size. */
static size_t
mdat_payload(const struct h264live_frag *fr)
{
	size_t moof = (size_t)fr->data[0] << 24 | (size_t)fr->data[1] << 16 |
	    (size_t)fr->data[2] << 8 | fr->data[3];

	assert_memory_equal(fr->data + 4, "moof", 4);
	assert_memory_equal(fr->data + moof + 4, "mdat", 4);
	return fr->len - moof - 8;
}

static void
test_remux_decodes(void **state)
{
	struct stream s;
	struct h264pass *p;
	struct h264live_frag fr;
	struct membuf all;
	struct err e;
	const unsigned char *init;
	size_t ilen;
	int frags = 0, keys = 0, rounds = 2;
	int64_t last_pts = -1;
	struct decoded d;

	(void)state;
	err_init(&e);
	membuf_init(&all);
	make_stream(&s, FPS);
	p = h264pass_new(s.par, s.tb.num, s.tb.den, FPS, &e);
	assert_non_null(p);
	assert_null(h264pass_init_segment(p, &ilen));
	/* Twice through: the second time the times start again. */
	for (int r = 0; r < rounds; r++)
		for (int n = 0; n < s.n; n++) {
			int rc = h264pass_push(p, s.pkts[n], &fr, &e);

			if (r == 0 && n < FPS) {
				/* The first interval is being measured. */
				assert_int_equal(rc, 0);
				assert_null(h264pass_init_segment(p, &ilen));
				continue;
			}
			assert_int_equal(rc, 1);
			if (frags == 0) {
				init = h264pass_init_segment(p, &ilen);
				assert_non_null(init);
				assert_memory_equal(init + 4, "ftyp", 4);
				append(&all, init, ilen);
				assert_true(fr.key);
			}
			/* The packet's bytes, its Annex B start codes made
			 * lengths (4 bytes each). */
			assert_in_range(mdat_payload(&fr),
			    (size_t)s.pkts[n]->size,
			    (size_t)s.pkts[n]->size + 8);
			assert_int_equal(fr.key,
			    (s.pkts[n]->flags & AV_PKT_FLAG_KEY) != 0);
			keys += fr.key;
			assert_int_equal(fr.duration, H264LIVE_TIMESCALE / FPS);
			assert_true(fr.pts != last_pts);
			last_pts = fr.pts;
			append(&all, fr.data, fr.len);
			frags++;
		}
	/* All but the first group, which only measured the interval. */
	frags += FPS;
	assert_int_equal(frags, rounds * FRAMES);
	assert_int_equal(h264pass_frames(p), rounds * FRAMES - FPS);
	d = decode_all(&all);
	assert_int_equal(d.frames, rounds * FRAMES - FPS);
	assert_int_equal(d.keys, keys);
	assert_int_equal(d.w, W);
	assert_int_equal(d.h, H);
	assert_int_equal(d.errors, 0);
	h264pass_free(p);
	free_stream(&s);
	membuf_cleanup(&all);
}

static void
test_long_interval(void **state)
{
	struct stream s;
	struct h264pass *p;
	struct h264live_frag fr;
	struct err e;
	int n, rc = 0;

	(void)state;
	err_init(&e);
	make_stream(&s, 100);	/* 10 s at 10 fps */
	p = h264pass_new(s.par, s.tb.num, s.tb.den, FPS, &e);
	assert_non_null(p);
	for (n = 0; n < s.n && (rc = h264pass_push(p, s.pkts[n], &fr, &e)) ==
	    0; n++)
		;
	assert_int_equal(rc, H264PASS_LONG);
	/* Given up a little past H264PASS_MAX_GOP, nothing handed out. */
	assert_in_range(n, (int)(H264PASS_MAX_GOP * FPS),
	    (int)(H264PASS_MAX_GOP * FPS) + 2);
	assert_null(h264pass_init_segment(p, &(size_t){ 0 }));
	assert_int_equal(h264pass_push(p, s.pkts[n], &fr, &e), H264PASS_LONG);
	h264pass_free(p);
	h264pass_free(NULL);
	free_stream(&s);
}

static void
test_refused(void **state)
{
	AVCodecParameters *par = avcodec_parameters_alloc();
	const char *why = NULL;
	struct err e;

	(void)state;
	err_init(&e);
	par->codec_type = AVMEDIA_TYPE_VIDEO;
	par->codec_id = AV_CODEC_ID_MJPEG;
	par->format = AV_PIX_FMT_YUVJ420P;
	par->width = W;
	par->height = H;
	assert_false(h264pass_takes(par, &why));
	assert_string_equal(why, "not H.264");
	par->codec_id = AV_CODEC_ID_H264;
	par->format = AV_PIX_FMT_YUV444P;
	assert_false(h264pass_takes(par, &why));
	assert_string_equal(why, "not 8-bit 4:2:0");
	par->format = AV_PIX_FMT_YUV420P10LE;
	assert_false(h264pass_takes(par, NULL));
	par->format = AV_PIX_FMT_YUV420P;
	/* No parameter sets. */
	assert_false(h264pass_takes(par, &why));
	assert_null(h264pass_new(par, 1, 90000, 0, &e));
	assert_int_equal(e.kind, ERR_UNSUPPORTED);
	avcodec_parameters_free(&par);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remux_decodes),
		cmocka_unit_test(test_long_interval),
		cmocka_unit_test(test_refused),
	};

	av_log_set_level(AV_LOG_QUIET);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
