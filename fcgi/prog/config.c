/*
 * config - [program NAME] sections: each key checked and stored as it is
 * read, every program checked once the whole file is. See program_set.h.
 */
#include "prog/program_set.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prog/internal.h"
#include "req/sniff.h"

#define DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"

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
program_set_free(struct program_set *s)
{
	for (unsigned i = 0; i < s->n; i++)
		prog_free(&s->list[i]);
	free(s->list);
	s->list = NULL;
	s->n = 0;
}

/* internal.h */
int
prog_room_for(const struct program *p, const char *kind, const char *name,
    bool given, unsigned n, unsigned max, const char *what, char *why,
    size_t len)
{
	if (given) {
		snprintf(why, len, "program %s: %s.%s given twice", p->name, kind,
		    name);
		return -1;
	}
	if (n == max) {
		snprintf(why, len, "program %s: more than %u %s", p->name, max,
		    what);
		return -1;
	}
	return 0;
}

/* internal.h */
bool
prog_is_name(const char *s, const char *extra)
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
prog_get(struct program_set *c, const char *name, char *why, size_t len)
{
	struct program *grown;

	if (!prog_is_name(name, "_-")) {
		snprintf(why, len, "program name '%.40s': use a-z, 0-9, _ and -", name);
		return NULL;
	}
	for (unsigned i = 0; i < c->n; i++)
		if (strcmp(c->list[i].name, name) == 0)
			return &c->list[i];
	grown = realloc(c->list, (c->n + 1) * sizeof(*grown));
	if (grown == NULL)
		goto oom;
	c->list = grown;
	memset(&grown[c->n], 0, sizeof(*grown));
	if ((grown[c->n].name = strdup(name)) == NULL)
		goto oom;
	grown[c->n].hold_ms = PROG_DEFAULT_HOLD_MS;
	return &c->list[c->n++];
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

/* A plain number lo..hi (no k, M or G) into *dst; expected says what is
 * expected, for the message. */
static int
set_plain(const struct program *p, unsigned *dst, const char *v,
    unsigned lo, unsigned hi, const char *key, const char *expected,
    char *why, size_t len)
{
	unsigned long long x;

	if (parse_size(v, lo, hi, &x) < 0 || strpbrk(v, "kKMG")) {
		snprintf(why, len, "program %s: %s: expected %s, got '%.40s'",
		    p->name, key, expected, v);
		return -1;
	}
	*dst = (unsigned)x;
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
	bool given = false;
	size_t n = strlen(name);
	char **grown, *kv;

	if (n == 0 || n > 64 || isdigit((unsigned char)name[0]) ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") != n) {
		snprintf(why, len, "program %s: env.%.40s: a variable name is "
		    "letters, digits and _", p->name, name);
		return -1;
	}
	for (unsigned i = 0; i < p->n_env && !given; i++)
		given = strncmp(p->env[i], name, n) == 0 && p->env[i][n] == '=';
	if (prog_room_for(p, "env", name, given, p->n_env, PROG_MAX_ENV,
	    "env lines", why, len) < 0)
		return -1;
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

/* "jpeg, png, ..." for the types of bits (internal.h). */
void
prog_accept_list(unsigned bits, char *buf, size_t len)
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
			prog_accept_list(TYPE_BITS(MT_UNKNOWN + 1, MT_ALL - 1), known,
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
program_set_key(struct program_set *c, const char *name, const char *key,
    const char *v, char *why, size_t len)
{
	struct program *p;

	if ((p = prog_get(c, name, why, len)) == NULL)
		return -1;
	if (strcmp(key, "match") == 0)
		return set_match(p, v, why, len);
	if (strcmp(key, "argv") == 0)
		return set_argv(p, v, why, len);
	if (strncmp(key, "env.", 4) == 0)
		return set_env(p, key + 4, v, why, len);
	if (strncmp(key, "param.", 6) == 0)
		return prog_param_declare(p, key + 6, v, why, len);
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
	if (strcmp(key, "timeout") == 0)
		return set_plain(p, &p->timeout, v, 1, 86400, key,
		    "seconds from 1 to 86400", why, len);
	if (strcmp(key, "max_output") == 0) {
		if (parse_size(v, 0, 1ull << 50, &p->max_output) < 0) {
			snprintf(why, len, "program %s: max_output: expected bytes "
			    "(k, M, G allowed; 0 = no limit), got '%.40s'", p->name, v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "hold_ms") == 0)
		return set_plain(p, &p->hold_ms, v, 0, 60000, key, "0 to 60000",
		    why, len);
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
		if (prog_expand(p, p->argv[i], values, "", scratch, sizeof(scratch),
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
program_set_validate(struct program_set *c, unsigned request_timeout,
    char *why, size_t len)
{
	for (unsigned i = 0; i < c->n; i++)
		if (validate_one(&c->list[i], request_timeout, why, len) < 0)
			return -1;
	return 0;
}
