/*
 * sign: HMAC-SHA256 of path and canonical query; order-independent, every
 * change to path, parameters or key breaks it; constant-time check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sign.h"

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
app_sign(const char *path_query, char *url, size_t len)
{
	unsigned char md[32];
	unsigned int n = 0;
	size_t o;

	HMAC(EVP_sha256(), KEY, (int)strlen(KEY),
	    (const unsigned char *)path_query, strlen(path_query), md, &n);
	o = (size_t)snprintf(url, len, "%s&sig=", path_query);
	for (unsigned i = 0; i < 32; i++)
		snprintf(url + o + 2 * i, 3, "%02x", md[i]);
}

static void
test_check_accepts_the_query_as_sent(void **state)
{
	char url[512];
	struct params p;
	struct err e;

	(void)state;
	app_sign("/m/a.jpg?fit=cover&size=0300x200&q=80", url, sizeof(url));
	parse(strchr(url, '?') + 1, &p);
	err_init(&e);
	assert_int_equal(sign_check(KEY, url, 8, &p, &e), 0);
	/* A parameter changed after signing: refused. */
	app_sign("/m/a.jpg?fit=cover&size=0300x200&q=80", url, sizeof(url));
	memcpy(strstr(url, "q=80"), "q=90", 4);
	parse(strchr(url, '?') + 1, &p);
	err_init(&e);
	assert_int_equal(sign_check(KEY, url, 8, &p, &e), -ERR_FORBIDDEN);
	assert_non_null(strstr(e.msg, "does not match"));
	/* Another path under the same query: refused. */
	app_sign("/m/a.jpg?size=10x10", url, sizeof(url));
	memcpy(url, "/m/b", 4);
	parse(strchr(url, '?') + 1, &p);
	err_init(&e);
	assert_int_equal(sign_check(KEY, url, 8, &p, &e), -ERR_FORBIDDEN);
}

static void
test_check_accepts_any_order_and_rejects_changes(void **state)
{
	char url[512], q[600];
	struct params p;
	struct err e;

	(void)state;
	err_init(&e);
	assert_int_equal(sign_url(KEY, "/m/a.jpg?size=300x200&fit=cover", url,
	    sizeof(url), &e), 0);
	/* The same parameters in another order, sig last. */
	snprintf(q, sizeof(q), "fit=cover&size=300x200&%s", strstr(url, "sig="));
	parse(q, &p);
	err_init(&e);
	assert_int_equal(sign_check(KEY, "/m/a.jpg", 8, &p, &e), 0);
	/* Another path, another key, another parameter: refused. */
	err_init(&e);
	assert_int_equal(sign_check(KEY, "/m/b.jpg", 8, &p, &e), -ERR_FORBIDDEN);
	assert_non_null(strstr(e.msg, "does not match"));
	err_init(&e);
	assert_int_equal(sign_check("another-key-0000000", "/m/a.jpg", 8, &p,
	    &e), -ERR_FORBIDDEN);
	snprintf(q, sizeof(q), "fit=cover&size=301x200&%s", strstr(url, "sig="));
	parse(q, &p);
	err_init(&e);
	assert_int_equal(sign_check(KEY, "/m/a.jpg", 8, &p, &e), -ERR_FORBIDDEN);
}

static void
test_missing_or_malformed_sig(void **state)
{
	struct params p;
	struct err e;

	(void)state;
	parse("size=10x10", &p);
	err_init(&e);
	assert_int_equal(sign_check(KEY, "/a.jpg", 6, &p, &e), -ERR_FORBIDDEN);
	assert_non_null(strstr(e.msg, "needs signed URLs"));
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
	assert_int_equal(sign_url(KEY, "/a.jpg?fit=cover&size=0300x0200", url,
	    sizeof(url), &e), 0);
	assert_memory_equal(url, "/a.jpg?size=300x200&fit=cover&sig=", 34);
	assert_int_equal(strlen(url), 34 + 64);
	err_init(&e);
	assert_int_equal(sign_url(KEY, "a.jpg", url, sizeof(url), &e), -ERR_BAD_PARAM);
}

static void
test_raw_signature_for_program_routes(void **state)
{
	char url[512], q[600];
	struct err e;

	(void)state;
	err_init(&e);
	/* Not the media API: signed as given, order kept. */
	assert_int_equal(sign_url(KEY, "/convert/a.jpg?w=100&q=50", url,
	    sizeof(url), &e), 0);
	assert_memory_equal(url, "/convert/a.jpg?w=100&q=50&sig=", 30);
	err_init(&e);
	assert_int_equal(sign_check_raw(KEY, url, q, sizeof(q), &e), 0);
	assert_string_equal(q, "w=100&q=50");
	/* Reordered or changed: refused. */
	snprintf(q, sizeof(q), "/convert/a.jpg?q=50&w=100&%s", strstr(url, "sig="));
	err_init(&e);
	assert_int_equal(sign_check_raw(KEY, q, url + 300, 200, &e), -ERR_FORBIDDEN);
	err_init(&e);
	assert_int_equal(sign_check_raw(KEY, "/convert/a.jpg?w=100", q, sizeof(q),
	    &e), -ERR_FORBIDDEN);
	assert_non_null(strstr(e.msg, "needs signed URLs"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_is_hmac_sha256_of_path_and_canonical_query),
		cmocka_unit_test(test_check_accepts_any_order_and_rejects_changes),
		cmocka_unit_test(test_check_accepts_the_query_as_sent),
		cmocka_unit_test(test_missing_or_malformed_sig),
		cmocka_unit_test(test_sign_url_output_is_canonical),
		cmocka_unit_test(test_raw_signature_for_program_routes),
	};

	return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
