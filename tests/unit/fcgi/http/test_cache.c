/*
 * cache: ETag stability and sensitivity, HTTP dates, conditional requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "http/cache.h"

static void
etag_of(long long size, long long mtime, const char *variant, char *out)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_size = size;
	st.st_mtim.tv_sec = mtime;
	st.st_ino = (ino_t)(size * 7 + mtime);	/* must not matter */
	cache_etag(&st, variant, out, CACHE_ETAG_LEN);
}

static void
test_etag_is_strong_quoted_hex_and_stable(void **state)
{
	char a[CACHE_ETAG_LEN], b[CACHE_ETAG_LEN];
	struct stat st;

	(void)state;
	etag_of(1000, 1700000000, "size=300x200", a);
	assert_int_equal(strlen(a), 34);
	assert_int_equal(a[0], '"');
	assert_int_equal(a[33], '"');
	assert_int_equal(strspn(a + 1, "0123456789abcdef"), 32);
	/* Another inode, the same file content and time: the same tag. */
	memset(&st, 0, sizeof(st));
	st.st_size = 1000;
	st.st_mtim.tv_sec = 1700000000;
	st.st_mtim.tv_nsec = 12345;
	st.st_ino = 999;
	cache_etag(&st, "size=300x200", b, sizeof(b));
	assert_string_equal(a, b);
}

static void
test_etag_changes_with_each_input(void **state)
{
	char base[CACHE_ETAG_LEN], other[CACHE_ETAG_LEN];

	(void)state;
	etag_of(1000, 1700000000, "size=300x200", base);
	etag_of(1001, 1700000000, "size=300x200", other);
	assert_string_not_equal(base, other);
	etag_of(1000, 1700000001, "size=300x200", other);
	assert_string_not_equal(base, other);
	etag_of(1000, 1700000000, "size=300x201", other);
	assert_string_not_equal(base, other);
}

static void
test_http_date_format(void **state)
{
	char buf[64];

	(void)state;
	cache_http_date(784111777, buf, sizeof(buf));
	assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
}

static void
test_if_none_match(void **state)
{
	const char *tag = "\"abc\"";

	(void)state;
	assert_true(cache_not_modified("\"abc\"", NULL, tag, 0));
	assert_true(cache_not_modified("\"x\", \"abc\"", NULL, tag, 0));
	assert_true(cache_not_modified("W/\"abc\"", NULL, tag, 0));
	assert_true(cache_not_modified("*", NULL, tag, 0));
	assert_false(cache_not_modified("\"abcd\"", NULL, tag, 0));
	assert_false(cache_not_modified("\"ab\"", NULL, tag, 0));
	assert_false(cache_not_modified("", NULL, tag, 0));
	/* If-None-Match decides alone when present. */
	assert_false(cache_not_modified("\"zzz\"",
	    "Sun, 06 Nov 2094 08:49:37 GMT", tag, 0));
}

static void
test_if_modified_since(void **state)
{
	(void)state;
	assert_true(cache_not_modified(NULL, "Sun, 06 Nov 1994 08:49:37 GMT",
	    "\"t\"", 784111777));
	assert_true(cache_not_modified(NULL, "Sun, 06 Nov 1994 08:49:38 GMT",
	    "\"t\"", 784111777));
	assert_false(cache_not_modified(NULL, "Sun, 06 Nov 1994 08:49:36 GMT",
	    "\"t\"", 784111777));
	assert_false(cache_not_modified(NULL, "yesterday", "\"t\"", 784111777));
	assert_false(cache_not_modified(NULL, NULL, "\"t\"", 784111777));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etag_is_strong_quoted_hex_and_stable),
		cmocka_unit_test(test_etag_changes_with_each_input),
		cmocka_unit_test(test_http_date_format),
		cmocka_unit_test(test_if_none_match),
		cmocka_unit_test(test_if_modified_since),
	};

	return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}
