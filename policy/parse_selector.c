// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* LabelSelector: matchLabels and matchExpressions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"

static const struct {
	const char *name;
	enum bh_sel_op op;
} sel_ops[] = {
	{ "In", BH_SEL_IN },
	{ "NotIn", BH_SEL_NOT_IN },
	{ "Exists", BH_SEL_EXISTS },
	{ "DoesNotExist", BH_SEL_DOES_NOT_EXIST },
};

static int sel_key(struct pc_ctx *c, const struct yd_node *k, struct bh_sel_expr *e)
{
	size_t saved = pc_push(c, "key");
	int ret;

	ret = pc_str(c, k, e->key, sizeof(e->key));
	if (!ret && !pc_label_key_ok(e->key))
		ret = pc_fail(c, k, "invalid label key \"%s\"", e->key);
	pc_pop(c, saved);
	return ret;
}

static int sel_op(struct pc_ctx *c, const struct yd_node *op, struct bh_sel_expr *e)
{
	size_t i;

	for (i = 0; i < sizeof(sel_ops) / sizeof(sel_ops[0]); i++) {
		if (op->type == YD_SCALAR && !strcmp(op->str, sel_ops[i].name)) {
			e->op = sel_ops[i].op;
			return 0;
		}
	}
	return pc_fail_at(c, op, "operator", "must be In, NotIn, Exists or "
			  "DoesNotExist, not \"%s\"",
			  op->type == YD_SCALAR ? op->str : pc_type_name(op));
}

/* Value i of a values list: a label value given once. */
static int sel_value(struct pc_ctx *c, const struct yd_node *v, struct bh_sel_expr *e, size_t i)
{
	size_t j;

	if (v->type != YD_SCALAR || yd_is_null(v))
		return pc_fail(c, v, "must be a string, not %s", pc_type_name(v));
	if (!pc_label_value_ok(v->str))
		return pc_fail(c, v, "invalid label value \"%s\"", v->str);
	for (j = 0; j < i; j++)
		if (!strcmp(e->values[j], v->str))
			return pc_fail(c, v, "duplicate value \"%s\"", v->str);
	snprintf(e->values[i], sizeof(e->values[i]), "%s", v->str);
	return 0;
}

/* values (path already there): In and NotIn need some, Exists and
 * DoesNotExist take none. n is the expression, for the line when absent. */
static int sel_values(struct pc_ctx *c, const struct yd_node *n, const struct yd_node *op,
		      const struct yd_node *vals, struct bh_sel_expr *e)
{
	bool needs = e->op == BH_SEL_IN || e->op == BH_SEL_NOT_IN;
	bool given;
	size_t i;
	int ret;

	if (vals) {
		ret = pc_seq(c, vals);
		if (ret)
			return ret;
	}
	given = vals && vals->type == YD_SEQ && vals->nr;
	if (needs && !given)
		return pc_fail(c, vals ? vals : n, "operator %s needs at least one value",
			       op->str);
	if (!needs && given)
		return pc_fail(c, vals, "operator %s takes no values", op->str);
	if (!given)
		return 0;
	e->values = calloc(vals->nr, sizeof(*e->values));
	if (!e->values)
		return -ENOMEM;
	e->nr_values = (int)vals->nr;
	for (i = 0; i < vals->nr; i++) {
		size_t saved = pc_push_idx(c, (int)i);

		ret = sel_value(c, vals->items[i], e, i);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	return 0;
}

static int sel_expr(struct pc_ctx *c, const struct yd_node *n, struct bh_sel_expr *e)
{
	static const char *const fields[] = { "key", "operator", "values", NULL };
	const struct yd_node *k, *op, *vals;
	size_t saved;
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	k = yd_map_get(n, "key");
	op = yd_map_get(n, "operator");
	vals = yd_map_get(n, "values");
	if (!k)
		return pc_fail_at(c, n, "key", "required field missing");
	if (!op)
		return pc_fail_at(c, n, "operator", "required field missing");
	ret = sel_key(c, k, e);
	if (ret)
		return ret;
	ret = sel_op(c, op, e);
	if (ret)
		return ret;
	saved = pc_push(c, "values");
	ret = sel_values(c, n, op, vals, e);
	pc_pop(c, saved);
	return ret;
}

/* matchExpressions (path already there); sel->nr_expr counts every entry
 * started, so bh_selector_free releases a half-read one. */
static int match_expressions(struct pc_ctx *c, const struct yd_node *me, struct bh_selector *sel)
{
	size_t i;
	int ret;

	ret = pc_seq(c, me);
	if (ret || me->type != YD_SEQ || !me->nr)
		return ret;
	sel->expr = calloc(me->nr, sizeof(*sel->expr));
	if (!sel->expr)
		return -ENOMEM;
	for (i = 0; i < me->nr; i++) {
		size_t saved = pc_push_idx(c, (int)i);

		ret = sel_expr(c, me->items[i], &sel->expr[i]);
		sel->nr_expr = (int)i + 1;
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	return 0;
}

int pc_selector(struct pc_ctx *c, const struct yd_node *n, struct bh_selector *sel)
{
	static const char *const fields[] = { "matchLabels", "matchExpressions", NULL };
	const struct yd_node *ml, *me;
	size_t saved = c->len;
	int ret;

	memset(sel, 0, sizeof(*sel));
	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	sel->present = true;
	ml = yd_map_get(n, "matchLabels");
	if (ml && !yd_is_null(ml)) {
		pc_push(c, "matchLabels");
		ret = pc_label_map(c, ml, &sel->nr_match, &sel->match, false);
		pc_pop(c, saved);
		if (ret)
			goto fail;
	}
	me = yd_map_get(n, "matchExpressions");
	if (me) {
		pc_push(c, "matchExpressions");
		ret = match_expressions(c, me, sel);
		pc_pop(c, saved);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	bh_selector_free(sel);
	return ret;
}

int pc_selector_in(struct pc_ctx *c, const struct yd_node *map, const char *key,
		   struct bh_selector *sel)
{
	const struct yd_node *v = yd_map_get(map, key);
	size_t saved;
	int ret;

	if (!v || yd_is_null(v))
		return 0;
	saved = pc_push(c, key);
	ret = pc_selector(c, v, sel);
	pc_pop(c, saved);
	return ret;
}
