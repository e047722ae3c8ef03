#include "http/cache.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

void
cache_etag(const struct stat *st, const char *variant, char *etag, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char head[64];
	int n;

	n = snprintf(head, sizeof(head), "%lld:%lld:", (long long)st->st_size,
	    (long long)st->st_mtim.tv_sec);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, head, (size_t)n) != 1 ||
	    EVP_DigestUpdate(ctx, variant, strlen(variant)) != 1 ||
	    EVP_DigestUpdate(ctx, ":" MF_VERSION, strlen(MF_VERSION) + 1) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 16)
		mdlen = 0;
	EVP_MD_CTX_free(ctx);
	if (len < CACHE_ETAG_LEN) {
		if (len)
			etag[0] = '\0';
		return;
	}
	etag[0] = '"';
	for (unsigned i = 0; i < 16; i++) {
		etag[1 + 2 * i] = hex[(mdlen ? md[i] : 0) >> 4];
		etag[2 + 2 * i] = hex[(mdlen ? md[i] : 0) & 15];
	}
	etag[33] = '"';
	etag[34] = '\0';
}

void
cache_http_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static bool
etag_listed(const char *list, const char *etag)
{
	size_t el = strlen(etag);
	const char *p = list;

	while (*p) {
		size_t n;

		p += strspn(p, " \t,");
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == el && memcmp(p, etag, el) == 0)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

bool
cache_not_modified(const char *if_none_match, const char *if_modified_since,
    const char *etag, time_t mtime)
{
	struct tm tm;
	const char *end;

	if (if_none_match != NULL)
		return etag_listed(if_none_match, etag);
	if (if_modified_since == NULL)
		return false;
	memset(&tm, 0, sizeof(tm));
	end = strptime(if_modified_since, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return false;
	return mtime <= timegm(&tm);
}
