/*
 * h264pass - an H.264 input's packets remuxed into fragmented MP4, in
 * memory. See h264pass.h.
 *
 * The muxer is h264live's (fmp4.h, one fragment per packet) with the
 * input's codec parameters: its avcC goes into the moov as it is (Annex B
 * parameter sets and packets, as from MPEG-TS or RTSP, are converted by
 * the muxer). Times: the input's decode times on the 90 kHz clock from
 * the first keyframe, kept increasing across a discontinuity (a file that
 * starts again, a camera that restarts its clock) by moving everything
 * after it on to follow the last packet.
 */
#include "live/h264pass.h"

#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "live/fmp4.h"

#define DEFAULT_DUR (H264LIVE_TIMESCALE / 25)

struct h264pass {
	AVRational tb;		/* the input stream's */
	struct fmp4 fm;		/* the muxer, the init, the last fragment */
	AVPacket *pkt;
	bool started;		/* the first keyframe came */
	bool measured;		/* the first interval ended in time */
	bool too_long;
	int64_t offset;		/* 90 kHz, added to the input's times */
	int64_t last_dts;	/* 90 kHz, of the last packet muxed */
	int64_t last_key;	/* 90 kHz */
	uint32_t last_dur;
	uint64_t frames;
};

static const AVRational clock90k = { 1, H264LIVE_TIMESCALE };

/* The one place this file turns an AVERROR into an err. */
static int
pass_fail(int averr, struct err *e, const char *what)
{
	char msg[128];

	av_strerror(averr, msg, sizeof(msg));
	return err_set(e, ERR_INTERNAL, "H.264 remux %s: %s", what, msg);
}

bool
h264pass_is_h264(const struct AVCodecParameters *par)
{
	return par->codec_type == AVMEDIA_TYPE_VIDEO &&
	    par->codec_id == AV_CODEC_ID_H264;
}

bool
h264pass_takes(const struct AVCodecParameters *par, const char **why)
{
	const char *no = NULL;

	if (!h264pass_is_h264(par))
		no = "not H.264";
	else if (par->format != AV_PIX_FMT_YUV420P &&
	    par->format != AV_PIX_FMT_YUVJ420P)
		no = "not 8-bit 4:2:0";
	else if (par->width <= 0 || par->height <= 0 ||
	    par->width > H264LIVE_MAX_SIDE || par->height > H264LIVE_MAX_SIDE)
		no = "size unknown or too large";
	else if (par->extradata == NULL || par->extradata_size < 7)
		no = "no parameter sets";
	if (why != NULL)
		*why = no;
	return no == NULL;
}

void
h264pass_free(struct h264pass *p)
{
	if (p == NULL)
		return;
	fmp4_close(&p->fm);
	av_packet_free(&p->pkt);
	free(p);
}

struct h264pass *
h264pass_new(const struct AVCodecParameters *par, int tb_num, int tb_den,
    double fps, struct err *e)
{
	struct h264pass *p;
	const char *why;

	if (!h264pass_takes(par, &why)) {
		err_set(e, ERR_UNSUPPORTED, "H.264 remux: %s", why);
		return NULL;
	}
	if (tb_num <= 0 || tb_den <= 0) {
		err_set(e, ERR_UNSUPPORTED, "H.264 remux: no time base");
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	p->tb = (AVRational){ tb_num, tb_den };
	/* Until a packet's own duration or interval says otherwise. */
	p->last_dur = fps >= 1 && fps <= 240 ?
	    (uint32_t)(H264LIVE_TIMESCALE / fps + 0.5) : DEFAULT_DUR;
	fmp4_init(&p->fm);
	if ((p->pkt = av_packet_alloc()) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto fail;
	}
	/* The muxer with the input's parameters (its avcC as it is). */
	if (fmp4_open(&p->fm, par, clock90k, (AVRational){ 0, 1 }, e) < 0)
		goto fail;
	return p;
fail:
	h264pass_free(p);
	return NULL;
}

/*
 * The packet's decode time on the output clock: increasing, a
 * discontinuity closed up after the last packet. *dur its duration.
 */
static int64_t
pass_time(struct h264pass *p, const AVPacket *pkt, uint32_t *dur)
{
	int64_t ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
	int64_t d;

	*dur = pkt->duration > 0 ? (uint32_t)av_rescale_q(pkt->duration,
	    p->tb, clock90k) : p->last_dur;
	if (*dur == 0)
		*dur = 1;
	if (ts == AV_NOPTS_VALUE) {
		if (!p->started)
			return 0;
		return p->last_dts + p->last_dur;
	}
	d = av_rescale_q(ts, p->tb, clock90k);
	if (!p->started) {
		p->offset = -d;
		return 0;
	}
	d += p->offset;
	if (d <= p->last_dts) {
		/* Back in time, or stalled: on after the last. */
		p->offset += p->last_dts + p->last_dur - d;
		d = p->last_dts + p->last_dur;
	} else if (pkt->duration <= 0) {
		/* Unknown: the interval before it stands in. */
		*dur = (uint32_t)(d - p->last_dts);
	}
	return d;
}

/* Muxes the packet at decode time dts as one fragment into *out. */
static int
pass_mux(struct h264pass *p, const AVPacket *in, int64_t dts, uint32_t dur,
    bool key, struct h264live_frag *out, struct err *e)
{
	int64_t cts = 0, pts;
	int rc;

	if (in->pts != AV_NOPTS_VALUE && in->dts != AV_NOPTS_VALUE &&
	    in->pts > in->dts)
		cts = av_rescale_q(in->pts - in->dts, p->tb, clock90k);
	pts = dts + cts;
	if ((rc = av_packet_ref(p->pkt, in)) < 0)
		return pass_fail(rc, e, "packet");
	p->pkt->stream_index = 0;
	p->pkt->dts = dts;
	p->pkt->pts = pts;
	p->pkt->duration = dur;
	rc = fmp4_write(&p->fm, p->pkt, clock90k, e);
	av_packet_unref(p->pkt);
	if (rc < 0)
		return rc;
	p->frames++;
	out->data = p->fm.out.data;
	out->len = p->fm.out.len;
	out->key = key;
	out->pts = pts;
	out->duration = dur;
	return out->len > 0 ? 1 : 0;
}

int
h264pass_push(struct h264pass *p, const struct AVPacket *pkt,
    struct h264live_frag *out, struct err *e)
{
	const int64_t max_gop = (int64_t)(H264PASS_MAX_GOP *
	    H264LIVE_TIMESCALE * 1.05);
	bool key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
	uint32_t dur;
	int64_t dts;

	if (p->too_long)
		return H264PASS_LONG;
	if (pkt->size <= 0 || (!p->started && !key))
		return 0;
	dts = pass_time(p, pkt, &dur);
	if (!p->started) {
		p->started = true;
		p->last_key = dts;
	} else if (dts - p->last_key > max_gop) {
		/* This group ran (or its next keyframe came) too late. */
		p->too_long = true;
		return H264PASS_LONG;
	} else if (key) {
		p->measured = true;
		p->last_key = dts;
	}
	p->last_dts = dts;
	p->last_dur = dur;
	/* The first group only measures the interval. */
	if (!p->measured)
		return 0;
	return pass_mux(p, pkt, dts, dur, key, out, e);
}

const unsigned char *
h264pass_init_segment(const struct h264pass *p, size_t *len)
{
	*len = p->fm.init.len;
	return p->measured && p->fm.init.len > 0 ? p->fm.init.data : NULL;
}

uint64_t
h264pass_frames(const struct h264pass *p)
{
	return p->frames;
}
