// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Kubernetes networking.k8s.io/v1 NetworkPolicy -> struct bh_policy. */
#include <stdlib.h>
#include <string.h>

#include "parse_common.h"

static int k8s_rule(struct pc_ctx *c, const struct yd_node *n, bool ingress, struct bh_rule *r)
{
	static const char *const in_fields[] = { "from", "ports", NULL };
	static const char *const eg_fields[] = { "to", "ports", NULL };
	const char *peers_key = ingress ? "from" : "to";
	const struct yd_node *peers, *ports;
	size_t saved = c->len;
	int ret;

	r->action = BH_ACTION_ALLOW;
	r->line = n->line;
	ret = pc_map(c, n, ingress ? in_fields : eg_fields);
	if (ret)
		return ret;
	peers = yd_map_get(n, peers_key);
	if (peers) {
		pc_push(c, peers_key);
		ret = pc_peers(c, peers, r);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	ports = yd_map_get(n, "ports");
	if (ports) {
		pc_push(c, "ports");
		ret = pc_ports(c, ports, r);
		pc_pop(c, saved);
	}
	return ret;
}

static int k8s_rules(struct pc_ctx *c, const struct yd_node *n, bool ingress,
		     int *nr, struct bh_rule **out)
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
		ret = k8s_rule(c, n->items[i], ingress, &(*out)[i]);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	return 0;
}

static int policy_types(struct pc_ctx *c, const struct yd_node *n, struct bh_policy *p,
			bool *given)
{
	size_t saved = c->len, i;
	int ret;

	ret = pc_seq(c, n);
	if (ret || n->type != YD_SEQ || !n->nr)
		return ret;
	*given = true;
	for (i = 0; i < n->nr; i++) {
		const struct yd_node *t = n->items[i];

		pc_push_idx(c, (int)i);
		if (t->type == YD_SCALAR && !strcmp(t->str, "Ingress"))
			p->types_ingress = true;
		else if (t->type == YD_SCALAR && !strcmp(t->str, "Egress"))
			p->types_egress = true;
		else
			ret = pc_fail(c, t, "must be Ingress or Egress, not \"%s\"",
				      t->type == YD_SCALAR ? t->str : "a collection");
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	return 0;
}

int bh_parse_k8s(struct pc_ctx *c, const struct yd_node *root, struct bh_policy *p)
{
	static const char *const top[] = { "apiVersion", "kind", "metadata", "spec", NULL };
	static const char *const spec_fields[] = { "podSelector", "ingress", "egress",
						   "policyTypes", NULL };
	const struct yd_node *md, *spec, *v;
	bool types_given = false;
	size_t saved = c->len;
	int ret;

	p->kind = BH_POLICY_K8S;
	ret = pc_map(c, root, top);
	if (ret)
		return ret;
	md = yd_map_get(root, "metadata");
	if (!md || yd_is_null(md))
		return pc_fail_at(c, md ? md : root, "metadata", "required field missing");
	ret = pc_metadata(c, md, false, p);
	if (ret)
		return ret;
	spec = yd_map_get(root, "spec");
	if (!spec || yd_is_null(spec))
		return pc_fail_at(c, spec ? spec : root, "spec", "required field missing");

	pc_push(c, "spec");
	ret = pc_map(c, spec, spec_fields);
	if (ret)
		goto out;
	v = yd_map_get(spec, "podSelector");
	if (!v || yd_is_null(v)) {
		ret = pc_fail_at(c, v ? v : spec, "podSelector", "required field missing "
				 "(podSelector: {} selects every pod of the namespace)");
		goto out;
	}
	pc_push(c, "podSelector");
	ret = pc_selector(c, v, &p->selector);
	pc_pop(c, saved);
	pc_push(c, "spec");
	if (ret)
		goto out;

	v = yd_map_get(spec, "ingress");
	if (v) {
		pc_push(c, "ingress");
		ret = k8s_rules(c, v, true, &p->nr_ingress, &p->ingress);
		pc_pop(c, saved);
		pc_push(c, "spec");
		if (ret)
			goto out;
	}
	v = yd_map_get(spec, "egress");
	if (v) {
		pc_push(c, "egress");
		ret = k8s_rules(c, v, false, &p->nr_egress, &p->egress);
		pc_pop(c, saved);
		pc_push(c, "spec");
		if (ret)
			goto out;
	}
	v = yd_map_get(spec, "policyTypes");
	if (v) {
		pc_push(c, "policyTypes");
		ret = policy_types(c, v, p, &types_given);
		if (ret)
			goto out;
	}
	/* Kubernetes defaulting (SetDefaults_NetworkPolicy): Ingress always,
	 * Egress iff spec.egress has at least one rule. `egress: []` alone
	 * does not isolate egress; policyTypes: [Egress] does. */
	if (!types_given) {
		p->types_ingress = true;
		p->types_egress = p->nr_egress > 0;
	}
out:
	pc_pop(c, saved);
	return ret;
}
