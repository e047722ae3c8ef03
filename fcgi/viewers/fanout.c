/*
 * fanout - every live viewer, one event loop. See fanout.h.
 *
 * A frame is copied out of its ring once per publish, as the part a viewer
 * is sent (part head, JPEG, the boundary that ends it), and framed once
 * per FastCGI request id (web servers use 1): every viewer ready for it
 * gets the same bytes, referenced, not copied. A viewer whose write was
 * partial keeps its frame until the rest went out (EPOLLOUT) and skips
 * newer ones meanwhile.
 *
 * H.264: a source's fragments are copied once each, while it has fMP4
 * viewers, into a window of the last H264_WIN (by number), each framed
 * once per request id like a frame; a viewer holds the framed bytes of
 * the one it is being sent, and the number of the next.
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
#define H264_WIN 128		/* fragments kept per source (> 1 s) */
/* Bytes an fMP4 viewer may have unread by the web server before the next
 * fragment waits: a burst (a new viewer's first group) goes at once, but
 * the connection's own buffer (a unix socket's ~200 KB) never holds
 * seconds of a slow viewer's stream. */
#define MP4_QUEUE (32 * 1024)
#define PART_TAIL "\r\n--" STREAM_BOUNDARY "\r\n"
#define CLOSING "\r\n--" STREAM_BOUNDARY "--\r\n"

struct hand_msg {
	uint32_t ring, gen;
	uint32_t request_id;
	uint32_t stream_timeout_s;
	uint32_t kind;		/* enum fanout_kind */
};

int
fanout_hand(const struct live *l, int fd, unsigned i, uint32_t gen,
    unsigned request_id, unsigned stream_timeout_s, enum fanout_kind kind)
{
	struct hand_msg m = { .ring = i, .gen = gen, .request_id = request_id,
	    .stream_timeout_s = stream_timeout_s, .kind = (uint32_t)kind };
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
	enum fanout_kind kind;
	unsigned ring;
	uint32_t gen;
	unsigned request_id;
	int64_t timeout_ms;
	int64_t live_ms;	/* when it last had nothing waiting */
	uint64_t offered;	/* the newest frame offered to it */
	struct frame *pending;	/* half-written, or NULL */
	size_t off;
	bool out_armed;		/* EPOLLOUT asked for */
	/* FANOUT_MP4 */
	uint32_t epoch;		/* the encoder run whose init it got; 0 */
	uint64_t next_frag;	/* the next fragment it is to get */
	bool waiting_key;	/* resumes at the newest keyframe */
	struct viewer *prev, *next;	/* its ring's list */
};

/* Framings of some bytes, one per request id (web servers use 1). */
struct framings {
	struct {
		unsigned request_id;
		struct frame *f;
	} f[FRAMINGS];
};

/* A fragment copied out of its ring. */
struct frag {
	uint64_t seq;
	uint32_t epoch;
	bool key;
	size_t len;
	struct framings framed;
	unsigned char b[];
};

struct h264_state {
	unsigned count;		/* FANOUT_MP4 viewers */
	uint32_t gen, epoch;	/* of the fragments held */
	uint64_t seq;		/* newest copied */
	uint64_t last_key;	/* newest keyframe held, 0 none */
	struct frag *win[H264_WIN];	/* by seq % H264_WIN */
	unsigned char *init;	/* LIVE_H264_INIT bytes */
	size_t init_len;
	struct framings init_framed;
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
	struct h264_state h264[LIVE_RINGS];
	unsigned char *fragbuf;	/* copy buffer, LIVE_H264_AREA / 4 */
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

		conn_record_header(p, FCGI_REC_STDOUT, id, c);
		memcpy(p + 8, data, c);
		p += 8 + c;
		data += c;
		len -= c;
	}
	return f;
}

/* data framed for request id, from the cache c; NULL: out of memory. */
static struct frame *
framings_get(struct framings *c, const unsigned char *data, size_t len,
    unsigned id)
{
	unsigned k;

	for (k = 0; k < FRAMINGS && c->f[k].f != NULL; k++)
		if (c->f[k].request_id == id)
			return c->f[k].f;
	if (k == FRAMINGS) {
		frame_unref(c->f[FRAMINGS - 1].f);
		k = FRAMINGS - 1;
	}
	c->f[k].request_id = id;
	c->f[k].f = frame_records(data, len, id);
	return c->f[k].f;
}

static void
framings_drop(struct framings *c)
{
	for (unsigned k = 0; k < FRAMINGS; k++) {
		frame_unref(c->f[k].f);
		c->f[k].f = NULL;
	}
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
h264_drop(struct h264_state *hs)
{
	for (unsigned k = 0; k < H264_WIN; k++)
		if (hs->win[k] != NULL) {
			framings_drop(&hs->win[k]->framed);
			free(hs->win[k]);
			hs->win[k] = NULL;
		}
	framings_drop(&hs->init_framed);
	hs->init_len = 0;
	hs->last_key = 0;
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
		/* The empty last part (MJPEG), the end of the answer,
		 * END_REQUEST: best effort, the socket is non-blocking. */
		unsigned char b[64];
		size_t n = 0;

		if (v->kind == FANOUT_MJPEG) {
			conn_record_header(b, FCGI_REC_STDOUT, v->request_id,
			    sizeof(CLOSING) - 1);
			memcpy(b + 8, CLOSING, sizeof(CLOSING) - 1);
			n = 8 + sizeof(CLOSING) - 1;
		}
		conn_record_header(b + n, FCGI_REC_STDOUT, v->request_id, 0);
		conn_record_header(b + 8 + n, FCGI_REC_END_REQUEST,
		    v->request_id, 8);
		memset(b + 16 + n, 0, 8);
		(void)!write(v->fd, b, 24 + n);
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
	/* The last fMP4 viewer gone: its fragments need not be kept. */
	if (v->kind == FANOUT_MP4 && --fo->h264[v->ring].count == 0)
		h264_drop(&fo->h264[v->ring]);
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

/* ------------------------------------------------------------ H.264 */

/* The run's init segment, when the fragments held are of another run. */
static bool
h264_init_for(struct fanout *fo, unsigned i, uint32_t epoch)
{
	struct h264_state *hs = &fo->h264[i];
	uint32_t got = 0;
	ssize_t n;

	if (hs->epoch == epoch && hs->init_len > 0)
		return true;
	n = live_h264_init(fo->l, i, hs->gen, hs->init, LIVE_H264_INIT, &got);
	if (n <= 0 || got != epoch)
		return false;
	/* A new run: nothing of the last one goes with this init. */
	h264_drop(hs);
	hs->init_len = (size_t)n;
	hs->epoch = epoch;
	return true;
}

/* Copies ring i's fragments published since the last copy, in order. */
static void
h264_refresh(struct fanout *fo, unsigned i)
{
	struct h264_state *hs = &fo->h264[i];
	const struct live_ring *r = &fo->l->rings[i];
	uint32_t gen = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
	uint64_t newest = __atomic_load_n(&r->h264.seq, __ATOMIC_ACQUIRE);
	uint64_t s;

	if (gen != hs->gen) {
		h264_drop(hs);
		hs->gen = gen;
		hs->epoch = 0;
		hs->seq = 0;
	}
	if (newest <= hs->seq)
		return;
	s = hs->seq + 1;
	if (newest - s >= H264_WIN)
		s = newest - H264_WIN + 1;
	for (; s <= newest; s++) {
		struct live_frag m;
		ssize_t n = live_h264_frag(fo->l, i, gen, s, fo->fragbuf,
		    LIVE_H264_AREA / 4, &m);
		struct frag *f, **slot = &hs->win[s % H264_WIN];

		/* Lost (overwritten, too large): a hole the viewers that
		 * need it skip to the next keyframe over. */
		if (n <= 0 || !h264_init_for(fo, i, m.epoch))
			continue;
		if ((f = malloc(sizeof(*f) + (size_t)n)) == NULL)
			continue;
		memset(f, 0, sizeof(*f));
		f->seq = s;
		f->epoch = m.epoch;
		f->key = m.key != 0;
		f->len = (size_t)n;
		memcpy(f->b, fo->fragbuf, (size_t)n);
		if (*slot != NULL) {
			framings_drop(&(*slot)->framed);
			free(*slot);
		}
		*slot = f;
		if (f->key)
			hs->last_key = s;
	}
	hs->seq = newest;
}

/* The fragment numbered seq if held, else NULL. */
static struct frag *
h264_held(struct h264_state *hs, uint64_t seq)
{
	struct frag *f = seq ? hs->win[seq % H264_WIN] : NULL;

	return f != NULL && f->seq == seq && f->epoch == hs->epoch ? f : NULL;
}

/*
 * Sends v what it is to get next, in order, as long as its connection
 * takes it at once: the init segment first, then fragments from a
 * keyframe. 0, or -1: the viewer is gone.
 */
static int
mp4_pump(struct fanout *fo, struct viewer *v)
{
	struct h264_state *hs = &fo->h264[v->ring];

	for (;;) {
		struct frag *f;
		struct frame *fr;

		if (v->pending != NULL) {
			if (viewer_write(fo, v) < 0)
				return -1;
			if (v->pending != NULL)
				return 0;	/* the rest on EPOLLOUT */
		}
		if (hs->epoch == 0 || hs->init_len == 0)
			return 0;
		if (v->waiting_key) {
			const struct live_h264 *h = &fo->l->rings[v->ring].h264;
			uint64_t k = hs->last_key;

			/* Only into the run the encoder is on now: the tail
			 * of one that ended is not live (its reader may be
			 * starting the next). */
			if (!h->running || fo->l->rings[v->ring].reader <= 0 ||
			    hs->epoch != h->epoch)
				return 0;
			if (h264_held(hs, k) == NULL || k < v->next_frag)
				return 0;
			if (v->epoch != hs->epoch) {
				fr = framings_get(&hs->init_framed, hs->init,
				    hs->init_len, v->request_id);
				if (fr == NULL)
					return 0;
				v->epoch = hs->epoch;
				fr->refs++;
				v->pending = fr;
				v->off = 0;
				continue;
			}
			v->next_frag = k;
			v->waiting_key = false;
		}
		if (v->next_frag > hs->seq)
			return 0;	/* up to date */
		if ((f = h264_held(hs, v->next_frag)) == NULL) {
			/* A hole: from the next keyframe on. */
			v->waiting_key = true;
			v->next_frag++;
			continue;
		}
		{
			int unread = conn_unread(v->fd);

			if (unread > 0 && (size_t)unread + f->len > MP4_QUEUE)
				return 0;	/* at the next fragment */
		}
		if ((fr = framings_get(&f->framed, f->b, f->len,
		    v->request_id)) == NULL)
			return 0;
		fr->refs++;
		v->pending = fr;
		v->off = 0;
		v->next_frag++;
	}
}

/*
 * New fragments for v: all of them if its connection can take them now
 * (nothing half-written, nothing unread by the web server); otherwise,
 * once a keyframe newer than the fragment it is to get next came, it
 * resumes there (skipping the rest of the group it is in). True when v
 * was closed.
 */
static bool
mp4_offer(struct fanout *fo, struct viewer *v, int64_t now)
{
	struct h264_state *hs = &fo->h264[v->ring];

	if (v->gen != hs->gen)
		return false;	/* the tick ends it */
	if (v->epoch != 0 && hs->epoch != 0 && v->epoch != hs->epoch) {
		/* Another encoder run: its fragments need their own init;
		 * the client reconnects for it. */
		viewer_close(fo, v, true);
		return true;
	}
	if (v->pending != NULL || conn_unread(v->fd) > 0) {
		if (!v->waiting_key && hs->last_key > v->next_frag)
			v->waiting_key = true;
		return false;
	}
	v->live_ms = now;
	if (mp4_pump(fo, v) < 0) {
		viewer_close(fo, v, false);
		return true;
	}
	return false;
}

/*
 * The newest frame to v if it can take it now: nothing half-written and
 * nothing unread by the web server; else it skips this one.
 */
static void
viewer_offer(struct fanout *fo, struct viewer *v, int64_t now)
{
	struct frame *f;

	if (v->kind == FANOUT_MP4) {
		(void)mp4_offer(fo, v, now);
		return;
	}
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
		v->kind = m.kind == FANOUT_MP4 ? FANOUT_MP4 : FANOUT_MJPEG;
		v->waiting_key = true;
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
		if (v->kind == FANOUT_MP4)
			fo->h264[m.ring].count++;
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
		/* The newest frame (or keyframe) at once: a viewer sees the
		 * picture as soon as it opens the stream. */
		if (v->kind == FANOUT_MP4)
			h264_refresh(fo, m.ring);
		else
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
		if (fo->rings[i].count > fo->h264[i].count)
			(void)ring_refresh(fo, i);
		if (fo->h264[i].count > 0)
			h264_refresh(fo, i);
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
		/* fMP4 viewers keep the source's encoder on. */
		if (fo->h264[i].count > 0) {
			r->h264.wanted_ms = now;
			h264_refresh(fo, i);
		}
		for (v = fo->rings[i].head; v != NULL; v = next) {
			next = v->next;
			if (v->gen != gen) {
				viewer_close(fo, v, true);
				continue;
			}
			/* What it could not take at the last fragment (a
			 * stalled source sends no more). */
			if (v->kind == FANOUT_MP4 && mp4_offer(fo, v, now))
				continue;
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
	for (unsigned i = 0; i < LIVE_RINGS; i++)
		if ((fo.h264[i].init = malloc(LIVE_H264_INIT)) == NULL)
			_exit(2);
	if ((fo.jpeg = malloc(l->room)) == NULL ||
	    (fo.fragbuf = malloc(LIVE_H264_AREA / 4)) == NULL ||
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
				else if ((evs[k].events & EPOLLOUT) &&
				    v->kind == FANOUT_MP4)
					(void)mp4_offer(&fo, v, clock_ms());
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
