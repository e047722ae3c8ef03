/*
 * viewers - N MJPEG viewers of one URL in one process (epoll), for the
 * live-at-scale benchmark: counts the parts each viewer receives over a
 * measured window and prints one JSON line.
 *
 *   viewers HOST PORT PATH N WARMUP_S WINDOW_S
 *
 * Each viewer sends "GET PATH HTTP/1.0" (no chunking: the body is the
 * multipart stream as the server wrote it) and counts the part headers
 * ("Content-Type: image/jpeg") seen in the window, searching across read
 * boundaries. A viewer whose status line is not 200 counts by status; one
 * whose connection fails or ends counts as failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MARK "Content-Type: image/jpeg"
#define MARK_LEN (sizeof(MARK) - 1)

struct viewer {
	int fd;
	int status;		/* 0 until the status line */
	int ended;
	unsigned long parts;	/* in the window */
	unsigned long all;	/* since the start */
	size_t keep;		/* bytes kept from the last read */
	char tail[MARK_LEN + 64];
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Counts MARK in tail + data, keeping the end of it for the next read. */
static unsigned long
count_marks(struct viewer *v, const char *data, size_t n)
{
	static char buf[262144 + sizeof(((struct viewer *)0)->tail)];
	unsigned long c = 0;
	size_t len = v->keep + n;
	const char *p = buf, *end;

	memcpy(buf, v->tail, v->keep);
	memcpy(buf + v->keep, data, n);
	end = buf + len;
	while ((p = memmem(p, (size_t)(end - p), MARK, MARK_LEN)) != NULL) {
		c++;
		p += MARK_LEN;
	}
	v->keep = len < MARK_LEN - 1 ? len : MARK_LEN - 1;
	memcpy(v->tail, end - v->keep, v->keep);
	return c;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct rlimit rl;
	struct viewer *vs;
	unsigned n, ok = 0, failed = 0, s503 = 0, other = 0;
	double warm, window, t0, t_from, t_to;
	char req[1024];
	unsigned long *fps;
	int ep;

	if (argc != 7) {
		fprintf(stderr, "usage: viewers HOST PORT PATH N WARMUP_S WINDOW_S\n");
		return 2;
	}
	n = (unsigned)atoi(argv[4]);
	warm = atof(argv[5]);
	window = atof(argv[6]);
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", argv[3],
	    argv[1]);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	vs = calloc(n, sizeof(*vs));
	fps = calloc(n, sizeof(*fps));
	ep = epoll_create1(0);
	if (vs == NULL || fps == NULL || ep < 0)
		return 1;
	t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		vs[i].fd = fd;
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
			vs[i].ended = 1;
			continue;
		}
		fcntl(fd, F_SETFL, O_NONBLOCK);
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		/* Not all at once: a web server's accept queue is finite. */
		if (i % 50 == 49)
			usleep(20000);
	}
	t_from = t0 + warm;
	if (now_s() > t_from)
		t_from = now_s();
	t_to = t_from + window;
	for (;;) {
		struct epoll_event evs[256];
		double t = now_s();
		int k = epoll_wait(ep, evs, 256, 100);

		if (t >= t_to)
			break;
		for (int e = 0; e < k; e++) {
			struct viewer *v = &vs[evs[e].data.u32];
			static char data[262144];
			ssize_t r;

			while ((r = read(v->fd, data, sizeof(data))) > 0) {
				unsigned long c;

				if (v->status == 0 && r > 12 &&
				    memcmp(data, "HTTP/1.", 7) == 0)
					v->status = atoi(data + 9);
				c = count_marks(v, data, (size_t)r);
				v->all += c;
				if (t >= t_from && t < t_to)
					v->parts += c;
			}
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				v->ended = 1;
				epoll_ctl(ep, EPOLL_CTL_DEL, v->fd, NULL);
			}
		}
	}
	t_to = now_s();
	for (unsigned i = 0; i < n; i++) {
		if (vs[i].status == 503)
			s503++;
		else if (vs[i].status != 200 && vs[i].status != 0)
			other++;
		else if (vs[i].status == 0 || vs[i].ended)
			failed++;
		else
			ok++;
		fps[i] = vs[i].parts;
		close(vs[i].fd);
	}
	qsort(fps, n, sizeof(*fps), cmp_ul);
	printf("{\"viewers\": %u, \"ok\": %u, \"503\": %u, \"other\": %u, "
	    "\"failed\": %u, \"window_s\": %.2f, \"fps_min\": %.2f, "
	    "\"fps_p10\": %.2f, \"fps_median\": %.2f, \"fps_max\": %.2f}\n",
	    n, ok, s503, other, failed, t_to - t_from,
	    (double)fps[0] / (t_to - t_from),
	    (double)fps[n / 10] / (t_to - t_from),
	    (double)fps[n / 2] / (t_to - t_from),
	    (double)fps[n - 1] / (t_to - t_from));
	return 0;
}
