// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * syslog_send: drives the libbulkhead syslog writer from a shell test.
 *
 *   syslog_send [--3164] [--queue N] [--host H] [--app A] TARGET
 *
 * Reads commands on stdin, one per line, fields separated by TAB; in each
 * field \n \r \t \\ are unescaped first so a test can pass control
 * characters. An empty field means NULL. Every command answers exactly one
 * line on stdout starting with "ok" or "err", so the caller can wait for
 * it (bash coproc).
 *
 *   send SEV MSGID SDID MSG [NAME VALUE]...   enqueue one record
 *   burst FIRST COUNT MSGID SDID              COUNT records, param seq=FIRST..
 *   pump                                      one pump, answers "ok N"
 *   drain MS                                  pump (poll on the fd / timer)
 *                                             until the queue is empty or MS
 *                                             passed; answers stats
 *   stats                                     answers "ok sent=.. dropped=..
 *                                             queued=.. reconnects=.. connected=.."
 *   quit
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "syslog.h"

#define MAX_FIELDS 64

static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			*w++ = *s;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		default: *w++ = *s; break;
		}
	}
	*w = '\0';
}

static int split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	while (n < max) {
		char *tab = strchr(p, '\t');

		f[n++] = p;
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	for (int i = 0; i < n; i++)
		unescape(f[i]);
	return n;
}

static const char *nul(const char *s)
{
	return *s ? s : NULL;
}

static void print_stats(struct bh_syslog *s)
{
	struct bh_syslog_stats st;

	bh_syslog_get_stats(s, &st);
	printf("ok sent=%llu dropped=%llu queued=%llu reconnects=%llu connected=%d\n",
	       (unsigned long long)st.sent, (unsigned long long)st.dropped,
	       (unsigned long long)st.queued, (unsigned long long)st.reconnects,
	       st.connected ? 1 : 0);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The event loop an agent would run: poll the fd for EPOLLOUT while the
 * writer wants it, else sleep until its timer. */
static int drain(struct bh_syslog *s, long long ms)
{
	long long end = now_ms() + ms;
	struct bh_syslog_stats st;

	for (;;) {
		struct pollfd p = { .fd = bh_syslog_fd(s), .events = POLLOUT };
		int err = bh_syslog_pump(s), t;
		long long left;

		if (err < 0)
			return err;
		bh_syslog_get_stats(s, &st);
		left = end - now_ms();
		if (st.queued == 0 || left <= 0)
			return 0;
		t = bh_syslog_timeout_ms(s);
		if (t < 0 || t > 50)
			t = 50;
		if (t > left)
			t = (int)left;
		if (p.fd >= 0 && bh_syslog_want_write(s))
			poll(&p, 1, t);
		else
			poll(NULL, 0, t);
	}
}

static int do_send(struct bh_syslog *s, char **f, int n)
{
	struct bh_sd_param p[MAX_FIELDS / 2];
	int np = 0, i;

	if (n < 5 || (n - 5) % 2)
		return -EINVAL;
	for (i = 5; i + 1 < n; i += 2, np++) {
		p[np].name = f[i];
		p[np].value = f[i + 1];
	}
	return bh_syslog_send(s, (enum bh_syslog_sev)atoi(f[1]), nul(f[2]), nul(f[3]),
			      p, np, nul(f[4]));
}

static int do_burst(struct bh_syslog *s, char **f, int n)
{
	long first, count, i;
	char v[24];
	struct bh_sd_param p[] = { { "seq", v } };

	if (n != 5)
		return -EINVAL;
	first = atol(f[1]);
	count = atol(f[2]);
	for (i = 0; i < count; i++) {
		int err;

		snprintf(v, sizeof(v), "%ld", first + i);
		err = bh_syslog_send(s, BH_SEV_INFO, nul(f[3]), nul(f[4]), p, 1, "burst");
		if (err)
			return err;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bh_syslog_opts o = { .app_name = "bh-test" };
	struct bh_syslog *s;
	char line[65536];
	int i, err;

	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--3164"))
			o.format = BH_SYSLOG_RFC3164;
		else if (!strcmp(argv[i], "--queue") && i + 1 < argc - 1)
			o.queue_max = (size_t)atol(argv[++i]);
		else if (!strcmp(argv[i], "--host") && i + 1 < argc - 1)
			o.hostname = argv[++i];
		else if (!strcmp(argv[i], "--app") && i + 1 < argc - 1)
			o.app_name = argv[++i];
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: %s [--3164] [--queue N] [--host H] [--app A] TARGET\n",
			argv[0]);
		return 2;
	}
	o.target = argv[i];
	err = bh_syslog_open(&o, &s);
	if (err) {
		fprintf(stderr, "syslog_send: %s: %s\n", o.target, strerror(-err));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		char *f[MAX_FIELDS];
		int n;

		line[strcspn(line, "\n")] = '\0';
		n = split(line, f, MAX_FIELDS);
		if (!strcmp(f[0], "quit"))
			break;
		if (!strcmp(f[0], "send")) {
			err = do_send(s, f, n);
		} else if (!strcmp(f[0], "burst")) {
			err = do_burst(s, f, n);
		} else if (!strcmp(f[0], "pump")) {
			err = bh_syslog_pump(s);
			if (err >= 0) {
				printf("ok %d\n", err);
				continue;
			}
		} else if (!strcmp(f[0], "drain") && n == 2) {
			err = drain(s, atol(f[1]));
			if (!err) {
				print_stats(s);
				continue;
			}
		} else if (!strcmp(f[0], "stats")) {
			print_stats(s);
			continue;
		} else {
			err = -EINVAL;
		}
		if (err < 0)
			printf("err %d %s\n", err, strerror(-err));
		else
			printf("ok\n");
	}
	bh_syslog_close(s);
	return 0;
}
