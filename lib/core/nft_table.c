// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The nftables backend's table (nft_table.h): the batch that makes it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include "nft_arp.h"
#include "nft_expr.h"
#include "nft_objects.h"
#include "nft_table.h"

#define ELEMS_PER_MSG	256		/* keeps each netlink message small */
#define NAME_LEN	32

/* nft's datatype ids (for `nft list`; the kernel ignores them),
 * concatenated as nft does (6 bits per field) */
#define NFT_TYPE_INET_PROTO	12
#define NFT_TYPE_INET_SERVICE	13

#define ND_FIRST	133		/* router solicitation */
#define ND_LAST		137		/* redirect */

/* ------------------------------------------------------------ policy maps */
/* The concatenated key addr . proto . port: each field on 4 bytes. */
static int key_len(int family)
{
	return bh_nft_addr_len(family) + 4 + 4;
}

static int put_policy_map(struct bh_nft_tctx *c, const char *name, int family, uint32_t id)
{
	struct nftnl_set *s = bh_nft_set_new(c, name, id);
	__u8 fields[3] = { (__u8)bh_nft_addr_len(family), 1, 2 };
	__u32 kt = ((family == 4 ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR) << 12) |
		   (NFT_TYPE_INET_PROTO << 6) | NFT_TYPE_INET_SERVICE;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, kt);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, (uint32_t)key_len(family));
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
	return bh_nft_set_put(c, s, NFT_MSG_NEWSET);
}

static void elem_key(int family, const __u8 *addr, __u8 proto, __u16 port, __u8 *key)
{
	__u16 p = htons(port);

	memset(key, 0, (size_t)key_len(family));
	memcpy(key, addr, (size_t)bh_nft_addr_len(family));
	key[bh_nft_addr_len(family)] = proto;
	memcpy(key + bh_nft_addr_len(family) + 4, &p, 2);
}

/* The element's verdict: a workload's box goes to the chain of its
 * outcome (nft_rulechain.h); the quarantine's exception goes to the
 * forensics chain and the rest of it drops. */
static void elem_verdict(struct nftnl_set_elem *se, const struct bh_nft_ruleset *rs,
			 const struct bh_nft_elem *e, bool quarantine)
{
	struct bh_nft_rulechain rc = { e->out.rule_id, e->out.verdict, e->out.reason, rs->dir };
	char chain[BH_NFT_RULECHAIN_NAME];

	if (quarantine && !e->accept) {
		nftnl_set_elem_set_u32(se, NFTNL_SET_ELEM_VERDICT, (uint32_t)NF_DROP);
		return;
	}
	if (quarantine)
		snprintf(chain, sizeof(chain), "forensics");
	else
		bh_nft_rulechain_name(&rc, chain);
	nftnl_set_elem_set_u32(se, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_GOTO);
	nftnl_set_elem_set_str(se, NFTNL_SET_ELEM_CHAIN, chain);
}

/* The boxes of rs for family. */
static int put_policy_elems(struct bh_nft_tctx *c, const char *name, uint32_t id, int family,
			    const struct bh_nft_ruleset *rs, bool quarantine)
{
	size_t i = 0;
	int err = 0;

	while (!err && i < rs->nr) {
		struct nftnl_set *s = bh_nft_set_new(c, name, id);
		int n = 0;

		if (!s)
			return -ENOMEM;
		for (; i < rs->nr && n < ELEMS_PER_MSG; i++) {
			const struct bh_nft_elem *e = &rs->elems[i];
			struct nftnl_set_elem *se;
			__u8 k[24], ke[24];

			if (e->family != family)
				continue;
			se = nftnl_set_elem_alloc();
			if (!se) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			elem_key(family, e->addr_lo, e->proto_lo, e->port_lo, k);
			elem_key(family, e->addr_hi, e->proto_hi, e->port_hi, ke);
			nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY, k, (uint32_t)key_len(family));
			nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY_END, ke, (uint32_t)key_len(family));
			elem_verdict(se, rs, e, quarantine);
			nftnl_set_elem_add(s, se);
			n++;
		}
		if (n)
			err = bh_nft_set_put(c, s, NFT_MSG_NEWSETELEM);
		else
			nftnl_set_free(s);
	}
	return err;
}

/* ----------------------------------------------------- interface maps */
static const char *const IF_MAP[2] = { "to_wl", "from_wl" };	/* by enum bh_dir */
#define IF_MAP_ID(dir)	((uint32_t)(dir) + 1)

static void chain_name(const struct bh_nft_workload *w, enum bh_dir dir, char *buf)
{
	snprintf(buf, NAME_LEN, "w%u_%s", w->slot, dir == BH_DIR_EGRESS ? "out" : "in");
}

static int put_if_map(struct bh_nft_tctx *c, enum bh_dir dir, const struct bh_nft_table *t)
{
	struct nftnl_set *s;
	int err = bh_nft_put_if_map(c, IF_MAP[dir], IF_MAP_ID(dir));

	for (int i = 0; !err && i < t->nr; i += ELEMS_PER_MSG) {
		s = bh_nft_set_new(c, IF_MAP[dir], IF_MAP_ID(dir));
		if (!s)
			return -ENOMEM;
		for (int j = i; j < t->nr && j < i + ELEMS_PER_MSG; j++) {
			struct nftnl_set_elem *se = nftnl_set_elem_alloc();
			char ifname[IFNAMSIZ] = { 0 }, chain[NAME_LEN];

			if (!se) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			strncpy(ifname, t->w[j].ifname, sizeof(ifname) - 1);
			chain_name(&t->w[j], dir, chain);
			nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY, ifname, sizeof(ifname));
			nftnl_set_elem_set_u32(se, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
			nftnl_set_elem_set_str(se, NFTNL_SET_ELEM_CHAIN, chain);
			nftnl_set_elem_add(s, se);
		}
		err = bh_nft_set_put(c, s, NFT_MSG_NEWSETELEM);
	}
	return err;
}

/* A base chain's one rule: iifname/oifname vmap @from_wl/@to_wl. */
static int put_if_rule(struct bh_nft_tctx *c, const char *chain, enum bh_dir dir)
{
	struct nftnl_rule *r = bh_nft_rule_new(NFPROTO_INET, c->table, chain);

	if (!r)
		return -ENOMEM;
	return bh_nft_batch_rule(c->b, r,
				 bh_nft_ex_meta(r, dir == BH_DIR_EGRESS ? NFT_META_IIFNAME
									 : NFT_META_OIFNAME,
						NFT_REG_1) &&
				 bh_nft_ex_lookup(r, NFT_REG_1, IF_MAP[dir], IF_MAP_ID(dir), true,
						  false));
}

/* A rule that logs and then gives verdict (NFT_RETURN: logs, then the
 * chain returns). */
static int put_logged(struct bh_nft_tctx *c, const char *chain, enum bh_dir dir,
		      enum bh_verdict verdict, enum bh_reason reason, int nf_verdict)
{
	struct nftnl_rule *r = bh_nft_rule_new(NFPROTO_INET, c->table, chain);

	if (!r)
		return -ENOMEM;
	return bh_nft_batch_rule(c->b, r, bh_nft_ex_flow_log(c, r, dir, verdict, reason, 0) &&
				 bh_nft_ex_verdict(r, nf_verdict, NULL));
}

/* ---------------------------------------------------------- rule chains */
struct rulechains {
	size_t nr;
	struct bh_nft_rulechain *v;
};

/* Every (rule, verdict, reason, direction) some box of some workload
 * names, sorted and unique. */
static int collect_rulechains(const struct bh_nft_table *t, struct rulechains *out)
{
	size_t n = 0, j = 0;

	for (int i = 0; i < t->nr; i++)
		for (int d = 0; d < 2; d++)
			n += t->w[i].rs[d] ? t->w[i].rs[d]->nr : 0;
	out->nr = 0;
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (int i = 0; i < t->nr; i++)
		for (int d = 0; d < 2; d++) {
			const struct bh_nft_ruleset *rs = t->w[i].rs[d];

			for (size_t k = 0; rs && k < rs->nr; k++) {
				const struct bh_nft_outcome *o = &rs->elems[k].out;

				out->v[out->nr++] = (struct bh_nft_rulechain){
					o->rule_id, o->verdict, o->reason, rs->dir
				};
			}
		}
	qsort(out->v, out->nr, sizeof(*out->v), bh_nft_rulechain_cmp);
	for (size_t i = 0; i < out->nr; i++)
		if (!j || bh_nft_rulechain_cmp(&out->v[i], &out->v[j - 1]))
			out->v[j++] = out->v[i];
	out->nr = j;
	return 0;
}

/* counter (from the replaced table's count), log, and drop for a deny:
 * any other chain ends and so returns to the base chain. */
static int put_rulechain_rule(struct bh_nft_tctx *c, const struct bh_nft_rulechain *rc)
{
	const struct bh_nft_counter *seed = NULL;
	char name[BH_NFT_RULECHAIN_NAME];
	struct nftnl_rule *r;

	if (c->t->nr_seed)
		seed = bsearch(rc, c->t->seed, c->t->nr_seed, sizeof(*c->t->seed),
			       bh_nft_rulechain_cmp);
	bh_nft_rulechain_name(rc, name);
	r = bh_nft_rule_new(NFPROTO_INET, c->table, name);
	if (!r)
		return -ENOMEM;
	return bh_nft_batch_rule(c->b, r,
				 bh_nft_ex_counter(r, seed ? seed->packets : 0,
						   seed ? seed->bytes : 0) &&
				 bh_nft_ex_flow_log(c, r, rc->dir, rc->verdict, rc->reason,
						    rc->rule_id) &&
				 (rc->verdict != BH_V_DENY || bh_nft_ex_verdict(r, NF_DROP, NULL)));
}

/* ------------------------------------------------------ workload chains */
static bool match_family(struct nftnl_rule *r, int family)
{
	__u8 nfproto = family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;

	return bh_nft_ex_meta(r, NFT_META_NFPROTO, NFT_REG_1) &&
	       bh_nft_ex_cmp(r, NFT_REG_1, NFT_CMP_EQ, &nfproto, 1);
}

/* Neighbour discovery passes every chain, as on the data path. */
static int put_nd_rule(struct bh_nft_tctx *c, const char *chain)
{
	struct nftnl_rule *r = bh_nft_rule_new(NFPROTO_INET, c->table, chain);
	__u8 icmp6 = IPPROTO_ICMPV6, lo = ND_FIRST, hi = ND_LAST;

	if (!r)
		return -ENOMEM;
	return bh_nft_batch_rule(c->b, r,
				 match_family(r, 6) &&
				 bh_nft_ex_meta(r, NFT_META_L4PROTO, NFT_REG_1) &&
				 bh_nft_ex_cmp(r, NFT_REG_1, NFT_CMP_EQ, &icmp6, 1) &&
				 bh_nft_ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1,
						   NFT_REG_1) &&
				 bh_nft_ex_cmp(r, NFT_REG_1, NFT_CMP_GTE, &lo, 1) &&
				 bh_nft_ex_cmp(r, NFT_REG_1, NFT_CMP_LTE, &hi, 1) &&
				 bh_nft_ex_verdict(r, NFT_RETURN, NULL));
}

/* A source address that is not the workload's own drops. */
static int put_spoof_rule(struct bh_nft_tctx *c, const char *chain, int family, const char *set,
			  uint32_t id)
{
	struct nftnl_rule *r = bh_nft_rule_new(NFPROTO_INET, c->table, chain);

	if (!r)
		return -ENOMEM;
	return bh_nft_batch_rule(c->b, r,
				 match_family(r, family) &&
				 bh_nft_ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
						   family == 4 ? 12 : 8, (uint32_t)bh_nft_addr_len(family),
						   NFT_REG_1) &&
				 bh_nft_ex_lookup(r, NFT_REG_1, set, id, false, true) &&
				 bh_nft_ex_flow_log(c, r, BH_DIR_EGRESS, BH_V_SPOOF, BH_R_SPOOF_IP, 0) &&
				 bh_nft_ex_verdict(r, NF_DROP, NULL));
}

/* The lookup for one family in the policy map: ICMP keys on type . code,
 * every other protocol on the destination port (0..65535 boxes cover
 * portless ones). */
static int put_lookup_rule(struct bh_nft_tctx *c, const char *chain, int family, bool icmp,
			   enum bh_dir dir, const char *set, uint32_t id)
{
	struct nftnl_rule *r = bh_nft_rule_new(NFPROTO_INET, c->table, chain);
	__u8 icmp_proto = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	/* the peer: source address of traffic to the workload, else dest */
	__u32 addr_off = family == 4 ? (dir == BH_DIR_INGRESS ? 12 : 16)
				     : (dir == BH_DIR_INGRESS ? 8 : 24);
	__u32 proto_reg = NFT_REG32_00 + (__u32)bh_nft_addr_len(family) / 4, port_reg = proto_reg + 1;

	if (!r)
		return -ENOMEM;
	return bh_nft_batch_rule(c->b, r,
				 match_family(r, family) &&
				 bh_nft_ex_meta(r, NFT_META_L4PROTO, NFT_REG_1) &&
				 bh_nft_ex_cmp(r, NFT_REG_1, icmp ? NFT_CMP_EQ : NFT_CMP_NEQ,
					       &icmp_proto, 1) &&
				 bh_nft_ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_off,
						   (__u32)bh_nft_addr_len(family), NFT_REG32_00) &&
				 bh_nft_ex_meta(r, NFT_META_L4PROTO, proto_reg) &&
				 bh_nft_ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, icmp ? 0 : 2, 2,
						   port_reg) &&
				 bh_nft_ex_lookup(r, NFT_REG32_00, set, id, true, false));
}

static int put_lookups(struct bh_nft_tctx *c, const char *chain, enum bh_dir dir, const char *prefix,
		       uint32_t id4)
{
	char set[NAME_LEN];
	int err = 0;

	for (int f = 4; !err && f <= 6; f += 2) {
		snprintf(set, sizeof(set), "%s%d", prefix, f);
		err = put_lookup_rule(c, chain, f, true, dir, set, f == 4 ? id4 : id4 + 1);
		if (!err)
			err = put_lookup_rule(c, chain, f, false, dir, set, f == 4 ? id4 : id4 + 1);
	}
	return err;
}

static int put_ct_rule(struct bh_nft_tctx *c, const char *chain, bool forensics)
{
	struct nftnl_rule *r = bh_nft_rule_new(NFPROTO_INET, c->table, chain);
	__u32 est = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);

	if (!r)
		return -ENOMEM;
	return bh_nft_batch_rule(c->b, r,
				 (forensics ? bh_nft_ex_ct_mark_any(r, BH_NFT_CT_FORENSICS)
					    : bh_nft_ex_ct_state_any(r, est)) &&
				 bh_nft_ex_verdict(r, NFT_RETURN, NULL));
}

/* Set ids: the interface maps 1-2, the quarantine maps 3-6, then four per
 * workload for its policy maps and two for its addresses. */
#define Q_ID(dir)		(3 + 2 * (uint32_t)(dir))
#define W_ID(i, dir)		(7 + 6 * (uint32_t)(i) + 2 * (uint32_t)(dir))
#define W_ADDR_ID(i)		(7 + 6 * (uint32_t)(i) + 4)

static const char *dir_tag(enum bh_dir dir)
{
	return dir == BH_DIR_EGRESS ? "e" : "i";
}

static int put_workload_chain(struct bh_nft_tctx *c, const struct bh_nft_table *t, int i,
			      enum bh_dir dir)
{
	const struct bh_nft_workload *w = &t->w[i];
	const struct bh_nft_ruleset *rs = w->rs[dir];
	char chain[NAME_LEN], set[NAME_LEN];
	int err;

	chain_name(w, dir, chain);
	err = put_nd_rule(c, chain);
	for (int f = 4; !err && dir == BH_DIR_EGRESS && f <= 6; f += 2) {
		snprintf(set, sizeof(set), "w%u_a%d", w->slot, f);
		err = put_spoof_rule(c, chain, f, set, W_ADDR_ID(i) + (f == 6));
	}
	if (err)
		return err;
	if (w->quarantined) {
		char prefix[NAME_LEN];

		snprintf(prefix, sizeof(prefix), "q_%s", dir_tag(dir));
		err = put_ct_rule(c, chain, true);
		if (!err)
			err = put_lookups(c, chain, dir, prefix, Q_ID(dir));
		return err ? err : put_logged(c, chain, dir, BH_V_QUARANTINE, BH_R_QUARANTINE,
					      NF_DROP);
	}
	/* conntrack passes an allowed flow's later packets and its replies:
	 * a flow is judged (and logged) once, as on the data path */
	err = put_ct_rule(c, chain, false);
	if (!err && rs && rs->nr) {
		char prefix[NAME_LEN];

		snprintf(prefix, sizeof(prefix), "w%u_%s", w->slot, dir_tag(dir));
		err = put_lookups(c, chain, dir, prefix, W_ID(i, dir));
	}
	/* what no box decided: the direction's default */
	if (!err && rs)
		err = put_logged(c, chain, dir, rs->dflt.verdict, rs->dflt.reason,
				 rs->default_accept ? NFT_RETURN : NF_DROP);
	else if (!err)
		err = put_logged(c, chain, dir, BH_V_ALLOW, BH_R_NOT_ISOLATED, NFT_RETURN);
	return err;
}

static int put_maps_of(struct bh_nft_tctx *c, const char *prefix, uint32_t id4,
		       const struct bh_nft_ruleset *rs, bool quarantine)
{
	char set[NAME_LEN];
	int err = 0;

	for (int f = 4; !err && f <= 6; f += 2) {
		uint32_t id = f == 4 ? id4 : id4 + 1;

		snprintf(set, sizeof(set), "%s%d", prefix, f);
		err = put_policy_map(c, set, f, id);
		if (!err && rs)
			err = put_policy_elems(c, set, id, f, rs, quarantine);
	}
	return err;
}

static bool name_ok(const char *s, size_t max)
{
	return s && *s && strlen(s) < max;
}

static int put_all(struct bh_nft_tctx *c, const struct bh_nft_table *t, const struct rulechains *rcs)
{
	static const struct { const char *name; int hook; } base[] = {
		{ "forward", NF_INET_FORWARD }, { "input", NF_INET_LOCAL_IN },
		{ "output", NF_INET_LOCAL_OUT },
	};
	char name[NAME_LEN];
	int err = 0;

	/* chains first: map elements and rules name them */
	for (size_t i = 0; !err && i < sizeof(base) / sizeof(base[0]); i++)
		err = bh_nft_put_chain(c, base[i].name, base[i].hook);
	if (!err)
		err = bh_nft_put_chain(c, "forensics", -1);
	for (int i = 0; !err && i < t->nr; i++)
		for (int d = 0; !err && d < 2; d++) {
			chain_name(&t->w[i], (enum bh_dir)d, name);
			err = bh_nft_put_chain(c, name, -1);
		}
	for (size_t i = 0; !err && i < rcs->nr; i++) {
		char rname[BH_NFT_RULECHAIN_NAME];

		bh_nft_rulechain_name(&rcs->v[i], rname);
		err = bh_nft_put_chain(c, rname, -1);
	}
	/* maps and sets */
	for (int d = 0; !err && d < 2; d++) {
		snprintf(name, sizeof(name), "q_%s", dir_tag((enum bh_dir)d));
		err = put_maps_of(c, name, Q_ID(d), t->quarantine[d], true);
		if (!err)
			err = put_if_map(c, (enum bh_dir)d, t);
	}
	for (int i = 0; !err && i < t->nr; i++) {
		const struct bh_nft_workload *w = &t->w[i];

		for (int d = 0; !err && d < 2; d++) {
			snprintf(name, sizeof(name), "w%u_%s", w->slot, dir_tag((enum bh_dir)d));
			err = put_maps_of(c, name, W_ID(i, d), w->rs[d], false);
		}
		for (int f = 4; !err && f <= 6; f += 2) {
			snprintf(name, sizeof(name), "w%u_a%d", w->slot, f);
			err = bh_nft_put_addr_set(c, name, W_ADDR_ID(i) + (f == 6), f, w);
		}
	}
	/* rules */
	if (!err) {
		struct nftnl_rule *r = bh_nft_rule_new(NFPROTO_INET, c->table, "forensics");

		err = r ? bh_nft_batch_rule(c->b, r, bh_nft_ex_ct_mark_or(r, BH_NFT_CT_FORENSICS))
			: -ENOMEM;
	}
	if (!err)
		err = put_if_rule(c, "forward", BH_DIR_EGRESS);
	if (!err)
		err = put_if_rule(c, "forward", BH_DIR_INGRESS);
	if (!err)
		err = put_if_rule(c, "input", BH_DIR_EGRESS);
	if (!err)
		err = put_if_rule(c, "output", BH_DIR_INGRESS);
	for (size_t i = 0; !err && i < rcs->nr; i++)
		err = put_rulechain_rule(c, &rcs->v[i]);
	for (int i = 0; !err && i < t->nr; i++)
		for (int d = 0; !err && d < 2; d++)
			err = put_workload_chain(c, t, i, (enum bh_dir)d);
	return err;
}

int bh_nft_build_table(const struct bh_nft_table *t, struct bh_nft_batch *b)
{
	struct bh_nft_tctx c = { .b = b, .table = t->name, .t = t };
	struct rulechains rcs = { 0 };
	int err;

	if (!name_ok(t->name, NAME_LEN) || t->nr < 0)
		return -EINVAL;
	for (int i = 0; i < t->nr; i++)
		if (!name_ok(t->w[i].ifname, IFNAMSIZ))
			return -EINVAL;
	err = bh_nft_batch_begin(b, NFPROTO_INET);
	/* create-if-absent, delete, create: an atomic replace in one batch */
	if (!err)
		err = bh_nft_put_table(&c, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (!err)
		err = bh_nft_put_table(&c, NFT_MSG_DELTABLE, 0);
	if (!err)
		err = bh_nft_put_table(&c, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (!err)
		err = collect_rulechains(t, &rcs);
	if (!err)
		err = put_all(&c, t, &rcs);
	if (!err)		/* ARP anti-spoofing, in the same batch */
		err = bh_nft_put_arp_table(&c);
	if (!err)
		err = bh_nft_batch_end(b);
	if (err)
		bh_nft_batch_free(b);
	free(rcs.v);
	return err;
}

int bh_nft_build_delete(const char *name, struct bh_nft_batch *b)
{
	struct bh_nft_tctx c = { .b = b, .table = name };
	int err;

	if (!name_ok(name, NAME_LEN))
		return -EINVAL;
	err = bh_nft_batch_begin(b, NFPROTO_INET);
	if (!err)
		err = bh_nft_put_table(&c, NFT_MSG_DELTABLE, 0);
	/* the arp table of the same name (nft_arp.c), made with the inet
	 * one: create-if-absent, then delete */
	b->family = NFPROTO_ARP;
	if (!err)
		err = bh_nft_put_table(&c, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (!err)
		err = bh_nft_put_table(&c, NFT_MSG_DELTABLE, 0);
	b->family = NFPROTO_INET;
	if (!err)
		err = bh_nft_batch_end(b);
	if (err)
		bh_nft_batch_free(b);
	return err;
}
