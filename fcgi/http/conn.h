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

/* A pollfd watching fd for a hang-up only, for a caller's own poll set. */
struct pollfd conn_watch(int fd);

/* Whether p (from conn_watch(), after poll()) says the web server hung up. */
bool conn_hung_up(const struct pollfd *p);

/* Whether the web server hung up fd (its client left); does not wait. */
bool conn_is_gone(int fd);

/* Bytes written to fd that the web server has not read yet. */
int conn_unread(int fd);

#endif
