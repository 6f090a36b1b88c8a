// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The agent's flow stream; see flowstream.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "flowstream.h"

#define DEF_BUF		(1u << 20)
#define DEF_CLIENTS	16
#define LISTEN_TAG	((uint64_t)-1)

struct client {
	int fd;			/* -1: free slot */
	char *buf;
	size_t off, len;	/* pending bytes: buf[off .. len) */
	uint64_t lost;		/* dropped, not yet announced */
	bool out;		/* registered for EPOLLOUT */
};

struct bh_flowstream {
	int epfd, lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t cap;
	int max;
	struct client *c;
	int nr;
	uint64_t lost;
};

static int fill_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

/* Someone answering on path: another agent of this instance. */
static bool in_use(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return used;
}

int bh_flowstream_open(const struct bh_flowstream_opts *o, struct bh_flowstream **out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTEN_TAG };
	struct bh_flowstream *s;
	struct sockaddr_un sun;
	int err;

	*out = NULL;
	err = fill_addr(o->path, &sun);
	if (err)
		return err;
	if (in_use(&sun))
		return -EADDRINUSE;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cap = o->client_buf ? o->client_buf : DEF_BUF;
	s->max = o->max_clients > 0 ? o->max_clients : DEF_CLIENTS;
	s->epfd = s->lfd = -1;
	s->c = calloc((size_t)s->max, sizeof(*s->c));
	if (!s->c) {
		free(s);
		return -ENOMEM;
	}
	for (int i = 0; i < s->max; i++)
		s->c[i].fd = -1;
	snprintf(s->path, sizeof(s->path), "%s", o->path);
	unlink(o->path);	/* stale: nobody answered */
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->lfd < 0 || s->epfd < 0 ||
	    bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(o->path, 0600) || listen(s->lfd, 16) ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev)) {
		err = -errno;
		bh_flowstream_close(s);
		return err;
	}
	*out = s;
	return 0;
}

static void drop_client(struct bh_flowstream *s, struct client *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	*c = (struct client){ .fd = -1 };
	s->nr--;
}

void bh_flowstream_close(struct bh_flowstream *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->max; i++)
		if (s->c[i].fd >= 0)
			drop_client(s, &s->c[i]);
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->path);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	free(s->c);
	free(s);
}

int bh_flowstream_fd(const struct bh_flowstream *s)
{
	return s ? s->epfd : -1;
}

bool bh_flowstream_active(const struct bh_flowstream *s)
{
	return s && s->nr > 0;
}

int bh_flowstream_clients(const struct bh_flowstream *s)
{
	return s ? s->nr : 0;
}

uint64_t bh_flowstream_lost(const struct bh_flowstream *s)
{
	return s ? s->lost : 0;
}

static void want_out(struct bh_flowstream *s, struct client *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0),
				  .data.u64 = (uint64_t)(c - s->c) };

	if (c->out != out && epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->out = out;
}

/* Write what the socket takes; false if the client is gone. */
static bool flush(struct bh_flowstream *s, struct client *c)
{
	while (c->off < c->len) {
		ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return false;
		}
		c->off += (size_t)n;
	}
	if (c->off == c->len)
		c->off = c->len = 0;
	want_out(s, c, c->off < c->len);
	return true;
}

static void accept_all(struct bh_flowstream *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };

		if (fd < 0)
			return;
		for (i = 0; i < s->max && s->c[i].fd >= 0; i++)
			;
		if (i == s->max) {
			close(fd);	/* full: accepted and closed */
			continue;
		}
		s->c[i] = (struct client){ .fd = fd, .buf = malloc(s->cap) };
		ev.data.u64 = (uint64_t)i;
		if (!s->c[i].buf || epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			free(s->c[i].buf);
			close(fd);
			s->c[i] = (struct client){ .fd = -1 };
			continue;
		}
		s->nr++;
	}
}

int bh_flowstream_handle(struct bh_flowstream *s)
{
	struct epoll_event evs[16];
	int n;

	if (!s)
		return 0;
	n = epoll_wait(s->epfd, evs, 16, 0);
	for (int i = 0; i < n; i++) {
		struct client *c;

		if (evs[i].data.u64 == LISTEN_TAG) {
			accept_all(s);
			continue;
		}
		c = &s->c[evs[i].data.u64];
		if (c->fd < 0)
			continue;
		if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			char junk[256];
			ssize_t r = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);

			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) ||
			    (evs[i].events & (EPOLLHUP | EPOLLERR))) {
				drop_client(s, c);
				continue;
			}
		}
		if ((evs[i].events & EPOLLOUT) && !flush(s, c))
			drop_client(s, c);
	}
	return n < 0 ? -errno : 0;
}

static bool append(struct bh_flowstream *s, struct client *c, const char *line, size_t len)
{
	if (c->off && c->len + len + 1 > s->cap) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len + len + 1 > s->cap)
		return false;
	memcpy(c->buf + c->len, line, len);
	c->buf[c->len + len] = '\n';
	c->len += len + 1;
	return true;
}

void bh_flowstream_send(struct bh_flowstream *s, const char *line, size_t len)
{
	for (int i = 0; s && i < s->max; i++) {
		struct client *c = &s->c[i];

		if (c->fd < 0)
			continue;
		if (c->lost) {
			char note[64];
			int n = snprintf(note, sizeof(note), "{\"type\":\"lost\",\"records\":%llu}",
					 (unsigned long long)c->lost);

			if (append(s, c, note, (size_t)n))
				c->lost = 0;
		}
		if (c->lost || !append(s, c, line, len)) {
			c->lost++;
			s->lost++;
		}
		if (!flush(s, c))
			drop_client(s, c);
	}
}
