/*
 * multipart - the framing of a multipart/x-mixed-replace answer: a part
 * per frame and the closing boundary, each flushed to the sink so a
 * client shows it at once.
 * Ownership: nothing is kept; the caller owns the sink and the bytes.
 */
#ifndef MF_MULTIPART_H
#define MF_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "core/sink.h"

#define MULTIPART_BOUNDARY_MAX	70	/* RFC 2046 */

/* 1..70 characters of [0-9A-Za-z'()+_,-./:=?]. */
bool multipart_boundary_ok(const char *boundary);

/*
 * "--BOUNDARY\r\nContent-Type: TYPE\r\nContent-Length: N\r\n\r\n" body
 * "\r\n", then sink_flush(). 0, or -1 when the sink failed (the client
 * gone). type: at most 48 characters.
 */
int multipart_part(struct sink *out, const char *boundary, const char *type,
    const void *body, size_t len);

/* "--BOUNDARY--\r\n", then sink_flush(). 0 or -1. */
int multipart_close(struct sink *out, const char *boundary);

#endif
