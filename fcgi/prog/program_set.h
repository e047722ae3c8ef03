/*
 * program_set - the [program NAME] sections of the config, as the config
 * reader fills them: the types of a program and its parameters, and the
 * calls that set one key, check every program once the file is read, and
 * free them. Apart from program.h (which serves the routes) so that the
 * config, which embeds a struct program_set, includes nothing that
 * includes it back.
 * Ownership: the set owns every program and string in it;
 * program_set_free() releases them (a zeroed set is empty).
 */
#ifndef MF_PROGRAM_SET_H
#define MF_PROGRAM_SET_H

#include <stdbool.h>
#include <stddef.h>

#define PROG_MAX_ARGS		64	/* argv elements of a template */
#define PROG_MAX_PARAMS		16	/* param.NAME lines of a program */
#define PROG_MAX_ENV		64	/* env.NAME lines of a program */
#define PROG_ARG_MAX		4096	/* bytes of one expanded argv element */
#define PROG_NAME_MAX		32	/* bytes of a program or parameter name */
#define PROG_STDERR_KEEP	4096	/* last bytes of stderr kept for the log */
#define PROG_FILE_FD		3	/* the requested file in the child */
#define PROG_FILE_ARG		"/proc/self/fd/3"	/* what {file} becomes */
#define PROG_DEFAULT_TIMEOUT	30	/* seconds, if not set (and room) */
#define PROG_DEFAULT_HOLD_MS	250
#define PROG_KILL_GRACE_MS	500	/* SIGTERM to SIGKILL */

enum prog_match { PROG_MATCH_PREFIX = 0, PROG_MATCH_EXT };
enum prog_type { PROG_INT = 0, PROG_ENUM, PROG_STRING };

/* param.NAME = int MIN MAX [DEFAULT] | enum A|B|C [DEFAULT] |
 * string MAXLEN [DEFAULT] [charset=CLASS]; no default: the parameter is
 * required. */
struct prog_param {
	char *name;
	enum prog_type type;
	long long min, max;	/* int: the bounds; string: 1..max bytes */
	char *choices;		/* enum: "a|b|c" */
	char *def;		/* the default as text; NULL = required */
	/* string: the bytes a value may hold (bit b of chars[b / 8]) and
	 * those it may not start with; charset is CLASS as written, NULL
	 * for the default (any byte but control characters, no leading -). */
	char *charset;
	unsigned char chars[32];
	const char *lead;	/* static: "-" or "-@+" */
};

struct program {
	char *name;
	enum prog_match match;
	char *prefix;		/* PREFIX: "/convert", no trailing slash */
	char **exts;		/* EXT: ".cr2", lower case */
	unsigned n_exts;
	char **argv;		/* template, NULL-terminated; argv[0] as written */
	unsigned argc;
	char *path;		/* argv[0] resolved at load: what is executed */
	char **env;		/* "NAME=value", NULL-terminated */
	unsigned n_env;
	struct prog_param params[PROG_MAX_PARAMS];
	unsigned n_params;
	char *content_type;	/* default application/octet-stream */
	unsigned timeout;	/* seconds for the whole run; 0 = not set */
	unsigned long long max_output;	/* bytes; 0 = no limit */
	unsigned hold_ms;	/* see above; 0 = commit with the first byte */
	bool stdin_file;	/* stdin = file: the file on fd 0 too */
	bool uses_file;		/* {file} or stdin = file: set by validate */
	/* accept = TYPE,...: bit t for each sniffed type (lib/sniff.h) the
	 * file may be; unset, validate makes it every media type (what the
	 * media routes read). accept = any: no check at all. */
	unsigned accept;
	bool accept_given, accept_any;
};

/* The programs in config order. */
struct program_set {
	struct program *list;
	unsigned n;
};

/*
 * Sets one key of [program name] in s (creating the program on its first
 * key), as config_set() does for other sections: 0, or -1 with the reason
 * in why. argv[0] is resolved here (a name through the master's PATH, or
 * an absolute path) and must be an executable regular file.
 */
int program_set_key(struct program_set *s, const char *name, const char *key,
    const char *value, char *why, size_t len);

/*
 * Checks every program once the whole config is read: match and argv given,
 * each placeholder declared and each parameter used, defaults within their
 * bounds, accept only with a file ({file} or stdin = file; unset, the media
 * types), timeout below request_timeout ([server]; an unset timeout becomes
 * PROG_DEFAULT_TIMEOUT, or request_timeout - 1 if that is lower). 0, or -1
 * with "program NAME: reason" in why.
 */
int program_set_validate(struct program_set *s, unsigned request_timeout,
    char *why, size_t len);

void program_set_free(struct program_set *s);

#endif
