/*
 * Unit tests for lib/vid/ stills and sprites (vid_run()) through the video
 * core: seek ladder, ordered decode, plan, scale. The clip is made at test
 * time with the ffmpeg command line tool: 30 frames at 10 fps, frame N a
 * flat grey of luma 16 + 7 N, so the pixels of a still say which frame it
 * shows. H.264 with B-frames and a keyframe every 10 frames (0, 1 and
 * 2 s); the same as MPEG-TS with only the first keyframe, where a seek by
 * timestamp lands anywhere and the ladder has to go back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <magick/api.h>

#include "core/sink.h"
#include "img/img.h"
#include "req/params.h"
#include "req/sniff.h"
#include "vid/vid.h"
#include "support.h"

#define FFMPEG	"/usr/bin/ffmpeg"
#define FRAMES	30	/* of the clip, 10 fps */

static char dir[64];
static char clip[PATH_MAX], clip_ts[PATH_MAX];
static bool have_ffmpeg;
/* limits.max_decode_pixels of answer(); 0: none */
static unsigned long long budget;

/*
 * The clip into path: a keyframe every gop frames, as MP4 or MPEG-TS.
 * Flat frames change whole: no scene cut may add keyframes, and B-frames
 * are forced (x264 would choose none; lossless has none).
 */
static int
make_clip(char *path, char *gop, bool ts)
{
	char *argv[] = { FFMPEG, "-nostdin", "-y", "-loglevel", "error",
		"-f", "lavfi", "-i", "color=c=black:s=64x48:r=10:d=3",
		"-vf", "geq=lum=16+7*N:cb=128:cr=128", "-c:v", "libx264",
		"-preset", "veryfast", "-bf", "2", "-g", gop, "-keyint_min", gop,
		"-sc_threshold", "0", "-x264-params", "b-adapt=0", "-qp", "10",
		"-pix_fmt", "yuv420p", "-f", ts ? "mpegts" : "mp4", path, NULL };

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
	snprintf(dir, sizeof(dir), "/tmp/test_still.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(clip, sizeof(clip), "%s/clip.mp4", dir);
	snprintf(clip_ts, sizeof(clip_ts), "%s/clip.ts", dir);
	/* MP4: keyframes at 0, 1 and 2 s. MPEG-TS: only the first. */
	if (make_clip(clip, "10", false) < 0 ||
	    make_clip(clip_ts, "100", true) < 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (dir[0]) {
		unlink(clip);
		unlink(clip_ts);
		rmdir(dir);
	}
	return 0;
}

#define NEED_FFMPEG() do { if (!have_ffmpeg) skip(); } while (0)

struct answer {
	int rc;
	struct err e;
	struct membuf out;
};

/* vid_run() of query on path into a->out. */
static void
answer(const char *path, const char *query, struct answer *a)
{
	unsigned char head[SNIFF_BYTES];
	struct params p;
	struct vid_job job;
	struct sink s;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	n = pread(fd, head, sizeof(head), 0);
	assert_true(n > 0);
	params_init(&p);
	err_init(&a->e);
	assert_int_equal(params_parse(query, &p, &a->e), 0);
	memset(&job, 0, sizeof(job));
	job.params = &p;
	job.fd = fd;
	job.size = st.st_size;
	job.type = sniff_type(head, (size_t)n);
	job.limits.max_decode_frames = 1000;
	job.limits.max_decode_pixels = budget;
	job.limits.img.default_quality = 80;
	job.sprite_url = "/v.mp4";
	membuf_init(&a->out);
	sink_init_membuf(&s, &a->out);
	a->rc = vid_run(&job, &s, &a->e);
	close(fd);
}

static Image *
decode(const struct membuf *m)
{
	ExceptionInfo ex;
	ImageInfo *ii = CloneImageInfo(NULL);
	Image *im;

	GetExceptionInfo(&ex);
	im = BlobToImage(ii, m->data, m->len, &ex);
	DestroyImageInfo(ii);
	DestroyExceptionInfo(&ex);
	assert_non_null(im);
	return im;
}

/* The frame number the grey at (x, y) of im stands for. */
static int
frame_at(Image *im, unsigned x, unsigned y)
{
	ExceptionInfo ex;
	const PixelPacket *px;
	double grey, luma;

	GetExceptionInfo(&ex);
	px = AcquireImagePixels(im, (long)x, (long)y, 1, 1, &ex);
	DestroyExceptionInfo(&ex);
	assert_non_null(px);
	grey = ScaleQuantumToChar(px->green);
	/* Full-range RGB back to video-range luma. */
	luma = 16 + grey * 219 / 255;
	return (int)lround((luma - 16) / 7);
}

/* The frame a still of query shows (its centre), asserting w x h. */
static int
still_frame(const char *path, const char *query, unsigned w, unsigned h)
{
	struct answer a;
	Image *im;
	int n;

	answer(path, query, &a);
	assert_int_equal(a.rc, 0);
	im = decode(&a.out);
	assert_int_equal(im->columns, w);
	assert_int_equal(im->rows, h);
	n = frame_at(im, w / 2, h / 2);
	DestroyImage(im);
	membuf_cleanup(&a.out);
	return n;
}

static void
accurate_t_is_the_frame_on_screen(void **state)
{
	/* t: the frame whose 100 ms interval holds it. */
	static const struct { const char *q; int frame; } cases[] = {
		{ "t=0&format=png", 0 },
		{ "t=0.05&format=png", 0 },
		{ "t=1&format=png", 10 },	/* a keyframe */
		{ "t=1.25&format=png", 12 },	/* behind B-frames */
		{ "t=1.39&format=png", 13 },
		{ "t=2.95&format=png", 29 },
		{ "t=50%&format=png", 15 },
	};

	(void)state;
	NEED_FFMPEG();
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		assert_int_equal(still_frame(clip, cases[i].q, 64, 48),
		    cases[i].frame);
}

static void
seek_key_is_the_keyframe_before_t(void **state)
{
	(void)state;
	NEED_FFMPEG();
	assert_int_equal(still_frame(clip, "t=0.9&seek=key&format=png", 64,
	    48), 0);
	assert_int_equal(still_frame(clip, "t=1.75&seek=key&format=png", 64,
	    48), 10);
	assert_int_equal(still_frame(clip, "t=2.5&seek=key&format=png", 64,
	    48), 20);
}

static void
t_past_the_end_is_the_last_frame(void **state)
{
	(void)state;
	NEED_FFMPEG();
	assert_int_equal(still_frame(clip, "t=10&format=png", 64, 48),
	    FRAMES - 1);
	assert_int_equal(still_frame(clip, "t=100%&format=png", 64, 48),
	    FRAMES - 1);
}

static void
mpegts_without_index_goes_down_the_ladder(void **state)
{
	/* One keyframe at 0: every seek lands late and falls back to the
	 * start (byte 0), then decodes forward. */
	(void)state;
	NEED_FFMPEG();
	assert_int_equal(still_frame(clip_ts, "t=0&format=png", 64, 48), 0);
	assert_int_equal(still_frame(clip_ts, "t=1.25&format=png", 64, 48),
	    12);
	assert_int_equal(still_frame(clip_ts, "t=2.55&format=png", 64, 48),
	    25);
	assert_int_equal(still_frame(clip_ts, "t=2.5&seek=key&format=png",
	    64, 48), 0);
}

static void
still_is_sized_as_an_image(void **state)
{
	(void)state;
	NEED_FFMPEG();
	assert_int_equal(still_frame(clip, "t=1&size=32x32&format=png", 32,
	    24), 10);
	assert_int_equal(still_frame(clip, "t=1&size=32x32&fit=cover&"
	    "format=png", 32, 32), 10);
	/* Turned: 48 x 64. */
	assert_int_equal(still_frame(clip, "t=1&rotate=90&format=png", 48,
	    64), 10);
}

/* Sprite tile i of a cols x rows sheet of w x h tiles shows frames[i]. */
static void
check_sprite(const char *query, unsigned cols, unsigned rows, unsigned w,
    unsigned h, const int *frames)
{
	struct answer a;
	Image *im;

	answer(clip, query, &a);
	assert_int_equal(a.rc, 0);
	im = decode(&a.out);
	assert_int_equal(im->columns, cols * w);
	assert_int_equal(im->rows, rows * h);
	for (unsigned i = 0; i < cols * rows; i++)
		assert_int_equal(frame_at(im, i % cols * w + w / 2,
		    i / cols * h + h / 2), frames[i]);
	DestroyImage(im);
	membuf_cleanup(&a.out);
}

static void
sprite_tiles_are_evenly_spaced(void **state)
{
	/* Tile i: the middle of the i-th of 6 spans of 3 s. */
	static const int accurate[] = { 2, 7, 12, 17, 22, 27 };
	static const int keys[] = { 0, 0, 10, 10, 20, 20 };

	(void)state;
	NEED_FFMPEG();
	check_sprite("sprite=3x2&size=32x32&seek=accurate&format=png", 3, 2,
	    32, 24, accurate);
	/* A sprite seeks to keyframes unless told otherwise. */
	check_sprite("sprite=3x2&size=32x32&format=png", 3, 2, 32, 24, keys);
	check_sprite("sprite=6x1&size=16x16&seek=accurate&format=png", 6, 1,
	    16, 12, accurate);
}

static void
vtt_cues_point_into_the_sprite(void **state)
{
	struct answer a;
	char *vtt;
	unsigned cues = 0;

	(void)state;
	NEED_FFMPEG();
	answer(clip, "sprite=3x2&size=32x32&format=vtt", &a);
	assert_int_equal(a.rc, 0);
	vtt = strndup((const char *)a.out.data, a.out.len);
	assert_non_null(vtt);
	assert_true(strncmp(vtt, "WEBVTT\n", 7) == 0);
	for (const char *c = vtt; (c = strstr(c, "#xywh=")) != NULL; c++)
		cues++;
	assert_int_equal(cues, 6);
	assert_non_null(strstr(vtt, "00:00:00.000 --> 00:00:00.500\n"
	    "/v.mp4#xywh=0,0,32,24\n"));
	assert_non_null(strstr(vtt, "00:00:02.500 --> 00:00:03.000\n"
	    "/v.mp4#xywh=64,24,32,24\n"));
	free(vtt);
	membuf_cleanup(&a.out);
}

/*
 * Every frame an answer decodes counts against max_decode_pixels: eight
 * 64x48 frames are enough for a keyframe sprite of 6 tiles (one keyframe
 * each), not for the same sprite with seek=accurate (each tile decodes on
 * from its keyframe), which is refused with a 413 naming the limit.
 */
static void
decode_work_is_bounded(void **state)
{
	struct answer a;

	(void)state;
	NEED_FFMPEG();
	budget = 8 * 64 * 48;
	answer(clip, "sprite=3x2&size=32x32&format=png", &a);
	assert_int_equal(a.rc, 0);
	membuf_cleanup(&a.out);
	answer(clip, "sprite=3x2&size=32x32&seek=accurate&format=png", &a);
	assert_int_equal(a.rc, -ERR_TOO_LARGE);
	assert_non_null(strstr(a.e.msg, "max_decode_pixels"));
	assert_int_equal(a.out.len, 0);
	membuf_cleanup(&a.out);
	answer(clip, "t=2.7&format=png", &a);	/* 8 frames from frame 20 */
	assert_int_equal(a.rc, 0);
	membuf_cleanup(&a.out);
	budget = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accurate_t_is_the_frame_on_screen),
		cmocka_unit_test(seek_key_is_the_keyframe_before_t),
		cmocka_unit_test(t_past_the_end_is_the_last_frame),
		cmocka_unit_test(mpegts_without_index_goes_down_the_ladder),
		cmocka_unit_test(still_is_sized_as_an_image),
		cmocka_unit_test(sprite_tiles_are_evenly_spaced),
		cmocka_unit_test(vtt_cues_point_into_the_sprite),
		cmocka_unit_test(decode_work_is_bounded),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
