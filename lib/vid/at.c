/*
 * vid/at - the frame shown at a time, for stills, sprites and t=auto. See
 * core.h for the contract.
 *
 * Seek to the keyframe at or before t (vid_seek()), then decode forward
 * (vid_read_frame()) only through the group of pictures that holds t,
 * choosing the frame by comparing presentation timestamps (B-frames
 * reorder, so frames are never counted). Non-reference frames that end
 * before t are discarded by the decoder: nothing depends on them and they
 * cannot be the answer.
 */
#include "vid/core.h"

enum { DECODED = 0, TOO_LATE = 1 };

/* The stream ended at end of file: the last frame, unless it ends before
 * t and before the end its header promised (the file was cut short). */
static int
at_end(struct vctx *v, const struct vid_reader *r, int64_t target,
    bool have_prev, struct err *e)
{
	int64_t end = v->duration > 0 ? vid_ts(v, v->duration) : INT64_MAX;
	int64_t step = vid_frame_step(v);

	if (!have_prev)
		return TOO_LATE;
	if (r->last_pkt_pts != INT64_MIN && r->last_pkt_pts + 3 * step <
	    (target < end ? target : end))
		return err_set(e, ERR_UNDECODABLE,
		    "video does not decode at t: the file ends early "
		    "(truncated?)");
	av_frame_move_ref(v->frame, v->prev);
	return DECODED;
}

/*
 * Decodes forward from wherever the demuxer stands. DECODED: v->frame is
 * the answer. TOO_LATE: the first frame decoded (left in v->frame) is
 * already past target, or nothing decoded: the seek landed too late and an
 * earlier one is needed. scan_keys: with seek=key, the last keyframe at or
 * before target rather than the first one met.
 */
static int
decode_to(struct vctx *v, int64_t target, enum seek_mode mode,
    bool scan_keys, unsigned max_frames, struct err *e)
{
	int64_t step = vid_frame_step(v);
	struct vid_reader r;
	bool have_prev = false;
	unsigned decoded = 0;
	int rc;

	vid_reader_init(&r, v);
	r.keys_only = mode == SEEK_KEY;
	r.skip_before = target;
	av_frame_unref(v->prev);
	while ((rc = vid_read_frame(&r, e)) == 0) {
		int64_t pts = v->frame->best_effort_timestamp;
		int64_t dur = v->frame->pkt_duration > 0 ?
		    v->frame->pkt_duration : step;

		if (pts == AV_NOPTS_VALUE)
			pts = have_prev ? v->prev->best_effort_timestamp + step :
			    target;
		if (pts > target) {
			if (!have_prev)
				return TOO_LATE;
			/* The previous frame was on screen at t, unless
			 * frames between were lost (a damaged stretch). */
			if (mode == SEEK_ACCURATE &&
			    v->prev->best_effort_timestamp + 2 * step < target)
				return err_set(e, ERR_UNDECODABLE,
				    "video does not decode at t: frames are "
				    "missing there");
			av_frame_unref(v->frame);
			av_frame_move_ref(v->frame, v->prev);
			return DECODED;
		}
		if (mode == SEEK_KEY && !scan_keys)
			return DECODED;
		if (mode == SEEK_ACCURATE && target < pts + dur)
			return DECODED;
		av_frame_unref(v->prev);
		av_frame_move_ref(v->prev, v->frame);
		have_prev = true;
		if (++decoded > max_frames)
			return err_set(e, ERR_TOO_LARGE,
			    "t: more than %u frames to decode from the "
			    "keyframe (use seek=key)", max_frames);
	}
	if (rc != VID_END)
		return rc;
	return at_end(v, &r, target, have_prev, e);
}

int
vid_frame_at(struct vctx *v, double sec, enum seek_mode mode,
    unsigned max_frames, struct err *e)
{
	int64_t target = vid_ts(v, sec);
	int rc;

	for (unsigned a = 0; a <= VID_SEEK_FROM_START; a++) {
		/* With seek=key the first rung takes the keyframe it lands
		 * on; a later one scans on to the last keyframe before t. */
		bool scan_keys = a > 0;

		/* A seek that fails leaves the demuxer where it was: the
		 * decode says whether that will do. */
		(void)vid_seek(v, target, &a);
		rc = decode_to(v, target, mode, scan_keys, max_frames, e);
		if (rc != TOO_LATE)
			return rc;
	}
	/* From the start, the first frame is already past t. */
	if (v->frame->buf[0] != NULL)
		return 0;
	return err_set(e, ERR_UNDECODABLE, "video does not decode: no frame");
}
