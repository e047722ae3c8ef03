/*
 * fuzz_media: any file as an image source (built as fuzz_image) or a video
 * source (built with -DFUZZ_VIDEO as fuzz_video); the type is sniffed as
 * the server does.
 *   fuzz_image: the first byte picks one of a few queries, the rest is the
 *     file.
 *   fuzz_video: the query and the file are fuzzed together: the input is
 *     the query text up to the first newline, parsed by params_parse() as
 *     a request's would be (size, fit, enlarge, dpr, rotate, sprite,
 *     format, t, ...), then the file. Stills, sprites, VTT and info run
 *     whole; format=mjpeg, mp4 and webm run until their first part or
 *     fragment reaches the sink. Small limits keep each run quick and
 *     make the pixel planner's refusals common.
 * Properties: no crash, no leak, no sanitizer report; every failure is a
 * described error; nothing accepted is over the limits (the sanitizers'
 * allocation limit catches a plan that slipped through).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "img/img.h"
#include "vid/vid.h"
#include "stream/vstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vid_init();
	return img_init();
}

#ifdef FUZZ_VIDEO
/* A memory sink that stops the stream once it is flushed: one MJPEG part
 * or one fragment, then the end, with no wait for the next frame's time. */
struct stop_sink {
	struct membuf m;
	volatile int stop;
};

static int
stop_write(void *ctx, const void *buf, size_t len)
{
	struct stop_sink *t = ctx;
	struct sink s;

	/* A stream that runs on: past 1 MB it is cut as a client would. */
	if (t->m.len + len > (1u << 20))
		return -1;
	sink_init_membuf(&s, &t->m);
	return sink_write(&s, buf, len);
}

static int
stop_flush(void *ctx)
{
	struct stop_sink *t = ctx;

	t->stop = 1;
	return 0;
}

static int
run_video(const struct params *p, int fd, size_t size, enum media_type t,
    struct sink *s, struct err *e)
{
	struct vid_limits lim = { .max_decode_frames = 200,
	    .probe_size = 1 << 20, .analyze_duration = 2000000,
	    .max_width = 4096, .max_height = 4096, .max_duration = 3600,
	    .img = { .max_output_pixels = 1 << 18, .default_quality = 80 } };

	if (PARAMS_IS_STREAM(p->format)) {
		struct stop_sink ss = { .stop = 0 };
		struct sink out = { .write = stop_write, .flush = stop_flush,
		    .ctx = &ss };
		struct vid_job j = { .params = p, .fd = fd,
		    .size = (off_t)size, .type = t, .limits = lim,
		    .stop = &ss.stop };
		int rc;

		membuf_init(&ss.m);
		rc = p->format == OUT_MJPEG ?
		    vstream_mjpeg(&j, "fuzz", &out, e) :
		    vstream_transcode(&j, &out, e);
		membuf_cleanup(&ss.m);
		/* The client "gone" at 1 MB is how a long stream ends here. */
		if (rc < 0 && e->kind == ERR_GONE &&
		    strcmp(e->msg, "client went away") == 0)
			rc = 0;
		(void)s;
		return rc;
	} else {
		struct vid_job j = { .params = p, .fd = fd,
		    .size = (off_t)size, .type = t, .sprite_url = "/v.mp4",
		    .limits = lim };

		return vid_run(&j, s, e);
	}
}
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct params p;
	struct membuf m;
	struct sink s;
	struct err e;
	enum media_type t;
	int fd, rc;
#ifdef FUZZ_VIDEO
	char query[PARAMS_MAX_QUERY + 1];
	const uint8_t *nl = memchr(data, '\n',
	    size < sizeof(query) ? size : sizeof(query));
	size_t qlen = nl ? (size_t)(nl - data) : 0;

	/* The query up to the first newline; none: no query, all file. */
	memcpy(query, data, qlen);
	query[qlen] = '\0';
	if (nl) {
		data = nl + 1;
		size -= qlen + 1;
	}
	if (size < 1 || memchr(query, '\0', qlen) != NULL)
		return 0;
	params_init(&p);
	err_init(&e);
	if (params_parse(query, &p, &e) < 0) {
		if (e.kind == ERR_NONE)
			abort();
		return 0;
	}
	if ((fd = memfd_create("fuzz", 0)) < 0)
		return 0;
#else
	static const char *const queries[] = {
		"size=64x64", "size=40x30&fit=cover&format=png",
		"size=50x50&fit=contain&format=webp", "info", "t=0.5&size=32x",
		"sprite=2x1&size=16x16", "frame=1&size=20x20&format=gif",
	};

	if (size < 2 || (fd = memfd_create("fuzz", 0)) < 0)
		return 0;
	/* The first byte chooses the parameters; the rest is the file. */
	params_init(&p);
	err_init(&e);
	(void)params_parse(queries[data[0] % 7], &p, &e);
	data++;
	size--;
#endif
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	t = sniff_type(data, size);
	membuf_init(&m);
	sink_init_membuf(&s, &m);
	err_init(&e);
#ifdef FUZZ_VIDEO
	if (sniff_is_video(t) && params_check_kind(&p, true, &e) == 0)
		rc = run_video(&p, fd, size, t, &s, &e);
	else
		rc = 0;
#else
	if (sniff_coder(t) != NULL) {
		struct img_job j = { .params = &p, .fd = fd, .size = (off_t)size,
		    .type = t, .limits = { .max_file_size = 1 << 24,
		    .max_source_pixels = 1 << 24, .max_output_pixels = 1 << 22,
		    .default_quality = 80, .max_frames = 50 } };

		if (p.info)
			rc = img_info(&j, &s, &e);
		else if (params_check_kind(&p, false, &e) == 0)
			rc = img_thumb(&j, &s, &e);
		else
			rc = 0;
	} else {
		rc = 0;
	}
#endif
	/* Every failure says what it was. */
	if (rc < 0 && e.kind == ERR_NONE)
		abort();
	membuf_cleanup(&m);
	close(fd);
	return 0;
}
