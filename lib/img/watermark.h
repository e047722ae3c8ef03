/*
 * watermark - a configured image (a logo with alpha) drawn over the output
 * after fitting: thumbnails, video stills and sprite sheets (the whole
 * sheet, like any output image). Loaded once from the operator's file
 * (PNG or WebP, sniffed) when the config is read, before any fork, so it
 * is decoded without GraphicsMagick (libpng, libwebp); every request then
 * scales it to `width` x the output's width (aspect kept), places it at
 * `gravity` with `margin`, and blends it over with alpha x `opacity`
 * (sRGB values, as every browser blends).
 * Ownership: wm_load() fills a struct wm the caller owns; wm_cleanup()
 * frees its pixels. A frame handed to wm_apply_rgb() is the caller's.
 */
#ifndef MF_IMG_WATERMARK_H
#define MF_IMG_WATERMARK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/rgb.h"
#include "req/geom.h"	/* enum gravity */

#define WM_MAX_NAME	32	/* bytes of a name, NUL included (as presets) */
#define WM_MAX_FILE	(16u << 20)	/* bytes of the file */
#define WM_MAX_SIDE	4096u	/* width or height of the decoded image */
#define WM_MAX_PIXELS	(4u << 20)	/* width x height of it */

struct wm {
	char name[WM_MAX_NAME];
	/* The settings, defaults from wm_init(). */
	enum gravity gravity;	/* GRAV_SOUTHEAST; never GRAV_SMART */
	unsigned margin;	/* pixels of the output between it and the edges */
	double opacity;		/* 0..1, 1: the file's own alpha */
	double width;		/* (0, 1]: of the output's width, 0.2 */
	/* The image: straight (not premultiplied) RGBA, 8 bits, w x h. */
	unsigned w, h;
	uint8_t *px;
	/* FNV-1a of the pixels and the settings: what a cached answer's
	 * validator must change with when the file or a setting does. */
	uint32_t id;
};

/* Where the scaled watermark goes on a frame (it may overhang an edge:
 * wm_render() draws only the part inside). */
struct wm_rect {
	long x, y;
	unsigned w, h;
};

/* Sets the defaults and the name (cut at WM_MAX_NAME - 1 bytes). */
void wm_init(struct wm *wm, const char *name);
void wm_cleanup(struct wm *wm);	/* wm can be zeroed */

/*
 * Reads the file at path (absolute), sniffs it (PNG or WebP), decodes it
 * into wm->px. ERR_NOT_FOUND if it cannot be opened, ERR_TOO_LARGE over
 * WM_MAX_FILE / WM_MAX_SIDE / WM_MAX_PIXELS, ERR_UNSUPPORTED for another
 * format, ERR_UNDECODABLE when it does not decode; e says why.
 */
int wm_load(struct wm *wm, const char *path, struct err *e);

/* Recomputes wm->id: after wm_load() and after any setting changed. */
void wm_seal(struct wm *wm);

/* The watermark called name among v[0..n), or NULL. */
const struct wm *wm_find(const struct wm *v, unsigned n, const char *name);

/*
 * Where wm goes on a fw x fh frame: scaled to width x fw (at least 1
 * pixel, aspect kept), made smaller if it would not fit inside the
 * margins, at gravity with margin from the edges it touches. On a frame
 * narrower or lower than two margins it may overhang (wm_render() clips).
 */
void wm_place(const struct wm *wm, unsigned fw, unsigned fh,
    struct wm_rect *at);

/*
 * One row of the watermark as drawn: n pixels from (x, y) of the frame,
 * premultiplied RGBA floats 0..1 with the opacity applied. 0, or the
 * error (wm_render() stops there).
 */
typedef int wm_row_fn(void *ctx, long x, long y, unsigned n,
    const float *px, struct err *e);

/*
 * The watermark as it is drawn on a fw x fh frame, row by row into fn:
 * the image scaled (a tent filter as wide as the reduction: an area
 * average when it shrinks, bilinear when it grows) to wm_place()'s size,
 * the part inside the frame only. Memory: a few scaled rows, whatever the
 * file's or the frame's size. 0, ERR_INTERNAL (memory), or fn's error.
 */
int wm_render(const struct wm *wm, unsigned fw, unsigned fh, wm_row_fn *fn,
    void *ctx, struct err *e);

/* Draws wm over the packed RGB frame f (opaque). 0 or the error. */
int wm_apply_rgb(const struct wm *wm, struct rgb *f, struct err *e);

#endif
