/*
 * config: defaults, INI keys, and refusals that name FILE:LINE and why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proc/config.h"

/* The config text as a file with no name on disk: /proc/self/fd/N. */
static int
load_text(struct config *c, const char *text, char *why, size_t len,
    char *path, size_t plen)
{
	int fd = memfd_create("conf", 0), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	snprintf(path, plen, "/proc/self/fd/%d", fd);
	rc = config_load(c, path, why, len);
	close(fd);
	return rc;
}

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_init(&c);
	assert_null(c.listen);
	assert_string_equal(c.mount, "");
	assert_int_equal(c.quality, 75);
	assert_int_equal(c.avif_speed, 6);
	assert_int_equal(c.jxl_effort, 3);
	assert_true(c.max_source_pixels > 0);
	config_cleanup(&c);
}

static void
test_full_file_is_read(void **state)
{
	struct config c;
	char why[512], path[64];

	(void)state;
	config_init(&c);
	assert_int_equal(load_text(&c,
	    "; comment\n[server]\nlisten = unix:/run/m.sock\nworkers = 3\n"
	    "allow_root = yes\n"
	    "max_requests = 500\nrequest_timeout = 20\n"
	    "[media]\nroot = /tmp\nmount = /media/\ncache_control = public, max-age=60\n"
	    "quality = 70\nmax_source_pixels = 1000\n",
	    why, sizeof(why), path, sizeof(path)), 0);
	assert_string_equal(c.listen, "unix:/run/m.sock");
	assert_int_equal(c.workers, 3);
	assert_int_equal(c.max_requests, 500);
	assert_int_equal(c.request_timeout, 20);
	assert_string_equal(c.root, "/tmp");
	assert_string_equal(c.mount, "/media");	/* trailing slash dropped */
	assert_string_equal(c.cache_control, "public, max-age=60");
	assert_int_equal(c.quality, 70);
	assert_int_equal(c.max_source_pixels, 1000);
	assert_int_equal(config_validate(&c, why, sizeof(why)), 0);
	config_cleanup(&c);
}

static void
expect_refused(const char *text, int line, const char *reason)
{
	struct config c;
	char why[512], path[64], want[600];

	config_init(&c);
	assert_int_equal(load_text(&c, text, why, sizeof(why), path,
	    sizeof(path)), -1);
	snprintf(want, sizeof(want), "%s:%d: ", path, line);
	assert_memory_equal(why, want, strlen(want));
	assert_non_null(strstr(why, reason));
	config_cleanup(&c);
}

static void
test_bad_values_name_file_line_and_reason(void **state)
{
	(void)state;
	expect_refused("[server]\nworkers = many\n", 2, "workers: expected a whole number");
	expect_refused("[server]\nworkers = 0\n", 2, "workers");
	expect_refused("[media]\nquality = 101\n", 2, "quality");
	expect_refused("[media]\navif_speed = 11\n", 2, "avif_speed");
	expect_refused("[media]\njxl_effort = 0\n", 2, "jxl_effort");
	expect_refused("[media]\n\nroot = relative/dir\n", 3, "absolute");
	expect_refused("[media]\nmount = media\n", 2, "mount: must start with '/'");
	expect_refused("[media]\nbogus = 1\n", 2, "unknown key 'bogus' in [media]");
	expect_refused("[nonsense]\na = 1\n", 2, "unknown section [nonsense]");
	expect_refused("[server]\nthis line is not ini\n", 2, "syntax error");
	expect_refused("[server]\nlisten = nowhere\n", 2, "listen: expected");
	expect_refused("[media]\nmax_file_size = -5\n", 2, "max_file_size");
	expect_refused("[server]\nstream_sndbuf = 100\n", 2, "stream_sndbuf");
}

static void
test_stream_sndbuf_zero_is_the_kernels(void **state)
{
	struct config c;
	char why[512], path[64];

	(void)state;
	config_init(&c);
	assert_int_equal(c.stream_sndbuf, 0);
	assert_int_equal(load_text(&c, "[server]\nstream_sndbuf = 65536\n", why,
	    sizeof(why), path, sizeof(path)), 0);
	assert_int_equal(c.stream_sndbuf, 65536);
	config_cleanup(&c);
	config_init(&c);
	assert_int_equal(load_text(&c, "[server]\nstream_sndbuf = 0\n", why,
	    sizeof(why), path, sizeof(path)), 0);
	assert_int_equal(c.stream_sndbuf, 0);
	config_cleanup(&c);
}

static void
test_missing_file_is_refused(void **state)
{
	struct config c;
	char why[512];

	(void)state;
	config_init(&c);
	assert_int_equal(config_load(&c, "/nonexistent/m.conf", why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "/nonexistent/m.conf: cannot open"));
	config_cleanup(&c);
}

static void
test_validate_needs_root_directory(void **state)
{
	struct config c;
	char why[512];

	(void)state;
	config_init(&c);
	assert_int_equal(config_validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "root is required"));
	assert_int_equal(config_set(&c, "media", "root", "/etc/hostname", why,
	    sizeof(why)), 0);
	assert_int_equal(config_validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a directory"));
	assert_int_equal(config_set(&c, "media", "root", "/tmp", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "server", "allow_root", "yes", why,
	    sizeof(why)), 0);
	assert_int_equal(config_validate(&c, why, sizeof(why)), 0);
	assert_true(c.workers >= 1);	/* resolved to the CPU count */
	config_cleanup(&c);
}

/* Workers and stream processes share the master's 256 process slots. */
static void
test_streams_fit_the_process_slots(void **state)
{
	struct config c;
	char why[512];

	(void)state;
	config_init(&c);
	assert_int_equal(config_set(&c, "media", "root", "/tmp", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "server", "allow_root", "yes", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "server", "workers", "8", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "server", "max_streams", "2000", why,
	    sizeof(why)), 0);
	assert_int_equal(config_validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "max_streams"));
	assert_int_equal(config_set(&c, "server", "max_streams", "248", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "server", "max_viewers", "100000",
	    why, sizeof(why)), 0);
	assert_int_equal(config_validate(&c, why, sizeof(why)), 0);
	config_cleanup(&c);
}

static void
test_root_needs_a_user_or_allow_root(void **state)
{
	struct config c;
	char why[512];

	(void)state;
	config_init(&c);
	assert_int_equal(config_set(&c, "media", "root", "/tmp", why,
	    sizeof(why)), 0);
	if (geteuid() != 0) {
		/* Not root: nothing to drop, nothing to refuse. */
		assert_int_equal(config_validate(&c, why, sizeof(why)), 0);
		assert_false(c.drop_privileges);
		config_cleanup(&c);
		skip();
	}
	assert_int_equal(config_validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "refusing to run workers as root"));
	assert_int_equal(config_set(&c, "server", "user", "nobody", why,
	    sizeof(why)), 0);
	assert_int_equal(config_validate(&c, why, sizeof(why)), 0);
	assert_true(c.drop_privileges);
	assert_int_not_equal(c.run_uid, 0);
	assert_int_equal(config_set(&c, "server", "user", "no-such-user-x", why,
	    sizeof(why)), 0);
	assert_int_equal(config_validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "does not exist"));
	config_cleanup(&c);
}

static void
test_endpoint_paths_and_presets(void **state)
{
	struct config c;
	char why[512], path[64];

	(void)state;
	config_init(&c);
	assert_int_equal(load_text(&c,
	    "[server]\nstatus_path = /status\nhealth_path = /health\n"
	    "status_allow = 127.0.0.1, ::1\naccess_log = stderr\n"
	    "[preset thumb]\nsize = 300x200\nfit = cover\n",
	    why, sizeof(why), path, sizeof(path)), 0);
	assert_string_equal(c.status_path, "/status");
	assert_string_equal(c.health_path, "/health");
	assert_string_equal(config_preset(&c, "thumb"), "size=300x200&fit=cover");
	assert_null(config_preset(&c, "other"));
	config_cleanup(&c);
	expect_refused("[server]\nstatus_path = status\n", 2, "status_path");
	expect_refused("[preset thumb]\nsize = big\n", 2, "preset thumb: size");
	expect_refused("[preset thumb]\nsize = 1x1\nsize = 2x2\n", 3, "given twice");
	expect_refused("[preset Bad!]\nsize = 1x1\n", 2, "preset name");
	expect_refused("[server]\nallow_root = maybe\n", 2, "allow_root");
}

/* Key rotation: signing_key given again adds a key; the first signs. */
static void
test_several_signing_keys(void **state)
{
	struct config c;
	char why[512], path[64];

	(void)state;
	config_init(&c);
	assert_int_equal(load_text(&c,
	    "[security]\nsigning_key = the new key, 16+ chars\n"
	    "signing_key = the old key, 16+ chars\n",
	    why, sizeof(why), path, sizeof(path)), 0);
	assert_int_equal(c.n_signing_keys, 2);
	assert_string_equal(c.signing_keys[0], "the new key, 16+ chars");
	assert_string_equal(c.signing_keys[1], "the old key, 16+ chars");
	config_cleanup(&c);
	expect_refused("[security]\nsigning_key = short\n", 2, "16 characters");
	expect_refused("[security]\nsigning_key = 0123456789abcdef\n"
	    "signing_key = 0123456789abcdef\n", 3, "the same key twice");
	expect_refused("[security]\nsigning_key = 0123456789abcde1\n"
	    "signing_key = 0123456789abcde2\nsigning_key = 0123456789abcde3\n"
	    "signing_key = 0123456789abcde4\nsigning_key = 0123456789abcde5\n"
	    "signing_key = 0123456789abcde6\nsigning_key = 0123456789abcde7\n"
	    "signing_key = 0123456789abcde8\nsigning_key = 0123456789abcde9\n",
	    10, "at most 8 keys");
	/* A preset cannot carry a URL's signature or expiry. */
	expect_refused("[preset thumb]\nexpires = 1800000000\n", 2,
	    "'expires' cannot be part of a preset");
	expect_refused("[preset thumb]\nsig = 00\n", 2,
	    "'sig' cannot be part of a preset");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file_is_read),
		cmocka_unit_test(test_bad_values_name_file_line_and_reason),
		cmocka_unit_test(test_stream_sndbuf_zero_is_the_kernels),
		cmocka_unit_test(test_missing_file_is_refused),
		cmocka_unit_test(test_validate_needs_root_directory),
		cmocka_unit_test(test_root_needs_a_user_or_allow_root),
		cmocka_unit_test(test_streams_fit_the_process_slots),
		cmocka_unit_test(test_endpoint_paths_and_presets),
		cmocka_unit_test(test_several_signing_keys),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
