/*
 * livesrc's inputs beyond a URL: a lavfi graph through libavdevice (paced
 * at its own rate, its size from the graph or from the `graph` option),
 * options the open refuses (a key the format does not take, a value it
 * does not parse), v4l2:PATH naming the v4l2 device, and a listening
 * tcp:// input that waits past the read timeout for its pusher, reads a
 * raw MJPEG push as it comes, ends with it, listens again for the next
 * one and gives up on *stop. The pushed JPEGs are made by livesrc itself
 * from a lavfi graph; the pusher is a thread of the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "live/jpeg_plain.h"
#include "live/livesrc.h"
#include "support.h"

#define NPUSH	12

/* The pusher's frames: 12 JPEGs of 128x96. */
static struct { unsigned char *data; size_t len; } push[NPUSH];
static volatile int stop_flag;

static void
sleep_s(double s)
{
	struct timespec ts = { (time_t)s,
	    (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* The next frame of ls, its size checked: w x h. */
static void
next_of_size(struct livesrc *ls, unsigned w, unsigned h,
    const unsigned char **jpeg, size_t *len)
{
	uint64_t pts;
	unsigned fw = 0, fh = 0;
	struct err e;

	err_init(&e);
	if (livesrc_next(ls, jpeg, len, &pts, &e) != 0)
		fail_msg("next: %s", e.msg);
	assert_true(jpeg_plain_size(*jpeg, *len, &fw, &fh));
	assert_int_equal(fw, w);
	assert_int_equal(fh, h);
}

static int
group_setup(void **state)
{
	struct livesrc_cfg cfg = { .input = "testsrc2=size=128x96:rate=25",
	    .format = "lavfi", .quality = 60 };
	struct livesrc *ls;
	struct err e;

	(void)state;
	if (livesrc_init() < 0)
		return -1;
	err_init(&e);
	if ((ls = livesrc_open(&cfg, &e)) == NULL) {
		fprintf(stderr, "lavfi: %s\n", e.msg);
		return -1;
	}
	for (int i = 0; i < NPUSH; i++) {
		const unsigned char *jpeg;
		size_t len;

		next_of_size(ls, 128, 96, &jpeg, &len);
		push[i].data = malloc(len);
		memcpy(push[i].data, jpeg, len);
		push[i].len = len;
	}
	livesrc_close(ls);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NPUSH; i++)
		free(push[i].data);
	return 0;
}

static void
lavfi_graph_plays_at_its_rate(void **state)
{
	struct livesrc_cfg cfg = { .input = "testsrc2=size=160x120:rate=10",
	    .format = "lavfi" };
	const unsigned char *jpeg, *first;
	size_t len, first_len;
	unsigned char *copy;
	struct livesrc *ls;
	struct err e;
	double t0;

	(void)state;
	err_init(&e);
	ls = livesrc_open(&cfg, &e);
	if (ls == NULL)
		fail_msg("open: %s", e.msg);
	next_of_size(ls, 160, 120, &first, &first_len);
	copy = malloc(first_len);
	memcpy(copy, first, first_len);
	t0 = clock_s();
	for (int i = 0; i < 5; i++)
		next_of_size(ls, 160, 120, &jpeg, &len);
	/* 5 intervals of 100 ms: a generator is paced, not read flat out. */
	assert_true(clock_s() - t0 > 0.4 && clock_s() - t0 < 0.8);
	/* testsrc2 moves. */
	assert_false(len == first_len && memcmp(jpeg, copy, len) == 0);
	free(copy);
	livesrc_close(ls);
}

static void
lavfi_graph_option_and_box(void **state)
{
	struct livesrc_cfg cfg = { .input = "-", .format = "lavfi",
	    .options = "graph=\"testsrc2=size=96x64:rate=25\"",
	    .width = 48, .height = 48 };
	const unsigned char *jpeg;
	size_t len;
	struct livesrc *ls;
	struct err e;

	(void)state;
	err_init(&e);
	ls = livesrc_open(&cfg, &e);
	if (ls == NULL)
		fail_msg("open: %s", e.msg);
	next_of_size(ls, 48, 32, &jpeg, &len);
	livesrc_close(ls);
}

static void
option_the_format_does_not_take_fails_open(void **state)
{
	struct livesrc_cfg cfg = { .input = "testsrc2", .format = "lavfi",
	    .options = "video_size=64x48" };
	struct err e;

	(void)state;
	err_init(&e);
	assert_null(livesrc_open(&cfg, &e));
	assert_non_null(strstr(e.msg, "option video_size: not one of lavfi's"));
}

static void
option_value_libav_refuses_fails_open(void **state)
{
	struct livesrc_cfg cfg = { .input = "-", .format = "lavfi",
	    .options = "graph=nosuchfilter" };
	struct err e;

	(void)state;
	err_init(&e);
	assert_null(livesrc_open(&cfg, &e));
	assert_int_equal(e.kind, ERR_BAD_GATEWAY);
	assert_non_null(strstr(e.msg, "cannot open"));
}

static void
bad_options_syntax_fails_open(void **state)
{
	struct livesrc_cfg cfg = { .input = "testsrc2", .format = "lavfi",
	    .options = "graph" };
	struct err e;

	(void)state;
	err_init(&e);
	assert_null(livesrc_open(&cfg, &e));
	assert_non_null(strstr(e.msg, "options: expected key=value"));
}

/* "v4l2:PATH" is the device at PATH, not a protocol named v4l2. */
static void
v4l2_prefix_names_the_device(void **state)
{
	struct livesrc_cfg cfg = { .input = "v4l2:/dev/video-none" };
	struct err e;

	(void)state;
	err_init(&e);
	assert_null(livesrc_open(&cfg, &e));
	assert_int_equal(e.kind, ERR_BAD_GATEWAY);
	assert_null(strstr(e.msg, "Protocol not found"));
	assert_non_null(strstr(e.msg, "No such file or directory"));
	cfg.input = "/dev/video-none";
	err_init(&e);
	assert_null(livesrc_open(&cfg, &e));
	assert_non_null(strstr(e.msg, "No such file or directory"));
}

static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

struct pusher {
	int port;
	double delay;		/* s before the first try */
	int frames;		/* pushed, 25 a second */
	bool connected;
};

/* Connects (retrying for 5 s: the input may not listen yet), pushes
 * frames as one raw MJPEG stream, closes. */
static void *
pusher_run(void *arg)
{
	struct pusher *p = arg;
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)p->port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	double until;
	int fd = -1;

	sleep_s(p->delay);
	until = clock_s() + 5;
	while (clock_s() < until) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		close(fd);
		fd = -1;
		sleep_s(0.05);
	}
	if (fd < 0)
		return NULL;
	p->connected = true;
	for (int i = 0; i < p->frames; i++) {
		int k = i % NPUSH;

		if (write(fd, push[k].data, push[k].len) !=
		    (ssize_t)push[k].len)
			break;
		sleep_s(0.04);
	}
	close(fd);
	return NULL;
}

/* One push into ls's listener: every frame of it read, then the end. */
static void
read_one_push(const struct livesrc_cfg *cfg, int port, double delay)
{
	struct pusher p = { .port = port, .delay = delay, .frames = 20 };
	const unsigned char *jpeg;
	struct livesrc *ls;
	struct err e;
	uint64_t pts;
	size_t len;
	pthread_t th;
	int n = 0, rc;
	double t0 = clock_s();

	pthread_create(&th, NULL, pusher_run, &p);
	err_init(&e);
	ls = livesrc_open(cfg, &e);
	if (ls == NULL)
		fail_msg("open: %s", e.msg);
	/* It waited for the pusher, past its read timeout. */
	assert_true(p.connected);
	assert_true(clock_s() - t0 >= delay);
	while ((rc = livesrc_next(ls, &jpeg, &len, &pts, &e)) == 0) {
		unsigned w, h;

		assert_true(jpeg_plain_size(jpeg, len, &w, &h));
		assert_int_equal(w, 128);
		n++;
	}
	if (rc < 0)
		fail_msg("next: %s", e.msg);
	/* The push's frames after the few the open's probe took. */
	assert_true(n >= 15 && n <= 20);
	livesrc_close(ls);
	pthread_join(th, NULL);
}

static void
listening_input_waits_for_each_pusher(void **state)
{
	int port = free_port();
	char url[80];
	struct livesrc_cfg cfg = { .format = "mjpeg", .timeout_ms = 300 };

	(void)state;
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d?listen=1", port);
	cfg.input = url;
	read_one_push(&cfg, port, 1.0);
	/* Again, as the reader does after the end: the next pusher. */
	read_one_push(&cfg, port, 0.5);
	/* listen=1 in options works the same. */
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	cfg.options = "listen=1";
	read_one_push(&cfg, port, 0.5);
}

static void *
stop_later(void *arg)
{
	(void)arg;
	sleep_s(0.8);
	stop_flag = 1;
	return NULL;
}

static void
stop_ends_the_wait_for_a_pusher(void **state)
{
	char url[80];
	struct livesrc_cfg cfg = { .format = "mjpeg", .timeout_ms = 200,
	    .stop = &stop_flag };
	struct err e;
	pthread_t th;
	double t0;

	(void)state;
	stop_flag = 0;
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d?listen=1", free_port());
	cfg.input = url;
	err_init(&e);
	t0 = clock_s();
	pthread_create(&th, NULL, stop_later, NULL);
	assert_null(livesrc_open(&cfg, &e));
	assert_true(clock_s() - t0 > 0.7 && clock_s() - t0 < 1.5);
	assert_string_equal(e.msg, "stopped");
	pthread_join(th, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lavfi_graph_plays_at_its_rate),
		cmocka_unit_test(lavfi_graph_option_and_box),
		cmocka_unit_test(option_the_format_does_not_take_fails_open),
		cmocka_unit_test(option_value_libav_refuses_fails_open),
		cmocka_unit_test(bad_options_syntax_fails_open),
		cmocka_unit_test(v4l2_prefix_names_the_device),
		cmocka_unit_test(listening_input_waits_for_each_pusher),
		cmocka_unit_test(stop_ends_the_wait_for_a_pusher),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
