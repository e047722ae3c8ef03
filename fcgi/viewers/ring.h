/*
 * ring - the latest frames of each live source ([source NAME]), in memory
 * shared by the master, the readers, the fan-out and the workers: one
 * reader publishes each frame once; the fan-out (fanout.h) sends the
 * newest to every viewer, a worker copies one for a snapshot.
 *
 * LIVE_RINGS rings are mapped once, at start, whatever the config says;
 * the master gives one to each source by name (live_assign) at start and
 * at every reload, so a source keeps its ring (and its viewers and reader)
 * across reloads that reorder, rename or change other sources. Each time
 * a ring is given to another source its generation changes; a frame
 * carries the generation it was published under and a viewer takes only
 * frames of its own, so no viewer ever receives another source's frames,
 * and a viewer whose source is gone sees its generation change and ends.
 *
 * Each slot is a seqlock: the reader fills slot (seq + 1) % LIVE_SLOTS
 * with its sequence odd, makes it even, publishes seq, wakes the snapshot
 * waiters (a shared futex) and the fan-out (an eventfd); a copy is kept
 * only if the slot's sequence did not change meanwhile, so nobody keeps a
 * torn frame.
 * Ownership: the master maps the rings and opens the descriptors before
 * forking (live_new) and is the only one to assign rings and to start and
 * stop readers; every child inherits the map.
 */
#ifndef MF_RING_H
#define MF_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config;

#define LIVE_SLOTS 6		/* frames kept per source */
#define LIVE_RINGS 32		/* sources at most (config.c says so too) */
#define LIVE_NAME 40

struct live_slot {
	volatile uint64_t seq;	/* frame number * 2; odd while written */
	volatile uint32_t gen;	/* the ring's generation it belongs to */
	volatile uint32_t len;
	volatile int64_t at_us;	/* when it was published (clock_us()) */
};

struct live_ring {
	/* Written by the master only (live_assign). */
	char name[LIVE_NAME];	/* the source's; "" while free */
	volatile uint32_t gen;	/* changes each time it is given to a source */
	volatile int assigned;	/* a source of the running config has it */
	volatile size_t max_frame;	/* bytes of one frame, <= the room */
	/* Readers, viewers, snapshots. */
	volatile uint32_t futex;	/* bumped on every publish */
	volatile uint64_t seq;		/* newest complete frame, 0 = none */
	volatile pid_t reader;		/* 0 when not running */
	volatile int64_t stopping_ms;	/* when the master told it to stop */
	volatile int wanted;		/* a viewer or snapshot asked for it */
	volatile int64_t last_use_ms;	/* last viewer/snapshot activity */
	volatile uint64_t frames_in;	/* frames its readers produced */
	volatile uint64_t reconnects;
	volatile uint32_t viewers;	/* the fan-out's, of this generation */
	struct live_slot slots[LIVE_SLOTS];
};

/* What every process shares besides the rings. */
struct live_shared {
	volatile uint32_t viewers;	/* taken by workers, given back by the
					 * fan-out (max_viewers) */
	volatile uint64_t viewers_refused;	/* 503s past max_viewers */
	volatile pid_t fanout;		/* 0 when not running */
	struct live_ring rings[LIVE_RINGS];
};

struct live {
	struct live_shared *sh;
	struct live_ring *rings;	/* sh->rings */
	unsigned char *data;		/* LIVE_RINGS * LIVE_SLOTS * room */
	size_t room;			/* bytes per slot */
	void *map;
	size_t map_len;
	int wake_fd;		/* eventfd: a frame was published, a ring
				 * changed hands (the fan-out reads it) */
	int hand_fd[2];		/* SOCK_SEQPACKET: workers send viewers on
				 * [0], the fan-out receives them on [1] */
};

/*
 * Maps LIVE_RINGS rings with room for frames of the largest max_frame of
 * cfg's sources (at least 1 MiB; pages are backed only once written),
 * opens the descriptors and assigns the rings to cfg's sources. -1 with
 * errno on failure.
 */
int live_new(struct live *l, const struct config *cfg);
void live_free(struct live *l);	/* l can be zeroed */

/* Whether every source of cfg fits the room mapped at start. */
int live_fits(const struct live *l, const struct config *cfg,
    char *why, size_t len);

/*
 * Master: gives each source of next a ring, by name. A source of prev
 * (NULL at start) still in next keeps its ring; restart[] gets, for each
 * ring, 1 when its reader must stop because its source changed or left.
 * A ring whose source left changes generation (its viewers end).
 */
void live_assign(struct live *l, const struct config *prev,
    const struct config *next, int restart[LIVE_RINGS]);

/* The ring of the source called name, or -1. */
int live_find(const struct live *l, const char *name);

/* The frame bytes of ring i's slot k. */
unsigned char *live_slot_data(const struct live *l, unsigned i, unsigned k);

/*
 * Reader side: copies one frame (len bytes; one over max_frame is dropped)
 * into ring i's slot after the newest, stamped with gen, publishes it and
 * wakes every waiter.
 */
void live_publish(struct live *l, unsigned i, uint32_t gen,
    const unsigned char *data, size_t len);

/*
 * live_want() marks ring i wanted (and pokes the master). live_copy()
 * copies the newest frame of generation gen newer than after into buf
 * (cap bytes): its length and *seq, 0 when there is none. live_wait()
 * waits up to timeout_ms for one: the same, 0 on timeout, -1 when stop
 * was set or the ring changed generation.
 */
void live_want(struct live *l, unsigned i);
ssize_t live_copy(const struct live *l, unsigned i, uint32_t gen,
    uint64_t after, unsigned char *buf, size_t cap, uint64_t *seq);
ssize_t live_wait(const struct live *l, unsigned i, uint32_t gen,
    uint64_t after, int timeout_ms, unsigned char *buf, size_t cap,
    uint64_t *seq, const volatile int *stop);

/* Wakes the fan-out (the master after live_assign). */
void live_wake(const struct live *l);

#endif
