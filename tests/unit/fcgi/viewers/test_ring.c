/*
 * test_ring - the live ring's seqlock (viewers/ring.h): a writer process
 * publishes frames while reader processes copy them from the shared map;
 * no reader ever keeps a torn frame, a reader gets the newest published
 * frame (or times out), and live_wait() gives up when stop is set.
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
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "proc/config.h"
#include "viewers/ring.h"

#define MAX_FRAME	(64 * 1024)
#define FRAMES		20000u
#define READERS		2

struct fixture {
	struct config c;
	struct live l;
	unsigned char *frame;
};

/* Frame seq: its length depends on seq, every byte is seq's low byte. */
static size_t
frame_len(uint64_t seq)
{
	return 1 + (size_t)(seq * 7919u % (MAX_FRAME - 1));
}

static void
frame_fill(unsigned char *buf, uint64_t seq)
{
	memset(buf, (int)(seq & 0xff), frame_len(seq));
}

/* 0 if buf (len bytes) is all of frame seq, else -1. */
static int
frame_check(const unsigned char *buf, size_t len, uint64_t seq)
{
	if (len != frame_len(seq))
		return -1;
	for (size_t i = 0; i < len; i++)
		if (buf[i] != (unsigned char)(seq & 0xff))
			return -1;
	return 0;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char why[300];

	assert_non_null(f);
	config_init(&f->c);
	assert_int_equal(config_set(&f->c, "source cam", "input", "/dev/null",
	    why, sizeof(why)), 0);
	assert_int_equal(config_set(&f->c, "source cam", "max_frame_bytes",
	    "65536", why, sizeof(why)), 0);
	assert_int_equal(live_new(&f->l, &f->c), 0);
	assert_int_equal(live_find(&f->l, "cam"), 0);
	assert_true(f->l.rings[0].gen != 0);
	assert_non_null(f->frame = malloc(MAX_FRAME));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	live_free(&f->l);
	config_cleanup(&f->c);
	free(f->frame);
	free(f);
	return 0;
}

static void
publish(struct fixture *f, uint64_t seq)
{
	frame_fill(f->frame, seq);
	live_publish(&f->l, 0, f->l.rings[0].gen, f->frame, frame_len(seq));
}

/*
 * A reader process: copies frames until the last one, checking every byte
 * of each and that sequences only grow. Exit status 0 when all held.
 */
static void __attribute__((noreturn))
reader(struct live *l)
{
	const struct live_ring *r = &l->rings[0];
	unsigned char *buf = malloc(MAX_FRAME);
	uint64_t seq = 0, last = 0;
	unsigned got = 0;

	while (buf != NULL && last < FRAMES) {
		ssize_t n = live_wait(l, 0, r->gen, last, 5000, buf, MAX_FRAME,
		    &seq, NULL);

		if (n <= 0 || seq <= last || frame_check(buf, (size_t)n, seq) < 0)
			_exit(1);
		last = seq;
		got++;
	}
	_exit(buf != NULL && got > 0 ? 0 : 2);
}

static void
never_a_torn_frame(void **state)
{
	struct fixture *f = *state;
	pid_t readers[READERS], writer;
	int st;

	for (int i = 0; i < READERS; i++) {
		readers[i] = fork();
		assert_true(readers[i] >= 0);
		if (readers[i] == 0)
			reader(&f->l);
	}
	writer = fork();
	assert_true(writer >= 0);
	if (writer == 0) {
		/* As fast as it can: slots are overwritten while copied. */
		for (uint64_t s = 1; s <= FRAMES; s++)
			publish(f, s);
		_exit(0);
	}
	assert_int_equal(waitpid(writer, &st, 0), writer);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int i = 0; i < READERS; i++) {
		assert_int_equal(waitpid(readers[i], &st, 0), readers[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(f->l.rings[0].seq, FRAMES);
	assert_int_equal(f->l.rings[0].frames_in, FRAMES);
}

static void
newest_or_timeout(void **state)
{
	struct fixture *f = *state;
	struct live_ring *r = &f->l.rings[0];
	unsigned char *buf = malloc(MAX_FRAME);
	uint64_t seq = 0;
	int64_t t0;
	ssize_t n;

	assert_non_null(buf);
	/* Nothing published yet: a timeout, seq untouched. */
	t0 = clock_ms();
	assert_int_equal(live_wait(&f->l, 0, r->gen, 0, 50, buf, MAX_FRAME, &seq, NULL), 0);
	assert_true(clock_ms() - t0 >= 40);
	assert_int_equal(seq, 0);
	/* Three published: the newest, not the next. */
	for (uint64_t s = 1; s <= 3; s++)
		publish(f, s);
	n = live_wait(&f->l, 0, r->gen, 0, 1000, buf, MAX_FRAME, &seq, NULL);
	assert_int_equal(seq, 3);
	assert_int_equal(n, (ssize_t)frame_len(3));
	assert_int_equal(frame_check(buf, (size_t)n, 3), 0);
	/* Nothing newer than 3: a timeout again, seq kept. */
	assert_int_equal(live_wait(&f->l, 0, r->gen, 3, 30, buf, MAX_FRAME, &seq, NULL), 0);
	assert_int_equal(seq, 3);
	/* A frame over max_frame is never published. */
	live_publish(&f->l, 0, r->gen, buf, MAX_FRAME + 1);
	assert_int_equal(r->seq, 3);
	free(buf);
}

static void
stop_ends_the_wait(void **state)
{
	struct fixture *f = *state;
	struct live_ring *r = &f->l.rings[0];
	volatile int *stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned char buf[16];
	uint64_t seq = 0;
	int64_t t0;
	pid_t pid;
	int st;

	assert_true(stop != MAP_FAILED);
	/* Set before: at once, even with a frame waiting. */
	*stop = 1;
	publish(f, 1);
	assert_int_equal(live_wait(&f->l, 0, r->gen, 0, 5000, buf, sizeof(buf), &seq, stop), -1);
	/* Set while waiting (by another process): well before the timeout. */
	*stop = 0;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(50000);
		*stop = 1;
		_exit(0);
	}
	t0 = clock_ms();
	assert_int_equal(live_wait(&f->l, 0, r->gen, 1, 5000, buf, sizeof(buf), &seq, stop), -1);
	assert_true(clock_ms() - t0 < 1000);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	munmap((void *)stop, sizeof(*stop));
}

static void
set(struct config *c, const char *section, const char *key, const char *v)
{
	char why[300];

	assert_int_equal(config_set(c, section, key, v, why, sizeof(why)), 0);
}

/*
 * Reloads give rings by name: a kept source keeps its ring and
 * generation (its viewers stay), a changed one keeps them but its reader
 * restarts, a removed one's ring changes generation (its viewers end), and
 * a ring given to a new source never hands out the old source's frames.
 */
static void
rings_follow_names(void **state)
{
	struct fixture *f = *state;
	struct config a, b;
	struct live l;
	int restart[LIVE_RINGS], cam1, cam2, cam3;
	uint32_t g1, g2;
	unsigned char buf[64];
	uint64_t seq = 0;

	(void)f;
	config_init(&a);
	config_init(&b);
	set(&a, "source cam1", "input", "/a");
	set(&a, "source cam2", "input", "/b");
	set(&a, "source cam4", "input", "/d");
	assert_int_equal(live_new(&l, &a), 0);
	cam1 = live_find(&l, "cam1");
	cam2 = live_find(&l, "cam2");
	assert_true(cam1 >= 0 && cam2 >= 0 && cam1 != cam2);
	g1 = l.rings[cam1].gen;
	g2 = l.rings[cam2].gen;
	live_publish(&l, (unsigned)cam1, g1, (const unsigned char *)"one", 3);
	/* Reordered, cam1 gone, cam3 new, cam4's input changed. */
	set(&b, "source cam3", "input", "/c");
	set(&b, "source cam4", "input", "/e");
	set(&b, "source cam2", "input", "/b");
	live_assign(&l, &a, &b, restart);
	assert_int_equal(live_find(&l, "cam2"), cam2);
	assert_int_equal(l.rings[cam2].gen, g2);
	assert_int_equal(restart[cam2], 0);
	assert_int_equal(live_find(&l, "cam1"), -1);
	assert_int_equal(restart[cam1], 1);
	assert_int_equal(restart[live_find(&l, "cam4")], 1);
	cam3 = live_find(&l, "cam3");
	assert_true(cam3 >= 0 && cam3 != cam2);
	/* A viewer of the old cam1 sees its generation end. */
	assert_true(l.rings[cam1].gen != g1);
	assert_int_equal(live_wait(&l, (unsigned)cam1, g1, 0, 1000, buf,
	    sizeof(buf), &seq, NULL), -1);
	/* Whatever ring cam3 got, cam1's frame is not cam3's. */
	assert_int_equal(live_copy(&l, (unsigned)cam3, l.rings[cam3].gen, 0,
	    buf, sizeof(buf), &seq), 0);
	/* A max_frame_bytes past what was mapped at start: refused. */
	set(&b, "source cam3", "max_frame_bytes", "67108864");
	assert_int_equal(live_fits(&l, &b, (char *)buf, sizeof(buf)), -1);
	live_free(&l);
	config_cleanup(&a);
	config_cleanup(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(never_a_torn_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(newest_or_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_ends_the_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(rings_follow_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
