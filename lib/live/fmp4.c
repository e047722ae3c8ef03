/*
 * fmp4 - fragmented MP4 in memory. See fmp4.h.
 */
#include "live/fmp4.h"

#include "core/sink.h"

#define AVIO_BUF 65536

/* The one place this file turns an AVERROR into an err. */
static int
fmp4_fail(int averr, struct err *e, const char *what)
{
	char msg[128];

	av_strerror(averr, msg, sizeof(msg));
	return err_set(e, ERR_INTERNAL, "fMP4 %s: %s", what, msg);
}

static int
out_write(void *opaque, uint8_t *buf, int len)
{
	struct fmp4 *f = opaque;
	struct sink s;

	sink_init_membuf(&s, &f->out);
	if (sink_write(&s, buf, (size_t)len) < 0) {
		f->oom = true;
		return AVERROR(ENOMEM);
	}
	return len;
}

void
fmp4_init(struct fmp4 *f)
{
	f->mux = NULL;
	f->pb = NULL;
	f->oom = false;
	membuf_init(&f->init);
	membuf_init(&f->out);
}

int
fmp4_open(struct fmp4 *f, const AVCodecParameters *par, AVRational tb,
    AVRational rate, struct err *e)
{
	AVDictionary *o = NULL;
	unsigned char *buf;
	AVStream *st;
	int rc;

	if ((rc = avformat_alloc_output_context2(&f->mux, NULL, "mp4",
	    NULL)) < 0)
		return fmp4_fail(rc, e, "muxer");
	if ((buf = av_malloc(AVIO_BUF)) == NULL ||
	    (f->pb = avio_alloc_context(buf, AVIO_BUF, 1, f, NULL, out_write,
	    NULL)) == NULL) {
		av_free(buf);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	f->mux->pb = f->pb;
	f->mux->flags |= AVFMT_FLAG_CUSTOM_IO;
	if ((st = avformat_new_stream(f->mux, NULL)) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	if ((rc = avcodec_parameters_copy(st->codecpar, par)) < 0)
		return fmp4_fail(rc, e, "muxer");
	st->codecpar->codec_tag = 0;
	st->time_base = tb;
	if (rate.num > 0 && rate.den > 0)
		st->avg_frame_rate = rate;
	av_dict_set(&o, "movflags", "frag_custom+empty_moov+default_base_moof"
	    "+skip_trailer", 0);
	rc = avformat_write_header(f->mux, &o);
	av_dict_free(&o);
	if (rc < 0)
		return fmp4_fail(rc, e, "muxer header");
	avio_flush(f->pb);
	if (f->oom)
		return err_set(e, ERR_INTERNAL, "out of memory");
	/* The header is the init segment: its bytes move to f->init. */
	f->init = f->out;
	membuf_init(&f->out);
	return 0;
}

int
fmp4_write(struct fmp4 *f, AVPacket *pkt, AVRational pkt_tb, struct err *e)
{
	int rc;

	pkt->stream_index = 0;
	pkt->pos = -1;
	av_packet_rescale_ts(pkt, pkt_tb, f->mux->streams[0]->time_base);
	f->out.len = 0;
	if ((rc = av_write_frame(f->mux, pkt)) < 0 ||
	    (rc = av_write_frame(f->mux, NULL)) < 0)
		return fmp4_fail(rc, e, "muxer");
	avio_flush(f->pb);
	if (f->oom)
		return err_set(e, ERR_INTERNAL, "out of memory");
	return f->out.len > 0 ? 1 : 0;
}

void
fmp4_close(struct fmp4 *f)
{
	if (f->mux != NULL) {
		f->mux->pb = NULL;
		avformat_free_context(f->mux);
		f->mux = NULL;
	}
	if (f->pb != NULL) {
		av_freep(&f->pb->buffer);
		avio_context_free(&f->pb);
	}
	membuf_cleanup(&f->init);
	membuf_cleanup(&f->out);
}
