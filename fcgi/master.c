/*
 * master - prefork process manager.
 *
 * Signal handlers only write the signal number to a self-pipe; the loop in
 * master_run() does the work. Signals are blocked around fork() so a child
 * never runs the master's handlers.
 */
#include "master.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "worker.h"

#define MAX_WORKERS 256
#define STOP_GRACE_MS 30000	/* SIGTERM: wait this long, then SIGKILL */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define QUICK_EXIT_MS 1000	/* a worker dying sooner counts as a crash */

struct slot {
	pid_t pid;		/* 0: free */
	unsigned generation;	/* config generation it was started with */
	long long started_ms;
};

/* The self-pipe; file scope because the signal handler must reach it. */
static int sig_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	(void)!write(sig_pipe[1], &b, 1);
	errno = saved;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
master_apply_flags(struct config *c, const struct master_flags *f,
    char *errbuf, size_t len)
{
	char n[16];

	if (f->root && config_set(c, "media", "root", f->root, errbuf, len) < 0)
		return -1;
	if (f->listen &&
	    config_set(c, "server", "listen", f->listen, errbuf, len) < 0)
		return -1;
	if (f->workers) {
		snprintf(n, sizeof(n), "%u", f->workers);
		if (config_set(c, "server", "workers", n, errbuf, len) < 0)
			return -1;
	}
	return 0;
}

struct master {
	struct config *cfg;
	int listen_fd;
	unsigned generation;
	struct slot slots[MAX_WORKERS];
	bool stopping;
	long long stop_deadline;
	unsigned backoff_ms;
	long long respawn_at;	/* 0: spawn whenever a slot is short */
};

static pid_t
master_spawn(struct master *m, struct slot *s)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		worker_main(m->cfg, m->listen_fd);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		return -1;
	}
	s->pid = pid;
	s->generation = m->generation;
	s->started_ms = now_ms();
	return pid;
}

static unsigned
master_count(const struct master *m, bool current_only)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_WORKERS; i++)
		if (m->slots[i].pid > 0 &&
		    (!current_only || m->slots[i].generation == m->generation))
			n++;
	return n;
}

/* Starts workers of the current generation until there are cfg->workers. */
static void
master_fill(struct master *m)
{
	unsigned have = master_count(m, true);

	if (m->stopping || (m->respawn_at && now_ms() < m->respawn_at))
		return;
	m->respawn_at = 0;
	for (unsigned i = 0; i < MAX_WORKERS && have < m->cfg->workers; i++) {
		if (m->slots[i].pid != 0)
			continue;
		if (master_spawn(m, &m->slots[i]) < 0)
			break;
		have++;
	}
}

static void
master_signal_all(struct master *m, int sig, bool old_only)
{
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		if (m->slots[i].pid > 0 &&
		    (!old_only || m->slots[i].generation != m->generation))
			kill(m->slots[i].pid, sig);
}

static void
master_reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct slot *s = NULL;

		for (unsigned i = 0; i < MAX_WORKERS; i++)
			if (m->slots[i].pid == pid)
				s = &m->slots[i];
		if (s == NULL)
			continue;
		if (WIFSIGNALED(status))
			log_warn("worker %d killed by signal %d", (int)pid,
			    WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			log_warn("worker %d exited with code %d", (int)pid,
			    WEXITSTATUS(status));
		if (!m->stopping && s->generation == m->generation &&
		    (WIFSIGNALED(status) || WEXITSTATUS(status) != 0) &&
		    now_ms() - s->started_ms < QUICK_EXIT_MS) {
			/* Dying at start again and again: wait before the next. */
			m->backoff_ms = m->backoff_ms ?
			    (m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    m->backoff_ms * 2) : BACKOFF_MIN_MS;
			m->respawn_at = now_ms() + m->backoff_ms;
			log_warn("worker crash storm: next start in %u ms",
			    m->backoff_ms);
		} else if (s->generation == m->generation) {
			m->backoff_ms = 0;
		}
		s->pid = 0;
	}
}

static void
master_reload(struct master *m, const char *config_path,
    const struct master_flags *flags)
{
	struct config *next = calloc(1, sizeof(*next));
	char why[512];

	if (next == NULL)
		return;
	config_init(next);
	if ((config_path && config_load(next, config_path, why, sizeof(why)) < 0) ||
	    master_apply_flags(next, flags, why, sizeof(why)) < 0 ||
	    config_validate(next, why, sizeof(why)) < 0) {
		log_error("reload refused, keeping the running config: %s", why);
		config_cleanup(next);
		free(next);
		return;
	}
	if ((next->listen == NULL) != (m->cfg->listen == NULL) ||
	    (next->listen && strcmp(next->listen, m->cfg->listen) != 0))
		log_warn("reload: listen changed; the socket stays as it was "
		    "until a restart");
	/* Old workers keep their own copy of the old config (fork). */
	config_cleanup(m->cfg);
	free(m->cfg);
	m->cfg = next;
	m->generation++;
	m->respawn_at = 0;
	m->backoff_ms = 0;
	master_fill(m);
	master_signal_all(m, SIGTERM, true);
	log_info("reloaded: generation %u, %u workers", m->generation,
	    m->cfg->workers);
}

static void
master_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal,
	    .sa_flags = SA_RESTART };
	int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
master_run(struct config *cfg, int listen_fd, const char *config_path,
    const struct master_flags *flags)
{
	struct master m = { .cfg = cfg, .listen_fd = listen_fd };
	/* The socket is the one opened at start, whatever a reload says. */
	char *listen_spec = cfg->listen ? strdup(cfg->listen) : NULL;
	int code = 0;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_error("pipe: %s", strerror(errno));
		return 1;
	}
	master_install_signals();
	master_fill(&m);
	log_info("master ready: %u workers", cfg->workers);

	for (;;) {
		struct pollfd pfd = { .fd = sig_pipe[0], .events = POLLIN };
		unsigned char sigs[64];
		int timeout = -1;
		ssize_t n;

		if (m.stopping) {
			if (master_count(&m, false) == 0)
				break;
			if (now_ms() >= m.stop_deadline) {
				log_warn("workers still busy after %d ms: killing",
				    STOP_GRACE_MS);
				master_signal_all(&m, SIGKILL, false);
				m.stop_deadline = now_ms() + 60000;
			}
			timeout = 200;
		} else if (m.respawn_at) {
			long long d = m.respawn_at - now_ms();
			timeout = d > 0 ? (int)d : 0;
		}
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			log_error("poll: %s", strerror(errno));
		while ((n = read(sig_pipe[0], sigs, sizeof(sigs))) > 0) {
			for (ssize_t i = 0; i < n; i++) {
				switch (sigs[i]) {
				case SIGCHLD:
					master_reap(&m);
					break;
				case SIGTERM:
					if (!m.stopping) {
						log_info("SIGTERM: finishing requests");
						m.stopping = true;
						m.stop_deadline = now_ms() + STOP_GRACE_MS;
						master_signal_all(&m, SIGTERM, false);
					}
					break;
				case SIGINT:
				case SIGQUIT:
					log_info("signal %d: stopping now", sigs[i]);
					master_signal_all(&m, SIGKILL, false);
					m.stopping = true;
					m.stop_deadline = now_ms() + 60000;
					break;
				case SIGHUP:
					if (!m.stopping)
						master_reload(&m, config_path, flags);
					break;
				default:
					break;
				}
			}
		}
		master_reap(&m);
		master_fill(&m);
	}
	listen_unlink(listen_spec);
	free(listen_spec);
	config_cleanup(m.cfg);
	free(m.cfg);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	log_info("stopped");
	return code;
}
