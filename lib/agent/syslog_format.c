// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Record formatting for the syslog writer: RFC 5424 with structured data,
 * RFC 3164 on request. Everything that may come from inside a container
 * (workload names, label values, messages) passes through one of two
 * sanitizers, so no input can end a record early or forge a field:
 *
 *   header fields (HOSTNAME, APP-NAME, PROCID, MSGID, 3164 TAG):
 *     bytes outside PRINTUSASCII (33..126) become '?', then truncated to
 *     the RFC maximum; empty becomes the NILVALUE "-".
 *   text (SD-PARAM values, MSG, 3164 content):
 *     decoded as UTF-8; invalid bytes, C0 controls (NUL, CR, LF, TAB...),
 *     DEL, C1 controls and U+2028/U+2029 become '?'. In SD-PARAM values
 *     '"', '\' and ']' get a backslash (RFC 5424 section 6.3.3).
 *
 * '?' rather than a backslash escape because RFC 5424 gives "\n" inside a
 * PARAM-VALUE no meaning of its own: a reader would see two characters
 * that a sender could also have written literally.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "syslog_int.h"

#define NILVALUE	"-"
#define HOSTNAME_MAX	255
#define APP_NAME_MAX	48
#define PROCID_MAX	128
#define MSGID_MAX	32
#define SD_NAME_MAX	32
#define TAG3164_MAX	32

struct out {
	char *p;
	size_t len;
	size_t cap;	/* usable bytes, one less than the buffer (NUL) */
	bool full;	/* a mandatory part did not fit */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_s(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_c(struct out *o, char c)
{
	put(o, &c, 1);
}

/* Length (1..4) of the well-formed UTF-8 sequence at s, its code point in
 * *cp; 0 if s does not start one (stray continuation, overlong form,
 * surrogate, beyond U+10FFFF, or cut short by n). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;	/* no UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		unsigned char b = s[i];

		if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
			return 0;
		*cp = (*cp << 6) | (b & 0x3f);
	}
	return len;
}

static bool cp_is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       cp == 0x2028 || cp == 0x2029;
}

/*
 * Text sanitizer. Reads at most max_in bytes of s (never splitting a
 * sequence). With soft set, stops quietly when the output is full (MSG is
 * the last field and may be truncated); otherwise overflow marks o->full.
 */
static void put_text(struct out *o, const char *s, size_t max_in, bool sd_escape, bool soft)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	while (i < n && !o->full) {
		uint32_t cp = 0;
		size_t run = 0, l;

		/* fast path: a run of printable ASCII needing no escape */
		while (i + run < n && i + run < max_in && u[i + run] >= 0x20 && u[i + run] < 0x7f &&
		       !(sd_escape && (u[i + run] == '"' || u[i + run] == '\\' || u[i + run] == ']')))
			run++;
		if (run) {
			if (soft && run > o->cap - o->len)
				run = o->cap - o->len;
			if (!run)
				break;
			put(o, s + i, run);
			i += run;
			continue;
		}
		l = utf8_seq(u + i, n - i, &cp);
		char esc[2] = { '\\', 0 };
		const char *w;
		size_t wl;

		if ((l ? l : 1) > max_in - i)
			break;	/* cut at max_in, never inside a sequence */
		if (l == 0 || cp_is_control(cp)) {
			w = "?";
			wl = 1;
			l = l ? l : 1;
		} else if (sd_escape && (cp == '"' || cp == '\\' || cp == ']')) {
			esc[1] = (char)cp;
			w = esc;
			wl = 2;
		} else {
			w = s + i;
			wl = l;
		}
		if (soft && wl > o->cap - o->len)
			break;
		put(o, w, wl);
		i += l;
	}
}

/* Header field: PRINTUSASCII only, at most max bytes, NILVALUE if empty.
 * extra_bad lists further bytes to replace (3164 TAG delimiters). */
static void put_field(struct out *o, const char *s, size_t max, const char *extra_bad)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0) {
		put_s(o, NILVALUE);
		return;
	}
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126 || (extra_bad && strchr(extra_bad, c)))
			c = '?';
		put_c(o, (char)c);
	}
}

bool bh_syslog_sd_name_valid(const char *name)
{
	size_t i, n;

	if (!name)
		return false;
	n = strlen(name);
	if (n == 0 || n > SD_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 33 || c > 126 || c == '=' || c == ']' || c == '"')
			return false;
	}
	return true;
}

static int check_args(enum bh_syslog_sev sev, const char *sd_id,
		      const struct bh_sd_param *params, int nr_params)
{
	int i;

	if ((int)sev < BH_SEV_EMERG || sev > BH_SEV_DEBUG)
		return -EINVAL;
	if (nr_params < 0 || (nr_params > 0 && (!params || !sd_id)))
		return -EINVAL;
	if (sd_id && !bh_syslog_sd_name_valid(sd_id))
		return -EINVAL;
	for (i = 0; i < nr_params; i++)
		if (!bh_syslog_sd_name_valid(params[i].name))
			return -EINVAL;
	return 0;
}

static void get_time(const struct bh_syslog_fmt *f, struct timespec *ts)
{
	if (f->now_fn)
		f->now_fn(f->now_arg, ts);
	else
		clock_gettime(CLOCK_REALTIME, ts);
}

/* Zero-padded decimal of width w (no printf: this runs once per record
 * and printf led the ingest profile). */
static void put_dec(struct out *o, unsigned long v, int w)
{
	char b[24];
	int i = (int)sizeof(b);

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while ((v || (int)sizeof(b) - i < w) && i > 0);
	put(o, b + i, sizeof(b) - (size_t)i);
}

static void put_pri(struct out *o, const struct bh_syslog_fmt *f, enum bh_syslog_sev sev)
{
	put_c(o, '<');
	put_dec(o, (unsigned long)(f->facility * 8 + (int)sev), 1);
	put_c(o, '>');
}

/* RFC 3339 local time with microseconds and numeric offset, e.g.
 * 2024-03-05T14:07:09.012345+01:00 (never "Z", so readers see the
 * offset the host used). */
static void put_ts5424(struct out *o, const struct timespec *ts)
{
	struct tm tm;
	long off;
	char sign;

	if (!localtime_r(&ts->tv_sec, &tm) || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		put_s(o, NILVALUE);
		return;
	}
	off = tm.tm_gmtoff;
	sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	/* %04d-%02d-%02dT%02d:%02d:%02d.%06ld%c%02ld:%02ld */
	put_dec(o, (unsigned long)(tm.tm_year + 1900), 4);
	put_c(o, '-');
	put_dec(o, (unsigned long)(tm.tm_mon + 1), 2);
	put_c(o, '-');
	put_dec(o, (unsigned long)tm.tm_mday, 2);
	put_c(o, 'T');
	put_dec(o, (unsigned long)tm.tm_hour, 2);
	put_c(o, ':');
	put_dec(o, (unsigned long)tm.tm_min, 2);
	put_c(o, ':');
	put_dec(o, (unsigned long)tm.tm_sec, 2);
	put_c(o, '.');
	put_dec(o, (unsigned long)((ts->tv_nsec / 1000) % 1000000), 6);
	put_c(o, sign);
	put_dec(o, (unsigned long)(off / 3600), 2);
	put_c(o, ':');
	put_dec(o, (unsigned long)((off % 3600) / 60), 2);
}

static void put_ts3164(struct out *o, const struct timespec *ts)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	char b[128];

	if (!localtime_r(&ts->tv_sec, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(b, sizeof(b), "%.3s %2d %02d:%02d:%02d", mon[tm.tm_mon % 12], tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	put_s(o, b);
}

static void put_param(struct out *o, const struct bh_sd_param *p)
{
	put_s(o, p->name);
	put_s(o, "=\"");
	put_text(o, p->value ? p->value : "", BH_SYSLOG_VALUE_MAX, true, false);
	put_c(o, '"');
}

static void fmt5424(struct out *o, const struct bh_syslog_fmt *f, enum bh_syslog_sev sev,
		    const char *msgid, const char *sd_id, const struct bh_sd_param *params,
		    int nr_params, const char *msg, const struct timespec *ts)
{
	int i;

	put_pri(o, f, sev);
	put_s(o, "1 ");
	put_ts5424(o, ts);
	put_c(o, ' ');
	put_field(o, f->hostname, HOSTNAME_MAX, NULL);
	put_c(o, ' ');
	put_field(o, f->app_name, APP_NAME_MAX, NULL);
	put_c(o, ' ');
	put_dec(o, (unsigned long)f->pid, 1);	/* digits only: a valid PROCID */
	put_c(o, ' ');
	put_field(o, msgid, MSGID_MAX, NULL);
	put_c(o, ' ');
	if (!sd_id) {
		put_s(o, NILVALUE);
	} else {
		put_c(o, '[');
		put_s(o, sd_id);
		for (i = 0; i < nr_params; i++) {
			put_c(o, ' ');
			put_param(o, &params[i]);
		}
		put_c(o, ']');
	}
	/* No BOM: MSG is always well-formed UTF-8 after put_text. */
	if (msg && *msg && !o->full && o->len < o->cap) {
		put_c(o, ' ');
		put_text(o, msg, (size_t)-1, false, true);
	}
}

/* <PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSGID k="v" ... MSG */
static void fmt3164(struct out *o, const struct bh_syslog_fmt *f, enum bh_syslog_sev sev,
		    const char *msgid, const struct bh_sd_param *params, int nr_params,
		    const char *msg, const struct timespec *ts)
{
	char pid[16];
	int i;

	put_pri(o, f, sev);
	put_ts3164(o, ts);
	put_c(o, ' ');
	put_field(o, f->hostname, HOSTNAME_MAX, NULL);
	put_c(o, ' ');
	put_field(o, f->app_name, TAG3164_MAX, "[]:");
	snprintf(pid, sizeof(pid), "[%d]:", (int)f->pid);
	put_s(o, pid);
	if (msgid && *msgid) {
		put_c(o, ' ');
		put_field(o, msgid, MSGID_MAX, NULL);
	}
	for (i = 0; i < nr_params; i++) {
		put_c(o, ' ');
		put_param(o, &params[i]);
	}
	if (msg && *msg && !o->full && o->len < o->cap) {
		put_c(o, ' ');
		put_text(o, msg, (size_t)-1, false, true);
	}
}

int bh_syslog_fmt_record(const struct bh_syslog_fmt *f, enum bh_syslog_sev sev,
			 const char *msgid, const char *sd_id,
			 const struct bh_sd_param *params, int nr_params,
			 const char *msg, char *buf, size_t len)
{
	size_t limit = f->format == BH_SYSLOG_RFC3164 ? BH_SYSLOG_3164_MAX : BH_SYSLOG_RECORD_MAX;
	struct out o = { .p = buf };
	struct timespec ts;
	int err;

	if (!buf || len == 0)
		return -EINVAL;
	err = check_args(sev, sd_id, params, nr_params);
	if (err)
		return err;
	o.cap = len - 1 < limit ? len - 1 : limit;
	get_time(f, &ts);
	if (f->format == BH_SYSLOG_RFC3164)
		fmt3164(&o, f, sev, msgid, params, nr_params, msg, &ts);
	else
		fmt5424(&o, f, sev, msgid, sd_id, params, nr_params, msg, &ts);
	if (o.full) {
		buf[0] = '\0';
		return -EMSGSIZE;
	}
	buf[o.len] = '\0';
	return (int)o.len;
}
