/*
 * program - [program NAME] routes: an external converter (cjpeg, ffmpeg,
 * gm, a proprietary tool) run with a fixed argv, its stdout streamed into
 * the response as it is produced. Never a shell: the argv template is split
 * on spaces when the config is read and every placeholder fills part of
 * exactly one argv element, whatever the client sends. A requested file
 * reaches a program only if its first bytes are of a type in the program's
 * accept list (by default the media allow-list of lib/sniff.h), so a
 * playlist, an SVG or any text named like a video or an image never does.
 * The child gets /dev/null (or the requested file) as stdin, the response
 * pipe as stdout, a pipe the worker drains into its error log as stderr,
 * the requested file as fd 3 (named to it as /proc/self/fd/3) and no other
 * descriptor, an environment of exactly the declared env.NAME lines, its
 * own process group, SIGKILL if the worker dies, no new privileges, no
 * core file, and / as its working directory.
 *
 * Failure (exit status not 0, a signal, the timeout, no output, more than
 * max_output) before the response is committed is a clean 502; after it,
 * the response is aborted (the worker cuts the connection). The response's
 * hold buffer keeps the first 64 KiB back; a program's held output is
 * committed when the hold fills, when the program ends, or hold_ms after the
 * first byte was read, whichever comes first, so a slow producer still
 * streams and a quick one answers with Content-Length or a clean error.
 *
 * Ownership: struct program lives in struct config (c->programs) and is
 * filled by program_config_set(), checked by program_config_validate(),
 * freed by program_config_free(); nothing here keeps a pointer the caller
 * passes in.
 */
#ifndef MF_PROGRAM_H
#define MF_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "proc/config.h"
#include "core/err.h"

struct server;
struct request;
struct response;

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

/*
 * Sets one key of [program name] in c (creating the program on its first
 * key), as config_set() does for other sections: 0, or -1 with the reason
 * in why. argv[0] is resolved here (a name through the master's PATH, or
 * an absolute path) and must be an executable regular file.
 */
int program_config_set(struct config *c, const char *name, const char *key,
    const char *value, char *why, size_t len);

/*
 * Checks every program once the whole config is read: match and argv given,
 * each placeholder declared and each parameter used, defaults within their
 * bounds, accept only with a file ({file} or stdin = file; unset, the media
 * types), timeout below [server] request_timeout (an unset timeout becomes
 * PROG_DEFAULT_TIMEOUT, or request_timeout - 1 if that is lower). 0, or -1
 * with "program NAME: reason" in why.
 */
int program_config_validate(struct config *c, char *why, size_t len);

void program_config_free(struct config *c);	/* c->programs may be NULL */

/*
 * The program whose match takes path (the request's decoded, normalised
 * path, path_decode(): "/convert/a.jpg"), first in config order, or NULL.
 * A prefix matches at a segment boundary; ext matches the end of a path
 * under [media] mount, in any case. Never given the raw URI: a path that
 * does not decode, or holds a dot segment, is refused before routing.
 */
const struct program *program_match(const struct config *c, const char *path);

/*
 * The values of p's parameters from query (after '?', may be NULL): each
 * declared name at most once, its value checked against its type and
 * bounds, defaults for those not given. values[i] is p->params[i]'s text
 * (ints normalised), pointing into buf. Fails with ERR_BAD_PARAM naming
 * the parameter: not declared, repeated, bad, out of bounds, required.
 */
int program_params(const struct program *p, const char *query,
    const char *values[PROG_MAX_PARAMS], char *buf, size_t len,
    struct err *e);

/*
 * Expands one template element: "{name}" is that parameter's value, "{file}"
 * is file, "{{" and "}}" are literal braces. Writes the NUL-terminated text
 * into out. 0, or -1 if a placeholder is unknown, a brace unmatched, or the
 * text longer than len - 1 (the caller names the failure).
 */
int program_expand(const struct program *p, const char *tmpl,
    const char *const values[], const char *file, char *out, size_t len);

/*
 * The child's argv: every element expanded, NULL-terminated, in one
 * allocation the caller frees (free(*argv)). 0, or ERR_INTERNAL in e.
 */
int program_argv(const struct program *p, const char *const values[],
    const char *file, char ***argv, struct err *e);

/*
 * Runs p with argv (from program_argv()), filefd the requested file or -1,
 * and streams its stdout into r's body; conn_fd (> 0) is the web server's
 * connection, watched for a hang-up while the program is silent. Returns 0
 * when the program exited 0 having written something; otherwise the error
 * (ERR_BAD_GATEWAY for the program's failures, ERR_GONE for a client
 * that went away), with the child's process group killed and reaped and
 * every descriptor closed either way.
 */
int program_run(const struct program *p, char *const argv[], int filefd,
    int conn_fd, struct response *r, struct err *e);

/*
 * The router's entry, once it has chosen this route (program_match() on
 * req->path) and gated it: answers it (parameters from req->query, file,
 * run) and returns 1, or the error (for response_fail()); 0 if no program
 * matches. A file whose first bytes are not of a type in the program's
 * accept list is ERR_UNSUPPORTED before anything starts.
 */
int program_route(const struct server *srv, const struct request *req,
    struct response *r, struct err *e);

#endif
