/*
 * fanout - every live viewer, one event loop. See fanout.h.
 *
 * A frame is copied out of its ring once per publish, as the part a viewer
 * is sent (part head, JPEG, the boundary that ends it), and framed once
 * per FastCGI request id (web servers use 1): every viewer ready for it
 * gets the same bytes, referenced, not copied. A viewer whose write was
 * partial keeps its frame until the rest went out (EPOLLOUT) and skips
 * newer ones meanwhile.
 */
#include "viewers/fanout.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/conn.h"
#include "proc/child.h"
#include "proc/log.h"
#include "streams/slots.h"

#define REC_MAX 65528		/* FastCGI record content, 8-aligned */
#define TICK_MS 250
#define FRAMINGS 4		/* request ids framed per frame */
#define PART_TAIL "\r\n--" STREAM_BOUNDARY "\r\n"
#define CLOSING "\r\n--" STREAM_BOUNDARY "--\r\n"

struct hand_msg {
	uint32_t ring, gen;
	uint32_t request_id;
	uint32_t stream_timeout_s;
};

int
fanout_hand(const struct live *l, int fd, unsigned i, uint32_t gen,
    unsigned request_id, unsigned stream_timeout_s)
{
	struct hand_msg m = { .ring = i, .gen = gen, .request_id = request_id,
	    .stream_timeout_s = stream_timeout_s };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = c.b, .msg_controllen = sizeof(c.b) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&msg);

	memset(&c, 0, sizeof(c));
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	return sendmsg(l->hand_fd[0], &msg, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(m) ? 0 : -1;
}

/* ------------------------------------------------------------ the loop */

struct frame {
	unsigned refs;
	size_t len;
	unsigned char b[];
};

struct viewer {
	int fd;
	unsigned ring;
	uint32_t gen;
	unsigned request_id;
	int64_t timeout_ms;
	int64_t live_ms;	/* when it last had nothing waiting */
	uint64_t offered;	/* the newest frame offered to it */
	struct frame *pending;	/* half-written, or NULL */
	size_t off;
	bool out_armed;		/* EPOLLOUT asked for */
	struct viewer *prev, *next;	/* its ring's list */
};

struct ring_state {
	struct viewer *head;
	unsigned count;
	uint64_t seq;		/* newest copied */
	uint32_t gen;		/* of that copy */
	unsigned char *part;	/* part head + JPEG + tail */
	size_t part_len;
	struct {
		unsigned request_id;
		struct frame *f;
	} framed[FRAMINGS];
};

struct fanout {
	const struct config *cfg;
	struct live *l;
	int ep;
	unsigned char *jpeg;	/* copy buffer, room bytes */
	struct ring_state rings[LIVE_RINGS];
};

static volatile sig_atomic_t fanout_stop;

static void
on_fanout_stop(int sig)
{
	(void)sig;
	fanout_stop = 1;
}

/* Tags of the two non-viewer descriptors in epoll's data. */
static int tag_hand, tag_wake;

static void
frame_unref(struct frame *f)
{
	if (f != NULL && --f->refs == 0)
		free(f);
}

static void
rec_header(unsigned char *p, int type, unsigned id, size_t len)
{
	p[0] = 1;
	p[1] = (unsigned char)type;
	p[2] = (unsigned char)(id >> 8);
	p[3] = (unsigned char)id;
	p[4] = (unsigned char)(len >> 8);
	p[5] = (unsigned char)len;
	p[6] = 0;
	p[7] = 0;
}

/* data as FastCGI STDOUT records of request id. */
static struct frame *
frame_records(const unsigned char *data, size_t len, unsigned id)
{
	size_t nrec = (len + REC_MAX - 1) / REC_MAX;
	struct frame *f = malloc(sizeof(*f) + len + 8 * nrec);
	unsigned char *p;

	if (f == NULL)
		return NULL;
	f->refs = 1;
	f->len = len + 8 * nrec;
	p = f->b;
	while (len > 0) {
		size_t c = len < REC_MAX ? len : REC_MAX;

		rec_header(p, 6, id, c);
		memcpy(p + 8, data, c);
		p += 8 + c;
		data += c;
		len -= c;
	}
	return f;
}

static void
ring_drop_frame(struct ring_state *rs)
{
	for (unsigned k = 0; k < FRAMINGS; k++) {
		frame_unref(rs->framed[k].f);
		rs->framed[k].f = NULL;
	}
	rs->part_len = 0;
}

/* The newest frame of ring i, framed for request id; NULL: none yet. */
static struct frame *
ring_frame(struct fanout *fo, unsigned i, unsigned id)
{
	struct ring_state *rs = &fo->rings[i];
	unsigned k;

	if (rs->part_len == 0)
		return NULL;
	for (k = 0; k < FRAMINGS && rs->framed[k].f != NULL; k++)
		if (rs->framed[k].request_id == id)
			return rs->framed[k].f;
	if (k == FRAMINGS) {
		/* More request ids than usual: the oldest framing goes. */
		frame_unref(rs->framed[FRAMINGS - 1].f);
		k = FRAMINGS - 1;
	}
	rs->framed[k].request_id = id;
	rs->framed[k].f = frame_records(rs->part, rs->part_len, id);
	return rs->framed[k].f;
}

/* Copies ring i's newest frame if it is new: 1, else 0. */
static int
ring_refresh(struct fanout *fo, unsigned i)
{
	struct ring_state *rs = &fo->rings[i];
	const struct live_ring *r = &fo->l->rings[i];
	uint32_t gen = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
	uint64_t seq = rs->seq;
	ssize_t n;
	int h;

	if (gen != rs->gen) {
		ring_drop_frame(rs);
		rs->gen = gen;
		seq = 0;
	}
	n = live_copy(fo->l, i, gen, seq, fo->jpeg, fo->l->room, &seq);
	if (n <= 0)
		return 0;
	rs->seq = seq;
	ring_drop_frame(rs);
	h = snprintf((char *)rs->part, 96,
	    "Content-Type: image/jpeg\r\nContent-Length: %zd\r\n\r\n", n);
	memcpy(rs->part + h, fo->jpeg, (size_t)n);
	memcpy(rs->part + h + n, PART_TAIL, sizeof(PART_TAIL) - 1);
	rs->part_len = (size_t)h + (size_t)n + sizeof(PART_TAIL) - 1;
	return 1;
}

static void
viewer_arm(struct fanout *fo, struct viewer *v, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP |
	    (out ? EPOLLOUT : 0), .data.ptr = v };

	if (v->out_armed != out &&
	    epoll_ctl(fo->ep, EPOLL_CTL_MOD, v->fd, &ev) == 0)
		v->out_armed = out;
}

static void
viewer_close(struct fanout *fo, struct viewer *v, bool clean)
{
	struct ring_state *rs = &fo->rings[v->ring];

	if (clean && v->pending == NULL) {
		/* The empty last part, the end of the answer, END_REQUEST:
		 * best effort, the socket is non-blocking. */
		unsigned char b[64];
		size_t n = sizeof(CLOSING) - 1;

		rec_header(b, 6, v->request_id, n);
		memcpy(b + 8, CLOSING, n);
		rec_header(b + 8 + n, 6, v->request_id, 0);
		rec_header(b + 16 + n, 3, v->request_id, 8);
		memset(b + 24 + n, 0, 8);
		(void)!write(v->fd, b, 32 + n);
	}
	/* Out of epoll before the close: the worker that handed it over may
	 * still hold the connection a moment, and epoll forgets a descriptor
	 * only when its last holder closes it; an event for it would then
	 * name this freed viewer. */
	(void)epoll_ctl(fo->ep, EPOLL_CTL_DEL, v->fd, NULL);
	close(v->fd);
	frame_unref(v->pending);
	if (v->prev != NULL)
		v->prev->next = v->next;
	else
		rs->head = v->next;
	if (v->next != NULL)
		v->next->prev = v->prev;
	rs->count--;
	__atomic_sub_fetch(&fo->l->rings[v->ring].viewers, 1, __ATOMIC_ACQ_REL);
	__atomic_sub_fetch(&fo->l->sh->viewers, 1, __ATOMIC_ACQ_REL);
	free(v);
}

/* Writes what is pending: 0 (done or partial), -1 the viewer is gone. */
static int
viewer_write(struct fanout *fo, struct viewer *v)
{
	while (v->pending != NULL) {
		ssize_t w = write(v->fd, v->pending->b + v->off,
		    v->pending->len - v->off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			viewer_arm(fo, v, true);
			return 0;
		}
		v->off += (size_t)w;
		if (v->off == v->pending->len) {
			frame_unref(v->pending);
			v->pending = NULL;
			v->off = 0;
		}
	}
	viewer_arm(fo, v, false);
	return 0;
}

/*
 * The newest frame to v if it can take it now: nothing half-written and
 * nothing unread by the web server; else it skips this one.
 */
static void
viewer_offer(struct fanout *fo, struct viewer *v, int64_t now)
{
	struct frame *f;

	if (v->offered >= fo->rings[v->ring].seq)
		return;
	v->offered = fo->rings[v->ring].seq;
	if (v->pending != NULL || conn_unread(v->fd) > 0)
		return;
	v->live_ms = now;
	if (v->gen != fo->rings[v->ring].gen ||
	    (f = ring_frame(fo, v->ring, v->request_id)) == NULL)
		return;
	f->refs++;
	v->pending = f;
	v->off = 0;
	if (viewer_write(fo, v) < 0)
		viewer_close(fo, v, false);
}

static void
fanout_take(struct fanout *fo)
{
	for (;;) {
		struct hand_msg m;
		struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} c;
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = c.b, .msg_controllen = sizeof(c.b) };
		struct cmsghdr *h;
		struct viewer *v;
		struct epoll_event ev;
		int fd = -1;
		ssize_t n = recvmsg(fo->l->hand_fd[1], &msg, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		h = CMSG_FIRSTHDR(&msg);
		if (h != NULL && h->cmsg_level == SOL_SOCKET &&
		    h->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(h), sizeof(int));
		if (fd < 0)
			continue;
		if (n != (ssize_t)sizeof(m) || m.ring >= LIVE_RINGS ||
		    (v = calloc(1, sizeof(*v))) == NULL) {
			close(fd);
			__atomic_sub_fetch(&fo->l->sh->viewers, 1, __ATOMIC_ACQ_REL);
			continue;
		}
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		v->fd = fd;
		v->ring = m.ring;
		v->gen = m.gen;
		v->request_id = m.request_id;
		v->timeout_ms = (int64_t)m.stream_timeout_s * 1000;
		v->live_ms = clock_ms();
		v->next = fo->rings[m.ring].head;
		if (v->next != NULL)
			v->next->prev = v;
		fo->rings[m.ring].head = v;
		fo->rings[m.ring].count++;
		__atomic_add_fetch(&fo->l->rings[m.ring].viewers, 1,
		    __ATOMIC_ACQ_REL);
		ev = (struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP,
		    .data.ptr = v };
		if (epoll_ctl(fo->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ||
		    v->gen != fo->l->rings[m.ring].gen) {
			/* Its source left the config meanwhile. */
			viewer_close(fo, v, true);
			continue;
		}
		/* The newest frame at once: a viewer sees the picture as
		 * soon as it opens the stream. */
		(void)ring_refresh(fo, m.ring);
		viewer_offer(fo, v, clock_ms());
	}
}

/* New frames: each ring with viewers offers its newest. */
static void
fanout_frames(struct fanout *fo)
{
	int64_t now = clock_ms();

	for (unsigned i = 0; i < LIVE_RINGS; i++) {
		struct viewer *v, *next;

		if (fo->rings[i].count == 0)
			continue;
		/* A viewer that came meanwhile may have copied it already:
		 * every viewer is offered what it was not offered yet. */
		(void)ring_refresh(fo, i);
		for (v = fo->rings[i].head; v != NULL; v = next) {
			next = v->next;
			viewer_offer(fo, v, now);
		}
	}
}

/* Once per tick: sources gone, viewers stalled, the readers kept alive. */
static void
fanout_tick(struct fanout *fo)
{
	int64_t now = clock_ms();

	for (unsigned i = 0; i < LIVE_RINGS; i++) {
		struct live_ring *r = &fo->l->rings[i];
		uint32_t gen = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
		struct viewer *v, *next;

		if (fo->rings[i].count == 0)
			continue;
		r->last_use_ms = now;
		for (v = fo->rings[i].head; v != NULL; v = next) {
			next = v->next;
			if (v->gen != gen) {
				viewer_close(fo, v, true);
				continue;
			}
			if (v->pending == NULL && conn_unread(v->fd) == 0)
				v->live_ms = now;
			else if (v->timeout_ms > 0 &&
			    now - v->live_ms > v->timeout_ms)
				viewer_close(fo, v, false);
		}
	}
}

/* A viewer's connection is readable: discard; 0 bytes means it left. */
static bool
viewer_gone(struct viewer *v, uint32_t events)
{
	unsigned char junk[512];
	ssize_t n;

	if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		return true;
	while ((n = read(v->fd, junk, sizeof(junk))) > 0)
		;
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

void
fanout_main(const struct config *cfg, struct live *l)
{
	struct sigaction sa = { .sa_handler = on_fanout_stop };
	struct fanout fo = { .cfg = cfg, .l = l };
	struct epoll_event ev;
	struct rlimit rl;
	int64_t last_tick = 0;
	sigset_t none;

	child_signals((const int[]){ SIGINT, SIGCHLD, 0 },
	    (const int[]){ SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, 0 });
	prctl(PR_SET_NAME, "mediafcgi-fanout");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* A descriptor per viewer: as many as the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (child_drop_privileges(cfg) < 0)
		_exit(2);
	close(l->hand_fd[0]);
	l->hand_fd[0] = -1;
	for (unsigned i = 0; i < LIVE_RINGS; i++)
		if ((fo.rings[i].part = malloc(96 + l->room +
		    sizeof(PART_TAIL))) == NULL)
			_exit(2);
	if ((fo.jpeg = malloc(l->room)) == NULL ||
	    (fo.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		log_error("fan-out start-up: %s", strerror(errno));
		_exit(2);
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_hand };
	(void)epoll_ctl(fo.ep, EPOLL_CTL_ADD, l->hand_fd[1], &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_wake };
	(void)epoll_ctl(fo.ep, EPOLL_CTL_ADD, l->wake_fd, &ev);

	while (!fanout_stop && getppid() != 1) {
		struct epoll_event evs[128];
		int n = epoll_wait(fo.ep, evs, 128, TICK_MS);
		bool frames = false;

		for (int k = 0; k < n; k++) {
			void *p = evs[k].data.ptr;

			if (p == &tag_hand) {
				fanout_take(&fo);
			} else if (p == &tag_wake) {
				uint64_t c;

				(void)!read(l->wake_fd, &c, sizeof(c));
				frames = true;
			} else {
				struct viewer *v = p;

				if ((evs[k].events & (EPOLLIN | EPOLLRDHUP |
				    EPOLLHUP | EPOLLERR)) && viewer_gone(v,
				    evs[k].events)) {
					viewer_close(&fo, v, false);
					continue;
				}
				if ((evs[k].events & EPOLLOUT) &&
				    viewer_write(&fo, v) < 0)
					viewer_close(&fo, v, false);
			}
		}
		if (frames)
			fanout_frames(&fo);
		if (clock_ms() - last_tick >= TICK_MS) {
			last_tick = clock_ms();
			fanout_tick(&fo);
		}
	}
	/* Stopping (or the master is gone): a clean end for everyone. */
	for (unsigned i = 0; i < LIVE_RINGS; i++)
		while (fo.rings[i].head != NULL)
			viewer_close(&fo, fo.rings[i].head, true);
	_exit(0);
}
