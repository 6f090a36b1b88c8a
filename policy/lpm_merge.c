// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Making longest-prefix match give the answer every matching rule agrees
 * on. The data path sees only the longest entry matching a key, so each
 * entry must already carry the combined verdict of its ancestors: a deny
 * wins over an allow it covers, and an entry that adds nothing to its
 * nearest ancestor is dropped (the lookup then lands on the ancestor).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile_int.h"

#define BH_STACK_MAX	72	/* distinct prefix lengths on one path: <= 57 */

int bh_ce_push(struct bh_ce_vec *v, const struct bh_ce *e)
{
	if (v->nr == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct bh_ce *n = realloc(v->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->v = n;
		v->cap = cap;
	}
	v->v[v->nr++] = *e;
	return 0;
}

static int ce_cmp(const void *a, const void *b)
{
	const struct bh_ce *x = a, *y = b;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return (int)x->plen - (int)y->plen;
}

static int rank(__u8 v)
{
	switch (v) {
	case BH_PV_DENY:
		return 3;
	case BH_PV_ALLOW:
		return 2;
	case BH_PV_DEFAULT_DENY:
	case BH_PV_QUARANTINE:
		return 1;
	default:
		return 0;
	}
}

void bh_ce_normalize(struct bh_ce_vec *v)
{
	struct bh_ce *stack[BH_STACK_MAX];
	size_t i, out = 0;
	int top = 0;

	if (!v->nr)
		return;
	qsort(v->v, v->nr, sizeof(*v->v), ce_cmp);

	/* Equal keys: the strongest verdict, then the lowest rule id. */
	for (i = 1; i < v->nr; i++) {
		struct bh_ce *a = &v->v[out], *b = &v->v[i];

		if (a->k == b->k && a->plen == b->plen) {
			if (rank(b->verdict) > rank(a->verdict) ||
			    (b->verdict == a->verdict && b->rule < a->rule)) {
				a->verdict = b->verdict;
				a->rule = b->rule;
			}
			continue;
		}
		v->v[++out] = *b;
	}
	v->nr = out + 1;

	/* Resolve chains in ancestor-first order, keeping a stack of the
	 * kept entries that cover the current one. */
	out = 0;
	for (i = 0; i < v->nr; i++) {
		struct bh_ce e = v->v[i], *parent;

		while (top && !bh_ce_covers(stack[top - 1], &e))
			top--;
		parent = top ? stack[top - 1] : NULL;
		if (parent && parent->verdict == BH_PV_DENY && e.verdict != BH_PV_DENY) {
			e.verdict = BH_PV_DENY;
			e.rule = parent->rule;
		}
		if (parent && parent->verdict == e.verdict && parent->rule == e.rule)
			continue;	/* the ancestor already answers this */
		v->v[out] = e;
		if (top < BH_STACK_MAX)
			stack[top++] = &v->v[out];
		out++;
	}
	v->nr = out;
}

int bh_ce_merge_audit(const struct bh_ce_vec *e, const struct bh_ce_vec *a,
		      struct bh_ce_vec *out)
{
	/* Stacks of indices: out->v moves when it grows. */
	size_t es[BH_STACK_MAX], as[BH_STACK_MAX], ks[BH_STACK_MAX];
	size_t i = 0, j = 0;
	int et = 0, at = 0, kt = 0, ret;

	memset(out, 0, sizeof(*out));
	while (i < e->nr || j < a->nr) {
		const struct bh_ce *cur, *k;
		struct bh_ce m;
		int c;

		if (i == e->nr)
			c = 1;
		else if (j == a->nr)
			c = -1;
		else
			c = ce_cmp(&e->v[i], &a->v[j]);
		cur = c <= 0 ? &e->v[i] : &a->v[j];

		while (et && !bh_ce_covers(&e->v[es[et - 1]], cur))
			et--;
		while (at && !bh_ce_covers(&a->v[as[at - 1]], cur))
			at--;
		if (c <= 0 && et < BH_STACK_MAX)
			es[et++] = i;
		if (c >= 0 && at < BH_STACK_MAX)
			as[at++] = j;
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;

		m = (struct bh_ce){ .k = cur->k, .plen = cur->plen };
		if (et) {
			m.verdict = e->v[es[et - 1]].verdict;
			m.rule = e->v[es[et - 1]].rule;
		}
		if (at) {
			m.audit_verdict = a->v[as[at - 1]].verdict;
			m.audit_rule = a->v[as[at - 1]].rule;
		}
		/* Skip keys whose merged value repeats the nearest kept
		 * ancestor's: the lookup lands there and gets the same. */
		while (kt && !bh_ce_covers(&out->v[ks[kt - 1]], &m))
			kt--;
		k = kt ? &out->v[ks[kt - 1]] : NULL;
		if (k && k->verdict == m.verdict && k->rule == m.rule &&
		    k->audit_verdict == m.audit_verdict && k->audit_rule == m.audit_rule)
			continue;
		ret = bh_ce_push(out, &m);
		if (ret) {
			free(out->v);
			memset(out, 0, sizeof(*out));
			return ret;
		}
		if (kt < BH_STACK_MAX)
			ks[kt++] = out->nr - 1;
	}
	return 0;
}

int bh_ce_export(const struct bh_ce_vec *v, struct bh_compiled_workload *w)
{
	size_t i;

	w->nr = 0;
	w->entries = NULL;
	if (!v->nr)
		return 0;
	w->entries = calloc(v->nr, sizeof(*w->entries));
	if (!w->entries)
		return -ENOMEM;
	for (i = 0; i < v->nr; i++) {
		const struct bh_ce *c = &v->v[i];
		struct bh_policy_entry *pe = &w->entries[i];
		__u32 id = (__u32)(c->k >> 24);
		__u16 port = (__u16)c->k;

		pe->key.prefixlen = c->plen;
		pe->key.dir = (__u8)(c->k >> 56);
		pe->key.identity[0] = (__u8)(id >> 24);
		pe->key.identity[1] = (__u8)(id >> 16);
		pe->key.identity[2] = (__u8)(id >> 8);
		pe->key.identity[3] = (__u8)id;
		pe->key.proto = (__u8)(c->k >> 16);
		pe->key.port[0] = (__u8)(port >> 8);
		pe->key.port[1] = (__u8)port;
		pe->val.rule_id = c->rule;
		pe->val.audit_rule_id = c->audit_rule;
		pe->val.verdict = c->verdict;
		pe->val.audit_verdict = c->audit_verdict;
		pe->val.flags = c->flags;
	}
	w->nr = v->nr;
	return 0;
}
