// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Policies + workloads + namespaces -> ipcache entries and one sorted
 * policy map per workload (Kubernetes NetworkPolicy semantics, plus the
 * native deny rules, audit and cluster scope; see docs/policy.md).
 *
 * Work is done once per rule, not once per (rule, workload): each rule's
 * peers become a sorted identity list and its ports a list of prefix
 * blocks; a workload's map is then the cross product of the rules of the
 * policies selecting it. Lookups by namespace and by address go through
 * sorted indexes, so cost follows the size of the output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_int.h"
#include "parse_common.h"

#define NS_NAME_LABEL	"kubernetes.io/metadata.name"

struct c_ns {
	const char *name;
	int src;			/* index in the input, -1 if added */
	int nr_labels;
	struct bh_label *labels;	/* owned, incl. NS_NAME_LABEL */
	int nr_wl;
	int *wl;			/* workloads in this namespace */
};

struct c_cidr {
	struct bh_cidr c;
	__u32 id;
	bool shadowed;			/* same key as a workload IP */
	bool host;			/* inside the `host` class (host_class) */
};

struct c_ip {				/* one workload address */
	struct bh_ip ip;
	int wl;
};

struct c_pw {				/* a peer workload of a rule */
	__u32 id;
	int wl;
};

struct c_rule {
	const struct bh_policy *p;
	const struct bh_rule *r;
	enum bh_dir dir;
	__u32 rule_id;
	__u8 verdict;
	bool any;			/* no peers: BH_ID_ANY */
	size_t nr_ids;
	__u32 *ids;
	int nr_blocks;			/* the numeric ports' */
	struct bh_pblock *blocks;
	bool named;			/* the rule has named ports */
	size_t nr_pw;			/* egress + named: the peer workloads, by id */
	struct c_pw *pw;
};

struct c_sel {				/* policies selecting one workload */
	int nr, cap;
	int *pol;
};

struct cc {
	const struct bh_compile_input *in;
	struct bh_policy_error *err;
	int nr_ns;
	struct c_ns *ns;
	int *wl_ns;			/* workload -> namespace index */
	size_t nr_cidr;
	struct c_cidr *cidr;
	size_t nr_ip;
	struct c_ip *ip;
	size_t nr_rules;
	struct c_rule *rules;
	size_t *pol_rules;		/* policy i's rules: [pol_rules[i], [i+1]) */
	struct c_sel *sel;		/* per workload */
	int nr_local;			/* workloads [0, nr_local) get a map; the rest are peers */
	__u32 next_rule;		/* default rule ids */
	bool host_class;		/* a rule names `host` (build_addresses) */
};

/* -------------------------------------------------------------- helpers */
static int fail(struct cc *c, const struct bh_policy *p, int line, int ret,
		const char *what)
{
	if (ret == -ENOMEM)
		what = "out of memory";
	bh_perr(c->err, p ? p->file : "", line, 0, "", "%s", what);
	return ret < 0 ? ret : -EINVAL;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_ns(const void *a, const void *b)
{
	return strcmp(((const struct c_ns *)a)->name, ((const struct c_ns *)b)->name);
}

static int find_ns(const struct cc *c, const char *name)
{
	int lo = 0, hi = c->nr_ns - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2, r = strcmp(c->ns[mid].name, name);

		if (!r)
			return mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int addr_cmp(const struct bh_ip *a, const struct bh_ip *b)
{
	int r = memcmp(a->addr, b->addr, 16);

	return r ? r : (int)a->family - (int)b->family;
}

static int cmp_cidr(const void *a, const void *b)
{
	const struct c_cidr *x = a, *y = b;
	int r = addr_cmp(&x->c.addr, &y->c.addr);

	return r ? r : x->c.prefixlen - y->c.prefixlen;
}

static int cmp_ip(const void *a, const void *b)
{
	const struct c_ip *x = a, *y = b;
	int r = addr_cmp(&x->ip, &y->ip);

	return r ? r : x->wl - y->wl;
}

/* Last address of a block, for range scans over sorted addresses. */
static void cidr_last(const struct bh_cidr *c, __u8 out[16])
{
	int plen = bh_cidr_plen128(c), i;

	memcpy(out, c->addr.addr, 16);
	for (i = 0; i < 16; i++) {
		int bits = plen - i * 8;

		if (bits <= 0)
			out[i] = 0xff;
		else if (bits < 8)
			out[i] |= (__u8)(0xff >> bits);
	}
}

/* ----------------------------------------------------------- namespaces */
static int build_namespaces(struct cc *c)
{
	const struct bh_compile_input *in = c->in;
	int i, j, n = 0;

	c->ns = calloc((size_t)(in->nr_namespaces + in->nr_workloads) + 1, sizeof(*c->ns));
	c->wl_ns = calloc((size_t)in->nr_workloads + 1, sizeof(*c->wl_ns));
	if (!c->ns || !c->wl_ns)
		return -ENOMEM;
	for (i = 0; i < in->nr_namespaces; i++)
		c->ns[n++] = (struct c_ns){ .name = in->namespaces[i].name, .src = i };
	qsort(c->ns, (size_t)n, sizeof(*c->ns), cmp_ns);
	for (i = 1; i < n; i++)
		if (!strcmp(c->ns[i].name, c->ns[i - 1].name))
			return fail(c, NULL, 0, -EINVAL, "namespace listed twice");
	/* A workload's namespace missing from the list has just its name
	 * label. Stable sort keeps listed namespaces before the added ones
	 * of the same name, which the dedup below then drops. */
	c->nr_ns = n;
	for (i = 0; i < in->nr_workloads; i++)
		if (find_ns(c, in->workloads[i].ns) < 0)
			c->ns[n++] = (struct c_ns){ .name = in->workloads[i].ns, .src = -1 };
	qsort(c->ns, (size_t)n, sizeof(*c->ns), cmp_ns);
	for (i = 1, j = n ? 1 : 0; i < n; i++)
		if (strcmp(c->ns[i].name, c->ns[j - 1].name))
			c->ns[j++] = c->ns[i];
	c->nr_ns = j;

	for (i = 0; i < c->nr_ns; i++) {
		struct c_ns *ns = &c->ns[i];
		const struct bh_compile_namespace *src = ns->src >= 0 ? &in->namespaces[ns->src] : NULL;
		bool has_name = false;

		ns->labels = calloc((size_t)(src ? src->nr_labels : 0) + 1, sizeof(*ns->labels));
		if (!ns->labels)
			return -ENOMEM;
		for (j = 0; src && j < src->nr_labels; j++) {
			ns->labels[ns->nr_labels++] = src->labels[j];
			if (!strcmp(src->labels[j].key, NS_NAME_LABEL))
				has_name = true;
		}
		if (!has_name) {
			struct bh_label *l = &ns->labels[ns->nr_labels++];

			snprintf(l->key, sizeof(l->key), "%s", NS_NAME_LABEL);
			snprintf(l->value, sizeof(l->value), "%s", ns->name);
		}
	}
	for (i = 0; i < in->nr_workloads; i++) {
		c->wl_ns[i] = find_ns(c, in->workloads[i].ns);
		c->ns[c->wl_ns[i]].nr_wl++;
	}
	for (i = 0; i < c->nr_ns; i++) {
		c->ns[i].wl = calloc((size_t)c->ns[i].nr_wl + 1, sizeof(*c->ns[i].wl));
		if (!c->ns[i].wl)
			return -ENOMEM;
		c->ns[i].nr_wl = 0;
	}
	for (i = 0; i < in->nr_workloads; i++) {
		struct c_ns *ns = &c->ns[c->wl_ns[i]];

		ns->wl[ns->nr_wl++] = i;
	}
	return 0;
}

/* ------------------------------------------------------------ addresses */
static int add_cidr(struct c_cidr **v, size_t *nr, size_t *cap, const struct bh_cidr *b)
{
	if (*nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct c_cidr *n = realloc(*v, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		*v = n;
		*cap = ncap;
	}
	(*v)[(*nr)++] = (struct c_cidr){ .c = *b };
	return 0;
}

/*
 * The `host` peer class (native `host: {}`, docs/policy.md): the node's
 * own addresses (in->host_addrs) and the ranges below, which never name
 * a pod. 169.254.169.254, the cloud metadata service, is kept out: it is
 * the one link-local address a pod must not reach by default, so it gets
 * its prefix of its own and only an ipBlock that covers it reaches it.
 * The ranges enter the ipcache only when a rule names the class, as any
 * ipBlock's prefix does, so ipBlock rules keep their meaning: a block
 * that covers a range covers its identity.
 */
static const char *const host_ranges[] = { "127.0.0.0/8", "::1/128", "169.254.0.0/16",
					   "fe80::/10" };
#define METADATA_CIDR	"169.254.169.254/32"

static bool uses_host(const struct bh_compile_input *in)
{
	for (int pi = 0; pi < in->nr_policies; pi++) {
		const struct bh_policy *p = &in->policies[pi];

		for (int d = 0; d < 2; d++) {
			int nr = d ? p->nr_egress : p->nr_ingress;
			const struct bh_rule *rules = d ? p->egress : p->ingress;

			for (int r = 0; r < nr; r++)
				for (int q = 0; q < rules[r].nr_peers; q++)
					if (rules[r].peers[q].host)
						return true;
		}
	}
	return false;
}

/* Whether prefix p is inside the class: inside a range or a node address,
 * and not the metadata address. */
static bool in_host_class(const struct bh_compile_input *in, const struct bh_cidr *p)
{
	struct bh_cidr r;
	size_t i;

	if (!bh_cidr_parse(METADATA_CIDR, &r) && bh_cidr_contains(&r, p))
		return false;	/* the metadata address's own prefix */
	for (i = 0; i < sizeof(host_ranges) / sizeof(host_ranges[0]); i++)
		if (!bh_cidr_parse(host_ranges[i], &r) && bh_cidr_contains(&r, p))
			return true;
	for (int k = 0; k < in->nr_host_addrs; k++) {
		struct bh_cidr a = { .addr = in->host_addrs[k],
				     .prefixlen = in->host_addrs[k].family == 4 ? 32 : 128 };

		if (bh_cidr_contains(&a, p))
			return true;
	}
	return false;
}

/* The class's prefixes, into the ipcache's prefix list. */
static int add_host_class(struct cc *c, size_t *cap)
{
	const struct bh_compile_input *in = c->in;
	struct bh_cidr r;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(host_ranges) / sizeof(host_ranges[0]); i++) {
		if (bh_cidr_parse(host_ranges[i], &r))
			return -EINVAL;
		ret = add_cidr(&c->cidr, &c->nr_cidr, cap, &r);
		if (ret)
			return ret;
	}
	if (bh_cidr_parse(METADATA_CIDR, &r))
		return -EINVAL;
	ret = add_cidr(&c->cidr, &c->nr_cidr, cap, &r);
	for (int k = 0; !ret && k < in->nr_host_addrs; k++) {
		if (in->host_addrs[k].family != 4 && in->host_addrs[k].family != 6)
			continue;
		r = (struct bh_cidr){ .addr = in->host_addrs[k],
				      .prefixlen = in->host_addrs[k].family == 4 ? 32 : 128 };
		ret = add_cidr(&c->cidr, &c->nr_cidr, cap, &r);
	}
	return ret;
}

static int build_addresses(struct cc *c)
{
	const struct bh_compile_input *in = c->in;
	size_t cap = 0, i, n;
	int pi, d, r, q, e, w, k, ret;

	for (pi = 0; pi < in->nr_policies; pi++) {
		const struct bh_policy *p = &in->policies[pi];

		for (d = 0; d < 2; d++) {
			int nr = d ? p->nr_egress : p->nr_ingress;
			const struct bh_rule *rules = d ? p->egress : p->ingress;

			for (r = 0; r < nr; r++)
				for (q = 0; q < rules[r].nr_peers; q++) {
					const struct bh_peer *peer = &rules[r].peers[q];

					if (!peer->has_cidr)
						continue;
					ret = add_cidr(&c->cidr, &c->nr_cidr, &cap, &peer->cidr);
					for (e = 0; !ret && e < peer->nr_except; e++)
						ret = add_cidr(&c->cidr, &c->nr_cidr, &cap,
							       &peer->except[e]);
					if (ret)
						return ret;
				}
		}
	}
	if (in->forensics.enabled) {
		ret = add_cidr(&c->cidr, &c->nr_cidr, &cap, &in->forensics.cidr);
		if (ret)
			return ret;
	}
	if (uses_host(in)) {
		ret = add_host_class(c, &cap);
		if (ret)
			return ret;
		c->host_class = true;
	}
	if (c->nr_cidr) {
		qsort(c->cidr, c->nr_cidr, sizeof(*c->cidr), cmp_cidr);
		for (i = 1, n = 1; i < c->nr_cidr; i++)
			if (cmp_cidr(&c->cidr[i], &c->cidr[n - 1]))
				c->cidr[n++] = c->cidr[i];
		c->nr_cidr = n;
	}
	for (i = 0; c->host_class && i < c->nr_cidr; i++)
		c->cidr[i].host = in_host_class(in, &c->cidr[i].c);

	for (w = 0, n = 0; w < in->nr_workloads; w++)
		n += (size_t)in->workloads[w].nr_ips;
	c->ip = calloc(n + 1, sizeof(*c->ip));
	if (!c->ip)
		return -ENOMEM;
	for (w = 0; w < in->nr_workloads; w++)
		for (k = 0; k < in->workloads[w].nr_ips; k++)
			c->ip[c->nr_ip++] = (struct c_ip){ .ip = in->workloads[w].ips[k], .wl = w };
	qsort(c->ip, c->nr_ip, sizeof(*c->ip), cmp_ip);
	/* An address a workload of this node holds is never a peer's (the
	 * API may still list a pod whose address was reused): the peer's
	 * entry goes. Workloads sort before peers within an address, so the
	 * group's first entry is the one kept. */
	for (i = 0, n = 0; i < c->nr_ip; i++) {
		size_t first = n;

		while (first > 0 && !addr_cmp(&c->ip[first - 1].ip, &c->ip[i].ip))
			first--;
		if (first < n && c->ip[first].wl != c->ip[i].wl &&
		    (c->ip[i].wl >= c->nr_local))
			continue;
		c->ip[n++] = c->ip[i];
	}
	c->nr_ip = n;
	for (i = 1; i < c->nr_ip; i++) {
		if (!addr_cmp(&c->ip[i].ip, &c->ip[i - 1].ip) && c->ip[i].wl != c->ip[i - 1].wl) {
			char buf[64];

			bh_perr(c->err, "", 0, 0, "", "address %s belongs to both %s/%s and %s/%s",
				bh_ip_fmt(&c->ip[i].ip, buf, sizeof(buf)),
				in->workloads[c->ip[i - 1].wl].ns, in->workloads[c->ip[i - 1].wl].name,
				in->workloads[c->ip[i].wl].ns, in->workloads[c->ip[i].wl].name);
			return -EINVAL;
		}
	}

	/* Stable identities, asked for in sorted order. A host-length block
	 * equal to a workload IP is shadowed by the workload's own entry. */
	for (i = 0; i < c->nr_cidr; i++) {
		struct c_cidr *cd = &c->cidr[i];
		struct c_ip key = { .ip = cd->c.addr, .wl = -1 };
		size_t lo = 0, hi = c->nr_ip;

		if (bh_cidr_plen128(&cd->c) == 128) {
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;

				if (cmp_ip(&c->ip[mid], &key) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < c->nr_ip && !addr_cmp(&c->ip[lo].ip, &cd->c.addr))
				cd->shadowed = true;
		}
		ret = 0;
		if (in->ids.cidr_identity)
			ret = in->ids.cidr_identity(in->ids.arg, &cd->c, &cd->id);
		else
			cd->id = BH_ID_CIDR_BASE + (__u32)i;
		if (ret)
			return fail(c, NULL, 0, ret, "cannot allocate a CIDR identity");
	}
	return 0;
}

/* First index in a sorted array of elements whose address is >= a. */
#define LOWER_BOUND(arr, nr, field, a) ({				\
	size_t lo_ = 0, hi_ = (nr);					\
	while (lo_ < hi_) {						\
		size_t mid_ = (lo_ + hi_) / 2;				\
		if (memcmp((arr)[mid_].field.addr, (a), 16) < 0)	\
			lo_ = mid_ + 1;					\
		else							\
			hi_ = mid_;					\
	}								\
	lo_; })

static bool excepted(const struct bh_peer *peer, const struct bh_cidr *p)
{
	int e;

	for (e = 0; e < peer->nr_except; e++)
		if (bh_cidr_contains(&peer->except[e], p))
			return true;
	return false;
}

/* ---------------------------------------------------------------- rules */
struct idvec {
	size_t nr, cap;
	__u32 *v;
	/* with_pw: also every workload matched (a named port resolves
	 * against each peer workload's own ports) */
	bool with_pw;
	size_t nr_pw, cap_pw;
	struct c_pw *pw;
};

static int id_push(struct idvec *v, __u32 id)
{
	if (v->nr == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		__u32 *n = realloc(v->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->v = n;
		v->cap = cap;
	}
	v->v[v->nr++] = id;
	return 0;
}

static int wl_push(struct idvec *v, __u32 id, int wl)
{
	if (!v->with_pw)
		return 0;
	if (v->nr_pw == v->cap_pw) {
		size_t cap = v->cap_pw ? v->cap_pw * 2 : 16;
		struct c_pw *n = realloc(v->pw, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->pw = n;
		v->cap_pw = cap;
	}
	v->pw[v->nr_pw++] = (struct c_pw){ .id = id, .wl = wl };
	return 0;
}

static int cmp_pw(const void *a, const void *b)
{
	const struct c_pw *x = a, *y = b;

	return x->id != y->id ? (x->id < y->id ? -1 : 1) : x->wl - y->wl;
}

/* An ipBlock matches every CIDR identity P inside it and not inside an
 * except (the LPM hands out P only for addresses no longer prefix
 * claims, so "P inside the block" is exactly "the address is"), and
 * every workload with an address in the block but not in an except. */
static int peer_cidr_ids(struct cc *c, const struct bh_peer *peer, struct idvec *ids)
{
	__u8 last[16];
	size_t i;
	int ret;

	cidr_last(&peer->cidr, last);
	for (i = LOWER_BOUND(c->cidr, c->nr_cidr, c.addr, peer->cidr.addr.addr);
	     i < c->nr_cidr && memcmp(c->cidr[i].c.addr.addr, last, 16) <= 0; i++) {
		const struct c_cidr *cd = &c->cidr[i];

		if (cd->shadowed || !bh_cidr_contains(&peer->cidr, &cd->c) ||
		    excepted(peer, &cd->c))
			continue;
		ret = id_push(ids, cd->id);
		if (ret)
			return ret;
	}
	for (i = LOWER_BOUND(c->ip, c->nr_ip, ip, peer->cidr.addr.addr);
	     i < c->nr_ip && memcmp(c->ip[i].ip.addr, last, 16) <= 0; i++) {
		const struct c_ip *a = &c->ip[i];
		struct bh_cidr host = { .addr = a->ip, .prefixlen = a->ip.family == 4 ? 32 : 128 };

		if (!bh_cidr_has_ip(&peer->cidr, &a->ip) || excepted(peer, &host))
			continue;
		ret = id_push(ids, c->in->workloads[a->wl].identity);
		if (!ret)
			ret = wl_push(ids, c->in->workloads[a->wl].identity, a->wl);
		if (ret)
			return ret;
	}
	return 0;
}

/* host: {}: every prefix of the class (build_addresses). */
static int peer_host_ids(struct cc *c, struct idvec *ids)
{
	for (size_t i = 0; i < c->nr_cidr; i++) {
		int ret;

		if (!c->cidr[i].host || c->cidr[i].shadowed)
			continue;
		ret = id_push(ids, c->cidr[i].id);
		if (ret)
			return ret;
	}
	return 0;
}

static int peer_sel_ids(struct cc *c, const struct bh_policy *p, const struct bh_peer *peer,
			struct idvec *ids)
{
	const struct bh_compile_workload *wls = c->in->workloads;
	int n, k, ret, own = -1;

	/* Which namespaces: namespaceSelector if given; otherwise the
	 * policy's own namespace (every namespace for a ClusterPolicy). */
	if (!peer->ns.present && p->kind != BH_POLICY_NATIVE_CLUSTER)
		own = find_ns(c, p->ns);
	for (n = 0; n < c->nr_ns; n++) {
		const struct c_ns *ns = &c->ns[n];

		if (peer->ns.present) {
			if (!bh_selector_match(&peer->ns, ns->nr_labels, ns->labels))
				continue;
		} else if (p->kind != BH_POLICY_NATIVE_CLUSTER && n != own) {
			continue;
		}
		for (k = 0; k < ns->nr_wl; k++) {
			const struct bh_compile_workload *w = &wls[ns->wl[k]];

			if (!bh_selector_match(&peer->pod, w->nr_labels, w->labels))
				continue;
			ret = id_push(ids, w->identity);
			if (!ret)
				ret = wl_push(ids, w->identity, ns->wl[k]);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int compile_rule(struct cc *c, const struct bh_policy *p, enum bh_dir dir, int idx,
			struct c_rule *cr)
{
	const struct bh_rule *r = dir == BH_DIR_EGRESS ? &p->egress[idx] : &p->ingress[idx];
	struct idvec ids = { 0 };
	int q, k, ret;
	size_t i, n;

	cr->p = p;
	cr->r = r;
	cr->dir = dir;
	cr->verdict = r->action == BH_ACTION_DENY ? BH_PV_DENY : BH_PV_ALLOW;
	ret = 0;
	if (c->in->ids.rule_id)
		ret = c->in->ids.rule_id(c->in->ids.arg, p, dir, idx, &cr->rule_id);
	else
		cr->rule_id = ++c->next_rule;
	if (ret)
		return fail(c, p, r->line, ret, "cannot allocate a rule id");

	cr->any = r->nr_peers == 0;
	for (k = 0; k < r->nr_ports; k++)
		cr->named |= r->ports[k].name[0] != '\0';
	ids.with_pw = cr->named && dir == BH_DIR_EGRESS;
	/* egress to any peer: a named port resolves against every pod known */
	for (k = 0; ids.with_pw && cr->any && k < c->in->nr_workloads; k++) {
		ret = wl_push(&ids, c->in->workloads[k].identity, k);
		if (ret) {
			free(ids.pw);
			return fail(c, p, r->line, ret, "out of memory");
		}
	}
	for (q = 0; q < r->nr_peers; q++) {
		ret = r->peers[q].host ? peer_host_ids(c, &ids) :
		      r->peers[q].has_cidr ? peer_cidr_ids(c, &r->peers[q], &ids) :
		      peer_sel_ids(c, p, &r->peers[q], &ids);
		if (ret) {
			free(ids.v);
			free(ids.pw);
			return fail(c, p, r->line, ret, "out of memory");
		}
	}
	if (ids.nr_pw) {
		qsort(ids.pw, ids.nr_pw, sizeof(*ids.pw), cmp_pw);
		for (i = 1, n = 1; i < ids.nr_pw; i++)
			if (cmp_pw(&ids.pw[i], &ids.pw[n - 1]))
				ids.pw[n++] = ids.pw[i];
		ids.nr_pw = n;
	}
	cr->pw = ids.pw;
	cr->nr_pw = ids.nr_pw;
	if (ids.nr) {
		qsort(ids.v, ids.nr, sizeof(*ids.v), cmp_u32);
		for (i = 1, n = 1; i < ids.nr; i++)
			if (ids.v[i] != ids.v[n - 1])
				ids.v[n++] = ids.v[i];
		ids.nr = n;
	}
	cr->ids = ids.v;
	cr->nr_ids = ids.nr;

	cr->blocks = calloc((size_t)(r->nr_ports ? r->nr_ports : 1) * BH_PBLOCKS_MAX,
			    sizeof(*cr->blocks));
	if (!cr->blocks)
		return fail(c, p, r->line, -ENOMEM, "");
	if (!r->nr_ports)
		cr->nr_blocks = bh_port_blocks(NULL, cr->blocks);
	for (k = 0; k < r->nr_ports; k++)
		if (!r->ports[k].name[0])
			cr->nr_blocks += bh_port_blocks(&r->ports[k], cr->blocks + cr->nr_blocks);
	return 0;
}

static int build_rules(struct cc *c)
{
	const struct bh_compile_input *in = c->in;
	size_t total = 0;
	int pi, d, r, ret;

	for (pi = 0; pi < in->nr_policies; pi++)
		total += (size_t)in->policies[pi].nr_ingress + (size_t)in->policies[pi].nr_egress;
	c->rules = calloc(total + 1, sizeof(*c->rules));
	c->pol_rules = calloc((size_t)in->nr_policies + 1, sizeof(*c->pol_rules));
	if (!c->rules || !c->pol_rules)
		return -ENOMEM;
	for (pi = 0; pi < in->nr_policies; pi++) {
		const struct bh_policy *p = &in->policies[pi];

		c->pol_rules[pi] = c->nr_rules;
		for (d = 0; d < 2; d++) {
			bool types = d ? p->types_egress : p->types_ingress;
			int nr = d ? p->nr_egress : p->nr_ingress;

			/* A NetworkPolicy's rules count only for its
			 * policyTypes; native deny rules count without
			 * isolating. */
			if (p->kind == BH_POLICY_K8S && !types)
				continue;
			for (r = 0; r < nr; r++) {
				ret = compile_rule(c, p, d ? BH_DIR_EGRESS : BH_DIR_INGRESS, r,
						   &c->rules[c->nr_rules]);
				c->nr_rules++;
				if (ret)
					return ret;
			}
		}
	}
	c->pol_rules[in->nr_policies] = c->nr_rules;
	return 0;
}

/* ------------------------------------------------------------ selection */
static int sel_add(struct c_sel *s, int pi)
{
	if (s->nr == s->cap) {
		int cap = s->cap ? s->cap * 2 : 8;
		int *n = realloc(s->pol, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->pol = n;
		s->cap = cap;
	}
	s->pol[s->nr++] = pi;
	return 0;
}

static int build_selection(struct cc *c)
{
	const struct bh_compile_input *in = c->in;
	int pi, n, k, ret;

	c->sel = calloc((size_t)in->nr_workloads + 1, sizeof(*c->sel));
	if (!c->sel)
		return -ENOMEM;
	for (pi = 0; pi < in->nr_policies; pi++) {
		const struct bh_policy *p = &in->policies[pi];
		bool cluster = p->kind == BH_POLICY_NATIVE_CLUSTER;
		int own = cluster ? -1 : find_ns(c, p->ns);

		for (n = 0; n < c->nr_ns; n++) {
			const struct c_ns *ns = &c->ns[n];

			if (!cluster && n != own)
				continue;
			if (cluster && !bh_selector_match(&p->ns_selector, ns->nr_labels,
							  ns->labels))
				continue;
			for (k = 0; k < ns->nr_wl; k++) {
				const struct bh_compile_workload *w = &in->workloads[ns->wl[k]];

				if (ns->wl[k] >= c->nr_local)
					continue;	/* a peer: no map here */
				if (!bh_selector_match(&p->selector, w->nr_labels, w->labels))
					continue;
				ret = sel_add(&c->sel[ns->wl[k]], pi);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------- entries */
/* Push (dir, id, proto, port) for each of w's ports that a named rule
 * port names (same name; same protocol, or the rule says any). */
static int push_named(struct bh_ce_vec *v, const struct c_rule *cr, __u32 id,
		      const struct bh_compile_workload *w)
{
	int k, j, ret;

	for (k = 0; k < cr->r->nr_ports; k++) {
		const struct bh_port *rp = &cr->r->ports[k];

		if (!rp->name[0])
			continue;
		for (j = 0; j < w->nr_named_ports; j++) {
			const struct bh_named_port *np = &w->named_ports[j];

			if (strcmp(np->name, rp->name) || (rp->proto && rp->proto != np->proto))
				continue;
			ret = bh_ce_push(v, &(struct bh_ce){
				.k = bh_key64((__u8)cr->dir, id, np->proto, np->port),
				.plen = 64, .verdict = cr->verdict, .rule = cr->rule_id });
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* A rule's named ports: on ingress the selected workload's own ports,
 * for every peer of the rule; on egress each peer workload's ports, for
 * that peer's identity (peers of one identity share their ports: the
 * store gives one identity per namespace, labels and ports). */
static int rule_named(struct cc *c, int wi, const struct c_rule *cr, struct bh_ce_vec *v)
{
	size_t k, nr_ids = cr->any ? 1 : cr->nr_ids;
	int ret;

	if (cr->dir == BH_DIR_INGRESS) {
		for (k = 0; k < nr_ids; k++) {
			ret = push_named(v, cr, cr->any ? BH_ID_ANY : cr->ids[k],
					 &c->in->workloads[wi]);
			if (ret)
				return ret;
		}
		return 0;
	}
	for (k = 0; k < cr->nr_pw; k++) {
		ret = push_named(v, cr, cr->pw[k].id, &c->in->workloads[cr->pw[k].wl]);
		if (ret)
			return ret;
	}
	return 0;
}

/* unknown_pod: deny. Closed both ways, DNS to the cluster DNS pods open. */
static int variant_pending(struct cc *c, struct bh_ce_vec *v)
{
	static const struct bh_label dns_label = { "k8s-app", "kube-dns" };
	static const __u8 protos[] = { 17, 6 };	/* UDP, TCP */
	int n, k, d, ret;
	size_t j;

	for (d = 0; d < 2; d++) {
		ret = bh_ce_push(v, &(struct bh_ce){ .k = bh_key64((__u8)d, 0, 0, 0), .plen = 8,
						     .verdict = BH_PV_DEFAULT_DENY });
		if (ret)
			return ret;
	}
	n = find_ns(c, "kube-system");
	for (k = 0; n >= 0 && k < c->ns[n].nr_wl; k++) {
		const struct bh_compile_workload *w = &c->in->workloads[c->ns[n].wl[k]];
		bool dns = false;
		int l;

		for (l = 0; l < w->nr_labels; l++)
			dns |= !strcmp(w->labels[l].key, dns_label.key) &&
			       !strcmp(w->labels[l].value, dns_label.value);
		for (j = 0; dns && j < sizeof(protos); j++) {
			ret = bh_ce_push(v, &(struct bh_ce){
				.k = bh_key64(BH_DIR_EGRESS, w->identity, protos[j], 53),
				.plen = 64, .verdict = BH_PV_ALLOW });
			if (ret)
				return ret;
		}
	}
	bh_ce_normalize(v);
	return 0;
}

static int variant(struct cc *c, int wi, bool with_audit, struct bh_ce_vec *v)
{
	const struct c_sel *s = &c->sel[wi];
	int i, d, ret;
	size_t r, k;
	int b;

	if (c->in->workloads[wi].pending)
		return variant_pending(c, v);
	for (i = 0; i < s->nr; i++) {
		const struct bh_policy *p = &c->in->policies[s->pol[i]];

		if (p->audit && !with_audit)
			continue;
		for (d = 0; d < 2; d++) {
			if (!(d ? p->types_egress : p->types_ingress))
				continue;
			ret = bh_ce_push(v, &(struct bh_ce){
				.k = bh_key64((__u8)d, 0, 0, 0), .plen = 8,
				.verdict = BH_PV_DEFAULT_DENY });
			if (ret)
				return ret;
		}
		for (r = c->pol_rules[s->pol[i]]; r < c->pol_rules[s->pol[i] + 1]; r++) {
			const struct c_rule *cr = &c->rules[r];
			size_t nr_ids = cr->any ? 1 : cr->nr_ids;

			for (k = 0; k < nr_ids; k++) {
				__u32 id = cr->any ? BH_ID_ANY : cr->ids[k];

				for (b = 0; b < cr->nr_blocks; b++) {
					const struct bh_pblock *pb = &cr->blocks[b];

					ret = bh_ce_push(v, &(struct bh_ce){
						.k = bh_key64((__u8)cr->dir, id, pb->proto, pb->port),
						.plen = pb->plen, .verdict = cr->verdict,
						.rule = cr->rule_id });
					/* a named protocol's allow also under dir +
					 * BH_DIR_NAMED, which the data path asks too
					 * (bulkhead_abi.h, lib/bpf/encap.h) */
					if (!ret && cr->verdict == BH_PV_ALLOW &&
					    bh_proto_is_named(pb->proto))
						ret = bh_ce_push(v, &(struct bh_ce){
							.k = bh_key64((__u8)(cr->dir + BH_DIR_NAMED),
								      id, pb->proto, 0),
							.plen = 48, .verdict = BH_PV_ALLOW,
							.rule = cr->rule_id });
					if (ret)
						return ret;
				}
			}
			if (cr->named) {
				ret = rule_named(c, wi, cr, v);
				if (ret)
					return ret;
			}
		}
	}
	bh_ce_normalize(v);
	return 0;
}

static int compile_workload(struct cc *c, int wi, struct bh_compiled_workload *out)
{
	struct bh_ce_vec e = { 0 }, a = { 0 }, m = { 0 };
	bool audit = false;
	int i, ret;

	out->slot = c->in->workloads[wi].slot;
	for (i = 0; i < c->sel[wi].nr; i++)
		audit |= c->in->policies[c->sel[wi].pol[i]].audit;
	ret = variant(c, wi, false, &e);
	if (!ret && audit)
		ret = variant(c, wi, true, &a);
	if (!ret)
		ret = bh_ce_merge_audit(&e, audit ? &a : &e, &m);
	if (!ret)
		ret = bh_ce_export(&m, out);
	free(e.v);
	free(a.v);
	free(m.v);
	return ret;
}

/* The shared deny-all map: the marker, a quarantine default for both
 * directions and the forensics exception. */
static int compile_quarantine(struct cc *c, struct bh_compiled_workload *out)
{
	const struct bh_forensics *f = &c->in->forensics;
	struct bh_pblock blocks[BH_PBLOCKS_MAX];
	struct idvec ids = { 0 };
	struct bh_peer peer = { 0 };
	struct bh_ce_vec v = { 0 };
	int d, k, b, nb, ret = 0;
	size_t i;

	ret = bh_ce_push(&v, &(struct bh_ce){ .k = bh_key64(BH_DIR_META, 0, 0, 0), .plen = 8,
					      .verdict = BH_PV_QUARANTINE });
	for (d = 0; !ret && d < 2; d++)
		ret = bh_ce_push(&v, &(struct bh_ce){ .k = bh_key64((__u8)d, 0, 0, 0), .plen = 8,
						      .verdict = BH_PV_QUARANTINE });
	if (!ret && f->enabled) {
		peer.has_cidr = true;
		peer.cidr = f->cidr;
		ret = peer_cidr_ids(c, &peer, &ids);
	}
	for (i = 0; !ret && i < ids.nr; i++)
		for (d = 0; !ret && d < 2; d++)
			for (k = 0; !ret && k < (f->nr_ports ? f->nr_ports : 1); k++) {
				nb = bh_port_blocks(f->nr_ports ? &f->ports[k] : NULL, blocks);
				for (b = 0; !ret && b < nb; b++)
					ret = bh_ce_push(&v, &(struct bh_ce){
						.k = bh_key64((__u8)d, ids.v[i], blocks[b].proto,
							      blocks[b].port),
						.plen = blocks[b].plen, .verdict = BH_PV_ALLOW,
						.flags = BH_PF_FORENSICS });
			}
	free(ids.v);
	if (!ret) {
		bh_ce_normalize(&v);
		for (i = 0; i < v.nr; i++) {
			v.v[i].audit_verdict = v.v[i].verdict;
			v.v[i].flags = v.v[i].verdict == BH_PV_ALLOW ? BH_PF_FORENSICS : 0;
		}
		ret = bh_ce_export(&v, out);
	}
	free(v.v);
	return ret;
}

/* -------------------------------------------------------------- ipcache */
static int cmp_ipcache(const void *a, const void *b)
{
	const struct bh_ipcache_entry *x = a, *y = b;
	int r = memcmp(x->key.addr, y->key.addr, 16);

	if (r)
		return r;
	return x->key.prefixlen < y->key.prefixlen ? -1 : x->key.prefixlen > y->key.prefixlen;
}

static int build_ipcache(struct cc *c, struct bh_compile_output *out)
{
	bool v6_covers_v4 = false, v4_all = false;
	size_t i, n = 0;

	out->ipcache = calloc(c->nr_ip + c->nr_cidr + 2, sizeof(*out->ipcache));
	if (!out->ipcache)
		return -ENOMEM;
	for (i = 0; i < c->nr_ip; i++) {
		if (i && !addr_cmp(&c->ip[i].ip, &c->ip[i - 1].ip))
			continue;	/* same workload listed an address twice */
		out->ipcache[n].key.prefixlen = 128;
		memcpy(out->ipcache[n].key.addr, c->ip[i].ip.addr, 16);
		out->ipcache[n++].val.identity = c->in->workloads[c->ip[i].wl].identity;
	}
	for (i = 0; i < c->nr_cidr; i++) {
		const struct c_cidr *cd = &c->cidr[i];
		static const struct bh_cidr mapped = {
			.addr = { .family = 6, .addr = { [10] = 0xff, [11] = 0xff } },
			.prefixlen = 96 };

		if (cd->c.addr.family == 6 && bh_cidr_contains(&cd->c, &mapped))
			v6_covers_v4 = true;
		if (cd->c.addr.family == 4 && cd->c.prefixlen == 0)
			v4_all = true;
		if (cd->shadowed)
			continue;
		out->ipcache[n].key.prefixlen = (__u32)bh_cidr_plen128(&cd->c);
		memcpy(out->ipcache[n].key.addr, cd->c.addr.addr, 16);
		out->ipcache[n++].val.identity = cd->id;
	}
	/* One trie serves both families: an IPv6 block covering
	 * ::ffff:0:0/96 must not capture IPv4 peers. Pin that range to WORLD
	 * unless an IPv4 0.0.0.0/0 block already claims it. */
	if (v6_covers_v4 && !v4_all) {
		out->ipcache[n].key.prefixlen = 96;
		out->ipcache[n].key.addr[10] = 0xff;
		out->ipcache[n].key.addr[11] = 0xff;
		out->ipcache[n++].val.identity = BH_ID_WORLD;
	}
	qsort(out->ipcache, n, sizeof(*out->ipcache), cmp_ipcache);
	out->nr_ipcache = n;
	return 0;
}

/* ---------------------------------------------------------------- entry */
static void cc_free(struct cc *c)
{
	size_t i;
	int n;

	for (n = 0; c->ns && n < c->nr_ns; n++) {
		free(c->ns[n].labels);
		free(c->ns[n].wl);
	}
	for (i = 0; c->rules && i < c->nr_rules; i++) {
		free(c->rules[i].ids);
		free(c->rules[i].blocks);
		free(c->rules[i].pw);
	}
	for (n = 0; c->sel && n < c->in->nr_workloads; n++)
		free(c->sel[n].pol);
	free(c->ns);
	free(c->wl_ns);
	free(c->cidr);
	free(c->ip);
	free(c->rules);
	free(c->pol_rules);
	free(c->sel);
}

void bh_compile_output_free(struct bh_compile_output *out)
{
	int i;

	if (!out)
		return;
	for (i = 0; out->workloads && i < out->nr_workloads; i++)
		free(out->workloads[i].entries);
	free(out->workloads);
	free(out->ipcache);
	free(out->quarantine.entries);
	memset(out, 0, sizeof(*out));
}

int bh_compile(const struct bh_compile_input *in_, struct bh_compile_output *out,
	       struct bh_policy_error *err)
{
	struct bh_policy_error scratch;
	struct bh_compile_input all = *in_;
	struct bh_compile_workload *wl = NULL;
	struct cc c = { .in = &all, .err = err ? err : &scratch, .nr_local = in_->nr_workloads };
	int i, ret;

	memset(out, 0, sizeof(*out));
	/* Peers join the workloads for namespaces, addresses and peer
	 * selection; only the first nr_local are selected and compiled. */
	if (in_->nr_peers > 0) {
		wl = malloc((size_t)(in_->nr_workloads + in_->nr_peers) * sizeof(*wl));
		if (!wl) {
			bh_perr(c.err, "", 0, 0, "", "out of memory");
			return -ENOMEM;
		}
		if (in_->nr_workloads)
			memcpy(wl, in_->workloads, (size_t)in_->nr_workloads * sizeof(*wl));
		memcpy(wl + in_->nr_workloads, in_->peers, (size_t)in_->nr_peers * sizeof(*wl));
		all.workloads = wl;
		all.nr_workloads = in_->nr_workloads + in_->nr_peers;
	}
	ret = build_namespaces(&c);
	if (!ret)
		ret = build_addresses(&c);
	if (!ret)
		ret = build_rules(&c);
	if (!ret)
		ret = build_selection(&c);
	if (!ret)
		ret = build_ipcache(&c, out);
	if (!ret) {
		out->workloads = calloc((size_t)c.nr_local + 1, sizeof(*out->workloads));
		if (!out->workloads)
			ret = -ENOMEM;
		else
			out->nr_workloads = c.nr_local;
	}
	for (i = 0; !ret && i < c.nr_local; i++)
		ret = compile_workload(&c, i, &out->workloads[i]);
	if (!ret)
		ret = compile_quarantine(&c, &out->quarantine);
	if (ret == -ENOMEM)
		bh_perr(c.err, "", 0, 0, "", "out of memory");
	if (ret)
		bh_compile_output_free(out);
	cc_free(&c);
	free(wl);
	return ret;
}
