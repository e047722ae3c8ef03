/*
 * sign - signed URLs (see sign.h).
 */
#include "route/sign.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SIGN_PATH_MAX	4096
#define SIGN_MSG_MAX	(SIGN_PATH_MAX + PARAMS_MAX_QUERY + 2)

/* hex HMAC-SHA256 of msg[0..n) under key into hex[65]. */
static int
hmac_hex(const char *key, const char *msg, size_t n, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg,
	    n, md, &mdlen) == NULL || mdlen != 32)
		return -1;
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}

/* The message "PATH?QUERY" into msg (SIGN_MSG_MAX bytes): its length, or
 * -1 if it does not fit. */
static int
message(char msg[SIGN_MSG_MAX], const char *path, size_t path_len,
    const char *query)
{
	size_t ql = strlen(query);

	if (path_len > SIGN_PATH_MAX || path_len + 1 + ql >= SIGN_MSG_MAX)
		return -1;
	memcpy(msg, path, path_len);
	msg[path_len] = '?';
	memcpy(msg + path_len + 1, query, ql + 1);
	return (int)(path_len + 1 + ql);
}

int
sign_compute(const char *key, const char *path, size_t path_len,
    const struct params *p, char hex[65])
{
	char msg[SIGN_MSG_MAX], canon[PARAMS_MAX_QUERY + 1];
	struct params q = *p;
	int n;

	q.given &= ~P_SIG;
	if (params_canonical(&q, canon, sizeof(canon)) < 0 ||
	    (n = message(msg, path, path_len, canon)) < 0)
		return -1;
	return hmac_hex(key, msg, (size_t)n, hex);
}

int
sign_strip(const char *query, char *out, size_t len)
{
	const char *p = query;
	size_t o = 0;

	if (len == 0)
		return -1;
	out[0] = '\0';
	if (p == NULL)
		return 0;
	while (*p && *p != '#') {
		size_t n = strcspn(p, "&#");

		if (n > 0 && !(n >= 3 && strncmp(p, "sig", 3) == 0 &&
		    (n == 3 || p[3] == '='))) {
			if (o + n + 2 > len)
				return -1;
			if (o > 0)
				out[o++] = '&';
			memcpy(out + o, p, n);
			o += n;
			out[o] = '\0';
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return 0;
}

int
sign_verify(char *const keys[], unsigned n, const char *path,
    size_t path_len, const struct params *p, const char *raw,
    const char *sig, struct err *e)
{
	char msg[SIGN_MSG_MAX], want[65];
	int ml = raw != NULL ? message(msg, path, path_len, raw) : -1;

	if (ml < 0 && p == NULL)
		return err_set(e, ERR_FORBIDDEN, "sig: the URL cannot be signed");
	for (unsigned i = 0; i < n; i++) {
		if (p != NULL && sign_compute(keys[i], path, path_len, p,
		    want) == 0 && CRYPTO_memcmp(want, sig, 64) == 0)
			return 0;
		if (ml >= 0 && hmac_hex(keys[i], msg, (size_t)ml, want) == 0 &&
		    CRYPTO_memcmp(want, sig, 64) == 0)
			return 0;
	}
	return err_set(e, ERR_FORBIDDEN, "sig: does not match the URL");
}

int
sign_url(const char *key, const char *url, uint32_t expires, char *out,
    size_t len, struct err *e)
{
	size_t pl = strcspn(url, "?#");
	const char *q = url[pl] == '?' ? url + pl + 1 : NULL;
	char hex[65], query[PARAMS_MAX_QUERY + 1], msg[SIGN_MSG_MAX];
	struct params p;
	int n;

	if (url[0] != '/')
		return err_set(e, ERR_BAD_PARAM,
		    "give the URL's path and query: /photos/a.jpg?size=300x200");
	params_init(&p);
	if (params_parse(q, &p, e) == 0) {
		if (expires != 0 && (p.given & P_EXPIRES))
			return err_set(e, ERR_BAD_PARAM,
			    "expires: given in the URL and as --expires");
		if (expires != 0) {
			p.given |= P_EXPIRES;
			p.expires = expires;
		}
		p.given &= ~P_SIG;
		if (params_canonical(&p, query, sizeof(query)) < 0)
			return err_set(e, ERR_BAD_PARAM, "URL too long to sign");
	} else {
		/* Not the media API: a [program] route's own parameters,
		 * signed as given. */
		size_t o;

		err_init(e);
		if (sign_strip(q, query, sizeof(query)) < 0)
			return err_set(e, ERR_BAD_PARAM, "URL too long to sign");
		o = strlen(query);
		if (expires != 0 && (strncmp(query, "expires=", 8) == 0 ||
		    strstr(query, "&expires=") != NULL))
			return err_set(e, ERR_BAD_PARAM,
			    "expires: given in the URL and as --expires");
		if (expires != 0 && snprintf(query + o, sizeof(query) - o,
		    "%sexpires=%lu", o ? "&" : "", (unsigned long)expires) >=
		    (int)(sizeof(query) - o))
			return err_set(e, ERR_BAD_PARAM, "URL too long to sign");
	}
	if ((n = message(msg, url, pl, query)) < 0 ||
	    hmac_hex(key, msg, (size_t)n, hex) < 0 ||
	    snprintf(out, len, "%.*s?%s%ssig=%s", (int)pl, url, query,
	    query[0] ? "&" : "", hex) >= (int)len)
		return err_set(e, ERR_BAD_PARAM, "URL too long to sign");
	return 0;
}
