// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Syslog writer: exact RFC 5424 / RFC 3164 records under a fixed clock,
 * escaping and injection, limits, and delivery over real sockets (unix
 * datagram in a temp dir, UDP and TCP on loopback): queue drop-oldest,
 * TCP octet-counting with partial writes, reconnect after the listener
 * restarts, a record lost mid-write counted as dropped.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "syslog.h"

#define T0_SEC	1709647629	/* 2024-03-05T14:07:09Z */
#define T0_NSEC	12345678	/* .012345 after truncation to µs */

static void fixed_now(void *arg, struct timespec *ts)
{
	(void)arg;
	ts->tv_sec = T0_SEC;
	ts->tv_nsec = T0_NSEC;
}

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

struct fx {
	char dir[64];
	char path[128];
};

static struct bh_syslog *open_with(const char *target, enum bh_syslog_format f,
				   const char *host, const char *app, size_t qmax)
{
	struct bh_syslog_opts o = {
		.target = target, .format = f, .queue_max = qmax,
		.hostname = host, .app_name = app, .now_fn = fixed_now,
		.reconnect_min_ms = 5, .reconnect_max_ms = 40,
	};
	struct bh_syslog *s = NULL;

	assert_int_equal(bh_syslog_open(&o, &s), 0);
	assert_non_null(s);
	return s;
}

/* A writer whose collector does not exist: for formatting only. */
static struct bh_syslog *open_fmt(enum bh_syslog_format f, const char *host, const char *app)
{
	return open_with("unix:/nonexistent-bh-syslog/log.sock", f, host, app, 0);
}

static const struct bh_sd_param flow_params[] = {
	{ "ns", "default" }, { "workload", "web" }, { "verdict", "deny" },
};

static void test_rfc5424_exact(void **state)
{
	struct bh_syslog *s;
	char buf[1024], want[1024];
	int n;

	(void)state;
	set_tz("UTC0");
	s = open_fmt(BH_SYSLOG_RFC5424, "node1.example", NULL);
	n = bh_syslog_format(s, BH_SEV_INFO, "flow", "flow@32473", flow_params, 3,
			     "new flow", buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "<30>1 2024-03-05T14:07:09.012345+00:00 node1.example bulkhead %d flow "
		 "[flow@32473 ns=\"default\" workload=\"web\" verdict=\"deny\"] new flow",
		 (int)getpid());
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));

	/* NILVALUEs: no msgid, no SD, no MSG (and no trailing space). */
	n = bh_syslog_format(s, BH_SEV_ERR, NULL, NULL, NULL, 0, NULL, buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "<27>1 2024-03-05T14:07:09.012345+00:00 node1.example bulkhead %d - -",
		 (int)getpid());
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));

	/* SD-ID without params, empty value. */
	const struct bh_sd_param empty[] = { { "k", NULL } };

	bh_syslog_format(s, BH_SEV_DEBUG, "x", "meta", NULL, 0, "m", buf, sizeof(buf));
	assert_non_null(strstr(buf, " x [meta] m"));
	bh_syslog_format(s, BH_SEV_DEBUG, "x", "a@1", empty, 1, NULL, buf, sizeof(buf));
	assert_non_null(strstr(buf, " x [a@1 k=\"\"]"));
	assert_int_equal(buf[strlen(buf) - 1], ']');
	bh_syslog_close(s);
}

static void test_rfc5424_offsets(void **state)
{
	struct bh_syslog_opts o = { .target = "unix:/nonexistent-bh/x", .hostname = "h",
				    .now_fn = fixed_now, .facility = 16 /* local0 */ };
	struct bh_syslog *s = NULL;
	char buf[512];

	(void)state;
	assert_int_equal(bh_syslog_open(&o, &s), 0);
	set_tz("XYZ-05:30");
	bh_syslog_format(s, BH_SEV_EMERG, "m", NULL, NULL, 0, NULL, buf, sizeof(buf));
	assert_memory_equal(buf, "<128>1 2024-03-05T19:37:09.012345+05:30 h ", 42);
	set_tz("ABC+3");
	bh_syslog_format(s, BH_SEV_EMERG, "m", NULL, NULL, 0, NULL, buf, sizeof(buf));
	assert_memory_equal(buf, "<128>1 2024-03-05T11:07:09.012345-03:00 h ", 42);
	set_tz("UTC0");
	bh_syslog_close(s);
}

static void test_rfc3164_exact(void **state)
{
	struct bh_syslog *s;
	char buf[1024], want[1024];
	int n;

	(void)state;
	set_tz("UTC0");
	s = open_fmt(BH_SYSLOG_RFC3164, "node1", "bh:agent[x]");
	n = bh_syslog_format(s, BH_SEV_WARNING, "deviation", "dev@32473", flow_params, 3,
			     "new peer", buf, sizeof(buf));
	/* Day padded with a space; TAG delimiters in the app name replaced. */
	snprintf(want, sizeof(want),
		 "<28>Mar  5 14:07:09 node1 bh?agent?x?[%d]: deviation ns=\"default\" "
		 "workload=\"web\" verdict=\"deny\" new peer", (int)getpid());
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));

	n = bh_syslog_format(s, BH_SEV_INFO, NULL, NULL, NULL, 0, NULL, buf, sizeof(buf));
	snprintf(want, sizeof(want), "<30>Mar  5 14:07:09 node1 bh?agent?x?[%d]:", (int)getpid());
	assert_string_equal(buf, want);

	/* Injection through a value stays inside the quotes. */
	const struct bh_sd_param evil[] = { { "name", "a\"\nb=\"c" } };

	bh_syslog_format(s, BH_SEV_INFO, "flow", "f@1", evil, 1, "x\ny", buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "<30>Mar  5 14:07:09 node1 bh?agent?x?[%d]: flow name=\"a\\\"?b=\\\"c\" x?y",
		 (int)getpid());
	assert_string_equal(buf, want);
	bh_syslog_close(s);
}

static void test_escaping(void **state)
{
	struct bh_syslog *s;
	char buf[2048], *sd;
	const struct bh_sd_param p[] = {
		{ "quote", "say \"hi\"" },
		{ "bslash", "C:\\dir\\" },
		{ "bracket", "a]b" },
		{ "newline", "line1\nline2\r\n" },
		{ "forged", "x\"] [x@1 a=\"b\"" },
		{ "ctl", "tab\there\x01\x7f" },
		{ "utf8", "caf\xc3\xa9 \xe6\x97\xa5" },
		{ "bad", "\xff\xc3" "Z\xc2\x85\xe2\x80\xa8\xed\xa0\x80" },
	};

	(void)state;
	set_tz("UTC0");
	s = open_fmt(BH_SYSLOG_RFC5424, "h", "a");
	assert_true(bh_syslog_format(s, BH_SEV_INFO, "m", "t@1", p, 8,
				     "msg ] \" \\ \n<13>1 2024 forged - - - -", buf,
				     sizeof(buf)) > 0);
	sd = strchr(buf, '[');
	assert_non_null(sd);
	/* bad: \xff, \xc3 without continuation ('Z' kept), NEL (C1), U+2028,
	 * a UTF-16 surrogate (three invalid bytes). MSG is not SD-escaped,
	 * but its newline is replaced. */
	assert_string_equal(sd,
		"[t@1 quote=\"say \\\"hi\\\"\" bslash=\"C:\\\\dir\\\\\" bracket=\"a\\]b\" "
		"newline=\"line1?line2??\" forged=\"x\\\"\\] [x@1 a=\\\"b\\\"\" "
		"ctl=\"tab?here??\" utf8=\"caf\xc3\xa9 \xe6\x97\xa5\" bad=\"??Z?????\"] "
		"msg ] \" \\ ?<13>1 2024 forged - - - -");
	assert_null(strchr(buf, '\n'));
	assert_null(strchr(buf, '\r'));
	bh_syslog_close(s);
}

/* A forged SD element in a value must not create a second element: count
 * the ']' that are not escaped. */
static void test_forged_sd_counts(void **state)
{
	const struct bh_sd_param p[] = { { "label", "v\"] [evil@1 admin=\"yes" } };
	struct bh_syslog *s;
	char buf[512];
	int unescaped = 0, opens = 0;
	size_t i;

	(void)state;
	s = open_fmt(BH_SYSLOG_RFC5424, "h", "a");
	assert_true(bh_syslog_format(s, BH_SEV_INFO, "m", "t@1", p, 1, NULL, buf,
				     sizeof(buf)) > 0);
	for (i = 0; buf[i]; i++) {
		if (buf[i] == '\\') {
			i++;
			continue;
		}
		unescaped += buf[i] == ']';
		opens += buf[i] == '[';
	}
	assert_int_equal(unescaped, 1);
	/* The '[' inside the value is legal unescaped (RFC 5424 only escapes
	 * '"', '\' and ']'); a parser stays inside the quotes because '"' is
	 * escaped. */
	assert_int_equal(opens, 2);
	assert_non_null(strstr(buf, "label=\"v\\\"\\] [evil@1 admin=\\\"yes\"]"));
	bh_syslog_close(s);
}

static void test_header_fields(void **state)
{
	char host[400], app[100], msgid[60], buf[2048], want[1024];
	struct bh_syslog *s;

	(void)state;
	set_tz("UTC0");
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	memset(app, 'a', sizeof(app) - 1);
	app[sizeof(app) - 1] = '\0';
	memset(msgid, 'm', sizeof(msgid) - 1);
	msgid[sizeof(msgid) - 1] = '\0';
	s = open_fmt(BH_SYSLOG_RFC5424, host, app);
	bh_syslog_format(s, BH_SEV_INFO, msgid, NULL, NULL, 0, NULL, buf, sizeof(buf));
	/* HOSTNAME 255, APP-NAME 48, MSGID 32. */
	snprintf(want, sizeof(want), "<30>1 2024-03-05T14:07:09.012345+00:00 %.255s %.48s %d %.32s -",
		 host, app, (int)getpid(), msgid);
	assert_string_equal(buf, want);
	bh_syslog_close(s);

	/* Spaces and controls in header fields would shift every field. */
	s = open_fmt(BH_SYSLOG_RFC5424, "evil host\n", "my app");
	bh_syslog_format(s, BH_SEV_INFO, "a b\n<1>", NULL, NULL, 0, NULL, buf, sizeof(buf));
	snprintf(want, sizeof(want), "<30>1 2024-03-05T14:07:09.012345+00:00 evil?host? my?app %d a?b?<1> -",
		 (int)getpid());
	assert_string_equal(buf, want);
	/* Non-ASCII in a header field is not PRINTUSASCII. */
	bh_syslog_format(s, BH_SEV_INFO, "caf\xc3\xa9", NULL, NULL, 0, NULL, buf, sizeof(buf));
	assert_non_null(strstr(buf, " caf?? -"));
	bh_syslog_format(s, BH_SEV_INFO, "", NULL, NULL, 0, NULL, buf, sizeof(buf));
	assert_non_null(strstr(buf, " - -"));
	bh_syslog_close(s);

	/* Empty hostname option: NILVALUE. */
	s = open_fmt(BH_SYSLOG_RFC5424, "", "x");
	bh_syslog_format(s, BH_SEV_INFO, "m", NULL, NULL, 0, NULL, buf, sizeof(buf));
	assert_non_null(strstr(buf, "+00:00 - x "));
	bh_syslog_close(s);
}

static void test_invalid_sd(void **state)
{
	static const char *const bad[] = {
		"", "a b", "a=b", "a]b", "a\"b", "a\x7f", "caf\xc3\xa9", "a\nb",
		"123456789012345678901234567890123",	/* 33 */
	};
	struct bh_syslog *s;
	struct bh_sd_param p = { "ok", "v" };
	char buf[512];
	size_t i;

	(void)state;
	s = open_fmt(BH_SYSLOG_RFC5424, "h", "a");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bh_sd_param bp = { bad[i], "v" };

		assert_int_equal(bh_syslog_format(s, BH_SEV_INFO, "m", bad[i], &p, 1, NULL,
						  buf, sizeof(buf)), -EINVAL);
		assert_int_equal(bh_syslog_send(s, BH_SEV_INFO, "m", bad[i], &p, 1, NULL),
				 -EINVAL);
		assert_int_equal(bh_syslog_format(s, BH_SEV_INFO, "m", "ok@1", &bp, 1, NULL,
						  buf, sizeof(buf)), -EINVAL);
	}
	/* NULL param name, params without an SD-ID, negative count, bad sev. */
	struct bh_sd_param np = { NULL, "v" };

	assert_int_equal(bh_syslog_format(s, BH_SEV_INFO, "m", "ok@1", &np, 1, NULL, buf,
					  sizeof(buf)), -EINVAL);
	assert_int_equal(bh_syslog_format(s, BH_SEV_INFO, "m", NULL, &p, 1, NULL, buf,
					  sizeof(buf)), -EINVAL);
	assert_int_equal(bh_syslog_format(s, BH_SEV_INFO, "m", "ok@1", &p, -1, NULL, buf,
					  sizeof(buf)), -EINVAL);
	assert_int_equal(bh_syslog_format(s, (enum bh_syslog_sev)8, "m", NULL, NULL, 0, NULL,
					  buf, sizeof(buf)), -EINVAL);
	/* 32 characters is the maximum, and fine. */
	assert_true(bh_syslog_format(s, BH_SEV_INFO, "m", "12345678901234567890123456789012",
				     &p, 1, NULL, buf, sizeof(buf)) > 0);
	/* Rejected records are not queued. */
	struct bh_syslog_stats st;

	bh_syslog_get_stats(s, &st);
	assert_int_equal(st.queued, 0);
	bh_syslog_close(s);
}

static void test_limits(void **state)
{
	char big[3 * BH_SYSLOG_RECORD_MAX], buf[2 * BH_SYSLOG_RECORD_MAX], *v;
	struct bh_sd_param p[12];
	struct bh_syslog *s;
	size_t i;
	int n;

	(void)state;
	s = open_fmt(BH_SYSLOG_RFC5424, "h", "a");
	/* A long value is cut at BH_SYSLOG_VALUE_MAX input bytes. */
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	p[0].name = "k";
	p[0].value = big;
	assert_true(bh_syslog_format(s, BH_SEV_INFO, "m", "t@1", p, 1, NULL, buf, sizeof(buf)) > 0);
	v = strstr(buf, "k=\"");
	assert_non_null(v);
	assert_int_equal(strchr(v + 3, '"') - (v + 3), BH_SYSLOG_VALUE_MAX);

	/* Cut at a UTF-8 boundary: 2-byte characters, odd limit. */
	big[0] = 'x';	/* shift by one: the cut falls inside a character */
	for (i = 1; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[i] = '\0';
	assert_true(bh_syslog_format(s, BH_SEV_INFO, "m", "t@1", p, 1, NULL, buf, sizeof(buf)) > 0);
	v = strstr(buf, "k=\"");
	n = (int)(strchr(v + 3, '"') - (v + 3));
	assert_true(n < BH_SYSLOG_VALUE_MAX);
	assert_true(n >= BH_SYSLOG_VALUE_MAX - 2);
	assert_int_not_equal((unsigned char)v[3 + n - 1], 0xc3);
	assert_null(strchr(v, '?'));

	/* A long MSG is truncated so the record is exactly the maximum. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = bh_syslog_format(s, BH_SEV_INFO, "m", NULL, NULL, 0, big, buf, sizeof(buf));
	assert_int_equal(n, BH_SYSLOG_RECORD_MAX);
	assert_int_equal(strlen(buf), BH_SYSLOG_RECORD_MAX);
	/* ... or to the caller's buffer. */
	n = bh_syslog_format(s, BH_SEV_INFO, "m", NULL, NULL, 0, big, buf, 200);
	assert_int_equal(n, 199);
	/* Header or SD that does not fit: refused, not cut. */
	assert_int_equal(bh_syslog_format(s, BH_SEV_INFO, "m", NULL, NULL, 0, big, buf, 20),
			 -EMSGSIZE);
	for (i = 0; i < 12; i++) {
		p[i].name = "k";
		p[i].value = big;
	}
	assert_int_equal(bh_syslog_format(s, BH_SEV_INFO, "m", "t@1", p, 12, NULL, buf,
					  sizeof(buf)), -EMSGSIZE);
	assert_int_equal(bh_syslog_send(s, BH_SEV_INFO, "m", "t@1", p, 12, NULL), -EMSGSIZE);
	bh_syslog_close(s);

	/* RFC 3164 records stop at 1024 bytes. */
	s = open_fmt(BH_SYSLOG_RFC3164, "h", "a");
	n = bh_syslog_format(s, BH_SEV_INFO, "m", NULL, NULL, 0, big, buf, sizeof(buf));
	assert_int_equal(n, BH_SYSLOG_3164_MAX);
	bh_syslog_close(s);
}

static void test_bad_targets(void **state)
{
	static const char *const bad[] = {
		"", "syslog", "unix:", "udp://", "udp://host", "udp://:514", "udp://h:0",
		"udp://h:65536", "udp://::1:514", "tcp://[::1]514", "tcp://[::1:514",
		"tcp://h:12a", "tcp://h:-1", "tcp://h: 5", "file:/tmp/x",
		"unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct bh_syslog_opts o = { 0 };
	struct bh_syslog *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.target = bad[i];
		s = (struct bh_syslog *)1;
		assert_int_equal(bh_syslog_open(&o, &s), -EINVAL);
		assert_null(s);
	}
	o.target = NULL;
	assert_int_equal(bh_syslog_open(&o, &s), -EINVAL);
	o.target = "udp://127.0.0.1:514";
	o.facility = 24;
	assert_int_equal(bh_syslog_open(&o, &s), -EINVAL);
	o.facility = 0;
	o.format = (enum bh_syslog_format)2;
	assert_int_equal(bh_syslog_open(&o, &s), -EINVAL);
	o.format = BH_SYSLOG_RFC5424;
	/* Valid ones open even with nobody listening. */
	static const char *const good[] = {
		"udp://127.0.0.1:514", "udp://[::1]:514", "tcp://127.0.0.1:1",
		"udp://localhost:514", "unix:/nonexistent/log",
	};
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		o.target = good[i];
		assert_int_equal(bh_syslog_open(&o, &s), 0);
		bh_syslog_close(s);
	}
}

/* ------------------------------------------------------------ sockets */

/* A temp dir for a collector socket; removed by the teardown even when
 * an assertion failed. */
static int setup_dir(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/bh-syslog-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/log.sock", f->dir);
	*state = f;
	return 0;
}

static int teardown_dir(void **state)
{
	struct fx *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int bind_unix_dgram(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sun.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Receive one datagram within ms; returns its length, -1 on timeout. */
static int recv_dgram_wait(int fd, char *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -1;
	n = recv(fd, buf, len - 1, MSG_DONTWAIT);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

static int recv_dgram(int fd, char *buf, size_t len)
{
	return recv_dgram_wait(fd, buf, len, 2000);
}

/* Pump until the queue is empty or ~3 s passed (bounded). */
static void pump_drain(struct bh_syslog *s)
{
	struct bh_syslog_stats st;
	int i;

	for (i = 0; i < 300; i++) {
		assert_true(bh_syslog_pump(s) >= 0);
		bh_syslog_get_stats(s, &st);
		if (st.queued == 0)
			return;
		usleep(10000);
	}
}

static void send_seq(struct bh_syslog *s, int seq, const char *msg)
{
	char v[16];
	struct bh_sd_param p[] = { { "seq", v } };

	snprintf(v, sizeof(v), "%06d", seq);
	assert_int_equal(bh_syslog_send(s, BH_SEV_INFO, "test", "t@32473", p, 1, msg), 0);
}

static int seq_of(const char *rec)
{
	const char *p = strstr(rec, "seq=\"");

	return p ? atoi(p + 5) : -1;
}

static void test_unix_delivery(void **state)
{
	struct bh_syslog_stats st;
	struct bh_syslog *s;
	struct fx *f = *state;
	char buf[8192], want[8192];
	int rfd, i;

	set_tz("UTC0");
	rfd = bind_unix_dgram(f->path);
	snprintf(buf, sizeof(buf), "unix:%s", f->path);
	s = open_with(buf, BH_SYSLOG_RFC5424, "h", "a", 0);
	bh_syslog_get_stats(s, &st);
	assert_true(st.connected);
	for (i = 0; i < 5; i++)
		send_seq(s, i, "hello\nworld");
	assert_true(bh_syslog_want_write(s));
	assert_true(bh_syslog_fd(s) >= 0);
	assert_int_equal(bh_syslog_pump(s), 5);
	assert_false(bh_syslog_want_write(s));
	for (i = 0; i < 5; i++) {
		char v[16];
		struct bh_sd_param p[] = { { "seq", v } };

		snprintf(v, sizeof(v), "%06d", i);
		bh_syslog_format(s, BH_SEV_INFO, "test", "t@32473", p, 1, "hello\nworld",
				 want, sizeof(want));
		/* One record per datagram, exactly the formatted record. */
		assert_int_equal(recv_dgram(rfd, buf, sizeof(buf)), (int)strlen(want));
		assert_string_equal(buf, want);
	}
	assert_int_equal(recv_dgram_wait(rfd, buf, sizeof(buf), 100), -1);
	bh_syslog_get_stats(s, &st);
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.dropped, 0);

	/* The collector restarts on the same path: nothing is lost. */
	close(rfd);
	unlink(f->path);
	for (i = 5; i < 10; i++)
		send_seq(s, i, NULL);
	assert_int_equal(bh_syslog_pump(s), 0);
	bh_syslog_get_stats(s, &st);
	assert_false(st.connected);
	assert_int_equal(st.queued, 5);
	assert_int_equal(bh_syslog_fd(s), -1);
	assert_true(bh_syslog_timeout_ms(s) >= 0);
	rfd = bind_unix_dgram(f->path);
	pump_drain(s);
	for (i = 5; i < 10; i++) {
		assert_true(recv_dgram(rfd, buf, sizeof(buf)) > 0);
		assert_int_equal(seq_of(buf), i);
	}
	bh_syslog_get_stats(s, &st);
	assert_int_equal(st.sent, 10);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.reconnects, 1);
	bh_syslog_close(s);
	close(rfd);
}

/* A collector that never reads: its socket fills, then our queue, then
 * the oldest records go, each one counted. */
static void test_queue_drop_oldest(void **state)
{
	enum { QMAX = 8, N1 = 100, N2 = 200 };
	struct bh_syslog_stats st;
	struct bh_syslog *s;
	struct fx *f = *state;
	char buf[8192];
	int rfd, i, got = 0, last = -1;

	rfd = bind_unix_dgram(f->path);
	snprintf(buf, sizeof(buf), "unix:%s", f->path);
	s = open_with(buf, BH_SYSLOG_RFC5424, "h", "a", QMAX);

	/* Without pumping: the newest QMAX survive, the rest are counted. */
	for (i = 0; i < N1; i++)
		send_seq(s, i, NULL);
	bh_syslog_get_stats(s, &st);
	assert_int_equal(st.queued, QMAX);
	assert_int_equal(st.dropped, N1 - QMAX);
	assert_int_equal(st.sent, 0);

	/* Now pump after each send; the reader never reads. */
	for (i = N1; i < N1 + N2; i++) {
		send_seq(s, i, NULL);
		assert_true(bh_syslog_pump(s) >= 0);
	}
	bh_syslog_get_stats(s, &st);
	assert_int_equal(st.sent + st.dropped + st.queued, N1 + N2);
	assert_int_equal(st.queued, QMAX);
	assert_true(st.dropped > N1 - QMAX);
	assert_true(bh_syslog_want_write(s));	/* blocked, waiting for EPOLLOUT */

	/* What the collector holds is exactly what was counted as sent, in
	 * order, starting with the oldest survivor of the first burst (the
	 * first send of the second burst, before any pump, pushed out one). */
	while (recv_dgram_wait(rfd, buf, sizeof(buf), 100) > 0) {
		int q = seq_of(buf);

		if (got == 0)
			assert_int_equal(q, N1 - QMAX + 1);
		assert_true(q > last);
		last = q;
		got++;
		if (got > N1 + N2)
			break;
	}
	assert_int_equal(got, (int)st.sent);
	/* The reader drained: the queue (newest QMAX) follows. */
	pump_drain(s);
	for (i = 0; i < QMAX; i++) {
		assert_true(recv_dgram(rfd, buf, sizeof(buf)) > 0);
		assert_int_equal(seq_of(buf), N1 + N2 - QMAX + i);
	}
	bh_syslog_close(s);
	close(rfd);
}

static int listen_tcp(int family, int port, int rcvbuf)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A small send buffer (no autotuning) so a burst cannot all fit. */
static void small_sndbuf(struct bh_syslog *s)
{
	int v = 4096;

	assert_true(bh_syslog_fd(s) >= 0);
	assert_int_equal(setsockopt(bh_syslog_fd(s), SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
}

/* Accept within ~2 s while pumping (the connect completes via pump). */
static int accept_pumping(int lfd, struct bh_syslog *s)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int i;

	for (i = 0; i < 200; i++) {
		assert_true(bh_syslog_pump(s) >= 0);
		if (poll(&p, 1, 10) > 0)
			return accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	}
	return -1;
}

struct stream {
	char *buf;
	size_t len, cap;
};

/* Read what is available until the peer has been quiet for 50 ms. */
static ssize_t read_quiet(int fd, struct stream *st)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t before = st->len;
	int i;

	for (i = 0; i < 100000; i++) {
		ssize_t n;

		if (poll(&p, 1, 50) <= 0)
			break;
		if (st->cap - st->len < 65536) {
			st->cap = st->cap * 2 + 65536;
			st->buf = realloc(st->buf, st->cap);
			assert_non_null(st->buf);
		}
		n = recv(fd, st->buf + st->len, st->cap - st->len, MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n < 0)
			continue;
		st->len += (size_t)n;
	}
	return (ssize_t)(st->len - before);
}

/* Parse RFC 6587 octet-counted frames; each must be a record whose seq
 * follows the previous one. Returns the number of frames. */
static int parse_frames(const struct stream *st, int first_seq, size_t *consumed)
{
	size_t off = 0;
	int n = 0;

	while (off < st->len) {
		char *end;
		long len = strtol(st->buf + off, &end, 10);

		if ((size_t)(end - st->buf) >= st->len || *end != ' ')
			break;	/* incomplete header */
		if ((size_t)(end + 1 - st->buf) + (size_t)len > st->len)
			break;	/* incomplete record */
		assert_true(len > 0 && len <= BH_SYSLOG_RECORD_MAX);
		assert_memory_equal(end + 1, "<30>1 ", 6);
		char rec[BH_SYSLOG_RECORD_MAX + 1];

		memcpy(rec, end + 1, (size_t)len);
		rec[len] = '\0';
		assert_null(strchr(rec, '\n'));
		assert_int_equal(seq_of(rec), first_seq + n);
		n++;
		off = (size_t)(end + 1 - st->buf) + (size_t)len;
	}
	if (consumed)
		*consumed = off;
	return n;
}

/* Many records into a peer that reads slowly: the socket takes part of a
 * record, the rest follows on a later pump, and the stream still parses
 * as consecutive octet-counted frames. */
static void test_tcp_framing_partial(void **state)
{
	enum { N = 400 };
	struct stream st = { 0 };
	struct bh_syslog_stats ss;
	struct bh_syslog *s;
	char target[64], msg[700];
	int lfd, cfd, i, stalls = 0, mid = 0, frames;
	size_t frame_len = 0;

	(void)state;
	set_tz("UTC0");
	lfd = listen_tcp(AF_INET, 0, 4096);
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port_of(lfd));
	s = open_with(target, BH_SYSLOG_RFC5424, "h", "a", N);
	cfd = accept_pumping(lfd, s);
	assert_true(cfd >= 0);
	small_sndbuf(s);
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	for (i = 0; i < N; i++)
		send_seq(s, i, msg);
	{
		char rec[BH_SYSLOG_RECORD_MAX + 1];
		struct bh_sd_param p[] = { { "seq", "000000" } };
		int n = bh_syslog_format(s, BH_SEV_INFO, "test", "t@32473", p, 1, msg, rec,
					 sizeof(rec));

		frame_len = (size_t)snprintf(NULL, 0, "%d ", n) + (size_t)n;
	}
	for (i = 0; i < 1000; i++) {
		assert_true(bh_syslog_pump(s) >= 0);
		bh_syslog_get_stats(s, &ss);
		if (ss.queued == 0)
			break;
		/* Stalled: everything the kernel accepted reaches the peer. */
		stalls++;
		assert_true(read_quiet(cfd, &st) >= 0);
		if (st.len % frame_len != 0)
			mid++;
	}
	assert_true(read_quiet(cfd, &st) >= 0);
	bh_syslog_get_stats(s, &ss);
	assert_int_equal(ss.queued, 0);
	assert_int_equal(ss.sent, N);
	assert_int_equal(ss.dropped, 0);
	assert_true(stalls > 0);
	assert_true(mid > 0);	/* at least one stall fell inside a record */
	frames = parse_frames(&st, 0, NULL);
	assert_int_equal(frames, N);
	assert_int_equal(st.len, (size_t)N * frame_len);
	free(st.buf);
	bh_syslog_close(s);
	close(cfd);
	close(lfd);
}

/* The collector goes away and comes back on the same port. */
static void test_tcp_reconnect(void **state)
{
	struct stream st = { 0 };
	struct bh_syslog_stats ss;
	struct bh_syslog *s;
	char target[64];
	int lfd, cfd, port, i;
	size_t used;

	(void)state;
	lfd = listen_tcp(AF_INET, 0, 0);
	port = port_of(lfd);
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port);
	s = open_with(target, BH_SYSLOG_RFC5424, "h", "a", 0);
	cfd = accept_pumping(lfd, s);
	assert_true(cfd >= 0);
	for (i = 0; i < 5; i++)
		send_seq(s, i, "before");
	pump_drain(s);
	read_quiet(cfd, &st);
	assert_int_equal(parse_frames(&st, 0, &used), 5);
	assert_int_equal(used, st.len);

	close(cfd);
	close(lfd);
	for (i = 5; i < 10; i++)
		send_seq(s, i, "while down");
	/* The hang-up is noticed before writing: nothing goes into the
	 * dead connection, nothing is lost. */
	for (i = 0; i < 5; i++)
		assert_int_equal(bh_syslog_pump(s), 0);
	bh_syslog_get_stats(s, &ss);
	assert_false(ss.connected);
	assert_int_equal(ss.queued, 5);
	assert_int_equal(ss.dropped, 0);

	lfd = listen_tcp(AF_INET, port, 0);
	assert_true(lfd >= 0);
	cfd = accept_pumping(lfd, s);
	assert_true(cfd >= 0);
	pump_drain(s);
	st.len = 0;
	read_quiet(cfd, &st);
	assert_int_equal(parse_frames(&st, 5, &used), 5);
	assert_int_equal(used, st.len);
	bh_syslog_get_stats(s, &ss);
	assert_int_equal(ss.sent, 10);
	assert_int_equal(ss.dropped, 0);
	assert_int_equal(ss.reconnects, 1);
	assert_true(ss.connected);
	free(st.buf);
	bh_syslog_close(s);
	close(cfd);
	close(lfd);
}

/* The connection dies while a record is half on the wire: that record is
 * dropped and counted, the next connection starts on a frame boundary. */
static void test_tcp_dead_mid_record(void **state)
{
	enum { N = 400 };
	struct stream st = { 0 };
	struct bh_syslog_stats ss;
	struct bh_syslog *s;
	char target[64], msg[700];
	int lfd, cfd, port, i, frames = 0, first;
	size_t used = 0;

	(void)state;
	lfd = listen_tcp(AF_INET, 0, 4096);
	port = port_of(lfd);
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port);
	s = open_with(target, BH_SYSLOG_RFC5424, "h", "a", N);
	cfd = accept_pumping(lfd, s);
	assert_true(cfd >= 0);
	small_sndbuf(s);
	memset(msg, 'y', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	for (i = 0; i < N; i++)
		send_seq(s, i, msg);
	/* Pump until a stall leaves the peer with half a record. */
	for (i = 0; i < 200; i++) {
		assert_true(bh_syslog_pump(s) > 0);
		read_quiet(cfd, &st);
		frames = parse_frames(&st, 0, &used);
		if (used != st.len)
			break;
	}
	assert_int_not_equal(used, st.len);
	bh_syslog_get_stats(s, &ss);
	assert_int_equal(ss.sent, (uint64_t)frames);
	close(cfd);
	close(lfd);
	assert_int_equal(bh_syslog_pump(s), 0);
	bh_syslog_get_stats(s, &ss);
	assert_int_equal(ss.dropped, 1);
	assert_int_equal(ss.sent + ss.dropped + ss.queued, N);

	lfd = listen_tcp(AF_INET, port, 0);
	assert_true(lfd >= 0);
	cfd = accept_pumping(lfd, s);
	assert_true(cfd >= 0);
	pump_drain(s);
	free(st.buf);
	memset(&st, 0, sizeof(st));
	read_quiet(cfd, &st);
	first = frames + 1;	/* frames sent, one dropped */
	assert_int_equal(parse_frames(&st, first, &used), N - first);
	assert_int_equal(used, st.len);
	bh_syslog_get_stats(s, &ss);
	assert_int_equal(ss.sent + ss.dropped, N);
	assert_int_equal(ss.dropped, 1);
	free(st.buf);
	bh_syslog_close(s);
	close(cfd);
	close(lfd);
}

/* Queue full while the head record is half on the wire: the record after
 * it is dropped instead, so the stream still parses frame by frame. */
static void test_tcp_drop_keeps_partial_head(void **state)
{
	enum { QMAX = 16, EXTRA = 40 };
	struct stream st = { 0 };
	struct bh_syslog_stats ss;
	struct bh_syslog *s;
	char target[64], msg[700];
	int lfd, cfd, i, seq = 0, frames, last;
	size_t used = 0, frame_len;

	(void)state;
	set_tz("UTC0");
	lfd = listen_tcp(AF_INET, 0, 4096);
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port_of(lfd));
	s = open_with(target, BH_SYSLOG_RFC5424, "h", "a", QMAX);
	cfd = accept_pumping(lfd, s);
	assert_true(cfd >= 0);
	small_sndbuf(s);
	memset(msg, 'z', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	{
		char rec[BH_SYSLOG_RECORD_MAX + 1];
		struct bh_sd_param p[] = { { "seq", "000000" } };
		int n = bh_syslog_format(s, BH_SEV_INFO, "test", "t@32473", p, 1, msg, rec,
					 sizeof(rec));

		frame_len = (size_t)snprintf(NULL, 0, "%d ", n) + (size_t)n;
	}
	/* Send and pump until a stall leaves half a record with the peer. */
	for (i = 0; i < 2000; i++) {
		bh_syslog_get_stats(s, &ss);
		while (ss.queued < QMAX) {
			send_seq(s, seq++, msg);
			bh_syslog_get_stats(s, &ss);
		}
		assert_true(bh_syslog_pump(s) >= 0);
		bh_syslog_get_stats(s, &ss);
		if (ss.queued == 0)
			continue;
		read_quiet(cfd, &st);
		if (st.len % frame_len != 0)
			break;
	}
	assert_int_not_equal(st.len % frame_len, 0);
	/* Overflow the queue without pumping. */
	for (i = 0; i < EXTRA; i++)
		send_seq(s, seq++, msg);
	bh_syslog_get_stats(s, &ss);
	assert_int_equal(ss.queued, QMAX);
	assert_true(ss.dropped >= EXTRA - QMAX);
	for (i = 0; i < 1000; i++) {
		assert_true(bh_syslog_pump(s) >= 0);
		read_quiet(cfd, &st);
		bh_syslog_get_stats(s, &ss);
		if (ss.queued == 0)
			break;
	}
	read_quiet(cfd, &st);
	bh_syslog_get_stats(s, &ss);
	assert_int_equal(ss.queued, 0);
	assert_int_equal(ss.sent + ss.dropped, (uint64_t)seq);

	/* Every frame complete, seqs increasing, the newest ones last. */
	frames = 0;
	last = -1;
	for (size_t off = 0; off < st.len; frames++) {
		char *end, rec[BH_SYSLOG_RECORD_MAX + 1];
		long len = strtol(st.buf + off, &end, 10);

		assert_int_equal(*end, ' ');
		assert_true(len > 0 && (size_t)(end + 1 - st.buf) + (size_t)len <= st.len);
		memcpy(rec, end + 1, (size_t)len);
		rec[len] = '\0';
		assert_memory_equal(rec, "<30>1 ", 6);
		assert_true(seq_of(rec) > last);
		last = seq_of(rec);
		off = (size_t)(end + 1 - st.buf) + (size_t)len;
		used = off;
	}
	assert_int_equal(used, st.len);
	assert_int_equal(frames, (int)ss.sent);
	assert_int_equal(last, seq - 1);
	free(st.buf);
	bh_syslog_close(s);
	close(cfd);
	close(lfd);
}

/* Connect in progress is finished by pump on EPOLLOUT; before that the fd
 * is offered for EPOLLOUT even with an empty queue. */
static void test_tcp_fd_want_write(void **state)
{
	struct bh_syslog_stats ss;
	struct bh_syslog *s;
	char target[64];
	int lfd, cfd;

	(void)state;
	lfd = listen_tcp(AF_INET, 0, 0);
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port_of(lfd));
	s = open_with(target, BH_SYSLOG_RFC5424, "h", "a", 0);
	assert_true(bh_syslog_fd(s) >= 0);
	bh_syslog_get_stats(s, &ss);
	if (!ss.connected) {
		struct pollfd p = { .fd = bh_syslog_fd(s), .events = POLLOUT };

		assert_true(bh_syslog_want_write(s));
		assert_int_equal(poll(&p, 1, 2000), 1);
		assert_int_equal(bh_syslog_pump(s), 0);
	}
	bh_syslog_get_stats(s, &ss);
	assert_true(ss.connected);
	assert_false(bh_syslog_want_write(s));
	send_seq(s, 0, NULL);
	assert_true(bh_syslog_want_write(s));
	assert_int_equal(bh_syslog_pump(s), 1);
	assert_false(bh_syslog_want_write(s));
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(cfd >= 0);
	bh_syslog_close(s);
	close(cfd);
	close(lfd);

	/* Nobody listening: connect fails, retries are scheduled. */
	lfd = listen_tcp(AF_INET, 0, 0);
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port_of(lfd));
	close(lfd);
	s = open_with(target, BH_SYSLOG_RFC5424, "h", "a", 0);
	send_seq(s, 0, NULL);
	for (int i = 0; i < 20; i++)
		assert_int_equal(bh_syslog_pump(s), 0);
	bh_syslog_get_stats(s, &ss);
	assert_false(ss.connected);
	assert_int_equal(ss.queued, 1);
	assert_int_equal(bh_syslog_fd(s), -1);
	assert_true(bh_syslog_timeout_ms(s) >= 0);
	assert_true(bh_syslog_timeout_ms(s) <= 40);
	bh_syslog_close(s);
}

static void udp_roundtrip(int family, const char *fmt_target)
{
	struct sockaddr_storage ss = { 0 };
	struct bh_syslog *s;
	struct bh_syslog_stats st;
	char target[80], buf[8192], want[8192];
	socklen_t len;
	int fd, i;

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		print_message("skipping %s: no loopback address\n", fmt_target);
		return;
	}
	snprintf(target, sizeof(target), fmt_target, port_of(fd));
	s = open_with(target, BH_SYSLOG_RFC3164, "h", "a", 0);
	for (i = 0; i < 3; i++)
		send_seq(s, i, "via udp");
	assert_int_equal(bh_syslog_pump(s), 3);
	for (i = 0; i < 3; i++) {
		char v[16];
		struct bh_sd_param p[] = { { "seq", v } };

		snprintf(v, sizeof(v), "%06d", i);
		bh_syslog_format(s, BH_SEV_INFO, "test", "t@32473", p, 1, "via udp", want,
				 sizeof(want));
		assert_int_equal(recv_dgram(fd, buf, sizeof(buf)), (int)strlen(want));
		assert_string_equal(buf, want);
	}
	bh_syslog_get_stats(s, &st);
	assert_int_equal(st.sent, 3);
	bh_syslog_close(s);
	close(fd);
}

static void test_udp_delivery(void **state)
{
	(void)state;
	set_tz("UTC0");
	udp_roundtrip(AF_INET, "udp://127.0.0.1:%d");
	udp_roundtrip(AF_INET6, "udp://[::1]:%d");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5424_exact),
		cmocka_unit_test(test_rfc5424_offsets),
		cmocka_unit_test(test_rfc3164_exact),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_forged_sd_counts),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_invalid_sd),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bad_targets),
		cmocka_unit_test_setup_teardown(test_unix_delivery, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_queue_drop_oldest, setup_dir, teardown_dir),
		cmocka_unit_test(test_tcp_framing_partial),
		cmocka_unit_test(test_tcp_reconnect),
		cmocka_unit_test(test_tcp_dead_mid_record),
		cmocka_unit_test(test_tcp_drop_keeps_partial_head),
		cmocka_unit_test(test_tcp_fd_want_write),
		cmocka_unit_test(test_udp_delivery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
