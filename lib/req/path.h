/*
 * path - from a request's REQUEST_URI to an open file under the media root.
 * The path is the part before '?', percent-decoded exactly once, minus the
 * configured mount prefix; it is opened beneath the root directory fd with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so no "..", absolute or
 * symlinked step can leave the root, whatever the kernel finds on disk.
 * Ownership: the caller owns every buffer and closes the returned fd.
 */
#ifndef MF_PATH_H
#define MF_PATH_H

#include <stddef.h>
#include <sys/stat.h>

#include "core/err.h"

#define PATH_MAX_URI	4096	/* bytes of the decoded path */

/*
 * The path of uri as every route sees it: the text before '?' (and '#'),
 * percent-decoded once, as "/" and its segments joined by single slashes
 * (empty segments dropped, a trailing slash kept), into path (of size len;
 * PATH_MAX_URI + 2 always fits). Fails with
 *   ERR_BAD_PARAM  a bad escape ("%zz", "%4"), uri not starting with '/';
 *   ERR_FORBIDDEN  a NUL (%00), a backslash, a "." or ".." segment (raw or
 *                  %2e-encoded, any case), a path longer than PATH_MAX_URI.
 * Routes are chosen on this text, never on the raw URI.
 */
int path_decode(const char *uri, char *path, size_t len, struct err *e);

/*
 * Writes into rel (of size len) path (from path_decode()) relative to the
 * root: mount (e.g. "/media", "" or NULL for none) removed from its front
 * at a segment boundary, no leading slash. ERR_NOT_FOUND outside the
 * mount or for the root itself, ERR_FORBIDDEN if it does not fit.
 */
int path_relative(const char *path, const char *mount, char *rel, size_t len,
    struct err *e);

/*
 * path_decode() then path_relative(): writes into rel (of size len) the
 * path of uri relative to the root:
 * the text before '?' (and before '#'), percent-decoded once, with mount
 * (e.g. "/media", or "" or NULL for none) removed from its front at a
 * segment boundary, and without leading slashes. Fails with
 *   ERR_BAD_PARAM  a bad escape ("%zz", "%4"), uri not starting with '/';
 *   ERR_FORBIDDEN  a NUL (%00), a backslash, a "." or ".." segment, a path
 *                  longer than PATH_MAX_URI or len;
 *   ERR_NOT_FOUND  a uri outside the mount, or naming the root itself.
 */
int path_from_uri(const char *uri, const char *mount, char *rel, size_t len,
    struct err *e);

/*
 * Opens rel (from path_from_uri) beneath the directory rootfd, read-only,
 * close-on-exec, and fills st. Fails with ERR_FORBIDDEN when resolution
 * would leave the root (a symlink pointing out, EXDEV/ELOOP) or permission
 * is denied, ERR_NOT_FOUND when nothing is there, or it is a directory or
 * not a regular file (FIFOs and devices are never read: the open does not
 * block on them). Returns the fd (>= 0) or the negative error.
 */
int path_open(int rootfd, const char *rel, struct stat *st, struct err *e);

#endif
