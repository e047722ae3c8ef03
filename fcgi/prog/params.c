/*
 * params - a program's parameters from the query, checked against their
 * declarations, and the argv they expand into. See program.h.
 */
#include "prog/program.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prog/internal.h"
#include "req/params.h"
#include "req/pct.h"

/* internal.h */
int
prog_parse_ll(const char *s, size_t n, long long *out)
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

/* internal.h */
int
prog_check_value(const struct prog_param *d, char *v, char *why,
    size_t len)
{
	size_t n = strlen(v);
	long long x;

	switch (d->type) {
	case PROG_INT:
		if (prog_parse_ll(v, n, &x) < 0) {
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

/* internal.h */
int
prog_expand(const struct program *p, const char *tmpl,
    const char *const values[], const char *file, char *out, size_t len,
    uint32_t *used)
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
	return prog_expand(p, tmpl, values, file, out, len, NULL);
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
	char name[PARAMS_MAX_QUERY + 1], echo[PARAMS_ECHO_MAX + 4], why[128];
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
		/* As the media API reads a query: a lone '%' is itself. */
		if (pct_decode_query(s, nl, name, nl + 1) < 0)
			return err_set(e, ERR_BAD_PARAM,
			    "query: NUL in a parameter name");
		for (i = 0; i < p->n_params; i++)
			if (strcmp(p->params[i].name, name) == 0)
				break;
		if (i == p->n_params) {
			char list[PROG_MAX_PARAMS * (PROG_NAME_MAX + 2)];

			params_echo(name, strlen(name), echo);
			param_list(p, list, sizeof(list));
			return err_set(e, ERR_BAD_PARAM, "%s: not a parameter of "
			    "this program (it takes %s)", echo, list);
		}
		if (given[i])
			return err_set(e, ERR_BAD_PARAM, "%s: given twice", name);
		/* Each value fits: decoded text is never longer than its pair. */
		if (len - o < n + 1)
			return err_set(e, ERR_BAD_PARAM, "query: too long");
		vl = eq ? pct_decode_query(eq + 1, n - nl - 1, buf + o, n - nl) : 0;
		if (!eq)
			buf[o] = '\0';
		if (vl < 0)
			return err_set(e, ERR_BAD_PARAM, "%s: NUL in the value",
			    name);
		if (prog_check_value(&p->params[i], buf + o, why, sizeof(why)) < 0) {
			params_echo(buf + o, strlen(buf + o), echo);
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
		if (prog_expand(p, p->argv[i], values, file, tmp, sizeof(tmp), NULL) < 0)
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
		(void)prog_expand(p, p->argv[i], values, file, s, PROG_ARG_MAX, NULL);
		argv[i] = s;
		s += strlen(s) + 1;
	}
	argv[p->argc] = NULL;
	*argvp = argv;	/* handed to the caller */
	return 0;
}
