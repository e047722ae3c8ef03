#include "proc/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024

static int
set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int
listen_inherited(char *errbuf, size_t len)
{
	int on = 0, fd, nul;
	socklen_t sl = sizeof(on);

	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &sl) < 0 || !on) {
		snprintf(errbuf, len, "no --listen given and fd 0 is not a listening socket "
		    "(start me from spawn-fcgi, a web server or systemd, or pass --listen)");
		return -1;
	}
	if ((fd = fcntl(0, F_DUPFD_CLOEXEC, 3)) < 0) {
		snprintf(errbuf, len, "dup fd 0: %s", strerror(errno));
		return -1;
	}
	/* fd 0 no longer means the socket: nothing reads requests from stdin. */
	if ((nul = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(nul, 0);
		if (nul != 0)
			close(nul);
	}
	if (set_nonblock_cloexec(fd) < 0) {
		snprintf(errbuf, len, "fcntl: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
listen_unix(const char *path, char *errbuf, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(errbuf, len, "listen: unix socket path too long");
		return -1;
	}
	strcpy(sa.sun_path, path);
	/* A socket left by an earlier run is replaced; any other file is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(errbuf, len, "listen: %s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	/* The web server runs as another user; who may connect is decided by
	 * the directory the socket is in. */
	if (chmod(path, 0666) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	snprintf(errbuf, len, "listen on unix:%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
listen_tcp(const char *spec, char *errbuf, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	const char *colon = strrchr(spec, ':');
	char host[256];
	int fd = -1, on = 1, rc;
	size_t hl = (size_t)(colon - spec);

	if (hl >= sizeof(host)) {
		snprintf(errbuf, len, "listen: host too long");
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	/* "[::1]:9000" */
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if ((rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res)) != 0) {
		snprintf(errbuf, len, "listen on %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    res->ai_protocol);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(errbuf, len, "listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
listen_open(const char *spec, char *errbuf, size_t len)
{
	if (spec == NULL)
		return listen_inherited(errbuf, len);
	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(spec + 5, errbuf, len);
	return listen_tcp(spec, errbuf, len);
}

void
listen_unlink(const char *spec)
{
	if (spec != NULL && strncmp(spec, "unix:", 5) == 0)
		unlink(spec + 5);
}
