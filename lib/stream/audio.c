/*
 * audio - the audio half of a progressive transcode: the input's audio
 * stream decoded, resampled to at most two channels and re-encoded (AAC
 * for MP4, Opus or else Vorbis for WebM), cut where the video starts. See
 * transcode.h for the contract.
 */
#include "stream/transcode.h"

#include <math.h>

#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>

static bool
rate_supported(const AVCodec *c, int rate)
{
	if (c->supported_samplerates == NULL)
		return true;
	for (const int *r = c->supported_samplerates; *r; r++)
		if (*r == rate)
			return true;
	return false;
}

static enum AVSampleFormat
pick_sample_fmt(const AVCodec *c)
{
	if (c->sample_fmts == NULL)
		return AV_SAMPLE_FMT_FLTP;
	for (const enum AVSampleFormat *f = c->sample_fmts; *f != -1; f++)
		if (*f == AV_SAMPLE_FMT_FLTP || *f == AV_SAMPLE_FMT_FLT)
			return *f;
	return c->sample_fmts[0];
}

void
vt_audio_free(struct vt_audio *a)
{
	avcodec_free_context(&a->dec);
	avcodec_free_context(&a->enc);
	swr_free(&a->swr);
	av_channel_layout_uninit(&a->swr_layout);
	if (a->fifo)
		av_audio_fifo_free(a->fifo);
	a->fifo = NULL;
	av_frame_free(&a->frame);
	av_frame_free(&a->out);
	if (a->buf)
		av_freep(&a->buf[0]);
	av_freep(&a->buf);
}

/*
 * Audio is kept when it decodes and an encoder is there; anything wrong
 * with it (a codec libav lacks, a layout of more than AUDIO_MAX_CH
 * channels) drops it: the video is what was asked for. Called before the
 * muxer's header; an error only for memory.
 */
int
vt_audio_open(struct vt *t, struct err *e)
{
	struct vt_audio *a = &t->a;
	AVFormatContext *in = t->src.v.fmt;
	bool webm = t->p.format == OUT_WEBM;
	const AVCodec *dc, *ec;
	AVCodecParameters *par;
	int ch;

	a->si = av_find_best_stream(in, AVMEDIA_TYPE_AUDIO, -1, t->src.v.si,
	    NULL, 0);
	if (a->si < 0)
		goto drop;
	a->in = in->streams[a->si];
	par = a->in->codecpar;
	ch = par->ch_layout.nb_channels;
	ec = webm ? avcodec_find_encoder_by_name("libopus") :
	    avcodec_find_encoder_by_name("aac");
	if (ec == NULL && webm)
		ec = avcodec_find_encoder_by_name("libvorbis");
	if ((dc = avcodec_find_decoder(par->codec_id)) == NULL || ec == NULL ||
	    ch <= 0 || ch > AUDIO_MAX_CH || par->sample_rate <= 0)
		goto drop;
	if ((a->dec = avcodec_alloc_context3(dc)) == NULL ||
	    (a->enc = avcodec_alloc_context3(ec)) == NULL ||
	    (a->frame = av_frame_alloc()) == NULL ||
	    (a->out = av_frame_alloc()) == NULL)
		goto nomem;
	if (avcodec_parameters_to_context(a->dec, par) < 0)
		goto drop;
	a->dec->thread_count = 1;
	a->dec->pkt_timebase = a->in->time_base;
	if (avcodec_open2(a->dec, dc, NULL) < 0)
		goto drop;

	a->enc->sample_rate = rate_supported(ec, par->sample_rate) ?
	    par->sample_rate : 48000;
	a->enc->sample_fmt = pick_sample_fmt(ec);
	av_channel_layout_default(&a->enc->ch_layout, ch > 2 ? 2 : ch);
	a->enc->bit_rate = 64000 * (ch > 2 ? 2 : ch);
	a->enc->time_base = (AVRational){ 1, a->enc->sample_rate };
	a->enc->thread_count = 1;
	if (t->ofmt->oformat->flags & AVFMT_GLOBALHEADER)
		a->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if (avcodec_open2(a->enc, ec, NULL) < 0)
		goto drop;
	if ((a->st = avformat_new_stream(t->ofmt, NULL)) == NULL)
		goto nomem;
	if (avcodec_parameters_from_context(a->st->codecpar, a->enc) < 0)
		goto nomem;
	a->st->time_base = a->enc->time_base;

	a->out->format = a->enc->sample_fmt;
	a->out->sample_rate = a->enc->sample_rate;
	a->out->nb_samples = a->enc->frame_size > 0 ? a->enc->frame_size : 1024;
	if (av_channel_layout_copy(&a->out->ch_layout, &a->enc->ch_layout) < 0 ||
	    av_frame_get_buffer(a->out, 0) < 0 ||
	    (a->fifo = av_audio_fifo_alloc(a->enc->sample_fmt,
	    a->enc->ch_layout.nb_channels, a->out->nb_samples * 4)) == NULL)
		goto nomem;
	return 0;
nomem:
	vt_audio_free(a);
	a->si = -1;
	return err_set(e, ERR_INTERNAL, "out of memory");
drop:
	/* The muxer's stream is added last, so none is left behind. */
	vt_audio_free(a);
	a->si = -1;
	return 0;
}

/* The resampler, set up (again) for the input frame f. */
static int
vt_audio_swr(struct vt_audio *a, const AVFrame *f)
{
	/* Zeroed: av_channel_layout_copy() uninits (frees) its dst first. */
	AVChannelLayout in = { 0 };
	int rc;

	if (a->swr != NULL && a->swr_fmt == f->format &&
	    a->swr_rate == f->sample_rate &&
	    av_channel_layout_compare(&a->swr_layout, &f->ch_layout) == 0)
		return 0;
	swr_free(&a->swr);
	av_channel_layout_uninit(&a->swr_layout);
	if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
		av_channel_layout_default(&in, f->ch_layout.nb_channels);
	else if ((rc = av_channel_layout_copy(&in, &f->ch_layout)) < 0)
		return rc;
	rc = swr_alloc_set_opts2(&a->swr, &a->enc->ch_layout,
	    a->enc->sample_fmt, a->enc->sample_rate, &in, f->format,
	    f->sample_rate, 0, NULL);
	av_channel_layout_uninit(&in);
	if (rc < 0 || (rc = swr_init(a->swr)) < 0)
		return rc;
	a->swr_fmt = f->format;
	a->swr_rate = f->sample_rate;
	return av_channel_layout_copy(&a->swr_layout, &f->ch_layout);
}

/* Resamples into the fifo (n input samples from in; NULL: the
 * resampler's tail). */
static int
vt_audio_convert(struct vt *t, const uint8_t **in, int n, struct err *e)
{
	struct vt_audio *a = &t->a;
	int max = swr_get_out_samples(a->swr, n), got;

	if (max <= 0)
		return 0;
	if (max > a->buf_cap) {
		if (a->buf)
			av_freep(&a->buf[0]);
		av_freep(&a->buf);
		a->buf_cap = 0;
		if (av_samples_alloc_array_and_samples(&a->buf, NULL,
		    a->enc->ch_layout.nb_channels, max, a->enc->sample_fmt,
		    0) < 0)
			return err_set(e, ERR_INTERNAL, "out of memory");
		a->buf_cap = max;
	}
	if ((got = swr_convert(a->swr, a->buf, max, in, n)) < 0)
		return vt_fail(t, got, e, "resample");
	if (got > 0 && av_audio_fifo_write(a->fifo, (void **)a->buf, got) < got)
		return err_set(e, ERR_INTERNAL, "out of memory");
	return 0;
}

/*
 * A decoded audio frame: samples before t0 cut off, the first kept one
 * placed at its time after t0, the rest counted on from there (the
 * encoders want a gapless run of samples).
 */
static int
vt_audio_frame(struct vt *t, const AVFrame *f, struct err *e)
{
	struct vt_audio *a = &t->a;
	const uint8_t *in[AUDIO_MAX_CH];
	int ch = f->ch_layout.nb_channels, skip = 0, rc;
	bool planar = av_sample_fmt_is_planar(f->format);
	int bps = av_get_bytes_per_sample(f->format);

	if (ch <= 0 || ch > AUDIO_MAX_CH || f->sample_rate <= 0 || bps <= 0)
		return 0;
	if (f->best_effort_timestamp != AV_NOPTS_VALUE) {
		double at = f->best_effort_timestamp * av_q2d(a->in->time_base);

		if (at < t->t0) {
			double cut = (t->t0 - at) * f->sample_rate;

			if (cut >= f->nb_samples)
				return 0;
			skip = (int)cut;
		}
		if (!a->started)
			a->next_pts = llround(fmax(0, at + (double)skip /
			    f->sample_rate - t->t0) * a->enc->sample_rate);
	}
	a->started = true;
	if ((rc = vt_audio_swr(a, f)) < 0)
		return vt_fail(t, rc, e, "resample");
	for (int i = 0; i < (planar ? ch : 1); i++)
		in[i] = f->extended_data[i] +
		    (size_t)skip * bps * (planar ? 1 : (size_t)ch);
	return vt_audio_convert(t, in, f->nb_samples - skip, e);
}

static int
vt_audio_decoded(struct vt *t, struct err *e)
{
	struct vt_audio *a = &t->a;
	int rc;

	while ((rc = avcodec_receive_frame(a->dec, a->frame)) == 0) {
		rc = vt_audio_frame(t, a->frame, e);
		av_frame_unref(a->frame);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* vid_reader's hook: the audio stream's packets decoded into the fifo;
 * every packet goes on to the reader (the video's to the decoder). */
int
vt_audio_packet(void *ctx, AVPacket *pkt, struct err *e)
{
	struct vt *t = ctx;
	int rc;

	if (t->a.enc == NULL || pkt->stream_index != t->a.si)
		return VID_PKT_DECODE;
	/* A damaged packet is skipped as players do. */
	if (avcodec_send_packet(t->a.dec, pkt) < 0)
		return VID_PKT_DECODE;
	rc = vt_audio_decoded(t, e);
	return rc < 0 ? rc : VID_PKT_DECODE;
}

/* Encodes whole frames from the fifo; final: the rest too. */
int
vt_audio_pump(struct vt *t, bool final, struct err *e)
{
	struct vt_audio *a = &t->a;
	int fs = a->enc ? a->out->nb_samples : 0, rc;
	bool short_ok = a->enc && (a->enc->codec->capabilities &
	    (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE));

	while (a->enc && (av_audio_fifo_size(a->fifo) >= fs ||
	    (final && av_audio_fifo_size(a->fifo) > 0))) {
		int n = av_audio_fifo_size(a->fifo);

		if (n > fs)
			n = fs;
		if ((rc = av_frame_make_writable(a->out)) < 0)
			return vt_fail(t, rc, e, "audio");
		a->out->nb_samples = fs;
		if (n < fs)
			av_samples_set_silence(a->out->extended_data, n, fs - n,
			    a->enc->ch_layout.nb_channels, a->enc->sample_fmt);
		if (av_audio_fifo_read(a->fifo, (void **)a->out->extended_data,
		    n) < n)
			return err_set(e, ERR_INTERNAL, "audio fifo");
		if (n < fs && short_ok)
			a->out->nb_samples = n;
		a->out->pts = a->next_pts;
		a->next_pts += a->out->nb_samples;
		rc = vt_encode(t, a->enc, a->st, a->out, e);
		a->out->nb_samples = fs;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The end of the audio: the decoder's and resampler's tails, the last
 * partial frame, the encoder's delay. */
int
vt_audio_finish(struct vt *t, bool at_eof, struct err *e)
{
	struct vt_audio *a = &t->a;
	int rc;

	if (a->enc == NULL)
		return 0;
	if (at_eof && avcodec_send_packet(a->dec, NULL) == 0 &&
	    (rc = vt_audio_decoded(t, e)) < 0)
		return rc;
	if (a->swr != NULL && (rc = vt_audio_convert(t, NULL, 0, e)) < 0)
		return rc;
	if ((rc = vt_audio_pump(t, true, e)) < 0)
		return rc;
	return vt_encode(t, a->enc, a->st, NULL, e);
}
