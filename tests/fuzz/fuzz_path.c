/*
 * fuzz_path: any REQUEST_URI. Properties: no crash; an accepted path is
 * relative, has no NUL, no backslash and no ".." segment; it never names
 * anything outside the root when opened beneath a fixed empty directory.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "req/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rootfd = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = malloc(size + 1), rel[PATH_MAX_URI + 1];
	struct stat st;
	struct err e;
	int fd;

	if (uri == NULL)
		return 0;
	if (rootfd < 0)
		rootfd = open("/var/empty", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		rootfd = open("/proc/self/fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memcpy(uri, data, size);
	uri[size] = '\0';
	err_init(&e);
	if (path_from_uri(uri, (size & 1) ? "/media" : NULL, rel, sizeof(rel),
	    &e) == 0) {
		const char *s = rel;

		if (rel[0] == '/' || strchr(rel, '\\') != NULL)
			abort();
		while (*s) {
			size_t n = strcspn(s, "/");

			if (n == 2 && s[0] == '.' && s[1] == '.')
				abort();
			s += n + (s[n] == '/');
		}
		err_init(&e);
		if (rootfd >= 0 && (fd = path_open(rootfd, rel, &st, &e)) >= 0)
			close(fd);
	}
	free(uri);
	return 0;
}
