/*
 * vid/seek - timestamps of the video stream, the seek-back ladder, and
 * the seek to an indexed keyframe (a remux's cut).
 * See core.h for the contract.
 *
 * A seek goes to the keyframe at or before the target; containers without
 * an index (MPEG-TS) or a damaged keyframe can land it later, so the
 * caller, seeing the first frame past the target, takes the next rung: 2,
 * 8 and 32 s earlier, and finally the start, where a frame after the
 * target means the target is before the first frame.
 */
#include "vid/core.h"

#include <math.h>
#include <string.h>

/* Seconds back from the target, per rung before VID_SEEK_FROM_START. */
static const double seek_back[VID_SEEK_FROM_START] = { 0, 2, 8, 32 };

/*
 * Seconds to a timestamp of the video stream, rounded down: the frame on
 * screen at t started at or before t.
 */
int64_t
vid_ts(const struct vctx *v, double sec)
{
	int64_t ts = (int64_t)floor(sec / av_q2d(v->st->time_base) + 1e-6);

	if (v->st->start_time != AV_NOPTS_VALUE)
		ts += v->st->start_time;
	return ts;
}

double
vid_seconds_of(const struct vctx *v, int64_t ts)
{
	return (double)ts * av_q2d(v->st->time_base);
}

int64_t
vid_frame_step(const struct vctx *v)
{
	AVRational r = v->st->avg_frame_rate;

	if (r.num <= 0 || r.den <= 0)
		r = v->st->r_frame_rate;
	if (r.num <= 0 || r.den <= 0)
		return 1;
	return av_rescale_q(1, av_inv_q(r), v->st->time_base);
}

int
vid_seek(struct vctx *v, int64_t target, unsigned *attempt)
{
	int64_t first = v->st->start_time != AV_NOPTS_VALUE ?
	    v->st->start_time : 0;
	int64_t at = target;
	int rc;

	if (v->dec != NULL)
		avcodec_flush_buffers(v->dec);
	if (*attempt < VID_SEEK_FROM_START)
		at -= (int64_t)(seek_back[*attempt] / av_q2d(v->st->time_base));
	if (at <= first)
		*attempt = VID_SEEK_FROM_START;
	if (*attempt >= VID_SEEK_FROM_START) {
		*attempt = VID_SEEK_FROM_START;
		/* MPEG-TS: a search by timestamp may land past the first
		 * keyframe, byte 0 is the start. (Not for the others:
		 * Matroska takes a byte seek and then fails on its EBML
		 * header.) */
		if (strcmp(v->fmt->iformat->name, "mpegts") == 0 &&
		    av_seek_frame(v->fmt, -1, 0, AVSEEK_FLAG_BYTE) >= 0)
			return 0;
		at = first;
	}
	if ((rc = av_seek_frame(v->fmt, v->si, at, AVSEEK_FLAG_BACKWARD)) < 0)
		rc = av_seek_frame(v->fmt, v->si, at,
		    AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_ANY);
	return rc < 0 ? rc : 0;
}

int
vid_seek_keyframe(struct vctx *v, int64_t key, double preroll)
{
	int64_t back = llround(preroll / av_q2d(v->st->time_base));

	if (v->dec != NULL)
		avcodec_flush_buffers(v->dec);
	if (back > 0 && av_seek_frame(v->fmt, v->si, key - back,
	    AVSEEK_FLAG_BACKWARD) >= 0)
		return 0;
	return av_seek_frame(v->fmt, v->si, key, AVSEEK_FLAG_BACKWARD);
}
