/*
 * view - the live route: a viewer's MJPEG stream of a source, its fMP4
 * (H.264) stream (?format=mp4), its HLS playlist and segments
 * (?format=hls, hlslive.h), or its latest frame (?snapshot). A viewer
 * holds no worker and no stream slot: its connection goes to the fan-out
 * (fanout.h), which sends it the newest frame from the source's ring
 * (ring.h) each time the web server has read the last one, or the H.264
 * fragments from a keyframe, so a slow viewer skips and stays live.
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
