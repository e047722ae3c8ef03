/*
 * fuzz_media: any file as an image source (built as fuzz_image) or a video
 * source (built with -DFUZZ_VIDEO as fuzz_video); the type is sniffed as
 * the server does and the first byte picks the parameters. Properties: no
 * crash, no leak, no sanitizer report; every failure is a described error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "img.h"
#include "vid.h"

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const queries[] = {
		"size=64x64", "size=40x30&fit=cover&format=png",
		"size=50x50&fit=contain&format=webp", "info", "t=0.5&size=32x",
		"sprite=2x1&size=16x16", "frame=1&size=20x20&format=gif",
	};
	struct params p;
	struct membuf m;
	struct sink s;
	struct err e;
	enum media_type t;
	int fd, rc;

	if (size < 2 || (fd = memfd_create("fuzz", 0)) < 0)
		return 0;
	/* The first byte chooses the parameters; the rest is the file. */
	params_init(&p);
	err_init(&e);
	(void)params_parse(queries[data[0] % 7], &p, &e);
	data++;
	size--;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	t = sniff_type(data, size);
	membuf_init(&m);
	sink_init_membuf(&s, &m);
	err_init(&e);
#ifdef FUZZ_VIDEO
	if (sniff_is_video(t)) {
		struct vid_job j = { .params = &p, .fd = fd, .size = (off_t)size,
		    .type = t, .sprite_url = "/v.mp4",
		    .limits = { .max_decode_frames = 200, .probe_size = 1 << 20,
		    .analyze_duration = 2000000, .max_width = 4096,
		    .max_height = 4096,
		    .img = { .max_output_pixels = 1 << 22, .default_quality = 80 } } };

		if (params_check_kind(&p, true, &e) == 0)
			rc = vid_run(&j, &s, &e);
		else
			rc = 0;
	} else {
		rc = 0;
	}
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
