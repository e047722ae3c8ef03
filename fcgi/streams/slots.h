/*
 * slots - the stream slots (max_streams) every long-lived answer takes:
 * MJPEG of a video file, fMP4/WebM transcodes, live viewers. Taking one
 * turns the worker into a stream process: it leaves the request_timeout
 * regime for the stream's own write timeout, keeps its socket buffer
 * small, and tells the master, which starts a replacement so short
 * requests keep N workers. Past max_streams the answer is 503 with
 * Retry-After. The master gives a slot back when its process ends.
 */
#ifndef MF_SLOTS_H
#define MF_SLOTS_H

#include "core/err.h"
#include "http/http.h"
#include "http/request.h"

/* The boundary of every multipart/x-mixed-replace answer (MJPEG). */
#define STREAM_BOUNDARY "mediafcgi-frame"

/*
 * Takes a stream slot for req and makes this worker a stream process
 * (no request_timeout from here; a client that takes nothing for
 * stream_timeout seconds ends it; SIGQUIT ends it at its next frame).
 * Adds the stream's headers to r. 0, or ERR_NO_SLOT (503, Retry-After).
 */
int slots_take(const struct server *srv, const struct request *req,
    struct response *r, struct err *e);

#endif
