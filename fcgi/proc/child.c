/*
 * child - a forked child's signal dispositions. See child.h.
 */
#include "proc/child.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "proc/config.h"
#include "proc/log.h"

void
child_signals(const int dfl[], const int ign[])
{
	/* Die with the master; if it is already gone, the caller sees
	 * getppid() == 1. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	for (; *dfl; dfl++)
		signal(*dfl, SIG_DFL);
	for (; *ign; ign++)
		signal(*ign, SIG_IGN);
}

int
child_drop_privileges(const struct config *cfg)
{
	if (!cfg->drop_privileges)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(cfg->run_gid) < 0 ||
	    setuid(cfg->run_uid) < 0) {
		log_error("cannot become %s: %s", cfg->user, strerror(errno));
		return -1;
	}
	/* No way back. */
	if (setuid(0) == 0) {
		log_error("still root after dropping privileges");
		return -1;
	}
	return 0;
}
