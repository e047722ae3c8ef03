/*
 * listen - the FastCGI listen socket, opened once in the master and shared
 * by every worker: "unix:/path", "host:port", or the socket inherited as
 * fd 0 (spawn-fcgi, lighttpd bin-path, mod_fcgid, systemd).
 * The returned socket is non-blocking so an idle worker can wait for it with
 * poll() and a worker that loses the race for a connection is not stuck.
 */
#ifndef MF_LISTEN_H
#define MF_LISTEN_H

#include <stddef.h>

/*
 * Opens spec, or takes over fd 0 when spec is NULL (fd 0 is then pointed at
 * /dev/null). Returns the fd, or -1 with the reason in errbuf.
 */
int listen_open(const char *spec, char *errbuf, size_t len);

/* Removes the unix socket file listen_open() created (NULL spec: nothing). */
void listen_unlink(const char *spec);

#endif
