/*
 * clock - the one clock of the program: CLOCK_MONOTONIC, for deadlines,
 * pacing, latencies and timeouts (never the wall clock, which jumps).
 */
#ifndef MF_CLOCK_H
#define MF_CLOCK_H

#include <stdint.h>

int64_t clock_us(void);		/* microseconds since an arbitrary start */
int64_t clock_ms(void);		/* the same in milliseconds */
double clock_s(void);		/* the same in seconds */

#endif
