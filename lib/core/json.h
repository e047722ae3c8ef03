/*
 * json - the little JSON that metadata answers need, written into a membuf
 * (strings escaped; numbers printed so every JSON parser reads them back).
 * Ownership: the caller owns the membuf; these only append to it.
 */
#ifndef MF_JSON_H
#define MF_JSON_H

#include "core/sink.h"

/* Appends printf-formatted raw text (keys, punctuation, numbers). */
void json_raw(struct membuf *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string, quotes included (NULL -> null). */
void json_str(struct membuf *m, const char *s);
/* Appends a number; NaN and infinities become null. */
void json_num(struct membuf *m, double v);

#endif
