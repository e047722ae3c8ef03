/*
 * ring - the shared map of frame rings, the seqlock publish and copy, the
 * futex wake-ups. See ring.h.
 */
#include "viewers/ring.h"

#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "proc/config.h"

int
live_new(struct live *l, const struct config *cfg)
{
	size_t head, off;
	unsigned char *p;

	memset(l, 0, sizeof(*l));
	if (cfg->n_sources == 0)
		return 0;
	head = (cfg->n_sources * sizeof(struct live_ring) + 4095) & ~(size_t)4095;
	l->map_len = head;
	for (unsigned i = 0; i < cfg->n_sources; i++)
		l->map_len += LIVE_SLOTS * ((cfg->sources[i].max_frame + 63) & ~63ull);
	/* Shared with every child; pages are only backed once written. */
	l->map = mmap(NULL, l->map_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (l->map == MAP_FAILED) {
		l->map = NULL;
		return -1;
	}
	l->n = cfg->n_sources;
	l->rings = l->map;
	p = (unsigned char *)l->map + head;
	off = 0;
	for (unsigned i = 0; i < l->n; i++) {
		struct live_ring *r = &l->rings[i];
		size_t sz = (cfg->sources[i].max_frame + 63) & ~63ull;

		r->max_frame = cfg->sources[i].max_frame;
		for (unsigned k = 0; k < LIVE_SLOTS; k++) {
			r->slots[k].data = p + off;
			off += sz;
		}
	}
	return 0;
}

void
live_free(struct live *l)
{
	if (l->map != NULL)
		munmap(l->map, l->map_len);
	memset(l, 0, sizeof(*l));
}

int
live_find(const struct config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_sources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return (int)i;
	return -1;
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
live_publish(struct live_ring *r, const unsigned char *data, size_t len)
{
	uint64_t seq = r->seq + 1;
	struct live_slot *s = &r->slots[seq % LIVE_SLOTS];

	if (len > r->max_frame)
		return;
	/* Odd while written: a viewer copying it now will see the change. */
	__atomic_store_n(&s->seq, seq * 2 + 1, __ATOMIC_RELEASE);
	memcpy(s->data, data, len);
	s->len = (uint32_t)len;
	s->at_us = clock_us();
	__atomic_store_n(&s->seq, seq * 2, __ATOMIC_RELEASE);
	__atomic_store_n(&r->seq, seq, __ATOMIC_RELEASE);
	__atomic_fetch_add(&r->frames_in, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->futex, 1, __ATOMIC_RELEASE);
	futex_wake_all(&r->futex);
}

void
live_want(struct live_ring *r)
{
	r->last_use_ms = clock_ms();
	if (r->reader == 0 || r->seq == 0) {
		r->wanted = 1;
		/* The master wakes up for this; a missed poke waits 0.5 s. */
		kill(getppid(), SIGUSR2);
	}
}

ssize_t
live_wait(struct live_ring *r, uint64_t after, int timeout_ms,
    unsigned char *buf, size_t cap, uint64_t *seq, const volatile int *stop)
{
	int64_t deadline = clock_us() + (int64_t)timeout_ms * 1000;

	for (;;) {
		uint32_t f = __atomic_load_n(&r->futex, __ATOMIC_ACQUIRE);
		uint64_t newest = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		int64_t left;

		if (stop != NULL && *stop)
			return -1;
		if (newest > after) {
			struct live_slot *s = &r->slots[newest % LIVE_SLOTS];
			uint64_t before = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
			size_t len = s->len;

			if (before == newest * 2 && len <= cap) {
				memcpy(buf, s->data, len);
				if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == before) {
					*seq = newest;
					return (ssize_t)len;
				}
			}
			/* Overwritten while copied: a newer one is there. */
			continue;
		}
		left = deadline - clock_us();
		if (left <= 0)
			return 0;
		futex_wait(&r->futex, f, left > 200000 ? 200 : (int)(left / 1000) + 1);
	}
}
