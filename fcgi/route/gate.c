/*
 * gate - signature, expiry and preset policy for every route (see gate.h).
 */
#include "route/gate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/request.h"
#include "route/sign.h"

/* Whether the pair p (n bytes, raw) is named name (with or without '='). */
static bool
pair_is(const char *p, size_t n, const char *name)
{
	size_t l = strlen(name);

	return n >= l && strncmp(p, name, l) == 0 && (n == l || p[l] == '=');
}

int
gate_program_query(const char *query, char *out, size_t len,
    struct params *p, struct err *e)
{
	char own[2 * 80];
	size_t o = 0, w = 0;
	const char *q = query;

	out[0] = own[0] = '\0';
	if (q == NULL)
		return 0;
	if (strlen(q) > PARAMS_MAX_QUERY)
		return err_set(e, ERR_BAD_PARAM,
		    "query string longer than %d bytes", PARAMS_MAX_QUERY);
	while (*q) {
		size_t n = strcspn(q, "&");
		bool mine = pair_is(q, n, "sig") || pair_is(q, n, "expires");
		char *dst = mine ? own : out;
		size_t *pos = mine ? &w : &o, cap = mine ? sizeof(own) : len;

		if (n > 0) {
			if (*pos + n + 2 > cap)
				return err_set(e, ERR_BAD_PARAM, "%s: too long",
				    mine ? "sig or expires" : "query");
			if (*pos > 0)
				dst[(*pos)++] = '&';
			memcpy(dst + *pos, q, n);
			*pos += n;
			dst[*pos] = '\0';
		}
		q += n;
		if (*q == '&')
			q++;
	}
	/* The media parser's rules for these two: one each, valid values. */
	return params_parse(own, p, e);
}

/*
 * presets_only: 0 if p asks for nothing but a preset, else the 403. A
 * media route also takes seg=: the segment URLs a playlist writes under
 * presets_only are preset=NAME&seg=N.ts (hls_route.c), and a segment is
 * part of what the preset names, not a choice of the client's (seg=
 * without a preset holding format=hls is a 400 once the preset is
 * applied, params_check_kind()).
 */
static int
gate_presets(enum gate_route route, const struct params *p, struct err *e)
{
	/* seg: the segment URLs an HLS preset's playlist writes. */
	const unsigned allowed = P_PRESET | P_SIG | P_EXPIRES |
	    (route == GATE_MEDIA || route == GATE_LIVE ? P_SEG : 0);

	if (route == GATE_PROGRAM)
		return err_set(e, ERR_FORBIDDEN, "preset: this server answers "
		    "only preset= requests, and programs have no presets");
	if (p->given & ~allowed)
		return err_set(e, ERR_FORBIDDEN,
		    "preset: this server answers only preset= requests");
	/* A live viewer has nothing to choose (its [source] sets size and
	 * rate), so it needs no preset; a media answer does. */
	if (route == GATE_MEDIA && !(p->given & P_PRESET))
		return err_set(e, ERR_FORBIDDEN,
		    "preset: this server answers only preset= requests");
	return 0;
}

int
gate_check(const struct config *cfg, const struct request *req,
    enum gate_route route, const struct params *p, struct err *e)
{
	char raw[PARAMS_MAX_QUERY + 1], when[32];
	size_t pl = strcspn(req->uri, "?#");
	const char *q = req->uri[pl] == '?' ? req->uri + pl + 1 : NULL;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if (cfg->n_signing_keys > 0) {
		if (!(p->given & P_SIG))
			return err_set(e, ERR_FORBIDDEN,
			    "sig: this server needs signed URLs");
		if (sign_strip(q, raw, sizeof(raw)) < 0)
			return err_set(e, ERR_FORBIDDEN,
			    "sig: the URL cannot be signed");
		if ((rc = sign_verify(cfg->signing_keys, cfg->n_signing_keys,
		    req->uri, pl, route == GATE_PROGRAM ? NULL : p, raw,
		    p->sig, e)) < 0)
			return rc;
	}
	/* Enforced without keys too: a URL that says it has expired is
	 * refused, whoever wrote it. */
	if ((p->given & P_EXPIRES) && (long long)now > (long long)p->expires) {
		time_t t = (time_t)p->expires;

		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(when, sizeof(when), "%lu",
			    (unsigned long)p->expires);
		return err_set(e, ERR_FORBIDDEN,
		    "expires: the URL expired at %s (expires=%lu)", when,
		    (unsigned long)p->expires);
	}
	if (cfg->presets_only)
		return gate_presets(route, p, e);
	return 0;
}
