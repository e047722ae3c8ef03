/*
 * test_ring - the live ring's seqlock (viewers/ring.h): a writer process
 * publishes frames while reader processes copy them from the shared map;
 * no reader ever keeps a torn frame, a reader gets the newest published
 * frame (or times out), and live_wait() gives up when stop is set.
 * The same for the H.264 rendition's fragments and segments in their
 * circular byte area: a copy is whole and of its own number, or refused.
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

/* ------------------------------------------------------------ H.264 */

#define H_FRAGS		3000u
#define H_KEYINT	10u
#define H_MAX		(400 * 1024)

static size_t
hfrag_len(uint64_t seq)
{
	return 1 + (size_t)(seq * 104729u % (H_MAX - 1));
}

static void
hpublish(struct live *l, uint32_t gen, uint32_t epoch, unsigned char *buf,
    uint64_t seq)
{
	memset(buf, (int)(seq & 0xff), hfrag_len(seq));
	live_h264_publish(l, 0, gen, epoch, buf, hfrag_len(seq),
	    (seq - 1) % H_KEYINT == 0, (int64_t)seq * 6000, 6000);
}

/* A reader of fragments and segments; exit 0 when every copy held. */
static void __attribute__((noreturn))
hreader(struct live *l, const volatile int *done)
{
	const struct live_h264 *h = &l->rings[0].h264;
	unsigned char *buf = malloc(LIVE_H264_AREA);
	uint32_t gen = l->rings[0].gen;
	unsigned frags = 0, segs = 0;

	while (buf != NULL && !*done) {
		uint64_t seq = h->seq, n = h->seg;
		struct live_frag m;
		ssize_t len = live_h264_frag(l, 0, gen, seq, buf, H_MAX, &m);

		if (len > 0) {
			if ((size_t)len != hfrag_len(seq) || m.seq != seq * 2)
				_exit(1);
			for (ssize_t k = 0; k < len; k++)
				if (buf[k] != (unsigned char)(seq & 0xff))
					_exit(1);
			frags++;
		}
		/* The newest complete segment: its fragments, whole, in order. */
		if (n > 1 && (len = live_h264_seg_copy(l, 0, gen, n - 1, buf,
		    LIVE_H264_AREA)) > 0) {
			uint64_t first = (n - 2) * H_KEYINT + 1;
			size_t at = 0;

			for (uint64_t f = first; f < first + H_KEYINT; f++) {
				for (size_t k = 0; k < hfrag_len(f); k++)
					if (buf[at + k] != (unsigned char)(f & 0xff))
						_exit(3);
				at += hfrag_len(f);
			}
			if (at != (size_t)len)
				_exit(4);
			segs++;
		}
	}
	_exit(buf != NULL && frags > 0 && segs > 0 ? 0 : 2);
}

static void
h264_never_torn(void **state)
{
	struct fixture *f = *state;
	struct live *l = &f->l;
	volatile int *done = mmap(NULL, sizeof(*done), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint32_t gen = l->rings[0].gen;
	unsigned char *buf = malloc(H_MAX);
	pid_t readers[READERS];
	int epoch, st;

	assert_true(done != MAP_FAILED);
	assert_non_null(buf);
	*done = 0;
	epoch = live_h264_start(l, 0, gen, (const unsigned char *)"init", 4);
	assert_true(epoch > 0);
	for (int i = 0; i < READERS; i++) {
		readers[i] = fork();
		assert_true(readers[i] >= 0);
		if (readers[i] == 0)
			hreader(l, done);
	}
	/* As fast as it can: the area wraps every ~40 fragments. */
	for (uint64_t s = 1; s <= H_FRAGS; s++)
		hpublish(l, gen, (uint32_t)epoch, buf, s);
	*done = 1;
	for (int i = 0; i < READERS; i++) {
		assert_int_equal(waitpid(readers[i], &st, 0), readers[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(l->rings[0].h264.seq, H_FRAGS);
	assert_int_equal(l->rings[0].h264.seg, H_FRAGS / H_KEYINT);
	free(buf);
	munmap((void *)done, sizeof(*done));
}

static void
h264_index(void **state)
{
	struct fixture *f = *state;
	struct live *l = &f->l;
	uint32_t gen = l->rings[0].gen, ep;
	unsigned char init[LIVE_H264_INIT], buf[64];
	struct live_seg m;
	struct live_frag fm;
	int epoch;

	/* Nothing yet. */
	assert_int_equal(live_h264_init(l, 0, gen, init, sizeof(init), &ep), 0);
	assert_int_equal(live_h264_seg(l, 0, gen, 1, &m), -1);
	assert_false(live_h264_wanted(l, 0, 1000));
	assert_int_equal(live_h264_start(l, 0, gen, init, LIVE_H264_INIT + 1),
	    -1);
	epoch = live_h264_start(l, 0, gen, (const unsigned char *)"ftypmoov", 8);
	assert_true(epoch > 0);
	assert_int_equal(live_h264_init(l, 0, gen, init, sizeof(init), &ep), 8);
	assert_int_equal((int)ep, epoch);
	assert_memory_equal(init, "ftypmoov", 8);
	/* Another generation's: none. */
	assert_int_equal(live_h264_init(l, 0, gen + 1, init, sizeof(init), &ep),
	    0);
	/* A fragment that is not a keyframe opens nothing: dropped. */
	live_h264_publish(l, 0, gen, (uint32_t)epoch, (const unsigned char *)"p",
	    1, 0, 0, 10);
	assert_int_equal(l->rings[0].h264.seq, 0);
	/* key, p, p: segment 1 open; key: 1 complete, 2 open. */
	live_h264_publish(l, 0, gen, (uint32_t)epoch, (const unsigned char *)"K1",
	    2, 1, 0, 10);
	live_h264_publish(l, 0, gen, (uint32_t)epoch, (const unsigned char *)"p2",
	    2, 0, 10, 10);
	live_h264_publish(l, 0, gen, (uint32_t)epoch, (const unsigned char *)"p3",
	    2, 0, 20, 10);
	assert_int_equal(live_h264_seg(l, 0, gen, 1, &m), 0);
	assert_false(m.complete);
	assert_int_equal(live_h264_seg_copy(l, 0, gen, 1, buf, sizeof(buf)), -1);
	live_h264_publish(l, 0, gen, (uint32_t)epoch, (const unsigned char *)"K4",
	    2, 1, 30, 10);
	assert_int_equal(live_h264_seg(l, 0, gen, 1, &m), 0);
	assert_true(m.complete);
	assert_int_equal(m.frames, 3);
	assert_int_equal(m.duration, 30);
	assert_int_equal(m.first, 1);
	assert_int_equal(live_h264_seg_copy(l, 0, gen, 1, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "K1p2p3", 6);
	/* Too small a buffer, another generation: refused. */
	assert_int_equal(live_h264_seg_copy(l, 0, gen, 1, buf, 5), -1);
	assert_int_equal(live_h264_seg_copy(l, 0, gen + 1, 1, buf, 64), -1);
	assert_int_equal(live_h264_frag(l, 0, gen, 4, buf, sizeof(buf), &fm), 2);
	assert_true(fm.key && fm.seg == 2 && fm.pts == 30);
	assert_int_equal(live_h264_frag(l, 0, gen, 4, buf, 1, &fm), -1);
	assert_int_equal(live_h264_frag(l, 0, gen, 5, buf, sizeof(buf), &fm), 0);
	/* Wanted: now, for idle_timeout. A running reader with a frame:
	 * live_want() pokes no master (the parent here is make's shell). */
	l->rings[0].reader = getpid();
	publish(f, 1);
	live_h264_want(l, 0);
	assert_true(live_h264_wanted(l, 0, 1000));
	l->rings[0].h264.wanted_ms -= 2000;
	assert_false(live_h264_wanted(l, 0, 1000));
	/* A new run: a new epoch and init. */
	assert_true(live_h264_start(l, 0, gen, (const unsigned char *)"x", 1) >
	    epoch);
	l->rings[0].reader = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(never_a_torn_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(newest_or_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_ends_the_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(rings_follow_names, setup, teardown),
		cmocka_unit_test_setup_teardown(h264_never_torn, setup, teardown),
		cmocka_unit_test_setup_teardown(h264_index, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
