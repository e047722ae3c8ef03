/*
 * transcode - format=mp4 and format=webm of a user's file: a progressive
 * transcode, fragmented MP4 H.264 + AAC or WebM VP8 + Opus, flushed to the
 * sink a fragment or cluster at a time. See vstream.h for the contract.
 *
 * The file is read in order from `start` (vid_play); the audio stream's
 * packets go to audio.c on the way. Frames are planned once from the
 * header (vid_plan) and scaled into the encoder's YUV (vid_scale_into()),
 * straight from the decoder's format when nothing but a scale is asked
 * for, else through vid_render()'s turned, mirrored, cut or padded RGB:
 * the video encoder is venc.c's, which format=hls's transcode shares.
 */
#include "stream/transcode.h"

#include <math.h>
#include <string.h>

#include <libavutil/opt.h>

#include "stream/venc.h"

#define OUT_AVIO_BUF	(64 * 1024)
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

/* One decoded frame (t->src.v.frame): capped, scaled, encoded. */
static int
vt_video_frame(struct vt *t, struct err *e)
{
	double sec = vid_seconds_of(&t->src.v,
	    t->src.v.frame->best_effort_timestamp);

	if (!vid_fps_keep(&t->fps, sec - t->t0))
		return 0;
	/* The frame on screen at start begins the output. */
	return venc_frame(t, llround(fmax(0, sec - t->t0) /
	    av_q2d(t->venc->time_base)), e);
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
	    (rc = venc_open(&t, GOP_SECONDS, e)) < 0 ||
	    (rc = vt_audio_open(&t, e)) < 0)
		goto out;
	/* For the MP4 and WebM muxers' headers (format=hls's MPEG-TS
	 * segments are made without it). */
	t.vst->avg_frame_rate = t.venc->framerate;
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
