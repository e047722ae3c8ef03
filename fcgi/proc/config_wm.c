/*
 * config_wm - [watermark NAME] sections (config_wm.h): the config
 * module's second file, so the config's header comes first.
 */
#include "proc/config.h"
#include "proc/config_wm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "req/params.h"

/* The watermark called name, made (with the defaults) on its first key. */
static struct wm *
wm_of(struct config *c, const char *name, char *why, size_t len)
{
	struct wm *grown;

	for (unsigned i = 0; i < c->n_watermarks; i++)
		if (strcmp(c->watermarks[i].name, name) == 0)
			return &c->watermarks[i];
	if (c->n_watermarks >= CONFIG_MAX_WATERMARKS) {
		snprintf(why, len, "at most %d watermarks", CONFIG_MAX_WATERMARKS);
		return NULL;
	}
	grown = realloc(c->watermarks, (c->n_watermarks + 1) * sizeof(*grown));
	if (grown == NULL) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	c->watermarks = grown;
	wm_init(&grown[c->n_watermarks], name);
	return &grown[c->n_watermarks++];
}

/* A decimal in [lo, hi] (lo excluded if open_lo). */
static int
set_fraction(double *dst, const char *v, double lo, double hi, bool open_lo,
    const char *name, const char *key, char *why, size_t len)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !isfinite(x) ||
	    x < lo || x > hi || (open_lo && x == lo)) {
		snprintf(why, len, "watermark %s: %s: expected a decimal number "
		    "from %g %s %g, got '%.40s'", name, key, lo,
		    open_lo ? "(excluded) to" : "to", hi, v);
		return -1;
	}
	*dst = x;
	return 0;
}

/* The URL's gravity names, smart aside (a watermark has nothing to look at). */
static int
set_gravity(struct wm *wm, const char *v, char *why, size_t len)
{
	for (int g = GRAV_CENTER; g < GRAV_SMART; g++)
		if (strcmp(v, params_gravity_name((enum gravity)g)) == 0) {
			wm->gravity = (enum gravity)g;
			return 0;
		}
	snprintf(why, len, "watermark %s: gravity: expected center, north, "
	    "south, east, west, northeast, northwest, southeast or southwest, "
	    "got '%.40s'", wm->name, v);
	return -1;
}

int
config_watermark_key(struct config *c, const char *name, const char *key,
    const char *v, char *why, size_t len)
{
	struct wm *wm;
	int rc = -1;

	if (name[0] == '\0' || strlen(name) >= WM_MAX_NAME ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(name)) {
		snprintf(why, len, "watermark name '%.40s': use a-z, 0-9, _ and -, "
		    "at most %d long", name, WM_MAX_NAME - 1);
		return -1;
	}
	if ((wm = wm_of(c, name, why, len)) == NULL)
		return -1;
	if (strcmp(key, "file") == 0) {
		struct err e;

		/* Decoded here, in the master, so that this line is named
		 * when it fails; a reload (SIGHUP) reads it anew. */
		err_init(&e);
		if (wm_load(wm, v, &e) < 0)
			snprintf(why, len, "watermark %s: %s", name, e.msg);
		else
			rc = 0;
	} else if (strcmp(key, "gravity") == 0) {
		rc = set_gravity(wm, v, why, len);
	} else if (strcmp(key, "margin") == 0) {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(v, &end, 10);
		if (*v < '0' || *v > '9' || errno != 0 || *end != '\0' ||
		    m > 10000)
			snprintf(why, len, "watermark %s: margin: expected "
			    "pixels from 0 to 10000, got '%.40s'", name, v);
		else {
			wm->margin = (unsigned)m;
			rc = 0;
		}
	} else if (strcmp(key, "opacity") == 0) {
		rc = set_fraction(&wm->opacity, v, 0, 1, false, name, key, why,
		    len);
	} else if (strcmp(key, "width") == 0) {
		rc = set_fraction(&wm->width, v, 0, 1, true, name, key, why,
		    len);
	} else {
		snprintf(why, len, "unknown key '%.60s' in [watermark %s]", key,
		    name);
	}
	if (rc == 0)
		wm_seal(wm);
	return rc;
}

int
config_watermarks_validate(const struct config *c, char *errbuf, size_t len)
{
	const char *where = c->path ? c->path : "config";

	for (unsigned i = 0; i < c->n_watermarks; i++)
		if (c->watermarks[i].px == NULL) {
			snprintf(errbuf, len, "%s: [watermark %s] needs file = "
			    "PATH (a PNG or WebP image)", where,
			    c->watermarks[i].name);
			return -1;
		}
	/* A preset is checked like a URL: its wm= must name one. */
	for (unsigned i = 0; i < c->n_presets; i++) {
		struct params p;
		struct err e;

		params_init(&p);
		err_init(&e);
		if (params_parse(c->presets[i].query, &p, &e) == 0 &&
		    (p.given & P_WM) &&
		    wm_find(c->watermarks, c->n_watermarks, p.wm) == NULL) {
			snprintf(errbuf, len, "%s: [preset %s] wm: no watermark "
			    "called '%s'", where, c->presets[i].name, p.wm);
			return -1;
		}
	}
	return 0;
}
