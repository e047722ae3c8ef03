/*
 * sign - signed URLs: sig = hex(HMAC-SHA256(key, PATH "?" CANONICAL)),
 * where PATH is the request's path exactly as sent (before '?', still
 * percent-encoded, mount prefix included) and CANONICAL the parameters'
 * canonical form without sig (params_canonical()), so a signature survives
 * reordering and equivalent spellings of the same parameters and nothing
 * else. Compared in constant time.
 */
#ifndef MF_SIGN_H
#define MF_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "params.h"

/*
 * Writes the 64 hex digits of the signature of path (its first path_len
 * bytes) with parameters p under key into hex (>= 65 bytes). 0, or -1 if
 * the canonical query does not fit.
 */
int sign_compute(const char *key, const char *path, size_t path_len,
    const struct params *p, char hex[65]);

/* 0 when p carries the right sig for path, else ERR_FORBIDDEN in e. */
int sign_check(const char *key, const char *path, size_t path_len,
    const struct params *p, struct err *e);

/*
 * For [program] routes, whose parameters are the program's own: the
 * signature is over PATH "?" the query as sent with the sig pair removed
 * (order kept). Verifies it and writes that query (without sig) into out
 * for the route's own parser. 0, or ERR_FORBIDDEN in e.
 */
int sign_check_raw(const char *key, const char *uri, char *out, size_t len,
    struct err *e);

/*
 * `mediafcgi --sign URL`: writes URL's path, its canonical query and the
 * sig into out ("/a.jpg?size=300x200&sig=..."); a query that is not the
 * media API's (a [program] route's) is signed as given, the way
 * sign_check_raw() checks it. 0, or -1 with e filled.
 */
int sign_url(const char *key, const char *url, char *out, size_t len,
    struct err *e);

#endif
