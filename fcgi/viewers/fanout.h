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
 *
 * An fMP4 viewer (FANOUT_MP4, /live/NAME?format=mp4) gets the source's
 * H.264 init segment, then its fragments from the newest keyframe on,
 * every one in order while the web server reads them (a bounded amount
 * left unread); one that could not take a fragment when a newer keyframe
 * came (one half-written, bytes unread) resumes at the newest keyframe, so
 * it skips whole groups of frames, stays live and never decodes a
 * fragment without its references. A new encoder run (a new init
 * segment) ends the stream cleanly: the client reconnects.
 * The master starts it, and again if it dies.
 */
#ifndef MF_FANOUT_H
#define MF_FANOUT_H

#include <stdint.h>

#include "proc/config.h"
#include "viewers/ring.h"

/* What a viewer is sent. */
enum fanout_kind { FANOUT_MJPEG = 0, FANOUT_MP4 = 1 };

/*
 * Worker side: hands fd (a FastCGI connection whose answer's headers and,
 * for MJPEG, opening boundary went out, request request_id) to the
 * fan-out as a viewer of ring i, generation gen, of that kind. 0; -1
 * with errno (the fan-out's queue is full or it is gone): the connection
 * is still the caller's.
 */
int fanout_hand(const struct live *l, int fd, unsigned i, uint32_t gen,
    unsigned request_id, unsigned stream_timeout_s, enum fanout_kind kind);

/* The fan-out process body (after fork): never returns. */
void fanout_main(const struct config *cfg, struct live *l)
	__attribute__((noreturn));

#endif
