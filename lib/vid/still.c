/*
 * vid/still - one still frame of a video at t, or at t=auto, planned,
 * rendered and encoded as an image would be. See vid.h for the contract.
 */
#include "vid/answer.h"

#include <math.h>

#include <libavutil/pixdesc.h>

#define AUTO_MAX_PROBES 6	/* t=auto: frames looked at, at most */

/*
 * t=auto: a black, white or flat opening (fade-in, slate, leader) makes a
 * poor poster. Looks at the keyframes at 0, 1, 2, 4, 8 and 16 s (within
 * the first fifth of the video) and takes the first whose luma is neither
 * dark (mean < 24) nor washed out (mean > 232) nor flat (standard
 * deviation < 12); failing all, the one with the most contrast.
 */
static double
frame_luma_score(const AVFrame *f, bool *good)
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
	double sum = 0, sq = 0, n = 0, mean, sd;

	*good = true;
	if (d == NULL || (d->flags & AV_PIX_FMT_FLAG_RGB) || d->nb_components < 3 ||
	    d->comp[0].depth > 8)
		return 0;	/* not 8-bit YUV: take it as it is */
	for (int y = 0; y < f->height; y += 4) {
		const uint8_t *row = f->data[0] + (size_t)y * f->linesize[0];

		for (int x = 0; x < f->width; x += 4) {
			sum += row[x];
			sq += (double)row[x] * row[x];
			n++;
		}
	}
	if (n == 0)
		return 0;
	mean = sum / n;
	sd = sqrt(fmax(0, sq / n - mean * mean));
	*good = mean >= 24 && mean <= 232 && sd >= 12;
	return sd;
}

static int
auto_frame(struct vctx *v, unsigned max_frames, struct err *e)
{
	static const double at[AUTO_MAX_PROBES] = { 0, 1, 2, 4, 8, 16 };
	double limit = v->duration > 0 ? v->duration / 5 : 16, best_t = 0;
	double best = -1;
	int rc;

	for (int i = 0; i < AUTO_MAX_PROBES && (i == 0 || at[i] <= limit); i++) {
		bool good;
		double score;

		if ((rc = vid_frame_at(v, at[i], SEEK_KEY, max_frames, e)) < 0)
			return rc;
		score = frame_luma_score(v->frame, &good);
		if (good)
			return 0;
		if (score > best) {
			best = score;
			best_t = at[i];
		}
	}
	return vid_frame_at(v, best_t, SEEK_KEY, max_frames, e);
}

static double
still_seconds(const struct vctx *v, const struct params *p)
{
	double t = p->t;

	if (p->t_kind == T_PERCENT)
		t = v->duration * p->t / 100.0;
	return t < 0 ? 0 : t;
}

int
vid_still(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e)
{
	const struct params *p = job->params;
	struct geom_limits gl;
	struct geom_plan plan;
	struct img_enc enc;
	unsigned turn;
	int rc;

	/* A video frame is no image format of its own: JPEG unless asked. */
	img_enc_from_params(p, MT_JPEG, &job->limits.img, &enc);
	vid_geom_limits(p, &job->limits.img, &gl);
	if (p->t_kind == T_AUTO)
		rc = auto_frame(v, job->limits.max_decode_frames, e);
	else
		rc = vid_frame_at(v, still_seconds(v, p), p->seek,
		    job->limits.max_decode_frames, e);
	if (rc < 0 || (rc = vid_plan(v, p, &gl, (unsigned)v->frame->width,
	    (unsigned)v->frame->height, vid_sar(v, v->frame), &plan, &turn,
	    e)) < 0)
		return rc;
	return vid_encode_frame(v, p, &plan, turn, &enc, out, e);
}
