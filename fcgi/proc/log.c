#include "proc/log.h"

#include <stdbool.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "req/pct.h"

/*
 * The configured log paths and the access log's fd: set once at start (and
 * by log_reopen()), read by every line written; the process's own state,
 * like stderr.
 */
static char *access_name, *error_name;
static int access_fd = -1;

static void
log_line(const char *level, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "mediafcgi[%d]: %s: ", (int)getpid(),
	    level);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* One write per line, so lines of several processes do not mix. */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

#define LOG_FN(name, level) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		log_line(level, fmt, ap); \
		va_end(ap); \
	}

LOG_FN(log_info, "info")
LOG_FN(log_warn, "warning")
LOG_FN(log_error, "error")

void
log_escape(char *dst, size_t len, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (len == 0)
		return;
	for (; *src != '\0'; src++) {
		unsigned char ch = (unsigned char)*src;

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
			if (o + 4 >= len)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		} else {
			if (o + 1 >= len)
				break;
			dst[o++] = (char)ch;
		}
	}
	dst[o] = '\0';
}

/* Whether the query pair name s[0..n) decodes to "sig". */
static bool
is_sig_name(const char *s, size_t n)
{
	char name[8];

	return n < sizeof(name) * 3 &&
	    pct_decode_query(s, n, name, sizeof(name)) == 3 &&
	    memcmp(name, "sig", 3) == 0;
}

void
log_escape_uri(char *dst, size_t len, const char *uri)
{
	/* Long enough for any line this is put in; the rest is cut. */
	char buf[4096];
	size_t n = strcspn(uri, "?"), o;
	const char *p;

	o = n < sizeof(buf) - 1 ? n : sizeof(buf) - 1;
	memcpy(buf, uri, o);
	for (p = uri + n; *p != '\0' && o < sizeof(buf) - 1;) {
		/* p is at '?' or '&': copy it, then the pair behind it. */
		size_t pl = strcspn(p + 1, "&"), nl = strcspn(p + 1, "=&");
		bool sig = nl < pl && is_sig_name(p + 1, nl);
		size_t keep = sig ? nl + 2 : pl + 1;
		const char *add = sig ? "REDACTED" : "";

		if (keep > sizeof(buf) - 1 - o)
			keep = sizeof(buf) - 1 - o;
		memcpy(buf + o, p, keep);
		o += keep;
		if (*add != '\0' && o + strlen(add) < sizeof(buf)) {
			memcpy(buf + o, add, strlen(add));
			o += strlen(add);
		}
		p += pl + 1;
	}
	buf[o] = '\0';
	log_escape(dst, len, buf);
}

static int
open_append(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
}

int
log_reopen(void)
{
	int fd, rc = 0;

	if (error_name != NULL) {
		if ((fd = open_append(error_name)) < 0)
			rc = -1;
		else {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
	if (access_name != NULL) {
		if (strcmp(access_name, "stderr") == 0)
			fd = dup(STDERR_FILENO);
		else
			fd = open_append(access_name);
		if (fd < 0)
			rc = -1;
		else {
			if (access_fd >= 0)
				close(access_fd);
			access_fd = fd;
		}
	}
	return rc;
}

int
log_open(const char *access_path, const char *error_path)
{
	free(access_name);
	free(error_name);
	access_name = access_path ? strdup(access_path) : NULL;
	error_name = error_path ? strdup(error_path) : NULL;
	return log_reopen();
}

void
log_access(const char *client, const char *method, const char *uri,
    int status, uint64_t bytes, int64_t ms)
{
	char line[1400], c[64], m[32], u[1024], when[32];
	struct timeval tv;
	struct tm tm;
	int n;

	if (access_fd < 0)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	log_escape(c, sizeof(c), client ? client : "-");
	log_escape(m, sizeof(m), method ? method : "-");
	log_escape_uri(u, sizeof(u), uri ? uri : "-");
	n = snprintf(line, sizeof(line), "%s.%03dZ %s \"%s %s\" %d %llu %lldms pid=%d\n",
	    when, (int)(tv.tv_usec / 1000), c, m, u, status,
	    (unsigned long long)bytes, (long long)ms, (int)getpid());
	if (n > 0 && (size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (n > 0)
		(void)!write(access_fd, line, (size_t)n);
}
