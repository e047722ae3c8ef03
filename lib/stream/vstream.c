/*
 * vstream - what the stream answers (mjpeg.c, transcode.c) share. See
 * vstream.h for the contract.
 */
#include "stream/stream_int.h"

const char *
vstream_mime(enum out_format f)
{
	switch (f) {
	case OUT_MJPEG: return "multipart/x-mixed-replace";
	case OUT_MP4: return "video/mp4";
	case OUT_WEBM: return "video/webm";
	default: return NULL;
	}
}

bool
vstream_stopped(const volatile int *stop)
{
	return stop != NULL && *stop != 0;
}

int
vstream_check_start(const struct vid_play *s, const struct params *p,
    struct err *e)
{
	if (p->start > 0 && s->v.duration > 0 && p->start >= s->v.duration)
		return err_set(e, ERR_BAD_PARAM,
		    "start: %.3f s is past the end of the video (%.3f s)",
		    p->start, s->v.duration);
	return 0;
}
