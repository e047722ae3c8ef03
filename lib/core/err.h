/*
 * err - the one error type of lib/: a kind (mapped to an HTTP status in one
 * table in fcgi/http.c) and a short human message naming what was wrong.
 * Ownership: the caller owns struct err (usually on its stack); nothing in it
 * is allocated. Functions that fail fill it once, where the failure is seen,
 * and return the negative kind (see err_set()).
 */
#ifndef MF_ERR_H
#define MF_ERR_H

#include <stdarg.h>

enum err_kind {
	ERR_NONE = 0,
	ERR_BAD_PARAM,		/* 400: a query parameter is unknown or invalid */
	ERR_FORBIDDEN,		/* 403: path outside the root, bad signature */
	ERR_NOT_FOUND,		/* 404: no such file, or not a regular file */
	ERR_METHOD,		/* 405: not GET or HEAD */
	ERR_TOO_LARGE,		/* 413: the source is over a configured limit */
	ERR_UNSUPPORTED,	/* 415: a format outside the allow-list */
	ERR_UNDECODABLE,	/* 422: the file does not decode */
	ERR_NO_SLOT,		/* 503: no stream slot free */
	ERR_TIMEOUT,		/* 504: the request ran out of time */
	ERR_INTERNAL,		/* 500: anything else */
	ERR_BAD_GATEWAY,	/* 502: an external program failed */
	ERR_GONE,		/* the client (or web server) went away: nothing
				 * more can be sent; logged as 499, not an error */
	ERR_KIND_COUNT
};

struct err {
	enum err_kind kind;
	char msg[256];
};

/* Clears e. */
void err_init(struct err *e);

/*
 * Records kind and a printf-style message in e and returns -(int)kind, so a
 * caller can write `return err_set(e, ERR_BAD_PARAM, "...")`. A second call
 * on an e that already holds an error keeps the first one: the error is
 * described where it was first seen.
 */
int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Name of a kind for logs and metrics ("bad_param", ...). Never NULL. */
const char *err_kind_name(enum err_kind kind);

#endif
