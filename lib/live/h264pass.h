/*
 * h264pass - a live source's H.264 rendition made without an encoder:
 * an input that already is H.264 (8-bit 4:2:0, its parameter sets known)
 * has its packets remuxed as they come into fragmented MP4 in memory,
 * the same init segment (ftyp + moov, the input's avcC) and fragments
 * (one moof + mdat per packet) h264live makes, so the one who publishes
 * them cannot tell which way they were made.
 *
 * Keyframe interval: a segment is one interval, so it must be short. The
 * first interval is measured before anything is handed out: the first
 * group of pictures is not muxed, the fragments start at the next
 * keyframe if it came within H264PASS_MAX_GOP seconds; an interval that
 * runs longer (then or at any later group) is H264PASS_LONG: the caller
 * re-encodes instead.
 *
 * Ownership: the caller owns struct h264pass (h264pass_new/_free) and
 * the packets it pushes (nothing is kept); the bytes handed out are the
 * h264pass's, valid until the next push or the free.
 * Blocking: none; no codec is opened, no thread is started.
 */
#ifndef MF_H264PASS_H
#define MF_H264PASS_H

#include <stdbool.h>

#include "core/err.h"
#include "live/h264live.h"

struct AVCodecParameters;
struct AVPacket;

/* The longest keyframe interval passed through, in seconds. */
#define H264PASS_MAX_GOP 2.0

/* h264pass_push(): an interval ran over H264PASS_MAX_GOP. */
#define H264PASS_LONG 2

struct h264pass;

/* Whether a stream of these parameters is H.264 video at all. */
bool h264pass_is_h264(const struct AVCodecParameters *par);

/*
 * Whether a stream of these parameters can be passed through: H.264,
 * 8-bit 4:2:0, its size known, its parameter sets in the extradata
 * (avcC or Annex B). why (may be NULL) says why not.
 */
bool h264pass_takes(const struct AVCodecParameters *par, const char **why);

/*
 * For packets of a stream with these parameters and time base (copied)
 * at fps pictures a second (0: unknown; the duration of a packet that
 * has none, until the interval between packets tells). NULL with e
 * filled (ERR_UNSUPPORTED: h264pass_takes() is false; ERR_INTERNAL: the
 * muxer, out of memory).
 */
struct h264pass *h264pass_new(const struct AVCodecParameters *par,
    int tb_num, int tb_den, double fps, struct err *e);
void h264pass_free(struct h264pass *p);	/* p can be NULL */

/*
 * One packet of the stream, in decode order, muxed: 1 with *out its
 * fragment (its pts and duration on H264LIVE_TIMESCALE, from the first
 * keyframe's decode time), 0 when nothing comes of it (before the first
 * keyframe, or while the first interval is measured), H264PASS_LONG
 * (nothing more is handed out; free it), or <0 with e filled. Timestamps
 * that go backwards (an input that starts again) are moved on after the
 * last.
 */
int h264pass_push(struct h264pass *p, const struct AVPacket *pkt,
    struct h264live_frag *out, struct err *e);

/* The init segment: NULL before the first fragment is handed out. */
const unsigned char *h264pass_init_segment(const struct h264pass *p,
    size_t *len);

/* Packets muxed so far. */
uint64_t h264pass_frames(const struct h264pass *p);

#endif
