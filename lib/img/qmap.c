/*
 * qmap - piecewise-linear quality tables. See qmap.h.
 */
#include "img/qmap.h"

double
qmap_lookup(const struct qmap_point *t, size_t n, unsigned q)
{
	if (q <= t[0].q)
		return t[0].value;
	for (size_t i = 1; i < n; i++)
		if (q <= t[i].q)
			return t[i - 1].value + (t[i].value - t[i - 1].value) *
			    (double)(q - t[i - 1].q) / (double)(t[i].q - t[i - 1].q);
	return t[n - 1].value;
}
