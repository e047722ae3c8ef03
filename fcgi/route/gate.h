/*
 * gate - the one check in front of every route but the status page and the
 * health check: the signature (any configured key), expires=, and the
 * presets_only policy. The router calls it once per request, after the
 * path is decoded and the route chosen, before any handler runs; no
 * handler checks any of these itself.
 * Ownership: nothing is kept; the caller owns every buffer.
 */
#ifndef MF_GATE_H
#define MF_GATE_H

#include <stddef.h>

#include "proc/config.h"
#include "core/err.h"
#include "req/params.h"

struct request;

enum gate_route {
	GATE_MEDIA = 0,	/* images and videos under [media] mount */
	GATE_LIVE,	/* a live source's viewer or snapshot */
	GATE_PROGRAM	/* a [program NAME] route */
};

/*
 * For a [program] route, whose query is the program's own: writes query
 * (may be NULL) without its sig and expires pairs into out (of size len)
 * for the program's parser, and parses those two pairs into p (which
 * params_init() prepared). 0, or ERR_BAD_PARAM in e (a bad or repeated
 * sig or expires, a query too long).
 */
int gate_program_query(const char *query, char *out, size_t len,
    struct params *p, struct err *e);

/*
 * Whether req may go to its route: with signing keys, p->sig must sign
 * req's path as sent with p's canonical form (media, live) or with the
 * query as sent (every route); an expires in p must not be past, with or
 * without keys; with presets_only, the query may hold nothing but preset,
 * sig and expires (and seg: an HLS preset's segment URLs), and
 * media routes need a preset (program routes, which
 * have none, are refused). p is the query as parsed (before any preset).
 * 0, or ERR_FORBIDDEN in e with a message naming sig, expires or preset.
 */
int gate_check(const struct config *cfg, const struct request *req,
    enum gate_route route, const struct params *p, struct err *e);

#endif
