/*
 * vid/keys - the keyframes of a file's video stream as its index lists
 * them (MP4's moov, Matroska's cues, AVI's idx1), read with the header:
 * no packet is read. What cuts HLS segments (stream/hls.h) without reading
 * the whole file.
 * Ownership: vid_keys() fills a struct vid_keys the caller owns;
 * vid_keys_free() frees what it holds (safe on a zeroed one).
 */
#ifndef MF_VID_KEYS_H
#define MF_VID_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "vid/core.h"

struct vid_keys {
	int64_t *ts;		/* keyframe timestamps (the index's: the
				 * decode time), increasing, stream time base */
	size_t n;
	int64_t first, last;	/* the first and last entry of any kind */
};

/*
 * The keyframes of v's video stream from its index. 0 with k filled when
 * the index covers the stream (from its first frame to within a few
 * frames of the duration); VID_KEYS_NONE with k empty when there is no
 * index or only part of one (MPEG-TS, a fragmented MP4 without an index,
 * a damaged file); ERR_INTERNAL when out of memory.
 */
enum { VID_KEYS_NONE = 1 };
int vid_keys(const struct vctx *v, struct vid_keys *k, struct err *e);
void vid_keys_free(struct vid_keys *k);

/* Seconds of the first entry of st's index, else its start time, else 0. */
double vid_first_seconds(const AVStream *st);

#endif
