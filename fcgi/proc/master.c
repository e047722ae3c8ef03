/*
 * master - prefork process manager.
 *
 * Signal handlers only write the signal number to a self-pipe; the loop in
 * master_run() does the work. Signals are blocked around fork() so a child
 * never runs the master's handlers.
 *
 * To its workers the master says: SIGQUIT, finish the request in hand and
 * exit (reload, graceful stop); SIGUSR1, reopen the logs; SIGTERM then
 * SIGKILL, stop now (request_timeout overrun, immediate stop).
 */
#include "proc/master.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "proc/listen.h"
#include "viewers/fanout.h"
#include "viewers/reader.h"
#include "viewers/ring.h"
#include "proc/log.h"
#include "proc/scoreboard.h"
#include "proc/worker.h"

#define MAX_WORKERS SB_SLOTS
#define STOP_GRACE_MS 30000	/* SIGTERM: wait this long, then SIGKILL */
#define KILL_GRACE_MS 2000	/* a timed-out worker: SIGTERM, then SIGKILL */
#define TIMEOUT_SLACK_MS 1000	/* the worker's own alarm goes first */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define QUICK_EXIT_MS 1000	/* a worker dying sooner counts as a crash */

struct slot {
	pid_t pid;		/* 0: free */
	unsigned generation;	/* config generation it was started with */
	int64_t started_ms;
	int64_t killed_ms;	/* when request_timeout's SIGTERM went; 0 */
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
	struct scoreboard *sb;
	bool stopping;
	int64_t stop_deadline;
	unsigned backoff_ms;
	int64_t respawn_at;	/* 0: spawn whenever a slot is short */
	struct live live;	/* the sources' rings and reader pids */
	int restart[LIVE_RINGS];	/* readers a reload stops */
	pid_t fanout;		/* the viewers' process, 0: none */
	int64_t fanout_started_ms;
	int64_t fanout_at;	/* not before (it died at start) */
};

/*
 * fork() with every signal blocked around it, so the child never runs the
 * master's handlers; the child (0) leaves the self-pipe and sets its own
 * signal mask; the master gets the pid, or -1 (logged).
 */
static pid_t
fork_child(void)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		return 0;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		log_error("fork: %s", strerror(errno));
	return pid;
}

static pid_t
master_spawn(struct master *m, unsigned i)
{
	struct slot *s = &m->slots[i];
	struct sb_slot *sbs = &m->sb->slots[i];
	pid_t pid;

	memset(sbs, 0, sizeof(*sbs));
	sbs->generation = m->generation;
	if ((pid = fork_child()) == 0) {
		sbs->pid = getpid();
		sbs->started_ms = clock_ms();
		worker_main(m->cfg, m->listen_fd, m->sb, i, &m->live);
	}
	if (pid < 0)
		return -1;
	sbs->pid = pid;
	s->pid = pid;
	s->generation = m->generation;
	s->started_ms = clock_ms();
	s->killed_ms = 0;
	return pid;
}

static unsigned
master_count(const struct master *m, bool current_only)
{
	unsigned n = 0;

	/* A stream process no longer counts: it has left the pool. */
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		if (m->slots[i].pid > 0 &&
		    (!current_only || (m->slots[i].generation == m->generation &&
		    !m->sb->slots[i].stream)))
			n++;
	return n;
}

/* Starts workers of the current generation until there are cfg->workers. */
static void
master_fill(struct master *m)
{
	unsigned have = master_count(m, true);

	if (m->stopping || (m->respawn_at && clock_ms() < m->respawn_at))
		return;
	m->respawn_at = 0;
	for (unsigned i = 0; i < MAX_WORKERS && have < m->cfg->workers; i++) {
		if (m->slots[i].pid != 0)
			continue;
		if (master_spawn(m, i) < 0)
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

static unsigned
master_readers(const struct master *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < LIVE_RINGS; i++)
		n += m->live.rings[i].reader > 0;
	return n + (m->fanout > 0);
}

static void
master_signal_readers(struct master *m, int sig)
{
	for (unsigned i = 0; i < LIVE_RINGS; i++)
		if (m->live.rings[i].reader > 0)
			kill(m->live.rings[i].reader, sig);
	if (m->fanout > 0)
		kill(m->fanout, sig);
}

/* live_manage()'s way to start a source's reader process. */
static int
master_spawn_reader(void *ctx, unsigned i, const struct source *src)
{
	struct master *m = ctx;
	struct live_ring *r = &m->live.rings[i];
	uint32_t gen = r->gen;
	pid_t pid;

	if (m->stopping)
		return 0;
	if ((pid = fork_child()) == 0)
		live_reader_main(m->cfg, src, &m->live, i, gen);
	if (pid < 0)
		return -1;
	r->reader = pid;
	r->last_use_ms = clock_ms();
	log_info("source %s: reader %d started", src->name, (int)pid);
	return 0;
}

static void
master_manage_live(struct master *m)
{
	bool any = false;

	if (m->stopping)
		return;
	for (unsigned i = 0; i < LIVE_RINGS && !any; i++)
		any = m->live.rings[i].assigned;
	if (any && m->fanout == 0 && clock_ms() >= m->fanout_at) {
		pid_t pid = fork_child();

		if (pid == 0)
			fanout_main(m->cfg, &m->live);
		if (pid > 0) {
			m->fanout = pid;
			m->live.sh->fanout = pid;
			m->fanout_started_ms = clock_ms();
		}
	}
	live_manage(m->cfg, &m->live, m->restart, master_spawn_reader, m);
}

/* The fan-out ended: its viewers' connections went with it. */
static void
master_fanout_gone(struct master *m, int status)
{
	uint32_t gone = 0;

	for (unsigned i = 0; i < LIVE_RINGS; i++) {
		gone += m->live.rings[i].viewers;
		m->live.rings[i].viewers = 0;
	}
	__atomic_sub_fetch(&m->live.sh->viewers, gone, __ATOMIC_ACQ_REL);
	m->fanout = 0;
	m->live.sh->fanout = 0;
	if (m->stopping)
		return;
	if (WIFSIGNALED(status))
		log_warn("the viewers' process was killed by signal %d (%u "
		    "viewers lost)", WTERMSIG(status), gone);
	else
		log_warn("the viewers' process exited with code %d",
		    WEXITSTATUS(status));
	if (clock_ms() - m->fanout_started_ms < QUICK_EXIT_MS)
		m->fanout_at = clock_ms() + QUICK_EXIT_MS;
}

/* "GET /a.jpg?size=10x10 after 1234 ms" for a worker's request in hand. */
static void
describe_request(const struct master *m, unsigned i, char *buf, size_t len)
{
	const struct sb_slot *s = &m->sb->slots[i];

	if (s->state >= SB_READING)
		snprintf(buf, len, "while serving %.8s \"%s\" for %lld ms",
		    s->method, s->uri, (long long)(clock_ms() - s->request_ms));
	else
		snprintf(buf, len, "while %s", sb_state_name(s->state));
}

static void
master_reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		unsigned i;
		struct slot *s = NULL;
		char what[400];

		for (i = 0; i < MAX_WORKERS && s == NULL; i++)
			if (m->slots[i].pid == pid)
				s = &m->slots[i];
		if (s == NULL) {
			if (pid == m->fanout) {
				master_fanout_gone(m, status);
				continue;
			}
			for (unsigned k = 0; k < LIVE_RINGS; k++)
				if (m->live.rings[k].reader == pid) {
					struct live_ring *r = &m->live.rings[k];

					r->reader = 0;
					if (WIFSIGNALED(status) && !r->stopping_ms)
						log_warn("source %s: reader %d killed by "
						    "signal %d", r->name, (int)pid,
						    WTERMSIG(status));
					r->stopping_ms = 0;
				}
			continue;
		}
		i--;
		describe_request(m, i, what, sizeof(what));
		if (WIFSIGNALED(status)) {
			log_warn("worker %d killed by signal %d (%s) %s", (int)pid,
			    WTERMSIG(status), strsignal(WTERMSIG(status)), what);
			if (s->killed_ms == 0)
				__atomic_fetch_add(&m->sb->crashes, 1,
				    __ATOMIC_RELAXED);
		} else if (WEXITSTATUS(status) == 3) {
			log_warn("worker %d answered 504: request_timeout of %u s "
			    "reached %s", (int)pid, m->cfg->request_timeout, what);
			__atomic_fetch_add(&m->sb->timeouts, 1, __ATOMIC_RELAXED);
		} else if (WEXITSTATUS(status) != 0) {
			log_warn("worker %d exited with code %d", (int)pid,
			    WEXITSTATUS(status));
		}
		if (!m->stopping && s->generation == m->generation &&
		    (WIFSIGNALED(status) || (WEXITSTATUS(status) != 0 &&
		    WEXITSTATUS(status) != 3)) &&
		    clock_ms() - s->started_ms < QUICK_EXIT_MS) {
			/* Dying at start again and again: wait before the next. */
			m->backoff_ms = m->backoff_ms ?
			    (m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			    m->backoff_ms * 2) : BACKOFF_MIN_MS;
			m->respawn_at = clock_ms() + m->backoff_ms;
			log_warn("workers die at start: next start in %u ms",
			    m->backoff_ms);
		} else if (s->generation == m->generation) {
			m->backoff_ms = 0;
		}
		/* A stream process gives its stream slot back by ending. */
		if (m->sb->slots[i].stream)
			__atomic_sub_fetch(&m->sb->streams, 1, __ATOMIC_ACQ_REL);
		memset(&m->sb->slots[i], 0, sizeof(m->sb->slots[i]));
		s->pid = 0;
	}
}

/*
 * request_timeout: a worker's own alarm answers 504 and exits; one that
 * does not (stuck where signals cannot reach) gets SIGTERM, then SIGKILL.
 * Streams are exempt.
 */
static void
master_check_timeouts(struct master *m)
{
	int64_t now = clock_ms(), limit;

	if (m->cfg->request_timeout == 0)
		return;
	limit = (int64_t)m->cfg->request_timeout * 1000 + TIMEOUT_SLACK_MS;
	for (unsigned i = 0; i < MAX_WORKERS; i++) {
		struct slot *s = &m->slots[i];
		const struct sb_slot *sbs = &m->sb->slots[i];
		char what[400];

		if (s->pid <= 0)
			continue;
		if (s->killed_ms) {
			if (now - s->killed_ms > KILL_GRACE_MS)
				kill(s->pid, SIGKILL);
			continue;
		}
		if (sbs->state < SB_READING || sbs->state == SB_STREAMING ||
		    now - sbs->request_ms <= limit)
			continue;
		describe_request(m, i, what, sizeof(what));
		log_warn("worker %d over request_timeout (%u s) %s: stopping it",
		    (int)s->pid, m->cfg->request_timeout, what);
		__atomic_fetch_add(&m->sb->timeouts, 1, __ATOMIC_RELAXED);
		kill(s->pid, SIGTERM);
		s->killed_ms = now;
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
	if (live_fits(&m->live, next, why, sizeof(why)) < 0) {
		log_error("reload refused, keeping the running config: %s", why);
		config_cleanup(next);
		free(next);
		return;
	}
	if ((next->listen == NULL) != (m->cfg->listen == NULL) ||
	    (next->listen && strcmp(next->listen, m->cfg->listen) != 0))
		log_warn("reload: listen changed; the socket stays as it was "
		    "until a restart");
	if (log_open(next->access_log, next->error_log) < 0)
		log_error("reload: cannot open the logs: %s", strerror(errno));
	/* Sources by name: a kept one keeps its ring, viewers and reader; a
	 * changed one's reader restarts; a removed one's viewers end. */
	{
		int restart[LIVE_RINGS];

		live_assign(&m->live, m->cfg, next, restart);
		for (unsigned i = 0; i < LIVE_RINGS; i++)
			m->restart[i] |= restart[i];
		live_wake(&m->live);
	}
	/* Old workers keep their own copy of the old config (fork). */
	config_cleanup(m->cfg);
	free(m->cfg);
	m->cfg = next;
	m->generation++;
	m->respawn_at = 0;
	m->backoff_ms = 0;
	/* New workers first, so someone is always accepting. */
	master_fill(m);
	/* Old workers finish their request; old streams keep their viewers
	 * (they end when the client leaves, or at a stop). */
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		if (m->slots[i].pid > 0 && m->slots[i].generation != m->generation &&
		    !m->sb->slots[i].stream)
			kill(m->slots[i].pid, SIGQUIT);
	log_info("reloaded: generation %u, %u workers", m->generation,
	    m->cfg->workers);
}

static void
master_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal,
	    .sa_flags = SA_RESTART };
	/* SIGUSR2: a worker became a stream process or wants a source. */
	int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1,
	    SIGUSR2 };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
master_on_signal(struct master *m, int sig, const char *config_path,
    const struct master_flags *flags)
{
	switch (sig) {
	case SIGCHLD:
		master_reap(m);
		break;
	case SIGTERM:
		if (!m->stopping) {
			log_info("SIGTERM: finishing requests");
			m->stopping = true;
			m->stop_deadline = clock_ms() + STOP_GRACE_MS;
			master_signal_all(m, SIGQUIT, false);
			master_signal_readers(m, SIGTERM);
		}
		break;
	case SIGINT:
	case SIGQUIT:
		log_info("signal %d: stopping now", sig);
		master_signal_all(m, SIGKILL, false);
		master_signal_readers(m, SIGKILL);
		m->stopping = true;
		m->stop_deadline = clock_ms() + 60000;
		break;
	case SIGHUP:
		if (!m->stopping)
			master_reload(m, config_path, flags);
		break;
	case SIGUSR1:
		if (log_reopen() < 0)
			log_error("SIGUSR1: cannot reopen the logs: %s",
			    strerror(errno));
		master_signal_all(m, SIGUSR1, false);
		break;
	default:
		break;
	}
}

int
master_run(struct config *cfg, int listen_fd, const char *config_path,
    const struct master_flags *flags)
{
	struct master m = { .cfg = cfg, .listen_fd = listen_fd };
	/* The socket is the one opened at start, whatever a reload says. */
	char *listen_spec = cfg->listen ? strdup(cfg->listen) : NULL;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (m.sb = sb_new()) == NULL || live_new(&m.live, cfg) < 0) {
		log_error("start-up: %s", strerror(errno));
		free(listen_spec);
		return 1;
	}
	master_install_signals();
	master_fill(&m);
	log_info("master ready: %u workers", cfg->workers);

	for (;;) {
		struct pollfd pfd = { .fd = sig_pipe[0], .events = POLLIN };
		unsigned char sigs[64];
		int timeout = 500;
		ssize_t n;

		if (m.stopping) {
			if (master_count(&m, false) == 0 && master_readers(&m) == 0)
				break;
			if (clock_ms() >= m.stop_deadline) {
				log_warn("workers still busy after %d ms: killing",
				    STOP_GRACE_MS);
				master_signal_all(&m, SIGKILL, false);
				master_signal_readers(&m, SIGKILL);
				m.stop_deadline = clock_ms() + 60000;
			}
			timeout = 200;
		} else if (m.respawn_at) {
			int64_t d = m.respawn_at - clock_ms();

			timeout = d > 0 ? (int)d : 0;
		}
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			log_error("poll: %s", strerror(errno));
		while ((n = read(sig_pipe[0], sigs, sizeof(sigs))) > 0)
			for (ssize_t i = 0; i < n; i++)
				master_on_signal(&m, sigs[i], config_path, flags);
		master_reap(&m);
		master_check_timeouts(&m);
		master_fill(&m);
		master_manage_live(&m);
	}
	listen_unlink(listen_spec);
	free(listen_spec);
	config_cleanup(m.cfg);
	free(m.cfg);
	sb_free(m.sb);
	live_free(&m.live);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	log_info("stopped");
	return 0;
}
