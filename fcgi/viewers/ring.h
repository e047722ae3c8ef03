/*
 * ring - the latest frames of each live source ([source NAME]), in memory
 * shared by the master, the reader processes and the viewers: one reader
 * publishes each frame once, every viewer copies the newest.
 *
 * Each slot is a seqlock: the reader fills slot (seq + 1) % LIVE_SLOTS
 * with its sequence odd, makes it even, publishes seq and wakes the
 * viewers (a shared futex); a viewer copies the newest slot and keeps the
 * copy only if the slot's sequence did not change meanwhile, so it never
 * keeps a torn frame.
 * Ownership: the master maps all rings before forking (live_new) and is the
 * only one to start and stop readers; workers and readers inherit the map.
 */
#ifndef MF_RING_H
#define MF_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config;

#define LIVE_SLOTS 6		/* frames kept per source */

struct live_slot {
	volatile uint64_t seq;	/* frame number * 2; odd while written */
	volatile uint32_t len;
	volatile int64_t at_us;	/* when it was published (clock_us()) */
	unsigned char *data;	/* max_frame bytes, in the shared map */
};

struct live_ring {
	volatile uint32_t futex;	/* bumped on every publish */
	volatile uint64_t seq;		/* newest complete frame, 0 = none */
	volatile pid_t reader;		/* 0 when not running */
	volatile int wanted;		/* a viewer or snapshot asked for it */
	volatile int64_t last_use_ms;	/* last viewer/snapshot activity */
	volatile uint64_t frames_in;	/* frames the reader produced */
	volatile uint64_t reconnects;
	size_t max_frame;
	struct live_slot slots[LIVE_SLOTS];
};

struct live {
	unsigned n;
	struct live_ring *rings;	/* n of them, in one shared map */
	void *map;
	size_t map_len;
};

/* Maps the rings of cfg's sources (none: an empty struct). -1 on failure. */
int live_new(struct live *l, const struct config *cfg);
void live_free(struct live *l);	/* l can be empty */

/* Index of the source called name, or -1. */
int live_find(const struct config *cfg, const char *name);

/*
 * Reader side: copies one frame (len bytes; one over max_frame is dropped)
 * into the slot after the newest, publishes it and wakes every waiter.
 */
void live_publish(struct live_ring *r, const unsigned char *data, size_t len);

/*
 * Viewer side. live_want() marks the source wanted (and pokes the master);
 * live_wait() waits up to timeout_ms for a frame newer than after and copies
 * the newest into buf (size cap), returning its length and sequence; 0 with
 * *seq unchanged on timeout, -1 when stop was set.
 */
void live_want(struct live_ring *r);
ssize_t live_wait(struct live_ring *r, uint64_t after, int timeout_ms,
    unsigned char *buf, size_t cap, uint64_t *seq, const volatile int *stop);

#endif
