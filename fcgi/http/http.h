/*
 * http - what a FastCGI responder sends back: the status table (the one
 * place an err_kind becomes an HTTP status), JSON error bodies, and the
 * response writer that holds the first bytes of a body so that a small
 * answer carries Content-Length and an error found before the hold fills
 * can still become a clean error response.
 * Ownership: the caller owns struct response, the raw sink and the hold
 * buffer; response_* never keeps a pointer the caller passes in.
 */
#ifndef MF_HTTP_H
#define MF_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/sink.h"

/* HTTP status of an error kind (ERR_NONE -> 200). */
int http_status_of(enum err_kind kind);
/* Reason phrase of a status ("Not Found"); "Unknown" for others. */
const char *http_reason(int status);

/*
 * {"error": "MSG", "status": N} with MSG escaped for JSON (control bytes as
 * \u00XX, bytes >= 0x80 as '?'). Returns the length written (truncated to
 * fit len, always NUL-terminated and valid JSON).
 */
size_t http_json_error(char *buf, size_t len, int status, const char *msg);

struct response {
	struct sink *raw;	/* the connection's stdout stream */
	bool head;		/* HEAD: headers as for GET, no body */
	bool committed;		/* the header block has gone out */
	bool aborted;		/* failed after committing: cut the connection */
	bool gone;		/* a write to the client failed: it left */
	bool handed_off;	/* the connection went to another process:
				 * nothing more of this request is written */
	int status;
	char hdr[2048];		/* extra header lines, each ending "\r\n" */
	size_t hlen;
	unsigned char *hold;	/* body bytes held before committing */
	size_t held, hold_cap;
	unsigned long long body_bytes;	/* body bytes accepted */
	struct sink body;	/* hand this to lib/ */
};

void response_init(struct response *r, struct sink *raw, bool head,
    unsigned char *hold, size_t hold_cap);
void response_status(struct response *r, int status);
/* Adds "Name: value\r\n". Values with CR or LF are refused (-1). */
int response_header(struct response *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Ends a successful response: commits (with Content-Length when the whole
 * body was held) and writes what is held. 0, or -1 if the client is gone.
 */
int response_end(struct response *r);

/*
 * Commits now if not yet committed (headers without Content-Length, then
 * what is held) and pushes everything to the client: for a stream whose
 * first bytes must not wait for the hold to fill. 0, or -1 if the client
 * is gone.
 */
int response_flush(struct response *r);

/*
 * Ends a failed response: before commit, replaces everything with the JSON
 * error for e (headers added so far are dropped, except Allow); after
 * commit, marks the response aborted so the caller cuts the connection and
 * the client sees a truncated answer, never a clean one.
 */
void response_fail(struct response *r, const struct err *e);

#endif
