/*
 * log - one line per event to stderr, "mediafcgi[pid]: level: message".
 * Messages that carry request text are escaped by the caller (log_escape).
 */
#ifndef MF_LOG_H
#define MF_LOG_H

#include <stddef.h>
#include <stdint.h>

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copies src into dst (size len, NUL-terminated, truncated) with control
 * bytes, quotes, backslashes and bytes >= 0x7f written as \xHH, so no
 * request can forge or split a log line.
 */
void log_escape(char *dst, size_t len, const char *src);

/*
 * log_escape() of a request URI with the value of every sig parameter (its
 * name read as the query parser reads it, escapes decoded) written as
 * REDACTED: a signature is a credential, for neither the status page nor
 * the logs.
 */
void log_escape_uri(char *dst, size_t len, const char *uri);

/*
 * Where the logs go: error lines to error_path (NULL: stderr stays), access
 * lines to access_path ("stderr", a path, or NULL: none). Files are opened
 * for appending; log_reopen() opens them again by name (SIGUSR1, after
 * logrotate moved them). 0, or -1 with errno (the old ones are kept).
 */
int log_open(const char *access_path, const char *error_path);
int log_reopen(void);

/*
 * One access line:
 *   2026-11-22T06:01:02.345Z 127.0.0.1 "GET /media/a.jpg?size=300x200" 200 9416 12ms pid=123
 * client, method and uri are escaped here.
 */
void log_access(const char *client, const char *method, const char *uri,
    int status, uint64_t bytes, int64_t ms);

#endif
