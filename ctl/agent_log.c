// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The agent's logfmt lines; see agent_log.h. */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "agent_log.h"

const char *bh_log_level_name(enum bh_log_level l)
{
	static const char *const n[] = { "error", "warning", "info", "debug" };

	return (unsigned)l <= BH_LOG_DEBUG ? n[l] : "info";
}

static void value(FILE *f, const char *v)
{
	bool quote = !*v || strpbrk(v, " =\"") != NULL;

	for (const char *p = v; *p && !quote; p++)
		quote = (unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\';
	if (!quote) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void bh_alog(const struct bh_agent_log *l, enum bh_log_level lvl, const char *msg, ...)
{
	struct timespec ts;
	struct tm tm;
	char t[32];
	va_list ap;

	if (!l || !l->f || lvl > l->level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(l->f);
	fprintf(l->f, "time=%s.%03ldZ level=%s msg=", t, ts.tv_nsec / 1000000,
		bh_log_level_name(lvl));
	value(l->f, msg);
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *), *v;

		if (!k)
			break;
		v = va_arg(ap, const char *);
		fprintf(l->f, " %s=", k);
		value(l->f, v ? v : "");
	}
	va_end(ap);
	fputc('\n', l->f);
	fflush(l->f);
	funlockfile(l->f);
}
