/*
 * sign: HMAC-SHA256 of path and canonical (or as-sent) query; order-
 * independent, every change to path, parameters (expires included) or key
 * breaks it; any of several keys verifies; --sign adds expires.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "route/sign.h"

#define KEY "0123456789abcdef-secret"

static void
parse(const char *q, struct params *p)
{
	struct err e;

	params_init(p);
	err_init(&e);
	assert_int_equal(params_parse(q, p, &e), 0);
}

static void
test_signature_is_hmac_sha256_of_path_and_canonical_query(void **state)
{
	const char *msg = "/a.jpg?size=300x200&fit=cover";
	unsigned char md[32];
	unsigned int n = 0;
	char hex[65], want[65];
	struct params p;

	(void)state;
	parse("fit=cover&size=300x200", &p);
	assert_int_equal(sign_compute(KEY, "/a.jpg", 6, &p, hex), 0);
	HMAC(EVP_sha256(), KEY, (int)strlen(KEY), (const unsigned char *)msg,
	    strlen(msg), md, &n);
	for (unsigned i = 0; i < 32; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(hex, want);
}

/* An application's signature: HMAC of the path and the query as it sends
 * it (its own order, its own spelling), computed here with OpenSSL. */
static void
app_sign(const char *key, const char *path_query, char *url, size_t len)
{
	unsigned char md[32];
	unsigned int n = 0;
	size_t o;

	HMAC(EVP_sha256(), key, (int)strlen(key),
	    (const unsigned char *)path_query, strlen(path_query), md, &n);
	o = (size_t)snprintf(url, len, "%s&sig=", path_query);
	for (unsigned i = 0; i < 32; i++)
		snprintf(url + o + 2 * i, 3, "%02x", md[i]);
}

/* What the gate does with url: parse its query, verify its sig under
 * keys[0..n) in either form (media) or as sent only (media false). */
static int
check_keys(char *const keys[], unsigned n, const char *url, bool media,
    struct err *e)
{
	size_t pl = strcspn(url, "?");
	const char *q = url[pl] == '?' ? url + pl + 1 : NULL;
	char raw[2100], sig[65] = "";
	const char *s = q ? strstr(q, "sig=") : NULL;
	struct params p;

	params_init(&p);
	if (media)
		assert_int_equal(params_parse(q, &p, e), 0);
	if (s != NULL)
		snprintf(sig, sizeof(sig), "%.64s", s + 4);
	assert_int_equal(sign_strip(q, raw, sizeof(raw)), 0);
	err_init(e);
	return sign_verify(keys, n, url, pl, media ? &p : NULL, raw, sig, e);
}

static int
check(const char *key, const char *url, struct err *e)
{
	char *keys[] = { (char *)key };

	return check_keys(keys, 1, url, true, e);
}

static void
test_check_accepts_the_query_as_sent(void **state)
{
	char url[512];
	struct err e;

	(void)state;
	app_sign(KEY, "/m/a.jpg?fit=cover&size=0300x200&q=80", url, sizeof(url));
	assert_int_equal(check(KEY, url, &e), 0);
	/* A parameter changed after signing: refused. */
	memcpy(strstr(url, "q=80"), "q=90", 4);
	assert_int_equal(check(KEY, url, &e), -ERR_FORBIDDEN);
	assert_non_null(strstr(e.msg, "does not match"));
	/* Another path under the same query: refused. */
	app_sign(KEY, "/m/a.jpg?size=10x10", url, sizeof(url));
	memcpy(url, "/m/b", 4);
	assert_int_equal(check(KEY, url, &e), -ERR_FORBIDDEN);
}

static void
test_check_accepts_any_order_and_rejects_changes(void **state)
{
	char url[512], q[600];
	struct err e;

	(void)state;
	err_init(&e);
	assert_int_equal(sign_url(KEY, "/m/a.jpg?size=300x200&fit=cover", 0,
	    url, sizeof(url), &e), 0);
	/* The same parameters in another order, sig first. */
	snprintf(q, sizeof(q), "/m/a.jpg?%s&fit=cover&size=300x200",
	    strstr(url, "sig="));
	assert_int_equal(check(KEY, q, &e), 0);
	/* Another path, another key, another parameter: refused. */
	q[3] = 'b';
	assert_int_equal(check(KEY, q, &e), -ERR_FORBIDDEN);
	assert_non_null(strstr(e.msg, "does not match"));
	assert_int_equal(check("another-key-0000000", url, &e), -ERR_FORBIDDEN);
	snprintf(q, sizeof(q), "/m/a.jpg?fit=cover&size=301x200&%s",
	    strstr(url, "sig="));
	assert_int_equal(check(KEY, q, &e), -ERR_FORBIDDEN);
}

static void
test_any_of_several_keys_verifies(void **state)
{
	char *keys[] = { "the-new-key-0000001", KEY, "a-third-key-0000003" };
	char url[512];
	struct err e;

	(void)state;
	/* Signed with the old key (second in the config): still good. */
	err_init(&e);
	assert_int_equal(sign_url(KEY, "/m/a.jpg?size=30x20", 0, url,
	    sizeof(url), &e), 0);
	assert_int_equal(check_keys(keys, 3, url, true, &e), 0);
	app_sign(keys[2], "/m/a.jpg?q=5", url, sizeof(url));
	assert_int_equal(check_keys(keys, 3, url, true, &e), 0);
	assert_int_equal(check_keys(keys, 3, url, false, &e), 0);
	/* The old key dropped from the config: refused. */
	assert_int_equal(sign_url(KEY, "/m/a.jpg?size=30x20", 0, url,
	    sizeof(url), &e), 0);
	assert_int_equal(check_keys(keys, 1, url, true, &e), -ERR_FORBIDDEN);
	assert_non_null(strstr(e.msg, "does not match"));
}

static void
test_expires_is_signed(void **state)
{
	char url[512], *x;
	struct err e;

	(void)state;
	err_init(&e);
	assert_int_equal(sign_url(KEY, "/a.jpg?size=10x10", 1800000000u, url,
	    sizeof(url), &e), 0);
	assert_memory_equal(url, "/a.jpg?size=10x10&expires=1800000000&sig=",
	    41);
	assert_int_equal(check(KEY, url, &e), 0);
	/* Moved later: the signature no longer matches. */
	x = strstr(url, "expires=18");
	x[9] = '9';
	assert_int_equal(check(KEY, url, &e), -ERR_FORBIDDEN);
	/* Removed: neither. */
	assert_int_equal(sign_url(KEY, "/a.jpg?size=10x10", 1800000000u, url,
	    sizeof(url), &e), 0);
	x = strstr(url, "&expires=");
	memmove(x, x + 19, strlen(x + 19) + 1);
	assert_int_equal(check(KEY, url, &e), -ERR_FORBIDDEN);
	/* Given twice (URL and --expires): refused, not silently chosen. */
	err_init(&e);
	assert_int_equal(sign_url(KEY, "/a.jpg?expires=1900000000", 1800000000u,
	    url, sizeof(url), &e), -ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "expires"));
}

static void
test_missing_or_malformed_sig(void **state)
{
	struct params p;
	struct err e;

	(void)state;
	assert_int_equal(check(KEY, "/a.jpg?size=10x10", &e), -ERR_FORBIDDEN);
	params_init(&p);
	err_init(&e);
	assert_int_equal(params_parse("sig=abc", &p, &e), -ERR_BAD_PARAM);
	assert_non_null(strstr(e.msg, "sig"));
}

static void
test_sign_url_output_is_canonical(void **state)
{
	char url[512];
	struct err e;

	(void)state;
	err_init(&e);
	assert_int_equal(sign_url(KEY, "/a.jpg?fit=cover&size=0300x0200", 0,
	    url, sizeof(url), &e), 0);
	assert_memory_equal(url, "/a.jpg?size=300x200&fit=cover&sig=", 34);
	assert_int_equal(strlen(url), 34 + 64);
	err_init(&e);
	assert_int_equal(sign_url(KEY, "a.jpg", 0, url, sizeof(url), &e),
	    -ERR_BAD_PARAM);
}

static void
test_strip_removes_only_sig(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(sign_strip("a=1&sig=00&b=2&sigma=3&sig", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "a=1&b=2&sigma=3");
	assert_int_equal(sign_strip(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(sign_strip("abcdefghij", out, 8), -1);
}

static void
test_raw_signature_for_program_routes(void **state)
{
	char *keys[] = { KEY };
	char url[512], q[600];
	struct err e;

	(void)state;
	err_init(&e);
	/* Not the media API: signed as given, order kept. */
	assert_int_equal(sign_url(KEY, "/convert/a.jpg?w=100&q=50", 0, url,
	    sizeof(url), &e), 0);
	assert_memory_equal(url, "/convert/a.jpg?w=100&q=50&sig=", 30);
	assert_int_equal(check_keys(keys, 1, url, false, &e), 0);
	/* Reordered or changed: refused. */
	snprintf(q, sizeof(q), "/convert/a.jpg?q=50&w=100&%s", strstr(url, "sig="));
	assert_int_equal(check_keys(keys, 1, q, false, &e), -ERR_FORBIDDEN);
	/* With an expiry: appended, and covered. */
	err_init(&e);
	assert_int_equal(sign_url(KEY, "/convert/a.jpg?w=100", 1800000000u, url,
	    sizeof(url), &e), 0);
	assert_memory_equal(url, "/convert/a.jpg?w=100&expires=1800000000&sig=",
	    44);
	assert_int_equal(check_keys(keys, 1, url, false, &e), 0);
	strstr(url, "expires=")[9] = '9';
	assert_int_equal(check_keys(keys, 1, url, false, &e), -ERR_FORBIDDEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_is_hmac_sha256_of_path_and_canonical_query),
		cmocka_unit_test(test_check_accepts_any_order_and_rejects_changes),
		cmocka_unit_test(test_check_accepts_the_query_as_sent),
		cmocka_unit_test(test_any_of_several_keys_verifies),
		cmocka_unit_test(test_expires_is_signed),
		cmocka_unit_test(test_missing_or_malformed_sig),
		cmocka_unit_test(test_sign_url_output_is_canonical),
		cmocka_unit_test(test_strip_removes_only_sig),
		cmocka_unit_test(test_raw_signature_for_program_routes),
	};

	return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
