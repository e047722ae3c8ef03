/*
 * route - the router's entry for a [program] route: parameters, the file
 * (resolved as for media, sniffed against accept), argv, run. See
 * program.h.
 */
#include "prog/program.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http.h"
#include "http/request.h"
#include "proc/config.h"
#include "prog/internal.h"
#include "req/params.h"
#include "req/path.h"
#include "req/sniff.h"

/*
 * Whether the file on fd may reach p: its first bytes, by the media
 * sniffer, are of a type in p's accept list. 0, or ERR_UNSUPPORTED naming
 * the program and what it accepts (ERR_UNDECODABLE for an empty file, as
 * for media).
 */
static int
check_accept(const struct program *p, int fd, struct err *e)
{
	unsigned char head[SNIFF_BYTES];
	char list[200];
	enum media_type t;
	ssize_t n;

	if (p->accept_any)
		return 0;
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0)
		return err_set(e, ERR_INTERNAL, "reading the file: %s",
		    strerror(errno));
	if (n == 0)
		return err_set(e, ERR_UNDECODABLE, "empty file");
	t = sniff_type_program(head, (size_t)n);
	if (p->accept & (1u << t))
		return 0;
	prog_accept_list(p->accept, list, sizeof(list));
	return err_set(e, ERR_UNSUPPORTED, "format not allowed: program %s "
	    "accepts %s; this file is %s", p->name, list,
	    t == MT_UNKNOWN ? "none of the types the server recognises" :
	    sniff_name(t));
}

int
program_route(const struct server *srv, const struct request *req,
    struct response *r, struct err *e)
{
	const struct config *cfg = srv->cfg;
	const struct program *p;
	const char *values[PROG_MAX_PARAMS], *q;
	char vbuf[PARAMS_MAX_QUERY + 16], rel[PATH_MAX_URI + 1];
	char **argv = NULL;
	struct stat st;
	int fd = -1, rc;

	/* Chosen and gated by the router; req->query is without sig and
	 * expires (gate.h). */
	if ((p = program_match(cfg, req->path)) == NULL)
		return 0;
	q = req->query;
	if ((rc = program_params(p, q, values, vbuf, sizeof(vbuf), e)) < 0)
		goto out;
	if (p->uses_file) {
		/* The same resolution as a media request: the path the router
		 * decoded once, opened beneath the root (RESOLVE_BENEATH). */
		if ((rc = path_relative(req->path, p->match == PROG_MATCH_PREFIX ?
		    p->prefix : cfg->mount, rel, sizeof(rel), e)) < 0)
			goto out;
		if ((rc = fd = path_open(srv->rootfd, rel, &st, e)) < 0)
			goto out;
		if ((unsigned long long)st.st_size > cfg->max_file_size) {
			rc = err_set(e, ERR_TOO_LARGE, "file size %lld over "
			    "max_file_size %llu", (long long)st.st_size,
			    cfg->max_file_size);
			goto out;
		}
		/* Before anything starts: a playlist, an SVG or any text
		 * named .mp4 or .jpg never reaches the program. */
		if ((rc = check_accept(p, fd, e)) < 0)
			goto out;
	}
	if ((rc = program_argv(p, values, p->uses_file ? PROG_FILE_ARG : NULL,
	    &argv, e)) < 0)
		goto out;
	(void)response_header(r, "Content-Type", "%s", p->content_type);
	(void)response_header(r, "X-Content-Type-Options", "nosniff");
	/* Streamed as produced: the web server must not buffer it whole. */
	(void)response_header(r, "X-Accel-Buffering", "no");
	if (cfg->cache_control != NULL)
		(void)response_header(r, "Cache-Control", "%s", cfg->cache_control);
	rc = program_run(p, argv, fd, req->conn_fd, r, e);
	if (rc == 0)
		rc = 1;
out:
	free(argv);
	if (fd >= 0)
		close(fd);
	return rc;
}
