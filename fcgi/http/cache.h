/*
 * cache - HTTP validators: a strong ETag from what determines the bytes of
 * an answer (source size and mtime, the canonical parameters, the program
 * version; no inode, so every host serving the same files agrees),
 * Last-Modified, and the conditional-request check that answers 304 before
 * any decoding.
 */
#ifndef MF_CACHE_H
#define MF_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#define CACHE_ETAG_LEN 36	/* quotes + 32 hex digits + NUL, rounded */

/*
 * Writes "\"<32 hex>\"" into etag (at least CACHE_ETAG_LEN bytes): SHA-256
 * over size, mtime (seconds), variant (the canonical query plus anything
 * else the bytes depend on) and the version, cut to 128 bits.
 */
void cache_etag(const struct stat *st, const char *variant, char *etag,
    size_t len);

/* RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void cache_http_date(time_t t, char *buf, size_t len);

/*
 * True when the client's copy is current: If-None-Match (when present,
 * it alone decides; "*" or any listed tag equal to etag, weak prefix
 * ignored) else If-Modified-Since not older than mtime. NULL headers are
 * absent; an unparsable date is ignored.
 */
bool cache_not_modified(const char *if_none_match,
    const char *if_modified_since, const char *etag, time_t mtime);

#endif
