/*
 * file - MJPEG and fMP4/WebM streams of a video file. See file.h.
 */
#include "streams/file.h"

#include "proc/config.h"
#include "stream/vstream.h"
#include "streams/slots.h"

int
stream_file(const struct server *srv, const struct request *req, int fd,
    off_t size, enum media_type type, const struct params *p,
    struct response *r, struct err *e)
{
	struct vid_job job = {
		.params = p, .fd = fd, .size = size, .type = type,
		.limits = srv->cfg->limits.vid,
		.stop = srv->stop,
	};
	int rc;

	if (p->format == OUT_MJPEG)
		(void)response_header(r, "Content-Type",
		    "multipart/x-mixed-replace; boundary=" STREAM_BOUNDARY);
	else
		(void)response_header(r, "Content-Type", "%s",
		    vstream_mime(p->format));
	if (r->head)
		return 0;
	if ((rc = slots_take(srv, req, r, e)) < 0)
		return rc;
	if (p->format == OUT_MJPEG)
		rc = vstream_mjpeg(&job, STREAM_BOUNDARY, &r->body, e);
	else
		rc = vstream_transcode(&job, &r->body, e);
	/* A viewer leaving is how most streams end, not an error. */
	if (rc < 0 && r->gone) {
		err_init(e);
		r->aborted = true;
		rc = 0;
	}
	return rc;
}

