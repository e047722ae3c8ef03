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
 * Ownership: the programs live in struct config (c->programs, a struct
 * program_set: program_set.h), filled and checked at load; nothing here
 * keeps a pointer the caller passes in.
 */
#ifndef MF_PROGRAM_H
#define MF_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "prog/program_set.h"

struct config;
struct server;
struct request;
struct response;

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
