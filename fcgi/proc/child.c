/*
 * child - a forked child's signal dispositions. See child.h.
 */
#include "proc/child.h"

#include <signal.h>
#include <sys/prctl.h>

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
