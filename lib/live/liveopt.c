/*
 * liveopt - a live source's format and options. See liveopt.h for the
 * syntax and the contract.
 *
 * The items are read once into a dictionary of their own (a key twice is
 * refused there); liveopt_parse() then copies that over the caller's, so
 * the config's options override what livesrc sets by default. A key is
 * known when avformat's class, searched with its children (every
 * protocol, muxer and demuxer, libavdevice's devices once registered),
 * has an input option of that name: a typo is refused at config load,
 * and livesrc refuses at open a key the source's own format and
 * protocol did not take.
 */
#include "live/liveopt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/opt.h>

#define KEY_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789_-"
#define MAX_KEY		64

static void
register_devices(void)
{
	/* Sets libavformat's device lists: the same each time. */
	avdevice_register_all();
}

bool
liveopt_format_known(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return false;
	register_devices();
	return av_find_input_format(name) != NULL;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One VALUE from *p (quoted or not) into a new string *out: 0, or -1
 * with why. *p is left after it.
 */
static int
read_value(const char **p, const char *key, char **out, char *why,
    size_t len)
{
	const char *s = *p;
	char *v, *w;

	if ((v = malloc(strlen(s) + 1)) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	w = v;
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				s++;
			if (*s == '\0') {
				snprintf(why, len,
				    "%s: the quote is not closed", key);
				goto fail;
			}
			*w++ = *s;
		}
		s++;
		if (*s != '\0' && !is_blank(*s)) {
			snprintf(why, len, "%s: a space must follow the "
			    "closing quote", key);
			goto fail;
		}
	} else {
		for (; *s != '\0' && !is_blank(*s); s++) {
			if (*s == '"') {
				snprintf(why, len, "%s: quote the whole value "
				    "(key=\"...\")", key);
				goto fail;
			}
			*w++ = *s;
		}
		if (w == v) {
			snprintf(why, len, "%s: empty value (write %s=\"\")",
			    key, key);
			goto fail;
		}
	}
	*w = '\0';
	*p = s;
	*out = v;
	return 0;
fail:
	free(v);
	return -1;
}

/* s's items into a new *dict of their own: 0, or -1 with why. */
static int
parse_items(const char *s, AVDictionary **dict, char *why, size_t len)
{
	const char *p = s;

	*dict = NULL;
	for (;;) {
		char key[MAX_KEY + 1], *value = NULL;
		size_t n;

		while (is_blank(*p))
			p++;
		if (*p == '\0')
			return 0;
		n = strspn(p, KEY_CHARS);
		if (n == 0 || p[n] != '=') {
			size_t item = strcspn(p, " \t");

			snprintf(why, len, "expected key=value, got '%.*s'",
			    (int)(item < 40 ? item : 40), p);
			return -1;
		}
		if (n > MAX_KEY) {
			snprintf(why, len, "key '%.40s...' is too long", p);
			return -1;
		}
		memcpy(key, p, n);
		key[n] = '\0';
		p += n + 1;
		if (av_dict_get(*dict, key, NULL, AV_DICT_MATCH_CASE) != NULL) {
			snprintf(why, len, "%s given twice", key);
			return -1;
		}
		if (read_value(&p, key, &value, why, len) < 0)
			return -1;
		if (av_dict_set(dict, key, value, AV_DICT_MATCH_CASE |
		    AV_DICT_DONT_STRDUP_VAL) < 0) {
			snprintf(why, len, "out of memory");
			return -1;
		}
	}
}

int
liveopt_parse(const char *s, AVDictionary **dict, char *why, size_t len)
{
	AVDictionary *mine = NULL;
	int rc = -1;

	if (s == NULL)
		return 0;
	if (parse_items(s, &mine, why, len) < 0)
		goto out;
	if (av_dict_copy(dict, mine, 0) < 0) {
		snprintf(why, len, "out of memory");
		goto out;
	}
	rc = 0;
out:
	av_dict_free(&mine);
	return rc;
}

/* Whether some demuxer, device or protocol reads key as an input option. */
static bool
key_known(const char *key)
{
	const AVClass *fc = avformat_get_class();

	return av_opt_find2(&fc, key, NULL, AV_OPT_FLAG_DECODING_PARAM,
	    AV_OPT_SEARCH_CHILDREN | AV_OPT_SEARCH_FAKE_OBJ, NULL) != NULL;
}

int
liveopt_check(const char *s, char *why, size_t len)
{
	AVDictionary *mine = NULL;
	const AVDictionaryEntry *t = NULL;
	int rc = -1;

	register_devices();
	if (parse_items(s, &mine, why, len) < 0)
		goto out;
	while ((t = av_dict_get(mine, "", t, AV_DICT_IGNORE_SUFFIX)) != NULL)
		if (!key_known(t->key)) {
			snprintf(why, len, "%.64s: no libav demuxer, device or "
			    "protocol has this option", t->key);
			goto out;
		}
	rc = 0;
out:
	av_dict_free(&mine);
	return rc;
}

/* "N" (or nothing, which libav's tcp reads as 1) other than 0. */
static bool
listen_value(const char *v, size_t n)
{
	char *end;
	long x;
	char buf[16];

	if (n == 0)
		return true;
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, v, n);
	buf[n] = '\0';
	x = strtol(buf, &end, 10);
	return end == buf || x != 0;
}

bool
liveopt_listens(const char *url, const AVDictionary *opts)
{
	const AVDictionaryEntry *t = av_dict_get(opts, "listen", NULL,
	    AV_DICT_MATCH_CASE);
	const char *q = url != NULL ? strchr(url, '?') : NULL;

	/* tcp reads its URL's query after its options: the query wins. */
	for (q = q != NULL ? q + 1 : NULL; q != NULL && *q != '\0' &&
	    *q != '#'; ) {
		size_t n = strcspn(q, "&#");

		if (strncmp(q, "listen", 6) == 0 && (n == 6 || q[6] == '='))
			return listen_value(q + 7, n > 6 ? n - 7 : 0);
		q += n;
		if (*q == '&')
			q++;
	}
	return t != NULL && listen_value(t->value, strlen(t->value));
}
