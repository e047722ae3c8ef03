/*
 * config - the daemon's settings: defaults, then the INI file (inih), then
 * the command-line flags. Parsed in the master before any fork and read-only
 * afterwards. A bad file is refused with "FILE:LINE: reason".
 * Ownership: config_load() fills a struct config the caller owns; its
 * strings are owned by it and freed by config_cleanup().
 */
#ifndef MF_CONFIG_H
#define MF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "img/img.h"
#include "img/watermark.h"
#include "prog/program_set.h"
#include "vid/vid.h"

#define CONFIG_MAX_KEYS	8	/* signing_key lines in [security] */

/*
 * The [media] limits as lib/ takes them, made once by config_validate():
 * every route (images, stills, sprites, file streams) and the worker's
 * GraphicsMagick set-up read these, none converts the config itself.
 */
struct media_limits {
	struct img_limits img;		/* images */
	struct vid_limits vid;		/* stills, sprites, file streams */
	/* GraphicsMagick's own cap on any image it allocates (output,
	 * padding and animation canvases included): img_set_limits(). */
	unsigned long long gm_max_pixels;
	unsigned long gm_max_side;
	unsigned long long gm_max_memory;
};

struct config {
	/* [server] */
	char *listen;		/* "unix:/path" or "host:port"; NULL: fd 0 */
	unsigned workers;	/* 0 until resolved: number of CPUs */
	unsigned max_requests;	/* per worker; 0 = no limit */
	unsigned request_timeout;	/* seconds; 0 = none */
	unsigned max_streams;
	char *user, *group;	/* workers run as these (started as root) */
	bool allow_root;	/* let workers run as root (default: refuse) */
	unsigned run_uid, run_gid;	/* resolved by config_validate() */
	bool drop_privileges;	/* set by config_validate() */
	char *access_log;	/* path, "stderr", or NULL (off) */
	char *error_log;	/* path, or NULL (stderr) */
	char *status_path;	/* URL path of the status page; NULL = off */
	char *health_path;	/* URL path of the health check; NULL = off */
	char *status_allow;	/* REMOTE_ADDRs allowed (comma list); NULL = any */
	/* [media] */
	char *root;		/* required */
	char *mount;		/* "" = none; else starts with '/', no trailing '/' */
	char *cache_control;	/* NULL = no header */
	/* format=auto: what it may pick, in order of preference (the first
	 * the Accept header admits); default WebP alone (what AVIF costs
	 * depends on avif_speed: the operator opts in). http/accept.h. */
	enum out_format auto_formats[4];
	unsigned n_auto_formats;
	unsigned quality;	/* default encoder quality, 1..100 */
	unsigned long long max_file_size;	/* bytes */
	unsigned long long max_source_pixels;	/* width x height of the source */
	unsigned long long max_output_pixels;	/* width x height of the output */
	unsigned max_frames;	/* frames of an animated source */
	unsigned avif_speed;	/* libavif speed 0..10 (format=avif) */
	unsigned long long max_filter_work;	/* blur/sharpen multiply-adds */
	unsigned jxl_effort;	/* libjxl effort 1..9 (format=jxl) */
	unsigned long long max_memory;	/* bytes of pixels an image may take */
	/* video */
	unsigned max_duration;	/* seconds */
	unsigned max_video_side;	/* width or height of a video stream */
	unsigned long long probe_size;	/* bytes libav may read to probe */
	unsigned analyze_duration;	/* seconds of stream libav may analyse */
	unsigned max_decode_frames;	/* frames from a keyframe to a still */
	unsigned long long max_decode_pixels;	/* of all frames an answer decodes */
	struct media_limits limits;	/* the above for lib/: config_validate() */
	/* streams */
	char *live_path;	/* URL prefix of live sources, "/live" */
	unsigned stream_timeout;	/* s a stream may wait for its client */
	unsigned stream_sndbuf;	/* bytes of socket buffer per stream */
	unsigned max_viewers;	/* live viewers at once, all sources */
	/* [source NAME] */
	struct source {
		char *name, *input;
		char *format;		/* libav demuxer or device; NULL: probed */
		char *options;		/* its AVOptions, "key=value ..."; NULL */
		unsigned width, height;	/* 0 = the input's size */
		unsigned quality;
		double fps;		/* cap; 0 = the input's rate */
		unsigned idle_timeout;	/* s without viewers before stopping */
		bool always_on;
		unsigned long long max_frame;	/* bytes of one encoded frame */
	} *sources;
	unsigned n_sources;
	/* [security] */
	/* HMAC-SHA256 keys in config order: the first signs (--sign, VTT
	 * cues), every one verifies, so a key is replaced without breaking
	 * URLs in flight. None: URLs need no sig. */
	char *signing_keys[CONFIG_MAX_KEYS];
	unsigned n_signing_keys;
	bool presets_only;	/* answer only preset= requests */
	/* [preset NAME]: name and its parameters as a query string */
	struct preset {
		char *name, *query;
	} *presets;
	unsigned n_presets;
	/* [watermark NAME]: decoded when read (wm_load()), before any fork;
	 * the workers share the pixels copy-on-write. limits.img points in. */
	struct wm *watermarks;
	unsigned n_watermarks;
	/* [program NAME]: external programs (prog/program_set.h) */
	struct program_set programs;
	/* where it came from, for messages */
	char *path;		/* NULL: no file, defaults and flags only */
};

/* Fills c with the defaults. */
void config_init(struct config *c);
void config_cleanup(struct config *c);	/* c can be zeroed */

/*
 * Reads the INI file at path into c (over the defaults already there).
 * On failure writes "PATH:LINE: reason" (or "PATH: reason") into errbuf and
 * returns -1; c keeps what was read before the error and must be cleaned up.
 */
int config_load(struct config *c, const char *path, char *errbuf, size_t len);

/*
 * Sets one "section.key" from a string, as the file would (used for
 * command-line flags: config_set(c, "media", "root", dir, ...)).
 * Returns 0, or -1 with the reason in errbuf.
 */
int config_set(struct config *c, const char *section, const char *key,
    const char *value, char *errbuf, size_t len);

/* The query of the preset called name, or NULL. */
const char *config_preset(const struct config *c, const char *name);

/* Checks what must hold once everything is read (root given, ranges) and
 * makes c->limits. Returns 0, or -1 with the reason in errbuf. */
int config_validate(struct config *c, char *errbuf, size_t len);

#endif
