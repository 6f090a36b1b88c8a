// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Sockets for the syslog writer: target parsing, non-blocking connect,
 * reconnect with exponential backoff. Writing lives in syslog.c; this file
 * only decides when a socket exists and whether it is usable.
 *
 * Host names are resolved once, in bh_tr_init() (getaddrinfo may block on
 * DNS there, never later); up to BH_TR_MAX_ADDRS addresses are kept and a
 * failed attempt moves on to the next one.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "syslog_int.h"

#define DEF_MIN_MS	100
#define DEF_MAX_MS	5000
#define NS_PER_MS	1000000ull

uint64_t bh_tr_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int init_unix(struct bh_syslog_tr *t, const char *path)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&t->addrs[0];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(sun->sun_path))
		return -EINVAL;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n + 1);
	t->addrlens[0] = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	t->nr_addrs = 1;
	t->kind = BH_TR_UNIX;
	return 0;
}

/* HOST:PORT with HOST a name, an IPv4 literal or a bracketed IPv6 literal. */
static int split_hostport(const char *s, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon, *h = s;
	size_t n;
	char *end;
	long p;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		n = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - s);
		if (memchr(s, ':', n))
			return -EINVAL;	/* IPv6 literal without brackets */
	}
	if (n == 0 || n >= hlen)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	if (!colon[1] || strlen(colon + 1) >= plen)
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || p < 1 || p > 65535 || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	snprintf(port, plen, "%ld", p);
	return 0;
}

static int init_inet(struct bh_syslog_tr *t, const char *hostport, int socktype)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = socktype,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char host[256], port[8];
	int err;

	err = split_hostport(hostport, host, sizeof(host), port, sizeof(port));
	if (err)
		return err;
	snprintf(t->host, sizeof(t->host), "%s", host);
	err = getaddrinfo(host, port, &hints, &res);
	if (err)
		return err == EAI_MEMORY ? -ENOMEM : err == EAI_AGAIN ? -EAGAIN : -ENXIO;
	for (ai = res; ai && t->nr_addrs < BH_TR_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(t->addrs[0]))
			continue;
		memcpy(&t->addrs[t->nr_addrs], ai->ai_addr, ai->ai_addrlen);
		t->addrlens[t->nr_addrs++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (t->nr_addrs == 0)
		return -ENXIO;
	t->kind = socktype == SOCK_STREAM ? BH_TR_TCP : BH_TR_UDP;
	return 0;
}

static int init_tls(struct bh_syslog_tr *t, const char *hostport)
{
	int err = init_inet(t, hostport, SOCK_STREAM);

	if (!err)
		t->kind = BH_TR_TLS;
	return err;
}

int bh_tr_init(struct bh_syslog_tr *t, const char *target,
	       unsigned int min_ms, unsigned int max_ms)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->state = BH_TR_DOWN;
	t->min_ms = min_ms ? min_ms : DEF_MIN_MS;
	t->max_ms = max_ms ? max_ms : DEF_MAX_MS;
	if (t->max_ms < t->min_ms)
		t->max_ms = t->min_ms;
	t->backoff_ms = t->min_ms;
	if (!target)
		return -EINVAL;
	if (!strncmp(target, "unix:", 5))
		return init_unix(t, target + 5);
	if (!strncmp(target, "udp://", 6))
		return init_inet(t, target + 6, SOCK_DGRAM);
	if (!strncmp(target, "tcp://", 6))
		return init_inet(t, target + 6, SOCK_STREAM);
	if (!strncmp(target, "tls://", 6))
		return init_tls(t, target + 6);
	return -EINVAL;
}

static void close_fd(struct bh_syslog_tr *t)
{
	bh_tls_end(t->tls);
	t->tls_send_pending = false;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->state = BH_TR_DOWN;
}

void bh_tr_fini(struct bh_syslog_tr *t)
{
	close_fd(t);
	bh_tls_free(t->tls);
	t->tls = NULL;
}

/* An attempt failed: try the next address after the current backoff. */
static void attempt_failed(struct bh_syslog_tr *t, uint64_t now)
{
	close_fd(t);
	t->next_addr = (t->next_addr + 1) % t->nr_addrs;
	t->retry_at_ns = now + t->backoff_ms * NS_PER_MS;
	t->backoff_ms = t->backoff_ms * 2 > t->max_ms ? t->max_ms : t->backoff_ms * 2;
}

static void now_up(struct bh_syslog_tr *t)
{
	if (t->kind == BH_TR_TLS && t->state != BH_TR_HANDSHAKE) {
		/* TCP is up: the handshake comes first (bh_tr_step) */
		if (bh_tls_start(t->tls, t->fd)) {
			t->tls_failures++;
			t->state = BH_TR_DOWN;	/* attempt_failed by the caller */
			return;
		}
		t->state = BH_TR_HANDSHAKE;
		t->tls_want_read = false;
		return;
	}
	t->state = BH_TR_UP;
	if (t->ever_up)
		t->reconnects++;
	t->ever_up = true;
	t->delivered = false;
}

void bh_tr_lost(struct bh_syslog_tr *t, uint64_t now)
{
	if (t->delivered) {
		/* It worked until now: try again at once. Backoff restarts
		 * only after a connection carried data, so a collector that
		 * accepts and hangs up at once does not make us spin. */
		close_fd(t);
		t->backoff_ms = t->min_ms;
		t->retry_at_ns = now;
		return;
	}
	attempt_failed(t, now);
}

void bh_tr_refused(struct bh_syslog_tr *t, uint64_t now)
{
	t->tls_failures++;
	attempt_failed(t, now);
}

static void start_connect(struct bh_syslog_tr *t, uint64_t now)
{
	const struct sockaddr *sa = (const struct sockaddr *)&t->addrs[t->next_addr];
	int type = bh_tr_is_stream(t) ? SOCK_STREAM : SOCK_DGRAM;

	t->fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		attempt_failed(t, now);
		return;
	}
	if (connect(t->fd, sa, t->addrlens[t->next_addr]) == 0) {
		now_up(t);
		if (t->state == BH_TR_DOWN)
			attempt_failed(t, now);
		else if (t->state == BH_TR_HANDSHAKE)
			t->connect_deadline_ns = now + (t->max_ms < 1000 ? 1000 : t->max_ms) * NS_PER_MS;
		return;
	}
	if (errno == EINPROGRESS && bh_tr_is_stream(t)) {
		uint64_t limit = t->max_ms < 1000 ? 1000 : t->max_ms;

		t->state = BH_TR_CONNECTING;
		t->connect_deadline_ns = now + limit * NS_PER_MS;
		return;
	}
	attempt_failed(t, now);
}

static void finish_connect(struct bh_syslog_tr *t, uint64_t now)
{
	struct pollfd p = { .fd = t->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&p, 1, 0) <= 0) {
		if (now >= t->connect_deadline_ns)
			attempt_failed(t, now);
		return;
	}
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		attempt_failed(t, now);
		return;
	}
	now_up(t);
	if (t->state == BH_TR_DOWN)
		attempt_failed(t, now);
}

/* The TLS handshake, within the connect deadline. A refused certificate
 * (or any failure) closes the socket and is counted; the next attempt
 * comes after the backoff, as for a refused connect. */
static void step_handshake(struct bh_syslog_tr *t, uint64_t now)
{
	int r = bh_tls_handshake(t->tls, &t->tls_want_read);

	if (r > 0) {
		now_up(t);
		return;
	}
	if (r < 0 || now >= t->connect_deadline_ns) {
		t->tls_failures++;
		attempt_failed(t, now);
	}
}

/* A syslog collector never talks back on the TCP channel: readable means
 * it closed (or sent junk, which we discard). Checking before writing
 * keeps a record from going into a socket whose peer is already gone. */
static void check_peer(struct bh_syslog_tr *t, uint64_t now)
{
	struct pollfd p = { .fd = t->fd, .events = POLLIN | POLLRDHUP };
	char junk[512];
	int i;

	if (poll(&p, 1, 0) <= 0)
		return;
	if (t->kind == BH_TR_TLS) {
		/* TLS 1.3 collectors send session tickets after the
		 * handshake: read them through the session, never raw; a
		 * hang-up too, for the alert (or its absence) before it */
		int r = t->tls_send_pending && !(p.revents & (POLLHUP | POLLERR | POLLRDHUP))
				? 0 : bh_tls_check_peer(t->tls);

		if (r == -EACCES)
			bh_tr_refused(t, now);
		else if (r || (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)))
			bh_tr_lost(t, now);
		return;
	}
	if (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)) {
		bh_tr_lost(t, now);
		return;
	}
	for (i = 0; i < 8; i++) {
		ssize_t n = recv(t->fd, junk, sizeof(junk), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			bh_tr_lost(t, now);
			return;
		}
		if (n < 0)
			return;
	}
}

void bh_tr_step(struct bh_syslog_tr *t, uint64_t now)
{
	if (t->state == BH_TR_UP && bh_tr_is_stream(t))
		check_peer(t, now);
	if (t->state == BH_TR_DOWN && now >= t->retry_at_ns)
		start_connect(t, now);
	if (t->state == BH_TR_CONNECTING)
		finish_connect(t, now);
	if (t->state == BH_TR_HANDSHAKE)
		step_handshake(t, now);
}
