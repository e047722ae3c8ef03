/*
 * vid/play - a user's file decoded in order from a point: what file
 * streams (MJPEG, transcodes) read. See core.h for the contract.
 *
 * The seek goes to the keyframe at or before the point; frames that end
 * before it are decoded (they may be referred to) and skipped. A first
 * frame after the point, or nothing at all, means the seek landed late:
 * the next rung of the ladder (vid_seek()).
 */
#include "vid/core.h"

#include <string.h>

int
vid_play_open(struct vid_play *s, const struct vid_job *job, struct err *e)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = vid_open(&s->v, job, true, false, e)) < 0)
		return rc;
	vid_reader_init(&s->r, &s->v);
	s->step = vid_frame_step(&s->v);
	s->max_skip = job->limits.max_decode_frames;
	return 0;
}

void
vid_play_close(struct vid_play *s)
{
	vid_close(&s->v);
}

/* Rung attempt of the ladder for s->target. */
static int
play_goto(struct vid_play *s, unsigned attempt, struct err *e)
{
	int rc;

	vid_reader_reset(&s->r);
	s->fresh = true;
	s->last_pts = INT64_MIN;
	s->skipped = 0;
	s->attempt = attempt;
	if ((rc = vid_seek(&s->v, s->target, &s->attempt)) < 0)
		return vid_fail(rc, e, "video does not seek");
	return 0;
}

int
vid_play_seek(struct vid_play *s, double sec, struct err *e)
{
	s->target = vid_ts(&s->v, sec > 0 ? sec : 0);
	s->r.skip_before = s->target;
	return play_goto(s, 0, e);
}

/* What to do with the frame decoded: 0 take it, 1 skip it, or an error. */
static int
play_frame(struct vid_play *s, struct err *e)
{
	AVFrame *f = s->v.frame;
	int64_t pts = f->best_effort_timestamp;
	int64_t dur = f->pkt_duration > 0 ? f->pkt_duration : s->step;

	if (pts == AV_NOPTS_VALUE)
		pts = s->last_pts != INT64_MIN ? s->last_pts + s->step :
		    s->target;
	f->best_effort_timestamp = pts;
	s->fresh = false;
	if (pts + dur <= s->target) {
		if (s->max_skip && ++s->skipped > s->max_skip)
			return err_set(e, ERR_TOO_LARGE, "start: more than %u "
			    "frames to decode from the keyframe", s->max_skip);
		return 1;
	}
	/* A repeated timestamp would go back in time. */
	if (pts <= s->last_pts)
		return 1;
	s->last_pts = pts;
	return 0;
}

int
vid_play_next(struct vid_play *s, struct err *e)
{
	int rc;

	for (;;) {
		bool late_retry = s->fresh && s->attempt < VID_SEEK_FROM_START;

		rc = vid_read_frame(&s->r, e);
		if (rc < 0)
			return rc;
		/* Nothing from there to the end, or the first frame after
		 * the target: the seek landed late. */
		if (late_retry && (rc == VID_END ||
		    (s->v.frame->best_effort_timestamp != AV_NOPTS_VALUE ?
		    s->v.frame->best_effort_timestamp : s->target) >
		    s->target)) {
			av_frame_unref(s->v.frame);
			if ((rc = play_goto(s, s->attempt + 1, e)) < 0)
				return rc;
			continue;
		}
		if (rc == VID_END)
			return VID_END;
		if ((rc = play_frame(s, e)) == 0)
			return 0;
		av_frame_unref(s->v.frame);
		if (rc < 0)
			return rc;
	}
}
