/*
 * vstream - long-lived video answers from a user's file: format=mjpeg (the
 * frames as multipart JPEG parts at the video's own pace) and format=mp4 /
 * format=webm (a progressive transcode, fragmented MP4 H.264 + AAC or WebM
 * VP8 + Opus). The file is opened through vid's sandbox (custom AVIOContext
 * over the fd, demuxer from the sniffed type, no URL ever opened) and read
 * with vid's core (vid/core.h: seek ladder, ordered decode, scale, pace).
 * Files: mjpeg.c, multipart.c (its framing), transcode.c + audio.c.
 *
 * Blocking: both calls run until the answer ends (end of file, *stop, or the
 * client gone): minutes or forever with loop=1. They block in the sink's
 * write (the client's socket throttles) and, for MJPEG, in the pacer's
 * sleep until each frame is due (slices of 100 ms; *stop is read after
 * each and after a signal). One codec thread each; no other thread is started.
 * Errors before the first byte (open, no video stream, first frame does not
 * decode, bad start) leave out untouched (out->written == 0); after that an
 * error means the answer is cut short and the caller ends it abortively.
 * Ownership: the caller owns the job, the fd (not closed here) and the sink.
 */
#ifndef MF_VSTREAM_H
#define MF_VSTREAM_H

#include <sys/types.h>

#include "core/err.h"
#include "req/params.h"
#include "core/sink.h"
#include "req/sniff.h"
#include "vid/vid.h"

/*
 * A stream's job is a video job (vid.h): params (format, size, fit, ...,
 * q, fps, start, loop), the fd, size, type and limits, and stop (non-zero:
 * end cleanly at the next frame; may be NULL); sprite_url is not read.
 */

/*
 * The Content-Type of a stream format: "multipart/x-mixed-replace" for
 * OUT_MJPEG (the caller appends "; boundary=..."), "video/mp4",
 * "video/webm"; NULL for a format that is not a stream.
 */
const char *vstream_mime(enum out_format f);

/*
 * Streams the video from params->start seconds as multipart parts
 *   "--BOUNDARY\r\nContent-Type: image/jpeg\r\nContent-Length: N\r\n\r\n"
 *   JPEG "\r\n"
 * with a sink_flush() after each, each frame scaled as a still would be
 * (size, fit, gravity, rotate, flip, bg; JPEG quality q or
 * limits.img.default_quality). Paced by the frames' timestamps against
 * the one monotonic clock (core/clock) from the first part; params->fps
 * caps the rate; loop starts again at start on the same schedule. Ends
 * with "--BOUNDARY--\r\n" and 0 at the end of the file or when *stop is
 * seen. boundary: 1..70 characters of [0-9A-Za-z'()+_,-./:=?]. The
 * client gone: ERR_GONE "client went away", returned at the next write.
 */
int vstream_mjpeg(const struct vid_job *job, const char *boundary,
    struct sink *out, struct err *e);

/*
 * Transcodes from params->start to the end (params->format OUT_MP4 or
 * OUT_WEBM) into out, as fast as it encodes, flushing the sink after each
 * fragment (MP4) or cluster (WebM). Video scaled as a still would be, to
 * even dimensions; keyframe every ~2 s; params->fps caps the frame rate.
 * Audio, when the file has a stream that decodes: AAC (MP4) or Opus, else
 * Vorbis (WebM), resampled to at most two channels; otherwise none.
 * *stop ends the file cleanly (trailer written) and returns 0.
 */
int vstream_transcode(const struct vid_job *job, struct sink *out,
    struct err *e);

#endif
