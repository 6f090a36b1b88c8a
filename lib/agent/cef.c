// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* CEF line building and escaping; see cef.h. */
#include <stdio.h>
#include <string.h>

#include "cef.h"

void bh_cef_init(struct bh_cef *c, char *buf, size_t cap)
{
	*c = (struct bh_cef){ .buf = buf, .cap = cap };
	if (cap)
		buf[0] = '\0';
}

static void put(struct bh_cef *c, const char *s, size_t n)
{
	if (c->len + n + 1 > c->cap) {
		c->overflow = true;
		return;
	}
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->buf[c->len] = '\0';
}

static void putc_(struct bh_cef *c, char ch)
{
	put(c, &ch, 1);
}

static void header_field(struct bh_cef *c, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\\' || ch == '|') {
			putc_(c, '\\');
			putc_(c, (char)ch);
		} else if (ch < 0x20 || ch == 0x7f) {
			putc_(c, '?');
		} else {
			putc_(c, (char)ch);
		}
	}
	putc_(c, '|');
}

void bh_cef_header(struct bh_cef *c, const char *vendor, const char *product,
		   const char *version, const char *signature, const char *name, int severity)
{
	char sev[8];

	put(c, "CEF:0|", 6);
	header_field(c, vendor);
	header_field(c, product);
	header_field(c, version);
	header_field(c, signature);
	header_field(c, name);
	snprintf(sev, sizeof(sev), "%d", severity < 0 ? 0 : severity > 10 ? 10 : severity);
	header_field(c, sev);
}

void bh_cef_ext(struct bh_cef *c, const char *key, const char *value)
{
	/* whole pairs only: a cut line never ends in half an escape */
	size_t mark = c->len;

	if (c->overflow)
		return;
	if (c->len && c->buf[c->len - 1] != '|')
		putc_(c, ' ');
	put(c, key, strlen(key));
	putc_(c, '=');
	for (const char *s = value ? value : ""; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\\' || ch == '=') {
			putc_(c, '\\');
			putc_(c, (char)ch);
		} else if (ch == '\n') {
			put(c, "\\n", 2);
		} else if (ch == '\r') {
			put(c, "\\r", 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			putc_(c, '?');
		} else {
			putc_(c, (char)ch);
		}
	}
	if (c->overflow) {
		c->len = mark;
		c->buf[mark] = '\0';
	}
}

void bh_cef_ext_int(struct bh_cef *c, const char *key, long long value)
{
	char v[24];

	snprintf(v, sizeof(v), "%lld", value);
	bh_cef_ext(c, key, v);
}
