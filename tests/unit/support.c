/*
 * support - helpers shared by the unit tests (see support.h).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "core/err.h"
#include "support.h"

extern char **environ;

int
sup_run(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = -1, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

void
sup_params_ok(const char *q, struct params *p)
{
	struct err e;
	int rc;

	params_init(p);
	err_init(&e);
	rc = params_parse(q, p, &e);
	if (rc != 0 || e.kind != ERR_NONE)
		fail_msg("'%s' refused: rc %d, '%s'", q, rc, e.msg);
}

void
sup_params_refused(const char *q, const char *needle)
{
	struct params p;
	struct err e;
	int rc;

	params_init(&p);
	err_init(&e);
	rc = params_parse(q, &p, &e);
	if (rc != -(int)ERR_BAD_PARAM || e.kind != ERR_BAD_PARAM)
		fail_msg("'%s' not refused with 400: rc %d, '%s'", q, rc, e.msg);
	if (strstr(e.msg, needle) == NULL)
		fail_msg("'%s': message '%s' does not name '%s'", q, e.msg,
		    needle);
}
