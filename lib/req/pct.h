/*
 * pct - percent-decoding, once, the way every part of a URL here is read:
 * "%hh" is a byte, '+' stays '+' (a URL, not a form), a decoded NUL is
 * refused (C would read it as the end of the text).
 */
#ifndef MF_PCT_H
#define MF_PCT_H

#include <stddef.h>

enum { PCT_BAD = -1, PCT_NUL = -2, PCT_LONG = -3 };

/*
 * Decodes s[0..n) into out (cap bytes, NUL-terminated). Returns the decoded
 * length, PCT_BAD for a malformed escape, PCT_NUL for a decoded NUL,
 * PCT_LONG when the result does not fit.
 */
int pct_decode(const char *s, size_t n, char *out, size_t cap);

/*
 * The same for a query: a '%' not followed by two hex digits stands for
 * itself (browsers send "t=50%" with the percent sign raw), so PCT_BAD is
 * never returned. Written forms (the canonical query, signatures' texts)
 * keep spelling it "%25".
 */
int pct_decode_query(const char *s, size_t n, char *out, size_t cap);

/* The value of one hex digit, or -1. */
int pct_hexval(int c);

#endif
