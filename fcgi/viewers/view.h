/*
 * view - the live route: a viewer's MJPEG stream of a source, or its
 * latest frame (?snapshot). A viewer takes a stream slot and is sent the
 * newest frame from the source's ring (ring.h) each time the web server
 * has read the last one, so a slow viewer skips frames and stays live.
 */
#ifndef MF_VIEW_H
#define MF_VIEW_H

#include "core/err.h"
#include "http/http.h"
#include "http/request.h"

/*
 * The live route, which the router chose (req->path is under live_path)
 * and gated: answers the source named by the rest of req->path with
 * req->params (a snapshot, or a viewer's stream) and returns 1, or the
 * error (404 no such source, 400 a parameter a live source does not take).
 */
int view_live(const struct server *srv, const struct request *req,
    struct response *r, struct err *e);

#endif
