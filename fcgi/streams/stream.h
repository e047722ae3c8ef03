/*
 * stream - long-lived answers: MJPEG of a video file, fMP4/WebM
 * transcodes, live-source viewers; and live snapshots. A worker that
 * starts one takes a stream slot (max_streams; past it 503 with
 * Retry-After), leaves the request_timeout regime for the stream's own
 * write timeout, keeps its socket buffer small, and tells the master, which
 * starts a replacement so short requests keep N workers.
 */
#ifndef MF_STREAM_H
#define MF_STREAM_H

#include "req/params.h"
#include "route/router.h"
#include "req/sniff.h"

/* format=mjpeg/mp4/webm on an open video file. */
int stream_file(const struct server *srv, const struct request *req, int fd,
    off_t size, enum media_type type, const struct params *p,
    struct response *r, struct err *e);

/*
 * The live route, which the router chose (req->path is under live_path)
 * and gated: answers the source named by the rest of req->path with
 * req->params (a snapshot, or a viewer's stream) and returns 1, or the
 * error (404 no such source, 400 a parameter a live source does not take).
 */
int stream_live(const struct server *srv, const struct request *req,
    struct response *r, struct err *e);

#define STREAM_BOUNDARY "mediafcgi-frame"

#endif
