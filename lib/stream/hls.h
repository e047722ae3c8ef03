/*
 * hls - format=hls of a user's file: a VOD playlist and its segments,
 * each segment made on its own, so any one can be asked for first (that is
 * the seeking) and the same request gives the same bytes every time (no
 * wall-clock anywhere: ETags, Range and caches in front work).
 *
 * Segments are MPEG-TS. Each is a complete stream of its own (tables,
 * then packets with the file's own timestamps shifted by one constant),
 * which is what independent, deterministic segments need: an fMP4 media
 * segment carries its place on the timeline (tfdt) relative to an init
 * segment, and libavformat's mp4 muxer only keeps that right within one
 * muxer run over the whole file (it re-bases each run on its first
 * packet). TS costs some bytes (188-byte packets, ~5%) and hls.js
 * transmuxes it; Safari, hls.js and libavformat all read it.
 *
 * Two ways to make segments, chosen from the header alone:
 *   remux      H.264 (8-bit 4:2:0) video, AAC or no audio, no display
 *              rotation, nothing asked that changes the picture (size
 *              that shrinks it, rotate, flip, q...): the packets are
 *              copied. Segments cut at the keyframes of the file's index
 *              (MP4 moov, Matroska cues, AVI idx1), about `segment`
 *              seconds each; the index is read, never the whole file.
 *   transcode  anything else, and files without a complete index
 *              (MPEG-TS, fragmented MP4 without one): H.264 + AAC with
 *              format=mp4's encoder settings (size, q, the one pixel
 *              planner), segments cut every `segment` seconds exactly,
 *              each encoded from the keyframe before its start.
 *
 * Ownership: the caller owns the job, the fd (not closed here), the sink
 * and the membuf.
 */
#ifndef MF_HLS_H
#define MF_HLS_H

#include <stddef.h>

#include "core/err.h"
#include "core/sink.h"
#include "vid/vid.h"

/* A segment is built in memory (it has a length and answers Range): past
 * this it is refused (ERR_TOO_LARGE) rather than held. */
#define HLS_MAX_SEGMENT_BYTES	(64u * 1024 * 1024)

/* MIME types of the playlist and of a segment. */
#define HLS_PLAYLIST_MIME	"application/vnd.apple.mpegurl"
#define HLS_SEGMENT_MIME	"video/mp2t"

/*
 * Writes the URL of segment n into buf (len bytes, NUL-terminated): the
 * caller's (fcgi/ signs it). 0, or -1 when it does not fit.
 */
typedef int (*hls_url_fn)(void *ctx, unsigned n, char *buf, size_t len);

/*
 * The playlist of job's file (job->params: format=hls, segment, and what
 * shapes the picture) into out: #EXTM3U, EXT-X-PLAYLIST-TYPE:VOD, one
 * EXTINF + URL (from url()) per segment, EXT-X-ENDLIST. Nothing is
 * written before it is complete. 0 or the error (422 a file that does
 * not open or whose duration is unknown, 413 over the limits).
 */
int hls_playlist(const struct vid_job *job, hls_url_fn url, void *ctx,
    struct sink *out, struct err *e);

/*
 * Segment job->params->seg of the playlist hls_playlist() writes for the
 * same params, appended to out, at most max bytes (0: HLS_MAX_SEGMENT_BYTES;
 * more is ERR_TOO_LARGE). ERR_NOT_FOUND when there is no such segment.
 */
int hls_segment(const struct vid_job *job, size_t max, struct membuf *out,
    struct err *e);

#endif
