/*
 * vstream: MJPEG streams and transcodes of a clip made at test time (2 s,
 * 25 fps, 320x240 H.264 + AAC, by the ffmpeg command line tool into a
 * mkdtemp directory removed at the end), written into memory sinks and
 * read back as a client would: the multipart parsed and every part
 * decoded, the transcodes demuxed and decoded with libav. The MJPEG tests
 * also time the stream: it is paced, so a 2 s clip takes about 2 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <magick/api.h>

#include "core/clock.h"
#include "img/img.h"
#include "req/params.h"
#include "core/sink.h"
#include "req/sniff.h"
#include "vid/vid.h"
#include "stream/vstream.h"
#include "support.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define BOUNDARY "vstreamtest"

extern char **environ;

static char dir[64];
static char clip[PATH_MAX], audio_only[PATH_MAX], clip_ts[PATH_MAX];
static bool have_ffmpeg;

static int
group_setup(void **state)
{
	char *mk_clip[] = { FFMPEG, "-nostdin", "-y", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
		"-pix_fmt", "yuv420p", "-c:a", "aac", clip, NULL };
	char *mk_audio[] = { FFMPEG, "-nostdin", "-y", "-loglevel", "error",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "1", "-c:a", "aac", audio_only, NULL };

	/* MPEG-TS, one keyframe: seeks by timestamp land anywhere. */
	char *mk_ts[] = { FFMPEG, "-nostdin", "-y", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "100",
		"-pix_fmt", "yuv420p", clip_ts, NULL };

	(void)state;
	vid_init();
	if (img_init() < 0)
		return -1;
	have_ffmpeg = access(FFMPEG, X_OK) == 0;
	if (!have_ffmpeg)
		return 0;
	snprintf(dir, sizeof(dir), "/tmp/test_vstream.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(clip, sizeof(clip), "%s/clip.mp4", dir);
	snprintf(audio_only, sizeof(audio_only), "%s/audio.mp4", dir);
	snprintf(clip_ts, sizeof(clip_ts), "%s/clip.ts", dir);
	if (sup_run(mk_clip) < 0 || sup_run(mk_audio) < 0 || sup_run(mk_ts) < 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (dir[0]) {
		unlink(clip);
		unlink(audio_only);
		unlink(clip_ts);
		rmdir(dir);
	}
	return 0;
}

/* A memory sink that counts flushes, can set a stop flag after some and
 * can fail (the client gone) after some. */
struct tsink {
	struct membuf m;
	unsigned flushes;
	unsigned stop_after;	/* 0 = never */
	unsigned fail_after;	/* 0 = never */
	unsigned stall_at;	/* this flush takes stall_us; 0 = none */
	unsigned stall_us;
	volatile int stop;
};

static int
tsink_write(void *ctx, const void *buf, size_t len)
{
	struct tsink *t = ctx;
	unsigned char *p;

	if (t->fail_after && t->flushes >= t->fail_after)
		return -1;
	if (t->m.len + len > t->m.cap) {
		size_t cap = t->m.cap ? t->m.cap : 65536;

		while (cap < t->m.len + len)
			cap *= 2;
		if ((p = realloc(t->m.data, cap)) == NULL)
			return -1;
		t->m.data = p;
		t->m.cap = cap;
	}
	memcpy(t->m.data + t->m.len, buf, len);
	t->m.len += len;
	return 0;
}

static int
tsink_flush(void *ctx)
{
	struct tsink *t = ctx;

	t->flushes++;
	if (t->stall_at && t->flushes == t->stall_at)
		usleep(t->stall_us);
	if (t->stop_after && t->flushes >= t->stop_after)
		t->stop = 1;
	return 0;
}

static void
tsink_init(struct tsink *t, struct sink *s)
{
	memset(t, 0, sizeof(*t));
	membuf_init(&t->m);
	s->write = tsink_write;
	s->flush = tsink_flush;
	s->ctx = t;
	s->written = 0;
}

struct run_result {
	int rc;
	struct err e;
	double seconds;
};

static int
open_job(const char *path, const char *query, struct params *p,
    struct vid_job *job, const volatile int *stop)
{
	unsigned char head[SNIFF_BYTES];
	struct err e;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	n = pread(fd, head, sizeof(head), 0);
	assert_true(n > 0);
	params_init(p);
	err_init(&e);
	assert_int_equal(params_parse(query, p, &e), 0);
	memset(job, 0, sizeof(*job));
	job->params = p;
	job->fd = fd;
	job->size = st.st_size;
	job->type = sniff_type(head, (size_t)n);
	job->limits.max_decode_frames = 1000;
	job->limits.img.default_quality = 80;
	job->stop = stop;
	return fd;
}

static void
run_mjpeg(const char *path, const char *query, struct tsink *t,
    struct sink *s, struct run_result *r)
{
	struct vid_job job;
	struct params p;
	double t0;
	int fd = open_job(path, query, &p, &job, &t->stop);

	err_init(&r->e);
	t0 = clock_s();
	r->rc = vstream_mjpeg(&job, BOUNDARY, s, &r->e);
	r->seconds = clock_s() - t0;
	close(fd);
}

/* Parses the multipart body: every part a JPEG of w x h. The number of
 * parts, or -1. closed: the closing boundary ends the body. */
static int
check_multipart(const struct membuf *m, unsigned w, unsigned h, bool closed)
{
	const char *b = (const char *)m->data, *end = b + m->len;
	const char open_b[] = "--" BOUNDARY "\r\n";
	const char close_b[] = "--" BOUNDARY "--\r\n";
	int parts = 0;

	for (;;) {
		const char *hdr_end, *cl;
		unsigned long len;
		ExceptionInfo ex;
		ImageInfo *ii;
		Image *im;

		if ((size_t)(end - b) == sizeof(close_b) - 1 &&
		    memcmp(b, close_b, sizeof(close_b) - 1) == 0)
			return closed ? parts : -1;
		if (b == end)
			return closed ? -1 : parts;
		if ((size_t)(end - b) < sizeof(open_b) - 1 ||
		    memcmp(b, open_b, sizeof(open_b) - 1) != 0)
			return -1;
		b += sizeof(open_b) - 1;
		hdr_end = memmem(b, (size_t)(end - b), "\r\n\r\n", 4);
		if (hdr_end == NULL)
			return -1;
		if (memmem(b, (size_t)(hdr_end - b),
		    "Content-Type: image/jpeg\r\n", 26) != b)
			return -1;
		cl = memmem(b, (size_t)(hdr_end - b), "Content-Length: ", 16);
		if (cl == NULL)
			return -1;
		len = strtoul(cl + 16, NULL, 10);
		b = hdr_end + 4;
		if ((size_t)(end - b) < len + 2 ||
		    memcmp(b + len, "\r\n", 2) != 0)
			return -1;
		GetExceptionInfo(&ex);
		ii = CloneImageInfo(NULL);
		snprintf(ii->magick, sizeof(ii->magick), "JPEG");
		im = BlobToImage(ii, b, len, &ex);
		DestroyImageInfo(ii);
		DestroyExceptionInfo(&ex);
		if (im == NULL || strcmp(im->magick, "JPEG") != 0 ||
		    im->columns != w || im->rows != h) {
			if (im)
				DestroyImage(im);
			return -1;
		}
		DestroyImage(im);
		b += len + 2;
		parts++;
	}
}

#define NEED_FFMPEG() do { if (!have_ffmpeg) skip(); } while (0)

static void
mjpeg_fps_cap_paces_at_the_cap(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;
	int parts;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	run_mjpeg(clip, "format=mjpeg&size=160x120&fps=10", &t, &s, &r);
	assert_int_equal(r.rc, 0);
	parts = check_multipart(&t.m, 160, 120, true);
	assert_in_range(parts, 18, 22);
	/* One flush per part and one for the closing boundary. */
	assert_int_equal(t.flushes, (unsigned)parts + 1);
	assert_true(r.seconds > 1.5 && r.seconds < 4.0);
	membuf_cleanup(&t.m);
}

static void
mjpeg_uncapped_sends_every_frame_in_real_time(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;
	int parts;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	run_mjpeg(clip, "format=mjpeg&size=160x120&q=70", &t, &s, &r);
	assert_int_equal(r.rc, 0);
	parts = check_multipart(&t.m, 160, 120, true);
	assert_in_range(parts, 49, 51);
	assert_true(r.seconds > 1.5 && r.seconds < 4.0);
	membuf_cleanup(&t.m);
}

static void
mjpeg_start_gives_the_second_half(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;
	int parts;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	/* cover: cut to the box; rotate: the render path. */
	run_mjpeg(clip, "format=mjpeg&size=100x100&fit=cover&rotate=90&start=1",
	    &t, &s, &r);
	assert_int_equal(r.rc, 0);
	parts = check_multipart(&t.m, 100, 100, true);
	assert_in_range(parts, 24, 26);
	assert_true(r.seconds > 0.7 && r.seconds < 2.5);
	membuf_cleanup(&t.m);
}

static void
mjpeg_loop_runs_on_until_stopped(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;
	int parts;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	/* 0.5 s a pass: 30 parts go through the end twice. */
	t.stop_after = 30;
	run_mjpeg(clip, "format=mjpeg&size=80x60&start=1.5&loop=1", &t, &s, &r);
	assert_int_equal(r.rc, 0);
	parts = check_multipart(&t.m, 80, 60, true);
	assert_int_equal(parts, 30);
	/* Seamless: 30 frames of 40 ms, no pause at the seams. */
	assert_true(r.seconds > 1.0 && r.seconds < 2.5);
	membuf_cleanup(&t.m);
}

static void
mjpeg_short_stall_is_caught_up(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	/* The client takes nothing for 0.5 s: the frames due meanwhile go
	 * at once after it, and the clip still ends on time. */
	t.stall_at = 10;
	t.stall_us = 500000;
	run_mjpeg(clip, "format=mjpeg&size=80x60", &t, &s, &r);
	assert_int_equal(r.rc, 0);
	assert_in_range(check_multipart(&t.m, 80, 60, true), 49, 51);
	assert_true(r.seconds > 1.7 && r.seconds < 2.8);
	membuf_cleanup(&t.m);
}

static void
mjpeg_long_stall_moves_the_schedule(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	/* 1.5 s: the video pauses there instead of racing through the
	 * frames it missed. */
	t.stall_at = 10;
	t.stall_us = 1500000;
	run_mjpeg(clip, "format=mjpeg&size=80x60", &t, &s, &r);
	assert_int_equal(r.rc, 0);
	assert_in_range(check_multipart(&t.m, 80, 60, true), 49, 51);
	assert_true(r.seconds > 3.2 && r.seconds < 4.6);
	membuf_cleanup(&t.m);
}

static void
mjpeg_client_gone_is_an_error_at_once(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	t.fail_after = 3;
	run_mjpeg(clip, "format=mjpeg&size=80x60", &t, &s, &r);
	assert_int_equal(r.rc, -ERR_GONE);
	assert_string_equal(r.e.msg, "client went away");
	assert_true(r.seconds < 1.0);
	assert_int_equal(check_multipart(&t.m, 80, 60, false), 3);
	membuf_cleanup(&t.m);
}

static void
mjpeg_without_video_writes_nothing(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	run_mjpeg(audio_only, "format=mjpeg", &t, &s, &r);
	assert_int_equal(r.rc, -ERR_UNDECODABLE);
	assert_int_equal(s.written, 0);
	assert_int_equal(t.flushes, 0);
	membuf_cleanup(&t.m);
}

static void
mjpeg_start_past_the_end_is_a_bad_param(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	run_mjpeg(clip, "format=mjpeg&start=5", &t, &s, &r);
	assert_int_equal(r.rc, -ERR_BAD_PARAM);
	assert_int_equal(s.written, 0);
	membuf_cleanup(&t.m);
}

/* ---- transcodes, read back ---- */

struct mem_in {
	const unsigned char *data;
	size_t len, pos;
};

static int
mem_read(void *opaque, uint8_t *buf, int n)
{
	struct mem_in *m = opaque;
	size_t left = m->len - m->pos;

	if (left == 0)
		return AVERROR_EOF;
	if ((size_t)n > left)
		n = (int)left;
	memcpy(buf, m->data + m->pos, (size_t)n);
	m->pos += (size_t)n;
	return n;
}

static int64_t
mem_seek(void *opaque, int64_t off, int whence)
{
	struct mem_in *m = opaque;

	if (whence & AVSEEK_SIZE)
		return (int64_t)m->len;
	whence &= ~AVSEEK_FORCE;
	if (whence == SEEK_CUR)
		off += (int64_t)m->pos;
	else if (whence == SEEK_END)
		off += (int64_t)m->len;
	if (off < 0 || (size_t)off > m->len)
		return AVERROR(EINVAL);
	m->pos = (size_t)off;
	return off;
}

struct decoded {
	const char *vcodec, *acodec;
	int width, height;
	int frames;
	double duration;	/* from the first frame's pts to the last's end */
};

/* Demuxes and decodes the whole video stream of buf. */
static void
decode_back(const struct membuf *buf, struct decoded *d)
{
	struct mem_in m = { buf->data, buf->len, 0 };
	unsigned char *iobuf = av_malloc(65536);
	AVIOContext *pb = avio_alloc_context(iobuf, 65536, 0, &m, mem_read,
	    NULL, mem_seek);
	AVFormatContext *fmt = avformat_alloc_context();
	AVCodecContext *dec;
	const AVCodec *codec;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *f = av_frame_alloc();
	int64_t first = INT64_MAX, last = INT64_MIN;
	int vi, ai, rc;
	AVStream *st;

	memset(d, 0, sizeof(*d));
	fmt->pb = pb;
	assert_int_equal(avformat_open_input(&fmt, NULL, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
	vi = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	assert_true(vi >= 0);
	ai = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
	st = fmt->streams[vi];
	d->vcodec = avcodec_get_name(st->codecpar->codec_id);
	d->acodec = ai >= 0 ?
	    avcodec_get_name(fmt->streams[ai]->codecpar->codec_id) : NULL;
	codec = avcodec_find_decoder(st->codecpar->codec_id);
	dec = avcodec_alloc_context3(codec);
	avcodec_parameters_to_context(dec, st->codecpar);
	dec->pkt_timebase = st->time_base;
	assert_int_equal(avcodec_open2(dec, codec, NULL), 0);
	for (;;) {
		bool eof = av_read_frame(fmt, pkt) < 0;

		if (!eof && pkt->stream_index != vi) {
			av_packet_unref(pkt);
			continue;
		}
		avcodec_send_packet(dec, eof ? NULL : pkt);
		av_packet_unref(pkt);
		while ((rc = avcodec_receive_frame(dec, f)) == 0) {
			int64_t pts = f->best_effort_timestamp;

			d->width = f->width;
			d->height = f->height;
			d->frames++;
			if (pts < first)
				first = pts;
			if (pts > last)
				last = pts;
			av_frame_unref(f);
		}
		if (eof)
			break;
	}
	d->duration = (double)(last - first) * av_q2d(st->time_base) + 0.04;
	av_frame_free(&f);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	av_freep(&pb->buffer);
	avio_context_free(&pb);
}

static void
run_transcode_of(const char *path, const char *query, struct tsink *t,
    struct sink *s, struct run_result *r)
{
	struct vid_job job;
	struct params p;
	double t0;
	int fd = open_job(path, query, &p, &job, &t->stop);

	err_init(&r->e);
	t0 = clock_s();
	r->rc = vstream_transcode(&job, s, &r->e);
	r->seconds = clock_s() - t0;
	close(fd);
}

static void
run_transcode(const char *query, struct tsink *t, struct sink *s,
    struct run_result *r)
{
	run_transcode_of(clip, query, t, s, r);
}

static void
transcode_mp4_is_fragmented_h264_aac(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;
	struct decoded d;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	run_transcode("format=mp4&size=160x120", &t, &s, &r);
	assert_int_equal(r.rc, 0);
	assert_true(t.m.len > 1000);
	assert_memory_equal(t.m.data + 4, "ftyp", 4);
	assert_non_null(memmem(t.m.data, t.m.len, "moov", 4));
	assert_non_null(memmem(t.m.data, t.m.len, "moof", 4));
	/* Not paced: far faster than the clip plays. */
	assert_true(r.seconds < 2.0);
	/* Flushed fragment by fragment, not once at the end. */
	assert_true(t.flushes >= 2);
	decode_back(&t.m, &d);
	assert_string_equal(d.vcodec, "h264");
	assert_non_null(d.acodec);
	assert_string_equal(d.acodec, "aac");
	assert_int_equal(d.width, 160);
	assert_int_equal(d.height, 120);
	assert_in_range(d.frames, 49, 51);
	assert_true(d.duration > 1.9 && d.duration < 2.1);
	membuf_cleanup(&t.m);
}

static void
transcode_webm_is_vp8_opus(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;
	struct decoded d;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	/* Odd sizes: the encoders get even ones. */
	run_transcode("format=webm&size=161x121&fit=fill", &t, &s, &r);
	assert_int_equal(r.rc, 0);
	assert_memory_equal(t.m.data, "\x1a\x45\xdf\xa3", 4);
	assert_non_null(memmem(t.m.data, t.m.len, "webm", 4));
	decode_back(&t.m, &d);
	assert_string_equal(d.vcodec, "vp8");
	assert_non_null(d.acodec);
	assert_true(strcmp(d.acodec, "opus") == 0 ||
	    strcmp(d.acodec, "vorbis") == 0);
	assert_int_equal(d.width, 160);
	assert_int_equal(d.height, 120);
	assert_in_range(d.frames, 49, 51);
	assert_true(d.duration > 1.9 && d.duration < 2.1);
	membuf_cleanup(&t.m);
}

static void
transcode_from_start_with_fps_cap_and_turn(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;
	struct decoded d;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	run_transcode("format=mp4&size=120x120&rotate=90&start=1&fps=10", &t,
	    &s, &r);
	assert_int_equal(r.rc, 0);
	decode_back(&t.m, &d);
	/* 240x320 after the turn, inside 120x120: 90x120. */
	assert_int_equal(d.width, 90);
	assert_int_equal(d.height, 120);
	assert_in_range(d.frames, 9, 11);
	assert_true(d.duration > 0.8 && d.duration < 1.2);
	membuf_cleanup(&t.m);
}

static void
transcode_mpegts_from_start_and_from_the_middle(void **state)
{
	static const struct { const char *query; int lo, hi; } c[] = {
		{ "format=webm&size=160x120", 49, 51 },
		/* The seek lands past 1 s or finds no keyframe: tried
		 * again earlier, then from the start. */
		{ "format=mp4&size=160x120&start=1", 24, 26 },
	};

	(void)state;
	NEED_FFMPEG();
	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct tsink t;
		struct sink s;
		struct run_result r;
		struct decoded d;

		tsink_init(&t, &s);
		run_transcode_of(clip_ts, c[i].query, &t, &s, &r);
		assert_int_equal(r.rc, 0);
		decode_back(&t.m, &d);
		assert_in_range(d.frames, c[i].lo, c[i].hi);
		membuf_cleanup(&t.m);
	}
}

static void
transcode_stop_ends_a_playable_file(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;
	struct decoded d;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	/* Stopped at the first flush (the header): the file still ends
	 * with what was encoded and its trailer. */
	t.stop_after = 1;
	run_transcode("format=mp4&size=160x120", &t, &s, &r);
	assert_int_equal(r.rc, 0);
	decode_back(&t.m, &d);
	assert_in_range(d.frames, 1, 10);
	membuf_cleanup(&t.m);
}

static void
transcode_client_gone_is_an_error(void **state)
{
	struct tsink t;
	struct sink s;
	struct run_result r;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	t.fail_after = 1;
	run_transcode("format=webm&size=160x120", &t, &s, &r);
	assert_int_equal(r.rc, -ERR_GONE);
	assert_string_equal(r.e.msg, "client went away");
	membuf_cleanup(&t.m);
}

static void
transcode_without_video_writes_nothing(void **state)
{
	struct tsink t;
	struct sink s;
	struct vid_job job;
	struct params p;
	struct err e;
	int fd;

	(void)state;
	NEED_FFMPEG();
	tsink_init(&t, &s);
	fd = open_job(audio_only, "format=mp4", &p, &job, NULL);
	err_init(&e);
	assert_int_equal(vstream_transcode(&job, &s, &e), -ERR_UNDECODABLE);
	assert_int_equal(s.written, 0);
	close(fd);
	membuf_cleanup(&t.m);
}

/* ---- the pixel limits, before the first byte ---- */

/* An over-limit size is a 413 naming the limit, and nothing is written:
 * the status can still be the answer. */
static void
expect_413_before_a_byte(const char *query, unsigned long long max_output,
    const char *msg)
{
	struct tsink t;
	struct sink s;
	struct vid_job job;
	struct params p;
	struct err e;
	int fd, rc;

	tsink_init(&t, &s);
	fd = open_job(clip, query, &p, &job, NULL);
	job.limits.img.max_output_pixels = max_output;
	err_init(&e);
	rc = p.format == OUT_MJPEG ? vstream_mjpeg(&job, BOUNDARY, &s, &e) :
	    vstream_transcode(&job, &s, &e);
	if (rc != -ERR_TOO_LARGE || strstr(e.msg, msg) == NULL)
		fail_msg("%s: rc %d \"%s\", want 413 \"%s\"", query, rc, e.msg,
		    msg);
	assert_int_equal(s.written, 0);
	assert_int_equal(t.flushes, 0);
	close(fd);
	membuf_cleanup(&t.m);
}

static void
streams_over_the_pixel_limits_write_nothing(void **state)
{
	(void)state;
	NEED_FFMPEG();
	expect_413_before_a_byte("format=mjpeg&size=16384x1&fit=cover&enlarge=1",
	    25000000, "intermediate 16384x12288 is over the limit of "
	    "100000000 pixels");
	expect_413_before_a_byte("format=mjpeg&size=16384x4&fit=fill&enlarge=1"
	    "&dpr=4", 25000000, "over the limit of 65535 pixels a side");
	expect_413_before_a_byte("format=mp4&size=16384x16384&enlarge=1",
	    25000000, "output 16384x12288 is over the limit of 9437184 pixels");
	expect_413_before_a_byte("format=mp4&size=16384x2&fit=fill&enlarge=1"
	    "&dpr=2", 0, "over the limit of 16384 pixels a side of H.264");
	expect_413_before_a_byte("format=webm&size=16384x1&fit=fill&enlarge=1",
	    0, "output 16384x1 is over the limit of 16383 pixels a side of VP8");
	expect_413_before_a_byte("format=webm&size=1x8000&fit=cover&enlarge=1"
	    "&rotate=90", 25000000, "intermediate");
}

static void
mime_types(void **state)
{
	(void)state;
	assert_string_equal(vstream_mime(OUT_MP4), "video/mp4");
	assert_string_equal(vstream_mime(OUT_WEBM), "video/webm");
	assert_string_equal(vstream_mime(OUT_MJPEG), "multipart/x-mixed-replace");
	assert_null(vstream_mime(OUT_JPEG));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mime_types),
		cmocka_unit_test(mjpeg_fps_cap_paces_at_the_cap),
		cmocka_unit_test(mjpeg_uncapped_sends_every_frame_in_real_time),
		cmocka_unit_test(mjpeg_start_gives_the_second_half),
		cmocka_unit_test(mjpeg_loop_runs_on_until_stopped),
		cmocka_unit_test(mjpeg_short_stall_is_caught_up),
		cmocka_unit_test(mjpeg_long_stall_moves_the_schedule),
		cmocka_unit_test(mjpeg_client_gone_is_an_error_at_once),
		cmocka_unit_test(mjpeg_without_video_writes_nothing),
		cmocka_unit_test(mjpeg_start_past_the_end_is_a_bad_param),
		cmocka_unit_test(transcode_mp4_is_fragmented_h264_aac),
		cmocka_unit_test(transcode_webm_is_vp8_opus),
		cmocka_unit_test(transcode_from_start_with_fps_cap_and_turn),
		cmocka_unit_test(transcode_mpegts_from_start_and_from_the_middle),
		cmocka_unit_test(transcode_stop_ends_a_playable_file),
		cmocka_unit_test(transcode_client_gone_is_an_error),
		cmocka_unit_test(transcode_without_video_writes_nothing),
		cmocka_unit_test(streams_over_the_pixel_limits_write_nothing),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
