/*
 * watermark - load, place, scale and blend a configured watermark. See
 * watermark.h; img_wm_apply() (img_wm.h) is the GraphicsMagick side.
 *
 * Scaling is done here rather than by GraphicsMagick because the file is
 * decoded in the master, where GraphicsMagick is never started (the media
 * libraries start in each worker after fork), and because one blend, in
 * premultiplied floats, then serves both GraphicsMagick images and packed
 * RGB frames the same way.
 */
#include "img/watermark.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <webp/decode.h>

#include "req/sniff.h"

void
wm_init(struct wm *wm, const char *name)
{
	memset(wm, 0, sizeof(*wm));
	snprintf(wm->name, sizeof(wm->name), "%s", name);
	wm->gravity = GRAV_SOUTHEAST;
	wm->margin = 0;
	wm->opacity = 1;
	wm->width = 0.2;
}

void
wm_cleanup(struct wm *wm)
{
	free(wm->px);
	wm->px = NULL;
	wm->w = wm->h = 0;
}

/* The whole file at path into *buf (malloc'd), at most WM_MAX_FILE bytes. */
static int
read_file(const char *path, unsigned char **buf, size_t *len, struct err *e)
{
	struct stat st;
	size_t got = 0;
	int fd, rc = 0;

	*buf = NULL;
	if (path[0] != '/')
		return err_set(e, ERR_BAD_PARAM, "file: '%.200s' is not an "
		    "absolute path", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return err_set(e, ERR_NOT_FOUND, "file: cannot open '%.200s': %s",
		    path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = err_set(e, ERR_NOT_FOUND, "file: '%.200s' is not a regular "
		    "file", path);
		goto out;
	}
	if (st.st_size <= 0 || (unsigned long long)st.st_size > WM_MAX_FILE) {
		rc = err_set(e, st.st_size <= 0 ? ERR_UNDECODABLE : ERR_TOO_LARGE,
		    "file: '%.200s' is %s", path, st.st_size <= 0 ? "empty" :
		    "over 16 MiB");
		goto out;
	}
	if ((*buf = malloc((size_t)st.st_size)) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = err_set(e, ERR_NOT_FOUND, "file: cannot read "
			    "'%.200s'", path);
			goto out;
		}
		got += (size_t)n;
	}
	*len = got;
out:
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return rc;
}

static int
check_size(unsigned w, unsigned h, struct err *e)
{
	if (w == 0 || h == 0 || w > WM_MAX_SIDE || h > WM_MAX_SIDE ||
	    (unsigned long long)w * h > WM_MAX_PIXELS)
		return err_set(e, ERR_TOO_LARGE, "file: %ux%u is over %ux%u or "
		    "%u pixels", w, h, WM_MAX_SIDE, WM_MAX_SIDE, WM_MAX_PIXELS);
	return 0;
}

static int
decode_png(struct wm *wm, const unsigned char *buf, size_t len,
    struct err *e)
{
	png_image img;
	int rc = 0;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&img, buf, len))
		return err_set(e, ERR_UNDECODABLE, "file: PNG: %s", img.message);
	if ((rc = check_size(img.width, img.height, e)) < 0)
		goto out;
	img.format = PNG_FORMAT_RGBA;
	if ((wm->px = malloc(PNG_IMAGE_SIZE(img))) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (!png_image_finish_read(&img, NULL, wm->px, 0, NULL)) {
		rc = err_set(e, ERR_UNDECODABLE, "file: PNG: %s", img.message);
		goto out;
	}
	wm->w = img.width;
	wm->h = img.height;
out:
	png_image_free(&img);
	return rc;
}

static int
decode_webp(struct wm *wm, const unsigned char *buf, size_t len,
    struct err *e)
{
	int w, h, rc;

	if (!WebPGetInfo(buf, len, &w, &h))
		return err_set(e, ERR_UNDECODABLE, "file: not a still WebP image");
	if ((rc = check_size((unsigned)w, (unsigned)h, e)) < 0)
		return rc;
	if ((wm->px = malloc((size_t)w * (size_t)h * 4)) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	if (WebPDecodeRGBAInto(buf, len, wm->px, (size_t)w * (size_t)h * 4,
	    w * 4) == NULL)
		return err_set(e, ERR_UNDECODABLE, "file: WebP does not decode");
	wm->w = (unsigned)w;
	wm->h = (unsigned)h;
	return 0;
}

int
wm_load(struct wm *wm, const char *path, struct err *e)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int rc;

	wm_cleanup(wm);
	if ((rc = read_file(path, &buf, &len, e)) < 0)
		goto out;
	/* By the first bytes, as any source: never by the name. */
	switch (sniff_type(buf, len)) {
	case MT_PNG:
		rc = decode_png(wm, buf, len, e);
		break;
	case MT_WEBP:
		rc = decode_webp(wm, buf, len, e);
		break;
	default:
		rc = err_set(e, ERR_UNSUPPORTED, "file: '%.200s' is not a PNG "
		    "or WebP image", path);
		break;
	}
	if (rc < 0)
		wm_cleanup(wm);
	else
		wm_seal(wm);
out:
	free(buf);
	return rc;
}

static uint32_t
fnv1a(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

void
wm_seal(struct wm *wm)
{
	uint32_t h = 2166136261u;
	unsigned g = (unsigned)wm->gravity;

	h = fnv1a(h, &wm->w, sizeof(wm->w));
	h = fnv1a(h, &wm->h, sizeof(wm->h));
	if (wm->px != NULL)
		h = fnv1a(h, wm->px, (size_t)wm->w * wm->h * 4);
	h = fnv1a(h, &g, sizeof(g));
	h = fnv1a(h, &wm->margin, sizeof(wm->margin));
	h = fnv1a(h, &wm->opacity, sizeof(wm->opacity));
	h = fnv1a(h, &wm->width, sizeof(wm->width));
	wm->id = h;
}

const struct wm *
wm_find(const struct wm *v, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/* Along one axis: the start of a watermark of size s in a frame of f. */
static long
gravity_start(int side, unsigned f, unsigned s, unsigned margin)
{
	if (side < 0)
		return (long)margin;
	if (side > 0)
		return (long)f - (long)s - (long)margin;
	return ((long)f - (long)s) / 2;
}

void
wm_place(const struct wm *wm, unsigned fw, unsigned fh, struct wm_rect *at)
{
	/* -1 the left/top edge, 1 the right/bottom one, 0 centred. */
	static const int gx[] = { [GRAV_WEST] = -1, [GRAV_NORTHWEST] = -1,
	    [GRAV_SOUTHWEST] = -1, [GRAV_EAST] = 1, [GRAV_NORTHEAST] = 1,
	    [GRAV_SOUTHEAST] = 1, [GRAV_SMART] = 0 };
	static const int gy[] = { [GRAV_NORTH] = -1, [GRAV_NORTHWEST] = -1,
	    [GRAV_NORTHEAST] = -1, [GRAV_SOUTH] = 1, [GRAV_SOUTHWEST] = 1,
	    [GRAV_SOUTHEAST] = 1, [GRAV_SMART] = 0 };
	unsigned aw = fw > 2 * wm->margin ? fw - 2 * wm->margin : 1;
	unsigned ah = fh > 2 * wm->margin ? fh - 2 * wm->margin : 1;
	double sw = fmax(1, round(wm->width * fw)), sh;

	if (sw > aw)
		sw = aw;
	sh = fmax(1, round(sw * wm->h / wm->w));
	if (sh > ah) {
		sh = ah;
		sw = fmax(1, fmin(aw, round(sh * wm->w / wm->h)));
	}
	at->w = (unsigned)sw;
	at->h = (unsigned)sh;
	at->x = gravity_start(gx[wm->gravity], fw, at->w, wm->margin);
	at->y = gravity_start(gy[wm->gravity], fh, at->h, wm->margin);
}

static long
clip(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * The taps of a tent filter from n source samples to m: output i reads
 * sources first[i] .. first[i] + count[i] - 1 with weights w[i * stride ..],
 * summing to 1. Only outputs lo..hi-1 are made.
 */
struct taps {
	unsigned *first, *count, stride;
	float *w;
};

static void
taps_free(struct taps *t)
{
	free(t->first);
	free(t->count);
	free(t->w);
}

static int
taps_make(unsigned n, unsigned m, unsigned lo, unsigned hi, struct taps *t)
{
	double scale = (double)m / n;
	double support = scale < 1 ? 1 / scale : 1;

	t->stride = (unsigned)ceil(2 * support) + 2;
	t->first = calloc(hi - lo, sizeof(*t->first));
	t->count = calloc(hi - lo, sizeof(*t->count));
	t->w = calloc((size_t)(hi - lo) * t->stride, sizeof(*t->w));
	if (t->first == NULL || t->count == NULL || t->w == NULL)
		return -1;
	for (unsigned i = lo; i < hi; i++) {
		double c = (i + 0.5) / scale - 0.5, sum = 0;
		long a = (long)ceil(c - support), b = (long)floor(c + support);
		float *w = t->w + (size_t)(i - lo) * t->stride;
		unsigned k = 0;

		if (a < 0)
			a = 0;
		if (b > (long)n - 1)
			b = (long)n - 1;
		/* Never empty: the nearest source at least. */
		if (a > b)
			a = b = c < 0 ? 0 : (long)n - 1;
		t->first[i - lo] = (unsigned)a;
		for (long x = a; x <= b && k < t->stride; x++, k++) {
			double d = 1 - fabs(x - c) / support;

			w[k] = (float)(d > 0 ? d : 0);
			sum += w[k];
		}
		t->count[i - lo] = k;
		for (unsigned j = 0; j < k; j++)
			w[j] = sum > 0 ? (float)(w[j] / sum) : 1.0f / k;
	}
	return 0;
}

/*
 * Source row sy of wm scaled across into out (r_w premultiplied RGBA
 * floats): the straight 8-bit pixels premultiplied as they are read.
 */
static void
across(const struct wm *wm, const struct taps *tx, unsigned r_w, unsigned sy,
    float *out)
{
	const uint8_t *row = wm->px + (size_t)sy * wm->w * 4;

	for (unsigned i = 0; i < r_w; i++, out += 4) {
		const float *w = tx->w + (size_t)i * tx->stride;
		const uint8_t *s = row + (size_t)tx->first[i] * 4;
		float acc[4] = { 0, 0, 0, 0 };

		for (unsigned k = 0; k < tx->count[i]; k++, s += 4) {
			float a = s[3] / 255.0f * w[k];

			acc[0] += s[0] / 255.0f * a;
			acc[1] += s[1] / 255.0f * a;
			acc[2] += s[2] / 255.0f * a;
			acc[3] += a;
		}
		memcpy(out, acc, sizeof(acc));
	}
}

int
wm_render(const struct wm *wm, unsigned fw, unsigned fh, wm_row_fn *fn,
    void *ctx, struct err *e)
{
	struct taps tx = { 0 }, ty = { 0 };
	struct wm_rect at, r;
	/* Rows scaled across, kept while the rows below still read them:
	 * ring[k] holds source row tag[k]. Memory: a few rows of the
	 * output, however large the file or the answer. */
	float *ring = NULL, *line = NULL;
	long *tag = NULL;
	unsigned cx0, cx1, cy0, cy1, n;
	int rc = 0;

	wm_place(wm, fw, fh, &at);
	/* The part of the scaled image inside the frame, in its pixels. */
	cx0 = (unsigned)clip(-at.x, 0, at.w);
	cy0 = (unsigned)clip(-at.y, 0, at.h);
	cx1 = (unsigned)clip((long)fw - at.x, 0, at.w);
	cy1 = (unsigned)clip((long)fh - at.y, 0, at.h);
	r.x = at.x + cx0;
	r.y = at.y + cy0;
	r.w = cx1 > cx0 ? cx1 - cx0 : 0;
	r.h = cy1 > cy0 ? cy1 - cy0 : 0;
	if (r.w == 0 || r.h == 0 || wm->px == NULL)
		goto out;
	if (taps_make(wm->w, at.w, cx0, cx1, &tx) < 0 ||
	    taps_make(wm->h, at.h, cy0, cy1, &ty) < 0) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	n = ty.stride;
	if ((ring = malloc((size_t)n * r.w * 4 * sizeof(float))) == NULL ||
	    (line = malloc((size_t)r.w * 4 * sizeof(float))) == NULL ||
	    (tag = malloc(n * sizeof(*tag))) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (unsigned k = 0; k < n; k++)
		tag[k] = -1;
	for (unsigned j = 0; j < r.h; j++) {
		const float *w = ty.w + (size_t)j * ty.stride;

		memset(line, 0, (size_t)r.w * 4 * sizeof(float));
		for (unsigned k = 0; k < ty.count[j]; k++) {
			unsigned sy = ty.first[j] + k, slot = sy % n;
			float *src = ring + (size_t)slot * r.w * 4;

			/* A row's taps are consecutive and never more than n,
			 * so a slot is refilled only once no row needs it. */
			if (tag[slot] != (long)sy) {
				across(wm, &tx, r.w, sy, src);
				tag[slot] = (long)sy;
			}
			for (unsigned i = 0; i < r.w * 4; i++)
				line[i] += src[i] * w[k];
		}
		/* Down done: the opacity, and float error kept in range. */
		for (unsigned i = 0; i < r.w * 4; i++)
			line[i] = fminf(1, fmaxf(0, line[i] * (float)wm->opacity));
		if ((rc = fn(ctx, r.x, r.y + j, r.w, line, e)) < 0)
			goto out;
	}
out:
	taps_free(&tx);
	taps_free(&ty);
	free(ring);
	free(line);
	free(tag);
	return rc;
}

/* One row over a packed RGB frame (opaque). */
static int
rgb_row(void *ctx, long x, long y, unsigned n, const float *s, struct err *e)
{
	struct rgb *f = ctx;
	unsigned char *d = f->px + (size_t)y * f->stride + (size_t)x * 3;

	(void)e;
	for (unsigned i = 0; i < n; i++, d += 3, s += 4)
		for (int c = 0; c < 3; c++)
			d[c] = (unsigned char)lrintf(fminf(255,
			    s[c] * 255 + d[c] * (1 - s[3])));
	return 0;
}

int
wm_apply_rgb(const struct wm *wm, struct rgb *f, struct err *e)
{
	return wm_render(wm, f->w, f->h, rgb_row, f, e);
}
