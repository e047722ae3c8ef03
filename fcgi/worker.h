/*
 * worker - a preforked worker: initialises the media libraries after fork,
 * accepts FastCGI requests on the shared listen socket and answers them one
 * at a time until told to stop (SIGTERM: after the current request), until
 * max_requests, or until the master dies.
 */
#ifndef MF_WORKER_H
#define MF_WORKER_H

#include "config.h"

/* Runs in the child after fork(); never returns. */
void worker_main(const struct config *cfg, int listen_fd)
	__attribute__((noreturn));

#endif
