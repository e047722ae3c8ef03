/*
 * support - what the cmocka unit tests share: running a fixture tool,
 * and the query parser's "accepted" / "refused naming X" checks. Linked
 * into every unit test (the Makefile's UNIT_SUP); the clock is lib/'s own
 * (core/clock.h: clock_s()), the memory sink lib/'s membuf (core/sink.h).
 * Ownership: nothing here keeps a pointer it is given.
 */
#ifndef MF_TEST_SUPPORT_H
#define MF_TEST_SUPPORT_H

#include "req/params.h"

/*
 * Runs argv (argv[0] a full path, no shell, no PATH search) with stdin
 * from /dev/null and its output discarded: 0 if it exits 0, else -1.
 */
int sup_run(char *const argv[]);

/* Parses q into a fresh p; fails the test unless it is accepted. */
void sup_params_ok(const char *q, struct params *p);

/*
 * q must be refused with a 400 (ERR_BAD_PARAM) whose message contains
 * needle; fails the test otherwise.
 */
void sup_params_refused(const char *q, const char *needle);

#endif
