/*
 * path - REQUEST_URI to a file under the media root (see path.h). The text
 * checks here (decoded once, no "..", no NUL, no backslash) reject the
 * obvious attacks early with a clear status; openat2(RESOLVE_BENEATH) is
 * what actually keeps every open inside the root, symlinks included.
 */
#include "req/path.h"
#include "req/pct.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Percent-decodes uri[0..n) once into out (PATH_MAX_URI + 1 bytes). A
 * decoded NUL or backslash is refused here, before any later step could
 * read it as the end of the text or a separator.
 */
static int
decode(const char *uri, size_t n, char *out, struct err *e)
{
	int rc = pct_decode(uri, n, out, PATH_MAX_URI + 1);

	if (rc == PCT_BAD)
		return err_set(e, ERR_BAD_PARAM, "path: bad percent escape");
	if (rc == PCT_NUL)
		return err_set(e, ERR_FORBIDDEN, "path: NUL byte");
	if (rc == PCT_LONG)
		return err_set(e, ERR_FORBIDDEN, "path: too long");
	if (strchr(out, '\\') != NULL)
		return err_set(e, ERR_FORBIDDEN, "path: backslash");
	return 0;
}

/*
 * Rewrites the decoded absolute path in place as its segments joined by
 * single slashes, without a leading one: empty segments dropped, "." and
 * ".." refused. openat2 would keep ".." inside the root, but a client that
 * sends a dot segment is probing: the web server in front routes and
 * guards ("location /internal/ { deny all; }") the path it normalised
 * itself, so a dot segment could make it and the router see two different
 * paths. A trailing slash stays, so "/a.jpg/" names a directory (ENOTDIR),
 * not the file.
 */
static int
normalize(char *path, struct err *e)
{
	char *r = path, *w = path, *seg;
	size_t n = strlen(path);
	bool dir = n > 0 && path[n - 1] == '/';
	int rc = 0;

	while (*r != '\0') {
		while (*r == '/')
			r++;
		seg = r;
		n = strcspn(seg, "/");
		r = seg + n;
		if (n == 0)
			continue;
		if ((n == 1 || n == 2) && seg[0] == '.' && seg[n - 1] == '.') {
			rc = err_set(e, ERR_FORBIDDEN, "path: '%s' segment",
			    n == 1 ? "." : "..");
			goto out;
		}
		if (w != path)
			*w++ = '/';
		/* w never passes seg: at most as many bytes were written. */
		memmove(w, seg, n);
		w += n;
	}
	if (dir && w != path)
		*w++ = '/';
	*w = '\0';
out:
	return rc;
}

/*
 * Removes the mount's segments from the front of the normalised path p;
 * NULL if p is not beneath the mount (the mount itself is not beneath it).
 */
static const char *
strip_mount(const char *p, const char *mount)
{
	size_t n;

	if (mount == NULL)
		return p;
	/* The configured "/media" or "/media/" is the segment "media". */
	while (*mount == '/')
		mount++;
	n = strlen(mount);
	while (n > 0 && mount[n - 1] == '/')
		n--;
	if (n == 0)
		return p;
	if (strncmp(p, mount, n) != 0 || p[n] != '/')
		return NULL;
	return p + n + 1;
}

int
path_decode(const char *uri, char *path, size_t len, struct err *e)
{
	char buf[PATH_MAX_URI + 1];
	size_t n;
	int rc;

	if (uri == NULL || uri[0] != '/') {
		rc = err_set(e, ERR_BAD_PARAM, "path: must start with '/'");
		goto out;
	}
	if ((rc = decode(uri, strcspn(uri, "?#"), buf, e)) < 0)
		goto out;
	if ((rc = normalize(buf, e)) < 0)
		goto out;
	n = strlen(buf);
	if (n + 2 > len) {
		rc = err_set(e, ERR_FORBIDDEN, "path: too long");
		goto out;
	}
	path[0] = '/';
	memcpy(path + 1, buf, n + 1);
	rc = 0;
out:
	return rc;
}

int
path_relative(const char *path, const char *mount, char *rel, size_t len,
    struct err *e)
{
	const char *r;
	size_t n;

	if ((r = strip_mount(path + strspn(path, "/"), mount)) == NULL ||
	    *r == '\0')
		return err_set(e, ERR_NOT_FOUND, "not found");
	n = strlen(r);
	if (n >= len)
		return err_set(e, ERR_FORBIDDEN, "path: too long");
	memcpy(rel, r, n + 1);
	return 0;
}

int
path_from_uri(const char *uri, const char *mount, char *rel, size_t len,
    struct err *e)
{
	char path[PATH_MAX_URI + 2];
	int rc;

	if ((rc = path_decode(uri, path, sizeof(path), e)) < 0)
		return rc;
	return path_relative(path, mount, rel, len, e);
}

int
path_open(int rootfd, const char *rel, struct stat *st, struct err *e)
{
	/*
	 * O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
	 * refused as not regular); reads of regular files ignore the flag.
	 */
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1, rc;

	/* glibc 2.36 has no openat2() wrapper. */
	do
		fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		switch (errno) {
		case ENOENT:
		case ENOTDIR:
		/* A socket, or a device with no driver: never a media file. */
		case ENXIO:
		case ENODEV:
		case EOPNOTSUPP:
			rc = err_set(e, ERR_NOT_FOUND, "not found");
			break;
		case EXDEV:
		case ELOOP:
			rc = err_set(e, ERR_FORBIDDEN,
			    "path: leaves the media root");
			break;
		case EACCES:
		case EPERM:
			rc = err_set(e, ERR_FORBIDDEN, "permission denied");
			break;
		case ENAMETOOLONG:
			rc = err_set(e, ERR_FORBIDDEN, "path: name too long");
			break;
		default:
			rc = err_set(e, ERR_INTERNAL, "open: %s",
			    strerror(errno));
			break;
		}
		goto out;
	}
	if (fstat(fd, st) < 0) {
		rc = err_set(e, ERR_INTERNAL, "fstat: %s", strerror(errno));
		goto out;
	}
	/* Directories, FIFOs, sockets and devices are never served. */
	if (!S_ISREG(st->st_mode)) {
		rc = err_set(e, ERR_NOT_FOUND, "not found");
		goto out;
	}
	rc = fd;
	fd = -1;	/* handed to the caller */
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
