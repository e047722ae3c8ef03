/*
 * ring - the shared map of frame rings, their assignment to sources, the
 * seqlock publish and copy, the futex and eventfd wake-ups. See ring.h.
 */
#include "viewers/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "proc/config.h"

#define ROOM_MIN (1u << 20)

static size_t
room_for(const struct config *cfg)
{
	size_t room = ROOM_MIN;

	for (unsigned i = 0; i < cfg->n_sources; i++)
		if (cfg->sources[i].max_frame > room)
			room = cfg->sources[i].max_frame;
	return (room + 4095) & ~(size_t)4095;
}

int
live_new(struct live *l, const struct config *cfg)
{
	size_t head = (sizeof(struct live_shared) + 4095) & ~(size_t)4095;
	int restart[LIVE_RINGS];

	memset(l, 0, sizeof(*l));
	l->wake_fd = l->hand_fd[0] = l->hand_fd[1] = -1;
	l->room = room_for(cfg);
	l->map_len = head + (size_t)LIVE_RINGS * LIVE_SLOTS * l->room +
	    (size_t)LIVE_RINGS * LIVE_H264_AREA;
	/* Shared with every child; pages are only backed once written. */
	l->map = mmap(NULL, l->map_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (l->map == MAP_FAILED) {
		l->map = NULL;
		return -1;
	}
	l->sh = l->map;
	l->rings = l->sh->rings;
	l->data = (unsigned char *)l->map + head;
	l->h264_data = l->data + (size_t)LIVE_RINGS * LIVE_SLOTS * l->room;
	/* Close-on-exec: the programs workers run never see them. */
	if ((l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	    l->hand_fd) < 0) {
		int saved = errno;

		live_free(l);
		errno = saved;
		return -1;
	}
	live_assign(l, NULL, cfg, restart);
	return 0;
}

void
live_free(struct live *l)
{
	if (l->map != NULL)
		munmap(l->map, l->map_len);
	if (l->map != NULL || l->wake_fd > 0) {
		if (l->wake_fd >= 0)
			close(l->wake_fd);
		if (l->hand_fd[0] >= 0)
			close(l->hand_fd[0]);
		if (l->hand_fd[1] >= 0)
			close(l->hand_fd[1]);
	}
	memset(l, 0, sizeof(*l));
	l->wake_fd = l->hand_fd[0] = l->hand_fd[1] = -1;
}

int
live_fits(const struct live *l, const struct config *cfg, char *why,
    size_t len)
{
	for (unsigned i = 0; i < cfg->n_sources; i++)
		if (cfg->sources[i].max_frame > l->room) {
			snprintf(why, len, "[source %s] max_frame_bytes %llu is "
			    "more than the %zu bytes per frame mapped at start "
			    "(the largest then): restart to raise it",
			    cfg->sources[i].name, cfg->sources[i].max_frame,
			    l->room);
			return -1;
		}
	return 0;
}

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* Whether a reader of a must stop to read b. */
static bool
source_changed(const struct source *a, const struct source *b)
{
	return !str_eq(a->input, b->input) || !str_eq(a->format, b->format) ||
	    !str_eq(a->options, b->options) || a->width != b->width ||
	    a->height != b->height || a->quality != b->quality ||
	    a->fps != b->fps || a->max_frame != b->max_frame;
}

static const struct source *
source_named(const struct config *cfg, const char *name)
{
	for (unsigned i = 0; cfg != NULL && i < cfg->n_sources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	return NULL;
}

void
live_assign(struct live *l, const struct config *prev,
    const struct config *next, int restart[LIVE_RINGS])
{
	/* Rings of sources that left or changed. */
	for (unsigned i = 0; i < LIVE_RINGS; i++) {
		struct live_ring *r = &l->rings[i];
		const struct source *was, *now;

		restart[i] = 0;
		if (!r->assigned)
			continue;
		now = source_named(next, r->name);
		was = source_named(prev, r->name);
		if (now == NULL) {
			/* Gone: a new generation ends its viewers. */
			r->assigned = 0;
			r->name[0] = '\0';
			__atomic_add_fetch(&r->gen, 1, __ATOMIC_ACQ_REL);
			restart[i] = 1;
		} else {
			r->max_frame = now->max_frame;
			if (was == NULL || source_changed(was, now))
				restart[i] = 1;
		}
	}
	/* New sources: a free ring each, one without a reader first (a
	 * ring's reader must be gone before another starts on it). */
	for (unsigned s = 0; s < next->n_sources; s++) {
		const struct source *src = &next->sources[s];
		int pick = -1;

		if (live_find(l, src->name) >= 0)
			continue;
		for (unsigned i = 0; i < LIVE_RINGS; i++) {
			if (l->rings[i].assigned)
				continue;
			if (pick < 0 || (l->rings[pick].reader != 0 &&
			    l->rings[i].reader == 0))
				pick = (int)i;
		}
		if (pick < 0)
			break;	/* config.c allows no more than LIVE_RINGS */
		{
			struct live_ring *r = &l->rings[pick];

			snprintf(r->name, sizeof(r->name), "%s", src->name);
			r->max_frame = src->max_frame;
			r->frames_in = 0;
			r->reconnects = 0;
			r->wanted = 0;
			r->h264.wanted_ms = 0;
			__atomic_add_fetch(&r->gen, 1, __ATOMIC_ACQ_REL);
			r->assigned = 1;
		}
	}
}

int
live_find(const struct live *l, const char *name)
{
	if (l == NULL || l->rings == NULL)
		return -1;
	for (unsigned i = 0; i < LIVE_RINGS; i++)
		if (l->rings[i].assigned && strcmp(l->rings[i].name, name) == 0)
			return (int)i;
	return -1;
}

unsigned char *
live_slot_data(const struct live *l, unsigned i, unsigned k)
{
	return l->data + ((size_t)i * LIVE_SLOTS + k) * l->room;
}

static void
futex_wake_all(volatile uint32_t *f)
{
	syscall(SYS_futex, f, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

static void
futex_wait(volatile uint32_t *f, uint32_t val, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };

	syscall(SYS_futex, f, FUTEX_WAIT, val, &ts, NULL, 0);
}

void
live_wake(const struct live *l)
{
	uint64_t one = 1;

	if (l->wake_fd >= 0)
		(void)!write(l->wake_fd, &one, sizeof(one));
}

void
live_publish(struct live *l, unsigned i, uint32_t gen,
    const unsigned char *data, size_t len)
{
	struct live_ring *r = &l->rings[i];
	uint64_t seq = r->seq + 1;
	unsigned k = (unsigned)(seq % LIVE_SLOTS);
	struct live_slot *s = &r->slots[k];

	if (len > r->max_frame || len > l->room)
		return;
	/* Odd while written: a viewer copying it now will see the change. */
	__atomic_store_n(&s->seq, seq * 2 + 1, __ATOMIC_RELEASE);
	memcpy(live_slot_data(l, i, k), data, len);
	s->len = (uint32_t)len;
	s->gen = gen;
	s->at_us = clock_us();
	__atomic_store_n(&s->seq, seq * 2, __ATOMIC_RELEASE);
	__atomic_store_n(&r->seq, seq, __ATOMIC_RELEASE);
	__atomic_fetch_add(&r->frames_in, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->futex, 1, __ATOMIC_RELEASE);
	futex_wake_all(&r->futex);
	live_wake(l);
}

void
live_want(struct live *l, unsigned i)
{
	struct live_ring *r = &l->rings[i];

	r->last_use_ms = clock_ms();
	if (r->reader == 0 || r->seq == 0) {
		r->wanted = 1;
		/* The master wakes up for this; a missed poke waits 0.5 s. */
		kill(getppid(), SIGUSR2);
	}
}

ssize_t
live_copy(const struct live *l, unsigned i, uint32_t gen, uint64_t after,
    unsigned char *buf, size_t cap, uint64_t *seq)
{
	const struct live_ring *r = &l->rings[i];

	for (;;) {
		uint64_t newest = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		unsigned k = (unsigned)(newest % LIVE_SLOTS);
		const struct live_slot *s = &r->slots[k];
		uint64_t before;
		size_t len;

		if (newest <= after)
			return 0;
		before = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		len = s->len;
		if (before == newest * 2) {
			bool mine = s->gen == gen;

			if (mine && len <= cap)
				memcpy(buf, live_slot_data(l, i, k), len);
			if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == before) {
				/* Another generation's frame, or one too
				 * large for buf: none for this viewer. */
				if (!mine || len > cap)
					return 0;
				*seq = newest;
				return (ssize_t)len;
			}
		}
		/* Overwritten while copied: a newer one is there. */
	}
}

ssize_t
live_wait(const struct live *l, unsigned i, uint32_t gen, uint64_t after,
    int timeout_ms, unsigned char *buf, size_t cap, uint64_t *seq,
    const volatile int *stop)
{
	const struct live_ring *r = &l->rings[i];
	int64_t deadline = clock_us() + (int64_t)timeout_ms * 1000;

	for (;;) {
		uint32_t f = __atomic_load_n(&r->futex, __ATOMIC_ACQUIRE);
		uint64_t newest;
		ssize_t n;
		int64_t left;

		if ((stop != NULL && *stop) ||
		    __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE) != gen)
			return -1;
		if ((n = live_copy(l, i, gen, after, buf, cap, seq)) > 0)
			return n;
		/* Skip what is not ours (another generation's, too large). */
		newest = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		if (newest > after)
			after = newest;
		left = deadline - clock_us();
		if (left <= 0)
			return 0;
		futex_wait((volatile uint32_t *)&r->futex, f,
		    left > 200000 ? 200 : (int)(left / 1000) + 1);
	}
}

/* ------------------------------------------------------------ H.264 */

int
live_h264_wanted(const struct live *l, unsigned i, int64_t idle_ms)
{
	int64_t w = __atomic_load_n(&l->rings[i].h264.wanted_ms,
	    __ATOMIC_RELAXED);

	return w != 0 && clock_ms() - w <= idle_ms;
}

void
live_h264_want(struct live *l, unsigned i)
{
	__atomic_store_n(&l->rings[i].h264.wanted_ms, clock_ms(),
	    __ATOMIC_RELAXED);
	live_want(l, i);
}

static unsigned char *
area_of(const struct live *l, unsigned i)
{
	return l->h264_data + (size_t)i * LIVE_H264_AREA;
}

/*
 * Copies n bytes at position off of ring i's area into buf: 0, or -1 when
 * the writer reserved over them before the copy ended (torn).
 */
static int
area_copy(const struct live *l, unsigned i, uint64_t off, size_t n,
    unsigned char *buf)
{
	const struct live_h264 *h = &l->rings[i].h264;
	const unsigned char *a = area_of(l, i);
	size_t at = (size_t)(off % LIVE_H264_AREA);
	size_t first = n < LIVE_H264_AREA - at ? n : LIVE_H264_AREA - at;

	if (off + LIVE_H264_AREA < __atomic_load_n(&h->reserved,
	    __ATOMIC_ACQUIRE))
		return -1;
	memcpy(buf, a + at, first);
	memcpy(buf + first, a, n - first);
	/* The copy before the check (a seqlock's second read). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return off + LIVE_H264_AREA < __atomic_load_n(&h->reserved,
	    __ATOMIC_RELAXED) ? -1 : 0;
}

int
live_h264_start(struct live *l, unsigned i, uint32_t gen,
    const unsigned char *init, size_t len)
{
	struct live_h264 *h = &l->rings[i].h264;
	uint64_t s = h->init_seq;
	uint32_t epoch = h->epoch + 1;

	if (len > LIVE_H264_INIT)
		return -1;
	if (epoch == 0)
		epoch = 1;
	__atomic_store_n(&h->init_seq, s + 1 + (s & 1), __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(h->init, init, len);
	h->init_len = (uint32_t)len;
	h->init_gen = gen;
	h->init_epoch = epoch;
	__atomic_store_n(&h->init_seq, s + 2 + (s & 1), __ATOMIC_RELEASE);
	__atomic_store_n(&h->epoch, epoch, __ATOMIC_RELEASE);
	__atomic_fetch_add(&h->runs, 1, __ATOMIC_RELAXED);
	h->running = 1;
	live_wake(l);
	return (int)epoch;
}

void
live_h264_stop(struct live *l, unsigned i)
{
	l->rings[i].h264.running = 0;
	live_wake(l);
}

/* Segment n's entry: opened (key) or grown by one fragment. */
static void
seg_add(struct live_h264 *h, uint64_t n, uint32_t gen, uint32_t epoch,
    bool open, uint64_t seq, uint64_t off, size_t len, uint32_t duration)
{
	struct live_seg *g = &h->segs[n % LIVE_H264_SEGS];

	__atomic_store_n(&g->seq, n * 2 + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (open) {
		g->gen = gen;
		g->epoch = epoch;
		g->off = off;
		g->len = 0;
		g->first = seq;
		g->frames = 0;
		g->duration = 0;
		g->complete = 0;
	}
	g->len += len;
	g->frames++;
	g->duration += duration;
	__atomic_store_n(&g->seq, n * 2, __ATOMIC_RELEASE);
}

static void
seg_close(struct live_h264 *h, uint64_t n)
{
	struct live_seg *g = &h->segs[n % LIVE_H264_SEGS];

	if (n == 0 || g->seq != n * 2)
		return;
	__atomic_store_n(&g->seq, n * 2 + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	g->complete = 1;
	__atomic_store_n(&g->seq, n * 2, __ATOMIC_RELEASE);
}

void
live_h264_publish(struct live *l, unsigned i, uint32_t gen, uint32_t epoch,
    const unsigned char *data, size_t len, int key, int64_t pts,
    uint32_t duration)
{
	struct live_h264 *h = &l->rings[i].h264;
	uint64_t seq = h->seq + 1, off = h->reserved, n = h->seg;
	const struct live_seg *cur = &h->segs[n % LIVE_H264_SEGS];
	struct live_frag *f = &h->frags[seq % LIVE_H264_FRAGS];
	unsigned char *a = area_of(l, i);
	size_t at = (size_t)(off % LIVE_H264_AREA), first;

	if (len == 0 || len > LIVE_H264_AREA / 4)
		return;
	/* A fragment that opens no segment joins the open one of its run;
	 * with none (its keyframe was dropped), it has nowhere to go. */
	if (!key && (n == 0 || cur->seq != n * 2 || cur->gen != gen ||
	    cur->epoch != epoch || cur->complete))
		return;
	/* Reserve first: a copy of the bytes overwritten now sees it. */
	__atomic_store_n(&h->reserved, off + len, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	first = len < LIVE_H264_AREA - at ? len : LIVE_H264_AREA - at;
	memcpy(a + at, data, first);
	memcpy(a, data + first, len - first);

	if (key) {
		seg_close(h, n);
		n++;
	}
	__atomic_store_n(&f->seq, seq * 2 + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	f->gen = gen;
	f->epoch = epoch;
	f->off = off;
	f->len = (uint32_t)len;
	f->key = key != 0;
	f->seg = n;
	f->pts = pts;
	f->duration = duration;
	f->at_us = clock_us();
	__atomic_store_n(&f->seq, seq * 2, __ATOMIC_RELEASE);
	seg_add(h, n, gen, epoch, key != 0, seq, off, len, duration);
	__atomic_store_n(&h->seg, n, __ATOMIC_RELEASE);
	__atomic_store_n(&h->seq, seq, __ATOMIC_RELEASE);
	__atomic_fetch_add(&h->frags_out, 1, __ATOMIC_RELAXED);
	live_wake(l);
}

ssize_t
live_h264_init(const struct live *l, unsigned i, uint32_t gen,
    unsigned char *buf, size_t cap, uint32_t *epoch)
{
	const struct live_h264 *h = &l->rings[i].h264;

	for (;;) {
		uint64_t s = __atomic_load_n(&h->init_seq, __ATOMIC_ACQUIRE);
		size_t len = h->init_len;
		uint32_t g = h->init_gen, ep = h->init_epoch;

		if (s & 1)
			continue;	/* being written: a moment */
		if (s == 0 || g != gen || len > cap || len > LIVE_H264_INIT)
			return 0;
		memcpy(buf, h->init, len);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&h->init_seq, __ATOMIC_RELAXED) == s) {
			*epoch = ep;
			return (ssize_t)len;
		}
	}
}

/* A consistent copy of fragment seq's entry: 0, or -1 (not there). */
static int
frag_meta(const struct live_h264 *h, uint64_t seq, struct live_frag *m)
{
	const struct live_frag *f = &h->frags[seq % LIVE_H264_FRAGS];

	for (;;) {
		uint64_t s = __atomic_load_n(&f->seq, __ATOMIC_ACQUIRE);

		if (s == seq * 2 + 1)
			continue;
		if (s != seq * 2)
			return -1;
		m->gen = f->gen;
		m->epoch = f->epoch;
		m->off = f->off;
		m->len = f->len;
		m->key = f->key;
		m->seg = f->seg;
		m->pts = f->pts;
		m->duration = f->duration;
		m->at_us = f->at_us;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&f->seq, __ATOMIC_RELAXED) == s) {
			m->seq = s;
			return 0;
		}
	}
}

ssize_t
live_h264_frag(const struct live *l, unsigned i, uint32_t gen, uint64_t seq,
    unsigned char *buf, size_t cap, struct live_frag *meta)
{
	const struct live_h264 *h = &l->rings[i].h264;

	if (seq == 0 || frag_meta(h, seq, meta) < 0 || meta->gen != gen)
		return 0;
	if (meta->len > cap)
		return -1;
	if (area_copy(l, i, meta->off, meta->len, buf) < 0)
		return 0;
	return (ssize_t)meta->len;
}

int
live_h264_seg(const struct live *l, unsigned i, uint32_t gen, uint64_t n,
    struct live_seg *m)
{
	const struct live_h264 *h = &l->rings[i].h264;
	const struct live_seg *g = &h->segs[n % LIVE_H264_SEGS];

	for (;;) {
		uint64_t s = __atomic_load_n(&g->seq, __ATOMIC_ACQUIRE);

		if (s == n * 2 + 1)
			continue;
		if (n == 0 || s != n * 2)
			return -1;
		m->gen = g->gen;
		m->epoch = g->epoch;
		m->off = g->off;
		m->len = g->len;
		m->first = g->first;
		m->frames = g->frames;
		m->duration = g->duration;
		m->complete = g->complete;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&g->seq, __ATOMIC_RELAXED) == s)
			break;
	}
	m->seq = n * 2;
	if (m->gen != gen || m->off + LIVE_H264_AREA <
	    __atomic_load_n(&h->reserved, __ATOMIC_ACQUIRE))
		return -1;
	return 0;
}

ssize_t
live_h264_seg_copy(const struct live *l, unsigned i, uint32_t gen,
    uint64_t n, unsigned char *buf, size_t cap)
{
	struct live_seg m;

	if (live_h264_seg(l, i, gen, n, &m) < 0 || !m.complete ||
	    m.len > cap || m.len > LIVE_H264_AREA)
		return -1;
	if (area_copy(l, i, m.off, (size_t)m.len, buf) < 0)
		return -1;
	return (ssize_t)m.len;
}
