/*
 * livesrc - a live source's frames as JPEG. See livesrc.h for the contract.
 *
 * Each packet of an MJPEG input is looked at before anything else: a
 * plain JPEG (baseline or progressive, 8-bit, with its Huffman tables)
 * whose size is what the output box makes of it is handed out as the
 * packet itself (held, not copied) and never decoded. Anything else is
 * decoded (one thread, the decoder opened at the first such packet),
 * scaled with swscale to fit inside the box and encoded once with
 * img_encode_rgb(), the server's one JPEG encoder.
 *
 * Times: a network input's frames are timed by their arrival on
 * CLOCK_MONOTONIC (camera timestamps drift and restart); a file's by its
 * timestamps, against CLOCK_MONOTONIC from its first frame, the schedule
 * running on seamlessly each time the file starts again.
 */
#include "live/livesrc.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "req/geom.h"
#include "img/img.h"
#include "req/params.h"
#include "core/rgb.h"
#include "core/sink.h"
#include "vid/vid.h"

#define DEFAULT_TIMEOUT_MS	5000
#define DEFAULT_QUALITY		80

struct livesrc {
	struct livesrc_cfg cfg;
	double timeout;		/* seconds */
	AVFormatContext *fmt;
	AVStream *st;
	int si;
	bool file;		/* a regular file: played in a loop at its pace */
	bool intra;		/* every packet a whole picture (MJPEG) */
	double deadline;	/* the interrupt callback gives up past it */
	AVPacket *pkt;
	AVPacket *held;		/* a passed-through frame being handed out */
	AVCodecContext *dec;	/* NULL until a packet needs decoding */
	bool draining;		/* a file's end: the decoder is being emptied */
	AVFrame *frame;
	struct SwsContext *sws;
	struct params p;	/* JPEG at the configured quality */
	struct membuf jpeg;	/* an encoded frame being handed out */
	/* The schedule, seconds: a file's by timestamps, else by arrival. */
	double origin;		/* CLOCK_MONOTONIC time of schedule 0; NAN */
	double base;		/* schedule time of the pass's first frame */
	double pass_first;	/* media time of the pass's first frame; NAN */
	double end;		/* schedule time where the last frame ends */
	double last_sec;	/* media time of the last frame */
	unsigned pass_frames;
	double period, next_slot;	/* fps cap */
	double packet_t;	/* schedule time of the intra packet decoding */
	uint64_t frames, passed;
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool
stopped(const struct livesrc *ls)
{
	return ls->cfg.stop != NULL && *ls->cfg.stop != 0;
}

/* libav polls this while it waits on the input. */
static int
interrupt_cb(void *opaque)
{
	const struct livesrc *ls = opaque;

	return stopped(ls) || (ls->deadline > 0 && mono_now() > ls->deadline);
}

/*
 * The one place an AVERROR becomes an err here. Unlike a user's file
 * (vid_fail: 422), an input that fails is the upstream's fault: 502, or
 * 504 when it went silent.
 */
static int
ls_fail(const struct livesrc *ls, int averr, struct err *e, const char *what)
{
	char msg[AV_ERROR_MAX_STRING_SIZE] = "";

	if (stopped(ls))
		return err_set(e, ERR_INTERNAL, "stopped");
	if (averr == AVERROR_EXIT || averr == AVERROR(ETIMEDOUT) ||
	    (ls->deadline > 0 && mono_now() > ls->deadline))
		return err_set(e, ERR_TIMEOUT, "%s: nothing from %s for %.1f s",
		    what, ls->cfg.input, ls->timeout);
	if (averr == AVERROR(ENOMEM))
		return err_set(e, ERR_INTERNAL, "out of memory");
	av_strerror(averr, msg, sizeof(msg));
	return err_set(e, ERR_BAD_GATEWAY, "%s %s: %s", what, ls->cfg.input,
	    msg);
}

int
livesrc_init(void)
{
	vid_init();
	avformat_network_init();
	return img_init();
}

/* An http(s) URL whose path ends in .mjpg/.mjpeg names a multipart JPEG
 * feed: its demuxer is set rather than probed, so the first frame is not
 * held back by probing. */
static bool
is_mjpeg_url(const char *url)
{
	size_t n = strcspn(url, "?#");

	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return false;
	return (n >= 5 && strncasecmp(url + n - 5, ".mjpg", 5) == 0) ||
	    (n >= 6 && strncasecmp(url + n - 6, ".mjpeg", 6) == 0);
}

static bool
is_file(const char *input)
{
	struct stat st;

	if (strncmp(input, "file:", 5) == 0)
		input += 5;
	return stat(input, &st) == 0 && S_ISREG(st.st_mode);
}

void
livesrc_close(struct livesrc *ls)
{
	if (ls == NULL)
		return;
	sws_freeContext(ls->sws);
	av_frame_free(&ls->frame);
	av_packet_free(&ls->pkt);
	av_packet_free(&ls->held);
	avcodec_free_context(&ls->dec);
	if (ls->fmt)
		avformat_close_input(&ls->fmt);
	membuf_cleanup(&ls->jpeg);
	free(ls);
}

struct livesrc *
livesrc_open(const struct livesrc_cfg *cfg, struct err *e)
{
	struct livesrc *ls = calloc(1, sizeof(*ls));
	const AVInputFormat *ifmt = NULL;
	const AVCodecDescriptor *desc;
	AVDictionary *opts = NULL;
	bool mpjpeg;
	int rc;

	if (ls == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	ls->cfg = *cfg;
	ls->si = -1;
	ls->timeout = (cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS) /
	    1000.0;
	ls->origin = ls->pass_first = NAN;
	ls->period = cfg->fps > 0 ? 1.0 / cfg->fps : 0;
	membuf_init(&ls->jpeg);
	params_init(&ls->p);
	ls->p.format = OUT_JPEG;
	ls->p.quality = cfg->quality && cfg->quality <= 100 ? cfg->quality :
	    DEFAULT_QUALITY;
	if (cfg->input == NULL || cfg->input[0] == '\0') {
		err_set(e, ERR_INTERNAL, "live source without input");
		goto fail;
	}
	ls->file = is_file(cfg->input);
	if (cfg->format != NULL && cfg->format[0] != '\0') {
		if ((ifmt = av_find_input_format(cfg->format)) == NULL) {
			err_set(e, ERR_INTERNAL, "no input format %s in libav",
			    cfg->format);
			goto fail;
		}
	} else if (is_mjpeg_url(cfg->input)) {
		ifmt = av_find_input_format("mpjpeg");
	}
	mpjpeg = ifmt != NULL && strcmp(ifmt->name, "mpjpeg") == 0;
	if ((ls->pkt = av_packet_alloc()) == NULL ||
	    (ls->held = av_packet_alloc()) == NULL ||
	    (ls->frame = av_frame_alloc()) == NULL ||
	    (ls->fmt = avformat_alloc_context()) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto fail;
	}
	ls->fmt->interrupt_callback.callback = interrupt_cb;
	ls->fmt->interrupt_callback.opaque = ls;
	if (!ls->file) {
		/* Latency over robustness: frames as they come. */
		av_dict_set(&opts, "fflags", "nobuffer", 0);
		av_dict_set_int(&opts, "rw_timeout",
		    (int64_t)(ls->timeout * 1e6), 0);
		if (strncasecmp(cfg->input, "rtsp://", 7) == 0)
			av_dict_set_int(&opts, "timeout",
			    (int64_t)(ls->timeout * 1e6), 0);
	}
	if (mpjpeg) {
		/* Nothing to probe: every part says what it is. */
		av_dict_set(&opts, "probesize", "32", 0);
		av_dict_set(&opts, "analyzeduration", "0", 0);
	}
	ls->deadline = mono_now() + ls->timeout;
	rc = avformat_open_input(&ls->fmt, cfg->input, ifmt, &opts);
	av_dict_free(&opts);
	if (rc < 0) {
		/* avformat_open_input() freed the context on failure. */
		ls_fail(ls, rc, e, "cannot open");
		goto fail;
	}
	if (!mpjpeg) {
		ls->deadline = mono_now() + ls->timeout;
		if ((rc = avformat_find_stream_info(ls->fmt, NULL)) < 0) {
			ls_fail(ls, rc, e, "cannot read");
			goto fail;
		}
	}
	ls->deadline = 0;
	ls->si = av_find_best_stream(ls->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL,
	    0);
	if (ls->si < 0) {
		err_set(e, ERR_BAD_GATEWAY, "no video in %s", cfg->input);
		goto fail;
	}
	ls->st = ls->fmt->streams[ls->si];
	desc = avcodec_descriptor_get(ls->st->codecpar->codec_id);
	ls->intra = desc != NULL && (desc->props & AV_CODEC_PROP_INTRA_ONLY);
	for (unsigned i = 0; i < ls->fmt->nb_streams; i++)
		if ((int)i != ls->si)
			ls->fmt->streams[i]->discard = AVDISCARD_ALL;
	return ls;
fail:
	livesrc_close(ls);
	return NULL;
}

void
livesrc_counts(const struct livesrc *ls, uint64_t *frames, uint64_t *passed)
{
	*frames = ls->frames;
	*passed = ls->passed;
}

/*
 * The size of a JPEG every browser shows as it is: SOI, a baseline,
 * extended or progressive 8-bit frame of 1 or 3 components, Huffman
 * tables before the first scan (MJPEG from some cameras leaves them out,
 * relying on the standard ones). false for anything else.
 */
static bool
jpeg_plain_size(const uint8_t *d, size_t n, unsigned *w, unsigned *h)
{
	bool dht = false, sof = false;
	size_t i = 2;

	if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
		return false;
	while (i + 4 <= n) {
		uint8_t m = d[i + 1];
		size_t len;

		if (d[i] != 0xFF)
			return false;
		if (m == 0xFF) {	/* fill byte */
			i++;
			continue;
		}
		len = (size_t)d[i + 2] << 8 | d[i + 3];
		if (len < 2 || i + 2 + len > n)
			return false;
		if (m == 0xC4) {
			dht = true;
		} else if (m == 0xC0 || m == 0xC1 || m == 0xC2) {
			if (len < 8 || d[i + 4] != 8 ||
			    (d[i + 9] != 1 && d[i + 9] != 3))
				return false;
			*h = (unsigned)d[i + 5] << 8 | d[i + 6];
			*w = (unsigned)d[i + 7] << 8 | d[i + 8];
			sof = true;
		} else if (m >= 0xC3 && m <= 0xCF && m != 0xC8 && m != 0xCC) {
			return false;	/* lossless, hierarchical, arithmetic */
		} else if (m == 0xDA) {
			return sof && dht && *w > 0 && *h > 0;
		}
		i += 2 + len;
	}
	return false;
}

/*
 * The plan of a w x h frame: fit inside the configured box, never
 * enlarged, within the planner's bounds and JPEG's side limit (the
 * source and its box come from the config, not from a request, so only
 * the absolute bounds apply).
 */
static int
ls_plan(const struct livesrc *ls, unsigned w, unsigned h,
    struct geom_plan *plan, struct err *e)
{
	struct geom_box box = { .w = ls->cfg.width, .h = ls->cfg.height,
	    .fit = FIT_INSIDE, .gravity = GRAV_CENTER, .enlarge = false };
	struct geom_limits gl = { 0 };

	img_encoder_limits(MT_JPEG, &gl);
	return geom_plan_limited(w, h, &box, &gl, plan, e);
}

/* Whether the output of a w x h frame is w x h: fits the box already. */
static bool
keeps_size(const struct livesrc *ls, unsigned w, unsigned h)
{
	struct geom_plan plan;
	struct err e;

	err_init(&e);
	if (ls_plan(ls, w, h, &plan, &e) < 0)
		return false;
	return plan.out_w == w && plan.out_h == h;
}

static bool
passes_through(const struct livesrc *ls, const AVPacket *pkt)
{
	unsigned w = 0, h = 0;

	return ls->st->codecpar->codec_id == AV_CODEC_ID_MJPEG &&
	    jpeg_plain_size(pkt->data, (size_t)pkt->size, &w, &h) &&
	    keeps_size(ls, w, h);
}

/*
 * A frame at media time sec (NAN: unknown) lasting dur: its place on the
 * schedule, and whether the fps cap keeps it. Network inputs go by
 * arrival.
 */
static bool
ls_schedule(struct livesrc *ls, double sec, double dur, double *t)
{
	double now = mono_now();

	if (isnan(ls->origin))
		ls->origin = now;
	if (!ls->file || isnan(sec)) {
		if (!ls->file || isnan(ls->pass_first))
			sec = now - ls->origin;
		else
			sec = ls->last_sec + dur;
	}
	if (isnan(ls->pass_first))
		ls->pass_first = sec;
	ls->last_sec = sec;
	*t = ls->base + (sec - ls->pass_first);
	ls->end = *t + dur;
	ls->pass_frames++;
	if (ls->period <= 0)
		return true;
	/* Slots of 1/fps: at most fps a second, and a 25 fps input capped
	 * at 10 gives 10, not the 8.3 of "1/fps after the last one". */
	if (*t + 1e-6 < ls->next_slot)
		return false;
	ls->next_slot += ls->period;
	if (ls->next_slot <= *t)
		ls->next_slot = *t + ls->period;
	return true;
}

/* A file: waits until the frame at schedule time t is due. Late by more
 * than a second (the reader stalled), the schedule moves instead. */
static void
ls_wait(struct livesrc *ls, double t)
{
	double due = ls->origin + t, now = mono_now();
	struct timespec ts;

	if (!ls->file)
		return;
	if (now - due > 1.0) {
		ls->origin += now - due;
		return;
	}
	/* Slices of 100 ms: *stop is seen without a signal too. */
	while (due > now && !stopped(ls)) {
		double until = fmin(due, now + 0.1), s = floor(until);

		ts.tv_sec = (time_t)s;
		ts.tv_nsec = (long)((until - s) * 1e9);
		if (ts.tv_nsec > 999999999)
			ts.tv_nsec = 999999999;
		(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		now = mono_now();
	}
}

static double
ts_seconds(const struct livesrc *ls, int64_t ts)
{
	if (ts == AV_NOPTS_VALUE)
		return NAN;
	return (double)ts * av_q2d(ls->st->time_base);
}

static double
frame_dur(const struct livesrc *ls, int64_t dur)
{
	AVRational r = ls->st->avg_frame_rate;

	if (dur > 0)
		return ts_seconds(ls, dur);
	if (r.num <= 0 || r.den <= 0)
		r = ls->st->r_frame_rate;
	if (r.num > 0 && r.den > 0 && av_q2d(r) <= 240)
		return 1.0 / av_q2d(r);
	return 1.0 / 25;
}

/* A file's end: from its start again, on the same schedule. */
static int
ls_rewind(struct livesrc *ls, struct err *e)
{
	int64_t first = ls->st->start_time != AV_NOPTS_VALUE ?
	    ls->st->start_time : 0;
	int rc;

	/* A pass that showed nothing would spin for ever. */
	if (ls->pass_frames == 0)
		return err_set(e, ERR_UNDECODABLE, "%s: no frame in the file",
		    ls->cfg.input);
	if (ls->dec != NULL)
		avcodec_flush_buffers(ls->dec);
	ls->draining = false;
	ls->base = ls->end;
	ls->pass_first = NAN;
	ls->pass_frames = 0;
	ls->deadline = mono_now() + ls->timeout;
	/* MPEG-TS: a search by timestamp may land past the first keyframe,
	 * byte 0 is the start. (Not for the others: Matroska takes a byte
	 * seek and then fails on its EBML header.) */
	if (strcmp(ls->fmt->iformat->name, "mpegts") == 0 &&
	    av_seek_frame(ls->fmt, -1, 0, AVSEEK_FLAG_BYTE) >= 0)
		return 0;
	if ((rc = av_seek_frame(ls->fmt, ls->si, first,
	    AVSEEK_FLAG_BACKWARD)) < 0 &&
	    (rc = av_seek_frame(ls->fmt, ls->si, first,
	    AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_ANY)) < 0)
		return ls_fail(ls, rc, e, "cannot loop");
	return 0;
}

static int
ls_open_decoder(struct livesrc *ls, struct err *e)
{
	const AVCodec *codec = avcodec_find_decoder(ls->st->codecpar->codec_id);
	AVDictionary *opts = NULL;
	int rc;

	if (codec == NULL)
		return err_set(e, ERR_UNSUPPORTED, "%s: no decoder for %s",
		    ls->cfg.input, avcodec_get_name(ls->st->codecpar->codec_id));
	if ((ls->dec = avcodec_alloc_context3(codec)) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	if ((rc = avcodec_parameters_to_context(ls->dec, ls->st->codecpar)) < 0)
		return ls_fail(ls, rc, e, "decoder for");
	/* Processes are the unit of parallelism. */
	ls->dec->thread_count = 1;
	ls->dec->pkt_timebase = ls->st->time_base;
	/* A codec header claiming a giant frame is refused by the decoder
	 * before it allocates one. */
	av_dict_set_int(&opts, "max_pixels", (int64_t)GEOM_MAX_PIXELS, 0);
	rc = avcodec_open2(ls->dec, codec, &opts);
	av_dict_free(&opts);
	if (rc < 0)
		return ls_fail(ls, rc, e, "decoder for");
	return 0;
}

/* ls->frame scaled to fit the box and encoded into ls->jpeg. */
static int
ls_encode(struct livesrc *ls, struct err *e)
{
	AVFrame *f = ls->frame;
	struct img_job ij = { .params = &ls->p, .type = MT_JPEG,
	    .limits = { .default_quality = ls->p.quality } };
	struct geom_plan plan;
	struct rgb rgb = { 0 };
	struct sink s;
	uint8_t *dst[4] = { NULL };
	int dst_stride[4] = { 0 };
	int rc;

	if (f->width <= 0 || f->height <= 0)
		return err_set(e, ERR_UNDECODABLE, "%s: empty frame",
		    ls->cfg.input);
	if ((rc = ls_plan(ls, (unsigned)f->width, (unsigned)f->height, &plan,
	    e)) < 0)
		return rc;
	ls->sws = sws_getCachedContext(ls->sws, f->width, f->height, f->format,
	    (int)plan.out_w, (int)plan.out_h, AV_PIX_FMT_RGB24, SWS_BICUBIC,
	    NULL, NULL, NULL);
	if (ls->sws == NULL)
		return err_set(e, ERR_UNDECODABLE, "%s: cannot scale %s",
		    ls->cfg.input, av_get_pix_fmt_name(f->format) ?
		    av_get_pix_fmt_name(f->format) : "?");
	if (rgb_alloc(&rgb, plan.out_w, plan.out_h) < 0)
		return err_set(e, ERR_INTERNAL, "out of memory");
	dst[0] = rgb.px;
	dst_stride[0] = (int)rgb.stride;	/* <= RGB_MAX_STRIDE */
	sws_scale(ls->sws, (const uint8_t *const *)f->data, f->linesize, 0,
	    f->height, dst, dst_stride);
	ls->jpeg.len = 0;
	sink_init_membuf(&s, &ls->jpeg);
	rc = img_encode_rgb(&rgb, &ij, &s, e);
	rgb_free(&rgb);
	return rc;
}

/* The input's bytes ended: a server that closes an HTTP body of unknown
 * length is "ending prematurely" (EIO) to libav's http protocol, which is
 * how every live feed ends. A reset or a timeout stays an error. */
static bool
input_ended(const struct livesrc *ls)
{
	AVIOContext *pb = ls->fmt->pb;

	return pb != NULL && avio_feof(pb) && (pb->error == 0 ||
	    pb->error == AVERROR_EOF || pb->error == AVERROR(EIO));
}

int
livesrc_next(struct livesrc *ls, const unsigned char **jpeg, size_t *len,
    uint64_t *pts_us, struct err *e)
{
	double t = 0, sec;
	int rc;

	av_packet_unref(ls->held);
	for (;;) {
		if (stopped(ls))
			return 1;
		if (ls->dec != NULL) {
			rc = avcodec_receive_frame(ls->dec, ls->frame);
			if (rc == 0) {
				AVFrame *f = ls->frame;
				bool keep = true;

				/* Intra-only packets met the cap already. */
				if (ls->intra)
					t = ls->packet_t;
				else
					keep = ls_schedule(ls, ts_seconds(ls,
					    f->best_effort_timestamp),
					    frame_dur(ls, f->pkt_duration), &t);
				if (!keep || (f->flags & AV_FRAME_FLAG_CORRUPT)) {
					av_frame_unref(f);
					continue;
				}
				rc = ls_encode(ls, e);
				av_frame_unref(f);
				if (rc < 0)
					return rc;
				*jpeg = ls->jpeg.data;
				*len = ls->jpeg.len;
				break;
			}
			if (rc == AVERROR_EOF && ls->draining) {
				if ((rc = ls_rewind(ls, e)) < 0)
					return rc;
				continue;
			}
			if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF)
				return err_set(e, ERR_UNDECODABLE,
				    "%s: frame does not decode", ls->cfg.input);
		}
		if (ls->draining)
			continue;

		ls->deadline = mono_now() + ls->timeout;
		rc = av_read_frame(ls->fmt, ls->pkt);
		if (rc == AVERROR_EOF || (rc < 0 && input_ended(ls))) {
			if (!ls->file)
				return 1;
			if (ls->dec != NULL) {
				/* The frames the decoder still holds first. */
				(void)avcodec_send_packet(ls->dec, NULL);
				ls->draining = true;
			} else if ((rc = ls_rewind(ls, e)) < 0) {
				return rc;
			}
			continue;
		}
		if (rc < 0) {
			if (stopped(ls))
				return 1;
			return ls_fail(ls, rc, e, "cannot read");
		}
		if (ls->pkt->stream_index != ls->si || ls->pkt->size <= 0) {
			av_packet_unref(ls->pkt);
			continue;
		}
		sec = ts_seconds(ls, ls->pkt->pts != AV_NOPTS_VALUE ?
		    ls->pkt->pts : ls->pkt->dts);
		if (passes_through(ls, ls->pkt)) {
			if (!ls_schedule(ls, sec, frame_dur(ls,
			    ls->pkt->duration), &t)) {
				av_packet_unref(ls->pkt);
				continue;
			}
			/* Handed out as it came: held, not copied. */
			av_packet_move_ref(ls->held, ls->pkt);
			*jpeg = ls->held->data;
			*len = (size_t)ls->held->size;
			ls->passed++;
			break;
		}
		/* A picture that stands alone is dropped by the cap before it
		 * costs a decode; others are capped once decoded. */
		if (ls->intra && !ls_schedule(ls, sec, frame_dur(ls,
		    ls->pkt->duration), &ls->packet_t)) {
			av_packet_unref(ls->pkt);
			continue;
		}
		if (ls->dec == NULL && (rc = ls_open_decoder(ls, e)) < 0) {
			av_packet_unref(ls->pkt);
			return rc;
		}
		rc = avcodec_send_packet(ls->dec, ls->pkt);
		av_packet_unref(ls->pkt);
		/* A damaged packet is skipped as players do. */
		if (rc < 0 && rc != AVERROR_INVALIDDATA && rc != AVERROR(EAGAIN))
			return err_set(e, ERR_UNDECODABLE,
			    "%s: frame does not decode", ls->cfg.input);
	}
	ls_wait(ls, t);
	if (stopped(ls))
		return 1;
	ls->frames++;
	*pts_us = (uint64_t)(mono_now() * 1e6);
	return 0;
}
