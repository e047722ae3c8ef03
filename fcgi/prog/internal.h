/*
 * internal - what the files of prog/ share and nothing else uses: value
 * checks and template expansion (params.c), used by the config check too,
 * and the accept-list bits (config.c), used by the route too.
 */
#ifndef MF_PROG_INTERNAL_H
#define MF_PROG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "req/sniff.h"

struct program;
struct prog_param;

/* Bits of the types from..to of lib/sniff.h. */
#define TYPE_BITS(from, to)	((2u << (to)) - (1u << (from)))
#define ACCEPT_IMAGE	TYPE_BITS(MT_JPEG, MT_JXL)
#define ACCEPT_VIDEO	TYPE_BITS(MT_MP4, MT_MPEGTS)
#define ACCEPT_MEDIA	(ACCEPT_IMAGE | ACCEPT_VIDEO)

/* "jpeg, png, ..." for the types of bits, into buf. */
void prog_accept_list(unsigned bits, char *buf, size_t len);

/* Whether s is a name: 1 to PROG_NAME_MAX - 1 bytes of a-z, 0-9 and
 * the characters in extra. */
bool prog_is_name(const char *s, const char *extra);

/*
 * Whether one more KIND.NAME line may be added to program p, which has n
 * of at most max (what: "env lines", "parameters"); given: NAME is there
 * already. 0, or -1 with the reason in why.
 */
int prog_room_for(const struct program *p, const char *kind,
    const char *name, bool given, unsigned n, unsigned max, const char *what,
    char *why, size_t len);

/*
 * param.NAME = int MIN MAX [DEFAULT] | enum A|B|C [DEFAULT] |
 * string MAXLEN [DEFAULT] [charset=CLASS]: declares parameter name of p.
 * 0, or -1 with the reason in why.
 */
int prog_param_declare(struct program *p, const char *name, const char *v,
    char *why, size_t len);

/* A whole number of n bytes (a sign, 1 to 18 digits): 0, or -1. */
int prog_parse_ll(const char *s, size_t n, long long *out);

/*
 * Checks the client's (or a default's) text v for parameter d; ints are
 * rewritten in place in their plain form ("007" -> "7"). 0, or -1 with
 * the reason in why.
 */
int prog_check_value(const struct prog_param *d, char *v, char *why,
    size_t len);

/*
 * program_expand() that also collects the placeholders seen into *used
 * (may be NULL): bit i for params[i], bit 31 for {file}.
 */
int prog_expand(const struct program *p, const char *tmpl,
    const char *const values[], const char *file, char *out, size_t len,
    uint32_t *used);

#endif
