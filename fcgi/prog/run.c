/*
 * run - an external program's child process and the loop that streams its
 * stdout into the response. See program.h.
 */
#include "prog/program.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/conn.h"
#include "http/http.h"
#include "proc/log.h"

#define READ_CHUNK	(256 * 1024)	/* bytes read from the pipe at once */
#define PIPE_WANT	(1024 * 1024)	/* stdout pipe capacity asked for */

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

/*
 * In the child, between fork() and execve(): only async-signal-safe calls.
 * fds[0..3] become 0, 1, 2 and (if fds[3] >= 0) PROG_FILE_FD; every other
 * descriptor is closed at exec; errfd (close-on-exec) reports a failure.
 */
static void __attribute__((noreturn))
child_exec(const struct program *p, char *const argv[], int fds[4],
    int errfd, pid_t parent, long maxfd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int first, err;

	/* Its own group, so the worker can signal everything it starts. */
	(void)setpgid(0, 0);
	/* Gone with the worker, however the worker goes. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		goto fail;
	/* No set-user-ID gain through it, no core file of a crash in some
	 * directory, no dependence on where the worker happens to be. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }) < 0 || chdir("/") < 0)
		goto fail;
	/* Every source above the targets first, so no dup2() clobbers one. */
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0 && (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16)) < 0)
			goto fail;
	if ((errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 16)) < 0)
		goto fail;
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0 && dup2(fds[i], i == 3 ? PROG_FILE_FD : i) < 0)
			goto fail;
	first = fds[3] >= 0 ? PROG_FILE_FD + 1 : 3;
	if (syscall(SYS_close_range, (unsigned)first, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = first; fd < maxfd; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* Ignored signals (SIGPIPE, SIGHUP in the worker) stay ignored
	 * across exec; a converter expects the defaults. */
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(p->path, argv, p->env);
fail:
	err = errno;
	(void)!write(errfd, &err, sizeof(err));
	_exit(127);
}

/* What one run holds; every fd -1 when closed. */
struct run {
	const struct program *p;
	struct response *r;
	pid_t pid;
	int out, err, pidfd;
	bool exited;		/* the leader's status is in status (not reaped) */
	siginfo_t status;
	unsigned long long out_bytes;
	int64_t first_ms;	/* when the first byte was read; 0: none yet */
	char tail[2 * PROG_STDERR_KEEP];	/* the last stderr bytes */
	size_t tail_len;
	bool tail_cut;		/* earlier stderr was dropped */
};

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Starts the child: stdout and stderr pipes, stdin /dev/null or the file.
 * 0, or the error with nothing left open or running.
 */
static int
run_start(struct run *run, char *const argv[], int filefd, struct err *e)
{
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, xp[2] = { -1, -1 };
	int in = -1, fds[4], rc, cerr = 0;
	pid_t parent = getpid();
	long maxfd = sysconf(_SC_OPEN_MAX);
	ssize_t n;

	if (pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0 ||
	    pipe2(xp, O_CLOEXEC) < 0) {
		rc = err_set(e, ERR_INTERNAL, "pipe: %s", strerror(errno));
		goto out;
	}
	if (run->p->stdin_file) {
		char self[64];

		/* A description of its own, read from the start, blocking:
		 * not the worker's (whose offset and flags it would share). */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", filefd);
		in = open(self, O_RDONLY | O_CLOEXEC);
	} else {
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (in < 0) {
		rc = err_set(e, ERR_INTERNAL, "stdin: %s", strerror(errno));
		goto out;
	}
	/* Fewer wake-ups per byte; the kernel may cap it (pipe-max-size). */
	(void)fcntl(op[1], F_SETPIPE_SZ, PIPE_WANT);
	fds[0] = in;
	fds[1] = op[1];
	fds[2] = ep[1];
	fds[3] = run->p->uses_file ? filefd : -1;
	if ((run->pid = fork()) < 0) {
		rc = err_set(e, ERR_INTERNAL, "fork: %s", strerror(errno));
		goto out;
	}
	if (run->pid == 0)
		child_exec(run->p, argv, fds, xp[1], parent, maxfd > 0 ? maxfd : 1024);
	/* Both sides set the group, so killpg() works whoever runs first. */
	(void)setpgid(run->pid, run->pid);
	close_fd(&xp[1]);
	do
		n = read(xp[0], &cerr, sizeof(cerr));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		/* The child never ran the program: reap it now. */
		(void)waitpid(run->pid, NULL, 0);
		run->pid = -1;
		rc = err_set(e, ERR_BAD_GATEWAY, "program %s could not be started: %s",
		    run->p->name, strerror(cerr));
		goto out;
	}
	run->out = op[0];
	run->err = ep[0];
	op[0] = ep[0] = -1;	/* handed to run */
	(void)fcntl(run->out, F_SETFL, O_NONBLOCK);
	(void)fcntl(run->err, F_SETFL, O_NONBLOCK);
	run->pidfd = (int)syscall(SYS_pidfd_open, run->pid, 0);
	rc = 0;
out:
	close_fd(&op[0]);
	close_fd(&op[1]);
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	close_fd(&xp[0]);
	close_fd(&xp[1]);
	close_fd(&in);
	return rc;
}

/* Notes the leader's exit without reaping it (its pid keeps the group's
 * id ours until run_reap()). */
static void
run_poll_exit(struct run *run)
{
	siginfo_t si = { 0 };

	if (run->exited)
		return;
	if (waitid(P_PID, (id_t)run->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == run->pid) {
		run->status = si;
		run->exited = true;
	}
}

/* Waits up to ms for the leader to exit. */
static void
run_wait_exit(struct run *run, int64_t ms)
{
	int64_t end = clock_ms() + ms;

	for (;;) {
		int64_t left;

		run_poll_exit(run);
		if (run->exited || (left = end - clock_ms()) <= 0)
			return;
		if (run->pidfd >= 0) {
			struct pollfd pf = { .fd = run->pidfd, .events = POLLIN };

			(void)poll(&pf, 1, (int)left);
		} else {
			(void)poll(NULL, 0, left < 10 ? (int)left : 10);
		}
	}
}

/*
 * Ends the run: the group asked to stop (SIGTERM, then SIGKILL after the
 * grace) if kill, anything left of it killed either way, the leader reaped,
 * every fd closed.
 */
static void
run_reap(struct run *run, bool kill)
{
	int st;

	if (run->pid > 0) {
		if (kill && !run->exited) {
			(void)killpg(run->pid, SIGTERM);
			(void)killpg(run->pid, SIGCONT);
			run_wait_exit(run, PROG_KILL_GRACE_MS);
		}
		/* Whatever it left running (its group) goes too; the unreaped
		 * leader keeps the group id from being reused meanwhile. */
		(void)killpg(run->pid, SIGKILL);
		while (waitpid(run->pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!run->exited) {
			memset(&run->status, 0, sizeof(run->status));
			run->status.si_code = WIFSIGNALED(st) ? CLD_KILLED : CLD_EXITED;
			run->status.si_status = WIFSIGNALED(st) ? WTERMSIG(st) :
			    WEXITSTATUS(st);
			run->exited = true;
		}
		run->pid = -1;
	}
	close_fd(&run->out);
	close_fd(&run->err);
	close_fd(&run->pidfd);
}

/* Keeps the last PROG_STDERR_KEEP bytes the child wrote to stderr. */
static void
run_read_stderr(struct run *run)
{
	ssize_t n;

	for (;;) {
		if (run->tail_len > PROG_STDERR_KEEP) {
			size_t drop = run->tail_len - PROG_STDERR_KEEP;

			memmove(run->tail, run->tail + drop, PROG_STDERR_KEEP);
			run->tail_len = PROG_STDERR_KEEP;
			run->tail_cut = true;
		}
		n = read(run->err, run->tail + run->tail_len,
		    sizeof(run->tail) - run->tail_len);
		if (n > 0) {
			run->tail_len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			close_fd(&run->err);
		if (n < 0 && errno == EINTR)
			continue;
		return;
	}
}

/* The kept stderr, one log line per line of it. */
static void
run_log_stderr(const struct run *run, pid_t pid, bool failed)
{
	char line[700], esc[900];
	size_t i = 0;

	if (run->tail_len == 0)
		return;
	if (run->tail_cut)
		log_warn("program %s[%d]: stderr: (earlier output dropped)",
		    run->p->name, (int)pid);
	while (i < run->tail_len) {
		const char *s = run->tail + i;
		const char *nl = memchr(s, '\n', run->tail_len - i);
		size_t n = nl ? (size_t)(nl - s) : run->tail_len - i;
		size_t c = n < sizeof(line) - 1 ? n : sizeof(line) - 1;

		i += n + 1;
		memcpy(line, s, c);
		line[c] = '\0';
		/* A NUL in the text would end it early; that is all. */
		if (line[0] == '\0')
			continue;
		log_escape(esc, sizeof(esc), line);
		if (failed)
			log_error("program %s[%d]: stderr: %s", run->p->name,
			    (int)pid, esc);
		else
			log_warn("program %s[%d]: stderr: %s", run->p->name,
			    (int)pid, esc);
	}
}

/* The signal's name for a message ("SIGSEGV"), or its number. */
static void
signal_text(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "%d", sig);
}

enum run_end {
	END_DONE = 0,		/* nothing cut the run short (yet) */
	END_TIMEOUT,
	END_TOO_MUCH,		/* over max_output */
	END_CLIENT,		/* the client (or web server) went away */
	END_BROKEN,		/* reading the pipe failed */
};

/* Moves what the pipe holds into the response: 0, or why it must end. */
static enum run_end
run_read_stdout(struct run *run, unsigned char *buf, size_t cap)
{
	const struct program *p = run->p;
	ssize_t n;

	n = read(run->out, buf, cap);
	if (n == 0) {
		close_fd(&run->out);
		return END_DONE;
	}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? END_DONE : END_BROKEN;
	if (p->max_output && run->out_bytes + (size_t)n > p->max_output)
		return END_TOO_MUCH;
	if (run->out_bytes == 0)
		run->first_ms = clock_ms();
	run->out_bytes += (size_t)n;
	/* Held bytes are copied once into the hold; committed ones go to
	 * the FastCGI stream at once, a record per chunk, and out. */
	if (sink_write(&run->r->body, buf, (size_t)n) < 0)
		return END_CLIENT;
	if (run->r->committed && sink_flush(&run->r->body) < 0)
		return END_CLIENT;
	return END_DONE;
}

/*
 * The loop: stdout into the response, stderr into the tail, until the
 * program has exited and closed stdout, the deadline, max_output, or the
 * client goes away.
 */
static enum run_end
run_loop(struct run *run, int conn_fd, int64_t deadline)
{
	const struct program *p = run->p;
	struct response *r = run->r;
	unsigned char *buf;
	enum run_end end = END_DONE;

	if ((buf = malloc(READ_CHUNK)) == NULL)
		return END_BROKEN;
	while (run->out >= 0 || !run->exited) {
		struct pollfd pf[4];
		int np = 0, io = -1, ie = -1, ip = -1, ic = -1, rc;
		int64_t now = clock_ms(), wait = deadline - now;

		if (wait <= 0) {
			end = END_TIMEOUT;
			break;
		}
		/* A slow producer's first bytes do not wait for the hold. */
		if (!r->committed && run->out_bytes > 0) {
			int64_t commit_at = run->first_ms + p->hold_ms;

			if (now >= commit_at) {
				if (response_flush(r) < 0) {
					end = END_CLIENT;
					break;
				}
			} else if (commit_at - now < wait) {
				wait = commit_at - now;
			}
		}
		if (run->out >= 0) {
			io = np;
			pf[np++] = (struct pollfd){ .fd = run->out, .events = POLLIN };
		}
		if (run->err >= 0) {
			ie = np;
			pf[np++] = (struct pollfd){ .fd = run->err, .events = POLLIN };
		}
		if (!run->exited && run->pidfd >= 0) {
			ip = np;
			pf[np++] = (struct pollfd){ .fd = run->pidfd, .events = POLLIN };
		}
		if (conn_fd > 0) {
			ic = np;
			pf[np++] = conn_watch(conn_fd);
		}
		if (!run->exited && run->pidfd < 0 && wait > 20)
			wait = 20;	/* no pidfd: look at the child now and then */
		rc = poll(pf, (nfds_t)np, (int)(wait > INT_MAX ? INT_MAX : wait));
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			end = END_BROKEN;
			break;
		}
		if (ic >= 0 && conn_hung_up(&pf[ic])) {
			end = END_CLIENT;
			break;
		}
		if (ie >= 0 && pf[ie].revents)
			run_read_stderr(run);
		if (io >= 0 && pf[io].revents &&
		    (end = run_read_stdout(run, buf, READ_CHUNK)) != END_DONE)
			break;
		if ((ip >= 0 && pf[ip].revents) || run->pidfd < 0)
			run_poll_exit(run);
	}
	free(buf);
	if (run->err >= 0)
		run_read_stderr(run);
	return end;
}

int
program_run(const struct program *p, char *const argv[], int filefd,
    int conn_fd, struct response *r, struct err *e)
{
	struct run *run;
	enum run_end end;
	char sig[32];
	pid_t pid;
	int rc;

	/* The stderr tail is 8 KiB: not on the worker's stack. */
	if ((run = calloc(1, sizeof(*run))) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	run->p = p;
	run->r = r;
	run->out = run->err = run->pidfd = -1;
	if ((rc = run_start(run, argv, filefd, e)) < 0)
		goto out;
	pid = run->pid;
	end = run_loop(run, conn_fd, clock_ms() + (int64_t)p->timeout * 1000);
	run_reap(run, end != END_DONE);
	run_log_stderr(run, pid, end != END_DONE || run->status.si_code != CLD_EXITED ||
	    run->status.si_status != 0 || run->out_bytes == 0);
	switch (end) {
	case END_TIMEOUT:
		rc = err_set(e, ERR_BAD_GATEWAY, "program %s timed out after %u s",
		    p->name, p->timeout);
		break;
	case END_TOO_MUCH:
		rc = err_set(e, ERR_BAD_GATEWAY, "program %s wrote more than "
		    "max_output (%llu bytes)", p->name, p->max_output);
		break;
	case END_CLIENT:
		rc = err_set(e, ERR_GONE, "client went away");
		break;
	case END_BROKEN:
		rc = err_set(e, ERR_INTERNAL, "program %s: reading its output: %s",
		    p->name, strerror(errno));
		break;
	case END_DONE:
		if (run->status.si_code != CLD_EXITED) {
			signal_text(run->status.si_status, sig, sizeof(sig));
			rc = err_set(e, ERR_BAD_GATEWAY, "program %s was killed by %s",
			    p->name, sig);
		} else if (run->status.si_status != 0) {
			rc = err_set(e, ERR_BAD_GATEWAY, "program %s failed (exit "
			    "status %d)", p->name, run->status.si_status);
		} else if (run->out_bytes == 0) {
			rc = err_set(e, ERR_BAD_GATEWAY, "program %s wrote nothing",
			    p->name);
		} else {
			rc = 0;
		}
		break;
	}
out:
	run_reap(run, true);
	free(run);
	return rc;
}
