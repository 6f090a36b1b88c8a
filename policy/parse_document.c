// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The frame both policy formats share: top-level fields, metadata, spec
 * with its workload selector, and the ingress/egress rule lists. The
 * format files (parse_k8s.c, parse_native.c) only hold what differs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "parse_common.h"

/* Field key of map, which must be there and not null (*out, if given). */
static int required(struct pc_ctx *c, const struct yd_node *map, const char *key,
		    const char *missing, const struct yd_node **out)
{
	const struct yd_node *v = yd_map_get(map, key);

	if (!v || yd_is_null(v))
		return pc_fail_at(c, v ? v : map, key, "%s", missing);
	if (out)
		*out = v;
	return 0;
}

/* A Kubernetes object name in field key: a string valid() accepts. */
static int name_field(struct pc_ctx *c, const struct yd_node *v, const char *key, char *out,
		      size_t len, bool (*valid)(const char *), const char *what)
{
	size_t saved = pc_push(c, key);
	int ret;

	ret = pc_str(c, v, out, len);
	if (!ret && !valid(out))
		ret = pc_fail(c, v, "\"%s\" is not a valid %s", out, what);
	pc_pop(c, saved);
	return ret;
}

/* labels or annotations: checked, not kept. */
static int label_field(struct pc_ctx *c, const struct yd_node *n, const char *key,
		       bool annotations)
{
	const struct yd_node *v = yd_map_get(n, key);
	size_t saved;
	int ret;

	if (!v || yd_is_null(v))
		return 0;
	saved = pc_push(c, key);
	ret = pc_label_map(c, v, NULL, NULL, annotations);
	pc_pop(c, saved);
	return ret;
}

int pc_metadata(struct pc_ctx *c, const struct yd_node *n, bool cluster, struct bh_policy *p)
{
	static const char *const fields[] = { "name", "namespace", "labels", "annotations", NULL };
	const struct yd_node *v;
	size_t saved = pc_push(c, "metadata");
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		goto out;
	v = yd_map_get(n, "name");
	if (!v) {
		ret = pc_fail_at(c, n, "name", "required field missing");
		goto out;
	}
	ret = name_field(c, v, "name", p->name, sizeof(p->name), pc_dns_subdomain,
			 "name (lowercase alphanumerics, '-' and '.', at most 253)");
	if (ret)
		goto out;

	v = yd_map_get(n, "namespace");
	if (v && cluster) {
		ret = pc_fail_at(c, v, "namespace",
				 "a ClusterPolicy is cluster-wide and has no namespace "
				 "(use spec.namespaceSelector)");
		goto out;
	}
	if (!cluster && (!v || yd_is_null(v)))
		snprintf(p->ns, sizeof(p->ns), "default");
	else if (v)
		ret = name_field(c, v, "namespace", p->ns, sizeof(p->ns), pc_dns_label,
				 "namespace name (lowercase alphanumerics and '-', at most 63)");
	if (ret)
		goto out;
	ret = label_field(c, n, "labels", false);
	if (ret)
		goto out;
	ret = label_field(c, n, "annotations", true);
out:
	pc_pop(c, saved);
	return ret;
}

/* One rule of spec.ingress or spec.egress. */
static int rule(struct pc_ctx *c, const struct yd_node *n, const struct pc_format *f,
		bool ingress, struct bh_rule *r)
{
	int ret;

	r->action = BH_ACTION_ALLOW;
	r->line = n->line;
	ret = pc_map(c, n, ingress ? f->ingress_fields : f->egress_fields);
	if (ret)
		return ret;
	return f->rule(c, n, ingress, r);
}

/* spec.ingress or spec.egress (absent or null: no rules) into a new array
 * *out; *nr counts the rules started, so a half-read one is freed too. */
static int rules(struct pc_ctx *c, const struct yd_node *spec, const struct pc_format *f,
		 bool ingress, int *nr, struct bh_rule **out)
{
	const char *key = ingress ? "ingress" : "egress";
	const struct yd_node *n = yd_map_get(spec, key);
	size_t saved, i;
	int ret;

	if (!n)
		return 0;
	saved = pc_push(c, key);
	ret = pc_seq(c, n);
	if (ret || n->type != YD_SEQ || !n->nr)
		goto out;
	*out = calloc(n->nr, sizeof(**out));
	if (!*out) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n->nr; i++) {
		size_t item = pc_push_idx(c, (int)i);

		*nr = (int)i + 1;
		ret = rule(c, n->items[i], f, ingress, &(*out)[i]);
		pc_pop(c, item);
		if (ret)
			break;
	}
out:
	pc_pop(c, saved);
	return ret;
}

/* spec, path "spec". */
static int spec_body(struct pc_ctx *c, const struct yd_node *spec, const struct pc_format *f,
		     struct bh_policy *p)
{
	int ret;

	ret = pc_map(c, spec, f->spec_fields);
	if (ret)
		return ret;
	ret = required(c, spec, f->selector_key, f->selector_missing, NULL);
	if (ret)
		return ret;
	ret = pc_selector_in(c, spec, f->selector_key, &p->selector);
	if (!ret && f->before_rules)
		ret = f->before_rules(c, spec, p);
	if (ret)
		return ret;
	ret = rules(c, spec, f, true, &p->nr_ingress, &p->ingress);
	if (ret)
		return ret;
	ret = rules(c, spec, f, false, &p->nr_egress, &p->egress);
	if (!ret && f->after_rules)
		ret = f->after_rules(c, spec, p);
	return ret;
}

int pc_document(struct pc_ctx *c, const struct yd_node *root, const struct pc_format *f,
		struct bh_policy *p)
{
	static const char *const top[] = { "apiVersion", "kind", "metadata", "spec", NULL };
	const struct yd_node *md = NULL, *spec = NULL;
	size_t saved;
	int ret;

	ret = pc_map(c, root, top);
	if (ret)
		return ret;
	ret = required(c, root, "metadata", "required field missing", &md);
	if (ret)
		return ret;
	ret = pc_metadata(c, md, p->kind == BH_POLICY_NATIVE_CLUSTER, p);
	if (ret)
		return ret;
	ret = required(c, root, "spec", "required field missing", &spec);
	if (ret)
		return ret;
	saved = pc_push(c, "spec");
	ret = spec_body(c, spec, f, p);
	pc_pop(c, saved);
	return ret;
}

int pc_rule_field(struct pc_ctx *c, const struct yd_node *rule, const char *key,
		  int (*fn)(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r),
		  struct bh_rule *r)
{
	const struct yd_node *v = yd_map_get(rule, key);
	size_t saved;
	int ret;

	if (!v)
		return 0;
	saved = pc_push(c, key);
	ret = fn(c, v, r);
	pc_pop(c, saved);
	return ret;
}

int pc_rule_traffic(struct pc_ctx *c, const struct yd_node *n, bool ingress, struct bh_rule *r)
{
	int ret;

	ret = pc_rule_field(c, n, ingress ? "from" : "to", pc_peers, r);
	if (ret)
		return ret;
	return pc_rule_field(c, n, "ports", pc_ports, r);
}
