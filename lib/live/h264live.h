/*
 * h264live - a live source's H.264 rendition: the JPEG frames the reader
 * already has (livesrc.h) decoded, converted to 4:2:0 and encoded once
 * with libx264 (low latency: no B-frames, no lookahead, one thread, an
 * IDR every keyint frames and only then), muxed as fragmented MP4 in
 * memory: an init segment (ftyp + moov, no samples) once, then one
 * fragment (moof + mdat, default-base-is-moof, its own tfdt) per frame.
 * The init segment followed by the fragments from any keyframe on is a
 * playable fMP4 stream; the fragments from one keyframe up to the next
 * are one CMAF segment (HLS).
 *
 * Ownership: the caller owns struct h264live (h264live_new/_free); the
 * bytes it hands out are its own, valid until the next push or the free.
 * Blocking: none; one codec thread, no thread is started.
 */
#ifndef MF_H264LIVE_H
#define MF_H264LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct h264live_cfg {
	/* Encoded size: 0 takes the first frame's; odd sides are rounded
	 * down (4:2:0). A frame of another size is scaled to it. */
	unsigned width, height;
	/* The frames' rate; 0 = unknown: keyframes then come by time, the
	 * first frame at least a second after the last keyframe, and a
	 * fragment's duration is the interval before it. */
	double fps;
	unsigned keyint;	/* frames between keyframes; 0 = fps (1 s) */
	unsigned quality;	/* 1..100 as the JPEG's (q 80 -> crf 23); 0 = 80 */
};

/* The largest side libx264 takes. */
#define H264LIVE_MAX_SIDE 4096

struct h264live;

/*
 * A fragment of one frame: its bytes (owned by the h264live), whether
 * the frame is a keyframe (a segment starts there), its presentation time
 * on the stream's 90 kHz clock and its duration.
 */
struct h264live_frag {
	const unsigned char *data;
	size_t len;
	bool key;
	int64_t pts;		/* 1/90000 s, from the first frame */
	uint32_t duration;	/* 1/90000 s */
};

/* The clock of pts and durations. */
#define H264LIVE_TIMESCALE 90000

/* NULL with e filled (ERR_INTERNAL: no libx264, out of memory). */
struct h264live *h264live_new(const struct h264live_cfg *cfg, struct err *e);
void h264live_free(struct h264live *h);	/* h can be NULL */

/*
 * Encodes one JPEG frame that became current at pts_us (any monotonic
 * clock in microseconds; a time not after the last frame's is moved one
 * microsecond past it) and muxes it: 1 with *out the frame's fragment,
 * 0 when the encoder gave nothing for it (none with these settings), or
 * <0 with e filled (ERR_UNDECODABLE: the JPEG does not decode; the
 * encoder is still usable).
 */
int h264live_push(struct h264live *h, const unsigned char *jpeg, size_t len,
    int64_t pts_us, struct h264live_frag *out, struct err *e);

/*
 * The init segment (ftyp + moov): NULL before the first push succeeded.
 * *len its bytes.
 */
const unsigned char *h264live_init_segment(const struct h264live *h,
    size_t *len);

/* The encoded size, 0 x 0 before the first frame; frames pushed so far. */
void h264live_size(const struct h264live *h, unsigned *w, unsigned *ht);
uint64_t h264live_frames(const struct h264live *h);

#endif
