/*
 * hls_route - format=hls of a video file (lib's stream/hls.h): without
 * seg= the VOD playlist, whose segment URLs are the request's path and
 * parameters with seg=N (under signing keys signed with the first one,
 * keeping the request's expires, as VTT cues are); with seg=N that
 * segment, built in memory and answered like a static file: Content-Length,
 * HEAD, Range (one range: 206 with Content-Range, 416 past the end;
 * If-Range against the ETag). The router has already set Cache-Control,
 * ETag and Last-Modified and answered 304 (a segment is the same bytes
 * every time).
 * Ownership: nothing is kept; the caller owns fd and every buffer.
 */
#ifndef MF_HLS_ROUTE_H
#define MF_HLS_ROUTE_H

#include <sys/types.h>

#include "core/err.h"
#include "http/http.h"
#include "http/request.h"
#include "req/params.h"
#include "req/sniff.h"

/*
 * range and if_range: the request's Range and If-Range headers (NULL:
 * absent); etag: the answer's ETag (If-Range compares it).
 */
int hls_route(const struct server *srv, const struct request *req,
    const char *range, const char *if_range, const char *etag, int fd,
    off_t size, enum media_type type, const struct params *p,
    struct response *r, struct err *e);

#endif
