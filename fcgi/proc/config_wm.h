/*
 * config_wm - the [watermark NAME] sections of the config (config.h):
 * each key as it is read, the file decoded at its `file =` line so that a
 * missing or undecodable image is refused as FILE:LINE, and what must hold
 * once the whole file is read.
 * Ownership: the watermarks belong to the struct config
 * (config_cleanup() frees them).
 */
#ifndef MF_CONFIG_WM_H
#define MF_CONFIG_WM_H

#include <stddef.h>

struct config;		/* proc/config.h, which includes this one */

#define CONFIG_MAX_WATERMARKS	32

/* One "key = value" of [watermark name]. 0, or -1 with the reason in why. */
int config_watermark_key(struct config *c, const char *name, const char *key,
    const char *v, char *why, size_t len);

/*
 * Every watermark has its file; every preset's wm= names one. 0, or -1
 * with "PATH: reason" in errbuf.
 */
int config_watermarks_validate(const struct config *c, char *errbuf,
    size_t len);

#endif
