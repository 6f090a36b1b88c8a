// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Label selectors as kubectl's -l takes them, into the model's
 * struct bh_selector (matched by bh_selector_match):
 *   k=v, k==v        matchLabels k: v
 *   k!=v             k NotIn (v)    (a missing key matches, as in kubectl)
 *   k in (a,b)       k In (a, b)
 *   k notin (a,b)    k NotIn (a, b)
 *   k                k Exists
 *   !k               k DoesNotExist
 * Requirements are separated by commas (outside parentheses) and all must
 * hold. Keys and values follow Kubernetes label syntax (bh_label_parse).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"
#include "policy.h"
#include "bulkhead.h"

#define SEL_MAX_REQ	32
#define SEL_MAX_VALUES	32

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* key alone is valid label key syntax; value may be empty */
static bool key_ok(const char *k)
{
	char buf[BH_NAME_MAX + 2];
	struct bh_label l;

	if (!*k || strlen(k) > BH_NAME_MAX)
		return false;
	snprintf(buf, sizeof(buf), "%s=", k);
	return bh_label_parse(buf, &l) == 0;
}

static bool value_ok(const char *k, const char *v)
{
	char buf[BH_NAME_MAX + 80];
	struct bh_label l;

	if (strlen(v) >= sizeof(l.value))
		return false;
	snprintf(buf, sizeof(buf), "%s=%s", k, v);
	return bh_label_parse(buf, &l) == 0;
}

static int fail(char *err, size_t len, const char *fmt, const char *arg)
{
	snprintf(err, len, fmt, arg);
	return -EINVAL;
}

static int add_expr(struct bh_selector *sel, const char *key, enum bh_sel_op op, char *values,
		    char *err, size_t errlen)
{
	struct bh_sel_expr *e, *n;
	int nr = 0;

	n = realloc(sel->expr, sizeof(*sel->expr) * (size_t)(sel->nr_expr + 1));
	if (!n)
		return -ENOMEM;
	sel->expr = n;
	e = &sel->expr[sel->nr_expr];
	memset(e, 0, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->op = op;
	if (values) {
		char *save = NULL;

		e->values = calloc(SEL_MAX_VALUES, sizeof(*e->values));
		if (!e->values)
			return -ENOMEM;
		sel->nr_expr++;		/* owned from here: freed with the selector */
		for (char *t = strtok_r(values, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			t = trim(t);
			if (nr >= SEL_MAX_VALUES)
				return fail(err, errlen, "at most 32 values in (...) for '%s'", key);
			if (!value_ok(key, t))
				return fail(err, errlen, "bad label value '%s'", t);
			snprintf(e->values[nr++], sizeof(e->values[0]), "%s", t);
		}
		if (!nr)
			return fail(err, errlen, "empty value list for '%s'", key);
		e->nr_values = nr;
		return 0;
	}
	sel->nr_expr++;
	return 0;
}

static int add_match(struct bh_selector *sel, const char *k, const char *v, char *err,
		     size_t errlen)
{
	struct bh_label *n;

	if (!value_ok(k, v))
		return fail(err, errlen, "bad label value '%s'", v);
	n = realloc(sel->match, sizeof(*sel->match) * (size_t)(sel->nr_match + 1));
	if (!n)
		return -ENOMEM;
	sel->match = n;
	memset(&n[sel->nr_match], 0, sizeof(*n));
	snprintf(n[sel->nr_match].key, sizeof(n->key), "%s", k);
	snprintf(n[sel->nr_match].value, sizeof(n->value), "%s", v);
	sel->nr_match++;
	return 0;
}

/* One requirement, already trimmed. */
static int requirement(struct bh_selector *sel, char *r, char *err, size_t errlen)
{
	char *op, *key, *rest;

	if (r[0] == '!') {
		key = trim(r + 1);
		if (!key_ok(key))
			return fail(err, errlen, "bad label key '%s'", key);
		return add_expr(sel, key, BH_SEL_DOES_NOT_EXIST, NULL, err, errlen);
	}
	if ((op = strstr(r, "!="))) {
		*op = '\0';
		key = trim(r);
		rest = trim(op + 2);
		if (!key_ok(key))
			return fail(err, errlen, "bad label key '%s'", key);
		if (!value_ok(key, rest))
			return fail(err, errlen, "bad label value '%s'", rest);
		return add_expr(sel, key, BH_SEL_NOT_IN, rest, err, errlen);
	}
	if ((op = strchr(r, '='))) {
		*op = '\0';
		key = trim(r);
		rest = trim(op[1] == '=' ? op + 2 : op + 1);
		if (!key_ok(key))
			return fail(err, errlen, "bad label key '%s'", key);
		return add_match(sel, key, rest, err, errlen);
	}
	/* "k in (a,b)", "k notin (a,b)" or "k" */
	key = r;
	rest = r + strcspn(r, " \t(");
	if (*rest) {
		enum bh_sel_op o;
		char *open, *close;

		*rest++ = '\0';
		rest = trim(rest);
		if (!strncmp(rest, "notin", 5)) {
			o = BH_SEL_NOT_IN;
			rest += 5;
		} else if (!strncmp(rest, "in", 2)) {
			o = BH_SEL_IN;
			rest += 2;
		} else {
			return fail(err, errlen, "expected in or notin after '%s'", key);
		}
		open = strchr(rest, '(');
		close = strrchr(rest, ')');
		if (!open || !close || close < open || *trim(close + 1) ||
		    open != trim(rest))
			return fail(err, errlen, "expected (v1,v2) after in/notin for '%s'", key);
		*close = '\0';
		if (!key_ok(key))
			return fail(err, errlen, "bad label key '%s'", key);
		return add_expr(sel, key, o, open + 1, err, errlen);
	}
	if (!key_ok(key))
		return fail(err, errlen, "bad label key '%s'", key);
	return add_expr(sel, key, BH_SEL_EXISTS, NULL, err, errlen);
}

int bh_selector_parse_string(const char *s, struct bh_selector *out, char *err, size_t errlen)
{
	char *buf, *p, *start;
	int depth = 0, nr = 0, ret = 0;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	buf = strdup(s);
	if (!buf)
		return -ENOMEM;
	out->present = true;
	start = buf;
	/* split at commas outside parentheses */
	for (p = buf;; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		if (depth < 0) {
			ret = fail(err, errlen, "unbalanced ')' in '%s'", s);
			break;
		}
		if ((*p == ',' && depth == 0) || !*p) {
			bool last = !*p;
			char *r;

			*p = '\0';
			r = trim(start);
			if (!*r) {
				ret = fail(err, errlen, "empty requirement in '%s'", s);
				break;
			}
			if (++nr > SEL_MAX_REQ) {
				ret = fail(err, errlen, "at most 32 requirements in '%s'", s);
				break;
			}
			ret = requirement(out, r, err, errlen);
			if (ret || last)
				break;
			start = p + 1;
		}
	}
	if (!ret && depth)
		ret = fail(err, errlen, "unbalanced '(' in '%s'", s);
	free(buf);
	if (ret)
		bh_selector_free(out);
	return ret;
}
