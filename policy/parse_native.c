// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bulkhead.io/v1 Policy and ClusterPolicy -> struct bh_policy. */
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"

static int native_rule(struct pc_ctx *c, const struct yd_node *n, bool ingress,
		       struct bh_rule *r)
{
	static const char *const in_fields[] = { "action", "from", "ports", "icmp", NULL };
	static const char *const eg_fields[] = { "action", "to", "ports", "icmp", NULL };
	const char *peers_key = ingress ? "from" : "to";
	const struct yd_node *v;
	size_t saved = c->len;
	int ret;

	r->action = BH_ACTION_ALLOW;
	r->line = n->line;
	ret = pc_map(c, n, ingress ? in_fields : eg_fields);
	if (ret)
		return ret;
	v = yd_map_get(n, "action");
	if (v && !yd_is_null(v)) {
		if (v->type == YD_SCALAR && !strcmp(v->str, "deny"))
			r->action = BH_ACTION_DENY;
		else if (v->type != YD_SCALAR || strcmp(v->str, "allow"))
			return pc_fail_at(c, v, "action", "must be allow or deny, not \"%s\"",
					  v->type == YD_SCALAR ? v->str : "a collection");
	}
	v = yd_map_get(n, peers_key);
	if (v) {
		pc_push(c, peers_key);
		ret = pc_peers(c, v, r);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	v = yd_map_get(n, "ports");
	if (v) {
		pc_push(c, "ports");
		ret = pc_ports(c, v, r);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	v = yd_map_get(n, "icmp");
	if (v) {
		pc_push(c, "icmp");
		ret = pc_icmp(c, v, r);
		pc_pop(c, saved);
	}
	return ret;
}

static int native_rules(struct pc_ctx *c, const struct yd_node *n, bool ingress,
			int *nr, struct bh_rule **out, bool *has_allow)
{
	size_t saved = c->len, i;
	int ret;

	ret = pc_seq(c, n);
	if (ret || n->type != YD_SEQ || !n->nr)
		return ret;
	*out = calloc(n->nr, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < n->nr; i++) {
		pc_push_idx(c, (int)i);
		*nr = (int)i + 1;
		ret = native_rule(c, n->items[i], ingress, &(*out)[i]);
		pc_pop(c, saved);
		if (ret)
			return ret;
		if ((*out)[i].action == BH_ACTION_ALLOW)
			*has_allow = true;
	}
	return 0;
}

int bh_parse_native(struct pc_ctx *c, const struct yd_node *root, bool cluster,
		    struct bh_policy *p)
{
	static const char *const top[] = { "apiVersion", "kind", "metadata", "spec", NULL };
	static const char *const spec_fields[] = { "selector", "namespaceSelector", "audit",
						   "ingress", "egress", NULL };
	const struct yd_node *md, *spec, *v;
	size_t saved = c->len;
	int ret;

	p->kind = cluster ? BH_POLICY_NATIVE_CLUSTER : BH_POLICY_NATIVE;
	ret = pc_map(c, root, top);
	if (ret)
		return ret;
	md = yd_map_get(root, "metadata");
	if (!md || yd_is_null(md))
		return pc_fail_at(c, md ? md : root, "metadata", "required field missing");
	ret = pc_metadata(c, md, cluster, p);
	if (ret)
		return ret;
	spec = yd_map_get(root, "spec");
	if (!spec || yd_is_null(spec))
		return pc_fail_at(c, spec ? spec : root, "spec", "required field missing");

	pc_push(c, "spec");
	ret = pc_map(c, spec, spec_fields);
	if (ret)
		goto out;
	v = yd_map_get(spec, "selector");
	if (!v || yd_is_null(v)) {
		ret = pc_fail_at(c, v ? v : spec, "selector", "required field missing "
				 "(selector: {} selects every workload)");
		goto out;
	}
	pc_push(c, "selector");
	ret = pc_selector(c, v, &p->selector);
	pc_pop(c, saved);
	pc_push(c, "spec");
	if (ret)
		goto out;

	v = yd_map_get(spec, "namespaceSelector");
	if (v && !cluster) {
		ret = pc_fail_at(c, v, "namespaceSelector", "only a ClusterPolicy has "
				 "spec.namespaceSelector (a Policy applies to its own namespace)");
		goto out;
	}
	if (v && !yd_is_null(v)) {
		pc_push(c, "namespaceSelector");
		ret = pc_selector(c, v, &p->ns_selector);
		pc_pop(c, saved);
		pc_push(c, "spec");
		if (ret)
			goto out;
	}
	v = yd_map_get(spec, "audit");
	if (v && !yd_is_null(v)) {
		pc_push(c, "audit");
		ret = pc_bool(c, v, &p->audit);
		pc_pop(c, saved);
		pc_push(c, "spec");
		if (ret)
			goto out;
	}
	/* A native policy isolates a direction only through an allow rule:
	 * deny rules alone carve holes into otherwise open traffic. */
	v = yd_map_get(spec, "ingress");
	if (v) {
		pc_push(c, "ingress");
		ret = native_rules(c, v, true, &p->nr_ingress, &p->ingress, &p->types_ingress);
		pc_pop(c, saved);
		pc_push(c, "spec");
		if (ret)
			goto out;
	}
	v = yd_map_get(spec, "egress");
	if (v) {
		pc_push(c, "egress");
		ret = native_rules(c, v, false, &p->nr_egress, &p->egress, &p->types_egress);
	}
out:
	pc_pop(c, saved);
	return ret;
}
