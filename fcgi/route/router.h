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

#include "core/err.h"
#include "http/http.h"
#include "http/request.h"

/*
 * Answers req into r: the status page and health check at their paths,
 * media everywhere else. Fills e with the error if the answer is one (for
 * the log).
 */
void router_handle(const struct server *srv, const struct request *req,
    struct response *r, struct err *e);

#endif
