/*
 * vid/sprite - a storyboard: C x R frames evenly spaced over the video in
 * one image, and the WebVTT cues pointing into it. See vid.h for the
 * contract.
 */
#include "vid/answer.h"

#include <math.h>

#include "core/json.h"

/* Tile size of a sprite, from the stream's header (the VTT needs it
 * without decoding; the sprite uses the same). The whole sheet, every
 * tile, is what the output limits bound. */
static int
tile_plan(const struct vctx *v, const struct vid_job *job,
    struct geom_plan *plan, unsigned *turn, struct err *e)
{
	const AVCodecParameters *par = v->st->codecpar;
	const struct params *p = job->params;
	struct geom_limits gl;

	vid_geom_limits(p, &job->limits.img, &gl);
	gl.tiles_x = p->sprite_cols;
	gl.tiles_y = p->sprite_rows;
	return vid_plan(v, p, &gl, (unsigned)par->width, (unsigned)par->height,
	    vid_sar(v, NULL), plan, turn, e);
}

static void
vtt_time(struct membuf *m, double s)
{
	long long ms = llround(s * 1000);

	json_raw(m, "%02lld:%02lld:%02lld.%03lld", ms / 3600000,
	    ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

int
vid_vtt(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e)
{
	const struct params *p = job->params;
	unsigned n = p->sprite_cols * p->sprite_rows, turn;
	struct geom_plan plan;
	struct membuf m;
	int rc;

	if ((rc = tile_plan(v, job, &plan, &turn, e)) < 0)
		return rc;
	if (v->duration <= 0)
		return err_set(e, ERR_UNDECODABLE, "video has no duration");
	membuf_init(&m);
	json_raw(&m, "WEBVTT\n");
	for (unsigned i = 0; i < n; i++) {
		json_raw(&m, "\n");
		vtt_time(&m, v->duration * i / n);
		json_raw(&m, " --> ");
		vtt_time(&m, v->duration * (i + 1) / n);
		json_raw(&m, "\n%s#xywh=%u,%u,%u,%u\n", job->sprite_url,
		    i % p->sprite_cols * plan.out_w,
		    i / p->sprite_cols * plan.out_h, plan.out_w, plan.out_h);
	}
	rc = sink_write(out, m.data, m.len) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 0;
	membuf_cleanup(&m);
	return rc;
}

/* Tile i shows the frame at the middle of the i-th of n equal spans. */
int
vid_sprite(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e)
{
	const struct params *p = job->params;
	unsigned n = p->sprite_cols * p->sprite_rows, turn;
	enum seek_mode mode = (p->given & P_SEEK) ? p->seek : SEEK_KEY;
	struct rgb sheet = { 0 }, tile = { 0 };
	struct geom_plan plan;
	struct img_enc enc;
	int rc;

	if ((rc = tile_plan(v, job, &plan, &turn, e)) < 0)
		goto out;
	if (rgb_alloc(&sheet, plan.out_w * p->sprite_cols,
	    plan.out_h * p->sprite_rows) < 0) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	rgb_fill(&sheet, 0x000000);
	for (unsigned i = 0; i < n; i++) {
		double t = v->duration > 0 ? v->duration * (i + 0.5) / n : 0;

		if ((rc = vid_frame_at(v, t, mode, job->limits.max_decode_frames,
		    e)) < 0 ||
		    (rc = vid_render(v, p, &plan, turn, &tile, e)) < 0)
			goto out;
		/* A stream that changes size mid-way keeps to its tile. */
		rgb_blit(&sheet, i % p->sprite_cols * plan.out_w,
		    i / p->sprite_cols * plan.out_h, &tile, 0, 0,
		    tile.w < plan.out_w ? tile.w : plan.out_w,
		    tile.h < plan.out_h ? tile.h : plan.out_h);
		rgb_free(&tile);
	}
	img_enc_from_params(p, MT_JPEG, &job->limits.img, &enc);
	rc = img_encode_rgb_opts(&sheet, &enc, out, e);
out:
	rgb_free(&tile);
	rgb_free(&sheet);
	return rc;
}
