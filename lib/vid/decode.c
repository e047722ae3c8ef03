/*
 * vid/decode - the ordered decode loop every video answer runs: stills,
 * sprites, file streams and live sources. See core.h for the contract.
 *
 * Packets are read in order; the video stream's go to the decoder, with
 * those that cannot matter discarded before they cost a decode (a
 * non-reference frame that ends before the target; with seek=key every
 * frame but keyframes). A damaged packet, and a frame the decoder marks
 * corrupt, are skipped as players do. At the end of the demuxer the
 * decoder is drained of the frames it still holds.
 */
#include "vid/core.h"

#include <string.h>

void
vid_reader_init(struct vid_reader *r, struct vctx *v)
{
	memset(r, 0, sizeof(*r));
	r->v = v;
	r->skip_before = INT64_MIN;
	r->last_pkt_pts = INT64_MIN;
}

void
vid_reader_reset(struct vid_reader *r)
{
	if (r->v->dec != NULL)
		avcodec_flush_buffers(r->v->dec);
	r->draining = false;
	r->last_pkt_pts = INT64_MIN;
}

static int
reader_fail(const struct vid_reader *r, int averr, bool read, struct err *e)
{
	if (r->fail != NULL)
		return r->fail(r->ctx, averr, read, e);
	return vid_fail(averr, e, "video does not decode");
}

/* How the decoder treats the video packet pkt. */
static enum AVDiscard
discard_of(const struct vid_reader *r, const AVPacket *pkt)
{
	int64_t pd = pkt->duration > 0 ? pkt->duration :
	    vid_frame_step(r->v);

	if (r->keys_only)
		return AVDISCARD_NONKEY;
	if (r->skip_before != INT64_MIN && pkt->pts != AV_NOPTS_VALUE &&
	    !(pkt->flags & AV_PKT_FLAG_KEY) && pkt->pts + pd <= r->skip_before)
		return AVDISCARD_NONREF;
	return AVDISCARD_DEFAULT;
}

/* One packet read and handled: 0 to go on, VID_PACKET, or an error. */
static int
read_packet(struct vid_reader *r, struct err *e)
{
	struct vctx *v = r->v;
	int rc = av_read_frame(v->fmt, v->pkt);
	bool end = rc == AVERROR_EOF;

	/* A read error the hook calls the input's end (0) ends it too. */
	if (rc < 0 && !end) {
		if ((rc = reader_fail(r, rc, true, e)) < 0)
			return rc;
		end = true;
	}
	if (end) {
		r->draining = true;
		if (v->dec != NULL)
			(void)avcodec_send_packet(v->dec, NULL);
		return 0;
	}
	rc = r->on_packet != NULL ? r->on_packet(r->ctx, v->pkt, e) :
	    VID_PKT_DECODE;
	if (rc == VID_PKT_TAKE)
		return VID_PACKET;
	if (rc < 0 || rc == VID_PKT_DROP || v->pkt->stream_index != v->si ||
	    v->dec == NULL) {
		av_packet_unref(v->pkt);
		return rc < 0 ? rc : 0;
	}
	if (v->pkt->pts != AV_NOPTS_VALUE && v->pkt->pts > r->last_pkt_pts)
		r->last_pkt_pts = v->pkt->pts;
	v->dec->skip_frame = discard_of(r, v->pkt);
	rc = avcodec_send_packet(v->dec, v->pkt);
	av_packet_unref(v->pkt);
	/* A damaged packet is skipped as players do. */
	if (rc < 0 && rc != AVERROR_INVALIDDATA && rc != AVERROR(EAGAIN) &&
	    rc != AVERROR_EOF)
		return reader_fail(r, rc, false, e);
	return 0;
}

/*
 * The frame just decoded, charged to the answer's decode work: a sprite of
 * many tiles with seek=accurate, or a still deep in a long group of
 * pictures of a large video, ends here with a 413 instead of running into
 * request_timeout.
 */
static int
charge(struct vctx *v, struct err *e)
{
	if (v->max_decoded_px == 0)
		return 0;
	v->decoded_px += (unsigned long long)v->frame->width *
	    (unsigned)v->frame->height;
	if (v->decoded_px <= v->max_decoded_px)
		return 0;
	av_frame_unref(v->frame);
	return err_set(e, ERR_TOO_LARGE, "video: the answer needs more than "
	    "%llu pixels of decoded frames (max_decode_pixels; seek=key or "
	    "fewer sprite tiles decode less)", v->max_decoded_px);
}

int
vid_read_frame(struct vid_reader *r, struct err *e)
{
	struct vctx *v = r->v;
	int rc;

	for (;;) {
		if (v->dec != NULL) {
			rc = avcodec_receive_frame(v->dec, v->frame);
			if (rc == 0) {
				if ((rc = charge(v, e)) < 0)
					return rc;
				if (v->frame->flags & AV_FRAME_FLAG_CORRUPT) {
					av_frame_unref(v->frame);
					continue;
				}
				return 0;
			}
			if (rc == AVERROR_EOF)
				return VID_END;
			if (rc != AVERROR(EAGAIN))
				return reader_fail(r, rc, false, e);
		}
		if (r->draining)
			return VID_END;
		if ((rc = read_packet(r, e)) != 0)
			return rc;
	}
}
