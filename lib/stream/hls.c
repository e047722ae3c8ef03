/*
 * hls - format=hls: the VOD playlist and its MPEG-TS segments. See hls.h
 * for the contract and why TS.
 *
 * Both answers start from one plan made from the header alone (hls_plan):
 * remux or transcode, and where each segment starts on the file's
 * timeline. A segment request makes the same plan again and builds only
 * its own segment, so segments need nothing from one another and come
 * out the same every time:
 *   remux      seek to the keyframe's GOP before the cut, copy the video
 *              packets from the cut's keyframe to the next cut's, and the
 *              audio packets whose time falls in between (each packet in
 *              exactly one segment);
 *   transcode  vid_play from the cut, frames in [start, next start)
 *              scaled and encoded by a fresh H.264 encoder (so the first
 *              is an IDR), audio through the transcode's audio half.
 * Output timestamps are the file's own, all shifted by one constant per
 * file (HLS_TS_BASE_S, and more if the file starts before 0), so the
 * segments lie end to end on one timeline, whichever was made first.
 */
#include "stream/hls.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/opt.h>

#include "stream/transcode.h"
#include "stream/venc.h"
#include "vid/keys.h"

#define HLS_AVIO_BUF	(64 * 1024)
/* Where the timeline starts in the TS (seconds): ffmpeg's own default
 * (2 x muxdelay), so segments look like what players are used to. */
#define HLS_TS_BASE_S	1.4
/* A remux seeks this much before a cut (for the audio stored before the
 * keyframe), then skips what belongs to the segment before. */
#define HLS_PREROLL_S	1.0
/* Past the end of its video, a segment reads at most this much more for
 * the audio of its last moment. */
#define HLS_AUDIO_TAIL_S	2.0

struct hls_plan {
	bool remux;
	unsigned n;		/* segments */
	double *start;		/* n + 1 seconds of the file's timeline: where
				 * each starts, then the end */
	int64_t *key;		/* remux: each segment's first keyframe */
	int asi;		/* remux: the audio stream copied; -1 none */
	double ofs;		/* seconds added to every output timestamp */
};

static void
hls_plan_free(struct hls_plan *pl)
{
	free(pl->start);
	free(pl->key);
	memset(pl, 0, sizeof(*pl));
}

/* ---- a sink into memory, bounded ---- */

struct capsink {
	struct sink mem;	/* into the caller's membuf */
	size_t max;
	bool over;
};

static int
cap_write(void *ctx, const void *buf, size_t len)
{
	struct capsink *c = ctx;

	if (len > c->max - c->mem.written) {
		c->over = true;
		return -1;
	}
	return sink_write(&c->mem, buf, len);
}

/* ---- the plan ---- */

/*
 * Whether the file's packets can be copied: H.264 that browsers decode
 * (8-bit 4:2:0), AAC or no audio, shown as stored (no display rotation,
 * which TS cannot carry), and nothing asked that changes the picture.
 * *asi: the audio stream to copy, -1 none.
 */
static bool
hls_copyable(const struct vctx *v, const struct params *p,
    const struct geom_plan *plan, unsigned turn, int *asi)
{
	const AVCodecParameters *par = v->st->codecpar;
	int a;

	*asi = -1;
	if (par->codec_id != AV_CODEC_ID_H264 ||
	    (par->format != AV_PIX_FMT_NONE && par->format != AV_PIX_FMT_YUV420P &&
	    par->format != AV_PIX_FMT_YUVJ420P) ||
	    par->profile == FF_PROFILE_H264_HIGH_10 ||
	    par->profile == FF_PROFILE_H264_HIGH_422 ||
	    par->profile == FF_PROFILE_H264_HIGH_444_PREDICTIVE ||
	    par->profile == FF_PROFILE_H264_CAVLC_444)
		return false;
	/* q asks for an encode; the rest shows in the plan. */
	if (turn != 0 || p->flip_h || p->flip_v || (p->given & P_Q) ||
	    plan->finish != GEOM_NONE || plan->out_w != (unsigned)par->width ||
	    plan->out_h != (unsigned)par->height)
		return false;
	a = av_find_best_stream(v->fmt, AVMEDIA_TYPE_AUDIO, -1, v->si, NULL, 0);
	if (a >= 0) {
		if (v->fmt->streams[a]->codecpar->codec_id != AV_CODEC_ID_AAC)
			return false;
		*asi = a;
	}
	return true;
}

/* Remux: segments from the index's keyframes, each at least `segment`
 * seconds (cut at the first keyframe at or after that). */
static int
hls_plan_keys(const struct vctx *v, const struct vid_keys *k, double target,
    struct hls_plan *pl, struct err *e)
{
	double tb = av_q2d(v->st->time_base), from, end, first;
	double dur = v->st->duration > 0 ? v->st->duration * tb : v->duration;

	if ((pl->start = calloc(k->n + 1, sizeof(*pl->start))) == NULL ||
	    (pl->key = calloc(k->n, sizeof(*pl->key))) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	pl->n = 0;
	from = -INFINITY;
	for (size_t i = 0; i < k->n; i++) {
		double at = k->ts[i] * tb;

		if (pl->n > 0 && at - from < target - 1e-6)
			continue;
		pl->key[pl->n] = k->ts[i];
		pl->start[pl->n++] = from = at;
	}
	/* The end: the first frame's time plus the duration, at least a
	 * frame after the last cut. */
	first = k->first * tb;
	end = dur > 0 ? first + dur : k->last * tb;
	if (end <= pl->start[pl->n - 1])
		end = pl->start[pl->n - 1] + vid_frame_step(v) * tb;
	pl->start[pl->n] = end;
	return 0;
}

/* Transcode: segments every `segment` seconds from the start. */
static int
hls_plan_even(const struct vctx *v, double target, struct hls_plan *pl,
    struct err *e)
{
	double dur = v->duration, n;

	if (!(dur > 0))
		return err_set(e, ERR_UNDECODABLE, "format=hls: the file does "
		    "not say how long it is (no duration in its header)");
	/* A last piece shorter than a millisecond is no segment. */
	n = ceil((dur - 1e-3) / target);
	if (n < 1)
		n = 1;
	if (n > PARAMS_MAX_SEG + 1)
		return err_set(e, ERR_TOO_LARGE, "format=hls: more than %d "
		    "segments (make segment= longer)", PARAMS_MAX_SEG + 1);
	pl->n = (unsigned)n;
	if ((pl->start = calloc(pl->n + 1, sizeof(*pl->start))) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	for (unsigned i = 0; i < pl->n; i++)
		pl->start[i] = i * target;
	pl->start[pl->n] = dur;
	pl->ofs = HLS_TS_BASE_S;
	return 0;
}

/* The plan of v (opened from job) for job's params. */
static int
hls_plan(const struct vctx *v, const struct vid_job *job,
    struct hls_plan *pl, struct err *e)
{
	const struct params *p = job->params;
	double target = p->segment ? p->segment : PARAMS_DEFAULT_SEGMENT;
	struct geom_plan plan;
	struct vid_keys k;
	unsigned turn;
	int rc, asi;

	memset(pl, 0, sizeof(*pl));
	pl->asi = -1;
	/* A transcoded segment's, as format=mp4's are planned. */
	if ((rc = venc_plan(v, job, p, &plan, &turn, e)) < 0)
		return rc;
	if (hls_copyable(v, p, &plan, turn, &asi)) {
		if ((rc = vid_keys(v, &k, e)) < 0)
			return rc;
		if (rc == 0) {
			double first = vid_first_seconds(v->st);

			if (asi >= 0)
				first = fmin(first,
				    vid_first_seconds(v->fmt->streams[asi]));
			pl->remux = true;
			pl->asi = asi;
			/* Nothing before the base, whatever the file's
			 * first timestamp (negative with B-frames). */
			pl->ofs = HLS_TS_BASE_S - fmin(0, first);
			rc = hls_plan_keys(v, &k, target, pl, e);
			vid_keys_free(&k);
			return rc;
		}
		/* No index: cut where an encoder can, at any time. */
	}
	return hls_plan_even(v, target, pl, e);
}

/* The file opened (v, for vid_close() whatever this returns) and its
 * plan (pl, for hls_plan_free()): what the playlist and a segment start
 * from. */
static int
hls_open(struct vctx *v, const struct vid_job *job, struct hls_plan *pl,
    struct err *e)
{
	int rc;

	if ((rc = vid_open(v, job, false, false, e)) < 0)
		return rc;
	if (v->si < 0)
		return err_set(e, ERR_UNDECODABLE, "no video stream in the file");
	return hls_plan(v, job, pl, e);
}

/* ---- the playlist ---- */

int
hls_playlist(const struct vid_job *job, hls_url_fn url, void *ctx,
    struct sink *out, struct err *e)
{
	struct membuf m;
	struct sink ms;
	struct vctx v;
	struct hls_plan pl;
	char line[PARAMS_MAX_QUERY + 4200];
	double longest = 0;
	int rc, n;

	membuf_init(&m);
	memset(&pl, 0, sizeof(pl));
	sink_init_membuf(&ms, &m);
	if ((rc = hls_open(&v, job, &pl, e)) < 0)
		goto out;
	for (unsigned i = 0; i < pl.n; i++)
		longest = fmax(longest, pl.start[i + 1] - pl.start[i]);
	/* EXT-X-TARGETDURATION: each EXTINF rounded is at most it. */
	n = snprintf(line, sizeof(line), "#EXTM3U\n#EXT-X-VERSION:3\n"
	    "#EXT-X-TARGETDURATION:%ld\n#EXT-X-MEDIA-SEQUENCE:0\n"
	    "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n",
	    lround(ceil(longest - 1e-3) > 1 ? ceil(longest - 1e-3) : 1));
	if (sink_write(&ms, line, (size_t)n) < 0)
		goto nomem;
	for (unsigned i = 0; i < pl.n; i++) {
		n = snprintf(line, sizeof(line), "#EXTINF:%.6f,\n",
		    pl.start[i + 1] - pl.start[i]);
		if (url(ctx, i, line + n, sizeof(line) - (size_t)n - 1) < 0) {
			rc = err_set(e, ERR_INTERNAL,
			    "format=hls: a segment's URL is too long");
			goto out;
		}
		n += (int)strlen(line + n);
		line[n++] = '\n';
		if (sink_write(&ms, line, (size_t)n) < 0)
			goto nomem;
	}
	if (sink_write(&ms, "#EXT-X-ENDLIST\n", 15) < 0)
		goto nomem;
	rc = sink_write(out, m.data, m.len) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 0;
	goto out;
nomem:
	rc = err_set(e, ERR_INTERNAL, "out of memory");
out:
	hls_plan_free(&pl);
	vid_close(&v);
	membuf_cleanup(&m);
	return rc;
}

/* ---- the TS muxer, into memory ---- */

struct hls_out {
	struct capsink cap;
	struct sink s;		/* cap_write() into cap */
	bool failed;		/* a write failed: cap.over says it was full */
};

static void
hls_out_init(struct hls_out *o, struct membuf *m, size_t max)
{
	memset(o, 0, sizeof(*o));
	sink_init_membuf(&o->cap.mem, m);
	o->cap.max = max;
	o->s.write = cap_write;
	o->s.ctx = &o->cap;
}

static int
out_write(void *opaque, uint8_t *buf, int len)
{
	struct hls_out *o = opaque;

	if (sink_write(&o->s, buf, (size_t)len) < 0) {
		o->failed = true;
		return AVERROR(ENOSPC);
	}
	return len;
}

/* An MPEG-TS muxer writing into o: *ofmt and *pb are the caller's to
 * free (hls_mux_free()). */
static int
hls_mux_open(struct hls_out *o, AVFormatContext **ofmt, AVIOContext **pb,
    struct err *e)
{
	unsigned char *buf;
	int rc;

	if ((rc = avformat_alloc_output_context2(ofmt, NULL, "mpegts",
	    NULL)) < 0)
		return err_set(e, ERR_INTERNAL, "format=hls: no MPEG-TS muxer");
	if ((buf = av_malloc(HLS_AVIO_BUF)) == NULL ||
	    (*pb = avio_alloc_context(buf, HLS_AVIO_BUF, 1, o, NULL, out_write,
	    NULL)) == NULL) {
		av_free(buf);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	(*ofmt)->pb = *pb;
	/* Same bytes every time: no version strings, no shift that depends
	 * on the first packet (the timestamps are made >= 0 here). */
	(*ofmt)->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_BITEXACT;
	(*ofmt)->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
	return 0;
}

static void
hls_mux_free(AVFormatContext **ofmt, AVIOContext **pb)
{
	avformat_free_context(*ofmt);
	*ofmt = NULL;
	if (*pb != NULL) {
		av_freep(&(*pb)->buffer);
		avio_context_free(pb);
	}
}

/* The header: timestamps as given (mpegts_copyts), tables first. */
static int
hls_mux_header(AVFormatContext *ofmt, struct err *e)
{
	AVDictionary *o = NULL;
	int rc;

	av_dict_set(&o, "mpegts_copyts", "1", 0);
	rc = avformat_write_header(ofmt, &o);
	av_dict_free(&o);
	return rc < 0 ? vid_fail(rc, e, "format=hls: mux") : 0;
}

/* ---- a segment copied ---- */

/* A remux's packets, as the core's reader hands them over. */
struct hls_cut {
	const struct hls_plan *pl;
	unsigned i;
	int si;			/* the video stream */
	double vtb, atb;	/* their time bases, seconds */
	int64_t from, to;	/* the video's keyframes: this cut, the next */
	double a_from, a_to;	/* the audio's window, seconds */
	bool vdone, adone, started;
	int out;		/* the output stream of the packet taken; -1 */
};

/*
 * Video packets from the keyframe key[i] to before key[i + 1], audio
 * packets whose time is in [start[i], start[i + 1]) (the first and last
 * segments open-ended): taken (out says where they go); a packet that
 * ends a stream's part is taken too (out -1), so the caller stops when
 * both have ended instead of reading the rest of the file.
 */
static int
hls_cut_packet(void *ctx, AVPacket *pkt, struct err *e)
{
	struct hls_cut *c = ctx;
	bool was = c->vdone && c->adone;

	c->out = -1;
	if (pkt->stream_index == c->si && !c->vdone) {
		int64_t ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;

		if (ts == AV_NOPTS_VALUE ? c->started : ts >= c->from) {
			if (ts != AV_NOPTS_VALUE && ts >= c->to)
				c->vdone = true;
			else
				c->out = 0;
		}
		if (c->out == 0 && !c->started) {
			/* The cut's own keyframe comes first. */
			if (ts != c->from)
				return err_set(e, ERR_UNDECODABLE, "format=hls: "
				    "segment %u: the index's keyframe is not "
				    "where it says", c->i);
			c->started = true;
		}
	} else if (pkt->stream_index == c->si && !c->adone &&
	    pkt->dts != AV_NOPTS_VALUE &&
	    pkt->dts * c->vtb > c->a_to + HLS_AUDIO_TAIL_S) {
		/* The audio ends before the video. */
		c->adone = true;
	} else if (pkt->stream_index == c->pl->asi && !c->adone) {
		int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
		double at = ts * c->atb;

		if (ts != AV_NOPTS_VALUE && at >= c->a_to)
			c->adone = true;
		else if (ts != AV_NOPTS_VALUE && at >= c->a_from)
			c->out = 1;
	}
	return c->out >= 0 || (c->vdone && c->adone && !was) ?
	    VID_PKT_TAKE : VID_PKT_DROP;
}

/* Segment i's packets copied into the TS (read by the one video core). */
static int
hls_remux(struct vctx *v, const struct hls_plan *pl, unsigned i,
    struct hls_out *o, struct err *e)
{
	AVFormatContext *in = v->fmt, *ofmt = NULL;
	AVIOContext *pb = NULL;
	AVStream *ist[2] = { v->st, pl->asi >= 0 ? in->streams[pl->asi] : NULL };
	AVStream *ost[2] = { NULL, NULL };
	struct hls_cut c = { .pl = pl, .i = i, .si = v->si,
	    .vtb = av_q2d(v->st->time_base),
	    .atb = ist[1] != NULL ? av_q2d(ist[1]->time_base) : 0,
	    .from = pl->key[i],
	    .to = i + 1 < pl->n ? pl->key[i + 1] : INT64_MAX,
	    .a_from = i > 0 ? pl->start[i] : -INFINITY,
	    .a_to = i + 1 < pl->n ? pl->start[i + 1] : INFINITY,
	    .adone = pl->asi < 0 };
	struct vid_reader r;
	int rc;

	if ((rc = hls_mux_open(o, &ofmt, &pb, e)) < 0)
		goto out;
	for (int s = 0; s < 2 && ist[s] != NULL; s++) {
		if ((ost[s] = avformat_new_stream(ofmt, NULL)) == NULL) {
			rc = err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
		if ((rc = avcodec_parameters_copy(ost[s]->codecpar,
		    ist[s]->codecpar)) < 0) {
			rc = vid_fail(rc, e, "format=hls: stream");
			goto out;
		}
		ost[s]->codecpar->codec_tag = 0;
		ost[s]->time_base = ist[s]->time_base;
	}
	ofmt->output_ts_offset = llround(pl->ofs * AV_TIME_BASE);
	if ((rc = hls_mux_header(ofmt, e)) < 0)
		goto out;
	/* Before the cut: audio stored ahead of the keyframe is read too. */
	if ((rc = vid_seek_keyframe(v, c.from, HLS_PREROLL_S)) < 0) {
		rc = vid_fail(rc, e, "format=hls: seek");
		goto out;
	}
	vid_reader_init(&r, v);
	r.on_packet = hls_cut_packet;
	r.ctx = &c;
	while (!(c.vdone && c.adone)) {
		AVPacket *pkt = v->pkt;

		if ((rc = vid_read_frame(&r, e)) == VID_END)
			break;
		if (rc < 0)
			goto out;
		if (c.out < 0) {
			av_packet_unref(pkt);
			continue;
		}
		pkt->stream_index = ost[c.out]->index;
		pkt->pos = -1;
		av_packet_rescale_ts(pkt, ist[c.out]->time_base,
		    ost[c.out]->time_base);
		/* Takes the packet's reference either way. */
		if ((rc = av_interleaved_write_frame(ofmt, pkt)) < 0) {
			rc = vid_fail(rc, e, "format=hls: mux");
			goto out;
		}
	}
	if (!c.started) {
		rc = err_set(e, ERR_UNDECODABLE, "format=hls: segment %u has "
		    "no video", i);
		goto out;
	}
	if ((rc = av_write_trailer(ofmt)) < 0) {
		rc = vid_fail(rc, e, "format=hls: mux");
		goto out;
	}
	avio_flush(pb);
	rc = o->failed ? err_set(e, ERR_INTERNAL, "format=hls: write") : 0;
out:
	hls_mux_free(&ofmt, &pb);
	return rc;
}

/* ---- a segment transcoded ---- */

/* The transcode's state (transcode.h), and where the segment ends. */
struct hls_tx {
	struct vt t;
	const struct hls_plan *pl;
	double end;		/* file seconds where the next segment starts */
	bool tail;		/* video done: only the audio's last moment */
	unsigned attempt;	/* the seek ladder's rung the audio is from */
};

/* One decoded frame: before the segment skipped, from its end *done,
 * else scaled and encoded as format=mp4's are (venc.c). */
static int
hls_frame(struct hls_tx *x, bool *done, struct err *e)
{
	struct vt *t = &x->t;
	double sec = vid_seconds_of(&t->src.v,
	    t->src.v.frame->best_effort_timestamp);

	if (sec >= x->end) {
		*done = true;
		return 0;
	}
	/* The frame on screen at the cut belongs to the segment before. */
	if (sec < t->t0)
		return 0;
	return venc_frame(t, llround((sec - t->t0) /
	    av_q2d(t->venc->time_base)), e);
}

/* The reader's packet hook: audio up to the segment's end to the audio
 * half; once the video is done (tail), video packets are only counted
 * towards the end of the tail. */
static int
hls_tx_packet(void *ctx, AVPacket *pkt, struct err *e)
{
	struct hls_tx *x = ctx;
	struct vt *t = &x->t;
	const AVStream *st = t->src.v.fmt->streams[pkt->stream_index];
	int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
	double at = ts != AV_NOPTS_VALUE ? ts * av_q2d(st->time_base) : -1;

	if (t->a.enc != NULL && pkt->stream_index == t->a.si) {
		/* The seek landed late and went down the ladder: what was
		 * decoded from there is not this segment's audio. */
		if (t->src.attempt != x->attempt) {
			x->attempt = t->src.attempt;
			avcodec_flush_buffers(t->a.dec);
			av_audio_fifo_reset(t->a.fifo);
			swr_free(&t->a.swr);
			t->a.started = false;
		}
		if (ts != AV_NOPTS_VALUE && at >= x->end)
			return x->tail ? VID_PKT_TAKE : VID_PKT_DROP;
		return vt_audio_packet(t, pkt, e);
	}
	if (!x->tail)
		return VID_PKT_DECODE;
	if (pkt->stream_index == t->src.v.si && ts != AV_NOPTS_VALUE &&
	    at > x->end + HLS_AUDIO_TAIL_S)
		return VID_PKT_TAKE;
	return VID_PKT_DROP;
}

/* The rest of the audio up to the segment's end: *at_eof when the file
 * ended first. */
static int
hls_tx_tail(struct hls_tx *x, bool *at_eof, struct err *e)
{
	struct vid_play *s = &x->t.src;
	int rc;

	x->tail = true;
	for (;;) {
		if ((rc = vid_read_frame(&s->r, e)) < 0)
			return rc;
		if (rc == VID_END) {
			*at_eof = true;
			return 0;
		}
		if (rc == VID_PACKET) {
			av_packet_unref(s->v.pkt);
			return 0;
		}
		av_frame_unref(s->v.frame);
	}
}

static int
hls_transcode(const struct vid_job *job, const struct hls_plan *pl,
    unsigned i, struct hls_out *o, struct err *e)
{
	struct hls_tx x;
	struct vt *t = &x.t;
	bool at_eof = false, done = false;
	int rc;

	memset(&x, 0, sizeof(x));
	x.pl = pl;
	t->job = job;
	t->p = *job->params;
	if (t->p.segment == 0)
		t->p.segment = PARAMS_DEFAULT_SEGMENT;
	t->out = &o->s;
	t->last_vpts = INT64_MIN;
	t->a.si = -1;
	vid_fps_init(&t->fps, 0);
	if ((rc = vid_play_open(&t->src, job, e)) < 0 ||
	    (rc = hls_mux_open(o, &t->ofmt, &t->pb, e)) < 0)
		goto out;
	if ((t->pkt = av_packet_alloc()) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* format=mp4's encoder, one keyframe per segment: a fresh
	 * encoder's first frame is an IDR. */
	if ((rc = venc_open(t, t->p.segment, e)) < 0 ||
	    (rc = vt_audio_open(t, e)) < 0)
		goto out;
	t->src.r.on_packet = hls_tx_packet;
	t->src.r.ctx = &x;
	if ((rc = vid_play_seek(&t->src, pl->start[i], e)) < 0)
		goto out;
	t->t0 = vid_seconds_of(&t->src.v, t->src.target);
	/* The next segment's t0, computed as it will compute it. */
	x.end = i + 1 < pl->n ? vid_seconds_of(&t->src.v,
	    vid_ts(&t->src.v, pl->start[i + 1])) : INFINITY;
	/* Encoded from 0 at t0; placed at the segment's time. */
	t->ofmt->output_ts_offset = llround((pl->start[i] + pl->ofs) *
	    AV_TIME_BASE);
	if ((rc = hls_mux_header(t->ofmt, e)) < 0)
		goto out;
	while (!done) {
		if ((rc = vid_play_next(&t->src, e)) < 0)
			goto out;
		if (rc == VID_END) {
			at_eof = true;
			break;
		}
		rc = hls_frame(&x, &done, e);
		av_frame_unref(t->src.v.frame);
		if (rc < 0 || (rc = vt_audio_pump(t, false, e)) < 0)
			goto out;
	}
	if (!at_eof && t->a.enc != NULL && (rc = hls_tx_tail(&x, &at_eof,
	    e)) < 0)
		goto out;
	if ((rc = vt_audio_finish(t, at_eof, e)) < 0 ||
	    (rc = vt_encode(t, t->venc, t->vst, NULL, e)) < 0)
		goto out;
	if ((rc = av_write_trailer(t->ofmt)) < 0) {
		rc = vt_fail(t, rc, e, "mux");
		goto out;
	}
	avio_flush(t->pb);
	rc = o->failed ? err_set(e, ERR_INTERNAL, "format=hls: write") : 0;
out:
	vt_audio_free(&t->a);
	avcodec_free_context(&t->venc);
	sws_freeContext(t->sws);
	av_frame_free(&t->yuv);
	av_packet_free(&t->pkt);
	hls_mux_free(&t->ofmt, &t->pb);
	vid_play_close(&t->src);
	return rc;
}

int
hls_segment(const struct vid_job *job, size_t max, struct membuf *out,
    struct err *e)
{
	const struct params *p = job->params;
	size_t before = out->len;
	struct hls_plan pl;
	struct hls_out o;
	struct vctx v;
	int rc;

	/* init.mp4 names a live playlist's init segment: VOD's segments
	 * are whole MPEG-TS streams and have none. */
	if (p->seg == PARAMS_SEG_INIT)
		return err_set(e, ERR_BAD_PARAM, "seg: init.mp4 is a live "
		    "playlist's; a video file's segments are N or N.ts");
	memset(&pl, 0, sizeof(pl));
	hls_out_init(&o, out, max ? max : HLS_MAX_SEGMENT_BYTES);
	/* The membuf's sink counts from here: the bound is the segment's. */
	if ((rc = hls_open(&v, job, &pl, e)) < 0)
		goto out;
	if (p->seg >= pl.n) {
		rc = err_set(e, ERR_NOT_FOUND, "seg: the playlist has %u "
		    "segments (0..%u), not %u", pl.n, pl.n - 1, p->seg);
		goto out;
	}
	if (pl.remux) {
		rc = hls_remux(&v, &pl, p->seg, &o, e);
	} else {
		/* The transcode opens the file with its decoder itself. */
		vid_close(&v);
		memset(&v, 0, sizeof(v));
		rc = hls_transcode(job, &pl, p->seg, &o, e);
	}
	if (rc < 0 && o.cap.over) {
		err_init(e);
		rc = err_set(e, ERR_TOO_LARGE, "format=hls: segment %u is over "
		    "the limit of %zu bytes (make segment= shorter or size= "
		    "smaller)", p->seg, o.cap.max);
	}
out:
	if (rc < 0)
		out->len = before;
	hls_plan_free(&pl);
	vid_close(&v);
	return rc;
}
