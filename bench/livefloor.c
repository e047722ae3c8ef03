/*
 * livefloor: the least CPU a live MJPEG fan-out can cost on this machine,
 * for the live benchmark's floor row. One process, one thread: it reads the
 * feed's multipart stream, keeps only the newest whole part, and writes it
 * to every viewer whose socket has taken the previous one, with one
 * non-blocking writev per viewer and TCP_NOTSENT_LOWAT so a slow viewer
 * skips frames. No web server, no FastCGI, no re-encoding: what is left is
 * the kernel's cost of moving the bytes and one wake-up per frame.
 *
 *   livefloor FEED_HOST FEED_PORT FEED_PATH LISTEN_PORT
 * Serves any GET on 127.0.0.1:LISTEN_PORT; stops on SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAXV 256
#define INBUF (4 << 20)

struct frame {
	int refs;
	size_t len;
	char data[];
};

struct viewer {
	int fd;
	struct frame *f;	/* being sent, or NULL */
	size_t off;
	int header_left;
};

static volatile sig_atomic_t stop;
static struct viewer v[MAXV];
static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Type: multipart/"
    "x-mixed-replace; boundary=floor\r\nCache-Control: no-cache\r\n"
    "Connection: close\r\n\r\n";

static void
on_signal(int s)
{
	(void)s;
	stop = 1;
}

static void
unref(struct frame *f)
{
	if (f != NULL && --f->refs == 0)
		free(f);
}

static void
drop(int ep, struct viewer *w)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL);
	close(w->fd);
	unref(w->f);
	memset(w, 0, sizeof(*w));
}

/* Sends what is pending; 0 when done or would block, -1 when gone. */
static int
pump(struct viewer *w)
{
	while (w->header_left > 0 || w->f != NULL) {
		struct iovec io[2];
		int n = 0;
		ssize_t r;

		if (w->header_left > 0) {
			io[n].iov_base = (char *)hdr + sizeof(hdr) - 1 - w->header_left;
			io[n++].iov_len = (size_t)w->header_left;
		}
		if (w->f != NULL) {
			io[n].iov_base = w->f->data + w->off;
			io[n++].iov_len = w->f->len - w->off;
		}
		r = writev(w->fd, io, n);
		if (r < 0)
			return errno == EAGAIN ? 0 : -1;
		if (w->header_left > 0) {
			size_t h = (size_t)r < (size_t)w->header_left ? (size_t)r : (size_t)w->header_left;
			w->header_left -= (int)h;
			r -= (ssize_t)h;
		}
		if (w->f != NULL) {
			w->off += (size_t)r;
			if (w->off == w->f->len) {
				unref(w->f);
				w->f = NULL;
				w->off = 0;
			}
		}
	}
	return 0;
}

static int
feed_connect(const char *host, int port, const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char req[512];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, host, &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
	if (write(fd, req, strlen(req)) < 0)
		return -1;
	return fd;
}

/* The next whole JPEG in buf[0..*len): moved out as a frame, or NULL. */
static struct frame *
next_jpeg(char *buf, size_t *len)
{
	char *soi = memmem(buf, *len, "\xff\xd8", 2), *eoi;
	struct frame *f;
	size_t n;
	int hl;

	if (soi == NULL)
		return NULL;
	eoi = memmem(soi, *len - (size_t)(soi - buf), "\xff\xd9", 2);
	if (eoi == NULL)
		return NULL;
	n = (size_t)(eoi + 2 - soi);
	f = malloc(sizeof(*f) + n + 128);
	hl = snprintf(f->data, 128, "--floor\r\nContent-Type: image/jpeg\r\n"
	    "Content-Length: %zu\r\n\r\n", n);
	memcpy(f->data + hl, soi, n);
	memcpy(f->data + hl + n, "\r\n", 2);
	f->len = (size_t)hl + n + 2;
	f->refs = 1;
	memmove(buf, eoi + 2, *len - (size_t)(eoi + 2 - buf));
	*len -= (size_t)(eoi + 2 - buf);
	return f;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct epoll_event ev, evs[64];
	static char in[INBUF];
	size_t inlen = 0;
	int ls, feed, ep, one = 1, lowat = 16384;

	if (argc != 5) {
		fprintf(stderr, "usage: livefloor FEED_HOST FEED_PORT FEED_PATH LISTEN_PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_port = htons((uint16_t)atoi(argv[4]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 128) < 0) {
		perror("livefloor: listen");
		return 1;
	}
	feed = feed_connect(argv[1], atoi(argv[2]), argv[3]);
	if (feed < 0) {
		perror("livefloor: feed");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.u32 = 0xffffffffu;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	ev.data.u32 = 0xfffffffeu;
	epoll_ctl(ep, EPOLL_CTL_ADD, feed, &ev);
	while (!stop) {
		int n = epoll_wait(ep, evs, 64, 1000);

		for (int i = 0; i < n; i++) {
			uint32_t id = evs[i].data.u32;

			if (id == 0xffffffffu) {
				int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
				char junk[4096];
				int k;

				if (fd < 0)
					continue;
				for (k = 0; k < MAXV && v[k].fd != 0; k++)
					;
				if (k == MAXV) {
					close(fd);
					continue;
				}
				/* The request is not parsed: any GET gets the stream. */
				usleep(1000);
				if (read(fd, junk, sizeof(junk)) < 0) {
					/* nothing yet: answer anyway */
				}
				setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
				v[k].fd = fd;
				v[k].header_left = (int)sizeof(hdr) - 1;
				ev.events = EPOLLOUT | EPOLLET;
				ev.data.u32 = (uint32_t)k;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				if (pump(&v[k]) < 0)
					drop(ep, &v[k]);
			} else if (id == 0xfffffffeu) {
				ssize_t r = read(feed, in + inlen, sizeof(in) - inlen);
				struct frame *f, *newest = NULL;

				if (r <= 0) {
					stop = 1;
					break;
				}
				inlen += (size_t)r;
				while ((f = next_jpeg(in, &inlen)) != NULL) {
					unref(newest);
					newest = f;
				}
				if (inlen == sizeof(in))
					inlen = 0;
				if (newest == NULL)
					continue;
				for (int k = 0; k < MAXV; k++) {
					if (v[k].fd == 0 || v[k].f != NULL || v[k].header_left)
						continue;
					v[k].f = newest;
					newest->refs++;
					if (pump(&v[k]) < 0)
						drop(ep, &v[k]);
				}
				unref(newest);
			} else if (pump(&v[id]) < 0) {
				drop(ep, &v[id]);
			}
		}
	}
	return 0;
}
