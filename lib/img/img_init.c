/*
 * img_init - GraphicsMagick started once per process and locked down: one
 * thread, no disk cache, only the allowed coders, no file or URL access
 * (see img.h: img_init(), img_set_limits(), img_cleanup()).
 */
#include "img/img.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img/img_color.h"
#include "img/img_gm.h"

/* Coders that may ever run. Everything else is unregistered at start. */
static const char *const allowed_coders[] = {
	"JPEG", "PNG", "GIF", "WEBP", "TIFF", "JXL",
	/* one libheif coder under three names; it looks itself up by the
	 * brand it finds */
	"HEIF", "HEIC", "AVIF",
};

static bool
coder_allowed(const char *name)
{
	for (size_t i = 0; i < sizeof(allowed_coders) / sizeof(*allowed_coders); i++)
		if (strcmp(name, allowed_coders[i]) == 0)
			return true;
	return false;
}

/*
 * GraphicsMagick reads and writes only through memory and the FILE * it is
 * handed; any attempt to open a path or a URL means a coder went somewhere
 * it must not, so every one is refused.
 */
static MagickPassFail
img_deny_access(const ConfirmAccessMode mode, const char *path,
    ExceptionInfo *ex)
{
	(void)mode;
	(void)path;
	(void)ex;
	return MagickFail;
}

int
img_init(void)
{
	ExceptionInfo ex;
	MagickInfo **all;
	char (*names)[MaxTextExtent] = NULL;
	size_t n = 0;

	/*
	 * Pixel buffers of a few MB come and go with every request; kept in
	 * the heap instead of mmap()ed and unmapped each time, they stop
	 * costing page faults. Bounded: a worker keeps at most this much.
	 */
	GetExceptionInfo(&ex);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 96 << 20);
	/* The process's signals are the daemon's: GraphicsMagick's own
	 * handlers would turn SIGTERM into an exit() through atexit. */
	if (InitializeMagickEx(NULL, MAGICK_OPT_NO_SIGNAL_HANDER, &ex) ==
	    MagickFail) {
		fprintf(stderr, "img: GraphicsMagick does not start: %s\n",
		    ex.reason ? ex.reason : "?");
		DestroyExceptionInfo(&ex);
		return -1;
	}
	DestroyExceptionInfo(&ex);
	/* Processes are the unit of parallelism: one thread, no OpenMP team. */
	SetMagickResourceLimit(ThreadsResource, 1);
	/* A pixel cache never spills into a temporary file. */
	SetMagickResourceLimit(DiskResource, 0);
	MagickSetConfirmAccessHandler(img_deny_access);

	GetExceptionInfo(&ex);
	if ((all = GetMagickInfoArray(&ex)) == NULL) {
		fprintf(stderr, "img: cannot list coders: %s\n",
		    ex.reason ? ex.reason : "?");
		DestroyExceptionInfo(&ex);
		return -1;
	}
	while (all[n] != NULL)
		n++;
	/* Copy the names first: unregistering frees the MagickInfo. */
	if ((names = calloc(n ? n : 1, sizeof(*names))) == NULL) {
		MagickFree(all);
		DestroyExceptionInfo(&ex);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		snprintf(names[i], sizeof(names[i]), "%s", all[i]->name);
	MagickFree(all);
	for (size_t i = 0; i < n; i++)
		if (!coder_allowed(names[i]))
			(void)UnregisterMagickInfo(names[i]);
	free(names);
	DestroyExceptionInfo(&ex);
	return img_color_init();
}

void
img_set_limits(unsigned long long max_pixels, unsigned long max_side,
    unsigned long long max_memory)
{
	/* Pixel caches past this fail (no disk to spill to): a dense PNG or
	 * TIFF within the pixel limit still cannot take gigabytes. */
	if (max_memory > 0) {
		SetMagickResourceLimit(MemoryResource, (magick_int64_t)max_memory);
		SetMagickResourceLimit(MapResource, (magick_int64_t)max_memory);
	}
	if (max_pixels > 0)
		SetMagickResourceLimit(PixelsResource, (magick_int64_t)max_pixels);
	if (max_side > 0) {
		SetMagickResourceLimit(WidthResource, (magick_int64_t)max_side);
		SetMagickResourceLimit(HeightResource, (magick_int64_t)max_side);
	}
}

void
img_cleanup(void)
{
	DestroyMagick();
}
