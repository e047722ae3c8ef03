/*
 * child - the set-up every child of the master (a worker, a live reader,
 * the fan-out) starts with: the parent's death sends SIGTERM, and the
 * dispositions it inherited are reset to what the child wants.
 */
#ifndef MF_CHILD_H
#define MF_CHILD_H

/*
 * In a child just forked: PR_SET_PDEATHSIG SIGTERM, each signal in dfl[]
 * back to its default action, each in ign[] ignored (both lists end
 * with 0). Handlers and the mask are the caller's.
 */
void child_signals(const int dfl[], const int ign[]);

/* Started as root with a [server] user: becomes that user for good. 0,
 * or -1 (logged). */
struct config;
int child_drop_privileges(const struct config *cfg);

#endif
