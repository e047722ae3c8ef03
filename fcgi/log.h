/*
 * log - one line per event to stderr, "mediafcgi[pid]: level: message".
 * Messages that carry request text are escaped by the caller (log_escape).
 */
#ifndef MF_LOG_H
#define MF_LOG_H

#include <stddef.h>

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copies src into dst (size len, NUL-terminated, truncated) with control
 * bytes, quotes, backslashes and bytes >= 0x7f written as \xHH, so no
 * request can forge or split a log line.
 */
void log_escape(char *dst, size_t len, const char *src);

#endif
