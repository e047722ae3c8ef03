/*
 * params - the typed form of a request's query string (the URL API of
 * DESIGN.md). params_parse() is the only place query text is interpreted:
 * an unknown name, a repeated name, a bad or out-of-range value fails with
 * ERR_BAD_PARAM and a message that names the parameter.
 * Ownership: the caller owns struct params; it holds no pointers.
 */
#ifndef MF_PARAMS_H
#define MF_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "req/geom.h"	/* enum fit, enum gravity, struct geom_box */

/* OUT_SOURCE: the source's own format (JPEG for a video still). */
enum out_format { OUT_SOURCE = 0, OUT_JPEG, OUT_PNG, OUT_WEBP, OUT_GIF,
	OUT_VTT,
	OUT_AUTO,	/* by Accept and [media] auto_formats (fcgi/http/accept.h) */
	OUT_MJPEG,	/* multipart/x-mixed-replace stream of JPEG frames */
	OUT_MP4,	/* fragmented MP4 (H.264 + AAC) progressive transcode */
	OUT_WEBM,	/* WebM (VP8 + Opus/Vorbis) progressive transcode */
	OUT_AVIF,	/* AVIF (AV1 still, libavif) */
	OUT_JXL,	/* JPEG XL (libjxl) */
	OUT_BLURHASH,	/* the BlurHash placeholder string, text/plain */
	OUT_HLS		/* HLS VOD playlist, or with seg= one segment (stream/hls.h) */
};

/* Whether a format is a long-lived stream (a stream slot, no timeout). */
#define PARAMS_IS_STREAM(f) ((f) == OUT_MJPEG || (f) == OUT_MP4 || (f) == OUT_WEBM)

/* t=: auto (skip black/flat opening frames), seconds, or percent. */
enum t_kind { T_AUTO = 0, T_SECONDS, T_PERCENT };
enum seek_mode { SEEK_ACCURATE = 0, SEEK_KEY };

/* Upper bounds of the parser; the configured limits may be lower. */
#define PARAMS_MAX_SIDE		16384u	/* size W or H, before dpr */
#define PARAMS_MAX_CROP		1000000u	/* crop x, y, w, h */
#define PARAMS_MAX_FRAME	100000
#define PARAMS_MAX_QUERY	2048	/* bytes of query string */
#define PARAMS_MAX_T		(100.0 * 3600)	/* t= in seconds */
#define PARAMS_MAX_SPRITE	20	/* columns or rows of sprite= */
#define PARAMS_MAX_TILES	100	/* columns x rows of sprite= */
#define PARAMS_MAX_SEG		999999	/* seg= of format=hls */
/* seg=init.mp4: a live source's HLS init segment (fcgi/viewers/hlslive.h). */
#define PARAMS_SEG_INIT		(PARAMS_MAX_SEG + 1)
/* segment= of format=hls: seconds a segment lasts (cut at a keyframe). */
#define PARAMS_MIN_SEGMENT	1
#define PARAMS_MAX_SEGMENT	30
#define PARAMS_DEFAULT_SEGMENT	6

/* One bit per parameter name, in struct params.given. */
enum param_bit {
	P_SIZE = 1u << 0, P_FIT = 1u << 1, P_GRAVITY = 1u << 2,
	P_CROP = 1u << 3, P_ROTATE = 1u << 4, P_FLIP = 1u << 5,
	P_FORMAT = 1u << 6, P_Q = 1u << 7, P_BG = 1u << 8,
	P_BLUR = 1u << 9, P_SHARPEN = 1u << 10, P_DPR = 1u << 11,
	P_ENLARGE = 1u << 12, P_FRAME = 1u << 13,
	P_T = 1u << 14, P_SEEK = 1u << 15, P_SPRITE = 1u << 16,
	P_INFO = 1u << 17, P_PRESET = 1u << 18, P_SIG = 1u << 19,
	P_FPS = 1u << 20, P_START = 1u << 21, P_LOOP = 1u << 22,
	P_SNAPSHOT = 1u << 23,
	P_EXPIRES = 1u << 24,
	P_BX = 1u << 25, P_BY = 1u << 26,	/* format=blurhash components */
	P_WM = 1u << 27,	/* wm=: a [watermark NAME] of the config */
	P_SEG = 1u << 28,	/* format=hls: one segment (seg=N) */
	P_SEGMENT = 1u << 29	/* format=hls: target segment seconds */
};

#define PARAMS_MAX_PRESET	32	/* bytes of a preset name, NUL included */

/* Parameters that mean nothing for a kind of source (400 if given). */
#define PARAMS_VIDEO_ONLY	(P_T | P_SEEK | P_SPRITE | P_FPS | P_START | \
				 P_LOOP | P_SNAPSHOT)
#define PARAMS_MAX_FPS		120
#define PARAMS_IMAGE_ONLY	(P_CROP | P_FRAME)

struct params {
	unsigned given;		/* P_* bits of the names present */
	unsigned width, height;	/* size=WxH / Wx / xH; 0 = not given */
	enum fit fit;		/* default FIT_INSIDE */
	enum gravity gravity;	/* default GRAV_CENTER */
	unsigned crop_x, crop_y, crop_w, crop_h;	/* valid if P_CROP */
	unsigned rotate;	/* 0, 90, 180, 270 */
	bool flip_h, flip_v;
	enum out_format format;	/* default OUT_SOURCE */
	unsigned quality;	/* 1..100; 0 = the encoder's default */
	uint32_t bg;		/* 0xRRGGBB; default 0xFFFFFF */
	double blur, sharpen;	/* sigma 0.3..50; 0 = off */
	double dpr;		/* 1..4; default 1 */
	bool enlarge;		/* default false */
	int frame;		/* page/frame index; -1 = not given */
	enum t_kind t_kind;	/* default T_AUTO */
	double t;		/* seconds, or percent 0..100 */
	enum seek_mode seek;	/* default SEEK_ACCURATE */
	unsigned sprite_cols, sprite_rows;	/* valid if P_SPRITE */
	bool info;		/* JSON metadata instead of pixels */
	char preset[PARAMS_MAX_PRESET];	/* valid if P_PRESET: [a-z0-9_-]+ */
	char sig[65];		/* valid if P_SIG: 64 lowercase hex digits */
	double fps;		/* streams: cap on frames per second; 0 = none */
	double start;		/* streams: first second of the file */
	bool loop;		/* streams: start again at the end */
	bool snapshot;		/* live: the newest frame as one JPEG */
	/* Unix seconds after which the URL is refused (the gate checks it;
	 * a signature covers it like any parameter). Valid if P_EXPIRES. */
	uint32_t expires;
	/* format=blurhash: components across and down, 1..9 (default 4, 3). */
	unsigned bx, by;
	char wm[PARAMS_MAX_PRESET];	/* valid if P_WM: a name, as preset */
	/* format=hls: the segment asked for (valid if P_SEG; without it the
	 * playlist), and the target seconds of a segment (default 6). */
	unsigned seg;
	unsigned segment;
};

/* Sets every field to its default (nothing given). */
void params_init(struct params *p);

/*
 * Parses query (the text after '?', without it; may be NULL or empty) into
 * p, which params_init() must have prepared. Names and values are
 * percent-decoded once; "&" separates pairs; an empty pair ("a=1&&b=2") is
 * skipped. Returns 0, or the negative error with e filled (ERR_BAD_PARAM).
 */
int params_parse(const char *query, struct params *p, struct err *e);

/*
 * Parses query over a preset's parameters already in p (from its own
 * params_parse()): the query's values override the preset's, a name
 * repeated within the query is still refused. 0 or the error.
 */
int params_parse_over(const char *query, struct params *p, struct err *e);

/*
 * Fails with ERR_BAD_PARAM naming the first parameter of p that does not
 * apply to the kind of source (PARAMS_VIDEO_ONLY for an image, ...), or
 * a format that the kind cannot produce (vtt without sprite).
 */
int params_check_kind(const struct params *p, bool video, struct err *e);

/*
 * The box the output must meet, size multiplied by dpr and rounded
 * (0 for a side not given).
 */
void params_box(const struct params *p, unsigned *w, unsigned *h);

/*
 * The geometry of a request for geom_plan_limited(): params_box() and
 * fit=, gravity=, enlarge=. Here rather than in geom, which knows no
 * request: geometry is below the URL, never the other way round.
 */
void params_geom_box(const struct params *p, struct geom_box *box);

/*
 * Writes the canonical form of p (given parameters in a fixed order, values
 * normalised: "size=300x200&fit=cover") into buf, NUL-terminated. The same
 * request in any parameter order gives the same text (ETag, signatures).
 * sig is never part of it: it is what a signature signs.
 * Returns the length, or -1 if buf is too small.
 */
int params_canonical(const struct params *p, char *buf, size_t len);

/* Names used in JSON and in canonical text. Never NULL. */
const char *params_fit_name(enum fit f);
const char *params_gravity_name(enum gravity g);
const char *params_format_name(enum out_format f);

/*
 * A client's text s[0..n) as it may be quoted back in a message (and a log
 * line): at most PARAMS_ECHO_MAX bytes, each non-printable byte as '?',
 * "..." when cut. out holds PARAMS_ECHO_MAX + 4 bytes.
 */
#define PARAMS_ECHO_MAX	40
void params_echo(const char *s, size_t n, char out[PARAMS_ECHO_MAX + 4]);

#endif
