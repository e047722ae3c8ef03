/*
 * program: the [program NAME] config (argv template, parameters, env),
 * matching, query values, placeholder substitution, and runs of real
 * children into a memory-backed response: exit status, signals, timeout,
 * max_output, the hold, descriptors and environment the child sees, and
 * nothing left behind (no zombie, no descriptor).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc/config.h"
#include "http/http.h"
#include "prog/program.h"
#include "core/clock.h"
#include "core/sink.h"
#include "req/sniff.h"

/* ------------------------------------------------------------ helpers */

static int
set(struct config *c, const char *name, const char *key, const char *v)
{
	char why[400];
	int rc = program_set_key(&c->programs, name, key, v, why, sizeof(why));

	if (rc < 0)
		print_message("refused: %s\n", why);
	return rc;
}

/* Refused, with a reason containing want. */
static void
refused(struct config *c, const char *name, const char *key, const char *v,
    const char *want)
{
	char why[400] = "";

	assert_int_equal(program_set_key(&c->programs, name, key, v, why, sizeof(why)), -1);
	if (strstr(why, want) == NULL)
		fail_msg("'%s = %s': reason '%s' lacks '%s'", key, v, why, want);
}

static int
validate(struct config *c, char *why, size_t len)
{
	return program_set_validate(&c->programs, c->request_timeout, why, len);
}

static struct program *
prog(struct config *c, const char *name)
{
	for (unsigned i = 0; i < c->programs.n; i++)
		if (strcmp(c->programs.list[i].name, name) == 0)
			return &c->programs.list[i];
	fail_msg("no program %s", name);
	return NULL;
}

/* A validated program "t" running `sh -c script` (spaces and all). */
static struct program *
sh_program(struct config *c, const char *script)
{
	char why[400];
	struct program *p;

	config_init(c);
	assert_int_equal(set(c, "t", "match", "prefix:/t/"), 0);
	assert_int_equal(set(c, "t", "argv", "sh -c SCRIPT"), 0);
	p = prog(c, "t");
	free(p->argv[2]);
	p->argv[2] = strdup(script);
	assert_int_equal(validate(c, why, sizeof(why)), 0);
	return p;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own */
}

static void
assert_no_children(void)
{
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* A response into memory, as the worker would hand it (64 KiB hold). */
struct out {
	struct membuf m;
	struct sink raw;
	struct response r;
	unsigned char hold[64 * 1024];
	struct err e;
};

static struct out *
out_new(void)
{
	struct out *o = calloc(1, sizeof(*o));

	membuf_init(&o->m);
	sink_init_membuf(&o->raw, &o->m);
	response_init(&o->r, &o->raw, false, o->hold, sizeof(o->hold));
	err_init(&o->e);
	return o;
}

static void
out_free(struct out *o)
{
	membuf_cleanup(&o->m);
	free(o);
}

/* Everything written, as a NUL-terminated copy (static). */
static const char *
out_all(struct out *o)
{
	static char text[1 << 20];
	size_t n = o->m.len < sizeof(text) - 1 ? o->m.len : sizeof(text) - 1;

	memcpy(text, o->m.data, n);
	text[n] = '\0';
	return text;
}

/* The body after the header block (NUL-terminated copy, static). */
static const char *
out_body(struct out *o, size_t *len)
{
	static char text[1 << 20];
	const char *b;
	size_t n = o->m.len < sizeof(text) - 1 ? o->m.len : sizeof(text) - 1;

	memcpy(text, o->m.data, n);
	text[n] = '\0';
	b = strstr(text, "\r\n\r\n");
	assert_non_null(b);
	if (len)
		*len = n - (size_t)(b + 4 - text);
	return b + 4;
}

/* Runs p with no parameters and file fd (or -1) into o; the response is
 * ended when the run succeeded. */
static int
run(struct program *p, int fd, struct out *o)
{
	const char *values[PROG_MAX_PARAMS] = { 0 };
	char **argv;
	int rc;

	assert_int_equal(program_argv(p, values, p->uses_file ? PROG_FILE_ARG :
	    NULL, &argv, &o->e), 0);
	rc = program_run(p, argv, fd, -1, &o->r, &o->e);
	free(argv);
	if (rc == 0)
		assert_int_equal(response_end(&o->r), 0);
	return rc;
}

/* ------------------------------------------------------------ config */

static void
test_argv_is_split_and_resolved_at_load(void **state)
{
	struct config c;
	struct program *p;

	(void)state;
	config_init(&c);
	assert_int_equal(set(&c, "cat", "argv", "cat  -u\t{file}"), 0);
	p = prog(&c, "cat");
	assert_int_equal(p->argc, 3);
	assert_string_equal(p->argv[0], "cat");
	assert_string_equal(p->argv[1], "-u");
	assert_string_equal(p->argv[2], "{file}");
	assert_null(p->argv[3]);
	assert_true(p->path[0] == '/');
	assert_non_null(strstr(p->path, "/cat"));
	assert_int_equal(access(p->path, X_OK), 0);
	/* An absolute path is kept as given. */
	assert_int_equal(set(&c, "cat", "argv", "/bin/sh -c x"), 0);
	assert_string_equal(p->path, "/bin/sh");
	config_cleanup(&c);
}

static void
test_argv_refusals(void **state)
{
	struct config c;

	(void)state;
	config_init(&c);
	refused(&c, "x", "argv", "no-such-program-mediafcgi {file}", "not found in PATH");
	refused(&c, "x", "argv", "./bin/tool", "absolute path");
	refused(&c, "x", "argv", "/etc/passwd", "not an executable");
	refused(&c, "x", "argv", "/", "not an executable");
	refused(&c, "x", "argv", "{file} a", "placeholder");
	refused(&c, "x", "argv", "   ", "empty");
	refused(&c, "Bad Name", "argv", "cat", "program name");
	config_cleanup(&c);
}

static void
test_match_syntax(void **state)
{
	struct config c;
	struct program *p;

	(void)state;
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/convert/"), 0);
	p = prog(&c, "a");
	assert_int_equal(p->match, PROG_MATCH_PREFIX);
	assert_string_equal(p->prefix, "/convert");
	assert_int_equal(set(&c, "a", "match", "ext:.CR2, .nef"), 0);
	assert_int_equal(p->match, PROG_MATCH_EXT);
	assert_int_equal(p->n_exts, 2);
	assert_string_equal(p->exts[0], ".cr2");
	assert_string_equal(p->exts[1], ".nef");
	refused(&c, "a", "match", "prefix:/", "prefix:/PATH/");
	refused(&c, "a", "match", "prefix:convert/", "prefix:/PATH/");
	refused(&c, "a", "match", "prefix:/a/../b/", "prefix:/PATH/");
	refused(&c, "a", "match", "prefix:/a%2f/", "prefix:/PATH/");
	refused(&c, "a", "match", "ext:cr2", "bad extension");
	refused(&c, "a", "match", "ext:", "no extension");
	refused(&c, "a", "match", "regex:.*", "expected prefix");
	config_cleanup(&c);
}

static void
test_param_declarations(void **state)
{
	struct config c;
	struct program *p;

	(void)state;
	config_init(&c);
	assert_int_equal(set(&c, "a", "param.q", "int 1 100 75"), 0);
	assert_int_equal(set(&c, "a", "param.t", "int -5 5"), 0);
	assert_int_equal(set(&c, "a", "param.fmt", "enum jpeg|png|webp png"), 0);
	assert_int_equal(set(&c, "a", "param.text", "string 64 hello"), 0);
	assert_int_equal(set(&c, "a", "param.req", "string 8"), 0);
	p = prog(&c, "a");
	assert_int_equal(p->n_params, 5);
	assert_int_equal(p->params[0].type, PROG_INT);
	assert_int_equal(p->params[0].min, 1);
	assert_int_equal(p->params[0].max, 100);
	assert_string_equal(p->params[0].def, "75");
	assert_null(p->params[1].def);	/* required */
	assert_int_equal(p->params[1].min, -5);
	assert_int_equal(p->params[2].type, PROG_ENUM);
	assert_string_equal(p->params[2].choices, "jpeg|png|webp");
	assert_string_equal(p->params[2].def, "png");
	assert_int_equal(p->params[3].type, PROG_STRING);
	assert_int_equal(p->params[3].max, 64);

	refused(&c, "a", "param.x", "int 1 100 101", "default '101' must be from 1 to 100");
	refused(&c, "a", "param.x", "int 10 1", "expected 'int MIN MAX");
	refused(&c, "a", "param.x", "int 1 100 50 extra", "expected 'int MIN MAX");
	refused(&c, "a", "param.x", "int one 100", "expected 'int MIN MAX");
	refused(&c, "a", "param.x", "enum a|b c", "default 'c' must be one of a|b");
	refused(&c, "a", "param.x", "enum a||b", "expected");
	refused(&c, "a", "param.x", "enum a;b", "expected");
	refused(&c, "a", "param.x", "string 8 -rf", "must not start with '-'");
	refused(&c, "a", "param.x", "float 1 2", "expected");
	refused(&c, "a", "param.q", "int 1 2", "given twice");
	refused(&c, "a", "param.file", "int 1 2", "not 'file'");
	refused(&c, "a", "param.Q", "int 1 2", "a-z");
	config_cleanup(&c);
}

static void
test_validate_placeholders(void **state)
{
	struct config c;
	char why[400];

	(void)state;
	/* A placeholder nobody declared. */
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "cat -q{q} {file}"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "unknown placeholder"));
	config_cleanup(&c);
	/* A parameter nobody uses. */
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "cat {file}"), 0);
	assert_int_equal(set(&c, "a", "param.q", "int 1 2 1"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "param.q is not used"));
	config_cleanup(&c);
	/* An unmatched brace; literal braces doubled are fine. */
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "cat {file"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), -1);
	assert_int_equal(set(&c, "a", "argv", "cat {{x}} {file}"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	assert_true(prog(&c, "a")->uses_file);
	config_cleanup(&c);
	/* No match, no argv, ext without a file. */
	config_init(&c);
	assert_int_equal(set(&c, "a", "argv", "cat"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "match is required"));
	assert_int_equal(set(&c, "a", "match", "ext:.raw"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "needs {file}"));
	assert_int_equal(set(&c, "a", "stdin", "file"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	config_cleanup(&c);
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "argv is required"));
	config_cleanup(&c);
}

static void
test_timeout_is_below_request_timeout(void **state)
{
	struct config c;
	char why[400];

	(void)state;
	config_init(&c);	/* request_timeout 60 */
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "cat"), 0);
	assert_int_equal(set(&c, "a", "timeout", "60"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "below [server] request_timeout 60"));
	assert_int_equal(set(&c, "a", "timeout", "59"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	refused(&c, "a", "timeout", "0", "timeout");
	refused(&c, "a", "timeout", "5s", "timeout");
	config_cleanup(&c);
	/* Unset: 30 s, or just below a smaller request_timeout. */
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "cat"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	assert_int_equal(prog(&c, "a")->timeout, 30);
	prog(&c, "a")->timeout = 0;
	c.request_timeout = 10;
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	assert_int_equal(prog(&c, "a")->timeout, 9);
	prog(&c, "a")->timeout = 0;
	c.request_timeout = 1;
	assert_int_equal(validate(&c, why, sizeof(why)), -1);
	config_cleanup(&c);
}

static void
test_other_keys(void **state)
{
	struct config c;
	struct program *p;

	(void)state;
	config_init(&c);
	assert_int_equal(set(&c, "a", "max_output", "100M"), 0);
	p = prog(&c, "a");
	assert_true(p->max_output == 100ull << 20);
	assert_int_equal(set(&c, "a", "max_output", "12345"), 0);
	assert_true(p->max_output == 12345);
	assert_int_equal(set(&c, "a", "content_type", "video/webm"), 0);
	assert_string_equal(p->content_type, "video/webm");
	assert_int_equal(set(&c, "a", "hold_ms", "0"), 0);
	assert_int_equal(p->hold_ms, 0);
	refused(&c, "a", "content_type", "webm", "media type");
	refused(&c, "a", "max_output", "-1", "max_output");
	refused(&c, "a", "stdin", "pipe", "null or file");
	refused(&c, "a", "shell", "yes", "unknown key 'shell'");
	config_cleanup(&c);
}

/* The accept bit of lib/sniff.h's type t. */
#define BIT(t)	(1u << (t))

static void
test_accept_lists(void **state)
{
	struct config c;
	struct program *p;
	char why[400];
	unsigned media = 0;

	(void)state;
	for (int t = MT_JPEG; t <= MT_MPEGTS; t++)
		media |= BIT(t);
	/* Not given: what the media routes read, and nothing else. */
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "cat {file}"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	p = prog(&c, "a");
	assert_int_equal(p->accept, media);
	assert_false(p->accept & BIT(MT_PNM));
	assert_false(p->accept & BIT(MT_UNKNOWN));
	assert_false(p->accept_any);

	assert_int_equal(set(&c, "a", "accept", "jpeg, png"), 0);
	assert_int_equal(p->accept, BIT(MT_JPEG) | BIT(MT_PNG));
	assert_int_equal(set(&c, "a", "accept", "JPG,webm mov"), 0);
	assert_int_equal(p->accept, BIT(MT_JPEG) | BIT(MT_MKV) | BIT(MT_MP4));
	assert_int_equal(set(&c, "a", "accept", "video"), 0);
	assert_int_equal(p->accept, BIT(MT_MP4) | BIT(MT_MKV) | BIT(MT_AVI) |
	    BIT(MT_MPEGTS));
	assert_int_equal(set(&c, "a", "accept", "image,pnm"), 0);
	assert_int_equal(p->accept, BIT(MT_JPEG) | BIT(MT_PNG) | BIT(MT_GIF) |
	    BIT(MT_WEBP) | BIT(MT_TIFF) | BIT(MT_HEIF) | BIT(MT_JXL) |
	    BIT(MT_PNM));
	assert_int_equal(set(&c, "a", "accept", "media"), 0);
	assert_int_equal(p->accept, media);
	/* Given, validate keeps it. */
	assert_int_equal(set(&c, "a", "accept", "gif"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	assert_int_equal(p->accept, BIT(MT_GIF));
	assert_int_equal(set(&c, "a", "accept", "any"), 0);
	assert_true(p->accept_any);
	assert_int_equal(p->accept, 0);

	refused(&c, "a", "accept", "svg", "accept: unknown type 'svg' (known: "
	    "jpeg, png, gif, webp, tiff, heif, jxl, mp4, mkv, avi, mpegts, pnm; "
	    "image, video, media; or any)");
	refused(&c, "a", "accept", "jpeg,hls", "unknown type 'hls'");
	refused(&c, "a", "accept", "jpeg;png", "unknown type 'jpeg;png'");
	refused(&c, "a", "accept", "jpeg,any", "any alone");
	refused(&c, "a", "accept", ", ", "any alone");
	/* A refused line changes nothing. */
	assert_true(p->accept_any);
	config_cleanup(&c);

	/* Only with a file: without one it would say nothing. */
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "echo hello"), 0);
	assert_int_equal(set(&c, "a", "accept", "jpeg"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "program a: accept needs {file} in argv or "
	    "stdin = file"));
	assert_int_equal(set(&c, "a", "stdin", "file"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	config_cleanup(&c);
}

/* A config file's refusal names the file and the line. */
static void
test_bad_lines_are_refused_with_their_line(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		{ "accept = jpeg,svg", "bad.conf:6: program x: accept: unknown "
		    "type 'svg'" },
		{ "accept = any,png", "bad.conf:6: program x: accept: expected "
		    "types" },
		{ "param.s = string 9 charset=ascii", "bad.conf:6: program x: "
		    "param.s: charset: expected alnum, word, text, any or [SET]" },
		{ "param.s = string 9 charset=[z-a]", "bad.conf:6: program x: "
		    "param.s: charset" },
		{ "param.s = string 9 a.b charset=word", "bad.conf:6: program x: "
		    "param.s: default 'a.b' '.' is not in charset=word" },
	};
	char path[] = "/tmp/mediafcgi-test-XXXXXX", file[64], err[600];

	(void)state;
	assert_non_null(mkdtemp(path));
	snprintf(file, sizeof(file), "%s/bad.conf", path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct config c;
		FILE *f = fopen(file, "w");

		assert_non_null(f);
		fprintf(f, "[media]\nroot = /tmp\n[program x]\nmatch = "
		    "prefix:/x/\nargv = cat {file} {s}\n%s\n", cases[i].line);
		fclose(f);
		config_init(&c);
		err[0] = '\0';
		assert_int_equal(config_load(&c, file, err, sizeof(err)), -1);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("'%s': '%s' lacks '%s'", cases[i].line, err,
			    cases[i].want);
		config_cleanup(&c);
	}
	unlink(file);
	rmdir(path);
}

/* Parses one value of the only parameter of p: 0, or -1 with e's message
 * starting with want. */
static void
one_value(const struct program *p, const char *query, const char *want)
{
	const char *v[PROG_MAX_PARAMS];
	char buf[256];
	struct err e;
	int rc;

	err_init(&e);
	rc = program_params(p, query, v, buf, sizeof(buf), &e);
	if (want == NULL && rc < 0)
		fail_msg("'%s' refused: %s", query, e.msg);
	if (want != NULL && (rc >= 0 || e.kind != ERR_BAD_PARAM ||
	    strncmp(e.msg, want, strlen(want)) != 0))
		fail_msg("'%s': rc %d, '%s' does not start with '%s'", query, rc,
		    e.msg, want);
}

static void
test_string_charsets(void **state)
{
	struct config c;
	char why[400];

	(void)state;
	config_init(&c);
	assert_int_equal(set(&c, "any", "param.s", "string 40"), 0);
	assert_int_equal(set(&c, "word", "param.s", "string 40 charset=word"), 0);
	assert_int_equal(set(&c, "alnum", "param.s", "string 40 x charset=alnum"), 0);
	assert_int_equal(set(&c, "text", "param.s", "string 40 charset=text"), 0);
	assert_int_equal(set(&c, "set", "param.s",
	    "string 40 Hi, there. charset=[A-Za-z0-9 ,.]"), -1);	/* 2 words */
	assert_int_equal(set(&c, "set", "param.s",
	    "string 40 Hi charset=[A-Za-z0-9 ,.-]"), 0);
	for (unsigned i = 0; i < c.programs.n; i++) {
		assert_int_equal(set(&c, c.programs.list[i].name, "match", "prefix:/p/"), 0);
		assert_int_equal(set(&c, c.programs.list[i].name, "argv", "echo {s}"), 0);
	}
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	assert_null(prog(&c, "any")->params[0].charset);
	assert_string_equal(prog(&c, "set")->params[0].charset, "[A-Za-z0-9 ,.-]");
	assert_string_equal(prog(&c, "set")->params[0].def, "Hi");

	/* The default: every byte but control characters; no leading '-'.
	 * What a program makes of the rest is its own business. */
	one_value(prog(&c, "any"), "s=%40/etc/passwd", NULL);
	one_value(prog(&c, "any"), "s=text:/etc/passwd", NULL);
	one_value(prog(&c, "any"), "s=file:x", NULL);
	one_value(prog(&c, "any"), "s=%2Bprofile", NULL);
	one_value(prog(&c, "any"), "s=../../x%20y", NULL);
	one_value(prog(&c, "any"), "s=%C3%A9%FF", NULL);
	one_value(prog(&c, "any"), "s=-x", "s: must not start with '-'");
	one_value(prog(&c, "any"), "s=a%09b", "s: control characters are not allowed");
	one_value(prog(&c, "any"), "s=a%7Fb", "s: control characters are not allowed");

	one_value(prog(&c, "word"), "s=Ab_9-x", NULL);
	one_value(prog(&c, "word"), "s=a%20b", "s: ' ' is not in charset=word, got 'a b'");
	one_value(prog(&c, "word"), "s=a:b", "s: ':' is not in charset=word");
	one_value(prog(&c, "word"), "s=%40x", "s: '@' is not in charset=word");
	one_value(prog(&c, "word"), "s=-x", "s: must not start with '-'");
	one_value(prog(&c, "word"), "s=%C3%A9", "s: byte 0xc3 is not in charset=word");

	one_value(prog(&c, "alnum"), "s=Ab9", NULL);
	one_value(prog(&c, "alnum"), "s=a_b", "s: '_' is not in charset=alnum");

	one_value(prog(&c, "text"), "s=Hello,%20world!%20a@b%20c%2Bd", NULL);
	one_value(prog(&c, "text"), "s=%40/etc/passwd", "s: must not start with '@'");
	one_value(prog(&c, "text"), "s=%2Bprofile", "s: must not start with '+'");
	one_value(prog(&c, "text"), "s=-x", "s: must not start with '-'");
	one_value(prog(&c, "text"), "s=caf%C3%A9", "s: byte 0xc3 is not in charset=text");

	one_value(prog(&c, "set"), "s=Hello,%20world.", NULL);
	one_value(prog(&c, "set"), "s=a-b", NULL);
	one_value(prog(&c, "set"), "s=-b", "s: must not start with '-'");
	one_value(prog(&c, "set"), "s=a;b", "s: ';' is not in charset=[A-Za-z0-9 ,.-]");
	one_value(prog(&c, "set"), "s=a/b", "s: '/' is not in charset");
	config_cleanup(&c);

	config_init(&c);
	refused(&c, "a", "param.s", "string 8 charset=", "charset: expected");
	refused(&c, "a", "param.s", "string 8 charset=Word", "charset: expected");
	refused(&c, "a", "param.s", "string 8 charset=[]", "charset: expected");
	refused(&c, "a", "param.s", "string 8 charset=[a-z", "charset: expected");
	refused(&c, "a", "param.s", "string 8 charset=[z-a]", "charset: expected");
	refused(&c, "a", "param.s", "string 8 charset=[\x01-z]", "charset: expected");
	refused(&c, "a", "param.s", "string 8 charset=[a-\xc3]", "charset: expected");
	refused(&c, "a", "param.s", "string 8 @x charset=text", "default '@x' must "
	    "not start with '@'");
	refused(&c, "a", "param.n", "int 1 5 charset=word", "charset= is for "
	    "string parameters");
	refused(&c, "a", "param.n", "enum a|b charset=word", "charset= is for "
	    "string parameters");
	refused(&c, "a", "param.s", "string charset=word", "expected 'int MIN MAX");
	assert_int_equal(c.programs.n, 1);
	assert_int_equal(c.programs.list[0].n_params, 0);
	config_cleanup(&c);
}

static void
test_env_is_exactly_what_is_declared(void **state)
{
	struct config c;
	struct program *p;
	char why[400];

	(void)state;
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "env"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	p = prog(&c, "a");
	/* Nothing declared: an empty environment, not the worker's. */
	assert_non_null(p->env);
	assert_null(p->env[0]);
	assert_int_equal(set(&c, "a", "env.LANG", "C.UTF-8"), 0);
	assert_int_equal(set(&c, "a", "env.MAGICK_TMPDIR", "/tmp/x y"), 0);
	assert_int_equal(p->n_env, 2);
	assert_string_equal(p->env[0], "LANG=C.UTF-8");
	assert_string_equal(p->env[1], "MAGICK_TMPDIR=/tmp/x y");
	assert_null(p->env[2]);
	refused(&c, "a", "env.LANG", "C", "given twice");
	refused(&c, "a", "env.1X", "C", "variable name");
	refused(&c, "a", "env.A-B", "C", "variable name");
	refused(&c, "a", "env.", "C", "variable name");
	config_cleanup(&c);
}

/* ------------------------------------------------------------ match */

static void
test_match_uri(void **state)
{
	struct config c;
	char why[400];

	(void)state;
	config_init(&c);
	free(c.mount);
	c.mount = strdup("/media");
	assert_int_equal(set(&c, "conv", "match", "prefix:/convert/"), 0);
	assert_int_equal(set(&c, "conv", "argv", "cat {file}"), 0);
	assert_int_equal(set(&c, "raw", "match", "ext:.cr2"), 0);
	assert_int_equal(set(&c, "raw", "argv", "cat {file}"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);

	/* The router's decoded path (path_decode()), never the raw URI. */
	assert_ptr_equal(program_match(&c, "/convert/a.jpg"), prog(&c, "conv"));
	assert_ptr_equal(program_match(&c, "/convert/sub/a.jpg"), prog(&c, "conv"));
	assert_ptr_equal(program_match(&c, "/convert"), prog(&c, "conv"));
	assert_null(program_match(&c, "/convertx/a.jpg"));
	assert_null(program_match(&c, "/media/convert/a.jpg"));
	assert_null(program_match(&c, "/a.jpg"));

	assert_ptr_equal(program_match(&c, "/media/a.CR2"), prog(&c, "raw"));
	assert_ptr_equal(program_match(&c, "/media/d/a.cr2"), prog(&c, "raw"));
	assert_null(program_match(&c, "/other/a.cr2"));
	assert_null(program_match(&c, "/mediax/a.cr2"));
	assert_null(program_match(&c, "/media/a.cr2x"));
	assert_null(program_match(&c, "/media/a.jpg"));
	assert_null(program_match(&c, "/media/"));
	config_cleanup(&c);
}

/* ------------------------------------------------------------ params */

struct pfix {
	struct config c;
	struct program *p;
};

static int
psetup(void **state)
{
	struct pfix *f = calloc(1, sizeof(*f));
	char why[400];

	config_init(&f->c);
	assert_int_equal(set(&f->c, "gm", "match", "prefix:/gm/"), 0);
	assert_int_equal(set(&f->c, "gm", "argv",
	    "gm convert {file} -resize {w}x{h} -quality {q} {fmt}:- {text}"), 0);
	assert_int_equal(set(&f->c, "gm", "param.w", "int 1 4000 300"), 0);
	assert_int_equal(set(&f->c, "gm", "param.h", "int 1 4000 200"), 0);
	assert_int_equal(set(&f->c, "gm", "param.q", "int 1 100 75"), 0);
	assert_int_equal(set(&f->c, "gm", "param.fmt", "enum jpeg|png jpeg"), 0);
	assert_int_equal(set(&f->c, "gm", "param.text", "string 32 none"), 0);
	assert_int_equal(validate(&f->c, why, sizeof(why)), 0);
	f->p = prog(&f->c, "gm");
	*state = f;
	return 0;
}

static int
pteardown(void **state)
{
	struct pfix *f = *state;

	config_cleanup(&f->c);
	free(f);
	return 0;
}

/* Parses query: the return code, values and e. */
static int
params(struct pfix *f, const char *query, const char *values[], char *buf,
    size_t len, struct err *e)
{
	err_init(e);
	return program_params(f->p, query, values, buf, len, e);
}

static void
test_params_values_and_defaults(void **state)
{
	struct pfix *f = *state;
	const char *v[PROG_MAX_PARAMS];
	char buf[2100];
	struct err e;

	assert_int_equal(params(f, "w=640&q=007&&text=a%20b+c", v, buf,
	    sizeof(buf), &e), 0);
	assert_string_equal(v[0], "640");
	assert_string_equal(v[1], "200");	/* default */
	assert_string_equal(v[2], "7");		/* normalised */
	assert_string_equal(v[3], "jpeg");
	assert_string_equal(v[4], "a b+c");	/* '+' is not a space */
	assert_int_equal(params(f, NULL, v, buf, sizeof(buf), &e), 0);
	assert_string_equal(v[0], "300");
	assert_int_equal(params(f, "fmt=png&h=4000&w=1", v, buf, sizeof(buf), &e), 0);
	assert_string_equal(v[3], "png");
	assert_string_equal(v[1], "4000");
	assert_string_equal(v[0], "1");
	/* A '%' that starts no escape is itself, as browsers send it. */
	assert_int_equal(params(f, "text=50%&q=9", v, buf, sizeof(buf), &e), 0);
	assert_string_equal(v[4], "50%");
	assert_int_equal(params(f, "text=%zz", v, buf, sizeof(buf), &e), 0);
	assert_string_equal(v[4], "%zz");
}

/* The parameters' failure: ERR_BAD_PARAM and a message starting with want. */
static void
bad_query(struct pfix *f, const char *query, const char *want)
{
	const char *v[PROG_MAX_PARAMS];
	char buf[2100];
	struct err e;

	assert_true(params(f, query, v, buf, sizeof(buf), &e) < 0);
	assert_int_equal(e.kind, ERR_BAD_PARAM);
	if (strncmp(e.msg, want, strlen(want)) != 0)
		fail_msg("query '%s': message '%s' does not start with '%s'",
		    query, e.msg, want);
}

static void
test_params_refusals_name_the_parameter(void **state)
{
	struct pfix *f = *state;

	bad_query(f, "size=300x200", "size: not a parameter of this program "
	    "(it takes w, h, q, fmt, text)");
	bad_query(f, "q=1;touch /tmp/x", "q: expected a whole number");
	bad_query(f, "q=0", "q: must be from 1 to 100, got '0'");
	bad_query(f, "q=101", "q: must be from 1 to 100");
	bad_query(f, "q=-1", "q: must be from 1 to 100");
	bad_query(f, "q=1e2", "q: expected a whole number");
	bad_query(f, "q= 5", "q: expected a whole number");
	bad_query(f, "q=", "q: expected a whole number");
	bad_query(f, "q", "q: expected a whole number");
	bad_query(f, "q=99999999999999999999999", "q: expected a whole number");
	bad_query(f, "q=5&q=6", "q: given twice");
	bad_query(f, "fmt=gif", "fmt: must be one of jpeg|png");
	bad_query(f, "fmt=JPEG", "fmt: must be one of");
	bad_query(f, "text=-rf", "text: must not start with '-'");
	bad_query(f, "text=a%0ab", "text: control characters");
	bad_query(f, "text=a%00b", "text: NUL");
	bad_query(f, "text=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "text: expected 1 to 32 bytes");
	bad_query(f, "%71=5&q=6", "q: given twice");	/* names are decoded */
	bad_query(f, "file=/etc/passwd", "file: not a parameter");
}

static void
test_required_parameter(void **state)
{
	struct config c;
	const char *v[PROG_MAX_PARAMS];
	char buf[100], why[400];
	struct err e;

	(void)state;
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "echo {n}"), 0);
	assert_int_equal(set(&c, "a", "param.n", "int 1 9"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	err_init(&e);
	assert_true(program_params(prog(&c, "a"), "", v, buf, sizeof(buf), &e) < 0);
	assert_string_equal(e.msg, "n: required");
	config_cleanup(&c);
}

static void
test_expand_placeholders(void **state)
{
	struct pfix *f = *state;
	const char *v[PROG_MAX_PARAMS] = { "300", "200", "75", "jpeg", "x" };
	char out[64];

	assert_int_equal(program_expand(f->p, "{w}x{h}", v, NULL, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "300x200");
	assert_int_equal(program_expand(f->p, "{{w}}={w}", v, NULL, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "{w}=300");
	assert_int_equal(program_expand(f->p, "-i={file}", v, PROG_FILE_ARG, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "-i=/proc/self/fd/3");
	assert_int_equal(program_expand(f->p, "{file}", v, NULL, out,
	    sizeof(out)), -1);
	assert_int_equal(program_expand(f->p, "{nope}", v, NULL, out,
	    sizeof(out)), -1);
	assert_int_equal(program_expand(f->p, "a}b", v, NULL, out, sizeof(out)), -1);
	assert_int_equal(program_expand(f->p, "{w", v, NULL, out, sizeof(out)), -1);
	/* Never longer than the room. */
	assert_int_equal(program_expand(f->p, "{w}x{h}", v, NULL, out, 7), -1);
	assert_int_equal(program_expand(f->p, "{w}x{h}", v, NULL, out, 8), 0);
}

static void
test_argv_keeps_each_value_in_one_element(void **state)
{
	struct pfix *f = *state;
	const char *v[PROG_MAX_PARAMS];
	char buf[2100], **argv;
	struct err e;
	int n;

	assert_int_equal(params(f, "text=a%20b;c|d%20$(id)%20`x`%20%3E%20/tmp/y",
	    v, buf, sizeof(buf), &e), 0);
	assert_int_equal(program_argv(f->p, v, PROG_FILE_ARG, &argv, &e), 0);
	for (n = 0; argv[n]; n++)
		;
	assert_int_equal(n, 9);
	assert_string_equal(argv[0], "gm");
	assert_string_equal(argv[1], "convert");
	assert_string_equal(argv[2], "/proc/self/fd/3");
	assert_string_equal(argv[3], "-resize");
	assert_string_equal(argv[4], "300x200");
	assert_string_equal(argv[6], "75");
	assert_string_equal(argv[7], "jpeg:-");
	assert_string_equal(argv[8], "a b;c|d $(id) `x` > /tmp/y");
	free(argv);
}

/* ------------------------------------------------------------ runs */

static void
test_run_streams_stdout(void **state)
{
	struct config c;
	struct program *p = sh_program(&c, "printf 'hello\\n'; printf world");
	struct out *o = out_new();
	int fds = count_fds();
	size_t n;

	(void)state;
	assert_int_equal(run(p, -1, o), 0);
	assert_string_equal(out_body(o, &n), "hello\nworld");
	/* Small and quick: held whole, so it has a length. */
	assert_non_null(strstr(out_all(o), "Content-Length: 11\r\n"));
	assert_int_equal(count_fds(), fds);
	assert_no_children();
	out_free(o);
	config_cleanup(&c);
}

/* Runs script, expects a clean failure (nothing committed) with want. */
static void
fails_cleanly(const char *script, const char *want)
{
	struct config c;
	struct program *p = sh_program(&c, script);
	struct out *o = out_new();
	int fds = count_fds();

	assert_true(run(p, -1, o) < 0);
	assert_int_equal(o->e.kind, ERR_BAD_GATEWAY);
	if (strstr(o->e.msg, want) == NULL)
		fail_msg("'%s': '%s' lacks '%s'", script, o->e.msg, want);
	/* The client's message never carries what the program said. */
	assert_null(strstr(o->e.msg, "SECRET"));
	assert_false(o->r.committed);
	assert_int_equal(o->m.len, 0);
	assert_int_equal(count_fds(), fds);
	assert_no_children();
	out_free(o);
	config_cleanup(&c);
}

static void
test_run_failures_before_output(void **state)
{
	(void)state;
	fails_cleanly("echo SECRET >&2; exit 3", "failed (exit status 3)");
	fails_cleanly("printf partial; echo SECRET >&2; exit 1", "exit status 1");
	fails_cleanly("kill -SEGV $$", "killed by SIGSEGV");
	fails_cleanly("kill -9 $$", "killed by SIGKILL");
	fails_cleanly("true", "wrote nothing");
	fails_cleanly("exec 1>&-; sleep 0", "wrote nothing");
}

static void
test_run_cannot_start(void **state)
{
	struct config c;
	struct program *p = sh_program(&c, "true");
	struct out *o = out_new();

	(void)state;
	/* The file went away after the config was read. */
	free(p->path);
	p->path = strdup("/nonexistent/prog");
	assert_true(run(p, -1, o) < 0);
	assert_int_equal(o->e.kind, ERR_BAD_GATEWAY);
	assert_non_null(strstr(o->e.msg, "could not be started"));
	assert_no_children();
	out_free(o);
	config_cleanup(&c);
}

static void
test_run_timeout_kills_the_group(void **state)
{
	struct config c;
	/* A grandchild in the background too: the whole group goes. */
	struct program *p = sh_program(&c, "sleep 30 & sleep 30; wait");
	struct out *o = out_new();
	double t0 = clock_s(), dt;

	(void)state;
	p->timeout = 1;
	assert_true(run(p, -1, o) < 0);
	dt = clock_s() - t0;
	assert_int_equal(o->e.kind, ERR_BAD_GATEWAY);
	assert_non_null(strstr(o->e.msg, "timed out after 1 s"));
	assert_true(dt >= 0.9 && dt < 2.0);
	assert_no_children();
	out_free(o);
	config_cleanup(&c);
}

static void
test_run_timeout_ignoring_sigterm_gets_sigkill(void **state)
{
	struct config c;
	struct program *p = sh_program(&c, "trap '' TERM; while :; do sleep 0.05; done");
	struct out *o = out_new();
	double t0 = clock_s(), dt;

	(void)state;
	p->timeout = 1;
	assert_true(run(p, -1, o) < 0);
	dt = clock_s() - t0;
	assert_true(dt < 1.0 + PROG_KILL_GRACE_MS / 1000.0 + 0.5);
	assert_no_children();
	out_free(o);
	config_cleanup(&c);
}

static void
test_run_max_output(void **state)
{
	struct config c;
	struct program *p = sh_program(&c, "head -c 5000 /dev/zero");
	struct out *o = out_new();

	(void)state;
	p->max_output = 4096;
	assert_true(run(p, -1, o) < 0);
	assert_int_equal(o->e.kind, ERR_BAD_GATEWAY);
	assert_non_null(strstr(o->e.msg, "max_output"));
	assert_false(o->r.committed);	/* under the hold: still a clean 502 */
	out_free(o);
	config_cleanup(&c);
	/* At the limit exactly is fine. */
	p = sh_program(&c, "head -c 4096 /dev/zero");
	o = out_new();
	p->max_output = 4096;
	assert_int_equal(run(p, -1, o), 0);
	out_free(o);
	config_cleanup(&c);
}

static void
test_run_failure_after_commit_aborts(void **state)
{
	struct config c;
	struct program *p = sh_program(&c, "head -c 100000 /dev/zero; exit 1");
	struct out *o = out_new();

	(void)state;
	assert_true(run(p, -1, o) < 0);
	assert_true(o->r.committed);	/* past the 64 KiB hold */
	response_fail(&o->r, &o->e);
	assert_true(o->r.aborted);
	assert_no_children();
	out_free(o);
	config_cleanup(&c);
}

static void
test_hold_commits_a_slow_producer(void **state)
{
	struct config c;
	struct program *p = sh_program(&c, "printf a; sleep 0.5; printf b");
	struct out *o = out_new();

	(void)state;
	p->hold_ms = 100;
	assert_int_equal(run(p, -1, o), 0);
	/* Committed after 100 ms, before the program ended: no length. */
	assert_null(strstr(out_all(o), "Content-Length"));
	assert_string_equal(out_body(o, NULL), "ab");
	out_free(o);
	config_cleanup(&c);
	/* A longer hold keeps the whole answer: a length. */
	p = sh_program(&c, "printf a; sleep 0.3; printf b");
	o = out_new();
	p->hold_ms = 5000;
	assert_int_equal(run(p, -1, o), 0);
	assert_non_null(strstr(out_all(o), "Content-Length: 2\r\n"));
	out_free(o);
	config_cleanup(&c);
}

/* The descriptors of `ls -l /proc/self/fd`, without ls's own directory. */
static void
child_fds(const char *body, char *out, size_t len)
{
	const char *line = body;

	out[0] = '\0';
	while ((line = strchr(line, '\n')) != NULL) {
		const char *arrow, *sp;
		char fd[16];

		line++;
		if ((arrow = strstr(line, " -> ")) == NULL)
			continue;
		if (strncmp(arrow + 4, "/proc/", 6) == 0 &&
		    strncmp(strchr(arrow + 4, '\n') - 3, "/fd", 3) == 0)
			continue;
		for (sp = arrow; sp > line && sp[-1] != ' '; sp--)
			;
		snprintf(fd, sizeof(fd), "%.*s ", (int)(arrow - sp), sp);
		strncat(out, fd, len - strlen(out) - 1);
	}
}

static void
test_child_sees_only_its_descriptors_and_env(void **state)
{
	struct config c;
	struct out *o;
	char why[400], fds[256];
	int extra, filefd;

	(void)state;
	/* Descriptors the worker holds without close-on-exec must not leak. */
	extra = open("/dev/null", O_RDONLY);
	assert_true(extra > 2);

	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "ls -l /proc/self/fd"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	o = out_new();
	assert_int_equal(run(prog(&c, "a"), -1, o), 0);
	child_fds(out_body(o, NULL), fds, sizeof(fds));
	assert_string_equal(fds, "0 1 2 ");
	assert_non_null(strstr(out_body(o, NULL), "0 -> /dev/null"));
	out_free(o);
	config_cleanup(&c);

	/* With a file: fd 3 is it, and {file} names it. */
	filefd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "ls -l --ignore={file} /proc/self/fd"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	o = out_new();
	assert_int_equal(run(prog(&c, "a"), filefd, o), 0);
	child_fds(out_body(o, NULL), fds, sizeof(fds));
	assert_string_equal(fds, "0 1 2 3 ");
	out_free(o);
	config_cleanup(&c);

	/* env: exactly the declared variables, not even PATH. */
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "env"), 0);
	assert_int_equal(set(&c, "a", "env.A", "1"), 0);
	assert_int_equal(set(&c, "a", "env.B", "two words"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	o = out_new();
	assert_int_equal(run(prog(&c, "a"), -1, o), 0);
	assert_string_equal(out_body(o, NULL), "A=1\nB=two words\n");
	out_free(o);
	config_cleanup(&c);
	close(extra);
	close(filefd);
	assert_no_children();
}

static void
test_child_hardening(void **state)
{
	struct config c;
	struct program *p = sh_program(&c, "pwd; grep -E '^(NoNewPrivs|SigIgn|SigBlk)' "
	    "/proc/self/status; ulimit -c");
	struct out *o = out_new();
	const char *body, *ign;
	sigset_t block, old;

	(void)state;
	sigemptyset(&block);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	assert_int_equal(run(p, -1, o), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* cwd /, no signal blocked or ignored (the worker blocks some and
	 * ignores SIGPIPE: so does this test), no new privileges, no core.
	 * glibc keeps 32 and 33 to itself: whatever they were, they stay. */
	body = out_body(o, NULL);
	assert_memory_equal(body, "/\nSigBlk:\t0000000000000000\n", 27);
	ign = strstr(body, "SigIgn:\t");
	assert_non_null(ign);
	assert_int_equal(strtoull(ign + 8, NULL, 16) & 0x7fffffffull, 0);
	assert_non_null(strstr(body, "\nNoNewPrivs:\t1\n0\n"));
	out_free(o);
	config_cleanup(&c);
}

static void
test_file_as_argument_and_as_stdin(void **state)
{
	struct config c;
	struct out *o;
	char why[400];
	int fd;
	FILE *f = tmpfile();

	(void)state;
	fputs("file contents\n", f);
	fflush(f);
	fd = fileno(f);
	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "cat {file}"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	o = out_new();
	assert_int_equal(run(prog(&c, "a"), fd, o), 0);
	assert_string_equal(out_body(o, NULL), "file contents\n");
	out_free(o);
	config_cleanup(&c);

	config_init(&c);
	assert_int_equal(set(&c, "a", "match", "prefix:/a/"), 0);
	assert_int_equal(set(&c, "a", "argv", "cat"), 0);
	assert_int_equal(set(&c, "a", "stdin", "file"), 0);
	assert_int_equal(validate(&c, why, sizeof(why)), 0);
	o = out_new();
	/* The child reads through its own open: the offset is not shared. */
	assert_int_equal(run(prog(&c, "a"), fd, o), 0);
	assert_string_equal(out_body(o, NULL), "file contents\n");
	out_free(o);
	config_cleanup(&c);
	fclose(f);
	assert_no_children();
}

static void
test_stderr_is_drained_while_running(void **state)
{
	struct config c;
	/* 1 MiB of stderr: more than a pipe holds; the run must not stall. */
	struct program *p = sh_program(&c,
	    "head -c 1048576 /dev/zero | tr '\\0' x >&2; printf done");
	struct out *o = out_new();

	(void)state;
	p->timeout = 10;
	assert_int_equal(run(p, -1, o), 0);
	assert_string_equal(out_body(o, NULL), "done");
	out_free(o);
	config_cleanup(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_is_split_and_resolved_at_load),
		cmocka_unit_test(test_argv_refusals),
		cmocka_unit_test(test_match_syntax),
		cmocka_unit_test(test_param_declarations),
		cmocka_unit_test(test_validate_placeholders),
		cmocka_unit_test(test_timeout_is_below_request_timeout),
		cmocka_unit_test(test_other_keys),
		cmocka_unit_test(test_env_is_exactly_what_is_declared),
		cmocka_unit_test(test_accept_lists),
		cmocka_unit_test(test_bad_lines_are_refused_with_their_line),
		cmocka_unit_test(test_string_charsets),
		cmocka_unit_test(test_match_uri),
		cmocka_unit_test_setup_teardown(test_params_values_and_defaults, psetup, pteardown),
		cmocka_unit_test_setup_teardown(test_params_refusals_name_the_parameter, psetup, pteardown),
		cmocka_unit_test(test_required_parameter),
		cmocka_unit_test_setup_teardown(test_expand_placeholders, psetup, pteardown),
		cmocka_unit_test_setup_teardown(test_argv_keeps_each_value_in_one_element, psetup, pteardown),
		cmocka_unit_test(test_run_streams_stdout),
		cmocka_unit_test(test_run_failures_before_output),
		cmocka_unit_test(test_run_cannot_start),
		cmocka_unit_test(test_run_timeout_kills_the_group),
		cmocka_unit_test(test_run_timeout_ignoring_sigterm_gets_sigkill),
		cmocka_unit_test(test_run_max_output),
		cmocka_unit_test(test_run_failure_after_commit_aborts),
		cmocka_unit_test(test_hold_commits_a_slow_producer),
		cmocka_unit_test(test_child_sees_only_its_descriptors_and_env),
		cmocka_unit_test(test_child_hardening),
		cmocka_unit_test(test_file_as_argument_and_as_stdin),
		cmocka_unit_test(test_stderr_is_drained_while_running),
	};

	return cmocka_run_group_tests_name("program", tests, NULL, NULL);
}
