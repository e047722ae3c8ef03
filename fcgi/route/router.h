/*
 * router - one request to one handler: checks the method, decodes the path
 * once (dot segments refused before anything is routed), chooses the route
 * on the decoded path (status or health, a live source, a [program], media),
 * parses the query, passes every route but status and health through the
 * one gate (gate.h: signature, expires, presets_only), then runs the
 * handler, writing the answer (or the error) into the response. Knows
 * nothing of the FastCGI library: the worker hands it the request's CGI
 * parameters and a response.
 */
#ifndef MF_ROUTER_H
#define MF_ROUTER_H

#include "proc/config.h"
#include "core/err.h"
#include "http/http.h"
#include "req/params.h"
#include "proc/scoreboard.h"
#include "vid/vid.h"

/* What a worker serves with: read-only for the router. */
struct live;

struct server {
	const struct config *cfg;
	struct scoreboard *sb;	/* NULL in unit tests */
	struct sb_slot *slot;	/* this worker's; NULL in unit tests */
	struct live *live;	/* the live sources' rings; NULL: none */
	int rootfd;		/* the media root, opened by the worker */
	/* Set when the request became a stream: the worker leaves the pool
	 * once it ends (the master has started a replacement meanwhile). */
	bool *streamed;
	/* Set by SIGQUIT/SIGTERM: a stream ends at its next frame. */
	const volatile int *stop;
};

struct request {
	const char *method;	/* REQUEST_METHOD */
	const char *uri;	/* REQUEST_URI, raw */
	const char *if_none_match;	/* HTTP_IF_NONE_MATCH or NULL */
	const char *if_modified_since;	/* HTTP_IF_MODIFIED_SINCE or NULL */
	const char *accept;	/* HTTP_ACCEPT or NULL */
	const char *remote_addr;	/* REMOTE_ADDR or NULL */
	int conn_fd;		/* the web server's connection, watched for a
				 * hang-up by long runs; <= 0: unknown */
	/*
	 * Set by router_handle() before a route runs (the worker leaves them
	 * NULL); handlers read these, never uri's path or query again.
	 */
	const char *path;	/* decoded, normalised, no dot segment: "/a/b" */
	const char *query;	/* the route's query: as sent (after '?'), or a
				 * program's without sig and expires; NULL: none */
	const struct params *params;	/* media and live: parsed, gated,
				 * the preset applied; NULL for programs */
};

/*
 * Answers req into r: the status page and health check at their paths,
 * media everywhere else. Fills e with the error if the answer is one (for
 * the log).
 */
void router_handle(const struct server *srv, const struct request *req,
    struct response *r, struct err *e);

/* The config's limits for video work (stills and streams). */
struct vid_limits router_vid_limits(const struct config *cfg);

#endif
