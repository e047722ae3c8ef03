/*
 * request - what a request is served with and what it is: struct server
 * (the worker's read-only context) and struct request (the CGI parameters,
 * then the decoded path and parsed query the router sets). Its own header
 * so that the router, the gate and every handler (streams, viewers,
 * programs) share the types without including one another.
 * Ownership: the worker owns both; handlers only read them.
 */
#ifndef MF_REQUEST_H
#define MF_REQUEST_H

#include <stdbool.h>

struct config;
struct scoreboard;
struct sb_slot;
struct live;
struct params;

/* What a worker serves with: read-only for the router and handlers. */
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
	const char *range;	/* HTTP_RANGE or NULL */
	const char *if_range;	/* HTTP_IF_RANGE or NULL */
	const char *remote_addr;	/* REMOTE_ADDR or NULL */
	int conn_fd;		/* the web server's connection, watched for a
				 * hang-up by long runs; <= 0: unknown */
	unsigned request_id;	/* FastCGI's, for records written elsewhere */
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

#endif
