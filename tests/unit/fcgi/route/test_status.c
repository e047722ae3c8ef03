/*
 * status and log: who may read the status page, and that a signature never
 * reaches the page or a log line (log_escape_uri).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proc/log.h"
#include "route/status.h"

static void
test_no_allow_list_means_loopback_only(void **state)
{
	(void)state;
	assert_true(status_allowed(NULL, "127.0.0.1"));
	assert_true(status_allowed(NULL, "127.8.9.10"));
	assert_true(status_allowed(NULL, "::1"));
	assert_true(status_allowed(NULL, "::ffff:127.0.0.1"));
	assert_false(status_allowed(NULL, "10.0.0.1"));
	assert_false(status_allowed(NULL, "128.0.0.1"));
	assert_false(status_allowed(NULL, "::ffff:10.0.0.1"));
	assert_false(status_allowed(NULL, "fe80::1"));
	assert_false(status_allowed(NULL, "localhost"));
	assert_false(status_allowed(NULL, ""));
	assert_false(status_allowed(NULL, NULL));
}

static void
test_allow_list_is_exact(void **state)
{
	(void)state;
	assert_true(status_allowed("10.9.9.9, 10.9.9.10", "10.9.9.10"));
	assert_false(status_allowed("10.9.9.9, 10.9.9.10", "127.0.0.1"));
	assert_false(status_allowed("10.9.9.9", "10.9.9.99"));
	assert_false(status_allowed("10.9.9.9", NULL));
	assert_true(status_allowed("127.0.0.1,::1", "::1"));
}

static void
redacted(const char *uri, const char *want)
{
	char out[512];

	log_escape_uri(out, sizeof(out), uri);
	assert_string_equal(out, want);
}

static void
test_sig_is_redacted_wherever_it_stands(void **state)
{
	(void)state;
	redacted("/media/a.jpg?size=10x10&sig=0123abcd",
	    "/media/a.jpg?size=10x10&sig=REDACTED");
	redacted("/media/a.jpg?sig=0123abcd&size=10x10",
	    "/media/a.jpg?sig=REDACTED&size=10x10");
	/* the name as the parser reads it: escapes decoded */
	redacted("/a?%73ig=secret&%73%69%67=more",
	    "/a?%73ig=REDACTED&%73%69%67=REDACTED");
	/* not sig: kept */
	redacted("/a?sign=1&xsig=2&sig", "/a?sign=1&xsig=2&sig");
	redacted("/a.jpg", "/a.jpg");
	redacted("/a?", "/a?");
	redacted("/a?&&sig=1&", "/a?&&sig=REDACTED&");
	/* still escaped for the log line */
	redacted("/a\"b?sig=\n", "/a\\x22b?sig=REDACTED");
}

static void
test_long_uri_is_cut_not_leaked(void **state)
{
	char uri[6000], out[8192];

	(void)state;
	memset(uri, 'a', sizeof(uri));
	memcpy(uri, "/x?p=", 5);
	memcpy(uri + 4000, "&sig=SECRET", 11);
	uri[sizeof(uri) - 1] = '\0';
	log_escape_uri(out, sizeof(out), uri);
	assert_null(strstr(out, "SECRET"));
	memcpy(uri + 4000, "aaaaaaaaaaa", 11);
	memcpy(uri + 4090, "&sig=SECRET", 11);
	log_escape_uri(out, sizeof(out), uri);
	assert_null(strstr(out, "SECRET"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_allow_list_means_loopback_only),
		cmocka_unit_test(test_allow_list_is_exact),
		cmocka_unit_test(test_sig_is_redacted_wherever_it_stands),
		cmocka_unit_test(test_long_uri_is_cut_not_leaked),
	};

	return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
