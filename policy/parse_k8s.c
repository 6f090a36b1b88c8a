// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Kubernetes networking.k8s.io/v1 NetworkPolicy -> struct bh_policy. */
#include <string.h>

#include "parse_common.h"

static int policy_type(struct pc_ctx *c, const struct yd_node *t, struct bh_policy *p)
{
	if (t->type == YD_SCALAR && !strcmp(t->str, "Ingress"))
		p->types_ingress = true;
	else if (t->type == YD_SCALAR && !strcmp(t->str, "Egress"))
		p->types_egress = true;
	else
		return pc_fail(c, t, "must be Ingress or Egress, not \"%s\"",
			       t->type == YD_SCALAR ? t->str : "a collection");
	return 0;
}

/* policyTypes (path already there); *given when it lists anything. */
static int policy_types(struct pc_ctx *c, const struct yd_node *n, struct bh_policy *p,
			bool *given)
{
	size_t i;
	int ret;

	ret = pc_seq(c, n);
	if (ret || n->type != YD_SEQ || !n->nr)
		return ret;
	*given = true;
	for (i = 0; i < n->nr; i++) {
		size_t saved = pc_push_idx(c, (int)i);

		ret = policy_type(c, n->items[i], p);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	return 0;
}

static int k8s_after_rules(struct pc_ctx *c, const struct yd_node *spec, struct bh_policy *p)
{
	const struct yd_node *v = yd_map_get(spec, "policyTypes");
	bool types_given = false;
	size_t saved;
	int ret;

	if (v) {
		saved = pc_push(c, "policyTypes");
		ret = policy_types(c, v, p, &types_given);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	/* Kubernetes defaulting (SetDefaults_NetworkPolicy): Ingress always,
	 * Egress iff spec.egress has at least one rule. `egress: []` alone
	 * does not isolate egress; policyTypes: [Egress] does. */
	if (!types_given) {
		p->types_ingress = true;
		p->types_egress = p->nr_egress > 0;
	}
	return 0;
}

int bh_parse_k8s(struct pc_ctx *c, const struct yd_node *root, struct bh_policy *p)
{
	static const char *const spec_fields[] = { "podSelector", "ingress", "egress",
						   "policyTypes", NULL };
	static const char *const in_fields[] = { "from", "ports", NULL };
	static const char *const eg_fields[] = { "to", "ports", NULL };
	static const struct pc_format k8s = {
		.spec_fields = spec_fields,
		.selector_key = "podSelector",
		.selector_missing = "required field missing "
				    "(podSelector: {} selects every pod of the namespace)",
		.ingress_fields = in_fields,
		.egress_fields = eg_fields,
		.rule = pc_rule_traffic,
		.after_rules = k8s_after_rules,
	};

	p->kind = BH_POLICY_K8S;
	return pc_document(c, root, &k8s, p);
}
