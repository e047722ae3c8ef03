/*
 * vid - video answers on libav: dispatch. See vid.h for the contract; the
 * answers are still.c, sprite.c and info.c, the steps they share the
 * core's (core.h).
 */
#include "vid/answer.h"

#include <string.h>

void
vid_init(void)
{
	av_log_set_level(AV_LOG_QUIET);
}

const char *
vid_output_mime(const struct vid_job *job)
{
	const struct params *p = job->params;
	struct img_enc enc;

	if (p->info)
		return "application/json";
	if (p->format == OUT_VTT)
		return "text/vtt; charset=utf-8";
	if (p->format == OUT_BLURHASH)
		return "text/plain; charset=utf-8";
	img_enc_from_params(p, MT_JPEG, &job->limits.img, &enc);
	return sniff_mime(enc.type);
}

int
vid_run(const struct vid_job *job, struct sink *out, struct err *e)
{
	const struct params *p = job->params;
	struct vctx v;
	int rc;

	if ((rc = vid_open(&v, job, !p->info, p->info, e)) < 0)
		goto out;
	v.max_decoded_px = job->limits.max_decode_pixels;
	if (p->info)
		rc = vid_info(&v, job, out, e);
	else if ((p->given & P_SPRITE) && p->format == OUT_VTT)
		rc = vid_vtt(&v, job, out, e);
	else if (p->given & P_SPRITE)
		rc = vid_sprite(&v, job, out, e);
	else
		rc = vid_still(&v, job, out, e);
out:
	vid_close(&v);
	return rc;
}
