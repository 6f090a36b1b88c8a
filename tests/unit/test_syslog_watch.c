// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The syslog writer's fd in an epoll set across a reconnect (lib/agent/syslog_watch.h).
 *
 * Scenario of the bug it fixes: a unix datagram collector's queue is full,
 * so the writer waits for EPOLLOUT; the collector goes away (its socket is
 * closed and rebound), the writer's socket is closed -- which takes it out
 * of the epoll set -- and the reconnect gets the same fd number. A loop
 * that only re-registered "when the fd number changed" never saw EPOLLOUT
 * again. Here delivery must resume on EPOLLOUT alone, and every record is
 * either received or counted as dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "syslog_watch.h"

#define TAG	0x5157u

struct fixture {
	char dir[64], path[128], target[160];
	int coll;		/* collector socket */
	int epfd;
	struct bh_syslog *s;
	struct bh_syslog_watch w;
};

static int collector(const char *path)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&su, sizeof(su))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Receive what is queued now; count the records. */
static int drain(int fd)
{
	char buf[BH_SYSLOG_RECORD_MAX + 16];
	int n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

static void send_n(struct bh_syslog *s, int n, int base)
{
	for (int i = 0; i < n; i++) {
		char v[16];
		struct bh_sd_param p = { "seq", v };

		snprintf(v, sizeof(v), "%d", base + i);
		assert_int_equal(bh_syslog_send(s, BH_SEV_INFO, "flow", "flow@32473", &p, 1,
						 "test record"), 0);
	}
}

/* One epoll_wait without blocking: did the syslog fd report EPOLLOUT? */
static bool epollout_ready(int epfd)
{
	struct epoll_event ev[4];
	int n = epoll_wait(epfd, ev, 4, 0);

	for (int i = 0; i < n; i++)
		if (ev[i].data.u64 == TAG && (ev[i].events & EPOLLOUT))
			return true;
	return false;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct bh_syslog_opts o = { .format = BH_SYSLOG_RFC5424, .queue_max = 4096,
				    .hostname = "h", .reconnect_min_ms = 1,
				    .reconnect_max_ms = 1 };

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/bh-ut-sw-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/log.sock", f->dir);
	snprintf(f->target, sizeof(f->target), "unix:%s", f->path);
	f->coll = collector(f->path);
	assert_true(f->coll >= 0);
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(f->epfd >= 0);
	o.target = f->target;
	assert_int_equal(bh_syslog_open(&o, &f->s), 0);
	bh_syslog_watch_init(&f->w, f->epfd, TAG);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bh_syslog_watch_fini(&f->w, f->s);
	bh_syslog_close(f->s);
	close(f->epfd);
	if (f->coll >= 0)
		close(f->coll);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Pump until the collector has everything or nothing moves (bounded). */
static int deliver_all(struct fixture *f, int *received)
{
	struct bh_syslog_stats st;
	int rounds = 0;

	for (; rounds < 10000; rounds++) {
		bh_syslog_get_stats(f->s, &st);
		if (st.queued == 0)
			break;
		if (!f->w.out)
			return -1;	/* queue non-empty, nothing watched */
		if (!epollout_ready(f->epfd))
			*received += drain(f->coll);	/* room for the writer */
		else
			bh_syslog_watch_pump(&f->w, f->s);
	}
	*received += drain(f->coll);
	return rounds;
}

static void test_reconnect_same_fd_is_rewatched(void **state)
{
	struct fixture *f = *state;
	struct bh_syslog_stats st;
	int received = 0, fd1, fd2, total = 0;
	uint64_t regs;

	/* 1. fill the collector's queue: the writer waits for EPOLLOUT */
	send_n(f->s, 200, 0);
	total += 200;
	bh_syslog_watch_pump(&f->w, f->s);
	bh_syslog_get_stats(f->s, &st);
	assert_true(st.queued > 0);
	assert_true(f->w.out);
	fd1 = f->w.fd;
	assert_true(fd1 >= 0);

	/* 2. the collector goes away; what it had queued is gone with it */
	close(f->coll);
	unlink(f->path);
	f->coll = -1;
	bh_syslog_watch_pump(&f->w, f->s);	/* send fails: socket closed */
	assert_int_equal(bh_syslog_fd(f->s), -1);
	assert_false(f->w.out);

	/* 3. it comes back at the same path; the writer reconnects */
	f->coll = collector(f->path);
	assert_true(f->coll >= 0);
	regs = f->w.registrations;
	for (int i = 0; i < 1000 && bh_syslog_fd(f->s) < 0; i++) {
		usleep(1000);	/* reconnect backoff: 1 ms */
		bh_syslog_watch_pump(&f->w, f->s);
	}
	fd2 = bh_syslog_fd(f->s);
	assert_true(fd2 >= 0);
	/* the case at hand (lowest free number): not required, but say so */
	if (fd2 != fd1)
		print_message("note: reconnect got fd %d, not %d\n", fd2, fd1);
	bh_syslog_get_stats(f->s, &st);
	assert_true(st.queued > 0);	/* the new queue filled again */
	assert_true(f->w.out);
	assert_int_equal(f->w.fd, fd2);
	assert_true(f->w.registrations > regs);	/* ADDed anew, not assumed */

	/* 4. EPOLLOUT alone drives delivery to the end */
	send_n(f->s, 50, 1000);
	total += 50;
	assert_true(deliver_all(f, &received) >= 0);
	bh_syslog_get_stats(f->s, &st);
	assert_int_equal(st.queued, 0);
	assert_true(received > 0);
	assert_true(st.reconnects >= 1);
	/* nothing silent: what was not received was counted sent into the
	 * dead collector's queue or dropped */
	assert_true((uint64_t)received <= st.sent);
	assert_int_equal(st.sent + st.dropped, (uint64_t)total);
	print_message("sent %llu (received by the new collector %d), dropped %llu\n",
		      (unsigned long long)st.sent, received, (unsigned long long)st.dropped);
}

/* ------------------------------------------------------------- TCP
 * Over TCP the old socket is closed and the new one opened within ONE
 * pump (the writer notices the hang-up and retries at once), so the loop
 * never sees the fd go away: the case where "re-register when the number
 * changes" lost EPOLLOUT for good. */
static int tcp_listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Accept with a bounded wait. */
static int accept_one(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, 5000) != 1)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* RFC 6587 octet counting: count complete "LEN SP MSG" frames. */
struct frames {
	char *buf;
	size_t len, cap;
	uint64_t count;
};

static void frames_feed(struct frames *fr, int fd)
{
	for (;;) {
		ssize_t n;

		if (fr->cap - fr->len < 65536) {
			fr->cap = fr->cap * 2 + 65536;
			fr->buf = realloc(fr->buf, fr->cap);
			assert_non_null(fr->buf);
		}
		n = recv(fd, fr->buf + fr->len, fr->cap - fr->len, MSG_DONTWAIT);
		if (n <= 0)
			break;
		fr->len += (size_t)n;
	}
	for (;;) {
		char *sp = memchr(fr->buf, ' ', fr->len < 16 ? fr->len : 16);
		size_t flen, hdr;

		if (!sp)
			break;
		flen = strtoul(fr->buf, NULL, 10);
		hdr = (size_t)(sp - fr->buf) + 1;
		assert_true(flen > 0);
		if (fr->len < hdr + flen)
			break;
		assert_memory_equal(fr->buf + hdr, "<", 1);	/* a record starts here */
		memmove(fr->buf, fr->buf + hdr + flen, fr->len - hdr - flen);
		fr->len -= hdr + flen;
		fr->count++;
	}
}

static void test_tcp_reconnect_in_one_pump_is_rewatched(void **state)
{
	struct bh_syslog_opts o = { .format = BH_SYSLOG_RFC5424, .queue_max = 100000,
				    .queue_max_bytes = 256u << 20, .hostname = "h",
				    .reconnect_min_ms = 1, .reconnect_max_ms = 1 };
	struct frames fr = { 0 };
	struct bh_syslog_watch w;
	struct bh_syslog_stats st;
	struct bh_syslog *s;
	char target[64], big[3000];
	int lfd, port = 0, c1, c2, epfd, fd1, fd2, total = 0;
	uint64_t sent1, regs;

	(void)state;
	lfd = tcp_listener(&port);
	assert_true(lfd >= 0);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(epfd >= 0);
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port);
	o.target = target;
	assert_int_equal(bh_syslog_open(&o, &s), 0);
	bh_syslog_watch_init(&w, epfd, TAG);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	c1 = accept_one(lfd);
	assert_true(c1 >= 0);

	/* 1. more than the socket buffers hold: the writer waits on EPOLLOUT */
	for (int i = 0; i < 12000; i++, total++)
		assert_int_equal(bh_syslog_send(s, BH_SEV_INFO, "flow", NULL, NULL, 0, big), 0);
	for (int i = 0; i < 1000; i++) {	/* connect completes (bounded) */
		bh_syslog_watch_pump(&w, s);
		bh_syslog_get_stats(s, &st);
		if (st.connected)
			break;
		usleep(1000);
	}
	assert_true(st.connected);
	assert_true(st.queued > 0);
	assert_true(w.out);
	fd1 = w.fd;

	/* 2. the collector hangs up; the next pump closes and reconnects */
	close(c1);
	usleep(10000);		/* let the RST arrive (no assertion on time) */
	bh_syslog_get_stats(s, &st);
	sent1 = st.sent;
	regs = w.registrations;
	bh_syslog_watch_pump(&w, s);
	fd2 = bh_syslog_fd(s);
	assert_true(fd2 >= 0);
	if (fd2 != fd1)
		print_message("note: reconnect got fd %d, not %d\n", fd2, fd1);
	bh_syslog_get_stats(s, &st);
	assert_true(st.queued > 0);
	assert_true(w.out);
	assert_int_equal(w.fd, fd2);
	assert_true(w.registrations > regs);	/* the new socket was ADDed */

	/* 3. EPOLLOUT alone drives the rest to the new collector */
	c2 = accept_one(lfd);
	assert_true(c2 >= 0);
	for (int i = 0; i < 200000; i++) {
		bh_syslog_get_stats(s, &st);
		if (st.queued == 0)
			break;
		assert_true(w.out);	/* never waiting on an unwatched socket */
		frames_feed(&fr, c2);
		if (epollout_ready(epfd))
			bh_syslog_watch_pump(&w, s);
	}
	bh_syslog_get_stats(s, &st);
	assert_int_equal(st.queued, 0);
	for (int i = 0; i < 500 && fr.count < st.sent - sent1; i++) {
		struct pollfd p = { .fd = c2, .events = POLLIN };

		poll(&p, 1, 10);
		frames_feed(&fr, c2);
	}
	/* all that went to the new connection arrived, whole */
	assert_int_equal(fr.count, st.sent - sent1);
	assert_int_equal(st.sent + st.dropped, (uint64_t)total);
	assert_true(st.reconnects >= 1);
	print_message("tcp: %llu records to the new collector, %llu into the old one,"
		      " %llu dropped\n", (unsigned long long)fr.count,
		      (unsigned long long)sent1, (unsigned long long)st.dropped);
	bh_syslog_watch_fini(&w, s);
	bh_syslog_close(s);
	free(fr.buf);
	close(c2);
	close(lfd);
	close(epfd);
}

static void test_timeout_follows_backoff(void **state)
{
	struct fixture *f = *state;

	/* idle writer: only the caller's cap */
	assert_int_equal(bh_syslog_watch_timeout(f->s, 1000), 1000);
	close(f->coll);
	unlink(f->path);
	f->coll = -1;
	send_n(f->s, 200, 0);
	bh_syslog_watch_pump(&f->w, f->s);
	bh_syslog_watch_pump(&f->w, f->s);
	/* down with records queued: a reconnect is due within the backoff
	 * (1 ms here), far below the cap */
	assert_int_equal(bh_syslog_fd(f->s), -1);
	assert_true(bh_syslog_watch_timeout(f->s, 1000) < 1000);
	assert_true(bh_syslog_watch_timeout(f->s, 1000) >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reconnect_same_fd_is_rewatched, setup,
						teardown),
		cmocka_unit_test(test_tcp_reconnect_in_one_pump_is_rewatched),
		cmocka_unit_test_setup_teardown(test_timeout_follows_backoff, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
