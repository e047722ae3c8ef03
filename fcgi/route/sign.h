/*
 * sign - signed URLs: sig = hex(HMAC-SHA256(key, PATH "?" QUERY)), where
 * PATH is the request's path exactly as sent (before '?', still
 * percent-encoded, mount prefix included) and QUERY either the parameters'
 * canonical form without sig (params_canonical(), so a signature survives
 * reordering and equivalent spellings) or the query as sent with its sig
 * pair removed (what an application signs without knowing the canonical
 * order; the only form for [program] routes, whose parameters have none).
 * expires= is a parameter like the others: the signature covers it.
 * Compared in constant time, against every configured key.
 */
#ifndef MF_SIGN_H
#define MF_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "req/params.h"

/*
 * Writes the 64 hex digits of the signature of path (its first path_len
 * bytes) with parameters p, canonical, under key into hex (>= 65 bytes).
 * 0, or -1 if the canonical query does not fit.
 */
int sign_compute(const char *key, const char *path, size_t path_len,
    const struct params *p, char hex[65]);

/*
 * Writes query (the text after '?', may be NULL) without its "sig=" pairs
 * into out (of size len), order kept. 0, or -1 if it does not fit.
 */
int sign_strip(const char *query, char *out, size_t len);

/*
 * 0 when sig (64 lowercase hex digits) signs path (path_len bytes) under
 * one of keys[0..n), over p's canonical form (p may be NULL: not tried) or
 * over raw (the query as sent without sig, sign_strip()); else
 * ERR_FORBIDDEN in e.
 */
int sign_verify(char *const keys[], unsigned n, const char *path,
    size_t path_len, const struct params *p, const char *raw,
    const char *sig, struct err *e);

/*
 * `mediafcgi --sign URL [--expires S]`: writes URL's path, its canonical
 * query (with expires=EXPIRES added unless expires is 0) and the sig under
 * key into out ("/a.jpg?size=300x200&expires=...&sig=..."); a query that
 * is not the media API's (a [program] route's) is signed as given, with
 * "&expires=" appended. 0, or -1 with e filled.
 */
int sign_url(const char *key, const char *url, uint32_t expires, char *out,
    size_t len, struct err *e);

#endif
