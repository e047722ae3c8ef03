/*
 * livesrc: live inputs in-process. Files made at test time by the ffmpeg
 * command line tool (1 s at 25 fps: MJPEG in AVI, H.264 with B-frames in
 * MP4) in a mkdtemp directory removed at the end are played in a loop at
 * their pace; an MJPEG feed served over HTTP by a thread of the test
 * (multipart parts of the AVI's frames) is passed through byte for byte,
 * ends, stalls and is stopped; a listener that never answers is timed out
 * and stopped. When the shared peers' synthetic camera is there
 * (../shared/peers/live/feed.py) it is started on a free port and read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <magick/api.h>

#include "core/clock.h"
#include "live/livesrc.h"
#include "support.h"

#define FFMPEG	"/usr/bin/ffmpeg"
#define PYTHON	"/usr/bin/python3"
/* The peers rig beside the repository (make runs the tests from its root). */
#define FEED_PY	"../shared/peers/live/feed.py"
#define MAX_PKTS 64

extern char **environ;

static char dir[64];
static char mjpeg_avi[PATH_MAX], h264_mp4[PATH_MAX], clock_json[PATH_MAX];
static bool have_ffmpeg;

/* The AVI's packets, as a reference for passthrough. */
static struct { unsigned char *data; size_t len; } pkts[MAX_PKTS];
static int npkts;

static int
read_packets(const char *path)
{
	AVFormatContext *fmt = NULL;
	AVPacket *pkt = av_packet_alloc();

	if (avformat_open_input(&fmt, path, NULL, NULL) < 0)
		return -1;
	while (npkts < MAX_PKTS && av_read_frame(fmt, pkt) >= 0) {
		pkts[npkts].data = malloc((size_t)pkt->size);
		memcpy(pkts[npkts].data, pkt->data, (size_t)pkt->size);
		pkts[npkts].len = (size_t)pkt->size;
		npkts++;
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	avformat_close_input(&fmt);
	return npkts > 0 ? 0 : -1;
}

static int
group_setup(void **state)
{
	char *mk_avi[] = { FFMPEG, "-nostdin", "-y", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "1",
		"-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p", mjpeg_avi,
		NULL };
	char *mk_mp4[] = { FFMPEG, "-nostdin", "-y", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "1",
		"-c:v", "libx264", "-preset", "ultrafast", "-bf", "2",
		"-pix_fmt", "yuv420p", h264_mp4, NULL };

	(void)state;
	if (livesrc_init() < 0)
		return -1;
	have_ffmpeg = access(FFMPEG, X_OK) == 0;
	snprintf(dir, sizeof(dir), "/tmp/test_livesrc.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(mjpeg_avi, sizeof(mjpeg_avi), "%s/mjpeg.avi", dir);
	snprintf(h264_mp4, sizeof(h264_mp4), "%s/h264.mp4", dir);
	snprintf(clock_json, sizeof(clock_json), "%s/clock.json", dir);
	if (!have_ffmpeg)
		return 0;
	if (sup_run(mk_avi) < 0 || sup_run(mk_mp4) < 0 || read_packets(mjpeg_avi) < 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < npkts; i++)
		free(pkts[i].data);
	unlink(mjpeg_avi);
	unlink(h264_mp4);
	unlink(clock_json);
	rmdir(dir);
	return 0;
}

#define NEED_FFMPEG() do { if (!have_ffmpeg) skip(); } while (0)

/* Decodes buf as a JPEG: its size, or false. */
static bool
jpeg_size(const unsigned char *buf, size_t len, unsigned *w, unsigned *h)
{
	ExceptionInfo ex;
	ImageInfo *ii = CloneImageInfo(NULL);
	Image *im;
	bool ok;

	GetExceptionInfo(&ex);
	snprintf(ii->magick, sizeof(ii->magick), "JPEG");
	im = BlobToImage(ii, buf, len, &ex);
	ok = im != NULL && strcmp(im->magick, "JPEG") == 0;
	if (ok) {
		*w = (unsigned)im->columns;
		*h = (unsigned)im->rows;
	}
	if (im)
		DestroyImage(im);
	DestroyImageInfo(ii);
	DestroyExceptionInfo(&ex);
	return ok;
}

static int
ref_index(const unsigned char *buf, size_t len)
{
	for (int i = 0; i < npkts; i++)
		if (pkts[i].len == len && memcmp(pkts[i].data, buf, len) == 0)
			return i;
	return -1;
}

static void
file_loops_at_its_own_pace(void **state)
{
	struct livesrc_cfg cfg = { .input = h264_mp4, .width = 160,
	    .height = 160, .quality = 70 };
	struct livesrc *ls;
	struct err e;
	uint64_t pts, first_pts = 0, last_pts = 0, frames, passed;
	double t0;

	(void)state;
	NEED_FFMPEG();
	err_init(&e);
	ls = livesrc_open(&cfg, &e);
	assert_non_null(ls);
	t0 = clock_s();
	/* 60 frames of a 25-frame file: through its end twice. */
	for (int i = 0; i < 60; i++) {
		const unsigned char *jpeg;
		size_t len;
		unsigned w, h;

		assert_int_equal(livesrc_next(ls, &jpeg, &len, &pts, &e), 0);
		assert_true(jpeg_size(jpeg, len, &w, &h));
		assert_int_equal(w, 160);
		assert_int_equal(h, 120);
		if (i == 0)
			first_pts = pts;
		assert_true(pts >= last_pts);
		last_pts = pts;
	}
	/* 59 intervals of 40 ms, the seams included. */
	assert_true(clock_s() - t0 > 2.0 && clock_s() - t0 < 3.2);
	assert_true(last_pts - first_pts > 2200000 &&
	    last_pts - first_pts < 2600000);
	livesrc_counts(ls, &frames, &passed);
	assert_int_equal(frames, 60);
	assert_int_equal(passed, 0);
	livesrc_close(ls);
}

static void
mjpeg_file_passes_through_byte_identical(void **state)
{
	/* No box, and a box the frames already fit: both as they are. */
	struct livesrc_cfg cfgs[] = {
		{ .input = mjpeg_avi },
		{ .input = mjpeg_avi, .width = 320, .height = 240 },
		{ .input = mjpeg_avi, .width = 640, .height = 480 },
	};

	(void)state;
	NEED_FFMPEG();
	for (size_t c = 0; c < sizeof(cfgs) / sizeof(*cfgs); c++) {
		struct livesrc *ls;
		struct err e;
		uint64_t pts, frames, passed;

		err_init(&e);
		ls = livesrc_open(&cfgs[c], &e);
		assert_non_null(ls);
		for (int i = 0; i < npkts + 3; i++) {
			const unsigned char *jpeg;
			size_t len;

			assert_int_equal(livesrc_next(ls, &jpeg, &len, &pts, &e),
			    0);
			/* In order, and round again. */
			assert_int_equal(ref_index(jpeg, len), i % npkts);
		}
		livesrc_counts(ls, &frames, &passed);
		assert_int_equal(passed, frames);
		livesrc_close(ls);
	}
}

static void
mjpeg_file_of_another_size_is_reencoded(void **state)
{
	struct livesrc_cfg cfg = { .input = mjpeg_avi, .width = 160,
	    .height = 160 };
	struct livesrc *ls;
	struct err e;
	uint64_t pts, frames, passed;

	(void)state;
	NEED_FFMPEG();
	err_init(&e);
	ls = livesrc_open(&cfg, &e);
	assert_non_null(ls);
	for (int i = 0; i < 5; i++) {
		const unsigned char *jpeg;
		size_t len;
		unsigned w, h;

		assert_int_equal(livesrc_next(ls, &jpeg, &len, &pts, &e), 0);
		assert_int_equal(ref_index(jpeg, len), -1);
		assert_true(jpeg_size(jpeg, len, &w, &h));
		assert_int_equal(w, 160);
		assert_int_equal(h, 120);
	}
	livesrc_counts(ls, &frames, &passed);
	assert_int_equal(passed, 0);
	livesrc_close(ls);
}

static void
fps_cap_drops_frames_but_still_passes_through(void **state)
{
	struct livesrc_cfg cfg = { .input = mjpeg_avi, .fps = 10 };
	struct livesrc *ls;
	struct err e;
	uint64_t pts;
	int last = -1;
	double t0;

	(void)state;
	NEED_FFMPEG();
	err_init(&e);
	ls = livesrc_open(&cfg, &e);
	assert_non_null(ls);
	t0 = clock_s();
	for (int i = 0; i < 15; i++) {
		const unsigned char *jpeg;
		size_t len;
		int k;

		assert_int_equal(livesrc_next(ls, &jpeg, &len, &pts, &e), 0);
		k = ref_index(jpeg, len);
		assert_true(k >= 0);
		/* Frames are skipped: 2 or 3 input frames a step. */
		if (last >= 0)
			assert_in_range((k - last + npkts) % npkts, 2, 3);
		last = k;
	}
	/* 14 intervals at 10 a second. */
	assert_true(clock_s() - t0 > 1.2 && clock_s() - t0 < 2.0);
	livesrc_close(ls);
}

static void
missing_input_fails_quickly(void **state)
{
	struct livesrc_cfg cfg = { .input = "/nonexistent/camera.mp4" };
	struct livesrc_cfg refused = { .input = "http://127.0.0.1:1/feed.mjpg" };
	struct livesrc_cfg unknown = { .input = "/dev/null", .format = "nope" };
	struct err e;
	double t0 = clock_s();

	(void)state;
	err_init(&e);
	assert_null(livesrc_open(&cfg, &e));
	assert_int_equal(e.kind, ERR_BAD_GATEWAY);
	assert_non_null(strstr(e.msg, "/nonexistent/camera.mp4"));
	err_init(&e);
	assert_null(livesrc_open(&refused, &e));
	assert_int_equal(e.kind, ERR_BAD_GATEWAY);
	err_init(&e);
	assert_null(livesrc_open(&unknown, &e));
	assert_true(clock_s() - t0 < 1.0);
}

/* ---- an MJPEG feed served by a thread of the test ---- */

struct feed {
	int lfd, port;
	int frames;		/* parts to send */
	bool stall;		/* then keep the connection open, silent */
	bool answer;		/* false: never accept (a hung server) */
	pthread_t th;
};

static void *
feed_main(void *arg)
{
	struct feed *f = arg;
	static const char head[] = "HTTP/1.0 200 OK\r\nContent-Type: "
	    "multipart/x-mixed-replace; boundary=frame\r\n\r\n";
	char req[2048];
	int c = accept(f->lfd, NULL, NULL);

	if (c < 0)
		return NULL;
	(void)!read(c, req, sizeof(req));
	(void)!write(c, head, sizeof(head) - 1);
	for (int i = 0; i < f->frames; i++) {
		char part[128];
		int n = snprintf(part, sizeof(part), "--frame\r\nContent-Type: "
		    "image/jpeg\r\nContent-Length: %zu\r\n\r\n",
		    pkts[i % npkts].len);

		if (write(c, part, (size_t)n) != n ||
		    write(c, pkts[i % npkts].data, pkts[i % npkts].len) !=
		    (ssize_t)pkts[i % npkts].len || write(c, "\r\n", 2) != 2)
			break;
		usleep(20000);
	}
	/* Stalled: silent until the client hangs up. */
	while (f->stall && read(c, req, sizeof(req)) > 0)
		;
	close(c);
	return NULL;
}

static void
feed_start(struct feed *f)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
	f->port = ntohs(a.sin_port);
	if (f->answer)
		assert_int_equal(pthread_create(&f->th, NULL, feed_main, f), 0);
}

static void
feed_stop(struct feed *f)
{
	if (f->answer)
		pthread_join(f->th, NULL);
	close(f->lfd);
}

static void
http_feed_passes_through_then_ends(void **state)
{
	struct feed f = { .frames = 10, .answer = true };
	struct livesrc_cfg cfg = { 0 };
	char url[64];
	struct livesrc *ls;
	struct err e;
	uint64_t pts, frames, passed;
	const unsigned char *jpeg;
	size_t len;
	int rc;

	(void)state;
	NEED_FFMPEG();
	feed_start(&f);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed.mjpg", f.port);
	cfg.input = url;
	err_init(&e);
	ls = livesrc_open(&cfg, &e);
	assert_non_null(ls);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(livesrc_next(ls, &jpeg, &len, &pts, &e), 0);
		assert_int_equal(ref_index(jpeg, len), i % npkts);
	}
	/* The server closed: the end of the input, not an error. */
	rc = livesrc_next(ls, &jpeg, &len, &pts, &e);
	if (rc != 1)
		print_error("end: %s\n", e.msg);
	assert_int_equal(rc, 1);
	livesrc_counts(ls, &frames, &passed);
	assert_int_equal(frames, 10);
	assert_int_equal(passed, 10);
	livesrc_close(ls);
	feed_stop(&f);
}

static volatile int stop_flag;

static void *
stop_later(void *arg)
{
	(void)arg;
	usleep(300000);
	stop_flag = 1;
	return NULL;
}

static void
stop_interrupts_a_blocked_read(void **state)
{
	struct feed f = { .frames = 1, .stall = true, .answer = true };
	struct livesrc_cfg cfg = { .timeout_ms = 10000, .stop = &stop_flag };
	const unsigned char *jpeg;
	struct livesrc *ls;
	char url[64];
	struct err e;
	uint64_t pts;
	size_t len;
	pthread_t th;
	double t0;

	(void)state;
	NEED_FFMPEG();
	stop_flag = 0;
	feed_start(&f);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cam.mjpeg?x=1", f.port);
	cfg.input = url;
	err_init(&e);
	ls = livesrc_open(&cfg, &e);
	assert_non_null(ls);
	assert_int_equal(livesrc_next(ls, &jpeg, &len, &pts, &e), 0);
	assert_int_equal(ref_index(jpeg, len), 0);
	t0 = clock_s();
	pthread_create(&th, NULL, stop_later, NULL);
	assert_int_equal(livesrc_next(ls, &jpeg, &len, &pts, &e), 1);
	assert_true(clock_s() - t0 > 0.25 && clock_s() - t0 < 1.0);
	pthread_join(th, NULL);
	livesrc_close(ls);
	feed_stop(&f);
}

static void
stop_interrupts_a_blocked_open(void **state)
{
	struct feed f = { .answer = false };
	struct livesrc_cfg cfg = { .timeout_ms = 10000, .stop = &stop_flag };
	char url[64];
	struct err e;
	pthread_t th;
	double t0;

	(void)state;
	stop_flag = 0;
	feed_start(&f);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed.mjpg", f.port);
	cfg.input = url;
	err_init(&e);
	t0 = clock_s();
	pthread_create(&th, NULL, stop_later, NULL);
	assert_null(livesrc_open(&cfg, &e));
	assert_true(clock_s() - t0 > 0.25 && clock_s() - t0 < 1.0);
	assert_string_equal(e.msg, "stopped");
	pthread_join(th, NULL);
	feed_stop(&f);
}

static void
silent_input_times_out(void **state)
{
	struct feed f = { .answer = false };
	struct livesrc_cfg cfg = { .timeout_ms = 700 };
	char url[64];
	struct err e;
	double t0;

	(void)state;
	feed_start(&f);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed.mjpg", f.port);
	cfg.input = url;
	err_init(&e);
	t0 = clock_s();
	assert_null(livesrc_open(&cfg, &e));
	assert_int_equal(e.kind, ERR_TIMEOUT);
	assert_true(clock_s() - t0 > 0.6 && clock_s() - t0 < 2.0);
	feed_stop(&f);
}

/* ---- the peers' synthetic camera, when it is there ---- */

static pid_t feed_pid;

static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool
port_answers(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	close(fd);
	return ok;
}

static void
peers_feed_read_live(void **state)
{
	char port_s[16], url[64];
	char *argv[] = { PYTHON, FEED_PY, "--port", port_s, "--clock",
		clock_json, NULL };
	posix_spawn_file_actions_t fa;
	struct livesrc_cfg pass = { 0 }, scaled = { .width = 320, .height = 320 };
	int port = free_port();

	(void)state;
	if (access(FEED_PY, R_OK) != 0 || access(PYTHON, X_OK) != 0)
		skip();
	snprintf(port_s, sizeof(port_s), "%d", port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed.mjpg", port);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawn(&feed_pid, PYTHON, &fa, NULL, argv,
	    environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 100 && !port_answers(port); i++)
		usleep(100000);
	if (!port_answers(port)) {
		print_message("feed.py did not start (Pillow missing?)\n");
		skip();
	}
	pass.input = scaled.input = url;
	for (int c = 0; c < 2; c++) {
		struct livesrc_cfg *cfg = c == 0 ? &pass : &scaled;
		struct livesrc *ls;
		struct err e;
		uint64_t pts, frames, passed;
		double t0;

		err_init(&e);
		ls = livesrc_open(cfg, &e);
		if (ls == NULL)
			print_error("feed: %s\n", e.msg);
		assert_non_null(ls);
		t0 = clock_s();
		for (int i = 0; i < 30; i++) {
			const unsigned char *jpeg;
			size_t len;
			unsigned w, h;

			assert_int_equal(livesrc_next(ls, &jpeg, &len, &pts, &e),
			    0);
			assert_true(jpeg_size(jpeg, len, &w, &h));
			assert_int_equal(w, c == 0 ? 640 : 320);
			assert_int_equal(h, c == 0 ? 360 : 180);
		}
		/* A 30 fps camera: about a second (the first frame comes
		 * at once). */
		assert_true(clock_s() - t0 > 0.7 && clock_s() - t0 < 2.0);
		livesrc_counts(ls, &frames, &passed);
		assert_int_equal(passed, c == 0 ? frames : 0);
		livesrc_close(ls);
	}
}

/* The camera is stopped whatever the test's outcome. */
static int
peers_feed_stop(void **state)
{
	int st;

	(void)state;
	if (feed_pid > 0) {
		kill(feed_pid, SIGTERM);
		waitpid(feed_pid, &st, 0);
		feed_pid = 0;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_loops_at_its_own_pace),
		cmocka_unit_test(mjpeg_file_passes_through_byte_identical),
		cmocka_unit_test(mjpeg_file_of_another_size_is_reencoded),
		cmocka_unit_test(fps_cap_drops_frames_but_still_passes_through),
		cmocka_unit_test(missing_input_fails_quickly),
		cmocka_unit_test(http_feed_passes_through_then_ends),
		cmocka_unit_test(stop_interrupts_a_blocked_read),
		cmocka_unit_test(stop_interrupts_a_blocked_open),
		cmocka_unit_test(silent_input_times_out),
		cmocka_unit_test_teardown(peers_feed_read_live, peers_feed_stop),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
