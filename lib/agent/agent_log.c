// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The agent's logfmt lines; see agent_log.h. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent_log.h"

struct line {
	char buf[BH_ALOG_LINE_MAX];
	size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (n > sizeof(l->buf) - 1 - l->len)
		n = sizeof(l->buf) - 1 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

const char *bh_log_level_name(enum bh_log_level l)
{
	static const char *const n[] = { "error", "warning", "info", "debug" };

	return (unsigned)l <= BH_LOG_DEBUG ? n[l] : "info";
}

static void value(struct line *l, const char *v)
{
	bool quote = !*v || strpbrk(v, " =\"") != NULL;

	for (const char *p = v; *p && !quote; p++)
		quote = (unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\';
	if (!quote) {
		puts_(l, v);
		return;
	}
	put(l, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		char esc[8];

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(l, esc, 2);
		} else if (*p == '\n') {
			put(l, "\\n", 2);
		} else if (*p == '\t') {
			put(l, "\\t", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			puts_(l, esc);
		} else {
			put(l, (const char *)p, 1);
		}
	}
	put(l, "\"", 1);
}

void bh_alog(const struct bh_agent_log *lg, enum bh_log_level lvl, const char *msg, ...)
{
	struct line l = { .len = 0 };
	struct timespec ts;
	struct tm tm;
	char t[64];
	va_list ap;

	if (!lg || !lg->write || lvl > lg->level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	l.buf[0] = '\0';
	puts_(&l, "time=");
	puts_(&l, t);
	snprintf(t, sizeof(t), ".%03ldZ level=%s msg=", ts.tv_nsec / 1000000,
		 bh_log_level_name(lvl));
	puts_(&l, t);
	value(&l, msg);
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *), *v;

		if (!k)
			break;
		v = va_arg(ap, const char *);
		put(&l, " ", 1);
		puts_(&l, k);
		put(&l, "=", 1);
		value(&l, v ? v : "");
	}
	va_end(ap);
	lg->write(lg->arg, l.buf);
}
