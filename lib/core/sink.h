/*
 * sink - where encoded bytes go: the FastCGI stream in the daemon, memory in
 * tests. lib/ writes output only through a sink it is handed.
 * Ownership: the caller owns the sink and its context; sink_write() copies
 * nothing it can avoid and never keeps the pointer it is given.
 */
#ifndef MF_SINK_H
#define MF_SINK_H

#include <stddef.h>
#include <stdio.h>

struct sink {
	/* Writes all of buf or fails: 0, or -1 when the client is gone. */
	int (*write)(void *ctx, const void *buf, size_t len);
	/* Pushes what is buffered towards the client: 0 or -1. May be NULL. */
	int (*flush)(void *ctx);
	void *ctx;
	size_t written;		/* bytes accepted so far, kept by sink_write() */
};

int sink_write(struct sink *s, const void *buf, size_t len);
int sink_flush(struct sink *s);

/*
 * A stdio stream whose writes go to s (fopencookie), for encoders that only
 * write to a FILE *. Closing it flushes stdio's buffer into s; it does not
 * close s. NULL when out of memory.
 */
FILE *sink_fopen(struct sink *s);

/* A growing memory buffer behind a sink, for tests and small outputs. */
struct membuf {
	unsigned char *data;	/* owned; free with membuf_cleanup() */
	size_t len, cap;
};

void membuf_init(struct membuf *m);
void membuf_cleanup(struct membuf *m);		/* m can be zeroed */
/* Points s at m; m must outlive s. */
void sink_init_membuf(struct sink *s, struct membuf *m);

#endif
