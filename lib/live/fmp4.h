/*
 * fmp4 - one video stream as fragmented MP4 in memory, one fragment per
 * packet: the writer both live H.264 paths share (h264live encodes JPEG
 * frames, h264pass remuxes an H.264 input). libavformat's mp4 muxer with
 * frag_custom + empty_moov + default_base_moof (CMAF: the moov holds no
 * sample, each moof is its own base), flushed after every packet, so a
 * fragment leaves as soon as its frame exists, not when the next comes.
 * Ownership: the caller owns struct fmp4; init and out are its buffers
 * (out holds the last fragment until the next write).
 */
#ifndef MF_FMP4_H
#define MF_FMP4_H

#include <stdbool.h>

#include <libavformat/avformat.h>

#include "core/err.h"
#include "core/sink.h"

struct fmp4 {
	AVFormatContext *mux;
	AVIOContext *pb;
	struct membuf init;	/* ftyp + moov, after fmp4_open() */
	struct membuf out;	/* the fragment written last */
	bool oom;
};

/* Zeroes f: fmp4_close() may follow at once. */
void fmp4_init(struct fmp4 *f);

/*
 * Opens the muxer for one stream of par (its codec tag left to the
 * muxer) in time base tb at rate (0/1: unknown) and writes the init
 * segment into f->init. 0, or an ERR_INTERNAL naming what failed.
 */
int fmp4_open(struct fmp4 *f, const AVCodecParameters *par, AVRational tb,
    AVRational rate, struct err *e);

/*
 * pkt (timestamps in pkt_tb; its stream index and timestamps are
 * rewritten, the caller keeps the packet) muxed as one fragment into
 * f->out: 1, 0 when the muxer wrote nothing, or an error.
 */
int fmp4_write(struct fmp4 *f, AVPacket *pkt, AVRational pkt_tb,
    struct err *e);

void fmp4_close(struct fmp4 *f);

#endif
