/*
 * vid - video stills on libav. See vid.h for the contract.
 *
 * A still at t: seek to the keyframe at or before t, then decode forward
 * only through the group of pictures that holds t, choosing the frame by
 * comparing presentation timestamps (B-frames reorder, so frames are never
 * counted). Non-reference frames that end before t are skipped by the
 * decoder: nothing depends on them and they cannot be the answer. One codec
 * thread; swscale goes from the decoder's format straight to packed RGB at
 * the output's scale, which the encoder takes as it is.
 */
#include "vid/vid_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "req/geom.h"
#include "core/json.h"
#include "core/rgb.h"

#define AVIO_BUF (64 * 1024)
#define AUTO_MAX_PROBES 6	/* t=auto: frames looked at, at most */

void
vid_init(void)
{
	av_log_set_level(AV_LOG_QUIET);
}

const char *
vid_output_mime(const struct vid_job *job)
{
	const struct params *p = job->params;
	struct img_job ij = { .params = p, .type = MT_JPEG };

	if (p->info)
		return "application/json";
	if (p->format == OUT_VTT)
		return "text/vtt; charset=utf-8";
	return sniff_mime(img_output_type(&ij));
}

/* The one place an AVERROR becomes an err. */
int
vid_fail(int averr, struct err *e, const char *what)
{
	char msg[AV_ERROR_MAX_STRING_SIZE] = "";
	enum err_kind kind;

	av_strerror(averr, msg, sizeof(msg));
	switch (averr) {
	case AVERROR(ENOMEM):
		kind = ERR_INTERNAL;
		break;
	case AVERROR(EPERM):
	case AVERROR_DECODER_NOT_FOUND:
	case AVERROR_DEMUXER_NOT_FOUND:
	case AVERROR_PROTOCOL_NOT_FOUND:
		kind = ERR_UNSUPPORTED;
		break;
	default:
		kind = ERR_UNDECODABLE;
		break;
	}
	return err_set(e, kind, "%s: %s", what, msg);
}

static int
vio_read(void *opaque, uint8_t *buf, int n)
{
	struct vio *io = opaque;
	ssize_t r;

	if (io->pos >= io->size)
		return AVERROR_EOF;
	do
		r = pread(io->fd, buf, (size_t)n, io->pos);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return AVERROR(errno);
	if (r == 0)
		return AVERROR_EOF;
	io->pos += r;
	return (int)r;
}

static int64_t
vio_seek(void *opaque, int64_t off, int whence)
{
	struct vio *io = opaque;
	int64_t pos;

	if (whence & AVSEEK_SIZE)
		return io->size;
	switch (whence & ~AVSEEK_FORCE) {
	case SEEK_SET: pos = off; break;
	case SEEK_CUR: pos = io->pos + off; break;
	case SEEK_END: pos = io->size + off; break;
	default: return AVERROR(EINVAL);
	}
	if (pos < 0)
		return AVERROR(EINVAL);
	io->pos = pos;
	return pos;
}

/*
 * Every URL a demuxer would open beside the file (HLS segments, concat
 * entries, QuickTime references, subtitles) is refused.
 */
static int
vio_deny(struct AVFormatContext *s, AVIOContext **pb, const char *url,
    int flags, AVDictionary **options)
{
	(void)s;
	(void)pb;
	(void)url;
	(void)flags;
	(void)options;
	return AVERROR(EPERM);
}

void
vid_close(struct vctx *v)
{
	sws_freeContext(v->sws);
	av_frame_free(&v->frame);
	av_frame_free(&v->prev);
	av_packet_free(&v->pkt);
	avcodec_free_context(&v->dec);
	if (v->fmt)
		avformat_close_input(&v->fmt);
	if (v->pb) {
		av_freep(&v->pb->buffer);
		avio_context_free(&v->pb);
	}
}

static unsigned
stream_rotation(const AVStream *st)
{
	const int32_t *m = (const int32_t *)av_stream_get_side_data(st,
	    AV_PKT_DATA_DISPLAYMATRIX, NULL);
	double theta;
	long r;

	if (m == NULL)
		return 0;
	/* The matrix turns counter-clockwise; the picture is shown turned
	 * the other way. Rounded to the quarter turn. */
	theta = -av_display_rotation_get(m);
	if (isnan(theta))
		return 0;
	r = lround(theta / 90.0) * 90 % 360;
	if (r < 0)
		r += 360;
	return (unsigned)r;
}

/*
 * A picture size is checked from the container before decoding, but a
 * codec header (an H.264 SPS) may claim far more than the container: the
 * decoder itself refuses frames over max_video_side squared, so a lying
 * header cannot make it allocate gigabytes.
 */
static void
pixel_cap(const struct vid_limits *lim, AVDictionary **opts)
{
	if (lim->max_width && lim->max_height)
		av_dict_set_int(opts, "max_pixels",
		    (int64_t)lim->max_width * lim->max_height, 0);
}

static int
open_decoder(AVCodecContext *dec, const AVCodec *codec,
    const struct vid_limits *lim)
{
	AVDictionary *opts = NULL;
	int rc;

	pixel_cap(lim, &opts);
	rc = avcodec_open2(dec, codec, &opts);
	av_dict_free(&opts);
	return rc;
}

/* avformat_find_stream_info() with the decoders it opens capped too. */
static int
find_info(struct vctx *v, const struct vid_limits *lim)
{
	/* Streams found while probing (MPEG-TS) come after these: only the
	 * options given are freed. */
	unsigned n = v->fmt->nb_streams;
	AVDictionary **opts = av_calloc(n ? n : 1, sizeof(*opts));
	int rc;

	if (opts == NULL)
		return AVERROR(ENOMEM);
	for (unsigned i = 0; i < n; i++)
		pixel_cap(lim, &opts[i]);
	rc = avformat_find_stream_info(v->fmt, opts);
	for (unsigned i = 0; i < n; i++)
		av_dict_free(&opts[i]);
	av_free(opts);
	return rc;
}

int
vid_open(struct vctx *v, const struct vid_job *job, bool want_decoder,
    bool full_probe, struct err *e)
{
	const struct vid_limits *lim = &job->limits;
	const AVInputFormat *ifmt = av_find_input_format(sniff_demuxer(job->type));
	const AVCodec *codec = NULL;
	AVDictionary *opts = NULL;
	unsigned char *buf = NULL;
	AVCodecParameters *par;
	int rc;

	memset(v, 0, sizeof(*v));
	v->si = -1;
	v->io = (struct vio){ .fd = job->fd, .pos = 0, .size = job->size };
	if (ifmt == NULL)
		return err_set(e, ERR_UNSUPPORTED, "format not allowed");
	if (lim->max_file_size && (unsigned long long)job->size > lim->max_file_size)
		return err_set(e, ERR_TOO_LARGE,
		    "file size %lld is over the limit of %llu bytes",
		    (long long)job->size, lim->max_file_size);
	if ((buf = av_malloc(AVIO_BUF)) == NULL ||
	    (v->pb = avio_alloc_context(buf, AVIO_BUF, 0, &v->io, vio_read,
	    NULL, vio_seek)) == NULL ||
	    (v->fmt = avformat_alloc_context()) == NULL) {
		if (v->pb == NULL)
			av_free(buf);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	v->fmt->pb = v->pb;
	v->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	v->fmt->io_open = vio_deny;
	/* "none" names no protocol, so none matches. */
	v->fmt->protocol_whitelist = av_strdup("none");
	v->fmt->format_whitelist = av_strdup(
	    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts");
	if (lim->probe_size > 0)
		v->fmt->probesize = lim->probe_size;
	if (lim->analyze_duration > 0)
		v->fmt->max_analyze_duration = lim->analyze_duration;
	av_dict_set(&opts, "enable_drefs", "0", 0);
	av_dict_set(&opts, "use_absolute_path", "0", 0);
	rc = avformat_open_input(&v->fmt, NULL, ifmt, &opts);
	av_dict_free(&opts);
	if (rc < 0) {
		/* avformat_open_input() freed the context on failure. */
		return vid_fail(rc, e, "video does not open");
	}

	v->si = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	par = v->si >= 0 ? v->fmt->streams[v->si]->codecpar : NULL;
	/*
	 * MP4 and Matroska headers already say everything a still needs;
	 * reading ahead to "find stream info" would decode frames for nothing.
	 */
	if (full_probe || par == NULL || par->width <= 0 || par->height <= 0 ||
	    par->format < 0 || job->type == MT_AVI || job->type == MT_MPEGTS) {
		if ((rc = find_info(v, lim)) < 0)
			return vid_fail(rc, e, "video does not decode");
		v->si = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1,
		    NULL, 0);
	}
	if (v->fmt->duration > 0)
		v->duration = v->fmt->duration / (double)AV_TIME_BASE;
	if (lim->max_duration > 0 && v->duration > lim->max_duration)
		return err_set(e, ERR_TOO_LARGE,
		    "duration %.1f s is over the limit of %.0f s", v->duration,
		    lim->max_duration);
	if (v->si < 0) {
		if (!want_decoder)
			return 0;
		return err_set(e, ERR_UNDECODABLE, v->fmt->nb_streams ?
		    "no video stream: the file has only audio or data" :
		    "no video stream in the file");
	}
	v->st = v->fmt->streams[v->si];
	par = v->st->codecpar;
	v->rotation = stream_rotation(v->st);
	if ((lim->max_width && (unsigned)par->width > lim->max_width) ||
	    (lim->max_height && (unsigned)par->height > lim->max_height))
		return err_set(e, ERR_TOO_LARGE,
		    "video %dx%d is over the limit of %ux%u", par->width,
		    par->height, lim->max_width, lim->max_height);
	if (v->duration <= 0 && v->st->duration > 0)
		v->duration = v->st->duration * av_q2d(v->st->time_base);
	if (!want_decoder)
		return 0;

	if ((codec = avcodec_find_decoder(par->codec_id)) == NULL)
		return err_set(e, ERR_UNSUPPORTED, "no decoder for codec %s",
		    avcodec_get_name(par->codec_id));
	if ((v->dec = avcodec_alloc_context3(codec)) == NULL ||
	    (v->pkt = av_packet_alloc()) == NULL ||
	    (v->frame = av_frame_alloc()) == NULL ||
	    (v->prev = av_frame_alloc()) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	if ((rc = avcodec_parameters_to_context(v->dec, par)) < 0)
		return vid_fail(rc, e, "decoder");
	/* Processes are the unit of parallelism. */
	v->dec->thread_count = 1;
	v->dec->thread_type = 0;
	v->dec->pkt_timebase = v->st->time_base;
	if ((rc = open_decoder(v->dec, codec, lim)) < 0)
		return vid_fail(rc, e, "decoder");
	return 0;
}

/*
 * Seconds to a timestamp of the video stream, rounded down: the frame on
 * screen at t started at or before t.
 */
int64_t
vid_ts(const struct vctx *v, double sec)
{
	int64_t ts = (int64_t)floor(sec / av_q2d(v->st->time_base) + 1e-6);

	if (v->st->start_time != AV_NOPTS_VALUE)
		ts += v->st->start_time;
	return ts;
}

int64_t
vid_frame_step(const struct vctx *v)
{
	AVRational r = v->st->avg_frame_rate;

	if (r.num <= 0 || r.den <= 0)
		r = v->st->r_frame_rate;
	if (r.num <= 0 || r.den <= 0)
		return 1;
	return av_rescale_q(1, av_inv_q(r), v->st->time_base);
}

enum { DECODED = 0, TOO_LATE = 1 };

/*
 * Decodes forward from wherever the demuxer stands. DECODED: v->frame is
 * the answer. TOO_LATE: the first frame decoded (left in v->frame) is
 * already past target, or nothing decoded: the seek landed too late and an
 * earlier one is needed.
 */
static int
vid_decode_to(struct vctx *v, int64_t target, enum seek_mode mode,
    bool scan_keys, unsigned max_frames, struct err *e)
{
	int64_t step = vid_frame_step(v), last_pts = INT64_MIN;
	bool have_prev = false, eof = false;
	unsigned decoded = 0;
	int rc;

	avcodec_flush_buffers(v->dec);
	av_frame_unref(v->prev);
	for (;;) {
		if (!eof) {
			rc = av_read_frame(v->fmt, v->pkt);
			if (rc == AVERROR_EOF) {
				eof = true;
				rc = avcodec_send_packet(v->dec, NULL);
			} else if (rc < 0) {
				return vid_fail(rc, e, "video does not decode");
			} else if (v->pkt->stream_index != v->si) {
				av_packet_unref(v->pkt);
				continue;
			} else {
				int64_t pd = v->pkt->duration > 0 ?
				    v->pkt->duration : step;

				if (v->pkt->pts != AV_NOPTS_VALUE &&
				    v->pkt->pts > last_pts)
					last_pts = v->pkt->pts;

				/* Only keyframes matter when looking for one;
				 * a non-reference frame that ends before t can
				 * be neither the answer nor needed by it. */
				if (mode == SEEK_KEY)
					v->dec->skip_frame = AVDISCARD_NONKEY;
				else
					v->dec->skip_frame =
					    v->pkt->pts != AV_NOPTS_VALUE &&
					    !(v->pkt->flags & AV_PKT_FLAG_KEY) &&
					    v->pkt->pts + pd <= target ?
					    AVDISCARD_NONREF : AVDISCARD_DEFAULT;
				rc = avcodec_send_packet(v->dec, v->pkt);
				av_packet_unref(v->pkt);
				/* A damaged packet is skipped as players do. */
				if (rc == AVERROR_INVALIDDATA)
					rc = 0;
			}
			if (rc < 0 && rc != AVERROR(EAGAIN) && rc != AVERROR_EOF)
				return vid_fail(rc, e, "video does not decode");
		}
		while ((rc = avcodec_receive_frame(v->dec, v->frame)) == 0) {
			int64_t pts = v->frame->best_effort_timestamp;
			int64_t dur = v->frame->pkt_duration > 0 ?
			    v->frame->pkt_duration : step;

			if (v->frame->flags & AV_FRAME_FLAG_CORRUPT) {
				av_frame_unref(v->frame);
				continue;
			}
			if (pts == AV_NOPTS_VALUE)
				pts = have_prev ? v->prev->best_effort_timestamp + step :
				    target;
			if (pts > target) {
				if (!have_prev)
					return TOO_LATE;
				/* The previous frame was on screen at t, unless
				 * frames between were lost (a damaged stretch). */
				if (mode == SEEK_ACCURATE &&
				    v->prev->best_effort_timestamp + 2 * step < target)
					return err_set(e, ERR_UNDECODABLE,
					    "video does not decode at t: frames "
					    "are missing there");
				av_frame_unref(v->frame);
				av_frame_move_ref(v->frame, v->prev);
				return DECODED;
			}
			if (mode == SEEK_KEY && !scan_keys)
				return DECODED;
			if (mode == SEEK_ACCURATE && target < pts + dur)
				return DECODED;
			av_frame_unref(v->prev);
			av_frame_move_ref(v->prev, v->frame);
			have_prev = true;
			if (++decoded > max_frames)
				return err_set(e, ERR_TOO_LARGE,
				    "t: more than %u frames to decode from the "
				    "keyframe (use seek=key)", max_frames);
		}
		if (rc == AVERROR_EOF) {
			int64_t end = v->duration > 0 ? vid_ts(v, v->duration) :
			    INT64_MAX;

			if (!have_prev)
				return TOO_LATE;
			/* Past the end: the last frame. The stream ending
			 * before t and before the end its header promised:
			 * the file was cut short. */
			if (last_pts != INT64_MIN && last_pts + 3 * step <
			    (target < end ? target : end))
				return err_set(e, ERR_UNDECODABLE,
				    "video does not decode at t: the file ends "
				    "early (truncated?)");
			av_frame_move_ref(v->frame, v->prev);
			return DECODED;
		}
		if (rc != AVERROR(EAGAIN))
			return vid_fail(rc, e, "video does not decode");
	}
}

/*
 * Leaves in v->frame the frame shown at sec (SEEK_ACCURATE: the one whose
 * presentation interval holds sec; past the end, the last one) or the
 * keyframe at or before sec (SEEK_KEY). The seek goes to the keyframe at
 * or before sec; containers without an index (MPEG-TS) or a damaged
 * keyframe can land it later, so it is retried 2, 8 and 32 s earlier and
 * finally from the start, where a frame after sec means sec is before the
 * first frame.
 */
int
vid_frame_at(struct vctx *v, double sec, enum seek_mode mode,
    unsigned max_frames, struct err *e)
{
	static const double back[] = { 0, 2, 8, 32, -1 };
	int64_t target = vid_ts(v, sec);
	int64_t start = v->st->start_time != AV_NOPTS_VALUE ?
	    v->st->start_time : 0;
	int rc = TOO_LATE;

	for (size_t i = 0; i < sizeof(back) / sizeof(*back); i++) {
		int64_t at = back[i] < 0 ? start :
		    target - (int64_t)(back[i] / av_q2d(v->st->time_base));

		if (at <= start && i > 0 && back[i] >= 0)
			continue;	/* the start comes last, once */
		if (at < start)
			at = start;
		/* The start of an MPEG-TS is byte 0: a search by timestamp may
		 * not reach that far back (Matroska accepts a byte seek and then
		 * fails to parse, so only there). */
		if ((back[i] >= 0 || strcmp(v->fmt->iformat->name, "mpegts") != 0 ||
		    av_seek_frame(v->fmt, -1, 0, AVSEEK_FLAG_BYTE) < 0) &&
		    av_seek_frame(v->fmt, v->si, at, AVSEEK_FLAG_BACKWARD) < 0)
			(void)av_seek_frame(v->fmt, v->si, at,
			    AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_ANY);
		rc = vid_decode_to(v, target, mode, i > 0, max_frames, e);
		if (rc != TOO_LATE)
			return rc;
		if (at == start && back[i] >= 0)
			break;
	}
	/* From the start, the first frame is already past t. */
	if (v->frame->buf[0] != NULL)
		return 0;
	return err_set(e, ERR_UNDECODABLE, "video does not decode: no frame");
}

/*
 * Width the frame is shown at: non-square pixels stretched, at most
 * VID_MAX_SAR times (or 1/VID_MAX_SAR of) the coded width. Real video
 * stays far inside (anamorphic DVD 32:27, HDV 4:3, 1:2 line-doubled); a
 * header saying 1000:1 would otherwise turn a small frame into a huge or
 * a one-pixel-thin picture and every plan from it into an extreme one.
 */
static unsigned
display_width(unsigned w, AVRational sar)
{
	double r;

	if (sar.num <= 0 || sar.den <= 0 || sar.num == sar.den)
		return w;
	r = fmin(fmax(av_q2d(sar), 1.0 / VID_MAX_SAR), VID_MAX_SAR);
	return (unsigned)fmax(1, fmin(lround(w * r), UINT_MAX));
}

AVRational
vid_sar(const struct vctx *v, const AVFrame *f)
{
	/* The container's or the stream's first, as players do; the
	 * frame's (the codec header's) when they say nothing. */
	return av_guess_sample_aspect_ratio(v->fmt, v->st, (AVFrame *)f);
}

/* The output plan for frames of w x h with sar, and the total turn. */
int
vid_plan(const struct vctx *v, const struct params *p,
    const struct geom_limits *lim, unsigned w, unsigned h, AVRational sar,
    struct geom_plan *plan, unsigned *turn, struct err *e)
{
	unsigned dw = display_width(w, sar), dh = h;
	struct geom_box box;

	*turn = (v->rotation + p->rotate) % 360;
	if (*turn == 90 || *turn == 270) {
		unsigned t = dw;
		dw = dh;
		dh = t;
	}
	geom_box_from_params(p, &box);
	return geom_plan_limited(dw, dh, &box, lim, plan, e);
}

void
vid_geom_limits(const struct params *p, const struct img_limits *il,
    struct geom_limits *gl)
{
	struct img_job ij = { .params = p, .type = MT_JPEG };

	memset(gl, 0, sizeof(*gl));
	gl->max_output_pixels = il->max_output_pixels;
	/* The cues of format=vtt point into the sprite, a JPEG. */
	img_encoder_limits(p->format == OUT_VTT ? MT_JPEG :
	    img_output_type(&ij), gl);
}

/* v->frame scaled, turned, cut or padded into out (allocated here). */
int
vid_render(struct vctx *v, const struct params *p,
    const struct geom_plan *plan, unsigned turn, struct rgb *out,
    struct err *e)
{
	AVFrame *f = v->frame;
	bool swap = turn == 90 || turn == 270;
	unsigned tw = swap ? plan->scale_h : plan->scale_w;
	unsigned th = swap ? plan->scale_w : plan->scale_h;
	struct rgb sc = { 0 };
	uint8_t *dst[4] = { NULL };
	int dst_stride[4] = { 0 };
	int rc = 0;

	out->px = NULL;
	/* Only a plan from geom_plan_limited() gets here: sides fit an int. */
	if (tw == 0 || th == 0 || tw > GEOM_MAX_SIDE || th > GEOM_MAX_SIDE) {
		rc = err_set(e, ERR_TOO_LARGE, "size: %ux%u is over the limit "
		    "of %u pixels a side", tw, th, GEOM_MAX_SIDE);
		goto out;
	}
	v->sws = sws_getCachedContext(v->sws, f->width, f->height, f->format,
	    (int)tw, (int)th, AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND,
	    NULL, NULL, NULL);
	if (v->sws == NULL) {
		rc = err_set(e, ERR_UNDECODABLE, "cannot scale pixel format %s",
		    av_get_pix_fmt_name(f->format) ? av_get_pix_fmt_name(f->format) : "?");
		goto out;
	}
	if (rgb_alloc(&sc, tw, th) < 0) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	dst[0] = sc.px;
	dst_stride[0] = (int)sc.stride;	/* <= RGB_MAX_STRIDE */
	sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0,
	    f->height, dst, dst_stride);
	if (rgb_orient(&sc, turn, p->flip_h, p->flip_v) < 0) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (plan->finish == GEOM_NONE) {
		*out = sc;
		sc.px = NULL;
		goto out;
	}
	if (rgb_alloc(out, plan->out_w, plan->out_h) < 0) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (plan->finish == GEOM_CROP) {
		rgb_blit(out, 0, 0, &sc, plan->off_x, plan->off_y, plan->out_w,
		    plan->out_h);
	} else {
		rgb_fill(out, p->bg);
		rgb_blit(out, plan->off_x, plan->off_y, &sc, 0, 0, sc.w, sc.h);
	}
out:
	rgb_free(&sc);
	return rc;
}

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
vid_auto_frame(struct vctx *v, unsigned max_frames, struct err *e)
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
vid_seconds(const struct vctx *v, const struct params *p)
{
	double t = p->t;

	if (p->t_kind == T_PERCENT)
		t = v->duration * p->t / 100.0;
	return t < 0 ? 0 : t;
}

static int
vid_still(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e)
{
	const struct params *p = job->params;
	struct img_job ij = { .params = p, .type = MT_JPEG,
	    .limits = job->limits.img };
	struct geom_limits gl;
	struct geom_plan plan;
	struct rgb frame = { 0 };
	unsigned turn;
	int rc;

	vid_geom_limits(p, &job->limits.img, &gl);
	if (p->t_kind == T_AUTO)
		rc = vid_auto_frame(v, job->limits.max_decode_frames, e);
	else
		rc = vid_frame_at(v, vid_seconds(v, p), p->seek,
		    job->limits.max_decode_frames, e);
	if (rc < 0)
		goto out;
	if ((rc = vid_plan(v, p, &gl, (unsigned)v->frame->width,
	    (unsigned)v->frame->height, vid_sar(v, v->frame), &plan, &turn,
	    e)) < 0)
		goto out;
	if ((rc = vid_render(v, p, &plan, turn, &frame, e)) < 0)
		goto out;
	rc = img_encode_rgb(&frame, &ij, out, e);
out:
	rgb_free(&frame);
	return rc;
}

/* Tile size of a sprite, from the stream's header (the VTT needs it
 * without decoding; the sprite uses the same). The whole sheet, every
 * tile, is what the output limits bound. */
static int
vid_tile_plan(const struct vctx *v, const struct vid_job *job,
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

static int
vid_vtt(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e)
{
	const struct params *p = job->params;
	unsigned n = p->sprite_cols * p->sprite_rows, turn;
	struct geom_plan plan;
	struct membuf m;
	int rc;

	if ((rc = vid_tile_plan(v, job, &plan, &turn, e)) < 0)
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
static int
vid_sprite(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e)
{
	const struct params *p = job->params;
	struct img_job ij = { .params = p, .type = MT_JPEG,
	    .limits = job->limits.img };
	unsigned n = p->sprite_cols * p->sprite_rows, turn;
	enum seek_mode mode = (p->given & P_SEEK) ? p->seek : SEEK_KEY;
	struct rgb sheet = { 0 }, tile = { 0 };
	struct geom_plan plan;
	int rc;

	if ((rc = vid_tile_plan(v, job, &plan, &turn, e)) < 0)
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
	rc = img_encode_rgb(&sheet, &ij, out, e);
out:
	rgb_free(&tile);
	rgb_free(&sheet);
	return rc;
}

static double
rate(AVRational r)
{
	return r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
}

static int
vid_info(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e)
{
	struct membuf m;
	int rc;

	membuf_init(&m);
	json_raw(&m, "{\"container\": ");
	json_str(&m, v->fmt->iformat->name);
	json_raw(&m, ", \"duration\": ");
	json_num(&m, v->duration);
	json_raw(&m, ", \"bitrate\": %lld, \"size\": %lld, \"streams\": [",
	    (long long)v->fmt->bit_rate, (long long)job->size);
	for (unsigned i = 0; i < v->fmt->nb_streams; i++) {
		const AVStream *st = v->fmt->streams[i];
		const AVCodecParameters *par = st->codecpar;
		const char *type = av_get_media_type_string(par->codec_type);

		json_raw(&m, "%s{\"index\": %u, \"type\": ", i ? ", " : "", i);
		json_str(&m, type ? type : "unknown");
		json_raw(&m, ", \"codec\": ");
		json_str(&m, avcodec_get_name(par->codec_id));
		json_raw(&m, ", \"bitrate\": %lld", (long long)par->bit_rate);
		if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
			json_raw(&m, ", \"width\": %d, \"height\": %d, \"fps\": ",
			    par->width, par->height);
			json_num(&m, rate(st->avg_frame_rate) ?
			    rate(st->avg_frame_rate) : rate(st->r_frame_rate));
			json_raw(&m, ", \"rotation\": %u, \"pixel_format\": ",
			    stream_rotation(st));
			json_str(&m, av_get_pix_fmt_name(par->format));
		} else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
			json_raw(&m, ", \"channels\": %d, \"sample_rate\": %d",
			    par->ch_layout.nb_channels, par->sample_rate);
		}
		json_raw(&m, "}");
	}
	json_raw(&m, "]}\n");
	rc = sink_write(out, m.data, m.len) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 0;
	membuf_cleanup(&m);
	return rc;
}

int
vid_run(const struct vid_job *job, struct sink *out, struct err *e)
{
	const struct params *p = job->params;
	struct vctx v;
	int rc;

	if ((rc = vid_open(&v, job, !p->info, p->info, e)) < 0)
		goto out;
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
