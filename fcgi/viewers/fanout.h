/*
 * fanout - the live viewers' process. A worker answers a viewer's
 * headers, then hands the FastCGI connection over (SCM_RIGHTS, fanout_hand)
 * and is free for the next request: a viewer holds no worker and no stream
 * slot. One process serves every viewer of every source from one event
 * loop: when a source publishes a frame, each viewer whose connection has
 * nothing unread (SIOCOUTQ 0) and no frame half-written gets it, framed as
 * FastCGI records, in one write; the others skip it, so a slow viewer
 * stays live. A viewer whose source leaves the config gets the closing
 * boundary; one that takes nothing for stream_timeout seconds is dropped.
 * The master starts it, and again if it dies.
 */
#ifndef MF_FANOUT_H
#define MF_FANOUT_H

#include <stdint.h>

#include "proc/config.h"
#include "viewers/ring.h"

/*
 * Worker side: hands fd (a FastCGI connection whose answer's headers and
 * opening boundary went out, request request_id) to the fan-out as a
 * viewer of ring i, generation gen. 0; -1 with errno (the fan-out's queue
 * is full or it is gone): the connection is still the caller's.
 */
int fanout_hand(const struct live *l, int fd, unsigned i, uint32_t gen,
    unsigned request_id, unsigned stream_timeout_s);

/* The fan-out process body (after fork): never returns. */
void fanout_main(const struct config *cfg, struct live *l)
	__attribute__((noreturn));

#endif
