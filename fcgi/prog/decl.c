/*
 * decl - a program's param.NAME lines: the type, its bounds or choices,
 * a default checked as a client's value would be, and for strings the
 * charset. Part of reading [program] sections (program_set.h); called
 * by config.c through internal.h.
 */
#include "prog/program_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prog/internal.h"

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

/* internal.h */
int
prog_param_declare(struct program *p, const char *name, const char *v, char *why,
    size_t len)
{
	struct prog_param d = { 0 };
	bool given = false;
	char w[5][256], reason[200], head[1024], *def = NULL;
	const char *cs = NULL;
	size_t hl;
	int nw;

	if (!prog_is_name(name, "_") || strcmp(name, "file") == 0) {
		snprintf(why, len, "program %s: param.%.40s: a name is a-z, 0-9 and _ "
		    "(and not 'file')", p->name, name);
		return -1;
	}
	for (unsigned i = 0; i < p->n_params && !given; i++)
		given = strcmp(p->params[i].name, name) == 0;
	if (prog_room_for(p, "param", name, given, p->n_params,
	    PROG_MAX_PARAMS, "parameters", why, len) < 0)
		return -1;
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
		if (prog_parse_ll(w[1], strlen(w[1]), &d.min) < 0 ||
		    prog_parse_ll(w[2], strlen(w[2]), &d.max) < 0 || d.min > d.max)
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
		if (prog_parse_ll(w[1], strlen(w[1]), &d.max) < 0 || d.max < 1 ||
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
		if (prog_check_value(&d, def, reason, sizeof(reason)) < 0) {
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
