/*
 * fuzz_params: any query string. Properties: no crash; an accepted query
 * has a canonical form that parses again to the same canonical form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "req/params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = malloc(size + 1), canon[4096], again[4096];
	struct params p, p2;
	struct err e;

	if (q == NULL)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	params_init(&p);
	err_init(&e);
	if (params_parse(q, &p, &e) == 0 &&
	    params_canonical(&p, canon, sizeof(canon)) >= 0) {
		params_init(&p2);
		err_init(&e);
		if (params_parse(canon, &p2, &e) != 0 ||
		    params_canonical(&p2, again, sizeof(again)) < 0 ||
		    strcmp(canon, again) != 0)
			abort();
	}
	free(q);
	return 0;
}
