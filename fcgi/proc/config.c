/*
 * config - defaults, INI file (inih), flags. See config.h.
 */
#include "proc/config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "proc/config_wm.h"
#include "proc/scoreboard.h"
#include "http/accept.h"
#include "live/liveopt.h"
#include "req/params.h"

/* State of one ini_parse() run: the target and the first reason to refuse. */
struct load_ctx {
	struct config *c;
	char reason[256];
};

void
config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 0;
	c->max_requests = 0;
	c->request_timeout = 60;
	c->max_streams = 16;
	c->max_viewers = 1000;
	c->quality = 75;	/* as GraphicsMagick and Pillow: the size the issue measures against */
	c->max_file_size = 200ull << 20;
	c->max_source_pixels = 100000000ull;	/* 100 MP */
	c->max_output_pixels = 25000000ull;	/* 25 MP */
	c->max_frames = 300;
	/* blur/sharpen: ~3-5 s of one core */
	c->max_filter_work = 1500000000ull;
	c->avif_speed = 6;	/* measured: README "AVIF and JPEG XL" */
	c->jxl_effort = 3;
	c->max_memory = 512ull << 20;
	c->max_duration = 6 * 3600;
	c->max_video_side = 8192;
	c->probe_size = 5000000;
	c->analyze_duration = 5;
	c->max_decode_frames = 1200;
	/* ~20 s of one core decoding 1080p H.264 (300 frames/s) */
	c->max_decode_pixels = 12000000000ull;
	c->live_path = strdup("/live");
	c->auto_formats[0] = OUT_WEBP;
	c->n_auto_formats = 1;
	c->stream_timeout = 30;
	c->stream_sndbuf = 0;	/* the kernel's: live viewers skip unread frames */
	c->mount = strdup("");
}

void
config_cleanup(struct config *c)
{
	free(c->listen);
	free(c->user);
	free(c->group);
	free(c->access_log);
	free(c->error_log);
	free(c->status_path);
	free(c->health_path);
	free(c->status_allow);
	for (unsigned i = 0; i < c->n_signing_keys; i++) {
		explicit_bzero(c->signing_keys[i], strlen(c->signing_keys[i]));
		free(c->signing_keys[i]);
	}
	free(c->root);
	free(c->mount);
	free(c->cache_control);
	free(c->path);
	for (unsigned i = 0; i < c->n_presets; i++) {
		free(c->presets[i].name);
		free(c->presets[i].query);
	}
	free(c->presets);
	for (unsigned i = 0; i < c->n_watermarks; i++)
		wm_cleanup(&c->watermarks[i]);
	free(c->watermarks);
	program_set_free(&c->programs);
	for (unsigned i = 0; i < c->n_sources; i++) {
		free(c->sources[i].name);
		free(c->sources[i].input);
		free(c->sources[i].format);
		free(c->sources[i].options);
	}
	free(c->sources);
	free(c->live_path);
	memset(c, 0, sizeof(*c));
}

static int
set_str(char **dst, const char *v, char *why, size_t len)
{
	char *s = strdup(v);

	if (s == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static int
set_ull(unsigned long long *dst, const char *v, unsigned long long lo,
    unsigned long long hi, const char *key, char *why, size_t len)
{
	char *end;
	unsigned long long x;

	errno = 0;
	if (*v < '0' || *v > '9')
		goto bad;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		goto bad;
	*dst = x;
	return 0;
bad:
	snprintf(why, len, "%s: expected a whole number from %llu to %llu, got '%.40s'",
	    key, lo, hi, v);
	return -1;
}

static int
set_uint(unsigned *dst, const char *v, unsigned lo, unsigned hi,
    const char *key, char *why, size_t len)
{
	unsigned long long x;

	if (set_ull(&x, v, lo, hi, key, why, len) < 0)
		return -1;
	*dst = (unsigned)x;
	return 0;
}

static int
set_bool(bool *dst, const char *v, const char *key, char *why, size_t len)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*dst = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*dst = false;
	else {
		snprintf(why, len, "%s: expected yes or no, got '%.40s'", key, v);
		return -1;
	}
	return 0;
}

/* The [media] whole-number keys: where each goes and its range. */
static const struct num_key {
	const char *key;
	size_t off;		/* in struct config */
	bool wide;		/* unsigned long long, else unsigned */
	unsigned long long lo, hi;
} media_nums[] = {
#define NUM(k, w, lo, hi)	{ #k, offsetof(struct config, k), w, lo, hi }
	NUM(quality, false, 1, 100),
	NUM(max_file_size, true, 1, 1ull << 40),
	NUM(max_source_pixels, true, 1, 1ull << 34),
	NUM(max_output_pixels, true, 1, 1ull << 32),
	NUM(max_frames, false, 1, 100000),
	NUM(avif_speed, false, 0, 10),
	NUM(max_filter_work, true, 1, 1ull << 50),
	NUM(jxl_effort, false, 1, 9),
	NUM(max_memory, true, 0, 1ull << 40),
	NUM(max_duration, false, 1, 1000000),
	NUM(max_video_side, false, 16, 65536),
	NUM(probe_size, true, 32, 1ull << 32),
	NUM(analyze_duration, false, 1, 3600),
	NUM(max_decode_frames, false, 1, 1000000),
	NUM(max_decode_pixels, true, 1, 1ull << 50),
#undef NUM
};

static int
set_num(struct config *c, const struct num_key *k, const char *v, char *why,
    size_t len)
{
	void *dst = (char *)c + k->off;

	if (k->wide)
		return set_ull(dst, v, k->lo, k->hi, k->key, why, len);
	return set_uint(dst, v, (unsigned)k->lo, (unsigned)k->hi, k->key, why,
	    len);
}

/* A URL path of an endpoint: "/status", no query, no dot segments. */
static int
set_url_path(char **dst, const char *v, const char *key, char *why, size_t len)
{
	if (v[0] != '/' || strpbrk(v, "?#% \t") != NULL || strstr(v, "..")) {
		snprintf(why, len, "%s: expected a plain URL path like /status", key);
		return -1;
	}
	return set_str(dst, v, why, len);
}

static int
set_mount(struct config *c, const char *v, char *why, size_t len)
{
	size_t n = strlen(v);

	while (n > 0 && v[n - 1] == '/')
		n--;
	if (n > 0 && v[0] != '/') {
		snprintf(why, len, "mount: must start with '/', got '%.40s'", v);
		return -1;
	}
	if (strstr(v, "..") != NULL || strchr(v, '?') != NULL ||
	    strchr(v, '%') != NULL) {
		snprintf(why, len, "mount: must be a plain path prefix");
		return -1;
	}
	free(c->mount);
	if ((c->mount = strndup(v, n)) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	return 0;
}

const char *
config_preset(const struct config *c, const char *name)
{
	for (unsigned i = 0; i < c->n_presets; i++)
		if (strcmp(c->presets[i].name, name) == 0)
			return c->presets[i].query;
	return NULL;
}

/*
 * "[preset NAME]" key = value: one URL parameter of the preset, checked
 * as the URL parser will read it, so a bad preset is refused at start.
 */
static int
set_preset(struct config *c, const char *name, const char *key,
    const char *v, char *why, size_t len)
{
	static const char *const not_mine[] = { "preset", "info", "sig",
	    "expires" };
	struct preset *ps = NULL;
	struct params p;
	struct err e;
	char pair[512], *q;

	if (name[0] == '\0' || strlen(name) >= PARAMS_MAX_PRESET ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(name)) {
		snprintf(why, len, "preset name '%.40s': use a-z, 0-9, _ and -", name);
		return -1;
	}
	/* What names the preset, or gates the URL, is never the preset's. */
	for (size_t i = 0; i < sizeof(not_mine) / sizeof(not_mine[0]); i++)
		if (strcmp(key, not_mine[i]) == 0) {
			snprintf(why, len, "preset %s: '%s' cannot be part of a "
			    "preset", name, key);
			return -1;
		}
	snprintf(pair, sizeof(pair), "%s=%s", key, v);
	params_init(&p);
	err_init(&e);
	if (params_parse(pair, &p, &e) < 0) {
		snprintf(why, len, "preset %s: %s", name, e.msg);
		return -1;
	}
	for (unsigned i = 0; i < c->n_presets; i++)
		if (strcmp(c->presets[i].name, name) == 0)
			ps = &c->presets[i];
	if (ps == NULL) {
		struct preset *grown = realloc(c->presets,
		    (c->n_presets + 1) * sizeof(*grown));

		if (grown == NULL)
			goto oom;
		c->presets = grown;
		ps = &c->presets[c->n_presets];
		ps->name = strdup(name);
		ps->query = strdup("");
		if (ps->name == NULL || ps->query == NULL) {
			free(ps->name);
			free(ps->query);
			goto oom;
		}
		c->n_presets++;
	}
	if (asprintf(&q, "%s%s%s", ps->query, ps->query[0] ? "&" : "", pair) < 0)
		goto oom;
	/* A name twice in one preset is refused like in a URL. */
	params_init(&p);
	err_init(&e);
	if (params_parse(q, &p, &e) < 0) {
		snprintf(why, len, "preset %s: %s", name, e.msg);
		free(q);
		return -1;
	}
	free(ps->query);
	ps->query = q;
	return 0;
oom:
	snprintf(why, len, "out of memory");
	return -1;
}

/* "[source NAME]": a live source's settings. */
static int
set_source(struct config *c, const char *name, const char *key,
    const char *v, char *why, size_t len)
{
	struct source *src = NULL;
	unsigned long long x;

	if (name[0] == '\0' || strlen(name) > 32 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(name)) {
		snprintf(why, len, "source name '%.40s': use a-z, 0-9, _ and -", name);
		return -1;
	}
	for (unsigned i = 0; i < c->n_sources; i++)
		if (strcmp(c->sources[i].name, name) == 0)
			src = &c->sources[i];
	if (src == NULL) {
		struct source *grown;

		if (c->n_sources >= 32) {
			snprintf(why, len, "at most 32 sources");
			return -1;
		}
		grown = realloc(c->sources, (c->n_sources + 1) * sizeof(*grown));
		if (grown == NULL) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		c->sources = grown;
		src = &c->sources[c->n_sources];
		memset(src, 0, sizeof(*src));
		src->quality = 80;
		src->idle_timeout = 10;
		src->max_frame = 1 << 20;
		if ((src->name = strdup(name)) == NULL) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		c->n_sources++;
	}
	if (strcmp(key, "input") == 0)
		return set_str(&src->input, v, why, len);
	if (strcmp(key, "format") == 0) {
		if (!liveopt_format_known(v)) {
			snprintf(why, len, "source %s: format: libav has no "
			    "demuxer or device named '%.40s'", name, v);
			return -1;
		}
		return set_str(&src->format, v, why, len);
	}
	if (strcmp(key, "options") == 0) {
		char bad[160];

		if (liveopt_check(v, bad, sizeof(bad)) < 0) {
			snprintf(why, len, "source %s: options: %s", name, bad);
			return -1;
		}
		return set_str(&src->options, v, why, len);
	}
	if (strcmp(key, "size") == 0) {
		unsigned w, h;
		char extra;

		if (sscanf(v, "%ux%u%c", &w, &h, &extra) != 2 || w < 16 || h < 16 ||
		    w > 8192 || h > 8192) {
			snprintf(why, len, "source %s: size: expected WxH, 16..8192", name);
			return -1;
		}
		src->width = w;
		src->height = h;
		return 0;
	}
	if (strcmp(key, "quality") == 0)
		return set_uint(&src->quality, v, 1, 100, key, why, len);
	if (strcmp(key, "fps") == 0) {
		if (set_ull(&x, v, 0, 120, key, why, len) < 0)
			return -1;
		src->fps = (double)x;
		return 0;
	}
	if (strcmp(key, "idle_timeout") == 0)
		return set_uint(&src->idle_timeout, v, 0, 86400, key, why, len);
	if (strcmp(key, "always_on") == 0)
		return set_bool(&src->always_on, v, key, why, len);
	if (strcmp(key, "max_frame_bytes") == 0)
		return set_ull(&src->max_frame, v, 4096, 64ull << 20, key, why, len);
	snprintf(why, len, "unknown key '%.60s' in [source %s]", key, name);
	return -1;
}

int
config_set(struct config *c, const char *section, const char *key,
    const char *v, char *why, size_t len)
{
	if (strncmp(section, "source ", 7) == 0)
		return set_source(c, section + 7, key, v, why, len);
	if (strncmp(section, "preset ", 7) == 0)
		return set_preset(c, section + 7, key, v, why, len);
	if (strncmp(section, "watermark ", 10) == 0)
		return config_watermark_key(c, section + 10, key, v, why, len);
	if (strncmp(section, "program ", 8) == 0)
		return program_set_key(&c->programs, section + 8, key, v, why,
		    len);
	if (strcmp(section, "server") == 0) {
		if (strcmp(key, "listen") == 0) {
			if (strncmp(v, "unix:/", 6) != 0 && strchr(v, ':') == NULL) {
				snprintf(why, len, "listen: expected unix:/PATH or HOST:PORT, got '%.60s'", v);
				return -1;
			}
			return set_str(&c->listen, v, why, len);
		}
		if (strcmp(key, "workers") == 0)
			return set_uint(&c->workers, v, 1, 256, key, why, len);
		if (strcmp(key, "max_requests") == 0)
			return set_uint(&c->max_requests, v, 0, UINT_MAX, key, why, len);
		if (strcmp(key, "request_timeout") == 0)
			return set_uint(&c->request_timeout, v, 0, 86400, key, why, len);
		if (strcmp(key, "max_streams") == 0)
			return set_uint(&c->max_streams, v, 0, 4096, key, why, len);
		if (strcmp(key, "max_viewers") == 0)
			return set_uint(&c->max_viewers, v, 1, 1000000, key, why,
			    len);
		if (strcmp(key, "user") == 0)
			return set_str(&c->user, v, why, len);
		if (strcmp(key, "group") == 0)
			return set_str(&c->group, v, why, len);
		if (strcmp(key, "allow_root") == 0)
			return set_bool(&c->allow_root, v, key, why, len);
		if (strcmp(key, "access_log") == 0)
			return set_str(&c->access_log, v, why, len);
		if (strcmp(key, "error_log") == 0)
			return set_str(&c->error_log, v, why, len);
		if (strcmp(key, "status_path") == 0)
			return set_url_path(&c->status_path, v, key, why, len);
		if (strcmp(key, "health_path") == 0)
			return set_url_path(&c->health_path, v, key, why, len);
		if (strcmp(key, "status_allow") == 0)
			return set_str(&c->status_allow, v, why, len);
		if (strcmp(key, "live_path") == 0)
			return set_url_path(&c->live_path, v, key, why, len);
		if (strcmp(key, "stream_timeout") == 0)
			return set_uint(&c->stream_timeout, v, 1, 86400, key, why, len);
		if (strcmp(key, "stream_sndbuf") == 0) {
			if (strcmp(v, "0") == 0) {
				c->stream_sndbuf = 0;
				return 0;
			}
			return set_uint(&c->stream_sndbuf, v, 4096, 16u << 20, key, why, len);
		}
	} else if (strcmp(section, "media") == 0) {
		if (strcmp(key, "root") == 0) {
			if (v[0] != '/') {
				snprintf(why, len, "root: must be an absolute path, got '%.60s'", v);
				return -1;
			}
			return set_str(&c->root, v, why, len);
		}
		if (strcmp(key, "mount") == 0)
			return set_mount(c, v, why, len);
		if (strcmp(key, "cache_control") == 0) {
			if (strpbrk(v, "\r\n") != NULL) {
				snprintf(why, len, "cache_control: one line only");
				return -1;
			}
			return set_str(&c->cache_control, v, why, len);
		}
		if (strcmp(key, "auto_formats") == 0)
			return accept_formats_parse(v, c->auto_formats,
			    sizeof(c->auto_formats) / sizeof(*c->auto_formats),
			    &c->n_auto_formats, why, len);
		for (size_t i = 0; i < sizeof(media_nums) / sizeof(*media_nums); i++)
			if (strcmp(key, media_nums[i].key) == 0)
				return set_num(c, &media_nums[i], v, why, len);
	} else if (strcmp(section, "security") == 0) {
		if (strcmp(key, "signing_key") == 0) {
			/* Given again: one more key that verifies (rotation). */
			if (strlen(v) < 16) {
				snprintf(why, len, "signing_key: at least 16 characters");
				return -1;
			}
			if (c->n_signing_keys >= CONFIG_MAX_KEYS) {
				snprintf(why, len, "signing_key: at most %d keys",
				    CONFIG_MAX_KEYS);
				return -1;
			}
			for (unsigned i = 0; i < c->n_signing_keys; i++)
				if (strcmp(c->signing_keys[i], v) == 0) {
					snprintf(why, len, "signing_key: the same key twice");
					return -1;
				}
			c->signing_keys[c->n_signing_keys] = NULL;
			if (set_str(&c->signing_keys[c->n_signing_keys], v, why,
			    len) < 0)
				return -1;
			c->n_signing_keys++;
			return 0;
		}
		if (strcmp(key, "presets_only") == 0)
			return set_bool(&c->presets_only, v, key, why, len);
	} else {
		snprintf(why, len, "unknown section [%.60s]", section);
		return -1;
	}
	snprintf(why, len, "unknown key '%.60s' in [%s]", key, section);
	return -1;
}

static int
on_entry(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *ctx = user;

	/* inih: nonzero means the line was accepted. */
	return config_set(ctx->c, section, key, value, ctx->reason,
	    sizeof(ctx->reason)) == 0;
}

int
config_load(struct config *c, const char *path, char *errbuf, size_t len)
{
	struct load_ctx ctx = { .c = c, .reason = "" };
	int line;

	if (set_str(&c->path, path, errbuf, len) < 0)
		return -1;
	line = ini_parse(path, on_entry, &ctx);
	if (line == -1) {
		snprintf(errbuf, len, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (line == -2) {
		snprintf(errbuf, len, "%s: out of memory", path);
		return -1;
	}
	if (line > 0) {
		snprintf(errbuf, len, "%s:%d: %s", path, line,
		    ctx.reason[0] ? ctx.reason : "syntax error (expected [section] or key = value)");
		return -1;
	}
	return 0;
}

/* The [media] settings as lib/'s limits: the one place they are made. */
static void
config_limits(struct config *c)
{
	struct media_limits *l = &c->limits;

	l->img = (struct img_limits){
		.max_file_size = c->max_file_size,
		.max_source_pixels = c->max_source_pixels,
		.max_output_pixels = c->max_output_pixels,
		.default_quality = c->quality,
		.max_frames = c->max_frames,
		.avif_speed = c->avif_speed,
		.jxl_effort = c->jxl_effort,
		.max_filter_work = c->max_filter_work,
		.watermarks = c->watermarks,
		.n_watermarks = c->n_watermarks,
	};
	l->vid = (struct vid_limits){
		.max_file_size = c->max_file_size,
		.max_duration = c->max_duration,
		.max_width = c->max_video_side,
		.max_height = c->max_video_side,
		.probe_size = (int64_t)c->probe_size,
		.analyze_duration = (int64_t)c->analyze_duration * 1000000,
		.max_decode_frames = c->max_decode_frames,
		.max_decode_pixels = c->max_decode_pixels,
	};
	/* A frame is encoded as an image is, from a decoded source: the
	 * limits of reading an image file do not apply. */
	l->vid.img = l->img;
	l->vid.img.max_file_size = 0;
	l->vid.img.max_source_pixels = 0;
	l->vid.img.max_frames = 0;
	/* Output, padding and animation canvases stay under these too. */
	l->gm_max_pixels = c->max_source_pixels > c->max_output_pixels * 4 ?
	    c->max_source_pixels : c->max_output_pixels * 4;
	l->gm_max_side = 65535;
	l->gm_max_memory = c->max_memory;
}

int
config_validate(struct config *c, char *errbuf, size_t len)
{
	struct stat st;
	const char *where = c->path ? c->path : "config";

	if (c->root == NULL) {
		snprintf(errbuf, len, "%s: [media] root is required (or --root DIR)", where);
		return -1;
	}
	if (stat(c->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(errbuf, len, "%s: root '%.200s' is not a directory", where, c->root);
		return -1;
	}
	/* Started as root, the workers become user:group; as root they
	 * would read the whole disk on a path bug, so that takes a yes. */
	c->drop_privileges = false;
	if (c->user != NULL) {
		struct passwd *pw = getpwnam(c->user);
		struct group *gr = c->group ? getgrnam(c->group) : NULL;

		if (pw == NULL) {
			snprintf(errbuf, len, "%s: user '%.60s' does not exist", where, c->user);
			return -1;
		}
		if (c->group != NULL && gr == NULL) {
			snprintf(errbuf, len, "%s: group '%.60s' does not exist", where, c->group);
			return -1;
		}
		c->run_uid = pw->pw_uid;
		c->run_gid = gr ? gr->gr_gid : pw->pw_gid;
		if (geteuid() == 0)
			c->drop_privileges = true;
		else if (geteuid() != c->run_uid) {
			snprintf(errbuf, len, "%s: user = %s needs starting as root", where, c->user);
			return -1;
		}
	}
	if (geteuid() == 0 && (!c->drop_privileges || c->run_uid == 0) &&
	    !c->allow_root) {
		snprintf(errbuf, len, "%s: refusing to run workers as root: set "
		    "[server] user = NAME, or allow_root = yes", where);
		return -1;
	}
	{
		char why[300];

		if (program_set_validate(&c->programs, c->request_timeout, why,
		    sizeof(why)) < 0) {
			snprintf(errbuf, len, "%s: %s", where, why);
			return -1;
		}
	}
	if (config_watermarks_validate(c, errbuf, len) < 0)
		return -1;
	for (unsigned i = 0; i < c->n_sources; i++)
		if (c->sources[i].input == NULL) {
			snprintf(errbuf, len, "%s: [source %s] needs input = URL or path",
			    where, c->sources[i].name);
			return -1;
		}
	if (c->workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		c->workers = n > 0 && n <= 256 ? (unsigned)n : 1;
	}
	/* Workers and stream processes share the master's 256 process
	 * slots; past them a stream would wait unanswered in the backlog.
	 * Live viewers take none (max_viewers). */
	if (c->workers + c->max_streams > SB_SLOTS) {
		snprintf(errbuf, len, "%s: workers (%u) + max_streams (%u) is more "
		    "than the %u processes the master keeps: each file stream or "
		    "transcode is a process (live viewers are not: max_viewers)",
		    where, c->workers, c->max_streams, (unsigned)SB_SLOTS);
		return -1;
	}
	config_limits(c);
	return 0;
}
