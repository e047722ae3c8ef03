/*
 * http: the error-to-status table, JSON error bodies, and the held response
 * writer (Content-Length when the body fits, streaming and abort when not).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

static void
test_status_table_maps_every_kind(void **state)
{
	(void)state;
	assert_int_equal(http_status_of(ERR_NONE), 200);
	assert_int_equal(http_status_of(ERR_BAD_PARAM), 400);
	assert_int_equal(http_status_of(ERR_FORBIDDEN), 403);
	assert_int_equal(http_status_of(ERR_NOT_FOUND), 404);
	assert_int_equal(http_status_of(ERR_METHOD), 405);
	assert_int_equal(http_status_of(ERR_TOO_LARGE), 413);
	assert_int_equal(http_status_of(ERR_UNSUPPORTED), 415);
	assert_int_equal(http_status_of(ERR_UNDECODABLE), 422);
	assert_int_equal(http_status_of(ERR_NO_SLOT), 503);
	assert_int_equal(http_status_of(ERR_TIMEOUT), 504);
	assert_int_equal(http_status_of(ERR_INTERNAL), 500);
	assert_int_equal(http_status_of((enum err_kind)999), 500);
	for (int k = 0; k < ERR_KIND_COUNT; k++)
		assert_string_not_equal(http_reason(http_status_of(k)), "Unknown");
}

static void
test_json_error_escapes_quotes_and_controls(void **state)
{
	char buf[256];
	size_t n;

	(void)state;
	n = http_json_error(buf, sizeof(buf), 400, "bad \"q\"\n\\x\x01\xc3\xa9");
	assert_string_equal(buf,
	    "{\"error\": \"bad \\\"q\\\"\\u000a\\\\x\\u0001??\", \"status\": 400}");
	assert_int_equal(n, strlen(buf));
}

static void
test_json_error_truncates_to_valid_json(void **state)
{
	char buf[48], msg[200];

	(void)state;
	memset(msg, '"', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	http_json_error(buf, sizeof(buf), 404, msg);
	assert_true(strlen(buf) < sizeof(buf));
	assert_non_null(strstr(buf, "\", \"status\": 404}"));
	/* No escape cut in half: every backslash pairs with a quote. */
	for (char *p = buf + 11; *p && p[1] != ','; p += 2) {
		assert_int_equal(p[0], '\\');
		assert_int_equal(p[1], '"');
	}
}

struct fixture {
	struct membuf out;
	struct sink raw;
	struct response r;
	unsigned char hold[64];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	membuf_init(&f->out);
	sink_init_membuf(&f->raw, &f->out);
	response_init(&f->r, &f->raw, false, f->hold, sizeof(f->hold));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	membuf_cleanup(&f->out);
	free(f);
	return 0;
}

static char *
out_text(struct fixture *f)
{
	static char text[4096];

	snprintf(text, sizeof(text), "%.*s", (int)f->out.len,
	    (const char *)f->out.data);
	return text;
}

static void
test_small_body_gets_content_length(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(response_header(&f->r, "Content-Type", "image/png"), 0);
	assert_int_equal(sink_write(&f->r.body, "hello", 5), 0);
	assert_int_equal(f->out.len, 0);	/* held until the end */
	assert_int_equal(response_end(&f->r), 0);
	assert_string_equal(out_text(f), "Status: 200 OK\r\n"
	    "Content-Type: image/png\r\nContent-Length: 5\r\n\r\nhello");
}

static void
test_large_body_streams_without_length(void **state)
{
	struct fixture *f = *state;
	char big[100];

	memset(big, 'x', sizeof(big));
	assert_int_equal(sink_write(&f->r.body, "ab", 2), 0);
	assert_int_equal(sink_write(&f->r.body, big, sizeof(big)), 0);
	assert_true(f->r.committed);
	assert_int_equal(response_end(&f->r), 0);
	assert_null(strstr(out_text(f), "Content-Length"));
	assert_non_null(strstr(out_text(f), "\r\n\r\nabxxxx"));
	assert_int_equal(f->out.len, strlen("Status: 200 OK\r\n\r\n") + 102);
}

static void
test_error_before_commit_replaces_answer(void **state)
{
	struct fixture *f = *state;
	struct err e;

	err_init(&e);
	(void)response_header(&f->r, "Content-Type", "image/jpeg");
	assert_int_equal(sink_write(&f->r.body, "partial", 7), 0);
	err_set(&e, ERR_UNDECODABLE, "image does not decode");
	response_fail(&f->r, &e);
	assert_false(f->r.aborted);
	assert_non_null(strstr(out_text(f), "Status: 422 Unprocessable Entity\r\n"));
	assert_non_null(strstr(out_text(f), "Content-Type: application/json\r\n"));
	assert_null(strstr(out_text(f), "image/jpeg"));
	assert_null(strstr(out_text(f), "partial"));
	assert_non_null(strstr(out_text(f),
	    "{\"error\": \"image does not decode\", \"status\": 422}"));
}

static void
test_error_after_commit_aborts(void **state)
{
	struct fixture *f = *state;
	char big[100];
	struct err e;
	size_t before;

	memset(big, 'x', sizeof(big));
	assert_int_equal(sink_write(&f->r.body, big, sizeof(big)), 0);
	before = f->out.len;
	err_init(&e);
	err_set(&e, ERR_INTERNAL, "encoder failed");
	response_fail(&f->r, &e);
	assert_true(f->r.aborted);
	assert_int_equal(f->out.len, before);	/* nothing clean appended */
}

static void
test_head_sends_headers_of_get_without_body(void **state)
{
	struct fixture *f = *state;

	f->r.head = true;
	assert_int_equal(sink_write(&f->r.body, "hello", 5), 0);
	assert_int_equal(response_end(&f->r), 0);
	assert_string_equal(out_text(f),
	    "Status: 200 OK\r\nContent-Length: 5\r\n\r\n");
}

static void
test_405_keeps_allow_header(void **state)
{
	struct fixture *f = *state;
	struct err e;

	err_init(&e);
	(void)response_header(&f->r, "Allow", "GET, HEAD");
	err_set(&e, ERR_METHOD, "method not allowed");
	response_fail(&f->r, &e);
	assert_non_null(strstr(out_text(f), "Status: 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(out_text(f), "Allow: GET, HEAD\r\n"));
}

static void
test_header_refuses_line_breaks(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(response_header(&f->r, "X-A", "a\r\nSet-Cookie: x"), -1);
	assert_int_equal(f->r.hlen, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_table_maps_every_kind),
		cmocka_unit_test(test_json_error_escapes_quotes_and_controls),
		cmocka_unit_test(test_json_error_truncates_to_valid_json),
		cmocka_unit_test_setup_teardown(test_small_body_gets_content_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_body_streams_without_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_before_commit_replaces_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_after_commit_aborts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_sends_headers_of_get_without_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_405_keeps_allow_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_refuses_line_breaks, setup, teardown),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
