/*
 * master - the process that never serves: forks the workers, replaces those
 * that die (backing off in a crash storm), reloads on SIGHUP, stops
 * gracefully on SIGTERM and at once on SIGINT/SIGQUIT.
 */
#ifndef MF_MASTER_H
#define MF_MASTER_H

#include "proc/config.h"

/*
 * Runs the master until it is told to stop. cfg is owned by the master from
 * here on (a reload replaces it). config_path (may be NULL) is re-read on
 * SIGHUP, with the command-line overrides in flags re-applied on top.
 * Returns the process exit code.
 */
struct master_flags {
	const char *root, *listen;
	unsigned workers;
};

int master_run(struct config *cfg, int listen_fd, const char *config_path,
    const struct master_flags *flags);

/* Applies the command-line overrides to c; -1 with errbuf on a bad value. */
int master_apply_flags(struct config *c, const struct master_flags *f,
    char *errbuf, size_t len);

#endif
