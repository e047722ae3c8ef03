/*
 * params - the query string parsed into struct params (see params.h).
 * Every value is read by a strict parser of its own: no sign, no space, no
 * exponent, a cap on digits so nothing can overflow; the message of every
 * failure starts with the parameter's name.
 */
#include "req/params.h"
#include "req/params_int.h"
#include "req/pct.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECIMAL_MAX	20	/* characters of a decimal value */

enum { DEC_NUL = -2 };	/* dec()'s one failure: a decoded NUL */

struct param_def;
/* Reads the decoded, non-empty value v into p: 0 or the error in e. */
typedef int (*value_fn)(const struct param_def *d, const char *v,
    struct params *p, struct err *e);

struct param_def {
	const char *name;
	unsigned bit;
	value_fn parse;
	bool flag;		/* may stand alone: "info", "info=1" */
	/* Of the parameters that one parser serves for several
	 * (parse_decimal(), parse_bool(), parse_flag()): the field, as its
	 * offset in struct params; for a decimal its range and what it
	 * counts, which the message names. */
	size_t off;
	double lo, hi;
	const char *what;
};

/* Indexed by the enums of params.h. */
static const char *const fit_names[] = {
	[FIT_INSIDE] = "inside", [FIT_COVER] = "cover",
	[FIT_CONTAIN] = "contain", [FIT_FILL] = "fill",
	[FIT_OUTSIDE] = "outside",
};
static const char *const gravity_names[] = {
	[GRAV_CENTER] = "center", [GRAV_NORTH] = "north",
	[GRAV_SOUTH] = "south", [GRAV_EAST] = "east", [GRAV_WEST] = "west",
	[GRAV_NORTHEAST] = "northeast", [GRAV_NORTHWEST] = "northwest",
	[GRAV_SOUTHEAST] = "southeast", [GRAV_SOUTHWEST] = "southwest",
	[GRAV_SMART] = "smart",
};
static const char *const format_names[] = {
	[OUT_SOURCE] = "source", [OUT_JPEG] = "jpeg", [OUT_PNG] = "png",
	[OUT_WEBP] = "webp", [OUT_GIF] = "gif", [OUT_VTT] = "vtt",
	[OUT_AUTO] = "auto", [OUT_MJPEG] = "mjpeg", [OUT_MP4] = "mp4",
	[OUT_WEBM] = "webm", [OUT_AVIF] = "avif", [OUT_JXL] = "jxl",
	[OUT_BLURHASH] = "blurhash", [OUT_HLS] = "hls",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int bad(struct err *e, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fails with ERR_BAD_PARAM and "NAME: why". */
static int
bad(struct err *e, const char *name, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return err_set(e, ERR_BAD_PARAM, "%s: %s", name, why);
}

void
params_echo(const char *s, size_t n, char out[PARAMS_ECHO_MAX + 4])
{
	size_t i;

	for (i = 0; i < n && i < PARAMS_ECHO_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (n > PARAMS_ECHO_MAX) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/*
 * Percent-decodes s[0..n) once into out (n + 1 bytes): pct_decode_query(),
 * so a lone '%' (a browser's raw "t=50%") is itself; only a NUL fails.
 */
static int
dec(const char *s, size_t n, char *out)
{
	int rc = pct_decode_query(s, n, out, n + 1);

	return rc < 0 ? DEC_NUL : rc;
}

/*
 * Reads 1..maxdig decimal digits at *s into *out and advances *s; false if
 * there are none, too many, or the value is outside lo..hi. maxdig <= 10,
 * so the 64-bit sum cannot overflow. What follows is the caller's to check.
 */
static bool
read_uint(const char **s, unsigned maxdig, unsigned lo, unsigned hi,
    unsigned *out)
{
	const char *c = *s;
	uint64_t v = 0;
	unsigned n = 0;

	for (; *c >= '0' && *c <= '9'; c++) {
		if (++n > maxdig)
			return false;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	if (n == 0 || v < lo || v > hi)
		return false;
	*s = c;
	*out = (unsigned)v;
	return true;
}

/* The whole of v as an integer lo..hi of at most maxdig digits. */
static bool
whole_uint(const char *v, unsigned maxdig, unsigned lo, unsigned hi,
    unsigned *out)
{
	return read_uint(&v, maxdig, lo, hi, out) && *v == '\0';
}

/*
 * The whole of v as a plain decimal ("2", "0.5", ".5") within lo..hi.
 * strtod() alone would also take " 1", "+1", "1e1", "0x1p3", "inf" and
 * "nan", so only digits and one '.' get that far. The value is rounded to
 * what params_decimal_text() prints, because the canonical text (ETag, signature)
 * must name exactly the value that is used.
 */
/* d as params_decimal_text() writes it. */
static double
decimal_round(double d)
{
	char buf[PARAMS_DECIMAL_TEXT];

	params_decimal_text(d, buf);
	return strtod(buf, NULL);
}

static bool
whole_decimal(const char *v, double lo, double hi, double *out)
{
	char *end;
	size_t digits = 0, dots = 0, n;
	double d;

	for (n = 0; v[n] != '\0'; n++) {
		if (v[n] >= '0' && v[n] <= '9')
			digits++;
		else if (v[n] == '.')
			dots++;
		else
			return false;
	}
	if (digits == 0 || dots > 1 || n > DECIMAL_MAX)
		return false;
	errno = 0;
	d = strtod(v, &end);
	if (*end != '\0' || errno != 0 || !(d >= lo && d <= hi))
		return false;
	*out = decimal_round(d);
	return true;
}

/* Index of v in names[first..n), or -1. */
static int
lookup(const char *const *names, size_t first, size_t n, const char *v)
{
	size_t i;

	for (i = first; i < n; i++)
		if (strcmp(names[i], v) == 0)
			return (int)i;
	return -1;
}

static int
parse_size(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	const char *s = v;
	unsigned w = 0, h = 0;

	/* "WxH", "Wx" or "xH": at least one side, each 1..MAX_SIDE. */
	if (*s != 'x' && !read_uint(&s, 5, 1, PARAMS_MAX_SIDE, &w))
		goto fail;
	if (*s++ != 'x')
		goto fail;
	if (*s != '\0' && !read_uint(&s, 5, 1, PARAMS_MAX_SIDE, &h))
		goto fail;
	if (*s != '\0' || (w == 0 && h == 0))
		goto fail;
	p->width = w;
	p->height = h;
	return 0;
fail:
	return bad(e, d->name, "expected WxH, Wx or xH with sides 1..%u",
	    PARAMS_MAX_SIDE);
}

static int
parse_fit(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	int i = lookup(fit_names, 0, NELEM(fit_names), v);

	if (i < 0)
		return bad(e, d->name,
		    "expected inside, cover, contain, fill or outside");
	p->fit = (enum fit)i;
	return 0;
}

static int
parse_gravity(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	int i = lookup(gravity_names, 0, NELEM(gravity_names), v);

	if (i < 0)
		return bad(e, d->name, "expected center, north, south, east, "
		    "west, northeast, northwest, southeast or southwest");
	p->gravity = (enum gravity)i;
	return 0;
}

static int
parse_crop(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	const char *s = v;
	unsigned c[4];
	int i;

	for (i = 0; i < 4; i++) {
		/* x and y may be 0; w and h not. */
		if (!read_uint(&s, 7, i < 2 ? 0 : 1, PARAMS_MAX_CROP, &c[i]))
			goto fail;
		if (*s++ != (i < 3 ? ',' : '\0'))
			goto fail;
	}
	p->crop_x = c[0];
	p->crop_y = c[1];
	p->crop_w = c[2];
	p->crop_h = c[3];
	return 0;
fail:
	return bad(e, d->name, "expected x,y,w,h with x,y 0..%u and w,h 1..%u",
	    PARAMS_MAX_CROP, PARAMS_MAX_CROP);
}

static int
parse_rotate(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	static const char *const angles[] = { "0", "90", "180", "270" };
	int i = lookup(angles, 0, NELEM(angles), v);

	if (i < 0)
		return bad(e, d->name, "expected 0, 90, 180 or 270");
	p->rotate = 90u * (unsigned)i;
	return 0;
}

static int
parse_flip(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	/* Both set, so a query's flip replaces a preset's. */
	if (strcmp(v, "h") != 0 && strcmp(v, "v") != 0)
		return bad(e, d->name, "expected h or v");
	p->flip_h = v[0] == 'h';
	p->flip_v = v[0] == 'v';
	return 0;
}

static int
parse_format(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	/* From 1: "source" is the absence of format=, not a value of it. */
	int i = lookup(format_names, 1, NELEM(format_names), v);

	if (i < 0 && strcmp(v, "jpg") == 0)
		i = OUT_JPEG;
	if (i < 0)
		return bad(e, d->name, "expected jpeg, png, webp, gif, avif, jxl, "
		    "vtt, auto, blurhash, mjpeg, mp4, webm or hls");
	p->format = (enum out_format)i;
	return 0;
}

static int
parse_q(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	if (!whole_uint(v, 3, 1, 100, &p->quality))
		return bad(e, d->name, "expected an integer 1..100");
	return 0;
}

static int
parse_bg(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	uint32_t rgb = 0;
	int i, x;

	for (i = 0; i < 6; i++) {
		if ((x = pct_hexval(v[i])) < 0)	/* also stops at the NUL */
			goto fail;
		rgb = rgb << 4 | (uint32_t)x;
	}
	if (v[6] != '\0')
		goto fail;
	p->bg = rgb;
	return 0;
fail:
	return bad(e, d->name, "expected RRGGBB, 6 hex digits");
}

static int
parse_frame(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	unsigned f;

	if (!whole_uint(v, 6, 0, PARAMS_MAX_FRAME, &f))
		return bad(e, d->name, "expected an integer 0..%d",
		    PARAMS_MAX_FRAME);
	p->frame = (int)f;
	return 0;
}

/* "12.5", "HH:MM:SS.ms", "MM:SS", "50%", "auto". */
static int
parse_t(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	size_t n = strlen(v);
	char buf[DECIMAL_MAX + 1];
	double x = 0, part;
	unsigned fields = 0;

	if (strcmp(v, "auto") == 0) {
		p->t_kind = T_AUTO;
		return 0;
	}
	if (n > 0 && v[n - 1] == '%') {
		if (n - 1 > DECIMAL_MAX)
			goto fail;
		memcpy(buf, v, n - 1);
		buf[n - 1] = '\0';
		if (!whole_decimal(buf, 0, 100, &p->t))
			return bad(e, d->name, "percent must be 0..100");
		p->t_kind = T_PERCENT;
		return 0;
	}
	/* Up to three ':'-separated fields; all but the last whole numbers
	 * below 60 (except the first), the last a decimal. */
	for (const char *s = v;; fields++) {
		size_t len = strcspn(s, ":");
		unsigned u;

		if (len == 0 || len > DECIMAL_MAX || fields >= 3)
			goto fail;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (s[len] == ':') {
			if (!whole_uint(buf, 6, 0, fields ? 59 : 999999, &u))
				goto fail;
			part = u;
		} else if (!whole_decimal(buf, 0, PARAMS_MAX_T, &part) ||
		    (fields > 0 && part >= 60)) {
			goto fail;
		}
		x = x * 60 + part;
		if (s[len] != ':')
			break;
		s += len + 1;
	}
	if (x > PARAMS_MAX_T)
		goto fail;
	p->t = decimal_round(x);
	p->t_kind = T_SECONDS;
	return 0;
fail:
	return bad(e, d->name, "expected seconds (12.5), HH:MM:SS.ms, a "
	    "percentage (50%%) or auto");
}

static int
parse_seek(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	if (strcmp(v, "accurate") == 0)
		p->seek = SEEK_ACCURATE;
	else if (strcmp(v, "key") == 0)
		p->seek = SEEK_KEY;
	else
		return bad(e, d->name, "expected accurate or key");
	return 0;
}

static int
parse_sprite(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	const char *s = v;
	unsigned c, r;

	if (!read_uint(&s, 2, 1, PARAMS_MAX_SPRITE, &c) || *s++ != 'x' ||
	    !read_uint(&s, 2, 1, PARAMS_MAX_SPRITE, &r) || *s != '\0')
		return bad(e, d->name, "expected CxR, columns and rows 1..%d",
		    PARAMS_MAX_SPRITE);
	if (c * r > PARAMS_MAX_TILES)
		return bad(e, d->name, "at most %d tiles", PARAMS_MAX_TILES);
	p->sprite_cols = c;
	p->sprite_rows = r;
	return 0;
}

static int
parse_preset(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	size_t n = strlen(v);

	if (n >= PARAMS_MAX_PRESET ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
		return bad(e, d->name, "expected a name of a-z, 0-9, _ and -, "
		    "at most %d long", PARAMS_MAX_PRESET - 1);
	memcpy(p->preset, v, n + 1);
	return 0;
}

/* wm=: a watermark's name, spelled as a preset's; the router looks it up. */
static int
parse_wm(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	size_t n = strlen(v);

	if (n >= sizeof(p->wm) ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
		return bad(e, d->name, "expected a name of a-z, 0-9, _ and -, "
		    "at most %zu long", sizeof(p->wm) - 1);
	memcpy(p->wm, v, n + 1);
	return 0;
}

static int
parse_sig(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	size_t n = strlen(v);

	if (n != 64 || strspn(v, "0123456789abcdefABCDEF") != n)
		return bad(e, d->name, "expected 64 hex digits (HMAC-SHA256)");
	for (size_t i = 0; i <= n; i++)
		p->sig[i] = (char)(v[i] >= 'A' && v[i] <= 'F' ? v[i] + 32 : v[i]);
	return 0;
}

static int
parse_expires(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	unsigned t;

	if (!whole_uint(v, 10, 1, UINT32_MAX, &t))
		return bad(e, d->name, "expected a unix time in seconds");
	p->expires = t;
	return 0;
}

/*
 * seg=: a segment of format=hls, 0..PARAMS_MAX_SEG, optionally written
 * "N.ts": playlists end segment URLs so, because some HLS clients (ffmpeg's
 * hls demuxer since 5.1.6) take the text after the URL's last '.' for the
 * segment's type and refuse MPEG-TS under another name. A live source's
 * fMP4 segments are written "N.m4s" for the same reason, and its init
 * segment "init.mp4" (PARAMS_SEG_INIT).
 */
static int
parse_seg(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	char num[8];
	size_t n = strlen(v);

	if (strcmp(v, "init.mp4") == 0) {
		p->seg = PARAMS_SEG_INIT;
		return 0;
	}
	if (n > 3 && strcmp(v + n - 3, ".ts") == 0)
		n -= 3;
	else if (n > 4 && strcmp(v + n - 4, ".m4s") == 0)
		n -= 4;
	if (n >= sizeof(num))
		n = sizeof(num) - 1;	/* too long: whole_uint() refuses it */
	memcpy(num, v, n);
	num[n] = '\0';
	if (strlen(v) - n > 4 || !whole_uint(num, 6, 0, PARAMS_MAX_SEG, &p->seg))
		return bad(e, d->name, "expected a segment number 0..%d",
		    PARAMS_MAX_SEG);
	return 0;
}

/* segment=: whole seconds a segment of format=hls lasts. */
static int
parse_segment(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	if (!whole_uint(v, 2, PARAMS_MIN_SEGMENT, PARAMS_MAX_SEGMENT,
	    &p->segment))
		return bad(e, d->name, "expected whole seconds %d..%d",
		    PARAMS_MIN_SEGMENT, PARAMS_MAX_SEGMENT);
	return 0;
}

/* bx=, by=: BlurHash components 1..9 into the unsigned field at d->off. */
static int
parse_components(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	unsigned *field = (unsigned *)(void *)((char *)p + d->off);

	if (!whole_uint(v, 1, 1, 9, field))
		return bad(e, d->name, "expected an integer 1..9");
	return 0;
}

/* A decimal within [d->lo, d->hi] into the double field at d->off. */
static int
parse_decimal(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	double *field = (double *)(void *)((char *)p + d->off);

	if (!whole_decimal(v, d->lo, d->hi, field))
		return bad(e, d->name, "expected %s %g..%g", d->what, d->lo,
		    d->hi);
	return 0;
}

/* 0 or 1 into the bool field at d->off. */
static int
parse_bool(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	bool *field = (bool *)(void *)((char *)p + d->off);

	if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
		return bad(e, d->name, "expected 0 or 1");
	*field = v[0] == '1';
	return 0;
}

/* A flag: alone or =1, sets the bool field at d->off. */
static int
parse_flag(const struct param_def *d, const char *v, struct params *p,
    struct err *e)
{
	bool *field = (bool *)(void *)((char *)p + d->off);

	if (*v != '\0' && strcmp(v, "1") != 0)
		return bad(e, d->name, "is a flag: give it alone or as %s=1",
		    d->name);
	*field = true;
	return 0;
}

#define PARAM(n, b, fn)	.name = (n), .bit = (b), .parse = (fn)
#define FIELD(f)	.off = offsetof(struct params, f)

static const struct param_def defs[] = {
	{ PARAM("size", P_SIZE, parse_size) },
	{ PARAM("fit", P_FIT, parse_fit) },
	{ PARAM("gravity", P_GRAVITY, parse_gravity) },
	{ PARAM("crop", P_CROP, parse_crop) },
	{ PARAM("rotate", P_ROTATE, parse_rotate) },
	{ PARAM("flip", P_FLIP, parse_flip) },
	{ PARAM("format", P_FORMAT, parse_format) },
	{ PARAM("q", P_Q, parse_q) },
	{ PARAM("bg", P_BG, parse_bg) },
	{ PARAM("blur", P_BLUR, parse_decimal), FIELD(blur), .lo = 0.3,
	    .hi = 50, .what = "a decimal number" },
	{ PARAM("sharpen", P_SHARPEN, parse_decimal), FIELD(sharpen),
	    .lo = 0.3, .hi = 50, .what = "a decimal number" },
	{ PARAM("dpr", P_DPR, parse_decimal), FIELD(dpr), .lo = 1, .hi = 4,
	    .what = "a decimal number" },
	{ PARAM("enlarge", P_ENLARGE, parse_bool), FIELD(enlarge) },
	{ PARAM("frame", P_FRAME, parse_frame) },
	{ PARAM("t", P_T, parse_t) },
	{ PARAM("seek", P_SEEK, parse_seek) },
	{ PARAM("sprite", P_SPRITE, parse_sprite) },
	{ PARAM("info", P_INFO, parse_flag), .flag = true, FIELD(info) },
	{ PARAM("preset", P_PRESET, parse_preset) },
	{ PARAM("sig", P_SIG, parse_sig) },
	{ PARAM("fps", P_FPS, parse_decimal), FIELD(fps), .lo = 0.1,
	    .hi = PARAMS_MAX_FPS, .what = "frames per second" },
	{ PARAM("start", P_START, parse_decimal), FIELD(start), .lo = 0,
	    .hi = PARAMS_MAX_T, .what = "seconds" },
	{ PARAM("loop", P_LOOP, parse_bool), FIELD(loop) },
	{ PARAM("snapshot", P_SNAPSHOT, parse_flag), .flag = true,
	    FIELD(snapshot) },
	{ PARAM("expires", P_EXPIRES, parse_expires) },
	{ PARAM("wm", P_WM, parse_wm) },
	{ PARAM("bx", P_BX, parse_components), FIELD(bx) },
	{ PARAM("by", P_BY, parse_components), FIELD(by) },
	{ PARAM("seg", P_SEG, parse_seg) },
	{ PARAM("segment", P_SEGMENT, parse_segment) },
};

/* One "name[=value]" of n bytes (n > 0) into p. */
static int
parse_pair(const char *pair, size_t n, struct params *p, struct err *e)
{
	/* Decoding never lengthens, and a pair is at most the whole query. */
	char name[PARAMS_MAX_QUERY + 1], value[PARAMS_MAX_QUERY + 1];
	char echo[PARAMS_ECHO_MAX + 4];
	const struct param_def *d = NULL;
	const char *eq = memchr(pair, '=', n);
	size_t nlen = eq ? (size_t)(eq - pair) : n, i;
	int rc, vlen;

	rc = dec(pair, nlen, name);
	if (rc == DEC_NUL) {
		rc = err_set(e, ERR_BAD_PARAM, "NUL byte in a parameter name");
		goto out;
	}
	for (i = 0; i < NELEM(defs) && d == NULL; i++)
		if (strcmp(defs[i].name, name) == 0)
			d = &defs[i];
	if (d == NULL) {
		params_echo(name, (size_t)rc, echo);
		rc = err_set(e, ERR_BAD_PARAM, "unknown parameter '%s'", echo);
		goto out;
	}
	if (p->given & d->bit) {
		rc = err_set(e, ERR_BAD_PARAM, "parameter '%s' given twice",
		    d->name);
		goto out;
	}
	/* Without '=' a name is a flag (value ""). */
	value[0] = '\0';
	vlen = eq ? dec(eq + 1, n - nlen - 1, value) : 0;
	if (vlen == DEC_NUL) {
		rc = bad(e, d->name, "NUL byte in the value");
		goto out;
	}
	if (vlen == 0 && !d->flag) {
		rc = bad(e, d->name, "missing value");
		goto out;
	}
	if ((rc = d->parse(d, value, p, e)) < 0)
		goto out;
	p->given |= d->bit;
	rc = 0;
out:
	return rc;
}

void
params_init(struct params *p)
{
	memset(p, 0, sizeof(*p));
	p->fit = FIT_INSIDE;
	p->gravity = GRAV_CENTER;
	p->format = OUT_SOURCE;
	p->bg = 0xFFFFFF;
	p->dpr = 1;
	p->enlarge = false;
	p->frame = -1;
	p->bx = 4;
	p->by = 3;
	p->segment = PARAMS_DEFAULT_SEGMENT;
}

int
params_parse(const char *query, struct params *p, struct err *e)
{
	/* Parsed into a copy so that a failure leaves p as it was. */
	struct params np = *p;
	const char *pair, *end;
	int rc = 0;

	if (query == NULL)
		goto out;
	if (strnlen(query, PARAMS_MAX_QUERY + 1) > PARAMS_MAX_QUERY) {
		rc = err_set(e, ERR_BAD_PARAM,
		    "query string longer than %d bytes", PARAMS_MAX_QUERY);
		goto out;
	}
	for (pair = query;; pair = end + 1) {
		end = pair + strcspn(pair, "&");
		/* An empty pair ("a=1&&b=2", a trailing '&') is skipped. */
		if (end > pair &&
		    (rc = parse_pair(pair, (size_t)(end - pair), &np, e)) < 0)
			goto out;
		if (*end == '\0')
			break;
	}
	*p = np;
out:
	return rc;
}

/*
 * bx= and by= only with format=blurhash; and with it nothing that shapes
 * encoded pixels (q, blur, sharpen) or another kind of answer.
 */
static int
check_blurhash(const struct params *p, struct err *e)
{
	unsigned wrong = P_Q | P_BLUR | P_SHARPEN | P_INFO | P_SPRITE;

	if (p->format != OUT_BLURHASH) {
		if (p->given & (P_BX | P_BY))
			return bad(e, p->given & P_BX ? "bx" : "by",
			    "needs format=blurhash");
		return 0;
	}
	for (size_t i = 0; i < NELEM(defs); i++)
		if (p->given & defs[i].bit & wrong)
			return bad(e, defs[i].name, "does not apply to "
			    "format=blurhash");
	return 0;
}

/*
 * seg= and segment= only with format=hls; and with it only what shapes
 * the video (size, fit, gravity, rotate, flip, bg, dpr, enlarge, q): a
 * segment is a time range of the file, so no still, stream or image
 * parameter means anything there.
 */
static int
check_hls(const struct params *p, bool video, struct err *e)
{
	unsigned wrong = P_T | P_SEEK | P_SPRITE | P_INFO | P_FPS | P_START |
	    P_LOOP | P_WM | P_BLUR | P_SHARPEN | P_CROP | P_FRAME;

	if (p->format != OUT_HLS) {
		if (p->given & (P_SEG | P_SEGMENT))
			return bad(e, p->given & P_SEG ? "seg" : "segment",
			    "needs format=hls");
		return 0;
	}
	if (!video)
		return bad(e, "format", "hls needs a video");
	for (size_t i = 0; i < NELEM(defs); i++)
		if (p->given & defs[i].bit & wrong)
			return bad(e, defs[i].name, "does not apply to "
			    "format=hls");
	return 0;
}

int
params_check_kind(const struct params *p, bool video, struct err *e)
{
	int rc;
	unsigned wrong = p->given & (video ? PARAMS_IMAGE_ONLY : PARAMS_VIDEO_ONLY);

	for (size_t i = 0; i < NELEM(defs); i++)
		if (wrong & defs[i].bit)
			return bad(e, defs[i].name, "does not apply to %s",
			    video ? "a video" : "an image");
	if (p->format == OUT_VTT && !(p->given & P_SPRITE))
		return bad(e, "format", "vtt needs sprite=CxR on a video");
	if (!video && PARAMS_IS_STREAM(p->format))
		return bad(e, "format", "%s needs a video", format_names[p->format]);
	if (p->given & P_SNAPSHOT)
		return bad(e, "snapshot", "only for live sources");
	/* Drawn on images, stills and sprite sheets; not on streams (a
	 * transcode's frames never reach the image encoders, and one rule
	 * for every stream format is simpler to state). */
	if ((p->given & P_WM) && PARAMS_IS_STREAM(p->format))
		return bad(e, "wm", "does not apply to a stream");
	if ((rc = check_blurhash(p, e)) < 0 || (rc = check_hls(p, video, e)) < 0)
		return rc;
	/* A stream's own parameters, and a still's, do not mix. */
	if (!PARAMS_IS_STREAM(p->format)) {
		for (size_t i = 0; i < NELEM(defs); i++)
			if (p->given & defs[i].bit & (P_FPS | P_START | P_LOOP))
				return bad(e, defs[i].name, "needs format=mjpeg, "
				    "mp4 or webm");
	} else {
		for (size_t i = 0; i < NELEM(defs); i++)
			if (p->given & defs[i].bit & (P_T | P_SEEK | P_SPRITE | P_INFO))
				return bad(e, defs[i].name, "does not apply to a "
				    "stream (start= sets where it begins)");
		if (p->format != OUT_MJPEG && (p->given & P_LOOP))
			return bad(e, "loop", "only with format=mjpeg");
	}
	return 0;
}

int
params_parse_over(const char *query, struct params *p, struct err *e)
{
	unsigned base = p->given;
	int rc;

	/* Duplicates are looked for within the query alone. */
	p->given = 0;
	rc = params_parse(query, p, e);
	p->given |= base;
	return rc;
}

void
params_box(const struct params *p, unsigned *w, unsigned *h)
{
	/* At most 16384 * 4, far from unsigned's range. */
	*w = p->width ? (unsigned)lround(p->width * p->dpr) : 0;
	*h = p->height ? (unsigned)lround(p->height * p->dpr) : 0;
}

void
params_geom_box(const struct params *p, struct geom_box *box)
{
	params_box(p, &box->w, &box->h);
	box->fit = p->fit;
	box->gravity = p->gravity;
	box->enlarge = p->enlarge;
}

const char *
params_fit_name(enum fit f)
{
	return (unsigned)f < NELEM(fit_names) ? fit_names[f] : "unknown";
}

const char *
params_gravity_name(enum gravity g)
{
	return (unsigned)g < NELEM(gravity_names) ? gravity_names[g] :
	    "unknown";
}

const char *
params_format_name(enum out_format f)
{
	return (unsigned)f < NELEM(format_names) ? format_names[f] :
	    "unknown";
}
