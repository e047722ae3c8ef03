/*
 * conn - the web server's end of a request's connection, as a long run
 * (a stream, a live viewer, an external program) watches it: whether the
 * web server hung up (its client left), and how much it has not read yet.
 * Only a hang-up is watched: unread FastCGI input is libfcgi's, not ours.
 * An fd <= 0 is "unknown": never gone, nothing unread.
 */
#ifndef MF_CONN_H
#define MF_CONN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

/* A pollfd watching fd for a hang-up only, for a caller's own poll set. */
struct pollfd conn_watch(int fd);

/* Whether p (from conn_watch(), after poll()) says the web server hung up. */
bool conn_hung_up(const struct pollfd *p);

/* Whether the web server hung up fd (its client left); does not wait. */
bool conn_is_gone(int fd);

/* Bytes written to fd that the web server has not read yet. */
int conn_unread(int fd);

/* The FastCGI records written without libfcgi: a worker's 504 from its
 * alarm and large writes, the fan-out's frames and endings. */
enum { FCGI_REC_END_REQUEST = 3, FCGI_REC_STDOUT = 6 };

/* The 8-byte header of a FastCGI version 1 record of request id with len
 * bytes of content (<= 65535) and no padding, at p. */
void conn_record_header(unsigned char *p, int type, unsigned id,
    size_t len);

#endif
