/*
 * stream_int - what the files of lib/stream/ share. Private to it.
 */
#ifndef MF_STREAM_INT_H
#define MF_STREAM_INT_H

#include <stdbool.h>

#include "stream/vstream.h"
#include "vid/core.h"

/* Whether *stop (may be NULL) asks the stream to end. */
bool vstream_stopped(const volatile int *stop);

/* ERR_BAD_PARAM when p->start is at or past the end of the video. */
int vstream_check_start(const struct vid_play *s, const struct params *p,
    struct err *e);

#endif
