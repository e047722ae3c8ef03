/*
 * router - method, decoded path, route, query, gate, then the handler.
 */
#include "route/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http/accept.h"
#include "http/cache.h"
#include "route/gate.h"
#include "img/blurhash.h"
#include "img/img.h"
#include "proc/config.h"
#include "req/params.h"
#include "req/path.h"
#include "prog/program.h"
#include "route/sign.h"
#include "req/sniff.h"
#include "route/status.h"
#include "streams/file.h"
#include "streams/hls_route.h"
#include "vid/vid.h"
#include "viewers/view.h"

/*
 * Validators for the answer: ETag and Last-Modified always, and true when
 * the client's copy is current (the caller answers 304 without decoding).
 * etag (CACHE_ETAG_LEN bytes, may be NULL) gets the ETag.
 */
static bool
route_validators(const struct config *cfg, const struct request *req,
    const struct stat *st, const struct params *p, enum media_type out,
    struct response *r, char *etag)
{
	char variant[1024], own[CACHE_ETAG_LEN], date[64];
	struct params v = *p;
	int n;

	if (etag == NULL)
		etag = own;
	/* The same answer whatever URL expiry it was asked with; but an HLS
	 * playlist writes the expiry (and signatures) into its URLs. */
	if (p->format != OUT_HLS || (p->given & P_SEG))
		v.given &= ~P_EXPIRES;
	n = params_canonical(&v, variant, sizeof(variant) - 16);
	if (n < 0)
		n = 0;
	/* The output type too: format=auto will make it depend on Accept. */
	snprintf(variant + n, sizeof(variant) - (size_t)n, "#%d", (int)out);
	/* A new logo or setting under the same name (a reload) is a new
	 * answer: the watermark's own hash is part of the variant. */
	if (p->given & P_WM) {
		const struct wm *wm = wm_find(cfg->watermarks,
		    cfg->n_watermarks, p->wm);

		n = (int)strlen(variant);
		snprintf(variant + n, sizeof(variant) - (size_t)n, "#wm%08x",
		    wm ? (unsigned)wm->id : 0u);
	}
	cache_etag(st, variant, etag, CACHE_ETAG_LEN);
	cache_http_date(st->st_mtim.tv_sec, date, sizeof(date));
	(void)response_header(r, "ETag", "%s", etag);
	(void)response_header(r, "Last-Modified", "%s", date);
	return cache_not_modified(req->if_none_match, req->if_modified_since,
	    etag, st->st_mtim.tv_sec);
}

static int
route_image(const struct config *cfg, const struct request *req, int fd,
    const struct stat *st, enum media_type type, const struct params *p,
    struct response *r, struct err *e)
{
	/* format=blurhash: the pipeline runs on a small box (blurhash.h). */
	struct params small;
	struct img_job job = {
		.params = blurhash_job_params(p, &small), .fd = fd,
		.size = st->st_size, .type = type,
		.limits = cfg->limits.img,
	};

	enum media_type out = img_output_type(&job);

	if (cfg->cache_control != NULL)
		(void)response_header(r, "Cache-Control", "%s", cfg->cache_control);
	if (route_validators(cfg, req, st, p, out, r, NULL)) {
		response_status(r, 304);
		return 0;
	}
	(void)response_header(r, "Content-Type", "%s",
	    p->info ? "application/json" : p->format == OUT_BLURHASH ?
	    "text/plain; charset=utf-8" : sniff_mime(out));
	(void)response_header(r, "X-Content-Type-Options", "nosniff");
	if (p->info)
		return img_info(&job, &r->body, e);
	return img_thumb(&job, &r->body, e);
}

/*
 * The preset whose parameters are exactly sp's (expires and sig aside), or
 * NULL: under presets_only a cue must name a preset to be answered.
 */
static const char *
preset_of(const struct config *cfg, const struct params *sp)
{
	char want[PARAMS_MAX_QUERY], have[PARAMS_MAX_QUERY];
	struct params a = *sp, b;
	struct err e;

	a.given &= ~(P_EXPIRES | P_SIG | P_PRESET);
	if (params_canonical(&a, want, sizeof(want)) < 0)
		return NULL;
	for (unsigned i = 0; i < cfg->n_presets; i++) {
		params_init(&b);
		err_init(&e);
		if (params_parse(cfg->presets[i].query, &b, &e) == 0 &&
		    params_canonical(&b, have, sizeof(have)) >= 0 &&
		    strcmp(want, have) == 0)
			return cfg->presets[i].name;
	}
	return NULL;
}

/*
 * For format=vtt: the sprite the cues point into, the same request without
 * format=vtt, its parameters written out (a preset holding format=vtt would
 * bring it back), or under presets_only the preset that holds exactly them
 * (an operator who offers a storyboard's VTT offers its sprite too). With
 * signing keys it is signed with the first, and keeps the request's
 * expires, so a cue is fetched as written for as long as the VTT itself
 * would be.
 */
static void
sprite_url(const struct config *cfg, const struct request *req,
    const struct params *p, char *buf, size_t len)
{
	struct params sp = *p;
	size_t n = strcspn(req->uri, "?#"), pl = n < len / 2 ? n : len / 2;
	const char *preset;
	char hex[65];

	sp.given &= ~(P_FORMAT | P_PRESET | P_SIG);
	sp.format = OUT_SOURCE;
	if (cfg->presets_only && (preset = preset_of(cfg, &sp)) != NULL) {
		struct params np;

		params_init(&np);
		np.given = P_PRESET | (sp.given & P_EXPIRES);
		snprintf(np.preset, sizeof(np.preset), "%s", preset);
		np.expires = sp.expires;
		sp = np;
	}
	snprintf(buf, len, "%.*s?", (int)pl, req->uri);
	n = strlen(buf);
	if (params_canonical(&sp, buf + n, len - n) < 0) {
		buf[n] = '\0';
		return;
	}
	if (cfg->n_signing_keys > 0 && pl == strcspn(req->uri, "?#") &&
	    sign_compute(cfg->signing_keys[0], req->uri, pl, &sp, hex) == 0) {
		n = strlen(buf);
		snprintf(buf + n, len - n, "%ssig=%s",
		    buf[n - 1] == '?' ? "" : "&", hex);
	}
}

static int
route_video(const struct server *srv, const struct request *req, int fd,
    const struct stat *st, enum media_type type, const struct params *p,
    struct response *r, struct err *e)
{
	const struct config *cfg = srv->cfg;
	char url[PATH_MAX_URI + PARAMS_MAX_QUERY], etag[CACHE_ETAG_LEN];
	struct params small;	/* format=blurhash: a still on a small box */
	struct vid_job job = {
		.params = blurhash_job_params(p, &small), .fd = fd,
		.size = st->st_size, .type = type,
		.limits = cfg->limits.vid,
		.sprite_url = url,
	};

	if (PARAMS_IS_STREAM(p->format))
		return stream_file(srv, req, fd, st->st_size, type, p, r, e);
	if (cfg->cache_control != NULL)
		(void)response_header(r, "Cache-Control", "%s", cfg->cache_control);
	if (route_validators(cfg, req, st, p, MT_COUNT + (int)p->format, r,
	    etag)) {
		response_status(r, 304);
		return 0;
	}
	/* The playlist and its segments (deterministic: validated above);
	 * a segment answers Range and If-Range. */
	if (p->format == OUT_HLS)
		return hls_route(srv, req, req->range, req->if_range, etag, fd,
		    st->st_size, type, p, r, e);
	sprite_url(cfg, req, p, url, sizeof(url));
	(void)response_header(r, "Content-Type", "%s", vid_output_mime(&job));
	(void)response_header(r, "X-Content-Type-Options", "nosniff");
	return vid_run(&job, &r->body, e);
}

/*
 * The parameters a media or live route works with, from the query as
 * parsed (and gated) in p: a preset's first, the query's over them;
 * format=auto answers Vary: Accept; it is resolved against Accept and the
 * config's auto_formats once the source is sniffed (http/accept.h). The
 * resolved format is in the ETag's variant (route_validators()), so each
 * has its own.
 */
static int
route_params(const struct config *cfg, const struct request *req,
    struct params *p, struct response *r, struct err *e)
{
	const char *pq;
	/* Sent already when the query itself said format=auto. */
	bool vary = p->format == OUT_AUTO;
	int rc;

	if (p->given & P_PRESET) {
		if ((pq = config_preset(cfg, p->preset)) == NULL)
			return err_set(e, ERR_BAD_PARAM,
			    "preset: no preset called '%s'", p->preset);
		params_init(p);
		if ((rc = params_parse(pq, p, e)) < 0 ||
		    (rc = params_parse_over(req->query, p, e)) < 0)
			return rc;
	}
	if ((p->given & P_WM) &&
	    wm_find(cfg->watermarks, cfg->n_watermarks, p->wm) == NULL)
		return err_set(e, ERR_BAD_PARAM,
		    "wm: no watermark called '%s'", p->wm);
	/* Resolved once the source is sniffed (router_handle()). */
	if (p->format == OUT_AUTO && !vary)
		(void)response_header(r, "Vary", "Accept");
	return 0;
}

/* The status page or the health check, if the path is one of theirs:
 * 1 answered, 0 not theirs, or the error. */
static int
route_endpoint(const struct server *srv, const struct request *req,
    struct response *r, struct err *e)
{
	const struct config *cfg = srv->cfg;
	const char *q = req->query ? req->query : "";
	bool prom;
	struct membuf m;
	int rc;

	if (cfg->health_path && strcmp(req->path, cfg->health_path) == 0) {
		(void)response_header(r, "Content-Type", "application/json");
		(void)response_header(r, "Cache-Control", "no-store");
		return sink_write(&r->body, "{\"status\": \"ok\"}\n", 17) < 0 ?
		    err_set(e, ERR_GONE, "client went away") : 1;
	}
	if (cfg->status_path == NULL || strcmp(req->path, cfg->status_path) != 0 ||
	    srv->sb == NULL)
		return 0;
	if (!status_allowed(cfg->status_allow, req->remote_addr))
		return err_set(e, ERR_FORBIDDEN, "status: client not allowed");
	prom = strcmp(q, "format=prometheus") == 0;
	if (!prom && *q != '\0')
		return err_set(e, ERR_BAD_PARAM,
		    "format: the status page takes only format=prometheus");
	membuf_init(&m);
	if (prom)
		status_prometheus(srv->sb, cfg, srv->live, &m);
	else
		status_json(srv->sb, cfg, srv->live, &m);
	(void)response_header(r, "Content-Type", "%s", prom ?
	    "text/plain; version=0.0.4; charset=utf-8" : "application/json");
	(void)response_header(r, "Cache-Control", "no-store");
	rc = sink_write(&r->body, m.data, m.len) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 1;
	membuf_cleanup(&m);
	return rc;
}

/* Which route the decoded path takes (after status and health). */
static enum gate_route
route_kind(const struct config *cfg, const char *path)
{
	size_t lp = strlen(cfg->live_path);

	while (lp > 0 && cfg->live_path[lp - 1] == '/')
		lp--;
	if (cfg->n_sources > 0 && strncmp(path, cfg->live_path, lp) == 0 &&
	    path[lp] == '/' && path[lp + 1] != '\0')
		return GATE_LIVE;
	if (program_match(cfg, path) != NULL)
		return GATE_PROGRAM;
	return GATE_MEDIA;
}

void
router_handle(const struct server *srv, const struct request *in,
    struct response *r, struct err *e)
{
	const struct config *cfg = srv->cfg;
	int rootfd = srv->rootfd;
	char path[PATH_MAX_URI + 2], rel[PATH_MAX_URI + 1];
	char prog_q[PARAMS_MAX_QUERY + 1];
	unsigned char head[SNIFF_BYTES];
	struct request rq = *in, *req = &rq;
	struct params p;
	struct stat st;
	enum gate_route route;
	enum media_type type;
	const char *q;
	ssize_t n;
	int fd = -1, rc;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		(void)response_header(r, "Allow", "GET, HEAD");
		rc = err_set(e, ERR_METHOD, "method not allowed: use GET or HEAD");
		goto out;
	}
	/* The path every route sees, decoded once; a dot segment is refused
	 * here, before a route is chosen. */
	if ((rc = path_decode(req->uri, path, sizeof(path), e)) < 0)
		goto out;
	q = strchr(req->uri, '?');
	req->path = path;
	req->query = q ? q + 1 : NULL;
	req->params = NULL;
	/* Status and health are not gated, by design. */
	if ((rc = route_endpoint(srv, req, r, e)) != 0)
		goto out;
	route = route_kind(cfg, path);
	params_init(&p);
	if (route == GATE_PROGRAM)
		rc = gate_program_query(req->query, prog_q, sizeof(prog_q), &p, e);
	else
		rc = params_parse(req->query, &p, e);
	/* Every answer to format=auto varies by Accept, errors included. */
	if (rc == 0 && route != GATE_PROGRAM && p.format == OUT_AUTO)
		(void)response_header(r, "Vary", "Accept");
	if (rc < 0 || (rc = gate_check(cfg, req, route, &p, e)) < 0)
		goto out;
	if (route == GATE_PROGRAM) {
		/* [program NAME] routes take their own parameters and file. */
		req->query = prog_q;
		if ((rc = program_route(srv, req, r, e)) == 0)
			rc = err_set(e, ERR_INTERNAL, "program route lost");
		goto out;
	}
	if ((rc = route_params(cfg, req, &p, r, e)) < 0)
		goto out;
	req->params = &p;
	if (route == GATE_LIVE) {
		rc = view_live(srv, req, r, e);
		goto out;
	}
	if ((rc = path_relative(path, cfg->mount, rel, sizeof(rel), e)) < 0)
		goto out;
	if ((rc = fd = path_open(rootfd, rel, &st, e)) < 0)
		goto out;
	n = pread(fd, head, sizeof(head), 0);
	type = n > 0 ? sniff_type(head, (size_t)n) : MT_UNKNOWN;
	if (type == MT_UNKNOWN) {
		rc = err_set(e, n == 0 ? ERR_UNDECODABLE : ERR_UNSUPPORTED,
		    n == 0 ? "empty file" :
		    "format not allowed: the file is not an image (JPEG, PNG, "
		    "GIF, WebP) or a video (MP4/MOV, WebM/MKV, AVI, MPEG-TS)");
		goto out;
	}
	/* format=auto: an animated GIF stays animated (AVIF and JPEG XL
	 * would answer its first frame alone). */
	if (p.format == OUT_AUTO)
		p.format = accept_pick(req->accept, cfg->auto_formats,
		    cfg->n_auto_formats, type == MT_GIF && p.frame < 0);
	if ((rc = params_check_kind(&p, sniff_is_video(type), e)) < 0)
		goto out;
	if (sniff_is_video(type))
		rc = route_video(srv, req, fd, &st, type, &p, r, e);
	else
		rc = route_image(cfg, req, fd, &st, type, &p, r, e);
out:
	if (fd >= 0)
		close(fd);
	/* A write that failed because the client left fails whatever the
	 * handler made of it (an encoder's own error, say): that is no error
	 * of ours, counted and logged as a client gone (499), never a 500. */
	if (rc < 0 && r->gone && e->kind != ERR_GONE) {
		e->kind = ERR_GONE;
		snprintf(e->msg, sizeof(e->msg), "client went away");
	}
	if (rc < 0)
		response_fail(r, e);
	else if (response_end(r) < 0)
		r->aborted = true;
}
