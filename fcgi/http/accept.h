/*
 * accept - the Accept request header, and format=auto's choice by it.
 *
 * accept_q() reads the header as RFC 9110 (12.5.1) says: a list of media
 * ranges ("type/subtype", a type's wildcard "type/" "*", and "*" "/" "*"),
 * each with an optional q=0..1 weight; the most specific range that
 * matches a media type gives its weight, so "image/" "*;q=0, image/webp"
 * admits WebP and nothing else of image/, and q=0 refuses. A range that
 * does not parse is skipped.
 * Ownership: nothing is kept; the header is only read.
 */
#ifndef MF_ACCEPT_H
#define MF_ACCEPT_H

#include <stdbool.h>
#include <stddef.h>

#include "req/params.h"

/* How the range that decided matched: by nothing, by "*" "/" "*", by
 * "type/" "*", or by the type itself. Ordered: more specific is greater. */
enum accept_match { ACCEPT_NONE = 0, ACCEPT_ANY, ACCEPT_TYPE, ACCEPT_EXACT };

/* The longest header read; a longer one is read up to this many bytes. */
#define ACCEPT_MAX_LEN	4096

/*
 * The weight, in thousandths (0..1000), that header gives mime ("type/sub",
 * lowercase), and in *how the range that gave it (ACCEPT_NONE and 0 when
 * no range matches, or header is NULL).
 */
unsigned accept_q(const char *header, const char *mime,
    enum accept_match *how);

/*
 * Whether header admits mime: a weight above 0 from a range at least as
 * specific as least (ACCEPT_EXACT: only a range naming the type counts).
 */
bool accept_admits(const char *header, const char *mime,
    enum accept_match least);

/*
 * format=auto: the first of the formats in order[0..n) (the config's
 * auto_formats) that header admits, or OUT_SOURCE when none is; of a
 * source that may be an animation (a GIF without frame=), only formats
 * that keep one (WebP; the AVIF and JPEG XL encoders write one frame). AVIF and
 * JPEG XL must be named ("image/avif"); WebP is also admitted by
 * "image/" "*"; "*" "/" "*" alone admits none of them, so a client that says
 * nothing specific gets the source's format, which every browser shows.
 */
enum out_format accept_pick(const char *header, const enum out_format *order,
    unsigned n, bool animation);

/* The media type accept_pick() looks for a format under, or NULL for a
 * format it never picks. */
const char *accept_format_mime(enum out_format f);

/*
 * [media] auto_formats: "avif, webp" (the order is the preference), or
 * "none" (format=auto then always answers the source's format). Fills
 * out[0..*n) with at most max formats, each once; -1 with the reason in
 * why for anything else.
 */
#define ACCEPT_MAX_FORMATS	4
int accept_formats_parse(const char *v, enum out_format *out, unsigned max,
    unsigned *n, char *why, size_t len);

#endif
