/*
 * file - a video file streamed: format=mjpeg (multipart JPEG at the
 * video's own pace) or format=mp4/webm (a progressive transcode), in a
 * stream slot (slots.h). A viewer leaving is how most streams end, so it
 * is no error: the answer is cut, not failed.
 */
#ifndef MF_FILE_H
#define MF_FILE_H

#include <sys/types.h>

#include "core/err.h"
#include "http/http.h"
#include "http/request.h"
#include "req/params.h"
#include "req/sniff.h"

/* format=mjpeg/mp4/webm on fd, an open video file of size bytes. */
int stream_file(const struct server *srv, const struct request *req, int fd,
    off_t size, enum media_type type, const struct params *p,
    struct response *r, struct err *e);

#endif
