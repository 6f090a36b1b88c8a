/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The controller's text helpers: a growable, always NUL-terminated text buffer for the
 * renderers (metrics exposition, HTTP responses, the DOT network map). The
 * first allocation failure sticks in err and makes every later call a
 * no-op, so a renderer checks once at the end.
 */
#ifndef BULKHEAD_STRBUF_H
#define BULKHEAD_STRBUF_H

#include <stddef.h>

struct bh_sbuf {
	char *p;		/* malloc'd; NULL until the first byte */
	size_t len, cap;
	int err;		/* 0, or the first negative errno */
};

/* Room for more bytes plus the NUL. */
void bh_sb_reserve(struct bh_sbuf *b, size_t more);
void bh_sb_putn(struct bh_sbuf *b, const char *s, size_t n);
void bh_sb_puts(struct bh_sbuf *b, const char *s);
void bh_sb_putc(struct bh_sbuf *b, char c);
void bh_sb_printf(struct bh_sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Copy src into dst[len], cut to fit, always terminated. The flow decoder
 * and the syslog writer copy on every record, where snprintf("%s") was a
 * measurable share of the ingest profile. */
void bh_str_copy(char *dst, size_t len, const char *src);

#endif /* BULKHEAD_STRBUF_H */
