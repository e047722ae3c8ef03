/*
 * program - [program NAME] routes: config, matching, parameters, argv
 * expansion, the child and the streaming loop. See program.h.
 */
#include "prog/program.h"
#include "req/pct.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http/http.h"
#include "proc/log.h"
#include "req/params.h"
#include "req/path.h"
#include "route/router.h"
#include "req/sniff.h"

#define ECHO_MAX	40	/* bytes of a client's text quoted back */
#define READ_CHUNK	(256 * 1024)	/* bytes read from the pipe at once */
#define PIPE_WANT	(1024 * 1024)	/* stdout pipe capacity asked for */
#define DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

/* ------------------------------------------------------------------ config */

static void
prog_free(struct program *p)
{
	free(p->name);
	free(p->prefix);
	for (unsigned i = 0; i < p->n_exts; i++)
		free(p->exts[i]);
	free(p->exts);
	for (unsigned i = 0; i < p->argc; i++)
		free(p->argv[i]);
	free(p->argv);
	free(p->path);
	for (unsigned i = 0; i < p->n_env; i++)
		free(p->env[i]);
	free(p->env);
	for (unsigned i = 0; i < p->n_params; i++) {
		free(p->params[i].name);
		free(p->params[i].choices);
		free(p->params[i].def);
		free(p->params[i].charset);
	}
	free(p->content_type);
	memset(p, 0, sizeof(*p));
}

void
program_config_free(struct config *c)
{
	for (unsigned i = 0; i < c->n_programs; i++)
		prog_free(&c->programs[i]);
	free(c->programs);
	c->programs = NULL;
	c->n_programs = 0;
}

static bool
is_name(const char *s, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n >= PROG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    strchr(extra, *s) == NULL)
			return false;
	return true;
}

/* The program called name, created on its first key. */
static struct program *
prog_get(struct config *c, const char *name, char *why, size_t len)
{
	struct program *grown;

	if (!is_name(name, "_-")) {
		snprintf(why, len, "program name '%.40s': use a-z, 0-9, _ and -", name);
		return NULL;
	}
	for (unsigned i = 0; i < c->n_programs; i++)
		if (strcmp(c->programs[i].name, name) == 0)
			return &c->programs[i];
	grown = realloc(c->programs, (c->n_programs + 1) * sizeof(*grown));
	if (grown == NULL)
		goto oom;
	c->programs = grown;
	memset(&grown[c->n_programs], 0, sizeof(*grown));
	if ((grown[c->n_programs].name = strdup(name)) == NULL)
		goto oom;
	grown[c->n_programs].hold_ms = PROG_DEFAULT_HOLD_MS;
	return &c->programs[c->n_programs++];
oom:
	snprintf(why, len, "out of memory");
	return NULL;
}

/* A whole number lo..hi, with an optional k, M or G (powers of 1024). */
static int
parse_size(const char *v, unsigned long long lo, unsigned long long hi,
    unsigned long long *out)
{
	unsigned long long x, mul = 1;
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		mul = 1ull << 10;
	else if (*end == 'M')
		mul = 1ull << 20;
	else if (*end == 'G')
		mul = 1ull << 30;
	if (mul != 1)
		end++;
	if (*end != '\0' || x > hi / mul || x * mul < lo)
		return -1;
	*out = x * mul;
	return 0;
}

/* match = prefix:/PATH/ | ext:.A,.B */
static int
set_match(struct program *p, const char *v, char *why, size_t len)
{
	if (strncmp(v, "prefix:", 7) == 0) {
		const char *s = v + 7;
		size_t n = strlen(s);

		while (n > 0 && s[n - 1] == '/')
			n--;
		if (s[0] != '/' || n == 0 || strpbrk(s, "?#%\\ \t") != NULL ||
		    strstr(s, "/.") != NULL || strstr(s, "//") != NULL) {
			snprintf(why, len, "program %s: match = prefix:/PATH/ with a "
			    "plain URL path other than /", p->name);
			return -1;
		}
		free(p->prefix);
		if ((p->prefix = strndup(s, n)) == NULL)
			goto oom;
		p->match = PROG_MATCH_PREFIX;
		for (unsigned i = 0; i < p->n_exts; i++)
			free(p->exts[i]);
		p->n_exts = 0;
		return 0;
	}
	if (strncmp(v, "ext:", 4) == 0) {
		const char *s = v + 4;

		for (unsigned i = 0; i < p->n_exts; i++)
			free(p->exts[i]);
		p->n_exts = 0;
		while (*s) {
			size_t n;
			char **grown, *x;

			s += strspn(s, ", \t");
			if ((n = strcspn(s, ", \t")) == 0)
				break;
			if (s[0] != '.' || n < 2 || n > 16 ||
			    strcspn(s + 1, "./?#%\\") < n - 1) {
				snprintf(why, len, "program %s: match = ext:.EXT[,.EXT]: "
				    "bad extension '%.*s'", p->name, (int)(n > 20 ? 20 : n), s);
				return -1;
			}
			grown = realloc(p->exts, (p->n_exts + 1) * sizeof(*grown));
			if (grown == NULL)
				goto oom;
			p->exts = grown;
			if ((x = strndup(s, n)) == NULL)
				goto oom;
			for (char *c = x; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			p->exts[p->n_exts++] = x;
			s += n;
		}
		if (p->n_exts == 0) {
			snprintf(why, len, "program %s: match = ext: names no extension", p->name);
			return -1;
		}
		p->match = PROG_MATCH_EXT;
		free(p->prefix);
		p->prefix = NULL;
		return 0;
	}
	snprintf(why, len, "program %s: match: expected prefix:/PATH/ or ext:.EXT, "
	    "got '%.40s'", p->name, v);
	return -1;
oom:
	snprintf(why, len, "out of memory");
	return -1;
}

/*
 * The absolute path of name: itself if it has a slash (then it must be
 * absolute), else the first match in the master's PATH; an executable
 * regular file. NULL with the reason in why.
 */
static char *
resolve_exec(const char *name, char *why, size_t len)
{
	const char *path = getenv("PATH"), *d;
	char buf[PATH_MAX];
	struct stat st;

	if (strchr(name, '/') != NULL) {
		if (name[0] != '/') {
			snprintf(why, len, "'%.100s': give an absolute path or a name "
			    "found in PATH", name);
			return NULL;
		}
		if (stat(name, &st) < 0 || !S_ISREG(st.st_mode) ||
		    access(name, X_OK) < 0) {
			snprintf(why, len, "'%.100s' is not an executable file", name);
			return NULL;
		}
		return strdup(name);
	}
	if (path == NULL || *path == '\0')
		path = DEFAULT_PATH;
	for (d = path; *d; ) {
		size_t n = strcspn(d, ":");

		/* An empty or relative PATH entry would depend on the cwd. */
		if (n > 0 && d[0] == '/' &&
		    (size_t)snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, d,
		    name) < sizeof(buf) && stat(buf, &st) == 0 &&
		    S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return strdup(buf);
		d += n;
		if (*d == ':')
			d++;
	}
	snprintf(why, len, "'%.100s' not found in PATH (%.200s)", name, path);
	return NULL;
}

/* argv = PROGRAM ARG...: split on spaces and tabs. */
static int
set_argv(struct program *p, const char *v, char *why, size_t len)
{
	char **argv = NULL, *path = NULL, reason[400];
	unsigned argc = 0;
	const char *s = v;

	while (*s) {
		size_t n;

		s += strspn(s, " \t");
		if ((n = strcspn(s, " \t")) == 0)
			break;
		if (argc == PROG_MAX_ARGS || n >= PROG_ARG_MAX) {
			snprintf(why, len, "program %s: argv: more than %d elements or "
			    "one over %d bytes", p->name, PROG_MAX_ARGS, PROG_ARG_MAX - 1);
			goto fail;
		}
		if (argc % 8 == 0) {
			char **grown = realloc(argv, (argc + 9) * sizeof(*grown));

			if (grown == NULL)
				goto oom;
			argv = grown;
		}
		if ((argv[argc] = strndup(s, n)) == NULL)
			goto oom;
		argv[++argc] = NULL;
		s += n;
	}
	if (argc == 0) {
		snprintf(why, len, "program %s: argv is empty", p->name);
		goto fail;
	}
	if (strpbrk(argv[0], "{}") != NULL) {
		snprintf(why, len, "program %s: argv[0] cannot hold a placeholder",
		    p->name);
		goto fail;
	}
	if ((path = resolve_exec(argv[0], reason, sizeof(reason))) == NULL) {
		snprintf(why, len, "program %s: argv: %s", p->name, reason);
		goto fail;
	}
	for (unsigned i = 0; i < p->argc; i++)
		free(p->argv[i]);
	free(p->argv);
	free(p->path);
	p->argv = argv;
	p->argc = argc;
	p->path = path;
	return 0;
oom:
	snprintf(why, len, "out of memory");
fail:
	for (unsigned i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	return -1;
}

/* env.NAME = value: one variable of the child's environment. */
static int
set_env(struct program *p, const char *name, const char *v, char *why,
    size_t len)
{
	size_t n = strlen(name);
	char **grown, *kv;

	if (n == 0 || n > 64 || isdigit((unsigned char)name[0]) ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") != n) {
		snprintf(why, len, "program %s: env.%.40s: a variable name is "
		    "letters, digits and _", p->name, name);
		return -1;
	}
	for (unsigned i = 0; i < p->n_env; i++)
		if (strncmp(p->env[i], name, n) == 0 && p->env[i][n] == '=') {
			snprintf(why, len, "program %s: env.%s given twice", p->name, name);
			return -1;
		}
	if (p->n_env == PROG_MAX_ENV) {
		snprintf(why, len, "program %s: more than %d env lines", p->name,
		    PROG_MAX_ENV);
		return -1;
	}
	if ((grown = realloc(p->env, (p->n_env + 2) * sizeof(*grown))) == NULL)
		goto oom;
	p->env = grown;
	if (asprintf(&kv, "%s=%s", name, v) < 0)
		goto oom;
	p->env[p->n_env++] = kv;
	p->env[p->n_env] = NULL;
	return 0;
oom:
	snprintf(why, len, "out of memory");
	return -1;
}

static int
parse_ll(const char *s, size_t n, long long *out)
{
	char buf[24];
	size_t d = n > 0 && s[0] == '-' ? 1 : 0;

	/* A sign, then 1 to 18 digits: never overflows. */
	if (n == d || n - d > 18 || strspn(s + d, "0123456789") < n - d)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtoll(buf, NULL, 10);
	return 0;
}

/* Whether v is a value of enum choices "a|b|c". */
static bool
enum_has(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *c = choices; *c; ) {
		size_t cn = strcspn(c, "|");

		if (cn == n && strncmp(c, v, n) == 0)
			return true;
		c += cn;
		if (*c == '|')
			c++;
	}
	return false;
}

/*
 * Checks the client's (or a default's) text v for parameter d; ints are
 * rewritten in place in their plain form ("007" -> "7"). 0, or -1 with
 * the reason in why.
 */
static int
check_value(const struct prog_param *d, char *v, char *why, size_t len)
{
	size_t n = strlen(v);
	long long x;

	switch (d->type) {
	case PROG_INT:
		if (parse_ll(v, n, &x) < 0) {
			snprintf(why, len, "expected a whole number");
			return -1;
		}
		if (x < d->min || x > d->max) {
			snprintf(why, len, "must be from %lld to %lld", d->min, d->max);
			return -1;
		}
		snprintf(v, n + 1, "%lld", x);
		return 0;
	case PROG_ENUM:
		if (!enum_has(d->choices, v)) {
			snprintf(why, len, "must be one of %s", d->choices);
			return -1;
		}
		return 0;
	case PROG_STRING:
		if (n == 0 || (long long)n > d->max) {
			snprintf(why, len, "expected 1 to %lld bytes", d->max);
			return -1;
		}
		/* One argv element, but not one the program reads as an
		 * option (nor, for text, a file to read), and nothing that
		 * could split a log line. */
		if (strchr(d->lead, v[0]) != NULL) {
			snprintf(why, len, "must not start with '%c'", v[0]);
			return -1;
		}
		for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
			if (d->chars[*s / 8] & (1u << (*s % 8)))
				continue;
			if (d->charset == NULL)
				snprintf(why, len, "control characters are not allowed");
			else if (*s >= 0x20 && *s < 0x7f)
				snprintf(why, len, "'%c' is not in charset=%s", *s,
				    d->charset);
			else
				snprintf(why, len, "byte 0x%02x is not in charset=%s",
				    *s, d->charset);
			return -1;
		}
		return 0;
	}
	return -1;
}

/*
 * charset=CLASS of a string parameter: alnum, word, text, any, or [SET] of
 * printable ASCII characters and ranges (a-z). Sets d->chars and d->lead;
 * 0, or -1 with the reason in why.
 */
static int
set_charset(struct prog_param *d, const char *cls, char *why, size_t len)
{
	static const struct {
		const char *name, *set, *lead;
	} classes[] = {
		{ "alnum", "[A-Za-z0-9]", "-" },
		{ "word", "[A-Za-z0-9_-]", "-" },
		/* Printable ASCII; no leading @ (a file to read for gm's
		 * -draw @F, curl's -d @F) or + (an option to gm). */
		{ "text", "[ -~]", "-@+" },
	};
	const char *set = cls;
	size_t n;

	memset(d->chars, 0, sizeof(d->chars));
	d->lead = "-";
	if (strcmp(cls, "any") == 0) {
		/* The default: every byte but control characters. */
		for (unsigned b = 0x20; b < 0x100; b++)
			if (b != 0x7f)
				d->chars[b / 8] |= (unsigned char)(1u << (b % 8));
		return 0;
	}
	for (size_t i = 0; i < sizeof(classes) / sizeof(*classes); i++)
		if (strcmp(cls, classes[i].name) == 0) {
			set = classes[i].set;
			d->lead = classes[i].lead;
		}
	n = strlen(set);
	if (n < 3 || set[0] != '[' || set[n - 1] != ']')
		goto bad;
	for (size_t i = 1; i < n - 1; ) {
		unsigned char lo = (unsigned char)set[i], hi = lo;

		if (i + 2 < n - 1 && set[i + 1] == '-') {
			hi = (unsigned char)set[i + 2];
			i += 3;
		} else {
			i++;
		}
		if (lo < 0x20 || hi > 0x7e || lo > hi)
			goto bad;
		for (unsigned b = lo; b <= hi; b++)
			d->chars[b / 8] |= (unsigned char)(1u << (b % 8));
	}
	return 0;
bad:
	snprintf(why, len, "charset: expected alnum, word, text, any or [SET] "
	    "of printable ASCII characters and ranges (like [A-Za-z0-9 ,.]), "
	    "got '%.40s'", cls);
	return -1;
}

/* param.NAME = int MIN MAX [DEFAULT] | enum A|B [DEFAULT] |
 * string MAX [DEFAULT] [charset=CLASS] */
static int
set_param(struct program *p, const char *name, const char *v, char *why,
    size_t len)
{
	struct prog_param d = { 0 };
	char w[5][256], reason[200], head[1024], *def = NULL;
	const char *cs = NULL;
	size_t hl;
	int nw;

	if (!is_name(name, "_") || strcmp(name, "file") == 0) {
		snprintf(why, len, "program %s: param.%.40s: a name is a-z, 0-9 and _ "
		    "(and not 'file')", p->name, name);
		return -1;
	}
	for (unsigned i = 0; i < p->n_params; i++)
		if (strcmp(p->params[i].name, name) == 0) {
			snprintf(why, len, "program %s: param.%s given twice", p->name, name);
			return -1;
		}
	if (p->n_params == PROG_MAX_PARAMS) {
		snprintf(why, len, "program %s: more than %d parameters", p->name,
		    PROG_MAX_PARAMS);
		return -1;
	}
	/* charset=CLASS ends a string's line: a SET may hold spaces. */
	for (const char *f = strstr(v, "charset="); f != NULL;
	    f = strstr(f + 1, "charset="))
		if (f > v && (f[-1] == ' ' || f[-1] == '\t')) {
			cs = f + 8;
			break;
		}
	hl = cs != NULL ? (size_t)(cs - 8 - v) : strlen(v);
	if (hl >= sizeof(head))
		goto syntax;
	memcpy(head, v, hl);
	head[hl] = '\0';
	nw = sscanf(head, "%255s %255s %255s %255s %255s", w[0], w[1], w[2],
	    w[3], w[4]);
	if (nw >= 3 && nw <= 4 && strcmp(w[0], "int") == 0) {
		d.type = PROG_INT;
		if (parse_ll(w[1], strlen(w[1]), &d.min) < 0 ||
		    parse_ll(w[2], strlen(w[2]), &d.max) < 0 || d.min > d.max)
			goto syntax;
		def = nw == 4 ? w[3] : NULL;
	} else if (nw >= 2 && nw <= 3 && strcmp(w[0], "enum") == 0) {
		d.type = PROG_ENUM;
		if (w[1][0] == '|' || w[1][0] == '-' ||
		    w[1][strlen(w[1]) - 1] == '|' || strstr(w[1], "||") != NULL ||
		    strspn(w[1], "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._|") != strlen(w[1]))
			goto syntax;
		if ((d.choices = strdup(w[1])) == NULL)
			goto oom;
		def = nw == 3 ? w[2] : NULL;
	} else if (nw >= 2 && nw <= 3 && strcmp(w[0], "string") == 0) {
		d.type = PROG_STRING;
		if (parse_ll(w[1], strlen(w[1]), &d.max) < 0 || d.max < 1 ||
		    d.max >= PROG_ARG_MAX)
			goto syntax;
		d.min = 1;
		def = nw == 3 ? w[2] : NULL;
		if (set_charset(&d, cs ? cs : "any", reason, sizeof(reason)) < 0) {
			snprintf(why, len, "program %s: param.%s: %s", p->name,
			    name, reason);
			goto fail;
		}
		if (cs != NULL && (d.charset = strdup(cs)) == NULL)
			goto oom;
	} else
		goto syntax;
	if (cs != NULL && d.type != PROG_STRING) {
		snprintf(why, len, "program %s: param.%s: charset= is for string "
		    "parameters", p->name, name);
		goto fail;
	}
	if (def != NULL) {
		if (check_value(&d, def, reason, sizeof(reason)) < 0) {
			snprintf(why, len, "program %s: param.%s: default '%.40s' %s",
			    p->name, name, def, reason);
			goto fail;
		}
		if ((d.def = strdup(def)) == NULL)
			goto oom;
	}
	if ((d.name = strdup(name)) == NULL)
		goto oom;
	p->params[p->n_params++] = d;
	return 0;
syntax:
	snprintf(why, len, "program %s: param.%s: expected 'int MIN MAX [DEFAULT]', "
	    "'enum A|B|C [DEFAULT]' or 'string MAXLEN [DEFAULT] "
	    "[charset=CLASS]'", p->name, name);
	goto fail;
oom:
	snprintf(why, len, "out of memory");
fail:
	free(d.def);
	free(d.choices);
	free(d.charset);
	return -1;
}

/* Bits of the types from..to of lib/sniff.h. */
#define TYPE_BITS(from, to)	((2u << (to)) - (1u << (from)))
#define ACCEPT_IMAGE	TYPE_BITS(MT_JPEG, MT_JXL)
#define ACCEPT_VIDEO	TYPE_BITS(MT_MP4, MT_MPEGTS)
#define ACCEPT_MEDIA	(ACCEPT_IMAGE | ACCEPT_VIDEO)

/* "jpeg, png, ..." for the types of bits. */
static void
accept_list(unsigned bits, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int t = MT_UNKNOWN + 1; t < MT_ALL && o < len; t++)
		if (bits & (1u << t))
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
			    sniff_name((enum media_type)t));
}

/* accept = any | TYPE[,TYPE...]: a name of lib/sniff.h, image, video or
 * media. */
static int
set_accept(struct program *p, const char *v, char *why, size_t len)
{
	unsigned bits = 0;
	bool any = false;
	char known[200];

	for (const char *s = v; *s; ) {
		size_t n;
		enum media_type t;

		s += strspn(s, ", \t");
		if ((n = strcspn(s, ", \t")) == 0)
			break;
		if (n == 3 && strncasecmp(s, "any", 3) == 0)
			any = true;
		else if (n == 5 && strncasecmp(s, "image", 5) == 0)
			bits |= ACCEPT_IMAGE;
		else if (n == 5 && strncasecmp(s, "video", 5) == 0)
			bits |= ACCEPT_VIDEO;
		else if (n == 5 && strncasecmp(s, "media", 5) == 0)
			bits |= ACCEPT_MEDIA;
		else if ((t = sniff_type_named(s, n)) != MT_UNKNOWN)
			bits |= 1u << t;
		else {
			accept_list(TYPE_BITS(MT_UNKNOWN + 1, MT_ALL - 1), known,
			    sizeof(known));
			snprintf(why, len, "program %s: accept: unknown type "
			    "'%.*s' (known: %s; image, video, media; or any)",
			    p->name, (int)(n > 20 ? 20 : n), s, known);
			return -1;
		}
		s += n;
	}
	if (any == (bits != 0)) {
		snprintf(why, len, "program %s: accept: expected types (like "
		    "jpeg,png or video) or any alone", p->name);
		return -1;
	}
	p->accept = bits;
	p->accept_any = any;
	p->accept_given = true;
	return 0;
}

int
program_config_set(struct config *c, const char *name, const char *key,
    const char *v, char *why, size_t len)
{
	struct program *p;
	unsigned long long x;

	if ((p = prog_get(c, name, why, len)) == NULL)
		return -1;
	if (strcmp(key, "match") == 0)
		return set_match(p, v, why, len);
	if (strcmp(key, "argv") == 0)
		return set_argv(p, v, why, len);
	if (strncmp(key, "env.", 4) == 0)
		return set_env(p, key + 4, v, why, len);
	if (strncmp(key, "param.", 6) == 0)
		return set_param(p, key + 6, v, why, len);
	if (strcmp(key, "accept") == 0)
		return set_accept(p, v, why, len);
	if (strcmp(key, "content_type") == 0) {
		if (strchr(v, '/') == NULL || strpbrk(v, "\r\n") != NULL ||
		    strlen(v) > 200) {
			snprintf(why, len, "program %s: content_type: expected a media "
			    "type like image/jpeg", p->name);
			return -1;
		}
		free(p->content_type);
		if ((p->content_type = strdup(v)) == NULL)
			goto oom;
		return 0;
	}
	if (strcmp(key, "timeout") == 0) {
		if (parse_size(v, 1, 86400, &x) < 0 || strpbrk(v, "kKMG")) {
			snprintf(why, len, "program %s: timeout: expected seconds from "
			    "1 to 86400, got '%.40s'", p->name, v);
			return -1;
		}
		p->timeout = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "max_output") == 0) {
		if (parse_size(v, 0, 1ull << 50, &p->max_output) < 0) {
			snprintf(why, len, "program %s: max_output: expected bytes "
			    "(k, M, G allowed; 0 = no limit), got '%.40s'", p->name, v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "hold_ms") == 0) {
		if (parse_size(v, 0, 60000, &x) < 0 || strpbrk(v, "kKMG")) {
			snprintf(why, len, "program %s: hold_ms: expected 0 to 60000, "
			    "got '%.40s'", p->name, v);
			return -1;
		}
		p->hold_ms = (unsigned)x;
		return 0;
	}
	if (strcmp(key, "stdin") == 0) {
		if (strcmp(v, "null") != 0 && strcmp(v, "file") != 0) {
			snprintf(why, len, "program %s: stdin: expected null or file",
			    p->name);
			return -1;
		}
		p->stdin_file = strcmp(v, "file") == 0;
		return 0;
	}
	snprintf(why, len, "unknown key '%.60s' in [program %s]", key, p->name);
	return -1;
oom:
	snprintf(why, len, "out of memory");
	return -1;
}

/*
 * The expansion of a template element (see program_expand()); used also
 * collects the placeholders seen: bit i for params[i], bit 31 for {file}.
 */
static int
expand(const struct program *p, const char *tmpl, const char *const values[],
    const char *file, char *out, size_t len, uint32_t *used)
{
	size_t o = 0, n;
	const char *s = tmpl, *v;

	while (*s) {
		if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
			v = s[0] == '{' ? "{" : "}";
			n = 1;
			s += 2;
		} else if (*s == '}') {
			return -1;
		} else if (*s == '{') {
			const char *end = strchr(s, '}');
			size_t nl;
			unsigned i;

			if (end == NULL)
				return -1;
			nl = (size_t)(end - s - 1);
			if (nl == 4 && strncmp(s + 1, "file", 4) == 0) {
				if (file == NULL)
					return -1;
				v = file;
				if (used)
					*used |= 1u << 31;
			} else {
				for (i = 0; i < p->n_params; i++)
					if (strlen(p->params[i].name) == nl &&
					    strncmp(p->params[i].name, s + 1, nl) == 0)
						break;
				if (i == p->n_params || values[i] == NULL)
					return -1;
				v = values[i];
				if (used)
					*used |= 1u << i;
			}
			n = strlen(v);
			s = end + 1;
		} else {
			v = s;
			n = strcspn(s, "{}");
			s += n;
		}
		if (n >= len - o)
			return -1;
		memcpy(out + o, v, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int
program_expand(const struct program *p, const char *tmpl,
    const char *const values[], const char *file, char *out, size_t len)
{
	if (len == 0)
		return -1;
	return expand(p, tmpl, values, file, out, len, NULL);
}

static int
validate_one(struct program *p, unsigned request_timeout, char *why,
    size_t len)
{
	const char *values[PROG_MAX_PARAMS];
	char scratch[PROG_ARG_MAX];
	uint32_t used = 0;

	if (p->argc == 0) {
		snprintf(why, len, "program %s: argv is required", p->name);
		return -1;
	}
	if (p->prefix == NULL && p->n_exts == 0) {
		snprintf(why, len, "program %s: match is required (prefix:/PATH/ "
		    "or ext:.EXT)", p->name);
		return -1;
	}
	/* Every placeholder declared, every parameter used: a typo in
	 * either is caught at start, not by the first client. */
	for (unsigned i = 0; i < p->n_params; i++)
		values[i] = "";
	for (unsigned i = 1; i < p->argc; i++)
		if (expand(p, p->argv[i], values, "", scratch, sizeof(scratch),
		    &used) < 0) {
			snprintf(why, len, "program %s: argv element '%.60s': unknown "
			    "placeholder (declare param.NAME) or unmatched brace "
			    "(write {{ or }})", p->name, p->argv[i]);
			return -1;
		}
	for (unsigned i = 0; i < p->n_params; i++)
		if (!(used & (1u << i))) {
			snprintf(why, len, "program %s: param.%s is not used in argv",
			    p->name, p->params[i].name);
			return -1;
		}
	p->uses_file = (used & (1u << 31)) || p->stdin_file;
	if (p->match == PROG_MATCH_EXT && !p->uses_file) {
		snprintf(why, len, "program %s: match = ext: needs {file} in argv "
		    "or stdin = file", p->name);
		return -1;
	}
	/* accept says which files the program may read: without a file it
	 * would say nothing, and is surely a mistake. */
	if (p->accept_given && !p->uses_file) {
		snprintf(why, len, "program %s: accept needs {file} in argv or "
		    "stdin = file", p->name);
		return -1;
	}
	if (!p->accept_given)
		p->accept = ACCEPT_MEDIA;
	/* The worker's own alarm (request_timeout) must never be what stops
	 * a program: that would answer 504 and leave the child to PDEATHSIG. */
	if (p->timeout == 0) {
		p->timeout = PROG_DEFAULT_TIMEOUT;
		if (request_timeout > 0 && p->timeout >= request_timeout)
			p->timeout = request_timeout - 1;
	}
	if (p->timeout == 0 ||
	    (request_timeout > 0 && p->timeout >= request_timeout)) {
		snprintf(why, len, "program %s: timeout %u must be below [server] "
		    "request_timeout %u", p->name, p->timeout, request_timeout);
		return -1;
	}
	if (p->content_type == NULL &&
	    (p->content_type = strdup("application/octet-stream")) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	if (p->env == NULL) {
		/* An empty environment, still a valid envp. */
		if ((p->env = calloc(1, sizeof(*p->env))) == NULL) {
			snprintf(why, len, "out of memory");
			return -1;
		}
	}
	return 0;
}

int
program_config_validate(struct config *c, char *why, size_t len)
{
	for (unsigned i = 0; i < c->n_programs; i++)
		if (validate_one(&c->programs[i], c->request_timeout, why, len) < 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------------ match */

/* Whether name (n bytes) ends with one of p's extensions, in any case. */
static bool
has_ext(const struct program *p, const char *name, size_t n)
{
	for (unsigned i = 0; i < p->n_exts; i++) {
		size_t el = strlen(p->exts[i]);

		if (n > el && name[n - el - 1] != '/' &&
		    strncasecmp(name + n - el, p->exts[i], el) == 0)
			return true;
	}
	return false;
}

const struct program *
program_match(const struct config *c, const char *path)
{
	const char *mount = c->mount ? c->mount : "";
	size_t ml = strlen(mount), n = strlen(path);

	for (unsigned i = 0; i < c->n_programs; i++) {
		const struct program *p = &c->programs[i];

		if (p->match == PROG_MATCH_PREFIX) {
			size_t pl = strlen(p->prefix);

			if (strncmp(path, p->prefix, pl) == 0 &&
			    (path[pl] == '\0' || path[pl] == '/'))
				return p;
		} else if ((ml == 0 || (strncmp(path, mount, ml) == 0 &&
		    path[ml] == '/')) && has_ext(p, path, n)) {
			return p;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ params */

/* s as at most ECHO_MAX printable bytes, for a message. */
static void
sanitize(const char *s, char out[ECHO_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] && i < ECHO_MAX; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i])
		out[i++] = '.', out[i++] = '.', out[i++] = '.';
	out[i] = '\0';
}

/* "q, w, h" (or "none"), for the message naming an undeclared one. */
static void
param_list(const struct program *p, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->n_params && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
		    p->params[i].name);
	if (p->n_params == 0)
		snprintf(buf, len, "none");
}

int
program_params(const struct program *p, const char *query,
    const char *values[PROG_MAX_PARAMS], char *buf, size_t len,
    struct err *e)
{
	bool given[PROG_MAX_PARAMS] = { false };
	char name[PARAMS_MAX_QUERY + 1], echo[ECHO_MAX + 4], why[128];
	const char *s = query ? query : "";
	size_t o = 0;

	if (strlen(s) > PARAMS_MAX_QUERY)
		return err_set(e, ERR_BAD_PARAM, "query: longer than %d bytes",
		    PARAMS_MAX_QUERY);
	while (*s) {
		size_t n = strcspn(s, "&"), nl;
		const char *eq = memchr(s, '=', n);
		ssize_t vl;
		unsigned i;

		if (n == 0) {
			s++;
			continue;
		}
		nl = eq ? (size_t)(eq - s) : n;
		if (pct_decode(s, nl, name, nl + 1) < 0)
			return err_set(e, ERR_BAD_PARAM,
			    "query: bad percent escape in a name");
		for (i = 0; i < p->n_params; i++)
			if (strcmp(p->params[i].name, name) == 0)
				break;
		if (i == p->n_params) {
			char list[PROG_MAX_PARAMS * (PROG_NAME_MAX + 2)];

			sanitize(name, echo);
			param_list(p, list, sizeof(list));
			return err_set(e, ERR_BAD_PARAM, "%s: not a parameter of "
			    "this program (it takes %s)", echo, list);
		}
		if (given[i])
			return err_set(e, ERR_BAD_PARAM, "%s: given twice", name);
		/* Each value fits: decoded text is never longer than its pair. */
		if (len - o < n + 1)
			return err_set(e, ERR_BAD_PARAM, "query: too long");
		vl = eq ? pct_decode(eq + 1, n - nl - 1, buf + o, n - nl) : 0;
		if (!eq)
			buf[o] = '\0';
		if (vl < 0)
			return err_set(e, ERR_BAD_PARAM, "%s: bad percent escape "
			    "or NUL", name);
		if (check_value(&p->params[i], buf + o, why, sizeof(why)) < 0) {
			sanitize(buf + o, echo);
			return err_set(e, ERR_BAD_PARAM, "%s: %s, got '%s'", name,
			    why, echo);
		}
		given[i] = true;
		values[i] = buf + o;
		o += strlen(buf + o) + 1;
		s += n;
		if (*s == '&')
			s++;
	}
	for (unsigned i = 0; i < p->n_params; i++) {
		if (given[i])
			continue;
		if (p->params[i].def == NULL)
			return err_set(e, ERR_BAD_PARAM, "%s: required",
			    p->params[i].name);
		values[i] = p->params[i].def;
	}
	return 0;
}

int
program_argv(const struct program *p, const char *const values[],
    const char *file, char ***argvp, struct err *e)
{
	char tmp[PROG_ARG_MAX], **argv, *s;
	size_t bytes = 0;
	unsigned i;

	*argvp = NULL;
	for (i = 1; i < p->argc; i++) {
		if (expand(p, p->argv[i], values, file, tmp, sizeof(tmp), NULL) < 0)
			return err_set(e, ERR_BAD_PARAM, "argv element %u of program "
			    "%s: longer than %d bytes", i, p->name, PROG_ARG_MAX - 1);
		bytes += strlen(tmp) + 1;
	}
	bytes += strlen(p->argv[0]) + 1;
	/* The pointers, then every string after them: one free(). */
	if ((argv = malloc((p->argc + 1) * sizeof(*argv) + bytes)) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	s = (char *)(argv + p->argc + 1);
	argv[0] = strcpy(s, p->argv[0]);
	s += strlen(s) + 1;
	for (i = 1; i < p->argc; i++) {
		(void)expand(p, p->argv[i], values, file, s, PROG_ARG_MAX, NULL);
		argv[i] = s;
		s += strlen(s) + 1;
	}
	argv[p->argc] = NULL;
	*argvp = argv;	/* handed to the caller */
	return 0;
}

/* ------------------------------------------------------------------ child */

/*
 * In the child, between fork() and execve(): only async-signal-safe calls.
 * fds[0..3] become 0, 1, 2 and (if fds[3] >= 0) PROG_FILE_FD; every other
 * descriptor is closed at exec; errfd (close-on-exec) reports a failure.
 */
static void __attribute__((noreturn))
child_exec(const struct program *p, char *const argv[], int fds[4],
    int errfd, pid_t parent, long maxfd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int first, err;

	/* Its own group, so the worker can signal everything it starts. */
	(void)setpgid(0, 0);
	/* Gone with the worker, however the worker goes. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		goto fail;
	/* No set-user-ID gain through it, no core file of a crash in some
	 * directory, no dependence on where the worker happens to be. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }) < 0 || chdir("/") < 0)
		goto fail;
	/* Every source above the targets first, so no dup2() clobbers one. */
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0 && (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16)) < 0)
			goto fail;
	if ((errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 16)) < 0)
		goto fail;
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0 && dup2(fds[i], i == 3 ? PROG_FILE_FD : i) < 0)
			goto fail;
	first = fds[3] >= 0 ? PROG_FILE_FD + 1 : 3;
	if (syscall(SYS_close_range, (unsigned)first, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = first; fd < maxfd; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* Ignored signals (SIGPIPE, SIGHUP in the worker) stay ignored
	 * across exec; a converter expects the defaults. */
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(p->path, argv, p->env);
fail:
	err = errno;
	(void)!write(errfd, &err, sizeof(err));
	_exit(127);
}

/* What one run holds; every fd -1 when closed. */
struct run {
	const struct program *p;
	struct response *r;
	pid_t pid;
	int out, err, pidfd;
	bool exited;		/* the leader's status is in status (not reaped) */
	siginfo_t status;
	unsigned long long out_bytes;
	int64_t first_ms;	/* when the first byte was read; 0: none yet */
	char tail[2 * PROG_STDERR_KEEP];	/* the last stderr bytes */
	size_t tail_len;
	bool tail_cut;		/* earlier stderr was dropped */
};

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Starts the child: stdout and stderr pipes, stdin /dev/null or the file.
 * 0, or the error with nothing left open or running.
 */
static int
run_start(struct run *run, char *const argv[], int filefd, struct err *e)
{
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, xp[2] = { -1, -1 };
	int in = -1, fds[4], rc, cerr = 0;
	pid_t parent = getpid();
	long maxfd = sysconf(_SC_OPEN_MAX);
	ssize_t n;

	if (pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0 ||
	    pipe2(xp, O_CLOEXEC) < 0) {
		rc = err_set(e, ERR_INTERNAL, "pipe: %s", strerror(errno));
		goto out;
	}
	if (run->p->stdin_file) {
		char self[64];

		/* A description of its own, read from the start, blocking:
		 * not the worker's (whose offset and flags it would share). */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", filefd);
		in = open(self, O_RDONLY | O_CLOEXEC);
	} else {
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (in < 0) {
		rc = err_set(e, ERR_INTERNAL, "stdin: %s", strerror(errno));
		goto out;
	}
	/* Fewer wake-ups per byte; the kernel may cap it (pipe-max-size). */
	(void)fcntl(op[1], F_SETPIPE_SZ, PIPE_WANT);
	fds[0] = in;
	fds[1] = op[1];
	fds[2] = ep[1];
	fds[3] = run->p->uses_file ? filefd : -1;
	if ((run->pid = fork()) < 0) {
		rc = err_set(e, ERR_INTERNAL, "fork: %s", strerror(errno));
		goto out;
	}
	if (run->pid == 0)
		child_exec(run->p, argv, fds, xp[1], parent, maxfd > 0 ? maxfd : 1024);
	/* Both sides set the group, so killpg() works whoever runs first. */
	(void)setpgid(run->pid, run->pid);
	close_fd(&xp[1]);
	do
		n = read(xp[0], &cerr, sizeof(cerr));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		/* The child never ran the program: reap it now. */
		(void)waitpid(run->pid, NULL, 0);
		run->pid = -1;
		rc = err_set(e, ERR_BAD_GATEWAY, "program %s could not be started: %s",
		    run->p->name, strerror(cerr));
		goto out;
	}
	run->out = op[0];
	run->err = ep[0];
	op[0] = ep[0] = -1;	/* handed to run */
	(void)fcntl(run->out, F_SETFL, O_NONBLOCK);
	(void)fcntl(run->err, F_SETFL, O_NONBLOCK);
	run->pidfd = (int)syscall(SYS_pidfd_open, run->pid, 0);
	rc = 0;
out:
	close_fd(&op[0]);
	close_fd(&op[1]);
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	close_fd(&xp[0]);
	close_fd(&xp[1]);
	close_fd(&in);
	return rc;
}

/* Notes the leader's exit without reaping it (its pid keeps the group's
 * id ours until run_reap()). */
static void
run_poll_exit(struct run *run)
{
	siginfo_t si = { 0 };

	if (run->exited)
		return;
	if (waitid(P_PID, (id_t)run->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == run->pid) {
		run->status = si;
		run->exited = true;
	}
}

/* Waits up to ms for the leader to exit. */
static void
run_wait_exit(struct run *run, int64_t ms)
{
	int64_t end = sb_now_ms() + ms;

	for (;;) {
		int64_t left;

		run_poll_exit(run);
		if (run->exited || (left = end - sb_now_ms()) <= 0)
			return;
		if (run->pidfd >= 0) {
			struct pollfd pf = { .fd = run->pidfd, .events = POLLIN };

			(void)poll(&pf, 1, (int)left);
		} else {
			(void)poll(NULL, 0, left < 10 ? (int)left : 10);
		}
	}
}

/*
 * Ends the run: the group asked to stop (SIGTERM, then SIGKILL after the
 * grace) if kill, anything left of it killed either way, the leader reaped,
 * every fd closed.
 */
static void
run_reap(struct run *run, bool kill)
{
	int st;

	if (run->pid > 0) {
		if (kill && !run->exited) {
			(void)killpg(run->pid, SIGTERM);
			(void)killpg(run->pid, SIGCONT);
			run_wait_exit(run, PROG_KILL_GRACE_MS);
		}
		/* Whatever it left running (its group) goes too; the unreaped
		 * leader keeps the group id from being reused meanwhile. */
		(void)killpg(run->pid, SIGKILL);
		while (waitpid(run->pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!run->exited) {
			memset(&run->status, 0, sizeof(run->status));
			run->status.si_code = WIFSIGNALED(st) ? CLD_KILLED : CLD_EXITED;
			run->status.si_status = WIFSIGNALED(st) ? WTERMSIG(st) :
			    WEXITSTATUS(st);
			run->exited = true;
		}
		run->pid = -1;
	}
	close_fd(&run->out);
	close_fd(&run->err);
	close_fd(&run->pidfd);
}

/* Keeps the last PROG_STDERR_KEEP bytes the child wrote to stderr. */
static void
run_read_stderr(struct run *run)
{
	ssize_t n;

	for (;;) {
		if (run->tail_len > PROG_STDERR_KEEP) {
			size_t drop = run->tail_len - PROG_STDERR_KEEP;

			memmove(run->tail, run->tail + drop, PROG_STDERR_KEEP);
			run->tail_len = PROG_STDERR_KEEP;
			run->tail_cut = true;
		}
		n = read(run->err, run->tail + run->tail_len,
		    sizeof(run->tail) - run->tail_len);
		if (n > 0) {
			run->tail_len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			close_fd(&run->err);
		if (n < 0 && errno == EINTR)
			continue;
		return;
	}
}

/* The kept stderr, one log line per line of it. */
static void
run_log_stderr(const struct run *run, pid_t pid, bool failed)
{
	char line[700], esc[900];
	size_t i = 0;

	if (run->tail_len == 0)
		return;
	if (run->tail_cut)
		log_warn("program %s[%d]: stderr: (earlier output dropped)",
		    run->p->name, (int)pid);
	while (i < run->tail_len) {
		const char *s = run->tail + i;
		const char *nl = memchr(s, '\n', run->tail_len - i);
		size_t n = nl ? (size_t)(nl - s) : run->tail_len - i;
		size_t c = n < sizeof(line) - 1 ? n : sizeof(line) - 1;

		i += n + 1;
		memcpy(line, s, c);
		line[c] = '\0';
		/* A NUL in the text would end it early; that is all. */
		if (line[0] == '\0')
			continue;
		log_escape(esc, sizeof(esc), line);
		if (failed)
			log_error("program %s[%d]: stderr: %s", run->p->name,
			    (int)pid, esc);
		else
			log_warn("program %s[%d]: stderr: %s", run->p->name,
			    (int)pid, esc);
	}
}

/* The signal's name for a message ("SIGSEGV"), or its number. */
static void
signal_text(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "%d", sig);
}

enum run_end {
	END_DONE = 0,		/* nothing cut the run short (yet) */
	END_TIMEOUT,
	END_TOO_MUCH,		/* over max_output */
	END_CLIENT,		/* the client (or web server) went away */
	END_BROKEN,		/* reading the pipe failed */
};

/* Moves what the pipe holds into the response: 0, or why it must end. */
static enum run_end
run_read_stdout(struct run *run, unsigned char *buf, size_t cap)
{
	const struct program *p = run->p;
	ssize_t n;

	n = read(run->out, buf, cap);
	if (n == 0) {
		close_fd(&run->out);
		return END_DONE;
	}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? END_DONE : END_BROKEN;
	if (p->max_output && run->out_bytes + (size_t)n > p->max_output)
		return END_TOO_MUCH;
	if (run->out_bytes == 0)
		run->first_ms = sb_now_ms();
	run->out_bytes += (size_t)n;
	/* Held bytes are copied once into the hold; committed ones go to
	 * the FastCGI stream at once, a record per chunk, and out. */
	if (sink_write(&run->r->body, buf, (size_t)n) < 0)
		return END_CLIENT;
	if (run->r->committed && sink_flush(&run->r->body) < 0)
		return END_CLIENT;
	return END_DONE;
}

/*
 * The loop: stdout into the response, stderr into the tail, until the
 * program has exited and closed stdout, the deadline, max_output, or the
 * client goes away.
 */
static enum run_end
run_loop(struct run *run, int conn_fd, int64_t deadline)
{
	const struct program *p = run->p;
	struct response *r = run->r;
	unsigned char *buf;
	enum run_end end = END_DONE;

	if ((buf = malloc(READ_CHUNK)) == NULL)
		return END_BROKEN;
	while (run->out >= 0 || !run->exited) {
		struct pollfd pf[4];
		int np = 0, io = -1, ie = -1, ip = -1, ic = -1, rc;
		int64_t now = sb_now_ms(), wait = deadline - now;

		if (wait <= 0) {
			end = END_TIMEOUT;
			break;
		}
		/* A slow producer's first bytes do not wait for the hold. */
		if (!r->committed && run->out_bytes > 0) {
			int64_t commit_at = run->first_ms + p->hold_ms;

			if (now >= commit_at) {
				if (response_flush(r) < 0) {
					end = END_CLIENT;
					break;
				}
			} else if (commit_at - now < wait) {
				wait = commit_at - now;
			}
		}
		if (run->out >= 0) {
			io = np;
			pf[np++] = (struct pollfd){ .fd = run->out, .events = POLLIN };
		}
		if (run->err >= 0) {
			ie = np;
			pf[np++] = (struct pollfd){ .fd = run->err, .events = POLLIN };
		}
		if (!run->exited && run->pidfd >= 0) {
			ip = np;
			pf[np++] = (struct pollfd){ .fd = run->pidfd, .events = POLLIN };
		}
		if (conn_fd > 0) {
			/* Only a hang-up: unread FastCGI input is not ours. */
			ic = np;
			pf[np++] = (struct pollfd){ .fd = conn_fd, .events = POLLRDHUP };
		}
		if (!run->exited && run->pidfd < 0 && wait > 20)
			wait = 20;	/* no pidfd: look at the child now and then */
		rc = poll(pf, (nfds_t)np, (int)(wait > INT_MAX ? INT_MAX : wait));
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			end = END_BROKEN;
			break;
		}
		if (ic >= 0 && (pf[ic].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			end = END_CLIENT;
			break;
		}
		if (ie >= 0 && pf[ie].revents)
			run_read_stderr(run);
		if (io >= 0 && pf[io].revents &&
		    (end = run_read_stdout(run, buf, READ_CHUNK)) != END_DONE)
			break;
		if ((ip >= 0 && pf[ip].revents) || run->pidfd < 0)
			run_poll_exit(run);
	}
	free(buf);
	if (run->err >= 0)
		run_read_stderr(run);
	return end;
}

int
program_run(const struct program *p, char *const argv[], int filefd,
    int conn_fd, struct response *r, struct err *e)
{
	struct run *run;
	enum run_end end;
	char sig[32];
	pid_t pid;
	int rc;

	/* The stderr tail is 8 KiB: not on the worker's stack. */
	if ((run = calloc(1, sizeof(*run))) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	run->p = p;
	run->r = r;
	run->out = run->err = run->pidfd = -1;
	if ((rc = run_start(run, argv, filefd, e)) < 0)
		goto out;
	pid = run->pid;
	end = run_loop(run, conn_fd, sb_now_ms() + (int64_t)p->timeout * 1000);
	run_reap(run, end != END_DONE);
	run_log_stderr(run, pid, end != END_DONE || run->status.si_code != CLD_EXITED ||
	    run->status.si_status != 0 || run->out_bytes == 0);
	switch (end) {
	case END_TIMEOUT:
		rc = err_set(e, ERR_BAD_GATEWAY, "program %s timed out after %u s",
		    p->name, p->timeout);
		break;
	case END_TOO_MUCH:
		rc = err_set(e, ERR_BAD_GATEWAY, "program %s wrote more than "
		    "max_output (%llu bytes)", p->name, p->max_output);
		break;
	case END_CLIENT:
		rc = err_set(e, ERR_GONE, "client went away");
		break;
	case END_BROKEN:
		rc = err_set(e, ERR_INTERNAL, "program %s: reading its output: %s",
		    p->name, strerror(errno));
		break;
	case END_DONE:
		if (run->status.si_code != CLD_EXITED) {
			signal_text(run->status.si_status, sig, sizeof(sig));
			rc = err_set(e, ERR_BAD_GATEWAY, "program %s was killed by %s",
			    p->name, sig);
		} else if (run->status.si_status != 0) {
			rc = err_set(e, ERR_BAD_GATEWAY, "program %s failed (exit "
			    "status %d)", p->name, run->status.si_status);
		} else if (run->out_bytes == 0) {
			rc = err_set(e, ERR_BAD_GATEWAY, "program %s wrote nothing",
			    p->name);
		} else {
			rc = 0;
		}
		break;
	}
out:
	run_reap(run, true);
	free(run);
	return rc;
}

/* ------------------------------------------------------------------ route */

/*
 * Whether the file on fd may reach p: its first bytes, by the media
 * sniffer, are of a type in p's accept list. 0, or ERR_UNSUPPORTED naming
 * the program and what it accepts (ERR_UNDECODABLE for an empty file, as
 * for media).
 */
static int
check_accept(const struct program *p, int fd, struct err *e)
{
	unsigned char head[SNIFF_BYTES];
	char list[200];
	enum media_type t;
	ssize_t n;

	if (p->accept_any)
		return 0;
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0)
		return err_set(e, ERR_INTERNAL, "reading the file: %s",
		    strerror(errno));
	if (n == 0)
		return err_set(e, ERR_UNDECODABLE, "empty file");
	t = sniff_type_program(head, (size_t)n);
	if (p->accept & (1u << t))
		return 0;
	accept_list(p->accept, list, sizeof(list));
	return err_set(e, ERR_UNSUPPORTED, "format not allowed: program %s "
	    "accepts %s; this file is %s", p->name, list,
	    t == MT_UNKNOWN ? "none of the types the server recognises" :
	    sniff_name(t));
}

int
program_route(const struct server *srv, const struct request *req,
    struct response *r, struct err *e)
{
	const struct config *cfg = srv->cfg;
	const struct program *p;
	const char *values[PROG_MAX_PARAMS], *q;
	char vbuf[PARAMS_MAX_QUERY + 16], rel[PATH_MAX_URI + 1];
	char **argv = NULL;
	struct stat st;
	int fd = -1, rc;

	/* Chosen and gated by the router; req->query is without sig and
	 * expires (gate.h). */
	if ((p = program_match(cfg, req->path)) == NULL)
		return 0;
	q = req->query;
	if ((rc = program_params(p, q, values, vbuf, sizeof(vbuf), e)) < 0)
		goto out;
	if (p->uses_file) {
		/* The same resolution as a media request: the path the router
		 * decoded once, opened beneath the root (RESOLVE_BENEATH). */
		if ((rc = path_relative(req->path, p->match == PROG_MATCH_PREFIX ?
		    p->prefix : cfg->mount, rel, sizeof(rel), e)) < 0)
			goto out;
		if ((rc = fd = path_open(srv->rootfd, rel, &st, e)) < 0)
			goto out;
		if ((unsigned long long)st.st_size > cfg->max_file_size) {
			rc = err_set(e, ERR_TOO_LARGE, "file size %lld over "
			    "max_file_size %llu", (long long)st.st_size,
			    cfg->max_file_size);
			goto out;
		}
		/* Before anything starts: a playlist, an SVG or any text
		 * named .mp4 or .jpg never reaches the program. */
		if ((rc = check_accept(p, fd, e)) < 0)
			goto out;
	}
	if ((rc = program_argv(p, values, p->uses_file ? PROG_FILE_ARG : NULL,
	    &argv, e)) < 0)
		goto out;
	(void)response_header(r, "Content-Type", "%s", p->content_type);
	(void)response_header(r, "X-Content-Type-Options", "nosniff");
	/* Streamed as produced: the web server must not buffer it whole. */
	(void)response_header(r, "X-Accel-Buffering", "no");
	if (cfg->cache_control != NULL)
		(void)response_header(r, "Cache-Control", "%s", cfg->cache_control);
	rc = program_run(p, argv, fd, req->conn_fd, r, e);
	if (rc == 0)
		rc = 1;
out:
	free(argv);
	if (fd >= 0)
		close(fd);
	return rc;
}
