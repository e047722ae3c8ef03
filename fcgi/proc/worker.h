/*
 * worker - a preforked worker: drops privileges and initialises the media
 * libraries after fork, accepts FastCGI requests on the shared listen
 * socket and answers them one at a time, keeping its scoreboard slot
 * current, until told to stop (SIGQUIT: after the current request), until
 * max_requests, or until the master dies.
 */
#ifndef MF_WORKER_H
#define MF_WORKER_H

#include "proc/config.h"
#include "proc/scoreboard.h"

/*
 * Runs in the child after fork(); never returns. index is the worker's
 * slot in sb (which may be NULL).
 */
struct live;
void worker_main(const struct config *cfg, int listen_fd,
    struct scoreboard *sb, unsigned index, struct live *live)
	__attribute__((noreturn));

#endif
