/*
 * router: the path is decoded once and a dot segment refused before any
 * route is chosen; one gate (signature, expires, presets_only) in front of
 * media, live and program routes alike; status and health not gated.
 * Driven through router_handle() with a response into memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc/config.h"
#include "http/http.h"
#include "route/router.h"
#include "route/sign.h"
#include "core/sink.h"

#define KEY "router-test-key-0123456789"

struct fixture {
	char dir[64], marker[128];
	struct config c;
	struct server srv;
};

/* The answer to uri, as the worker would send it (NUL-terminated). */
struct out {
	struct membuf m;
	struct sink raw;
	struct response r;
	unsigned char hold[64 * 1024];
	struct err e;
	char *text;
};

static void
cfg_set(struct config *c, const char *section, const char *key,
    const char *v)
{
	char why[300];

	if (config_set(c, section, key, v, why, sizeof(why)) != 0)
		fail_msg("[%s] %s = %s: %s", section, key, v, why);
}

static struct fixture *
fixture_new(bool keys, bool presets_only)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char why[300], argv[200];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/mediafcgi-router-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->marker, sizeof(f->marker), "%s/ran", f->dir);
	config_init(&f->c);
	cfg_set(&f->c, "server", "allow_root", "yes");
	cfg_set(&f->c, "server", "health_path", "/health");
	cfg_set(&f->c, "media", "root", f->dir);
	cfg_set(&f->c, "media", "mount", "/media");
	if (keys) {
		cfg_set(&f->c, "security", "signing_key", "the-first-key-0123456");
		cfg_set(&f->c, "security", "signing_key", KEY);
	}
	if (presets_only)
		cfg_set(&f->c, "security", "presets_only", "yes");
	cfg_set(&f->c, "preset thumb", "size", "10x10");
	cfg_set(&f->c, "source cam1", "input", "/dev/null");
	snprintf(argv, sizeof(argv), "touch %s", f->marker);
	cfg_set(&f->c, "program internal", "match", "prefix:/internal/");
	cfg_set(&f->c, "program internal", "argv", argv);
	if (config_validate(&f->c, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	f->srv.cfg = &f->c;
	f->srv.rootfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->srv.rootfd >= 0);
	return f;
}

static void
fixture_free(struct fixture *f)
{
	close(f->srv.rootfd);
	unlink(f->marker);
	rmdir(f->dir);
	config_cleanup(&f->c);
	free(f);
}

/* GET uri; the status, and the whole answer in *text (caller frees). */
static int
get(struct fixture *f, const char *uri, char **text)
{
	struct out *o = calloc(1, sizeof(*o));
	struct request req = { .method = "GET", .uri = uri, .conn_fd = -1 };
	int status;

	membuf_init(&o->m);
	sink_init_membuf(&o->raw, &o->m);
	response_init(&o->r, &o->raw, false, o->hold, sizeof(o->hold));
	err_init(&o->e);
	router_handle(&f->srv, &req, &o->r, &o->e);
	status = o->r.status;
	*text = strndup((const char *)o->m.data, o->m.len);
	membuf_cleanup(&o->m);
	free(o);
	return status;
}

/* GET uri must answer status with a JSON error mentioning what. */
#define REFUSED(f, uri, status, what) refused_at(__LINE__, f, uri, status, what)

static void
refused_at(int line, struct fixture *f, const char *uri, int status,
    const char *what)
{
	char *text;
	int got = get(f, uri, &text);

	if (got != status || strstr(text, "application/json") == NULL ||
	    strstr(text, what) == NULL)
		fail_msg("line %d: GET %s: %d, want %d mentioning '%s':\n%s",
		    line, uri, got, status, what, text);
	free(text);
	/* Whatever the route, a refused request never ran the program. */
	if (access(f->marker, F_OK) == 0)
		fail_msg("line %d: GET %s ran the program", line, uri);
}

static void
sign(const char *url, uint32_t expires, char *out, size_t len)
{
	struct err e;

	err_init(&e);
	if (sign_url(KEY, url, expires, out, len, &e) != 0)
		fail_msg("sign %s: %s", url, e.msg);
}

static void
test_dot_segments_refused_before_routing(void **state)
{
	struct fixture *f = fixture_new(false, false);
	static const char *const uris[] = {
		"/internal/%2e%2e/media/x.jpg", "/internal/%2E%2E/media/x.jpg",
		"/internal/%2e%2E/x", "/internal/./x", "/internal/%2e/x",
		"/internal/..", "/live/%2e%2e/media/x.jpg", "/live/./cam1",
		"/media/%2e/x.jpg", "/media/%2E%2e/internal/x", "/./health",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++)
		REFUSED(f, uris[i], 403, "segment");
	fixture_free(f);
}

static void
test_every_route_needs_a_signature(void **state)
{
	struct fixture *f = fixture_new(true, false);
	char url[512], *text;

	(void)state;
	REFUSED(f, "/media/a.jpg?size=10x10", 403, "sig: this server needs");
	REFUSED(f, "/live/cam1", 403, "sig: this server needs");
	REFUSED(f, "/live/cam1?snapshot", 403, "sig: this server needs");
	REFUSED(f, "/live/nosuch", 403, "sig: this server needs");
	REFUSED(f, "/internal/x", 403, "sig: this server needs");
	/* Signed: past the gate, to the route's own answer (no such file;
	 * no live rings in a unit test). sig is a parameter everywhere. */
	sign("/media/a.jpg?size=10x10", 0, url, sizeof(url));
	REFUSED(f, url, 404, "not found");
	sign("/live/cam1?snapshot", 0, url, sizeof(url));
	REFUSED(f, url, 404, "no such live source");
	sign("/live/cam1", 0, url, sizeof(url));
	REFUSED(f, url, 404, "no such live source");
	/* Signed for one source, sent for another. */
	memcpy(strstr(url, "cam1"), "cam2", 4);
	REFUSED(f, url, 403, "does not match");
	/* The health check is not gated. */
	assert_int_equal(get(f, "/health", &text), 200);
	free(text);
	fixture_free(f);
}

static void
test_a_signed_program_runs(void **state)
{
	struct fixture *f = fixture_new(true, false);
	char url[512], *text;

	(void)state;
	sign("/internal/x?a=1", 0, url, sizeof(url));
	/* Past the gate its own parser sees only a=1, not sig. */
	REFUSED(f, url, 400, "a: not a parameter");
	sign("/internal/x", 0, url, sizeof(url));
	get(f, url, &text);
	free(text);
	assert_int_equal(access(f->marker, F_OK), 0);
	fixture_free(f);
}

static void
test_expires(void **state)
{
	struct fixture *f = fixture_new(true, false);
	struct fixture *g = fixture_new(false, false);
	char url[512];

	(void)state;
	sign("/media/a.jpg?size=10x10", 1000000000u, url, sizeof(url));
	REFUSED(f, url, 403, "expires: the URL expired at 2001-09-09T01:46:40Z");
	sign("/live/cam1", 1000000000u, url, sizeof(url));
	REFUSED(f, url, 403, "2001-09-09T01:46:40Z");
	sign("/internal/x", 1000000000u, url, sizeof(url));
	REFUSED(f, url, 403, "2001-09-09T01:46:40Z");
	sign("/media/a.jpg?size=10x10", (uint32_t)time(NULL) + 60, url,
	    sizeof(url));
	REFUSED(f, url, 404, "not found");
	/* Tampered: the signature covers it. */
	strstr(url, "expires=")[9] ^= 1;
	REFUSED(f, url, 403, "sig: does not match");
	/* Without keys a URL that says it has expired is still refused. */
	REFUSED(g, "/media/a.jpg?expires=1000000000", 403, "expires");
	REFUSED(g, "/internal/x?expires=1000000000", 403, "expires");
	REFUSED(g, "/media/a.jpg?expires=tomorrow", 400, "expires");
	fixture_free(g);
	fixture_free(f);
}

static void
test_presets_only_everywhere(void **state)
{
	struct fixture *f = fixture_new(false, true);

	(void)state;
	REFUSED(f, "/media/a.jpg?size=10x10", 403, "preset");
	REFUSED(f, "/media/a.jpg", 403, "preset");
	REFUSED(f, "/media/a.jpg?preset=thumb", 404, "not found");
	REFUSED(f, "/live/cam1?snapshot", 403, "preset");
	REFUSED(f, "/live/cam1?preset=thumb", 400, "preset thumb");
	REFUSED(f, "/live/cam1", 404, "no such live source");
	REFUSED(f, "/internal/x", 403, "preset");
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dot_segments_refused_before_routing),
		cmocka_unit_test(test_every_route_needs_a_signature),
		cmocka_unit_test(test_a_signed_program_runs),
		cmocka_unit_test(test_expires),
		cmocka_unit_test(test_presets_only_everywhere),
	};

	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
