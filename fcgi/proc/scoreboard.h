/*
 * scoreboard - shared memory the master maps before forking and every
 * worker writes its own slot of: pid, state, the request in hand, counts;
 * plus counters of the whole pool (requests by status class, errors by
 * kind, a latency histogram). The master reads it to enforce
 * request_timeout and to log what a dead worker was doing; the status
 * endpoint renders it.
 * Ownership: one mapping per master, inherited by its workers; a worker
 * writes only its slot and the atomic global counters.
 */
#ifndef MF_SCOREBOARD_H
#define MF_SCOREBOARD_H

#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

#define SB_SLOTS 256
#define SB_BUCKETS 12	/* latency histogram, see sb_bucket_le[] */

enum sb_state {
	SB_FREE = 0,	/* no worker in this slot */
	SB_IDLE,	/* waiting for a connection */
	SB_READING,	/* reading the request */
	SB_PROCESSING,	/* decoding, scaling */
	SB_WRITING,	/* sending the answer */
	SB_STREAMING,	/* a long-lived stream (exempt from request_timeout) */
	SB_STATE_COUNT
};

struct sb_slot {
	volatile pid_t pid;
	volatile int state;		/* enum sb_state */
	volatile uint32_t generation;	/* config generation */
	volatile int64_t started_ms;	/* when the worker started (clock_ms()) */
	volatile int64_t request_ms;	/* when the request in hand began (clock_ms()) */
	char method[8];
	char uri[256];			/* escaped, truncated */
	volatile uint64_t requests;
	volatile uint64_t bytes;
	volatile int stream;		/* took a stream slot (given back at exit) */
};

struct scoreboard {
	int64_t started_ms;		/* the master's start (CLOCK_REALTIME) */
	uint64_t by_class[6];		/* [2] = 2xx ... [5] = 5xx */
	uint64_t errors[ERR_KIND_COUNT];
	uint64_t latency[SB_BUCKETS + 1];	/* + the +Inf bucket */
	uint64_t latency_sum_ms;
	uint64_t bytes;
	uint64_t timeouts, crashes, respawns;
	uint32_t streams;		/* stream slots taken */
	uint64_t streams_refused;	/* 503s for want of a slot */
	struct sb_slot slots[SB_SLOTS];
};

/* Upper bounds (ms) of the latency buckets. */
extern const unsigned sb_bucket_le[SB_BUCKETS];

/* Maps a zeroed scoreboard shared with future children; NULL on failure. */
struct scoreboard *sb_new(void);
void sb_free(struct scoreboard *sb);	/* sb can be NULL */

const char *sb_state_name(enum sb_state s);

/* Worker side: its slot changes state / starts a request / ends one. */
void sb_set_state(struct sb_slot *s, enum sb_state st);
void sb_begin(struct sb_slot *s, const char *method, const char *uri);
void sb_end(struct scoreboard *sb, struct sb_slot *s, int status,
    enum err_kind kind, uint64_t bytes);

#endif
