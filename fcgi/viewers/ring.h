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

/*
 * A source's H.264 rendition (lib/live/h264live.h), beside its JPEG
 * slots: the reader encodes it only while h264.wanted_ms is recent (an
 * fMP4 viewer, a playlist or segment request), once for every viewer.
 * Its fMP4 fragments go one after the other into a circular byte area of
 * LIVE_H264_AREA bytes per ring (positions count every byte ever written,
 * so a copy is known intact when, after it, the writer has not reserved
 * past its first byte plus the area); each is indexed in frags[] and its
 * segment (one per keyframe interval, from a keyframe) in segs[], both
 * seqlocks like the slots, stamped with the ring's generation and the
 * encoder's run (epoch: a run's fragments go with its init segment).
 */
#define LIVE_H264_FRAGS 256	/* fragments indexed per source */
#define LIVE_H264_SEGS 16	/* segments indexed per source */
#define LIVE_H264_INIT 4096	/* bytes of an init segment at most */
#define LIVE_H264_AREA (8u << 20)	/* bytes of fragments per source */

struct live_frag {
	volatile uint64_t seq;	/* fragment number * 2; odd while written */
	volatile uint32_t gen, epoch;
	volatile uint64_t off;	/* position of its first byte */
	volatile uint32_t len;
	volatile uint32_t key;	/* a keyframe: a segment starts here */
	volatile uint64_t seg;	/* the segment it is part of */
	volatile int64_t pts;	/* 90 kHz, of the encoder's run */
	volatile uint32_t duration;	/* 90 kHz */
	volatile int64_t at_us;	/* when it was published (clock_us()) */
};

struct live_seg {
	volatile uint64_t seq;	/* segment number * 2; odd while written */
	volatile uint32_t gen, epoch;
	volatile uint64_t off, len;	/* its fragments' bytes so far */
	volatile uint64_t first;	/* its first fragment's number */
	volatile uint32_t frames;
	volatile uint32_t duration;	/* 90 kHz, so far */
	volatile uint32_t complete;	/* the next segment began */
};

struct live_h264 {
	volatile int64_t wanted_ms;	/* an H.264 viewer or request, last */
	volatile uint32_t running;	/* the reader's encoder is on */
	/* The run is the input's H.264 remuxed (lib/live/h264pass.h), not
	 * encoded: set by the reader as it starts one; the status says. */
	volatile uint32_t remuxed;
	volatile uint32_t epoch;	/* the encoder's run; 0 before any */
	volatile uint64_t seq;		/* newest fragment, 0 = none */
	volatile uint64_t seg;		/* newest segment (may be open) */
	volatile uint64_t reserved;	/* area bytes reserved so far */
	volatile uint64_t frags_out;	/* fragments encoded, every run */
	volatile uint64_t runs;		/* encoder runs started */
	volatile uint64_t init_seq;	/* odd while the init is written */
	volatile uint32_t init_len, init_gen, init_epoch;
	unsigned char init[LIVE_H264_INIT];
	struct live_frag frags[LIVE_H264_FRAGS];
	struct live_seg segs[LIVE_H264_SEGS];
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
	struct live_h264 h264;
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
	unsigned char *h264_data;	/* LIVE_RINGS * LIVE_H264_AREA */
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

/* ---- H.264 (struct live_h264) ---- */

/*
 * Whether ring i's H.264 rendition was wanted within idle_ms (the reader
 * asks before each frame); live_h264_want() marks it wanted now and the
 * source wanted (live_want()).
 */
int live_h264_wanted(const struct live *l, unsigned i, int64_t idle_ms);
void live_h264_want(struct live *l, unsigned i);

/*
 * Reader side. live_h264_start(): a new encoder run of generation gen
 * with its init segment (len <= LIVE_H264_INIT, else -1): its epoch.
 * live_h264_publish(): one fragment of that run (len <= a quarter of the
 * area, else dropped); a keyframe closes the segment before and opens
 * the next. live_h264_stop(): the run ended. Each wakes the fan-out.
 */
int live_h264_start(struct live *l, unsigned i, uint32_t gen,
    const unsigned char *init, size_t len);
void live_h264_publish(struct live *l, unsigned i, uint32_t gen,
    uint32_t epoch, const unsigned char *data, size_t len, int key,
    int64_t pts, uint32_t duration);
void live_h264_stop(struct live *l, unsigned i);

/*
 * Copies ring i's init segment of generation gen into buf (cap bytes):
 * its length and *epoch; 0 when there is none (or it does not fit).
 */
ssize_t live_h264_init(const struct live *l, unsigned i, uint32_t gen,
    unsigned char *buf, size_t cap, uint32_t *epoch);

/*
 * Copies fragment seq of generation gen into buf (cap bytes) with its
 * index entry in *meta: its length; 0 when it is not held (not yet
 * published, overwritten, another generation's); -1 when it is larger
 * than cap.
 */
ssize_t live_h264_frag(const struct live *l, unsigned i, uint32_t gen,
    uint64_t seq, unsigned char *buf, size_t cap, struct live_frag *meta);

/*
 * Segment n of generation gen: live_h264_seg() copies its index entry
 * into *meta (0; -1 when not held: unknown, overwritten, another
 * generation's, its bytes gone); live_h264_seg_copy() copies its bytes,
 * complete, into buf (cap >= meta.len): its length, or -1 when it is not
 * held, not complete or was overwritten meanwhile.
 */
int live_h264_seg(const struct live *l, unsigned i, uint32_t gen,
    uint64_t n, struct live_seg *meta);
ssize_t live_h264_seg_copy(const struct live *l, unsigned i, uint32_t gen,
    uint64_t n, unsigned char *buf, size_t cap);

#endif
