/*
 * mjpeg - format=mjpeg of a user's file: its frames as multipart JPEG
 * parts at the video's own pace. See vstream.h for the contract.
 *
 * The file is read in order from `start` (vid_play), each frame placed on
 * the pacer's schedule (vid_pace: fps cap, loops laid end to end), planned
 * and rendered as a still is (vid_plan, vid_render) and encoded with
 * img_encode_rgb_opts(), the encoder of every other JPEG the server
 * writes: on the 640x360 RGB frames vid_render() makes it costs 1.45 ms of
 * CPU, libavcodec's mjpeg encoder 0.85 ms plus 1.15 ms to convert to the
 * YUVJ420P it takes, and with it q means what it means for stills.
 */
#include "stream/stream_int.h"

#include <string.h>

#include "img/img.h"
#include "stream/multipart.h"

struct mjpeg {
	struct params p;	/* the job's, as a JPEG still */
	struct img_enc enc;
	struct vid_play s;
	struct vid_pace pc;
	struct geom_plan plan;	/* from the first frame kept */
	unsigned turn;
	bool planned;
	struct membuf jpeg;	/* the part being sent */
};

/* s.v.frame planned (the first time), rendered and encoded into m->jpeg. */
static int
mjpeg_encode(struct mjpeg *m, const struct vid_job *job, struct err *e)
{
	AVFrame *f = m->s.v.frame;
	struct geom_limits gl;
	struct sink js;
	int rc;

	if (!m->planned) {
		/* Before the first part: a 413 is still an answer. */
		vid_geom_limits(&m->p, &job->limits.img, &gl);
		if ((rc = vid_plan(&m->s.v, &m->p, &gl, (unsigned)f->width,
		    (unsigned)f->height, vid_sar(&m->s.v, f), &m->plan,
		    &m->turn, e)) < 0)
			return rc;
		m->planned = true;
	}
	m->jpeg.len = 0;
	sink_init_membuf(&js, &m->jpeg);
	return vid_encode_frame(&m->s.v, &m->p, &m->plan, m->turn, &m->enc,
	    &js, e);
}

/* The next frame to send: 0 with t its schedule time, VID_END, or <0. */
static int
mjpeg_next(struct mjpeg *m, double *t, struct err *e)
{
	struct vid_play *s = &m->s;
	AVFrame *f = s->v.frame;
	int rc;

	for (;;) {
		if ((rc = vid_play_next(s, e)) < 0)
			return rc;
		if (rc == VID_END) {
			/* A pass that showed nothing would loop for ever. */
			if (!m->p.loop || m->pc.pass_frames == 0)
				return VID_END;
			vid_pace_loop(&m->pc);
			if ((rc = vid_play_seek(s, m->p.start, e)) < 0)
				return rc;
			continue;
		}
		if (vid_pace_place(&m->pc, vid_seconds_of(&s->v,
		    f->best_effort_timestamp), vid_seconds_of(&s->v,
		    f->pkt_duration > 0 ? f->pkt_duration : s->step), t))
			return 0;
		av_frame_unref(f);
	}
}

int
vstream_mjpeg(const struct vid_job *job, const char *boundary,
    struct sink *out, struct err *e)
{
	struct mjpeg m;
	unsigned parts = 0;
	int rc;

	memset(&m, 0, sizeof(m));
	m.p = *job->params;
	/* Each frame is a still: the JPEG encoder's own format. */
	m.p.format = OUT_JPEG;
	img_enc_from_params(&m.p, MT_JPEG, &job->limits.img, &m.enc);
	vid_pace_init(&m.pc, m.p.fps);
	membuf_init(&m.jpeg);
	if (!multipart_boundary_ok(boundary)) {
		rc = err_set(e, ERR_INTERNAL, "bad multipart boundary");
		goto out;
	}
	if ((rc = vid_play_open(&m.s, job, e)) < 0 ||
	    (rc = vstream_check_start(&m.s, &m.p, e)) < 0 ||
	    (rc = vid_play_seek(&m.s, m.p.start, e)) < 0)
		goto out;
	while (!vstream_stopped(job->stop)) {
		double t;

		if ((rc = mjpeg_next(&m, &t, e)) < 0)
			goto out;
		if (rc == VID_END)
			break;
		rc = mjpeg_encode(&m, job, e);
		av_frame_unref(m.s.v.frame);
		if (rc < 0)
			goto out;
		/* The clock starts when the first frame is ready to go. */
		if (parts == 0)
			vid_pace_start(&m.pc, t);
		else
			vid_pace_wait(&m.pc, t, job->stop);
		if (vstream_stopped(job->stop))
			break;
		if (multipart_part(out, boundary, "image/jpeg", m.jpeg.data,
		    m.jpeg.len) < 0) {
			rc = err_set(e, ERR_GONE, "client went away");
			goto out;
		}
		parts++;
	}
	if (parts == 0 && !vstream_stopped(job->stop)) {
		rc = err_set(e, ERR_UNDECODABLE,
		    "video does not decode: no frame");
		goto out;
	}
	rc = multipart_close(out, boundary) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 0;
out:
	membuf_cleanup(&m.jpeg);
	vid_play_close(&m.s);
	return rc;
}
