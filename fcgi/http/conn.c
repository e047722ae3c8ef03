/*
 * conn - hang-up and unread bytes of the web server's connection.
 */
#include "http/conn.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>

struct pollfd
conn_watch(int fd)
{
	return (struct pollfd){ .fd = fd, .events = POLLRDHUP };
}

bool
conn_hung_up(const struct pollfd *p)
{
	return (p->revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

bool
conn_is_gone(int fd)
{
	struct pollfd p = conn_watch(fd);

	return fd > 0 && poll(&p, 1, 0) > 0 && conn_hung_up(&p);
}

int
conn_unread(int fd)
{
	int n = 0;

	if (fd <= 0 || ioctl(fd, SIOCOUTQ, &n) < 0)
		return 0;
	return n;
}

void
conn_record_header(unsigned char *p, int type, unsigned id, size_t len)
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
