/*
 * venc - a transcode's video encoder and its frames. See venc.h.
 */
#include "stream/venc.h"

#include <math.h>
#include <string.h>

#include <libavutil/cpu.h>
#include <libavutil/opt.h>

/*
 * A transcode's frames: at most the largest frame of H.264 level 5.2
 * (36864 macroblocks, 4096x2304), what browsers decode; the encoders keep
 * a few dozen frames in flight (x264's lookahead, VP8's reference
 * buffers), so this bounds a stream's memory, not only the picture's.
 * Sides: libx264 refuses more than 16384, libvpx's VP8 more than 16383.
 */
#define VENC_MAX_PIXELS		(36864ull * 256)
#define VENC_MAX_SIDE_H264	16384u
#define VENC_MAX_SIDE_VP8	16383u

static unsigned
even(unsigned n)
{
	return n < 2 ? 2 : n & ~1u;
}

/*
 * The whole of each plane, the padding right of each line included: x264's
 * SIMD copies read into it, and heap garbage there made the bytes differ
 * from one request to the next. The scaler writes only the picture.
 */
static void
venc_clear(AVFrame *f)
{
	for (int i = 0; i < 3; i++)
		memset(f->data[i], i ? 128 : 0, (size_t)f->linesize[i] *
		    (size_t)(i ? (f->height + 1) / 2 : f->height));
}

int
venc_plan(const struct vctx *v, const struct vid_job *job,
    const struct params *p, struct geom_plan *plan, unsigned *turn,
    struct err *e)
{
	const AVCodecParameters *par = v->st->codecpar;
	unsigned long long mo = job->limits.img.max_output_pixels;
	bool vp8 = p->format == OUT_WEBM;
	struct geom_limits gl = { 0 };

	gl.max_output_pixels = mo && mo < VENC_MAX_PIXELS ? mo :
	    VENC_MAX_PIXELS;
	gl.max_side = vp8 ? VENC_MAX_SIDE_VP8 : VENC_MAX_SIDE_H264;
	gl.encoder = vp8 ? "VP8" : "H.264";
	return vid_plan(v, p, &gl, (unsigned)par->width, (unsigned)par->height,
	    vid_sar(v, NULL), plan, turn, e);
}

int
venc_open(struct vt *t, double gop_seconds, struct err *e)
{
	struct vctx *v = &t->src.v;
	bool webm = t->p.format == OUT_WEBM;
	const AVCodec *codec = avcodec_find_encoder_by_name(webm ? "libvpx" :
	    "libx264");
	AVRational fr = v->st->avg_frame_rate;
	unsigned q = t->p.quality ? t->p.quality :
	    t->job->limits.img.default_quality;
	AVCodecContext *c;
	AVDictionary *o = NULL;
	double fps;
	int rc;

	if (codec == NULL)
		return err_set(e, ERR_INTERNAL, "no %s encoder",
		    webm ? "VP8" : "H.264");
	if (q == 0 || q > 100)
		q = 80;
	/* The plan from the header: the muxer's header comes before any
	 * frame is decoded; a frame of another size is scaled into it. */
	if ((rc = venc_plan(v, t->job, &t->p, &t->plan, &t->turn, e)) < 0)
		return rc;
	t->direct = t->turn == 0 && !t->p.flip_h && !t->p.flip_v &&
	    t->plan.finish == GEOM_NONE;
	if (fr.num <= 0 || fr.den <= 0)
		fr = v->st->r_frame_rate;
	if (fr.num <= 0 || fr.den <= 0 || av_q2d(fr) > 240)
		fr = (AVRational){ 25, 1 };
	if (t->fps.period > 0 && av_q2d(fr) > t->p.fps)
		fr = av_d2q(t->p.fps, 1001000);
	fps = av_q2d(fr);

	if ((t->venc = c = avcodec_alloc_context3(codec)) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	/* Sides <= VENC_MAX_SIDE_*: the plan said so. */
	c->width = (int)even(t->plan.out_w);
	c->height = (int)even(t->plan.out_h);
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	c->time_base = v->st->time_base;
	c->framerate = fr;
	c->gop_size = (int)fmax(1, lround(gop_seconds * fps));
	/* Processes are the unit of parallelism. */
	c->thread_count = 1;
	if (t->ofmt->oformat->flags & AVFMT_GLOBALHEADER)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if (webm) {
		/* Constant quality under a bitrate ceiling; q 80 -> crf 31. */
		c->bit_rate = (int64_t)(c->width * (double)c->height * fps *
		    0.25);
		c->qmin = 4;
		c->qmax = 63;
		av_dict_set(&o, "deadline", "realtime", 0);
		av_dict_set(&o, "cpu-used", "8", 0);
		av_dict_set(&o, "lag-in-frames", "0", 0);
		av_dict_set_int(&o, "crf", lround(63 - q * 0.4), 0);
	} else {
		/* q 80 -> crf 23, x264's own default. */
		av_dict_set(&o, "preset", "veryfast", 0);
		/* x264's AVX-512 code reads memory it has not written when
		 * its macroblock tree weighs B-frames (measured with libx264
		 * 164: the same frames in, other bytes out from one request
		 * to the next in a worker, and alike under MALLOC_PERTURB_);
		 * its AVX2 code does not (valgrind). A CPU with AVX-512 has
		 * all that "AVX2" names, so x264 stops there. */
		if (av_get_cpu_flags() & AV_CPU_FLAG_AVX512)
			av_dict_set(&o, "x264-params", "asm=AVX2", 0);
		av_dict_set_int(&o, "crf", lround(51 - q * 0.35), 0);
	}
	rc = avcodec_open2(c, codec, &o);
	av_dict_free(&o);
	if (rc < 0)
		return vt_fail(t, rc, e, "video encoder");
	if ((t->vst = avformat_new_stream(t->ofmt, NULL)) == NULL ||
	    (t->yuv = av_frame_alloc()) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	if ((rc = avcodec_parameters_from_context(t->vst->codecpar, c)) < 0)
		return vt_fail(t, rc, e, "video encoder");
	t->vst->time_base = c->time_base;
	t->yuv->format = c->pix_fmt;
	t->yuv->width = c->width;
	t->yuv->height = c->height;
	if ((rc = av_frame_get_buffer(t->yuv, 0)) < 0)
		return vt_fail(t, rc, e, "frame");
	venc_clear(t->yuv);
	return 0;
}

int
venc_frame(struct vt *t, int64_t pts, struct err *e)
{
	struct vctx *v = &t->src.v;
	AVFrame *f = v->frame;
	struct rgb rgb = { 0 };
	int stride, rc;

	if (pts <= t->last_vpts)
		return 0;
	/* The encoder let go of the last frame when it took it (one
	 * thread); were it still held, a new buffer would need clearing. */
	if (!av_frame_is_writable(t->yuv)) {
		if ((rc = av_frame_make_writable(t->yuv)) < 0)
			return vt_fail(t, rc, e, "frame");
		venc_clear(t->yuv);
	}
	if (t->direct) {
		rc = vid_scale_into(&t->sws, (const uint8_t *const *)f->data,
		    f->linesize, f->width, f->height, f->format, t->yuv,
		    SWS_BICUBIC, e);
	} else {
		/* Turned, mirrored, cut or padded as a still is, then to YUV. */
		if ((rc = vid_render(v, &t->p, &t->plan, t->turn, &rgb, e)) < 0)
			goto out;
		stride = (int)rgb.stride;	/* <= RGB_MAX_STRIDE */
		rc = vid_scale_into(&t->sws, (const uint8_t *const *)&rgb.px,
		    &stride, (int)rgb.w, (int)rgb.h, AV_PIX_FMT_RGB24, t->yuv,
		    SWS_BICUBIC, e);
	}
	if (rc < 0)
		goto out;
	t->last_vpts = pts;
	t->yuv->pts = pts;
	rc = vt_encode(t, t->venc, t->vst, t->yuv, e);
out:
	rgb_free(&rgb);
	return rc;
}
