/*
 * vid/pace - the fps cap and the pacer of everything played at its own
 * pace: MJPEG streams of files and live sources read from a file. Times
 * come from core/clock, the program's one monotonic clock. See core.h for
 * the contract.
 */
#include "vid/core.h"

#include <math.h>
#include <time.h>

#include "core/clock.h"

#define SLICE	0.1	/* seconds a sleep lasts at most: *stop is seen */

void
vid_fps_init(struct vid_fps *c, double fps)
{
	c->period = fps > 0 ? 1.0 / fps : 0;
	c->next_slot = 0;
}

bool
vid_fps_keep(struct vid_fps *c, double t)
{
	if (c->period <= 0)
		return true;
	if (t + 1e-6 < c->next_slot)
		return false;
	c->next_slot += c->period;
	/* A gap in the source leaves no backlog of slots behind it. */
	if (c->next_slot <= t)
		c->next_slot = t + c->period;
	return true;
}

void
vid_pace_init(struct vid_pace *pc, double fps)
{
	pc->origin = NAN;
	pc->base = 0;
	pc->pass_first = NAN;
	pc->end = 0;
	pc->pass_frames = 0;
	vid_fps_init(&pc->fps, fps);
}

bool
vid_pace_place(struct vid_pace *pc, double sec, double dur, double *t)
{
	if (isnan(pc->pass_first))
		pc->pass_first = sec;
	*t = pc->base + (sec - pc->pass_first);
	pc->end = *t + dur;
	pc->pass_frames++;
	return vid_fps_keep(&pc->fps, *t);
}

void
vid_pace_loop(struct vid_pace *pc)
{
	pc->base = pc->end;
	pc->pass_first = NAN;
	pc->pass_frames = 0;
}

void
vid_pace_start(struct vid_pace *pc, double t)
{
	pc->origin = clock_s() - t;
}

static bool
stopped(const volatile int *stop)
{
	return stop != NULL && *stop != 0;
}

void
vid_pace_wait(struct vid_pace *pc, double t, const volatile int *stop)
{
	double due = pc->origin + t, now = clock_s();
	struct timespec ts;

	if (now - due > VID_MAX_LATE) {
		pc->origin += now - due;
		return;
	}
	while (due > now && !stopped(stop)) {
		double until = fmin(due, now + SLICE), s = floor(until);

		ts.tv_sec = (time_t)s;
		ts.tv_nsec = (long)((until - s) * 1e9);
		if (ts.tv_nsec > 999999999)
			ts.tv_nsec = 999999999;
		/* A signal ends the slice early; *stop is read after it. */
		(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		now = clock_s();
	}
}
