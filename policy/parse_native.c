// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bulkhead.io/v1 Policy and ClusterPolicy -> struct bh_policy. */
#include <string.h>

#include "parse_common.h"

/* A native rule adds an action (allow by default), ICMP types and other
 * IP protocols. */
static int native_rule(struct pc_ctx *c, const struct yd_node *n, bool ingress,
		       struct bh_rule *r)
{
	const struct yd_node *v = yd_map_get(n, "action");
	int ret;

	if (v && !yd_is_null(v)) {
		if (v->type == YD_SCALAR && !strcmp(v->str, "deny"))
			r->action = BH_ACTION_DENY;
		else if (v->type != YD_SCALAR || strcmp(v->str, "allow"))
			return pc_fail_at(c, v, "action", "must be allow or deny, not \"%s\"",
					  v->type == YD_SCALAR ? v->str : "a collection");
	}
	ret = pc_rule_traffic(c, n, ingress, r);
	if (ret)
		return ret;
	ret = pc_rule_field(c, n, "icmp", pc_icmp, r);
	if (ret)
		return ret;
	return pc_rule_field(c, n, "ipProtocols", pc_ip_protocols, r);
}

static int native_before_rules(struct pc_ctx *c, const struct yd_node *spec,
			       struct bh_policy *p)
{
	const struct yd_node *v = yd_map_get(spec, "namespaceSelector");
	size_t saved;
	int ret;

	if (v && p->kind != BH_POLICY_NATIVE_CLUSTER)
		return pc_fail_at(c, v, "namespaceSelector", "only a ClusterPolicy has "
				  "spec.namespaceSelector (a Policy applies to its own namespace)");
	ret = pc_selector_in(c, spec, "namespaceSelector", &p->ns_selector);
	if (ret)
		return ret;
	v = yd_map_get(spec, "audit");
	if (!v || yd_is_null(v))
		return 0;
	saved = pc_push(c, "audit");
	ret = pc_bool(c, v, &p->audit);
	pc_pop(c, saved);
	return ret;
}

static bool has_allow(int nr, const struct bh_rule *rules)
{
	int i;

	for (i = 0; i < nr; i++)
		if (rules[i].action == BH_ACTION_ALLOW)
			return true;
	return false;
}

/* A native policy isolates a direction only through an allow rule:
 * deny rules alone carve holes into otherwise open traffic. */
static int native_after_rules(struct pc_ctx *c, const struct yd_node *spec,
			      struct bh_policy *p)
{
	(void)c;
	(void)spec;
	p->types_ingress = has_allow(p->nr_ingress, p->ingress);
	p->types_egress = has_allow(p->nr_egress, p->egress);
	return 0;
}

int bh_parse_native(struct pc_ctx *c, const struct yd_node *root, bool cluster,
		    struct bh_policy *p)
{
	static const char *const spec_fields[] = { "selector", "namespaceSelector", "audit",
						   "ingress", "egress", NULL };
	static const char *const in_fields[] = { "action", "from", "ports", "icmp", "ipProtocols",
						 NULL };
	static const char *const eg_fields[] = { "action", "to", "ports", "icmp", "ipProtocols",
						 NULL };
	static const struct pc_format native = {
		.spec_fields = spec_fields,
		.selector_key = "selector",
		.selector_missing = "required field missing (selector: {} selects every workload)",
		.ingress_fields = in_fields,
		.egress_fields = eg_fields,
		.rule = native_rule,
		.before_rules = native_before_rules,
		.after_rules = native_after_rules,
	};

	p->kind = cluster ? BH_POLICY_NATIVE_CLUSTER : BH_POLICY_NATIVE;
	return pc_document(c, root, &native, p);
}
