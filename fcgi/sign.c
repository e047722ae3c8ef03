#include "sign.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

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

int
sign_compute(const char *key, const char *path, size_t path_len,
    const struct params *p, char hex[65])
{
	char msg[4096 + PARAMS_MAX_QUERY + 2];
	struct params q = *p;
	int n;

	q.given &= ~P_SIG;
	if (path_len > 4096)
		return -1;
	memcpy(msg, path, path_len);
	msg[path_len] = '?';
	n = params_canonical(&q, msg + path_len + 1, sizeof(msg) - path_len - 1);
	if (n < 0)
		return -1;
	return hmac_hex(key, msg, path_len + 1 + (size_t)n, hex);
}

int
sign_check(const char *key, const char *path, size_t path_len,
    const struct params *p, struct err *e)
{
	char want[65];

	if (!(p->given & P_SIG))
		return err_set(e, ERR_FORBIDDEN, "sig: this server needs signed URLs");
	if (sign_compute(key, path, path_len, p, want) < 0)
		return err_set(e, ERR_FORBIDDEN, "sig: the URL cannot be signed");
	if (CRYPTO_memcmp(want, p->sig, 64) == 0)
		return 0;
	/* Also accepted: the query exactly as sent, without its sig pair
	 * (what an application signs without knowing the canonical order). */
	if (path[path_len] == '?') {
		char raw[PARAMS_MAX_QUERY + 1];

		if (sign_check_raw(key, path, raw, sizeof(raw), e) == 0)
			return 0;
		err_init(e);
	}
	return err_set(e, ERR_FORBIDDEN, "sig: does not match the URL");
}

/* uri's query without its "sig=" pair into q; the sig value into sig. */
static int
split_sig(const char *uri, char *q, size_t len, char sig[65])
{
	const char *p = strchr(uri, '?');
	size_t o = 0;

	sig[0] = '\0';
	q[0] = '\0';
	if (p == NULL)
		return 0;
	for (p++; *p && *p != '#';) {
		size_t n = strcspn(p, "&#");

		if (n == 68 && strncmp(p, "sig=", 4) == 0) {
			memcpy(sig, p + 4, 64);
			sig[64] = '\0';
		} else if (n > 0) {
			if (o + n + 2 > len)
				return -1;
			if (o > 0)
				q[o++] = '&';
			memcpy(q + o, p, n);
			o += n;
			q[o] = '\0';
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return 0;
}

int
sign_check_raw(const char *key, const char *uri, char *out, size_t len,
    struct err *e)
{
	size_t pl = strcspn(uri, "?#");
	char msg[4096 + PARAMS_MAX_QUERY + 2], sig[65], want[65];

	if (split_sig(uri, out, len, sig) < 0 || pl > 4096 ||
	    pl + 1 + strlen(out) >= sizeof(msg))
		return err_set(e, ERR_FORBIDDEN, "sig: the URL cannot be signed");
	if (sig[0] == '\0')
		return err_set(e, ERR_FORBIDDEN, "sig: this server needs signed URLs");
	for (char *c = sig; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c + 32);
	memcpy(msg, uri, pl);
	msg[pl] = '?';
	strcpy(msg + pl + 1, out);
	if (hmac_hex(key, msg, pl + 1 + strlen(out), want) < 0 ||
	    CRYPTO_memcmp(want, sig, 64) != 0)
		return err_set(e, ERR_FORBIDDEN, "sig: does not match the URL");
	return 0;
}

int
sign_url(const char *key, const char *url, char *out, size_t len,
    struct err *e)
{
	size_t pl = strcspn(url, "?#");
	const char *q = url[pl] == '?' ? url + pl + 1 : NULL;
	char hex[65], canon[PARAMS_MAX_QUERY + 1];
	struct params p;
	int n;

	if (url[0] != '/')
		return err_set(e, ERR_BAD_PARAM,
		    "give the URL's path and query: /photos/a.jpg?size=300x200");
	params_init(&p);
	if (params_parse(q, &p, e) < 0) {
		/* Not the media API: a [program] route's own parameters,
		 * signed as given (sign_check_raw()). */
		char raw[PARAMS_MAX_QUERY + 1], msg[4096 + PARAMS_MAX_QUERY + 2];

		err_init(e);
		if (split_sig(url, raw, sizeof(raw), hex) < 0 || pl > 4096)
			return err_set(e, ERR_BAD_PARAM, "URL too long to sign");
		memcpy(msg, url, pl);
		msg[pl] = '?';
		strcpy(msg + pl + 1, raw);
		if (hmac_hex(key, msg, pl + 1 + strlen(raw), hex) < 0 ||
		    snprintf(out, len, "%.*s?%s%ssig=%s", (int)pl, url, raw,
		    raw[0] ? "&" : "", hex) >= (int)len)
			return err_set(e, ERR_BAD_PARAM, "URL too long to sign");
		return 0;
	}
	p.given &= ~P_SIG;
	if (sign_compute(key, url, pl, &p, hex) < 0 ||
	    (n = params_canonical(&p, canon, sizeof(canon))) < 0)
		return err_set(e, ERR_BAD_PARAM, "URL too long to sign");
	if (snprintf(out, len, "%.*s?%s%ssig=%s", (int)pl, url, canon,
	    n > 0 ? "&" : "", hex) >= (int)len)
		return err_set(e, ERR_BAD_PARAM, "URL too long to sign");
	return 0;
}
