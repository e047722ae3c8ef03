/*
 * livesrc - a live source's frames as JPEG. See livesrc.h for the contract.
 *
 * Each packet of an MJPEG input is looked at before anything else: a
 * plain JPEG (baseline or progressive, 8-bit, with its Huffman tables)
 * whose size is what the output box makes of it is handed out as the
 * packet itself (held, not copied) and never decoded. Anything else goes
 * through vid's core: the ordered decode loop (vid_read_frame(), the
 * decoder opened at the first such packet with the pixel cap), scaled to
 * fit inside the box (vid_render()) and encoded once with
 * img_encode_rgb_opts(), the server's one JPEG encoder.
 *
 * Times: a network input's or a device's frames are timed by their
 * arrival on the one clock (core/clock; camera timestamps drift and
 * restart); a file's, and a generator's (lavfi, which makes frames as fast
 * as they are read), by their timestamps on the core's pacer (vid_pace)
 * from the first frame, a file's schedule running on seamlessly each time
 * it starts again (from the start, vid_seek()).
 * The network open (URL, format, the config's options over live's own,
 * interrupt callback, timeouts) is live's own: a configured input, never a
 * user's file. A listening input (listen=1) waits for its pusher as long
 * as it takes; only the reads after it connected have the timeout.
 */
#include "live/livesrc.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/sink.h"
#include "live/jpeg_plain.h"
#include "live/liveopt.h"
#include "img/img.h"
#include "req/geom.h"
#include "req/params.h"
#include "vid/core.h"

#include <libavdevice/avdevice.h>

#define DEFAULT_TIMEOUT_MS	5000
#define DEFAULT_QUALITY		80

struct livesrc {
	struct livesrc_cfg cfg;
	double timeout;		/* seconds */
	struct vctx v;		/* fmt, st, si; dec NULL until a packet needs it */
	struct vid_reader r;
	bool file;		/* a regular file: played in a loop at its pace */
	bool paced;		/* a file or lavfi: frames at their times */
	bool intra;		/* every packet a whole picture (MJPEG) */
	double deadline;	/* the interrupt callback gives up past it */
	AVPacket *held;		/* a passed-through frame being handed out */
	struct params p;	/* JPEG, fit inside the box */
	struct img_enc enc;	/* at the configured quality */
	struct membuf jpeg;	/* an encoded frame being handed out */
	/* The schedule: a file's by timestamps, else by arrival. */
	struct vid_pace pc;
	double last_sec;	/* media time of the last frame */
	double packet_t;	/* schedule time of the packet read last */
	int as_is;		/* keeps_stream(): -1 not known yet */
	uint64_t frames, passed;
};

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

	return stopped(ls) || (ls->deadline > 0 && clock_s() > ls->deadline);
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
	    (ls->deadline > 0 && clock_s() > ls->deadline))
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
	avdevice_register_all();
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
	av_packet_free(&ls->held);
	vid_close(&ls->v);
	membuf_cleanup(&ls->jpeg);
	free(ls);
}

void
livesrc_counts(const struct livesrc *ls, uint64_t *frames, uint64_t *passed)
{
	*frames = ls->frames;
	*passed = ls->passed;
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

/* The input's rate, 0 when unknown. */
static double
stream_rate(const struct livesrc *ls)
{
	AVRational r = ls->v.st->avg_frame_rate;

	if (r.num <= 0 || r.den <= 0)
		r = ls->v.st->r_frame_rate;
	return r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
}

/* Every picture of the stream goes out at its size: no scaling, and no
 * frame the cap would drop. */
static bool
keeps_stream(const struct livesrc *ls)
{
	const AVCodecParameters *par = ls->v.st->codecpar;
	double rate = stream_rate(ls);

	if (par->width <= 0 || par->height <= 0 ||
	    !keeps_size(ls, (unsigned)par->width, (unsigned)par->height))
		return false;
	return ls->cfg.fps <= 0 || (rate > 0 && rate <= ls->cfg.fps * 1.01);
}

/* The packet to the caller's hook, as it came. */
static void
ls_show_packet(struct livesrc *ls, const AVPacket *pkt)
{
	struct livesrc_packet lp = { .pkt = pkt, .par = ls->v.st->codecpar,
	    .tb_num = ls->v.st->time_base.num,
	    .tb_den = ls->v.st->time_base.den, .rate = stream_rate(ls) };

	if (ls->cfg.on_packet == NULL)
		return;
	if (ls->as_is < 0)
		ls->as_is = keeps_stream(ls);
	lp.as_is = ls->as_is != 0;
	ls->cfg.on_packet(ls->cfg.ctx, &lp);
}

static bool
passes_through(const struct livesrc *ls, const AVPacket *pkt)
{
	unsigned w = 0, h = 0;

	return ls->v.st->codecpar->codec_id == AV_CODEC_ID_MJPEG &&
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
	double now = clock_s();

	if (isnan(ls->pc.origin))
		ls->pc.origin = now;
	if (!ls->paced || isnan(sec)) {
		if (!ls->paced || isnan(ls->pc.pass_first))
			sec = now - ls->pc.origin;
		else
			sec = ls->last_sec + dur;
	}
	ls->last_sec = sec;
	return vid_pace_place(&ls->pc, sec, dur, t);
}

static double
ts_seconds(const struct livesrc *ls, int64_t ts)
{
	if (ts == AV_NOPTS_VALUE)
		return NAN;
	return vid_seconds_of(&ls->v, ts);
}

static double
frame_dur(const struct livesrc *ls, int64_t dur)
{
	AVRational r = ls->v.st->avg_frame_rate;

	if (dur > 0)
		return ts_seconds(ls, dur);
	if (r.num <= 0 || r.den <= 0)
		r = ls->v.st->r_frame_rate;
	if (r.num > 0 && r.den > 0 && av_q2d(r) <= 240)
		return 1.0 / av_q2d(r);
	return 1.0 / 25;
}

/* A file's end: from its start again, on the same schedule. */
static int
ls_rewind(struct livesrc *ls, struct err *e)
{
	unsigned attempt = VID_SEEK_FROM_START;
	int rc;

	/* A pass that showed nothing would spin for ever. */
	if (ls->pc.pass_frames == 0)
		return err_set(e, ERR_UNDECODABLE, "%s: no frame in the file",
		    ls->cfg.input);
	vid_reader_reset(&ls->r);
	vid_pace_loop(&ls->pc);
	ls->deadline = clock_s() + ls->timeout;
	if ((rc = vid_seek(&ls->v, 0, &attempt)) < 0)
		return ls_fail(ls, rc, e, "cannot loop");
	return 0;
}

static int
ls_open_decoder(struct livesrc *ls, struct err *e)
{
	/* A codec header claiming a giant frame is refused by the decoder
	 * before it allocates one. */
	int rc = vid_decoder_open(ls->v.st, (int64_t)GEOM_MAX_PIXELS,
	    &ls->v.dec);

	if (rc == AVERROR_DECODER_NOT_FOUND)
		return err_set(e, ERR_UNSUPPORTED, "%s: no decoder for %s",
		    ls->cfg.input, avcodec_get_name(ls->v.st->codecpar->codec_id));
	return rc < 0 ? ls_fail(ls, rc, e, "decoder for") : 0;
}

/* ls->v.frame scaled to fit the box and encoded into ls->jpeg. */
static int
ls_encode(struct livesrc *ls, struct err *e)
{
	AVFrame *f = ls->v.frame;
	struct geom_plan plan;
	struct sink s;
	int rc;

	if (f->width <= 0 || f->height <= 0)
		return err_set(e, ERR_UNDECODABLE, "%s: empty frame",
		    ls->cfg.input);
	if ((rc = ls_plan(ls, (unsigned)f->width, (unsigned)f->height, &plan,
	    e)) < 0)
		return rc;
	ls->jpeg.len = 0;
	sink_init_membuf(&s, &ls->jpeg);
	return vid_encode_frame(&ls->v, &ls->p, &plan, 0, &ls->enc, &s, e);
}

/* The input's bytes ended: a server that closes an HTTP body of unknown
 * length is "ending prematurely" (EIO) to libav's http protocol, which is
 * how every live feed ends. A reset or a timeout stays an error. */
static bool
input_ended(const struct livesrc *ls)
{
	AVIOContext *pb = ls->v.fmt->pb;

	return pb != NULL && avio_feof(pb) && (pb->error == 0 ||
	    pb->error == AVERROR_EOF || pb->error == AVERROR(EIO));
}

/*
 * The reader's packet hook: a packet arrived (the next read waits anew).
 * A JPEG that passes through is taken as it is; a picture that stands
 * alone is dropped by the cap before it costs a decode (others are capped
 * once decoded); the decoder is opened at the first packet that needs it.
 */
static int
ls_packet(void *ctx, AVPacket *pkt, struct err *e)
{
	struct livesrc *ls = ctx;
	double sec;
	int rc;

	ls->deadline = clock_s() + ls->timeout;
	if (stopped(ls))
		return err_set(e, ERR_INTERNAL, "stopped");
	if (pkt->stream_index != ls->v.si || pkt->size <= 0)
		return VID_PKT_DROP;
	ls_show_packet(ls, pkt);
	sec = ts_seconds(ls, pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts);
	if (passes_through(ls, pkt))
		return ls_schedule(ls, sec, frame_dur(ls, pkt->duration),
		    &ls->packet_t) ? VID_PKT_TAKE : VID_PKT_DROP;
	if (ls->intra && !ls_schedule(ls, sec, frame_dur(ls, pkt->duration),
	    &ls->packet_t))
		return VID_PKT_DROP;
	if (ls->v.dec == NULL && (rc = ls_open_decoder(ls, e)) < 0)
		return rc;
	return VID_PKT_DECODE;
}

/* The reader's errors: the upstream's (ls_fail()), a read that is the
 * input's end (0), or a frame that does not decode. */
static int
ls_reader_fail(void *ctx, int averr, bool read, struct err *e)
{
	const struct livesrc *ls = ctx;

	if (!read)
		return err_set(e, ERR_UNDECODABLE, "%s: frame does not decode",
		    ls->cfg.input);
	if (input_ended(ls))
		return 0;
	return ls_fail(ls, averr, e, "cannot read");
}

static void
reader_init(struct livesrc *ls)
{
	vid_reader_init(&ls->r, &ls->v);
	ls->r.on_packet = ls_packet;
	ls->r.fail = ls_reader_fail;
	ls->r.ctx = ls;
}

/*
 * What cfg names: the URL or device libav opens and its input format
 * (NULL: probed). "v4l2:PATH", and a /dev/video* path without a format,
 * are v4l2 devices; a format of the config wins over both guesses.
 */
static int
ls_resolve(const struct livesrc_cfg *cfg, const char **url,
    const AVInputFormat **ifmt, struct err *e)
{
	const char *name = cfg->format != NULL && cfg->format[0] != '\0' ?
	    cfg->format : NULL;

	*url = cfg->input;
	*ifmt = NULL;
	if (strncmp(*url, "v4l2:", 5) == 0) {
		*url += 5;
		if (name == NULL)
			name = "v4l2";
	} else if (name == NULL && strncmp(*url, "/dev/video", 10) == 0) {
		name = "v4l2";
	}
	if (name != NULL) {
		if ((*ifmt = av_find_input_format(name)) == NULL)
			return err_set(e, ERR_INTERNAL,
			    "no input format %s in libav", name);
	} else if (is_mjpeg_url(*url)) {
		*ifmt = av_find_input_format("mpjpeg");
	}
	return 0;
}

/*
 * A key of the config's options that the open left in opts: neither the
 * format nor its protocol took it (a key of some other demuxer, or one
 * that does not apply here). Refused rather than silently ignored.
 */
static int
ls_unused(const struct livesrc *ls, const AVDictionary *user,
    const AVDictionary *opts, struct err *e)
{
	const AVDictionaryEntry *t = NULL;

	while ((t = av_dict_get(user, "", t, AV_DICT_IGNORE_SUFFIX)) != NULL)
		if (av_dict_get(opts, t->key, NULL, AV_DICT_MATCH_CASE) != NULL)
			return err_set(e, ERR_INTERNAL, "%s: option %s: not "
			    "one of %s's or its protocol's", ls->cfg.input,
			    t->key, ls->v.fmt->iformat->name);
	return 0;
}

struct livesrc *
livesrc_open(const struct livesrc_cfg *cfg, struct err *e)
{
	struct livesrc *ls = calloc(1, sizeof(*ls));
	const AVInputFormat *ifmt = NULL;
	const AVCodecDescriptor *desc;
	AVDictionary *opts = NULL, *user = NULL;
	const char *url;
	char why[160];
	bool mpjpeg, listening;
	int rc;

	if (ls == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	ls->cfg = *cfg;
	ls->v.si = -1;
	ls->as_is = -1;
	/* Every frame of a source: speed over the last bit of rounding. */
	ls->v.sws_flags = SWS_BICUBIC;
	ls->timeout = (cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS) /
	    1000.0;
	vid_pace_init(&ls->pc, cfg->fps);
	membuf_init(&ls->jpeg);
	params_init(&ls->p);
	ls->p.format = OUT_JPEG;
	ls->p.quality = cfg->quality && cfg->quality <= 100 ? cfg->quality :
	    DEFAULT_QUALITY;
	img_enc_from_params(&ls->p, MT_JPEG, &(struct img_limits){
	    .default_quality = ls->p.quality }, &ls->enc);
	if (cfg->input == NULL || cfg->input[0] == '\0') {
		err_set(e, ERR_INTERNAL, "live source without input");
		goto fail;
	}
	if (ls_resolve(cfg, &url, &ifmt, e) < 0)
		goto fail;
	if (liveopt_parse(cfg->options, &user, why, sizeof(why)) < 0) {
		err_set(e, ERR_INTERNAL, "%s: options: %s", cfg->input, why);
		goto fail;
	}
	/* A device reads no file, whatever its name. */
	ls->file = (ifmt == NULL || !(ifmt->flags & AVFMT_NOFILE)) &&
	    is_file(url);
	ls->paced = ls->file ||
	    (ifmt != NULL && strcmp(ifmt->name, "lavfi") == 0);
	mpjpeg = ifmt != NULL && strcmp(ifmt->name, "mpjpeg") == 0;
	if ((ls->v.pkt = av_packet_alloc()) == NULL ||
	    (ls->held = av_packet_alloc()) == NULL ||
	    (ls->v.frame = av_frame_alloc()) == NULL ||
	    (ls->v.fmt = avformat_alloc_context()) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto fail;
	}
	ls->v.fmt->interrupt_callback.callback = interrupt_cb;
	ls->v.fmt->interrupt_callback.opaque = ls;
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
	/* The config's options over live's own. */
	if (av_dict_copy(&opts, user, 0) < 0) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto fail;
	}
	/* A listening input waits for its pusher as long as it takes (*stop
	 * still ends the wait); once it connected, each read waits at most
	 * rw_timeout. */
	listening = liveopt_listens(url, opts);
	ls->deadline = listening ? 0 : clock_s() + ls->timeout;
	rc = avformat_open_input(&ls->v.fmt, url, ifmt, &opts);
	if (rc < 0) {
		/* avformat_open_input() freed the context on failure. */
		ls_fail(ls, rc, e, "cannot open");
		goto fail;
	}
	if (ls_unused(ls, user, opts, e) < 0)
		goto fail;
	av_dict_free(&opts);
	av_dict_free(&user);
	if (!mpjpeg) {
		ls->deadline = clock_s() + ls->timeout;
		if ((rc = avformat_find_stream_info(ls->v.fmt, NULL)) < 0) {
			ls_fail(ls, rc, e, "cannot read");
			goto fail;
		}
	}
	ls->deadline = 0;
	ls->v.si = av_find_best_stream(ls->v.fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL,
	    0);
	if (ls->v.si < 0) {
		err_set(e, ERR_BAD_GATEWAY, "no video in %s", cfg->input);
		goto fail;
	}
	ls->v.st = ls->v.fmt->streams[ls->v.si];
	desc = avcodec_descriptor_get(ls->v.st->codecpar->codec_id);
	ls->intra = desc != NULL && (desc->props & AV_CODEC_PROP_INTRA_ONLY);
	for (unsigned i = 0; i < ls->v.fmt->nb_streams; i++)
		if ((int)i != ls->v.si)
			ls->v.fmt->streams[i]->discard = AVDISCARD_ALL;
	reader_init(ls);
	return ls;
fail:
	av_dict_free(&opts);
	av_dict_free(&user);
	livesrc_close(ls);
	return NULL;
}
/* The next frame and its schedule time: 0, 1 (the end, or stopped), <0. */
static int
ls_next(struct livesrc *ls, const unsigned char **jpeg, size_t *len,
    double *t, struct err *e)
{
	int rc;

	for (;;) {
		if (stopped(ls))
			return 1;
		ls->deadline = clock_s() + ls->timeout;
		rc = vid_read_frame(&ls->r, e);
		if (rc < 0)
			return stopped(ls) ? 1 : rc;
		if (rc == VID_END) {
			if (!ls->file)
				return 1;
			if ((rc = ls_rewind(ls, e)) < 0)
				return rc;
			continue;
		}
		if (rc == VID_PACKET) {
			/* Handed out as it came: held, not copied. */
			av_packet_move_ref(ls->held, ls->v.pkt);
			*jpeg = ls->held->data;
			*len = (size_t)ls->held->size;
			*t = ls->packet_t;
			ls->passed++;
			return 0;
		}
		/* Intra-only packets met the cap already. */
		if (ls->intra)
			*t = ls->packet_t;
		else if (!ls_schedule(ls, ts_seconds(ls,
		    ls->v.frame->best_effort_timestamp), frame_dur(ls,
		    ls->v.frame->pkt_duration), t)) {
			av_frame_unref(ls->v.frame);
			continue;
		}
		rc = ls_encode(ls, e);
		av_frame_unref(ls->v.frame);
		if (rc < 0)
			return rc;
		*jpeg = ls->jpeg.data;
		*len = ls->jpeg.len;
		return 0;
	}
}

int
livesrc_next(struct livesrc *ls, const unsigned char **jpeg, size_t *len,
    uint64_t *pts_us, struct err *e)
{
	double t = 0;
	int rc;

	av_packet_unref(ls->held);
	if ((rc = ls_next(ls, jpeg, len, &t, e)) != 0)
		return rc;
	/* A file or a generator plays at its own pace; a network input or
	 * a device as it comes. */
	if (ls->paced)
		vid_pace_wait(&ls->pc, t, ls->cfg.stop);
	if (stopped(ls))
		return 1;
	ls->frames++;
	*pts_us = (uint64_t)clock_us();
	return 0;
}
