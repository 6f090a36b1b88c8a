// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Field walking: the dotted path, error reports and the checks every
 * field of both policy formats goes through. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"

/* ------------------------------------------------------------ field path */
size_t pc_push(struct pc_ctx *c, const char *key)
{
	size_t saved = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s",
			 c->len ? "." : "", key);

	if (n > 0)
		c->len = strnlen(c->path, sizeof(c->path) - 1);
	return saved;
}

size_t pc_push_idx(struct pc_ctx *c, int idx)
{
	size_t saved = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%d]", idx);

	if (n > 0)
		c->len = strnlen(c->path, sizeof(c->path) - 1);
	return saved;
}

void pc_pop(struct pc_ctx *c, size_t saved)
{
	c->len = saved;
	c->path[saved] = '\0';
}

int pc_fail_at(struct pc_ctx *c, const struct yd_node *n, const char *key,
	       const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	size_t saved = c->len;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key)
		pc_push(c, key);
	ret = bh_perr(c->err, c->file, n ? n->line : 0, n ? n->col : 0, c->path, "%s", msg);
	pc_pop(c, saved);
	return ret;
}

/* --------------------------------------------------------------- scalars */
const char *pc_type_name(const struct yd_node *n)
{
	if (yd_is_null(n))
		return "null";
	return n->type == YD_MAP ? "a mapping" : n->type == YD_SEQ ? "a list" : "a scalar";
}

int pc_map(struct pc_ctx *c, const struct yd_node *n, const char *const *allowed)
{
	size_t i, j;
	const char *const *a;

	if (n->type != YD_MAP)
		return pc_fail(c, n, "must be a mapping, not %s", pc_type_name(n));
	for (i = 0; i < n->nr; i++) {
		const struct yd_node *k = n->keys[i];

		for (a = allowed; *a && strcmp(*a, k->str); a++)
			;
		if (!*a)
			return pc_fail_at(c, k, k->str, "unknown field \"%s\"", k->str);
		for (j = 0; j < i; j++)
			if (!strcmp(n->keys[j]->str, k->str))
				return pc_fail_at(c, k, k->str, "duplicate field \"%s\"",
						  k->str);
	}
	return 0;
}

int pc_seq(struct pc_ctx *c, const struct yd_node *n)
{
	if (n->type == YD_SEQ || yd_is_null(n))
		return 0;
	return pc_fail(c, n, "must be a list, not %s", pc_type_name(n));
}

int pc_str(struct pc_ctx *c, const struct yd_node *n, char *out, size_t len)
{
	if (n->type != YD_SCALAR || yd_is_null(n))
		return pc_fail(c, n, "must be a non-empty string, not %s", pc_type_name(n));
	if (!n->str[0])
		return pc_fail(c, n, "must not be empty");
	if (strlen(n->str) >= len)
		return pc_fail(c, n, "too long (at most %zu characters)", len - 1);
	memcpy(out, n->str, strlen(n->str) + 1);
	return 0;
}

int pc_uint(struct pc_ctx *c, const struct yd_node *n, unsigned long min,
	    unsigned long max, unsigned long *out)
{
	const char *s = n->str;
	unsigned long v = 0;

	if (n->type != YD_SCALAR || yd_is_null(n))
		return pc_fail(c, n, "must be a number, not %s", pc_type_name(n));
	if (!n->plain)
		return pc_fail(c, n, "must be a number, not the string \"%s\"", s);
	if (!*s)
		return pc_fail(c, n, "must be a number");
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return pc_fail(c, n, "\"%s\" is not a number", n->str);
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			break;
	}
	if (v < min || v > max)
		return pc_fail(c, n, "%s is out of range %lu..%lu", n->str, min, max);
	*out = v;
	return 0;
}

int pc_bool(struct pc_ctx *c, const struct yd_node *n, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE" };
	static const char *const f[] = { "false", "False", "FALSE" };
	int i;

	if (n->type == YD_SCALAR && n->plain) {
		for (i = 0; i < 3; i++) {
			if (!strcmp(n->str, t[i])) {
				*out = true;
				return 0;
			}
			if (!strcmp(n->str, f[i])) {
				*out = false;
				return 0;
			}
		}
	}
	return pc_fail(c, n, "must be true or false");
}
