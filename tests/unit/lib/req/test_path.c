/*
 * test_path - REQUEST_URI to an open file beneath the root, against a real
 * tree made under mkdtemp() for the run and removed at its end: files, a
 * subdirectory, symlinks inside, out, absolute and looping, a FIFO.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "req/path.h"

/* The group's state: the temporary tree and its media root. */
struct tree {
	char dir[64];		/* mkdtemp(): holds root/ and outside.jpg */
	bool made;		/* dir exists: teardown removes it */
	int rootfd;		/* dir/root, O_PATH | O_DIRECTORY */
};

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc = -1;

	if (f == NULL)
		goto out;
	if (fputs(text, f) >= 0)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
out:
	return rc;
}

/* Writes "DIR/rel" into path; -1 if it does not fit. */
static int
at(const struct tree *t, const char *rel, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%s", t->dir, rel);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int
make_tree(struct tree *t)
{
	char p[PATH_MAX], q[PATH_MAX];
	int rc = -1;

	t->rootfd = -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/mf-test-path-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		goto out;
	t->made = true;
	/* A file outside the root that no request may reach. */
	if (at(t, "outside.jpg", p, sizeof(p)) || write_file(p, "SECRET"))
		goto out;
	if (at(t, "root", p, sizeof(p)) || mkdir(p, 0755))
		goto out;
	if (at(t, "root/a.jpg", p, sizeof(p)) || write_file(p, "AAAA"))
		goto out;
	if (at(t, "root/%41.jpg", p, sizeof(p)) || write_file(p, "PCT"))
		goto out;
	if (at(t, "root/...", p, sizeof(p)) || write_file(p, "DOTS"))
		goto out;
	if (at(t, "root/sub", p, sizeof(p)) || mkdir(p, 0755))
		goto out;
	if (at(t, "root/sub/b.png", p, sizeof(p)) || write_file(p, "BB"))
		goto out;
	if (at(t, "root/media", p, sizeof(p)) || mkdir(p, 0755))
		goto out;
	if (at(t, "root/media/m.jpg", p, sizeof(p)) || write_file(p, "M"))
		goto out;
	/* Symlinks that stay inside. */
	if (at(t, "root/link-in", p, sizeof(p)) || symlink("sub/b.png", p))
		goto out;
	if (at(t, "root/sub/link-up", p, sizeof(p)) || symlink("../a.jpg", p))
		goto out;
	if (at(t, "root/link-dir", p, sizeof(p)) || symlink("sub", p))
		goto out;
	/* Symlinks that leave, or try to. */
	if (at(t, "root/link-out", p, sizeof(p)) ||
	    symlink("../outside.jpg", p))
		goto out;
	if (at(t, "root/sub/link-out2", p, sizeof(p)) ||
	    symlink("../../outside.jpg", p))
		goto out;
	if (at(t, "outside.jpg", q, sizeof(q)) ||
	    at(t, "root/link-abs", p, sizeof(p)) || symlink(q, p))
		goto out;
	/* absolute, even though it names a file inside */
	if (at(t, "root/a.jpg", q, sizeof(q)) ||
	    at(t, "root/link-abs-in", p, sizeof(p)) || symlink(q, p))
		goto out;
	if (at(t, "root/link-etc", p, sizeof(p)) || symlink("/etc/passwd", p))
		goto out;
	if (at(t, "root/loop", p, sizeof(p)) || symlink("loop", p))
		goto out;
	if (at(t, "root/dangling", p, sizeof(p)) || symlink("nothing", p))
		goto out;
	if (at(t, "root/fifo", p, sizeof(p)) || mkfifo(p, 0644))
		goto out;
	if (at(t, "root", p, sizeof(p)))
		goto out;
	if ((t->rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto out;
	rc = 0;
out:
	return rc;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	int rc = -1;

	if (t == NULL)
		goto out;
	*state = t;	/* teardown frees t, whatever was made */
	if (make_tree(t) < 0) {
		perror("test_path: making the tree");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

static int
teardown(void **state)
{
	struct tree *t = *state;
	int rc = 0;

	if (t == NULL)
		goto out;
	if (t->rootfd >= 0)
		close(t->rootfd);
	if (t->made && nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		perror("test_path: removing the tree");
		rc = -1;
	}
	free(t);
out:
	return rc;
}

/* path_from_uri must give want. */
static void
rel_at(int line, const char *uri, const char *mount, const char *want)
{
	char rel[PATH_MAX_URI + 1];
	struct err e;
	int rc;

	err_init(&e);
	rc = path_from_uri(uri, mount, rel, sizeof(rel), &e);
	if (rc != 0)
		fail_msg("line %d: '%s' mount '%s': rc %d '%s'", line, uri,
		    mount ? mount : "(null)", rc, e.msg);
	if (strcmp(rel, want) != 0)
		fail_msg("line %d: '%s' mount '%s': got '%s', want '%s'", line,
		    uri, mount ? mount : "(null)", rel, want);
}

/* path_from_uri must fail with kind. */
static void
uri_fails_at(int line, const char *uri, const char *mount,
    enum err_kind kind)
{
	char rel[PATH_MAX_URI + 1];
	struct err e;
	int rc;

	err_init(&e);
	rc = path_from_uri(uri, mount, rel, sizeof(rel), &e);
	if (rc != -(int)kind || e.kind != kind)
		fail_msg("line %d: '%.60s' mount '%s': rc %d '%s', want %s",
		    line, uri, mount ? mount : "(null)", rc, e.msg,
		    err_kind_name(kind));
	if (strlen(e.msg) > 80 || strstr(e.msg, "secret") != NULL)
		fail_msg("line %d: message echoes the path: '%s'", line, e.msg);
}

/* path_open of rel must fail with kind, closing what it opened. */
static void
open_fails_at(int line, int rootfd, const char *rel, enum err_kind kind)
{
	struct stat st;
	struct err e;
	int probe, rc;

	/* The lowest free fd, before and after: a leak would take it. */
	probe = dup(0);
	assert_true(probe >= 0);
	close(probe);
	err_init(&e);
	rc = path_open(rootfd, rel, &st, &e);
	if (rc >= 0)
		close(rc);
	if (rc != -(int)kind || e.kind != kind)
		fail_msg("line %d: open '%.60s': rc %d '%s', want %s", line,
		    rel, rc, e.msg, err_kind_name(kind));
	rc = dup(0);
	close(rc);
	if (rc != probe)
		fail_msg("line %d: open '%.60s' leaked fd %d", line, rel, probe);
	if (strstr(e.msg, rel) != NULL && strlen(rel) > 8)
		fail_msg("line %d: message echoes the path: '%s'", line, e.msg);
}

/* path_open of rel must give a regular file holding content. */
static void
opens_at(int line, int rootfd, const char *rel, const char *content)
{
	char buf[64];
	struct stat st;
	struct err e;
	ssize_t n;
	int fd;

	err_init(&e);
	fd = path_open(rootfd, rel, &st, &e);
	if (fd < 0)
		fail_msg("line %d: open '%s': rc %d '%s'", line, rel, fd,
		    e.msg);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, strlen(content));
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	if (strcmp(buf, content) != 0)
		fail_msg("line %d: '%s' holds '%s', want '%s'", line, rel, buf,
		    content);
}

/* The whole way: uri to the content read from the opened file. */
static void
serves_at(int line, int rootfd, const char *uri, const char *mount,
    const char *content)
{
	char rel[PATH_MAX_URI + 1];
	struct err e;

	err_init(&e);
	if (path_from_uri(uri, mount, rel, sizeof(rel), &e) != 0)
		fail_msg("line %d: '%s': '%s'", line, uri, e.msg);
	opens_at(line, rootfd, rel, content);
}

/* The whole way: uri refused with kind, at either step. */
static void
refuses_at(int line, int rootfd, const char *uri, const char *mount,
    enum err_kind kind)
{
	char rel[PATH_MAX_URI + 1];
	struct err e;
	int rc;

	err_init(&e);
	rc = path_from_uri(uri, mount, rel, sizeof(rel), &e);
	if (rc == 0) {
		open_fails_at(line, rootfd, rel, kind);
		return;
	}
	if (rc != -(int)kind)
		fail_msg("line %d: '%.60s': rc %d '%s', want %s", line, uri, rc,
		    e.msg, err_kind_name(kind));
}

#define REL(...) rel_at(__LINE__, __VA_ARGS__)
#define URI_FAILS(...) uri_fails_at(__LINE__, __VA_ARGS__)
#define OPEN_FAILS(rel, kind) open_fails_at(__LINE__, t->rootfd, rel, kind)
#define OPENS(rel, content) opens_at(__LINE__, t->rootfd, rel, content)
#define SERVES(uri, mount, content) \
	serves_at(__LINE__, t->rootfd, uri, mount, content)
#define REFUSES(uri, mount, kind) \
	refuses_at(__LINE__, t->rootfd, uri, mount, kind)

static void
uri_path_is_taken_before_query_and_fragment(void **state)
{
	(void)state;
	REL("/a.jpg", NULL, "a.jpg");
	REL("/sub/b.png", NULL, "sub/b.png");
	REL("/a.jpg?size=1x1", NULL, "a.jpg");
	REL("/a.jpg?x=/../../etc/passwd", NULL, "a.jpg");
	REL("/a.jpg#top", NULL, "a.jpg");
	REL("/a.jpg?q=1#x", NULL, "a.jpg");
	/* encoded '?' and '#' are part of the name */
	REL("/a%3Fb.jpg", NULL, "a?b.jpg");
	REL("/a%23b.jpg", NULL, "a#b.jpg");
}

static void
uri_is_decoded_exactly_once(void **state)
{
	(void)state;
	REL("/%61.jpg", NULL, "a.jpg");
	REL("/sub%2Fb.png", NULL, "sub/b.png");
	REL("/a%20b+c.jpg", NULL, "a b+c.jpg");
	REL("/%2541.jpg", NULL, "%41.jpg");
	REL("/%252e%252e/x", NULL, "%2e%2e/x");
	REL("/caf%C3%A9.jpg", NULL, "caf\xC3\xA9.jpg");
}

static void
slashes_collapse(void **state)
{
	(void)state;
	REL("//sub///b.png", NULL, "sub/b.png");
	REL("/.../x", NULL, ".../x");
	REL("/..a/b..", NULL, "..a/b..");
	REL("/.hidden", NULL, ".hidden");
	/* a trailing slash stays: the name is then a directory */
	REL("/sub/", NULL, "sub/");
	REL("/a.jpg//", NULL, "a.jpg/");
}

static void
dot_dot_anywhere_is_forbidden(void **state)
{
	(void)state;
	URI_FAILS("/../x", NULL, ERR_FORBIDDEN);
	URI_FAILS("/..", NULL, ERR_FORBIDDEN);
	URI_FAILS("/a/../../x", NULL, ERR_FORBIDDEN);
	URI_FAILS("/sub/../a.jpg", NULL, ERR_FORBIDDEN);
	URI_FAILS("/a/..", NULL, ERR_FORBIDDEN);
	URI_FAILS("/a/../", NULL, ERR_FORBIDDEN);
	URI_FAILS("//..//x", NULL, ERR_FORBIDDEN);
	URI_FAILS("/./../x", NULL, ERR_FORBIDDEN);
}

/*
 * A "." segment is refused like "..": the web server in front routes the
 * path it normalised, so the router must never see another one
 * ("/internal/./x" is "/internal/x" to nginx's location matching).
 */
static void
dot_segment_is_forbidden(void **state)
{
	(void)state;
	URI_FAILS("/./sub/b.png", NULL, ERR_FORBIDDEN);
	URI_FAILS("/sub/./b.png", NULL, ERR_FORBIDDEN);
	URI_FAILS("/sub/.", NULL, ERR_FORBIDDEN);
	URI_FAILS("/%2e/a.jpg", NULL, ERR_FORBIDDEN);
	URI_FAILS("/sub/%2E/a.jpg", NULL, ERR_FORBIDDEN);
	URI_FAILS("/.", NULL, ERR_FORBIDDEN);
	URI_FAILS("/./", NULL, ERR_FORBIDDEN);
	URI_FAILS("/media/.", "/media", ERR_FORBIDDEN);
	URI_FAILS("/media/%2e/x.jpg", "/media", ERR_FORBIDDEN);
}

static void
decode_keeps_the_leading_slash(void **state)
{
	char path[PATH_MAX_URI + 2], rel[64];
	struct err e;

	(void)state;
	err_init(&e);
	assert_int_equal(path_decode("//a%2Fb//c.jpg?x=/../", path,
	    sizeof(path), &e), 0);
	assert_string_equal(path, "/a/b/c.jpg");
	assert_int_equal(path_relative(path, "/a", rel, sizeof(rel), &e), 0);
	assert_string_equal(rel, "b/c.jpg");
	assert_int_equal(path_decode("/", path, sizeof(path), &e), 0);
	assert_string_equal(path, "/");
	assert_int_equal(path_decode("/internal/%2E%2e/media/x.jpg", path,
	    sizeof(path), &e), -ERR_FORBIDDEN);
	assert_non_null(strstr(e.msg, "'..'"));
	err_init(&e);
	assert_int_equal(path_decode("/a/b", path, 4, &e), -ERR_FORBIDDEN);
}

static void
encoded_dot_dot_is_forbidden(void **state)
{
	(void)state;
	URI_FAILS("/%2e%2e/x", NULL, ERR_FORBIDDEN);
	URI_FAILS("/%2E%2E%2Fx", NULL, ERR_FORBIDDEN);
	URI_FAILS("/.%2e/x", NULL, ERR_FORBIDDEN);
	URI_FAILS("/%2e./x", NULL, ERR_FORBIDDEN);
	URI_FAILS("/a%2f..%2f..%2fx", NULL, ERR_FORBIDDEN);
	URI_FAILS("/a%2F%2E%2E%2F%2E%2E%2Fsecret", NULL, ERR_FORBIDDEN);
	URI_FAILS("/media/%2e%2e/secret", "/media", ERR_FORBIDDEN);
}

static void
double_encoded_dot_dot_is_a_name_not_found(void **state)
{
	struct tree *t = *state;

	/* "%252e%252e" is the name "%2e%2e", which does not exist */
	REFUSES("/%252e%252e/outside.jpg", NULL, ERR_NOT_FOUND);
	REFUSES("/%252e%252e%252foutside.jpg", NULL, ERR_NOT_FOUND);
	/* and the name it decodes to is served if it does exist */
	SERVES("/%2541.jpg", NULL, "PCT");
}

static void
nul_is_forbidden(void **state)
{
	(void)state;
	URI_FAILS("/%00", NULL, ERR_FORBIDDEN);
	URI_FAILS("/a.jpg%00.png", NULL, ERR_FORBIDDEN);
	URI_FAILS("/sub/%00/b.png", NULL, ERR_FORBIDDEN);
}

static void
backslash_is_forbidden(void **state)
{
	(void)state;
	URI_FAILS("/a\\b.jpg", NULL, ERR_FORBIDDEN);
	URI_FAILS("/..\\..\\x", NULL, ERR_FORBIDDEN);
	URI_FAILS("/a%5cb.jpg", NULL, ERR_FORBIDDEN);
	URI_FAILS("/..%5C..%5Cx", NULL, ERR_FORBIDDEN);
}

static void
bad_escape_or_relative_uri_is_bad_request(void **state)
{
	(void)state;
	URI_FAILS("/%zz", NULL, ERR_BAD_PARAM);
	URI_FAILS("/a%4", NULL, ERR_BAD_PARAM);
	URI_FAILS("/a%", NULL, ERR_BAD_PARAM);
	URI_FAILS("/%g1.jpg", NULL, ERR_BAD_PARAM);
	URI_FAILS("a.jpg", NULL, ERR_BAD_PARAM);
	URI_FAILS("", NULL, ERR_BAD_PARAM);
	URI_FAILS("?size=1x1", NULL, ERR_BAD_PARAM);
	URI_FAILS("%2Fa.jpg", NULL, ERR_BAD_PARAM);
	URI_FAILS("http://host/a.jpg", NULL, ERR_BAD_PARAM);
	URI_FAILS(NULL, NULL, ERR_BAD_PARAM);
}

static void
root_itself_is_not_found(void **state)
{
	(void)state;
	URI_FAILS("/", NULL, ERR_NOT_FOUND);
	URI_FAILS("//", NULL, ERR_NOT_FOUND);
	URI_FAILS("/?a.jpg", NULL, ERR_NOT_FOUND);
	URI_FAILS("/%2F", NULL, ERR_NOT_FOUND);
}

static void
overlong_path_is_forbidden(void **state)
{
	char *uri = malloc(3 * PATH_MAX_URI + 16);
	char rel[8];
	struct err e;
	size_t i;

	(void)state;
	assert_non_null(uri);
	/* decoded length exactly PATH_MAX_URI: accepted */
	uri[0] = '/';
	memset(uri + 1, 'a', PATH_MAX_URI - 1);
	uri[PATH_MAX_URI] = '\0';
	err_init(&e);
	{
		char big[PATH_MAX_URI + 1];

		assert_int_equal(path_from_uri(uri, NULL, big, sizeof(big), &e),
		    0);
		assert_int_equal(strlen(big), PATH_MAX_URI - 1);
	}
	/* one more byte: refused */
	strcpy(uri + PATH_MAX_URI, "a");
	URI_FAILS(uri, NULL, ERR_FORBIDDEN);
	/* the same length, percent-encoded */
	uri[0] = '/';
	for (i = 0; i < PATH_MAX_URI; i++)
		memcpy(uri + 1 + 3 * i, "%61", 3);
	uri[1 + 3 * PATH_MAX_URI] = '\0';
	URI_FAILS(uri, NULL, ERR_FORBIDDEN);
	/* a long query is not the path's business */
	strcpy(uri, "/a.jpg?");
	memset(uri + 7, 'q', 2 * PATH_MAX_URI);
	uri[7 + 2 * PATH_MAX_URI] = '\0';
	REL(uri, NULL, "a.jpg");
	free(uri);
	/* longer than the caller's buffer (8 bytes with the NUL) */
	err_init(&e);
	assert_int_equal(path_from_uri("/abcdefgh", NULL, rel, sizeof(rel), &e),
	    -ERR_FORBIDDEN);
	err_init(&e);
	assert_int_equal(path_from_uri("/abcdefg", NULL, rel, sizeof(rel), &e),
	    0);
	assert_string_equal(rel, "abcdefg");
}

static void
mount_prefix_is_removed_at_a_segment_boundary(void **state)
{
	(void)state;
	REL("/media/x.jpg", "/media", "x.jpg");
	REL("/media/sub/b.png", "/media", "sub/b.png");
	REL("/media//x.jpg", "/media", "x.jpg");
	REL("//media/x.jpg", "/media", "x.jpg");
	REL("/media/x.jpg", "/media/", "x.jpg");
	REL("/%6Dedia/x.jpg", "/media", "x.jpg");
	REL("/media%2Fx.jpg", "/media", "x.jpg");
	REL("/a/b/c.jpg", "/a/b", "c.jpg");
	/* no mount */
	REL("/media/x.jpg", "", "media/x.jpg");
	REL("/media/x.jpg", NULL, "media/x.jpg");
	REL("/media/x.jpg", "/", "media/x.jpg");
}

static void
outside_the_mount_is_not_found(void **state)
{
	(void)state;
	URI_FAILS("/mediax/a.jpg", "/media", ERR_NOT_FOUND);
	URI_FAILS("/medi/a.jpg", "/media", ERR_NOT_FOUND);
	URI_FAILS("/other/x.jpg", "/media", ERR_NOT_FOUND);
	URI_FAILS("/x.jpg", "/media", ERR_NOT_FOUND);
	URI_FAILS("/MEDIA/x.jpg", "/media", ERR_NOT_FOUND);
	URI_FAILS("/a/bc/x.jpg", "/a/b", ERR_NOT_FOUND);
	/* the mount itself is the root */
	URI_FAILS("/media", "/media", ERR_NOT_FOUND);
	URI_FAILS("/media/", "/media", ERR_NOT_FOUND);
	URI_FAILS("/media//", "/media", ERR_NOT_FOUND);
	URI_FAILS("/media?x", "/media", ERR_NOT_FOUND);
	/* a ".." is refused before the mount is considered */
	URI_FAILS("/media/../a.jpg", "/media", ERR_FORBIDDEN);
	URI_FAILS("/other/../media/x.jpg", "/media", ERR_FORBIDDEN);
}

static void
open_serves_regular_files(void **state)
{
	struct tree *t = *state;

	OPENS("a.jpg", "AAAA");
	OPENS("sub/b.png", "BB");
	OPENS("...", "DOTS");
	OPENS("%41.jpg", "PCT");
}

static void
open_follows_symlinks_that_stay_inside(void **state)
{
	struct tree *t = *state;

	OPENS("link-in", "BB");
	OPENS("sub/link-up", "AAAA");
	OPENS("link-dir/b.png", "BB");
	OPENS("link-dir/link-up", "AAAA");
}

static void
open_refuses_symlinks_that_leave(void **state)
{
	struct tree *t = *state;

	OPEN_FAILS("link-out", ERR_FORBIDDEN);
	OPEN_FAILS("sub/link-out2", ERR_FORBIDDEN);
	OPEN_FAILS("link-dir/link-out2", ERR_FORBIDDEN);
	OPEN_FAILS("link-abs", ERR_FORBIDDEN);
	OPEN_FAILS("link-abs-in", ERR_FORBIDDEN);
	OPEN_FAILS("link-etc", ERR_FORBIDDEN);
	OPEN_FAILS("loop", ERR_FORBIDDEN);
}

static void
open_refuses_what_from_uri_would_have_caught(void **state)
{
	struct tree *t = *state;

	/* the kernel's check holds on its own */
	OPEN_FAILS("../outside.jpg", ERR_FORBIDDEN);
	OPEN_FAILS("sub/../../outside.jpg", ERR_FORBIDDEN);
	OPEN_FAILS("/etc/passwd", ERR_FORBIDDEN);
}

static void
open_of_nothing_is_not_found(void **state)
{
	struct tree *t = *state;

	OPEN_FAILS("missing.jpg", ERR_NOT_FOUND);
	OPEN_FAILS("sub/missing.png", ERR_NOT_FOUND);
	OPEN_FAILS("nodir/x.jpg", ERR_NOT_FOUND);
	OPEN_FAILS("dangling", ERR_NOT_FOUND);
	OPEN_FAILS("a.jpg/x", ERR_NOT_FOUND);	/* ENOTDIR */
	OPEN_FAILS("a.jpg/", ERR_NOT_FOUND);
	OPEN_FAILS("", ERR_NOT_FOUND);
}

static void
open_of_directory_is_not_found(void **state)
{
	struct tree *t = *state;

	OPEN_FAILS("sub", ERR_NOT_FOUND);
	OPEN_FAILS("sub/", ERR_NOT_FOUND);
	OPEN_FAILS("link-dir", ERR_NOT_FOUND);
	OPEN_FAILS("media", ERR_NOT_FOUND);
}

static void
open_of_fifo_neither_blocks_nor_serves(void **state)
{
	struct tree *t = *state;
	int status;
	pid_t pid;

	/*
	 * A blocking open of a FIFO waits for a writer forever, so it runs
	 * in a child that an alarm kills; this process goes on to teardown.
	 */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct stat st;
		struct err e;
		int rc;

		alarm(5);
		err_init(&e);
		rc = path_open(t->rootfd, "fifo", &st, &e);
		_exit(rc == -(int)ERR_NOT_FOUND ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("open of a FIFO blocked (signal %d)", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* and, run here, it closes what it opened */
	OPEN_FAILS("fifo", ERR_NOT_FOUND);
}

static void
open_of_overlong_name_is_forbidden(void **state)
{
	struct tree *t = *state;
	char name[NAME_MAX + 8];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	OPEN_FAILS(name, ERR_FORBIDDEN);
}

static void
open_without_permission_is_forbidden(void **state)
{
	struct tree *t = *state;
	char p[PATH_MAX];

	if (geteuid() == 0)
		skip();	/* root reads anything */
	assert_int_equal(at(t, "root/noread.jpg", p, sizeof(p)), 0);
	assert_int_equal(write_file(p, "NO"), 0);
	assert_int_equal(chmod(p, 0), 0);
	OPEN_FAILS("noread.jpg", ERR_FORBIDDEN);
}

static void
open_with_bad_root_is_internal(void **state)
{
	struct stat st;
	struct err e;

	(void)state;
	err_init(&e);
	assert_int_equal(path_open(-1, "a.jpg", &st, &e), -ERR_INTERNAL);
	assert_int_equal(e.kind, ERR_INTERNAL);
}

static void
uri_to_file_end_to_end(void **state)
{
	struct tree *t = *state;

	SERVES("/a.jpg?size=10x10", NULL, "AAAA");
	SERVES("/sub//b.png", NULL, "BB");
	SERVES("/%61.jpg", NULL, "AAAA");
	SERVES("/media/m.jpg", NULL, "M");
	SERVES("/media/a.jpg", "/media", "AAAA");
	SERVES("/media/link-in", "/media", "BB");
	REFUSES("/media/m.jpg", "/media", ERR_NOT_FOUND);
	REFUSES("/../outside.jpg", NULL, ERR_FORBIDDEN);
	REFUSES("/%2e%2e/outside.jpg", NULL, ERR_FORBIDDEN);
	REFUSES("/link-out", NULL, ERR_FORBIDDEN);
	REFUSES("/link-abs", NULL, ERR_FORBIDDEN);
	REFUSES("/sub", NULL, ERR_NOT_FOUND);
	REFUSES("/a.jpg/", NULL, ERR_NOT_FOUND);
	REFUSES("/", NULL, ERR_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uri_path_is_taken_before_query_and_fragment),
		cmocka_unit_test(uri_is_decoded_exactly_once),
		cmocka_unit_test(slashes_collapse),
		cmocka_unit_test(dot_segment_is_forbidden),
		cmocka_unit_test(decode_keeps_the_leading_slash),
		cmocka_unit_test(dot_dot_anywhere_is_forbidden),
		cmocka_unit_test(encoded_dot_dot_is_forbidden),
		cmocka_unit_test(double_encoded_dot_dot_is_a_name_not_found),
		cmocka_unit_test(nul_is_forbidden),
		cmocka_unit_test(backslash_is_forbidden),
		cmocka_unit_test(bad_escape_or_relative_uri_is_bad_request),
		cmocka_unit_test(root_itself_is_not_found),
		cmocka_unit_test(overlong_path_is_forbidden),
		cmocka_unit_test(mount_prefix_is_removed_at_a_segment_boundary),
		cmocka_unit_test(outside_the_mount_is_not_found),
		cmocka_unit_test(open_serves_regular_files),
		cmocka_unit_test(open_follows_symlinks_that_stay_inside),
		cmocka_unit_test(open_refuses_symlinks_that_leave),
		cmocka_unit_test(open_refuses_what_from_uri_would_have_caught),
		cmocka_unit_test(open_of_nothing_is_not_found),
		cmocka_unit_test(open_of_directory_is_not_found),
		cmocka_unit_test(open_of_fifo_neither_blocks_nor_serves),
		cmocka_unit_test(open_of_overlong_name_is_forbidden),
		cmocka_unit_test(open_without_permission_is_forbidden),
		cmocka_unit_test(open_with_bad_root_is_internal),
		cmocka_unit_test(uri_to_file_end_to_end),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
