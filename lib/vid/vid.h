/*
 * vid - still frames of video files through libavformat/libavcodec and
 * libswscale: a poster at any time, a storyboard sprite and its WebVTT,
 * and the file's metadata as JSON.
 *
 * Sandbox: libav reads only through a custom AVIOContext over the fd the
 * caller opened; the demuxer is the one the sniffed type names (never
 * probed); no protocol is reachable (io_open refuses every URL, and the
 * protocol whitelist is empty), so no playlist, concat list or reference in
 * a file can make libav open anything else.
 * The steps every video answer shares (open, seek, decode, scale, pace)
 * are the core's: vid/core.h.
 * Ownership: the caller owns the job, the fd (not closed here) and the sink.
 */
#ifndef MF_VID_H
#define MF_VID_H

#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "img/img.h"
#include "req/params.h"
#include "core/sink.h"
#include "req/sniff.h"

struct vid_limits {
	unsigned long long max_file_size;	/* bytes; 0 = none */
	double max_duration;		/* seconds; 0 = none */
	unsigned max_width, max_height;	/* of the video stream; 0 = none */
	int64_t probe_size;		/* bytes libav may read to probe */
	int64_t analyze_duration;	/* microseconds of stream to analyse */
	unsigned max_decode_frames;	/* per still, from the keyframe */
	/* Pixels of all the frames one still, sprite or t=auto may decode
	 * (every tile, every rung of the seek ladder); 0 = none. Streams
	 * and live sources are paced, and bounded by time instead. */
	unsigned long long max_decode_pixels;
	struct img_limits img;		/* output pixels, default quality */
};

struct vid_job {
	const struct params *params;
	int fd;
	off_t size;
	enum media_type type;		/* a video type from sniff_type() */
	struct vid_limits limits;
	/* For format=vtt: the sprite's URL the cues point into. */
	const char *sprite_url;
	/* Streams (stream/vstream.h): non-zero ends the answer cleanly at
	 * the next frame (SIGTERM). May be NULL; stills do not read it. */
	const volatile int *stop;
};

/* Once per process, after fork: libav logging off (errors come back as
 * err), nothing else global. */
void vid_init(void);

/* The MIME type the job answers with (image/..., text/vtt, JSON). */
const char *vid_output_mime(const struct vid_job *job);

/*
 * Answers the job: info -> JSON; sprite -> the tiled image, or WebVTT with
 * format=vtt; otherwise one still at t. Nothing is written to out before
 * the answer is known to succeed, except by the encoder itself.
 * Returns 0 or the negative error with e filled.
 */
int vid_run(const struct vid_job *job, struct sink *out, struct err *e);

#endif
