// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Policy errors: one record naming file, line, column and field. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse_common.h"

int bh_perr(struct bh_policy_error *e, const char *file, int line, int col,
	    const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = line;
	e->column = col;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *bh_policy_error_format(const struct bh_policy_error *e, char *buf, size_t len)
{
	size_t off = 0;

	if (!buf || !len)
		return "";
	buf[0] = '\0';
#define PUT(...) do { \
		int n_ = snprintf(buf + off, len - off, __VA_ARGS__); \
		if (n_ < 0) return buf; \
		off += (size_t)n_ < len - off ? (size_t)n_ : len - off - 1; \
	} while (0)
	if (e->file[0])
		PUT("%s:", e->file);
	if (e->line > 0) {
		PUT("%d:", e->line);
		if (e->column > 0)
			PUT("%d:", e->column);
	}
	if (off)
		PUT(" ");
	if (e->field[0])
		PUT("%s: ", e->field);
	PUT("%s", e->msg);
#undef PUT
	return buf;
}
