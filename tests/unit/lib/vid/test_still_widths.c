/*
 * Regression test: stills whose RGB24 rows are not a multiple of 16 bytes.
 * swscale's vector stores wrote up to 16 bytes past the last row of a
 * 200-pixel-wide RGB24 frame, and rgb_alloc() gave the frame exactly
 * stride x h bytes: a heap overflow (fixed by RGB_PAD, core/rgb.h). Here
 * stills of clips whose own sizes are awkward (200x100, 203x77, 1x1, 17x9)
 * are rendered through the public vid API (vid_run()), at their own size
 * and scaled, cut, padded and turned to awkward sizes; under `make unit
 * SAN=1` ASan must stay clean, and each still must be the clip's colour
 * at the size asked for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <magick/api.h>

#include "core/sink.h"
#include "img/img.h"
#include "req/params.h"
#include "req/sniff.h"
#include "vid/vid.h"
#include "support.h"

#define FFMPEG	"/usr/bin/ffmpeg"
/* The clips' one colour (RGB), and how far a still's pixel may be from it
 * (x264 at qp 10, the colour conversions both ways). */
#define GREY	0x80
#define RED	0xc0
#define SLACK	12

/* The clips: pixel format yuv420p where the sides allow it (4:2:0 is what
 * a decoder hands swscale most), else yuv444p (x264 takes odd sides only
 * there). */
static const struct clip {
	unsigned w, h;
	const char *pix_fmt;
} clips[] = {
	{ 200, 100, "yuv420p" },	/* 600-byte rows: 8 past a multiple */
	{ 203, 77, "yuv444p" },
	{ 1, 1, "yuv444p" },
	{ 17, 9, "yuv444p" },
};
#define NCLIPS	(sizeof(clips) / sizeof(*clips))

static char dir[64];
static char paths[NCLIPS][PATH_MAX];
static bool have_ffmpeg;

/* A one-second clip of one colour at w x h into path. */
static int
make_clip(const char *path, const struct clip *c)
{
	char vf[64];
	char *argv[] = { FFMPEG, "-nostdin", "-y", "-loglevel", "error",
		"-f", "lavfi", "-i", "color=c=0xc08080:s=64x64:r=10:d=1",
		"-vf", vf, "-c:v", "libx264", "-preset", "veryfast", "-qp",
		"10", "-f", "mp4", (char *)path, NULL };

	snprintf(vf, sizeof(vf), "scale=%u:%u,setsar=1,format=%s", c->w, c->h,
	    c->pix_fmt);
	return sup_run(argv);
}

static int
group_setup(void **state)
{
	(void)state;
	vid_init();
	if (img_init() < 0)
		return -1;
	have_ffmpeg = access(FFMPEG, X_OK) == 0;
	if (!have_ffmpeg)
		return 0;
	snprintf(dir, sizeof(dir), "/tmp/test_still_widths.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	for (size_t i = 0; i < NCLIPS; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%ux%u.mp4", dir,
		    clips[i].w, clips[i].h);
		if (make_clip(paths[i], &clips[i]) < 0)
			return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (dir[0]) {
		for (size_t i = 0; i < NCLIPS; i++)
			if (paths[i][0])
				unlink(paths[i]);
		rmdir(dir);
	}
	return 0;
}

#define NEED_FFMPEG() do { if (!have_ffmpeg) skip(); } while (0)

/* vid_run() of query on path into out: its return code. */
static int
answer(const char *path, const char *query, struct membuf *out,
    struct err *e)
{
	unsigned char head[SNIFF_BYTES];
	struct params p;
	struct vid_job job;
	struct sink s;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	n = pread(fd, head, sizeof(head), 0);
	assert_true(n > 0);
	params_init(&p);
	err_init(e);
	assert_int_equal(params_parse(query, &p, e), 0);
	memset(&job, 0, sizeof(job));
	job.params = &p;
	job.fd = fd;
	job.size = st.st_size;
	job.type = sniff_type(head, (size_t)n);
	job.limits.max_decode_frames = 1000;
	job.limits.img.default_quality = 80;
	job.sprite_url = "/v.mp4";
	membuf_init(out);
	sink_init_membuf(&s, out);
	rc = vid_run(&job, &s, e);
	close(fd);
	return rc;
}

static bool
near(unsigned v, unsigned want)
{
	return v + SLACK >= want && v <= want + SLACK;
}

/*
 * The still of query on clip c: w x h, and the clip's colour at (x, y)
 * (the picture, not a padded border).
 */
static void
check_still(const struct clip *c, const char *query, unsigned w, unsigned h,
    unsigned x, unsigned y)
{
	const char *path = paths[c - clips];
	ExceptionInfo ex;
	ImageInfo *ii;
	const PixelPacket *px;
	struct membuf out;
	struct err e;
	Image *im;
	int rc;

	rc = answer(path, query, &out, &e);
	if (rc != 0)
		fail_msg("%ux%u ?%s: %s", c->w, c->h, query, e.msg);
	GetExceptionInfo(&ex);
	ii = CloneImageInfo(NULL);
	im = BlobToImage(ii, out.data, out.len, &ex);
	DestroyImageInfo(ii);
	assert_non_null(im);
	if (im->columns != w || im->rows != h)
		fail_msg("%ux%u ?%s: %lux%lu, not %ux%u", c->w, c->h, query,
		    im->columns, im->rows, w, h);
	px = AcquireImagePixels(im, (long)x, (long)y, 1, 1, &ex);
	assert_non_null(px);
	if (!near(ScaleQuantumToChar(px->red), RED) ||
	    !near(ScaleQuantumToChar(px->green), GREY) ||
	    !near(ScaleQuantumToChar(px->blue), GREY))
		fail_msg("%ux%u ?%s: (%u, %u) is %u,%u,%u, not %u,%u,%u",
		    c->w, c->h, query, x, y,
		    (unsigned)ScaleQuantumToChar(px->red),
		    (unsigned)ScaleQuantumToChar(px->green),
		    (unsigned)ScaleQuantumToChar(px->blue), RED, GREY, GREY);
	DestroyImage(im);
	DestroyExceptionInfo(&ex);
	membuf_cleanup(&out);
}

static void
still_at_the_clips_own_size(void **state)
{
	(void)state;
	NEED_FFMPEG();
	for (size_t i = 0; i < NCLIPS; i++) {
		const struct clip *c = &clips[i];

		check_still(c, "format=png", c->w, c->h, c->w / 2, c->h / 2);
		/* Turned: the frame is made again h x w. */
		check_still(c, "rotate=90&format=png", c->h, c->w, c->h / 2,
		    c->w / 2);
		check_still(c, "flip=h&format=jpeg", c->w, c->h, c->w / 2,
		    c->h / 2);
	}
}

static void
still_scaled_to_awkward_sizes(void **state)
{
	/* Each size asked of each clip: stretched (fill), cut (cover),
	 * padded (contain with bg, the picture in the middle). */
	static const struct { unsigned w, h; } sizes[] = {
		{ 200, 100 }, { 203, 77 }, { 1, 1 }, { 17, 9 }, { 201, 3 },
		{ 5, 203 },
	};
	char q[96];

	(void)state;
	NEED_FFMPEG();
	for (size_t i = 0; i < NCLIPS; i++) {
		const struct clip *c = &clips[i];

		for (size_t j = 0; j < sizeof(sizes) / sizeof(*sizes); j++) {
			unsigned w = sizes[j].w, h = sizes[j].h;

			snprintf(q, sizeof(q), "size=%ux%u&fit=fill&"
			    "enlarge=1&format=png", w, h);
			check_still(c, q, w, h, w / 2, h / 2);
			snprintf(q, sizeof(q), "size=%ux%u&fit=cover&"
			    "enlarge=1&format=png", w, h);
			check_still(c, q, w, h, w / 2, h / 2);
			snprintf(q, sizeof(q), "size=%ux%u&fit=contain&"
			    "enlarge=1&bg=000000&format=png", w, h);
			check_still(c, q, w, h, w / 2, h / 2);
		}
	}
}

static void
sprite_of_awkward_tiles(void **state)
{
	(void)state;
	NEED_FFMPEG();
	for (size_t i = 0; i < NCLIPS; i++)
		check_still(&clips[i], "sprite=3x1&size=17x9&fit=fill&"
		    "enlarge=1&format=png", 51, 9, 25, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(still_at_the_clips_own_size),
		cmocka_unit_test(still_scaled_to_awkward_sizes),
		cmocka_unit_test(sprite_of_awkward_tiles),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
