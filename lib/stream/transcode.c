/*
 * transcode - format=mp4 and format=webm of a user's file: a progressive
 * transcode, fragmented MP4 H.264 + AAC or WebM VP8 + Opus, flushed to the
 * sink a fragment or cluster at a time. See vstream.h for the contract.
 *
 * The file is read in order from `start` (vid_play); the audio stream's
 * packets go to audio.c on the way. Frames are planned once from the
 * header (vid_plan) and scaled into the encoder's YUV (vid_scale_into()),
 * straight from the decoder's format when nothing but a scale is asked
 * for, else through vid_render()'s turned, mirrored, cut or padded RGB.
 */
#include "stream/transcode.h"

#include <math.h>
#include <string.h>

#include <libavutil/opt.h>

#define OUT_AVIO_BUF	(64 * 1024)
/*
 * A transcode's frames: at most the largest frame of H.264 level 5.2
 * (36864 macroblocks, 4096x2304), what browsers decode; the encoders keep
 * a few dozen frames in flight (x264's lookahead, VP8's reference
 * buffers), so this bounds a stream's memory, not only the picture's.
 * Sides: libx264 refuses more than 16384, libvpx's VP8 more than 16383.
 */
#define VT_MAX_PIXELS		(36864ull * 256)
#define VT_MAX_SIDE_H264	16384u
#define VT_MAX_SIDE_VP8		16383u
/* Transcodes: a keyframe, so an MP4 fragment, every 2 s. */
#define GOP_SECONDS	2

static int
vt_write(void *opaque, uint8_t *buf, int len)
{
	struct vt *t = opaque;

	if (sink_write(t->out, buf, (size_t)len) < 0) {
		t->gone = true;
		return AVERROR(EPIPE);
	}
	return len;
}

int
vt_fail(const struct vt *t, int averr, struct err *e, const char *what)
{
	if (t->gone)
		return err_set(e, ERR_GONE, "client went away");
	(void)vid_fail(averr, e, what);
	/* The user's file decoded; what failed is ours. */
	e->kind = ERR_INTERNAL;
	return -(int)ERR_INTERNAL;
}

/* One sink_flush() per fragment or cluster: the muxers hand their bytes
 * to the AVIOContext only when one is complete. */
static int
vt_flush(struct vt *t, struct err *e)
{
	if (t->gone)
		return err_set(e, ERR_GONE, "client went away");
	if (t->out->written == t->flushed)
		return 0;
	t->flushed = t->out->written;
	if (sink_flush(t->out) < 0) {
		t->gone = true;
		return err_set(e, ERR_GONE, "client went away");
	}
	return 0;
}

int
vt_encode(struct vt *t, AVCodecContext *enc, AVStream *st,
    const AVFrame *frame, struct err *e)
{
	int rc = avcodec_send_frame(enc, frame);

	if (rc < 0 && rc != AVERROR_EOF)
		return vt_fail(t, rc, e, "encode");
	while ((rc = avcodec_receive_packet(enc, t->pkt)) == 0) {
		av_packet_rescale_ts(t->pkt, enc->time_base, st->time_base);
		t->pkt->stream_index = st->index;
		if ((rc = av_interleaved_write_frame(t->ofmt, t->pkt)) < 0)
			return vt_fail(t, rc, e, "mux");
		if ((rc = vt_flush(t, e)) < 0)
			return rc;
	}
	if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
		return 0;
	return vt_fail(t, rc, e, "encode");
}

static int
vt_open_output(struct vt *t, struct err *e)
{
	const char *name = t->p.format == OUT_WEBM ? "webm" : "mp4";
	unsigned char *buf;
	int rc;

	if ((rc = avformat_alloc_output_context2(&t->ofmt, NULL, name,
	    NULL)) < 0)
		return vt_fail(t, rc, e, "muxer");
	if ((buf = av_malloc(OUT_AVIO_BUF)) == NULL ||
	    (t->pb = avio_alloc_context(buf, OUT_AVIO_BUF, 1, t, NULL, vt_write,
	    NULL)) == NULL) {
		av_free(buf);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	/* No seek callback: the muxers write forward only. */
	t->ofmt->pb = t->pb;
	t->ofmt->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_FLUSH_PACKETS;
	if ((t->pkt = av_packet_alloc()) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	return 0;
}

static unsigned
even(unsigned n)
{
	return n < 2 ? 2 : n & ~1u;
}

static int
vt_open_video(struct vt *t, struct err *e)
{
	struct vctx *v = &t->src.v;
	const AVCodecParameters *par = v->st->codecpar;
	bool webm = t->p.format == OUT_WEBM;
	const AVCodec *codec = avcodec_find_encoder_by_name(webm ? "libvpx" :
	    "libx264");
	AVRational sar = vid_sar(v, NULL);
	AVRational fr = v->st->avg_frame_rate;
	struct geom_limits gl = { 0 };
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
	 * frame is decoded; a frame of another size is scaled into it.
	 * What the encoder takes bounds it (see VT_MAX_PIXELS). */
	gl.max_output_pixels = t->job->limits.img.max_output_pixels &&
	    t->job->limits.img.max_output_pixels < VT_MAX_PIXELS ?
	    t->job->limits.img.max_output_pixels : VT_MAX_PIXELS;
	gl.max_side = webm ? VT_MAX_SIDE_VP8 : VT_MAX_SIDE_H264;
	gl.encoder = webm ? "VP8" : "H.264";
	if ((rc = vid_plan(v, &t->p, &gl, (unsigned)par->width,
	    (unsigned)par->height, sar, &t->plan, &t->turn, e)) < 0)
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
	/* Sides <= VT_MAX_SIDE_*: the plan said so. */
	c->width = (int)even(t->plan.out_w);
	c->height = (int)even(t->plan.out_h);
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	c->time_base = v->st->time_base;
	c->framerate = fr;
	c->gop_size = (int)fmax(1, lround(GOP_SECONDS * fps));
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
	t->vst->avg_frame_rate = fr;
	t->yuv->format = c->pix_fmt;
	t->yuv->width = c->width;
	t->yuv->height = c->height;
	if ((rc = av_frame_get_buffer(t->yuv, 0)) < 0)
		return vt_fail(t, rc, e, "frame");
	return 0;
}

/* One decoded frame (t->src.v.frame): capped, scaled, encoded. */
static int
vt_video_frame(struct vt *t, struct err *e)
{
	struct vctx *v = &t->src.v;
	AVFrame *f = v->frame;
	AVCodecContext *c = t->venc;
	double sec = vid_seconds_of(v, f->best_effort_timestamp);
	struct rgb rgb = { 0 };
	int64_t pts;
	int rgb_stride, rc;

	if (!vid_fps_keep(&t->fps, sec - t->t0))
		return 0;
	/* The frame on screen at start begins the output. */
	pts = llround(fmax(0, sec - t->t0) / av_q2d(c->time_base));
	if (pts <= t->last_vpts)
		return 0;
	if (t->direct) {
		rc = vid_scale_into(&t->sws, (const uint8_t *const *)f->data,
		    f->linesize, f->width, f->height, f->format, t->yuv,
		    SWS_BICUBIC, e);
	} else {
		/* Turned, mirrored, cut or padded as a still is, then to YUV. */
		if ((rc = vid_render(v, &t->p, &t->plan, t->turn, &rgb, e)) < 0)
			goto out;
		rgb_stride = (int)rgb.stride;	/* <= RGB_MAX_STRIDE */
		rc = vid_scale_into(&t->sws, (const uint8_t *const *)&rgb.px,
		    &rgb_stride, (int)rgb.w, (int)rgb.h, AV_PIX_FMT_RGB24,
		    t->yuv, SWS_BICUBIC, e);
	}
	if (rc < 0)
		goto out;
	t->last_vpts = pts;
	t->yuv->pts = pts;
	rc = vt_encode(t, c, t->vst, t->yuv, e);
out:
	rgb_free(&rgb);
	return rc;
}

/* The muxer's header, once the first frame decoded: nothing is written
 * before. */
static int
vt_start(struct vt *t, struct err *e)
{
	AVDictionary *opts = NULL;
	int rc;

	if ((rc = vid_play_next(&t->src, e)) < 0)
		return rc;
	if (rc == VID_END)
		return err_set(e, ERR_UNDECODABLE,
		    "video does not decode: no frame");
	if (t->p.format == OUT_MP4)
		av_dict_set(&opts, "movflags",
		    "frag_keyframe+empty_moov+default_base_moof", 0);
	rc = avformat_write_header(t->ofmt, &opts);
	av_dict_free(&opts);
	if (rc < 0)
		return vt_fail(t, rc, e, "mux");
	return vt_flush(t, e);
}

/* The encoders' tails, the trailer, the last flush. */
static int
vt_finish(struct vt *t, bool at_eof, struct err *e)
{
	int rc;

	if ((rc = vt_audio_finish(t, at_eof, e)) < 0 ||
	    (rc = vt_encode(t, t->venc, t->vst, NULL, e)) < 0)
		return rc;
	if ((rc = av_write_trailer(t->ofmt)) < 0)
		return vt_fail(t, rc, e, "mux");
	avio_flush(t->pb);
	return vt_flush(t, e);
}

int
vstream_transcode(const struct vid_job *job, struct sink *out,
    struct err *e)
{
	struct vt t;
	bool at_eof = false;
	int rc;

	memset(&t, 0, sizeof(t));
	t.job = job;
	t.p = *job->params;
	t.out = out;
	t.flushed = out->written;
	t.last_vpts = INT64_MIN;
	t.a.si = -1;
	vid_fps_init(&t.fps, t.p.fps);
	if (t.p.format != OUT_MP4 && t.p.format != OUT_WEBM) {
		rc = err_set(e, ERR_BAD_PARAM, "format: not a transcode");
		goto out;
	}
	if ((rc = vid_play_open(&t.src, job, e)) < 0 ||
	    (rc = vstream_check_start(&t.src, &t.p, e)) < 0 ||
	    (rc = vt_open_output(&t, e)) < 0 ||
	    (rc = vt_open_video(&t, e)) < 0 ||
	    (rc = vt_audio_open(&t, e)) < 0)
		goto out;
	t.src.r.on_packet = vt_audio_packet;
	t.src.r.ctx = &t;
	if ((rc = vid_play_seek(&t.src, t.p.start, e)) < 0)
		goto out;
	t.t0 = vid_seconds_of(&t.src.v, t.src.target);
	if ((rc = vt_start(&t, e)) < 0)
		goto out;
	for (;;) {
		rc = vt_video_frame(&t, e);
		av_frame_unref(t.src.v.frame);
		if (rc < 0 || (rc = vt_audio_pump(&t, false, e)) < 0)
			goto out;
		if (vstream_stopped(job->stop))
			break;
		if ((rc = vid_play_next(&t.src, e)) < 0)
			goto out;
		if (rc == VID_END) {
			at_eof = true;
			break;
		}
	}
	rc = vt_finish(&t, at_eof, e);
out:
	vt_audio_free(&t.a);
	avcodec_free_context(&t.venc);
	sws_freeContext(t.sws);
	av_frame_free(&t.yuv);
	av_packet_free(&t.pkt);
	avformat_free_context(t.ofmt);
	if (t.pb != NULL) {
		av_freep(&t.pb->buffer);
		avio_context_free(&t.pb);
	}
	vid_play_close(&t.src);
	return rc;
}
