/*
 * vid/open - the sandboxed open of a user's video file and its decoder.
 * See core.h for the contract.
 *
 * libav reads the fd the worker opened through a custom AVIOContext
 * (pread() only); the demuxer is the one the sniffed type names; io_open
 * refuses every URL and no protocol is whitelisted, so no playlist,
 * concat list or reference in a file makes libav open anything else.
 * Limits (file size, duration, stream size) are checked from the headers
 * before anything is decoded.
 */
#include "vid/core.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/display.h>

#define AVIO_BUF (64 * 1024)

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

unsigned
vid_rotation(const AVStream *st)
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
 * decoder itself refuses frames over max_pixels, so a lying header cannot
 * make it allocate gigabytes.
 */
static void
pixel_cap(int64_t max_pixels, AVDictionary **opts)
{
	if (max_pixels > 0)
		av_dict_set_int(opts, "max_pixels", max_pixels, 0);
}

static int64_t
job_max_pixels(const struct vid_limits *lim)
{
	return lim->max_width && lim->max_height ?
	    (int64_t)lim->max_width * lim->max_height : 0;
}

int
vid_decoder_open(const AVStream *st, int64_t max_pixels, AVCodecContext **dec)
{
	const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
	AVDictionary *opts = NULL;
	int rc;

	*dec = NULL;
	if (codec == NULL)
		return AVERROR_DECODER_NOT_FOUND;
	if ((*dec = avcodec_alloc_context3(codec)) == NULL)
		return AVERROR(ENOMEM);
	if ((rc = avcodec_parameters_to_context(*dec, st->codecpar)) < 0)
		return rc;
	/* Processes are the unit of parallelism. */
	(*dec)->thread_count = 1;
	(*dec)->thread_type = 0;
	(*dec)->pkt_timebase = st->time_base;
	pixel_cap(max_pixels, &opts);
	rc = avcodec_open2(*dec, codec, &opts);
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
		pixel_cap(job_max_pixels(lim), &opts[i]);
	rc = avformat_find_stream_info(v->fmt, opts);
	for (unsigned i = 0; i < n; i++)
		av_dict_free(&opts[i]);
	av_free(opts);
	return rc;
}

/* The AVIOContext over the fd and the demuxer's context, sandboxed. */
static int
open_sandbox(struct vctx *v, const struct vid_limits *lim, struct err *e)
{
	unsigned char *buf = NULL;

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
	return 0;
}

/* The video stream and the limits its header is held to. */
static int
check_stream(struct vctx *v, const struct vid_job *job, bool want_decoder,
    struct err *e)
{
	const struct vid_limits *lim = &job->limits;
	const AVCodecParameters *par;

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
	v->rotation = vid_rotation(v->st);
	if ((lim->max_width && (unsigned)par->width > lim->max_width) ||
	    (lim->max_height && (unsigned)par->height > lim->max_height))
		return err_set(e, ERR_TOO_LARGE,
		    "video %dx%d is over the limit of %ux%u", par->width,
		    par->height, lim->max_width, lim->max_height);
	if (v->duration <= 0 && v->st->duration > 0)
		v->duration = v->st->duration * av_q2d(v->st->time_base);
	return 0;
}

int
vid_open(struct vctx *v, const struct vid_job *job, bool want_decoder,
    bool full_probe, struct err *e)
{
	const struct vid_limits *lim = &job->limits;
	const AVInputFormat *ifmt = av_find_input_format(sniff_demuxer(job->type));
	AVDictionary *opts = NULL;
	AVCodecParameters *par;
	int rc;

	memset(v, 0, sizeof(*v));
	v->si = -1;
	v->sws_flags = SWS_BICUBIC | SWS_ACCURATE_RND;
	v->io = (struct vio){ .fd = job->fd, .pos = 0, .size = job->size };
	if (ifmt == NULL)
		return err_set(e, ERR_UNSUPPORTED, "format not allowed");
	if (lim->max_file_size && (unsigned long long)job->size > lim->max_file_size)
		return err_set(e, ERR_TOO_LARGE,
		    "file size %lld is over the limit of %llu bytes",
		    (long long)job->size, lim->max_file_size);
	if ((rc = open_sandbox(v, lim, e)) < 0)
		return rc;
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
	if ((rc = check_stream(v, job, want_decoder, e)) < 0 || v->si < 0)
		return rc;
	/* The reader's packet, whether or not frames are decoded (a remux
	 * reads packets through the same reader). */
	if ((v->pkt = av_packet_alloc()) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	if (!want_decoder)
		return rc;

	if ((v->frame = av_frame_alloc()) == NULL ||
	    (v->prev = av_frame_alloc()) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	rc = vid_decoder_open(v->st, job_max_pixels(lim), &v->dec);
	if (rc == AVERROR_DECODER_NOT_FOUND)
		return err_set(e, ERR_UNSUPPORTED, "no decoder for codec %s",
		    avcodec_get_name(v->st->codecpar->codec_id));
	if (rc == AVERROR(ENOMEM))
		return err_set(e, ERR_INTERNAL, "out of memory");
	return rc < 0 ? vid_fail(rc, e, "decoder") : 0;
}
