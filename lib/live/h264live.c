/*
 * h264live - JPEG frames to H.264 in fragmented MP4, in memory. See
 * h264live.h.
 *
 * The encoder and the muxer open on the first frame (its size is the
 * stream's when the config gives none). Each frame goes through the
 * muxer and is flushed as its own fragment at once (av_write_frame(NULL)
 * with frag_custom), so a fragment leaves as soon as its frame is
 * encoded, not when the next one comes.
 */
#include "live/h264live.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "live/fmp4.h"
#include "vid/core.h"


struct h264live {
	struct h264live_cfg cfg;
	unsigned keyint;
	bool timed;		/* rate unknown: keyframes by time */
	int64_t last_key;	/* 90 kHz, timed */
	uint32_t last_dur;	/* 90 kHz, timed */
	AVCodecContext *dec;	/* mjpeg */
	AVCodecContext *enc;	/* libx264, from the first frame */
	AVFrame *in, *yuv;
	AVPacket *pkt;
	struct SwsContext *sws;
	struct fmp4 fm;		/* the muxer, the init, the last fragment */
	int64_t t0_us;
	int64_t last_pts;	/* 90 kHz; -1 before the first */
	uint64_t frames;
	unsigned w, h;
};

/* The one place this file turns an AVERROR into an err. */
static int
h264live_fail(int averr, struct err *e, const char *what)
{
	char msg[128];

	av_strerror(averr, msg, sizeof(msg));
	return err_set(e, ERR_INTERNAL, "H.264 %s: %s", what, msg);
}

struct h264live *
h264live_new(const struct h264live_cfg *cfg, struct err *e)
{
	const AVCodec *mj = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
	struct h264live *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	h->cfg = *cfg;
	if (!(h->cfg.fps > 0 && h->cfg.fps <= 240)) {
		h->timed = h->cfg.keyint == 0;
		h->cfg.fps = 25;
	}
	if (h->cfg.quality == 0 || h->cfg.quality > 100)
		h->cfg.quality = 80;
	/* Timed: x264's own interval is only a backstop. */
	h->keyint = h->cfg.keyint ? h->cfg.keyint : h->timed ? 600 :
	    (unsigned)fmax(1, lround(h->cfg.fps));
	h->last_pts = -1;
	fmp4_init(&h->fm);
	if (avcodec_find_encoder_by_name("libx264") == NULL) {
		err_set(e, ERR_INTERNAL, "no libx264 encoder in libavcodec");
		goto fail;
	}
	if (mj == NULL || (h->dec = avcodec_alloc_context3(mj)) == NULL ||
	    (h->in = av_frame_alloc()) == NULL ||
	    (h->pkt = av_packet_alloc()) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto fail;
	}
	h->dec->thread_count = 1;
	if (avcodec_open2(h->dec, mj, NULL) < 0) {
		err_set(e, ERR_INTERNAL, "cannot open the JPEG decoder");
		goto fail;
	}
	return h;
fail:
	h264live_free(h);
	return NULL;
}

void
h264live_free(struct h264live *h)
{
	if (h == NULL)
		return;
	fmp4_close(&h->fm);
	avcodec_free_context(&h->enc);
	avcodec_free_context(&h->dec);
	av_frame_free(&h->in);
	av_frame_free(&h->yuv);
	av_packet_free(&h->pkt);
	sws_freeContext(h->sws);
	free(h);
}

static unsigned
even(unsigned n)
{
	return n < 2 ? 2 : n & ~1u;
}

/* The encoder and the muxer, for frames of w x h; the init segment. */
static int
h264live_open(struct h264live *h, unsigned w, unsigned ht, struct err *e)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	AVRational tb = { 1, H264LIVE_TIMESCALE };
	AVDictionary *o = NULL;
	AVCodecContext *c;
	char params[96];
	int rc;

	h->w = even(h->cfg.width ? h->cfg.width : w);
	h->h = even(h->cfg.height ? h->cfg.height : ht);
	if (h->w > H264LIVE_MAX_SIDE || h->h > H264LIVE_MAX_SIDE)
		return err_set(e, ERR_TOO_LARGE, "H.264: %ux%u is over %u "
		    "pixels a side", h->w, h->h, H264LIVE_MAX_SIDE);
	if ((h->enc = c = avcodec_alloc_context3(codec)) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	c->width = (int)h->w;
	c->height = (int)h->h;
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	c->time_base = tb;
	c->framerate = av_d2q(h->cfg.fps, 1001000);
	c->gop_size = (int)h->keyint;
	c->keyint_min = (int)h->keyint;
	c->max_b_frames = 0;
	/* Processes are the unit of parallelism. */
	c->thread_count = 1;
	c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	av_dict_set(&o, "preset", "veryfast", 0);
	av_dict_set(&o, "tune", "zerolatency", 0);
	av_dict_set(&o, "forced-idr", "1", 0);
	/* q 80 -> crf 23, x264's own default (as transcode.c maps it). */
	av_dict_set_int(&o, "crf", lround(51 - h->cfg.quality * 0.35), 0);
	/* Keyframes every keyint frames and only there: segments of one
	 * interval each, and a viewer's wait for one is bounded. */
	snprintf(params, sizeof(params), "scenecut=0:open-gop=0:keyint=%u:"
	    "min-keyint=%u", h->keyint, h->keyint);
	av_dict_set(&o, "x264-params", params, 0);
	rc = avcodec_open2(c, codec, &o);
	av_dict_free(&o);
	if (rc < 0)
		return h264live_fail(rc, e, "encoder");

	if ((h->yuv = av_frame_alloc()) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	h->yuv->format = c->pix_fmt;
	h->yuv->width = c->width;
	h->yuv->height = c->height;
	/* Padded planes: swscale's and x264's vector code run past a row. */
	if ((rc = av_frame_get_buffer(h->yuv, 0)) < 0)
		return h264live_fail(rc, e, "frame");

	/* The muxer, with the encoder's parameters (its avcC). */
	{
		AVCodecParameters *par = avcodec_parameters_alloc();

		if (par == NULL)
			return err_set(e, ERR_INTERNAL, "out of memory");
		if ((rc = avcodec_parameters_from_context(par, c)) >= 0)
			rc = fmp4_open(&h->fm, par, tb, c->framerate, e);
		else
			rc = h264live_fail(rc, e, "muxer");
		avcodec_parameters_free(&par);
		return rc < 0 ? rc : 0;
	}
}

static int
h264live_decode(struct h264live *h, const unsigned char *jpeg, size_t len,
    struct err *e)
{
	int rc;

	if (len == 0 || len > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
		return err_set(e, ERR_UNDECODABLE, "empty frame");
	av_packet_unref(h->pkt);
	if ((rc = av_new_packet(h->pkt, (int)len)) < 0)
		return err_set(e, ERR_INTERNAL, "out of memory");
	memcpy(h->pkt->data, jpeg, len);
	h->pkt->flags |= AV_PKT_FLAG_KEY;
	rc = avcodec_send_packet(h->dec, h->pkt);
	av_packet_unref(h->pkt);
	if (rc >= 0)
		rc = avcodec_receive_frame(h->dec, h->in);
	if (rc < 0 || h->in->width <= 0 || h->in->height <= 0) {
		avcodec_flush_buffers(h->dec);
		return err_set(e, ERR_UNDECODABLE, "a frame does not decode "
		    "as JPEG");
	}
	return 0;
}

/* The packet the encoder gave, muxed as one fragment into h->out. */
static int
h264live_mux(struct h264live *h, struct h264live_frag *out, struct err *e)
{
	int64_t pts = h->pkt->pts;
	uint32_t dur = h->timed && h->last_dur ? h->last_dur :
	    (uint32_t)lround(H264LIVE_TIMESCALE / h->cfg.fps);
	bool key = (h->pkt->flags & AV_PKT_FLAG_KEY) != 0;
	int rc;

	h->pkt->duration = dur;
	if ((rc = fmp4_write(&h->fm, h->pkt, h->enc->time_base, e)) < 0)
		return rc;
	out->data = h->fm.out.data;
	out->len = h->fm.out.len;
	out->key = key;
	out->pts = pts;
	out->duration = dur;
	return out->len > 0 ? 1 : 0;
}

int
h264live_push(struct h264live *h, const unsigned char *jpeg, size_t len,
    int64_t pts_us, struct h264live_frag *out, struct err *e)
{
	int64_t pts;
	int rc;

	if ((rc = h264live_decode(h, jpeg, len, e)) < 0)
		return rc;
	if (h->enc == NULL) {
		if ((rc = h264live_open(h, (unsigned)h->in->width,
		    (unsigned)h->in->height, e)) < 0) {
			/* Not half-open: the next frame tries again. */
			avcodec_free_context(&h->enc);
			av_frame_free(&h->yuv);
			fmp4_close(&h->fm);
			fmp4_init(&h->fm);
			return rc;
		}
		h->t0_us = pts_us;
	}
	rc = vid_scale_into(&h->sws, (const uint8_t *const *)h->in->data,
	    h->in->linesize, h->in->width, h->in->height, h->in->format,
	    h->yuv, SWS_BILINEAR, e);
	av_frame_unref(h->in);
	if (rc < 0)
		return rc;
	/* 90 kHz from the first frame, strictly increasing. */
	pts = (pts_us - h->t0_us) * 9 / 100;
	if (pts <= h->last_pts)
		pts = h->last_pts + 1;
	h->yuv->pict_type = AV_PICTURE_TYPE_NONE;
	if (h->timed) {
		if (h->last_pts >= 0) {
			int64_t d = pts - h->last_pts;

			h->last_dur = (uint32_t)(d > H264LIVE_TIMESCALE ?
			    H264LIVE_TIMESCALE : d);
		}
		if (h->frames == 0 || pts - h->last_key >= H264LIVE_TIMESCALE -
		    (int64_t)h->last_dur / 2) {
			h->yuv->pict_type = AV_PICTURE_TYPE_I;
			h->last_key = pts;
		}
	}
	h->last_pts = pts;
	h->yuv->pts = pts;
	if ((rc = avcodec_send_frame(h->enc, h->yuv)) < 0)
		return h264live_fail(rc, e, "encoder");
	h->frames++;
	rc = avcodec_receive_packet(h->enc, h->pkt);
	if (rc == AVERROR(EAGAIN))
		return 0;
	if (rc < 0)
		return h264live_fail(rc, e, "encoder");
	rc = h264live_mux(h, out, e);
	av_packet_unref(h->pkt);
	return rc;
}

const unsigned char *
h264live_init_segment(const struct h264live *h, size_t *len)
{
	*len = h->fm.init.len;
	return h->fm.init.len > 0 ? h->fm.init.data : NULL;
}

void
h264live_size(const struct h264live *h, unsigned *w, unsigned *ht)
{
	*w = h->w;
	*ht = h->h;
}

uint64_t
h264live_frames(const struct h264live *h)
{
	return h->frames;
}
