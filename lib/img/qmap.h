/*
 * qmap - the server's quality q (1..100) as an encoder's own setting: a
 * short measured table, linear between its points (enc_avif.c, enc_jxl.c).
 */
#ifndef MF_QMAP_H
#define MF_QMAP_H

#include <stddef.h>

struct qmap_point {
	unsigned q;		/* 1..100, rising through a table */
	double value;		/* the encoder's setting at q */
};

/*
 * The value at q of the n points of t (q rising, n >= 1): linear between
 * the two points around q, the first's or last's value outside them.
 */
double qmap_lookup(const struct qmap_point *t, size_t n, unsigned q);

#endif
