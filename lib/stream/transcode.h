/*
 * transcode - what the two halves of a progressive transcode share:
 * transcode.c (the muxer, the video encoder, the loop) and audio.c (the
 * audio stream: decoded, resampled, re-encoded). Private to lib/stream/.
 * Ownership: struct vt is vstream_transcode()'s; everything it points to
 * is freed there (vt_audio_free() for the audio half).
 */
#ifndef MF_TRANSCODE_H
#define MF_TRANSCODE_H

#include <stdbool.h>
#include <stdint.h>

#include <libavutil/audio_fifo.h>
#include <libswresample/swresample.h>

#include "stream/stream_int.h"

#define AUDIO_MAX_CH	64	/* input channels a transcode accepts */

struct vt_audio {
	int si;			/* the input's audio stream, -1: none */
	AVStream *in, *st;
	AVCodecContext *dec, *enc;
	SwrContext *swr;
	AVChannelLayout swr_layout;	/* the input the resampler is set for */
	int swr_fmt, swr_rate;
	AVAudioFifo *fifo;	/* resampled samples waiting for a whole frame */
	AVFrame *frame, *out;
	uint8_t **buf;		/* resampler output */
	int buf_cap;
	int64_t next_pts;	/* of the next sample out, 1/sample_rate */
	bool started;
};

struct vt {
	const struct vid_job *job;
	struct params p;
	struct vid_play src;
	struct sink *out;
	bool gone;		/* a sink write failed */
	size_t flushed;		/* out->written at the last sink_flush() */
	AVFormatContext *ofmt;
	AVIOContext *pb;
	AVCodecContext *venc;
	AVStream *vst;
	struct SwsContext *sws;
	AVFrame *yuv;
	AVPacket *pkt;
	struct geom_plan plan;
	unsigned turn;
	bool direct;		/* a scale only: swscale straight to YUV */
	double t0;		/* where the output starts, file time (s) */
	int64_t last_vpts;
	struct vid_fps fps;	/* the cap, on the output's times */
	struct vt_audio a;
};

/* A libav error while writing: the client gone, or the encoder's fault. */
int vt_fail(const struct vt *t, int averr, struct err *e, const char *what);

/* Sends frame (NULL: the end) to enc and muxes what comes out. */
int vt_encode(struct vt *t, AVCodecContext *enc, AVStream *st,
    const AVFrame *frame, struct err *e);

/*
 * The audio half. vt_audio_open(): before the muxer's header, keeps the
 * input's audio when it decodes and an encoder is there (else none);
 * an error only for memory. vt_audio_packet(): vid_reader's packet hook.
 * vt_audio_pump(): whole frames encoded (final: the rest too).
 * vt_audio_finish(): the tails, at the end. vt_audio_free(): safe on a
 * zeroed or half-opened one.
 */
int vt_audio_open(struct vt *t, struct err *e);
int vt_audio_packet(void *ctx, AVPacket *pkt, struct err *e);
int vt_audio_pump(struct vt *t, bool final, struct err *e);
int vt_audio_finish(struct vt *t, bool at_eof, struct err *e);
void vt_audio_free(struct vt_audio *a);

#endif
