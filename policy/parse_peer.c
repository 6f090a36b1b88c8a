// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rule peers (from/to): pod and namespace selectors, ipBlock. */
#include <stdio.h>
#include <stdlib.h>

#include "parse_common.h"

static int cidr_field(struct pc_ctx *c, const struct yd_node *n, struct bh_cidr *out)
{
	if (n->type != YD_SCALAR || yd_is_null(n))
		return pc_fail(c, n, "must be a CIDR string, not %s", pc_type_name(n));
	if (bh_cidr_parse(n->str, out))
		return pc_fail(c, n, "\"%s\" is not a valid CIDR (e.g. 10.0.0.0/8 or "
			       "fd00::/64)", n->str);
	return 0;
}

/* One except entry: a CIDR strictly inside the ipBlock cidr (Kubernetes
 * validation). cidr is the cidr field, for the message. */
static int except_entry(struct pc_ctx *c, const struct yd_node *n, const struct yd_node *cidr,
			struct bh_peer *p, struct bh_cidr *e)
{
	char buf[64];
	int ret;

	ret = cidr_field(c, n, e);
	if (ret)
		return ret;
	p->nr_except++;
	if (bh_cidr_contains(&p->cidr, e) && e->prefixlen != p->cidr.prefixlen)
		return 0;
	snprintf(buf, sizeof(buf), "%s", cidr->str);
	return pc_fail(c, n, "%s is not strictly inside the ipBlock cidr %s", n->str, buf);
}

/* except (path already there). */
static int except_list(struct pc_ctx *c, const struct yd_node *ex, const struct yd_node *cidr,
		       struct bh_peer *p)
{
	size_t i;
	int ret;

	ret = pc_seq(c, ex);
	if (ret || ex->type != YD_SEQ || !ex->nr)
		return ret;
	p->except = calloc(ex->nr, sizeof(*p->except));
	if (!p->except)
		return -ENOMEM;
	for (i = 0; i < ex->nr; i++) {
		size_t saved = pc_push_idx(c, (int)i);

		ret = except_entry(c, ex->items[i], cidr, p, &p->except[i]);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	return 0;
}

static int ip_block(struct pc_ctx *c, const struct yd_node *n, struct bh_peer *p)
{
	static const char *const fields[] = { "cidr", "except", NULL };
	const struct yd_node *cidr, *ex;
	size_t saved;
	int ret;

	ret = pc_map(c, n, fields);
	if (ret)
		return ret;
	cidr = yd_map_get(n, "cidr");
	if (!cidr)
		return pc_fail_at(c, n, "cidr", "required field missing");
	saved = pc_push(c, "cidr");
	ret = cidr_field(c, cidr, &p->cidr);
	pc_pop(c, saved);
	if (ret)
		return ret;
	p->has_cidr = true;
	ex = yd_map_get(n, "except");
	if (!ex)
		return 0;
	saved = pc_push(c, "except");
	ret = except_list(c, ex, cidr, p);
	pc_pop(c, saved);
	return ret;
}

/* A peer field, null counting as absent. */
static const struct yd_node *peer_field(const struct yd_node *n, const char *key)
{
	const struct yd_node *v = yd_map_get(n, key);

	return v && !yd_is_null(v) ? v : NULL;
}

/* host: {} (native format only): the node's own addresses, loopback and
 * link-local addresses, not the metadata address (docs/policy.md). */
static int host_peer(struct pc_ctx *c, const struct yd_node *n, const struct yd_node *h,
		     struct bh_peer *p)
{
	if (h->type != YD_MAP || h->nr)
		return pc_fail_at(c, h, "host", "host takes no fields: write host: {}");
	if (n->nr != 1)
		return pc_fail_at(c, h, "host", "host cannot be combined with podSelector, "
				  "namespaceSelector or ipBlock in one peer (use two peers)");
	p->host = true;
	return 0;
}

static int peer(struct pc_ctx *c, const struct yd_node *n, struct bh_peer *p)
{
	static const char *const fields[] = { "podSelector", "namespaceSelector", "ipBlock",
					      NULL };
	static const char *const native_fields[] = { "podSelector", "namespaceSelector",
						     "ipBlock", "host", NULL };
	const struct yd_node *ps, *ns, *ib, *h;
	size_t saved;
	int ret;

	ret = pc_map(c, n, c->native ? native_fields : fields);
	if (ret)
		return ret;
	h = c->native && n->type == YD_MAP ? yd_map_get(n, "host") : NULL;
	if (h)
		return host_peer(c, n, h, p);
	ps = peer_field(n, "podSelector");
	ns = peer_field(n, "namespaceSelector");
	ib = peer_field(n, "ipBlock");
	if (!ps && !ns && !ib)
		return pc_fail(c, n, c->native ? "a peer needs podSelector, namespaceSelector, "
			       "ipBlock or host" : "a peer needs podSelector, namespaceSelector or "
			       "ipBlock");
	if (ib && (ps || ns))
		return pc_fail_at(c, ib, "ipBlock", "ipBlock cannot be combined with "
				  "podSelector or namespaceSelector in one peer (use two peers)");
	ret = pc_selector_in(c, n, "podSelector", &p->pod);
	if (ret)
		return ret;
	ret = pc_selector_in(c, n, "namespaceSelector", &p->ns);
	if (ret || !ib)
		return ret;
	saved = pc_push(c, "ipBlock");
	ret = ip_block(c, ib, p);
	pc_pop(c, saved);
	return ret;
}

int pc_peers(struct pc_ctx *c, const struct yd_node *n, struct bh_rule *r)
{
	size_t i;
	int ret;

	ret = pc_seq(c, n);
	if (ret)
		return ret;
	r->peers_present = true;
	if (n->type != YD_SEQ || !n->nr)
		return 0;
	r->peers = calloc(n->nr, sizeof(*r->peers));
	if (!r->peers)
		return -ENOMEM;
	for (i = 0; i < n->nr; i++) {
		size_t saved = pc_push_idx(c, (int)i);

		r->nr_peers = (int)i + 1;
		ret = peer(c, n->items[i], &r->peers[i]);
		pc_pop(c, saved);
		if (ret)
			return ret;
	}
	return 0;
}
