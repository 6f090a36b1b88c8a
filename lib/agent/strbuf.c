// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Growable text buffer for the renderers (strbuf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void bh_sb_reserve(struct bh_sbuf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->err || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return;
	}
	b->p = p;
	b->cap = cap;
}

void bh_sb_putn(struct bh_sbuf *b, const char *s, size_t n)
{
	bh_sb_reserve(b, n);
	if (b->err)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void bh_sb_puts(struct bh_sbuf *b, const char *s)
{
	bh_sb_putn(b, s, strlen(s));
}

void bh_sb_putc(struct bh_sbuf *b, char c)
{
	bh_sb_putn(b, &c, 1);
}

void bh_sb_printf(struct bh_sbuf *b, const char *fmt, ...)
{
	char tmp[256], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return;
	}
	if ((size_t)n < sizeof(tmp)) {
		bh_sb_putn(b, tmp, n);
		return;
	}
	big = malloc(n + 1);
	if (!big) {
		b->err = -ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, n + 1, fmt, ap);
	va_end(ap);
	bh_sb_putn(b, big, n);
	free(big);
}

void bh_str_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}
