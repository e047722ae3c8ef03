/*
 * accept - the Accept header's media ranges and weights (see accept.h).
 * One pass over the header per type asked about, no allocation; the
 * grammar (RFC 9110 12.5.1, 5.6):
 *
 *   Accept = #( media-range [ weight ] )    weight = OWS ";" OWS "q=" qvalue
 *   media-range = ( "*" "/" "*" / type "/" "*" / type "/" subtype )
 *                 *( OWS ";" OWS parameter )
 *   qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 */
#include "http/accept.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* tchar of RFC 9110 5.6.2: what a type, subtype or parameter name is. */
static bool
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* The header being read: [p, end). */
struct cur {
	const char *p, *end;
};

static void
skip_ows(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

/* A token at c->p: its length (0 if none), c->p moved past it. */
static size_t
token(struct cur *c, const char **start)
{
	*start = c->p;
	while (c->p < c->end && is_tchar(*c->p))
		c->p++;
	return (size_t)(c->p - *start);
}

/* A parameter value: a token or a quoted string (its escapes skipped).
 * False if neither is there. */
static bool
value(struct cur *c, const char **start, size_t *n)
{
	if (c->p < c->end && *c->p == '"') {
		*start = ++c->p;
		while (c->p < c->end && *c->p != '"') {
			if (*c->p == '\\' && c->p + 1 < c->end)
				c->p++;
			c->p++;
		}
		if (c->p >= c->end)
			return false;
		*n = (size_t)(c->p - *start);
		c->p++;
		return true;
	}
	*n = token(c, start);
	return *n > 0;
}

/* A qvalue s[0..n) in thousandths, or -1. */
static int
qvalue(const char *s, size_t n)
{
	int q, scale = 100;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (s[1] != '.' || n > 5)
		return -1;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9' || (s[0] == '1' && s[i] != '0'))
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q;
}

/* Moves c past the rest of a bad element, to its comma (quotes kept). */
static void
skip_element(struct cur *c)
{
	while (c->p < c->end && *c->p != ',') {
		if (*c->p == '"') {
			const char *s;
			size_t n;

			(void)value(c, &s, &n);
			continue;
		}
		c->p++;
	}
}

/*
 * One element at c->p into its range (type and subtype) and weight; false
 * if it does not parse (c->p then at its end all the same).
 */
static bool
element(struct cur *c, const char **type, size_t *tl, const char **sub,
    size_t *sl, int *q)
{
	const char *name, *v;
	size_t nl, vl;

	*q = 1000;
	if ((*tl = token(c, type)) == 0 || c->p >= c->end || *c->p != '/')
		goto bad;
	c->p++;
	if ((*sl = token(c, sub)) == 0)
		goto bad;
	/* "*" "/" "type" is no range. */
	if (*tl == 1 && **type == '*' && !(*sl == 1 && **sub == '*'))
		goto bad;
	for (;;) {
		skip_ows(c);
		if (c->p >= c->end || *c->p == ',')
			return true;
		if (*c->p != ';')
			goto bad;
		c->p++;
		skip_ows(c);
		/* An empty parameter ("a/b;") is tolerated. */
		if (c->p >= c->end || *c->p == ',' || *c->p == ';')
			continue;
		if ((nl = token(c, &name)) == 0 || c->p >= c->end ||
		    *c->p != '=')
			goto bad;
		c->p++;
		if (!value(c, &v, &vl))
			goto bad;
		if (nl == 1 && (*name == 'q' || *name == 'Q') &&
		    (*q = qvalue(v, vl)) < 0)
			goto bad;
	}
bad:
	skip_element(c);
	return false;
}

unsigned
accept_q(const char *header, const char *mime, enum accept_match *how)
{
	const char *slash = mime ? strchr(mime, '/') : NULL;
	enum accept_match best = ACCEPT_NONE;
	unsigned q = 0;
	struct cur c;

	if (how != NULL)
		*how = ACCEPT_NONE;
	if (header == NULL || slash == NULL)
		return 0;
	c.p = header;
	c.end = header + strnlen(header, ACCEPT_MAX_LEN);
	while (c.p < c.end) {
		const char *type, *sub;
		size_t tl, sl, mt = (size_t)(slash - mime);
		enum accept_match m = ACCEPT_NONE;
		int w;

		skip_ows(&c);
		if (c.p < c.end && *c.p == ',') {	/* empty element */
			c.p++;
			continue;
		}
		if (element(&c, &type, &tl, &sub, &sl, &w)) {
			if (tl == 1 && *type == '*')
				m = ACCEPT_ANY;
			else if (tl == mt && strncasecmp(type, mime, mt) == 0) {
				if (sl == 1 && *sub == '*')
					m = ACCEPT_TYPE;
				else if (sl == strlen(slash + 1) &&
				    strncasecmp(sub, slash + 1, sl) == 0)
					m = ACCEPT_EXACT;
			}
			/* The most specific range decides; of two equally
			 * specific ones, the first. */
			if (m > best) {
				best = m;
				q = (unsigned)w;
			}
		}
		if (c.p < c.end && *c.p == ',')
			c.p++;
	}
	if (how != NULL)
		*how = best;
	return q;
}

bool
accept_admits(const char *header, const char *mime, enum accept_match least)
{
	enum accept_match how;
	unsigned q = accept_q(header, mime, &how);

	return q > 0 && how >= least && how != ACCEPT_NONE;
}

/*
 * What format=auto may pick, the media type it is asked for by, and how
 * specific the range must be. AVIF and JPEG XL need naming: a browser
 * that sends "image/" "*" without them (Chrome before 85, say) does not show
 * them. WebP is also admitted by "image/" "*", as format=auto did before
 * AVIF existed here (URLs and caches out there rely on it).
 */
static const struct auto_format {
	enum out_format format;
	const char *mime;
	enum accept_match least;
	bool animates;		/* its encoder keeps an animation */
} auto_formats[] = {
	{ OUT_AVIF, "image/avif", ACCEPT_EXACT, false },
	{ OUT_JXL, "image/jxl", ACCEPT_EXACT, false },
	{ OUT_WEBP, "image/webp", ACCEPT_TYPE, true },
};

static const struct auto_format *
auto_format(enum out_format f)
{
	for (size_t i = 0; i < sizeof(auto_formats) / sizeof(*auto_formats); i++)
		if (auto_formats[i].format == f)
			return &auto_formats[i];
	return NULL;
}

const char *
accept_format_mime(enum out_format f)
{
	const struct auto_format *a = auto_format(f);

	return a ? a->mime : NULL;
}

enum out_format
accept_pick(const char *header, const enum out_format *order, unsigned n,
    bool animation)
{
	for (unsigned i = 0; i < n; i++) {
		const struct auto_format *a = auto_format(order[i]);

		if (a != NULL && (a->animates || !animation) &&
		    accept_admits(header, a->mime, a->least))
			return a->format;
	}
	return OUT_SOURCE;
}

int
accept_formats_parse(const char *v, enum out_format *out, unsigned max,
    unsigned *n, char *why, size_t len)
{
	enum out_format got[ACCEPT_MAX_FORMATS];
	unsigned k = 0;
	const char *p = v;

	if (max > ACCEPT_MAX_FORMATS)
		max = ACCEPT_MAX_FORMATS;
	p += strspn(p, " \t");
	if (strcmp(p, "none") == 0) {
		*n = 0;
		return 0;
	}
	for (;;) {
		size_t w;
		const struct auto_format *a = NULL;

		p += strspn(p, " \t");
		w = strcspn(p, ", \t");
		for (size_t i = 0; i < sizeof(auto_formats) /
		    sizeof(*auto_formats) && a == NULL; i++) {
			const char *name = params_format_name(auto_formats[i].format);

			if (strlen(name) == w && strncmp(name, p, w) == 0)
				a = &auto_formats[i];
		}
		if (a == NULL) {
			snprintf(why, len, "auto_formats: expected a list of avif, "
			    "jxl and webp (or none), got '%.*s'",
			    (int)(w < 40 ? w : 40), p);
			return -1;
		}
		for (unsigned i = 0; i < k; i++)
			if (got[i] == a->format) {
				snprintf(why, len, "auto_formats: %s listed twice",
				    params_format_name(a->format));
				return -1;
			}
		if (k >= max) {
			snprintf(why, len, "auto_formats: at most %u formats", max);
			return -1;
		}
		got[k++] = a->format;
		p += w;
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		if (*p++ != ',') {
			snprintf(why, len, "auto_formats: separate the formats "
			    "with commas");
			return -1;
		}
	}
	memcpy(out, got, k * sizeof(*got));
	*n = k;
	return 0;
}
