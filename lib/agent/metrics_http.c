// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The non-blocking HTTP server for GET /metrics, driven from one epoll
 * fd. See metrics.h for the contract. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "strbuf.h"

enum conn_state { C_READ, C_WRITE };

struct conn {
	int fd;
	enum conn_state state;
	struct timespec deadline;
	char req[BH_METRICS_REQ_MAX];
	size_t req_len;
	char *out;		/* response: headers + body */
	size_t out_len, out_off;
	struct conn *next;
};

struct bh_metrics_server {
	int epfd;
	int lfd;
	int tfd;		/* timerfd: earliest connection deadline */
	int port;
	int timeout_ms;
	int max_conns;
	int nr_conns;
	bh_metrics_collect_fn collect;
	bh_metrics_health_fn health;
	bh_metrics_health_fn ready;
	void *arg;
	struct bh_metrics *reg;
	struct conn *conns;
};

/* epoll data tags: the listening socket and the timer are told apart
 * from connections, whose data.ptr is the struct conn. */
static char tag_listen, tag_timer;

/* "HOST:PORT" or "[V6]:PORT" -> host text (bracketed: *v6) and port. */
static int split_listen(const char *s, char *host, size_t len, long *port, bool *v6)
{
	const char *colon, *hs = s;
	size_t hl;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	*v6 = *s == '[';
	if (*v6) {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hl = rb - hs;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL;
		hl = colon - s;
	}
	if (hl >= len)
		return -EINVAL;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	errno = 0;
	*port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || *port < 0 || *port > 65535)
		return -EINVAL;
	return 0;
}

static int set_in4(struct sockaddr_storage *ss, socklen_t *sl, in_addr_t addr, long port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	in->sin_addr.s_addr = addr;
	*sl = sizeof(*in);
	return 0;
}

/* An empty host, "*" or 0.0.0.0 listens on every IPv4 address. No
 * resolver in the agent's loop: localhost is the only name. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	struct in_addr a4;
	char host[256];
	long port;
	bool v6;
	int err;

	err = split_listen(s, host, sizeof(host), &port, &v6);
	if (err)
		return err;
	memset(ss, 0, sizeof(*ss));
	if (!host[0] || !strcmp(host, "0.0.0.0") || !strcmp(host, "*"))
		return set_in4(ss, sl, htonl(INADDR_ANY), port);
	if (!v6 && inet_pton(AF_INET, host, &a4) == 1)
		return set_in4(ss, sl, a4.s_addr, port);
	if (v6 && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*sl = sizeof(*in6);
		return 0;
	}
	if (!strcmp(host, "localhost"))
		return set_in4(ss, sl, htonl(INADDR_LOOPBACK), port);
	return -EINVAL;
}

static int ep_add(int epfd, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int bh_metrics_server_open(const struct bh_metrics_server_opts *opts,
			   struct bh_metrics_server **out)
{
	struct sockaddr_storage ss;
	struct bh_metrics_server *srv;
	socklen_t sl;
	int one = 1, err;

	if (!opts->collect)
		return -EINVAL;
	err = parse_listen(opts->listen ? opts->listen : BH_METRICS_DEFAULT_LISTEN, &ss, &sl);
	if (err)
		return err;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->epfd = srv->lfd = srv->tfd = -1;
	srv->collect = opts->collect;
	srv->health = opts->health;
	srv->ready = opts->ready;
	srv->arg = opts->arg;
	srv->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : BH_METRICS_DEFAULT_TIMEOUT_MS;
	srv->max_conns = opts->max_conns > 0 ? opts->max_conns : BH_METRICS_DEFAULT_MAX_CONNS;
	err = bh_metrics_new(&srv->reg);
	if (err)
		goto fail;

	srv->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0)
		goto fail_errno;
	/* A restarted agent must rebind while old connections sit in TIME_WAIT. */
	setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(srv->lfd, (struct sockaddr *)&ss, sl) || listen(srv->lfd, 64))
		goto fail_errno;
	if (getsockname(srv->lfd, (struct sockaddr *)&ss, &sl))
		goto fail_errno;
	srv->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						  : ((struct sockaddr_in6 *)&ss)->sin6_port);

	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (srv->epfd < 0 || srv->tfd < 0)
		goto fail_errno;
	err = ep_add(srv->epfd, srv->lfd, EPOLLIN, &tag_listen);
	if (!err)
		err = ep_add(srv->epfd, srv->tfd, EPOLLIN, &tag_timer);
	if (err)
		goto fail;
	*out = srv;
	return 0;
fail_errno:
	err = -errno;
fail:
	bh_metrics_server_close(srv);
	return err;
}

static void conn_close(struct bh_metrics_server *srv, struct conn *c)
{
	struct conn **pp;

	for (pp = &srv->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	/* close() removes the fd from the epoll set. */
	close(c->fd);
	free(c->out);
	free(c);
	srv->nr_conns--;
}

void bh_metrics_server_close(struct bh_metrics_server *srv)
{
	if (!srv)
		return;
	while (srv->conns)
		conn_close(srv, srv->conns);
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->tfd >= 0)
		close(srv->tfd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	bh_metrics_free(srv->reg);
	free(srv);
}

int bh_metrics_server_fd(const struct bh_metrics_server *srv)
{
	return srv->epfd;
}

int bh_metrics_server_port(const struct bh_metrics_server *srv)
{
	return srv->port;
}

int bh_metrics_server_conns(const struct bh_metrics_server *srv)
{
	return srv->nr_conns;
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

/* Arm the timer for the earliest deadline (or disarm). */
static void timer_rearm(struct bh_metrics_server *srv)
{
	struct itimerspec its = { 0 };
	struct conn *c;
	uint64_t junk;

	/* Consume an expiry that fired, or the fd stays readable. */
	if (read(srv->tfd, &junk, sizeof(junk)) < 0) {
		/* EAGAIN: nothing expired */
	}
	for (c = srv->conns; c; c = c->next)
		if (!its.it_value.tv_sec || ts_cmp(&c->deadline, &its.it_value) < 0)
			its.it_value = c->deadline;
	timerfd_settime(srv->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void conn_accept(struct bh_metrics_server *srv)
{
	int i;

	/* Bounded: a flood of connects is handled a batch per call. */
	for (i = 0; i < 64; i++) {
		struct conn *c;
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;	/* EAGAIN, or a per-connection error: try next time */
		if (srv->nr_conns >= srv->max_conns || !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = C_READ;
		clock_gettime(CLOCK_MONOTONIC, &c->deadline);
		c->deadline.tv_sec += srv->timeout_ms / 1000;
		c->deadline.tv_nsec += (long)(srv->timeout_ms % 1000) * 1000000L;
		if (c->deadline.tv_nsec >= 1000000000L) {
			c->deadline.tv_sec++;
			c->deadline.tv_nsec -= 1000000000L;
		}
		if (ep_add(srv->epfd, fd, EPOLLIN | EPOLLRDHUP, c)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = srv->conns;
		srv->conns = c;
		srv->nr_conns++;
	}
}

static int respond(struct conn *c, const char *status, const char *ctype,
		   const char *body, size_t blen, bool head)
{
	struct bh_sbuf b = { 0 };
	char hdr[256];

	snprintf(hdr, sizeof(hdr),
		 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n", status, ctype, blen);
	bh_sb_reserve(&b, strlen(hdr) + blen);
	bh_sb_puts(&b, hdr);
	if (!head)
		bh_sb_putn(&b, body, blen);
	if (b.err)
		return b.err;
	c->out = b.p;
	c->out_len = b.len;
	c->out_off = 0;
	c->state = C_WRITE;
	return 0;
}

static int respond_text(struct conn *c, const char *status, const char *msg, bool head)
{
	return respond(c, status, "text/plain; charset=utf-8", msg, strlen(msg), head);
}

/* The request is complete in c->req (NUL-terminated): build the answer. */
static int conn_answer(struct bh_metrics_server *srv, struct conn *c)
{
	char method[16], target[1024], version[16];
	bool head;
	char *body = NULL, *q;
	size_t blen;
	int err;

	if (sscanf(c->req, "%15s %1023s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7))
		return respond_text(c, "400 Bad Request", "bad request\n", false);
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head)
		return respond_text(c, "405 Method Not Allowed", "only GET\n", false);
	q = strchr(target, '?');
	if (q)
		*q = '\0';
	if ((srv->health && !strcmp(target, "/healthz")) ||
	    (srv->ready && !strcmp(target, "/readyz"))) {
		bh_metrics_health_fn fn = target[1] == 'h' ? srv->health : srv->ready;
		char msg[256];
		int bad = fn(srv->arg, msg, sizeof(msg) - 1);

		strcat(msg, "\n");
		return respond_text(c, bad ? "503 Service Unavailable" : "200 OK", msg, head);
	}
	if (strcmp(target, "/metrics"))
		return respond_text(c, "404 Not Found", "try /metrics\n", head);

	bh_metrics_begin(srv->reg);
	if (srv->collect(srv->reg, srv->arg))
		return respond_text(c, "500 Internal Server Error", "collect failed\n", head);
	err = bh_metrics_render(srv->reg, &body, &blen);
	bh_metrics_begin(srv->reg);	/* free the samples until the next scrape */
	if (err)
		return respond_text(c, "500 Internal Server Error", "render failed\n", head);
	err = respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, blen, head);
	free(body);
	return err;
}

/* Returns 1 when the connection is finished (close it), 0 to keep it. */
static int conn_read(struct bh_metrics_server *srv, struct conn *c)
{
	ssize_t n;

	for (;;) {
		size_t room = sizeof(c->req) - 1 - c->req_len;

		if (!room) {
			/* Too big: answer and close; the rest is never read. */
			if (respond_text(c, "431 Request Header Fields Too Large", "too large\n",
					 false))
				return 1;
			return 0;
		}
		n = recv(c->fd, c->req + c->req_len, room, 0);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		if (n == 0)
			return 1;	/* closed before a full request */
		c->req_len += n;
		c->req[c->req_len] = '\0';
		if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
			return conn_answer(srv, c) ? 1 : 0;
	}
}

/* Returns 1 when done (or broken), 0 when the socket is full. */
static int conn_write(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		c->out_off += n;
	}
	shutdown(c->fd, SHUT_WR);
	return 1;
}

static int conn_event(struct bh_metrics_server *srv, struct conn *c, uint32_t events,
		      int *served)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	int done;

	if (c->state == C_READ) {
		if (events & (EPOLLERR | EPOLLHUP))
			return 1;
		done = conn_read(srv, c);
		if (done || c->state == C_READ)
			return done;
		/* Answer ready: stop reading, write when the socket takes it. */
		if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev))
			return 1;
	}
	done = conn_write(c);
	if (done && c->out_off == c->out_len)
		(*served)++;
	return done;
}

int bh_metrics_handle(struct bh_metrics_server *srv)
{
	struct epoll_event evs[32];
	struct timespec now;
	struct conn *c, *next;
	int n, i, served = 0;

	n = epoll_wait(srv->epfd, evs, 32, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		void *p = evs[i].data.ptr;

		if (p == &tag_listen)
			conn_accept(srv);
		else if (p != &tag_timer && conn_event(srv, p, evs[i].events, &served))
			conn_close(srv, p);
	}
	/* Deadlines: whatever state, a connection past it is closed. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (ts_cmp(&c->deadline, &now) <= 0)
			conn_close(srv, c);
	}
	timer_rearm(srv);
	return served;
}
