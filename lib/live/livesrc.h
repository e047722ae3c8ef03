/*
 * livesrc - the decode side of a live source: frames from a configured
 * input (an HTTP MJPEG feed, RTSP, a TCP stream pulled or pushed into a
 * listening input, a camera or any device libavdevice opens, a lavfi
 * graph, any URL libav opens, or a file played in a loop at its own pace),
 * each handed out as one JPEG. An input that already is JPEG frames of
 * the output's size is passed through: its bytes as they came, nothing
 * decoded or encoded.
 *
 * The input is a URL from the config, never from a request: unlike vid,
 * libav's protocols are all reachable here.
 * Blocking: livesrc_open() and livesrc_next() block on the input (network
 * reads, and for a file or lavfi the wait until the next frame is due); a
 * read that gets nothing for timeout_ms fails (a listening input's open
 * waits for its pusher without a limit; its reads have it), and *stop,
 * checked by libav's interrupt callback every ~100 ms and after each
 * frame, ends either within about that. One codec thread; no thread is started.
 * Each compressed packet of the video stream can be seen as it is read
 * (cfg.on_packet), before anything decodes or drops it: an H.264 input
 * is remuxed from there rather than re-encoded (live/h264pass.h).
 * Ownership: livesrc_open() copies what it keeps of cfg except the
 * strings, the stop flag and on_packet's ctx, which must outlive the
 * livesrc.
 */
#ifndef MF_LIVESRC_H
#define MF_LIVESRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct AVCodecParameters;
struct AVPacket;

/*
 * A compressed packet of the input's video stream, as read. Everything
 * it points to is the livesrc's, valid during the call only.
 */
struct livesrc_packet {
	const struct AVPacket *pkt;
	const struct AVCodecParameters *par;	/* its stream's */
	int tb_num, tb_den;	/* its stream's time base */
	double rate;		/* its pictures a second; 0: unknown */
	/* The output keeps every picture of the stream as it is: its size
	 * fits the box, and the fps cap (if any) is not below its rate. */
	bool as_is;
};

struct livesrc_cfg {
	/* Any URL or device libav opens (http://host/feed.mjpg, rtsp://,
	 * tcp://, tcp://HOST:PORT?listen=1 waiting for a pusher, /dev/video0
	 * or v4l2:PATH, a lavfi graph, a file path played in a loop at its
	 * own pace). */
	const char *input;
	/* libav's demuxer or device name, forced; NULL: v4l2 for v4l2:PATH
	 * and /dev/video*, "mpjpeg" for an http(s) URL ending in .mjpg or
	 * .mjpeg, else probed. */
	const char *format;
	/* The demuxer's, device's or protocol's AVOptions, "key=value ..."
	 * (syntax: live/liveopt.h), over live's own; a key the open leaves
	 * unused fails it. NULL: none. */
	const char *options;
	unsigned width, height;	/* output box, fit inside; 0 = input size */
	unsigned quality;	/* JPEG quality when re-encoding; 0 = 80 */
	double fps;		/* cap; 0 = the input's rate */
	unsigned timeout_ms;	/* a read waiting longer fails; 0 = 5000 */
	/* Non-zero: open and next give up (SIGTERM). May be NULL. */
	const volatile int *stop;
	/* Called from livesrc_next() with each packet of the video stream
	 * read (a file's again each time it starts again); NULL: none. */
	void (*on_packet)(void *ctx, const struct livesrc_packet *p);
	void *ctx;
};

struct livesrc;

/*
 * Once per process (the reader, after fork), before livesrc_open():
 * libav's log off, its network layer, GraphicsMagick (img_init()) for the
 * JPEG encoder. 0 or -1.
 */
int livesrc_init(void);

/*
 * Opens the input and reads its header: NULL with e filled when it cannot
 * (ERR_BAD_GATEWAY: refused, not found, not a video; ERR_TIMEOUT: nothing
 * for timeout_ms; ERR_INTERNAL "stopped" when *stop was set).
 */
struct livesrc *livesrc_open(const struct livesrc_cfg *cfg, struct err *e);
void livesrc_close(struct livesrc *ls);	/* ls can be NULL */

/*
 * Blocks until the next frame is ready and returns it as one JPEG in
 * *jpeg, *len (owned by ls, valid until the next call or close) with
 * *pts_us, the CLOCK_MONOTONIC time in microseconds at which it became
 * the current frame (a network input: when it arrived; a file: when it
 * was due). 0; 1 at the end of the input (a network input that closed:
 * close and open again) or when *stop is set; a file never ends, it
 * starts again. <0 on error (ERR_TIMEOUT when the input went silent,
 * ERR_BAD_GATEWAY when it failed, ERR_UNDECODABLE when a frame does not
 * decode into anything).
 */
int livesrc_next(struct livesrc *ls, const unsigned char **jpeg, size_t *len,
    uint64_t *pts_us, struct err *e);

/* Frames handed out so far and how many of them were passed through. */
void livesrc_counts(const struct livesrc *ls, uint64_t *frames,
    uint64_t *passed);

#endif
