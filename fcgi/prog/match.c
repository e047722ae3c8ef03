/*
 * match - which [program] route a decoded path takes. See program.h.
 */
#include "prog/program.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "proc/config.h"

/* Whether name (n bytes) ends with one of p's extensions, in any case. */
static bool
has_ext(const struct program *p, const char *name, size_t n)
{
	for (unsigned i = 0; i < p->n_exts; i++) {
		size_t el = strlen(p->exts[i]);

		if (n > el && name[n - el - 1] != '/' &&
		    strncasecmp(name + n - el, p->exts[i], el) == 0)
			return true;
	}
	return false;
}

const struct program *
program_match(const struct config *c, const char *path)
{
	const char *mount = c->mount ? c->mount : "";
	size_t ml = strlen(mount), n = strlen(path);

	for (unsigned i = 0; i < c->programs.n; i++) {
		const struct program *p = &c->programs.list[i];

		if (p->match == PROG_MATCH_PREFIX) {
			size_t pl = strlen(p->prefix);

			if (strncmp(path, p->prefix, pl) == 0 &&
			    (path[pl] == '\0' || path[pl] == '/'))
				return p;
		} else if ((ml == 0 || (strncmp(path, mount, ml) == 0 &&
		    path[ml] == '/')) && has_ext(p, path, n)) {
			return p;
		}
	}
	return NULL;
}
