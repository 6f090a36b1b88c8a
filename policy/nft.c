// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nftables backend (see nft.h): the element computation, the netlink
 * batch builder (libnftnl) and, apart, the socket that sends it (libmnl).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include "nft.h"

typedef unsigned __int128 u128;

#define PP_MAX		0xffffffu	/* (proto << 16 | port) space */
#define CLASS_ANY	BH_ID_NONE	/* peers without entries of their own */
#define ELEMS_PER_MSG	256		/* keeps each netlink message small */

/* ------------------------------------------------------------- elements */
static u128 a2u(const __u8 a[16])
{
	u128 v = 0;

	for (int i = 0; i < 16; i++)
		v = v << 8 | a[i];
	return v;
}

static void u2a(u128 v, __u8 a[16])
{
	for (int i = 15; i >= 0; i--, v >>= 8)
		a[i] = (__u8)v;
}

static const u128 V4_LO = (u128)0xffff << 32;
static const u128 V4_HI = (u128)0xffff << 32 | 0xffffffffu;

struct u128v {
	size_t nr, cap;
	u128 *v;
};

static int push128(struct u128v *v, u128 x)
{
	if (v->nr == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 64;
		u128 *n = realloc(v->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->v = n;
		v->cap = cap;
	}
	v->v[v->nr++] = x;
	return 0;
}

static int cmp128(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

static void sort_unique(struct u128v *v)
{
	size_t j = 0;

	qsort(v->v, v->nr, sizeof(*v->v), cmp128);
	for (size_t i = 0; i < v->nr; i++)
		if (!j || v->v[i] != v->v[j - 1])
			v->v[j++] = v->v[i];
	v->nr = j;
}

static __u32 key_identity(const struct bh_policy_key *k)
{
	return (__u32)k->identity[0] << 24 | (__u32)k->identity[1] << 16 |
	       (__u32)k->identity[2] << 8 | k->identity[3];
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

struct build {
	const struct bh_compile_output *out;
	const struct bh_compiled_workload *w;
	enum bh_dir dir;
	struct bh_nft_ruleset *rs;
	size_t cap;
	__u32 *ids;		/* identities with entries of their own, sorted */
	size_t nr_ids;
	struct u128v any_pp;	/* cached intervals of CLASS_ANY: starts */
	bool *any_acc;
};

static bool has_entries(const struct build *b, __u32 id)
{
	return bsearch(&id, b->ids, b->nr_ids, sizeof(id), cmp_u32) != NULL;
}

static int push_elem(struct build *b, const struct bh_nft_elem *e)
{
	struct bh_nft_ruleset *rs = b->rs;

	if (rs->nr == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct bh_nft_elem *n = realloc(rs->elems, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		rs->elems = n;
		b->cap = cap;
	}
	rs->elems[rs->nr++] = *e;
	return 0;
}

/* Cut the 24-bit (proto, port) interval [a, z] into protocol x port boxes. */
static int emit_pp(struct build *b, struct bh_nft_elem *e, __u32 a, __u32 z)
{
	int pa = (int)(a >> 16), pz = (int)(z >> 16), err = 0;

	if (pa == pz) {
		e->proto_lo = e->proto_hi = (__u8)pa;
		e->port_lo = a & 0xffff;
		e->port_hi = z & 0xffff;
		return push_elem(b, e);
	}
	if (a & 0xffff) {	/* partial first protocol */
		e->proto_lo = e->proto_hi = (__u8)pa;
		e->port_lo = a & 0xffff;
		e->port_hi = 0xffff;
		err = push_elem(b, e);
		pa++;
	}
	if (!err && (z & 0xffff) != 0xffff) {	/* partial last protocol */
		e->proto_lo = e->proto_hi = (__u8)pz;
		e->port_lo = 0;
		e->port_hi = z & 0xffff;
		err = push_elem(b, e);
		pz--;
	}
	if (!err && pa <= pz) {		/* whole protocols in between */
		e->proto_lo = (__u8)pa;
		e->proto_hi = (__u8)pz;
		e->port_lo = 0;
		e->port_hi = 0xffff;
		err = push_elem(b, e);
	}
	return err;
}

/* Interval starts in (proto, port) space where the verdict for peer class
 * id may change, and the verdict of each interval. */
static int pp_intervals(const struct build *b, __u32 id, struct u128v *starts, bool **acc)
{
	const struct bh_compiled_workload *w = b->w;
	int err = push128(starts, 0);

	for (size_t i = 0; !err && i < w->nr; i++) {
		const struct bh_policy_key *k = &w->entries[i].key;
		__u32 eid = key_identity(k), bits, v, mask, lo, hi;

		if (k->dir != b->dir || k->prefixlen <= 40)
			continue;
		if (eid != BH_ID_ANY && eid != id)
			continue;
		bits = k->prefixlen - 40 > 24 ? 24 : k->prefixlen - 40;
		v = (__u32)k->proto << 16 | k->port[0] << 8 | k->port[1];
		mask = PP_MAX & ~((1u << (24 - bits)) - 1);
		lo = v & mask;
		hi = lo | (~mask & PP_MAX);
		err = push128(starts, lo);
		if (!err && hi < PP_MAX)
			err = push128(starts, hi + 1);
	}
	if (err)
		return err;
	sort_unique(starts);
	*acc = calloc(starts->nr, sizeof(**acc));
	if (!*acc)
		return -ENOMEM;
	for (size_t i = 0; i < starts->nr; i++) {
		struct bh_eval_result r;
		__u32 s = (__u32)starts->v[i];

		bh_eval(w, b->dir, id, s >> 16, s & 0xffff, &r);
		(*acc)[i] = r.verdict == BH_PV_ALLOW;
	}
	return 0;
}

/* Emit the boxes of one address range [lo, hi] of class id. */
static int emit_range(struct build *b, int family, u128 lo, u128 hi, __u32 id)
{
	struct u128v own = { 0 };
	bool *own_acc = NULL;
	struct u128v *st = &b->any_pp;
	bool *acc = b->any_acc;
	struct bh_nft_elem e = { .family = (__u8)family };
	int err = 0;

	if (id != CLASS_ANY) {
		err = pp_intervals(b, id, &own, &own_acc);
		if (err)
			goto out;
		st = &own;
		acc = own_acc;
	}
	if (family == 4) {
		__u8 t[16];

		u2a(lo, t);
		memcpy(e.addr_lo, t + 12, 4);
		u2a(hi, t);
		memcpy(e.addr_hi, t + 12, 4);
	} else {
		u2a(lo, e.addr_lo);
		u2a(hi, e.addr_hi);
	}
	for (size_t i = 0; !err && i < st->nr; i++) {
		size_t j = i;

		/* merge neighbours with the same verdict */
		while (j + 1 < st->nr && acc[j + 1] == acc[i])
			j++;
		if (acc[i] != b->rs->default_accept) {
			e.accept = acc[i];
			err = emit_pp(b, &e, (__u32)st->v[i],
				      j + 1 < st->nr ? (__u32)st->v[j + 1] - 1 : PP_MAX);
		}
		i = j;
	}
out:
	free(own.v);
	free(own_acc);
	return err;
}

/* The address universe [ulo, uhi] of one family: IPv4 is the IPv4-mapped
 * block, IPv6 each side of it (mapped addresses are the IPv4 map's). */
static int build_universe(struct build *b, int family, u128 ulo, u128 uhi)
{
	struct u128v bp = { 0 };
	int err = push128(&bp, ulo);

	for (size_t i = 0; !err && i < b->out->nr_ipcache; i++) {
		const struct bh_ipcache_key *k = &b->out->ipcache[i].key;
		u128 a = a2u(k->addr), mask, lo, hi;
		__u32 plen = k->prefixlen > 128 ? 128 : k->prefixlen;

		mask = plen ? ~(u128)0 << (128 - plen) : 0;
		lo = a & mask;
		hi = lo | ~mask;
		if (hi < ulo || lo > uhi)
			continue;
		if (lo > ulo)
			err = push128(&bp, lo);
		if (!err && hi < uhi)
			err = push128(&bp, hi + 1);
	}
	if (err)
		goto out;
	sort_unique(&bp);
	for (size_t i = 0; !err && i < bp.nr; i++) {
		u128 lo = bp.v[i], hi;
		__u8 a[16];
		__u32 id, cls;

		u2a(lo, a);
		id = bh_eval_identity(b->out, a);
		cls = has_entries(b, id) ? id : CLASS_ANY;
		/* merge following ranges of the same class */
		size_t j = i;

		while (j + 1 < bp.nr) {
			__u32 nid;

			u2a(bp.v[j + 1], a);
			nid = bh_eval_identity(b->out, a);
			if ((has_entries(b, nid) ? nid : CLASS_ANY) != cls)
				break;
			j++;
		}
		hi = j + 1 < bp.nr ? bp.v[j + 1] - 1 : uhi;
		err = emit_range(b, family, lo, hi, cls);
		i = j;
	}
out:
	free(bp.v);
	return err;
}

int bh_nft_ruleset_build(const struct bh_compile_output *out,
			 const struct bh_compiled_workload *w, enum bh_dir dir,
			 enum bh_mode mode, struct bh_nft_ruleset *rs)
{
	struct build b = { .out = out, .w = w, .dir = dir, .rs = rs };
	struct bh_eval_result r;
	int err = 0;

	memset(rs, 0, sizeof(*rs));
	rs->dir = dir;
	rs->default_accept = true;
	if (mode != BH_MODE_ENFORCE)
		return 0;
	bh_eval(w, dir, CLASS_ANY, 0, 0, &r);
	rs->default_accept = !r.isolated;

	b.ids = calloc(w->nr ? w->nr : 1, sizeof(*b.ids));
	if (!b.ids)
		return -ENOMEM;
	for (size_t i = 0; i < w->nr; i++) {
		const struct bh_policy_key *k = &w->entries[i].key;

		if (k->dir == dir && k->prefixlen >= 40 && key_identity(k) != BH_ID_ANY)
			b.ids[b.nr_ids++] = key_identity(k);
	}
	qsort(b.ids, b.nr_ids, sizeof(*b.ids), cmp_u32);
	err = pp_intervals(&b, CLASS_ANY, &b.any_pp, &b.any_acc);
	if (!err)
		err = build_universe(&b, 4, V4_LO, V4_HI);
	if (!err)
		err = build_universe(&b, 6, 0, V4_LO - 1);
	if (!err)
		err = build_universe(&b, 6, V4_HI + 1, ~(u128)0);
	free(b.ids);
	free(b.any_pp.v);
	free(b.any_acc);
	if (err)
		bh_nft_ruleset_free(rs);
	return err;
}

void bh_nft_ruleset_free(struct bh_nft_ruleset *rs)
{
	free(rs->elems);
	rs->elems = NULL;
	rs->nr = 0;
}

/* ------------------------------------------------------------- messages */
#define MSG_ROOM	65536	/* room kept free for the next message */

static int room(struct bh_nft_batch *b)
{
	if (b->cap - b->len >= MSG_ROOM)
		return 0;
	size_t cap = b->cap ? 2 * b->cap : 4 * MSG_ROOM;
	char *n = realloc(b->buf, cap);

	if (!n)
		return -ENOMEM;
	memset(n + b->len, 0, cap - b->len);
	b->buf = n;
	b->cap = cap;
	return 0;
}

static struct nlmsghdr *hdr(struct bh_nft_batch *b, int type, int flags)
{
	if (room(b))
		return NULL;
	b->last_seq = b->seq;
	b->last_off = b->len;
	return nftnl_nlmsg_build_hdr(b->buf + b->len, (uint16_t)type, NFPROTO_INET,
				     (uint16_t)flags, b->seq++);
}

static void done(struct bh_nft_batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int batch_begin(struct bh_nft_batch *b)
{
	int err = room(b);

	if (err)
		return err;
	if (!b->seq)
		b->seq = (uint32_t)time(NULL);
	b->len += NLMSG_ALIGN(nftnl_batch_begin(b->buf + b->len, b->seq++)->nlmsg_len);
	return 0;
}

static int batch_end(struct bh_nft_batch *b)
{
	int err = room(b);

	if (err)
		return err;
	/* the last real message asks for an ack: bh_nft_send waits for it */
	((struct nlmsghdr *)(b->buf + b->last_off))->nlmsg_flags |= NLM_F_ACK;
	b->len += NLMSG_ALIGN(nftnl_batch_end(b->buf + b->len, b->seq++)->nlmsg_len);
	return 0;
}

static int put_table(struct bh_nft_batch *b, const char *name, int type, int flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = hdr(b, type, flags);
	if (!nlh) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nftnl_table_nlmsg_build_payload(nlh, t);
	done(b, nlh);
	nftnl_table_free(t);
	return 0;
}

/* Field layout of the concatenated key: each field starts on 4 bytes. */
struct key_layout {
	int family, addr_len, key_len;
};

static void key_layout(int family, struct key_layout *l)
{
	l->family = family;
	l->addr_len = family == 4 ? 4 : 16;
	l->key_len = l->addr_len + 4 + 4;
}

static const char *set_name(int family)
{
	return family == 4 ? "wl4" : "wl6";
}

/* nft's datatype ids, concatenated as nft does (6 bits per field) */
#define NFT_TYPE_IPADDR		7
#define NFT_TYPE_IP6ADDR	8
#define NFT_TYPE_INET_PROTO	12
#define NFT_TYPE_INET_SERVICE	13

static int put_set(struct bh_nft_batch *b, const char *table, int family)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct key_layout l;
	__u8 fields[4];
	struct nlmsghdr *nlh;
	__u32 kt;

	if (!s)
		return -ENOMEM;
	key_layout(family, &l);
	fields[0] = (__u8)l.addr_len;
	fields[1] = 1;
	fields[2] = 2;
	fields[3] = 0;
	kt = ((family == 4 ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR) << 12) |
	     (NFT_TYPE_INET_PROTO << 6) | NFT_TYPE_INET_SERVICE;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_name(family));
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)family);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, kt);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, (uint32_t)l.key_len);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, 3);
	nlh = hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	if (!nlh) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	nftnl_set_nlmsg_build_payload(nlh, s);
	done(b, nlh);
	nftnl_set_free(s);
	return 0;
}

static void elem_key(const struct key_layout *l, const __u8 *addr, __u8 proto, __u16 port,
		     __u8 *key)
{
	__u16 p = htons(port);

	memset(key, 0, (size_t)l->key_len);
	memcpy(key, addr, (size_t)l->addr_len);
	key[l->addr_len] = proto;
	memcpy(key + l->addr_len + 4, &p, 2);
}

static int put_elems(struct bh_nft_batch *b, const char *table, const struct bh_nft_ruleset *rs,
		     int family)
{
	struct key_layout l;
	size_t i = 0;

	key_layout(family, &l);
	while (i < rs->nr) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nlmsghdr *nlh;
		int n = 0;

		if (!s)
			return -ENOMEM;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, set_name(family));
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)family);
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
			elem_key(&l, e->addr_lo, e->proto_lo, e->port_lo, k);
			elem_key(&l, e->addr_hi, e->proto_hi, e->port_hi, ke);
			nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY, k, (uint32_t)l.key_len);
			nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY_END, ke, (uint32_t)l.key_len);
			nftnl_set_elem_set_u32(se, NFTNL_SET_ELEM_VERDICT,
					       e->accept ? NF_ACCEPT : NF_DROP);
			nftnl_set_elem_add(s, se);
			n++;
		}
		if (n) {
			nlh = hdr(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
			if (!nlh) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			nftnl_set_elems_nlmsg_build_payload(nlh, s);
			done(b, nlh);
		}
		nftnl_set_free(s);
	}
	return 0;
}

static int put_chain(struct bh_nft_batch *b, const char *table, const char *name, bool base)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (base) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = hdr(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	if (!nlh) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	nftnl_chain_nlmsg_build_payload(nlh, c);
	done(b, nlh);
	nftnl_chain_free(c);
	return 0;
}

/* --- expressions: each returns false when out of memory */
static bool ex_meta(struct nftnl_rule *r, __u32 key, __u32 dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool ex_cmp(struct nftnl_rule *r, __u32 sreg, __u32 op, const void *data, __u32 len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool ex_payload(struct nftnl_rule *r, __u32 base, __u32 off, __u32 len, __u32 dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool ex_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
	return true;
}

static bool ex_ct_est(struct nftnl_rule *r)
{
	struct nftnl_expr *ct = nftnl_expr_alloc("ct"), *bw = nftnl_expr_alloc("bitwise");
	__u32 mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	__u32 zero = 0;

	if (!ct || !bw) {
		nftnl_expr_free(ct);
		nftnl_expr_free(bw);
		return false;
	}
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, ct);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, sizeof(mask));
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	nftnl_rule_add_expr(r, bw);
	return ex_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, sizeof(zero));
}

static bool ex_lookup(struct nftnl_rule *r, int family)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set_name(family));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, (uint32_t)family);
	nftnl_rule_add_expr(r, e);
	return true;
}

static struct nftnl_rule *rule_new(const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

static int rule_put(struct bh_nft_batch *b, struct nftnl_rule *r, bool ok)
{
	struct nlmsghdr *nlh = ok ? hdr(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND) : NULL;

	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		done(b, nlh);
	}
	nftnl_rule_free(r);
	return nlh ? 0 : -ENOMEM;
}

/* The lookup rule for one family: ICMP keys on type . code, every other
 * protocol on the destination port (0..65535 boxes cover portless ones). */
static int put_lookup_rule(struct bh_nft_batch *b, const char *table, int family, bool icmp,
			   enum bh_dir dir)
{
	struct nftnl_rule *r = rule_new(table, "wl");
	struct key_layout l;
	__u8 nfproto = family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	__u8 icmp_proto = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	/* the peer: source address of traffic to the workload, else dest */
	__u32 addr_off = family == 4 ? (dir == BH_DIR_INGRESS ? 12 : 16)
				     : (dir == BH_DIR_INGRESS ? 8 : 24);
	__u32 proto_reg, port_reg;
	bool ok;

	if (!r)
		return -ENOMEM;
	key_layout(family, &l);
	proto_reg = NFT_REG32_00 + (__u32)l.addr_len / 4;
	port_reg = proto_reg + 1;
	ok = ex_meta(r, NFT_META_NFPROTO, NFT_REG_1) &&
	     ex_cmp(r, NFT_REG_1, NFT_CMP_EQ, &nfproto, 1) &&
	     ex_meta(r, NFT_META_L4PROTO, NFT_REG_1) &&
	     ex_cmp(r, NFT_REG_1, icmp ? NFT_CMP_EQ : NFT_CMP_NEQ, &icmp_proto, 1) &&
	     ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_off, (__u32)l.addr_len, NFT_REG32_00) &&
	     ex_meta(r, NFT_META_L4PROTO, proto_reg) &&
	     ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, icmp ? 0 : 2, 2, port_reg) &&
	     ex_lookup(r, family);
	return rule_put(b, r, ok);
}

static int put_rules(struct bh_nft_batch *b, const struct bh_nft_ruleset *rs,
		     const struct bh_nft_target *t)
{
	char ifname[IFNAMSIZ] = { 0 };
	struct nftnl_rule *r;
	int err;

	strncpy(ifname, t->ifname, sizeof(ifname) - 1);
	r = rule_new(t->table, "forward");
	if (!r)
		return -ENOMEM;
	err = rule_put(b, r,
		       ex_meta(r, rs->dir == BH_DIR_INGRESS ? NFT_META_OIFNAME : NFT_META_IIFNAME,
			       NFT_REG_1) &&
		       ex_cmp(r, NFT_REG_1, NFT_CMP_EQ, ifname, sizeof(ifname)) &&
		       ex_verdict(r, NFT_JUMP, "wl"));
	if (err)
		return err;
	r = rule_new(t->table, "wl");
	if (!r)
		return -ENOMEM;
	err = rule_put(b, r, ex_ct_est(r) && ex_verdict(r, NF_ACCEPT, NULL));
	for (int f = 4; !err && f <= 6; f += 2) {
		err = put_lookup_rule(b, t->table, f, true, rs->dir);
		if (!err)
			err = put_lookup_rule(b, t->table, f, false, rs->dir);
	}
	if (err || rs->default_accept)
		return err;
	r = rule_new(t->table, "wl");
	if (!r)
		return -ENOMEM;
	return rule_put(b, r, ex_verdict(r, NF_DROP, NULL));
}

int bh_nft_build_install(const struct bh_nft_ruleset *rs, const struct bh_nft_target *t,
			 struct bh_nft_batch *b)
{
	int err;

	if (!t->table || !*t->table || strlen(t->table) > 255 || !t->ifname || !*t->ifname ||
	    strlen(t->ifname) >= IFNAMSIZ)
		return -EINVAL;
	err = batch_begin(b);
	/* create-if-absent, delete, create: an atomic replace in one batch */
	if (!err)
		err = put_table(b, t->table, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (!err)
		err = put_table(b, t->table, NFT_MSG_DELTABLE, 0);
	if (!err)
		err = put_table(b, t->table, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	for (int f = 4; !err && f <= 6; f += 2) {
		err = put_set(b, t->table, f);
		if (!err)
			err = put_elems(b, t->table, rs, f);
	}
	if (!err)
		err = put_chain(b, t->table, "forward", true);
	if (!err)
		err = put_chain(b, t->table, "wl", false);
	if (!err)
		err = put_rules(b, rs, t);
	if (!err)
		err = batch_end(b);
	return err;
}

int bh_nft_build_delete(const char *table, struct bh_nft_batch *b)
{
	int err;

	if (!table || !*table)
		return -EINVAL;
	err = batch_begin(b);
	if (!err)
		err = put_table(b, table, NFT_MSG_DELTABLE, 0);
	if (!err)
		err = batch_end(b);
	return err;
}

void bh_nft_batch_free(struct bh_nft_batch *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* --------------------------------------------------------------- socket */
int bh_nft_send(const struct bh_nft_batch *b)
{
	struct mnl_socket *nl;
	char *rbuf;
	size_t rlen = MNL_SOCKET_BUFFER_SIZE * 4;
	int err = 0, sndbuf = (int)b->len + MNL_SOCKET_BUFFER_SIZE;
	bool acked = false;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	rbuf = malloc(rlen);
	if (!rbuf) {
		mnl_socket_close(nl);
		return -ENOMEM;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	/* a big batch goes in one sendmsg: make room (root may force it) */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (mnl_socket_sendto(nl, b->buf, b->len) < 0) {
		err = -errno;
		goto out;
	}
	/* errors come back for any message; the ack for the last one */
	while (!err && !acked) {
		struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		ssize_t got;
		int n;

		if (poll(&p, 1, 5000) <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		got = mnl_socket_recvfrom(nl, rbuf, rlen);
		if (got < 0) {
			err = -errno;
			break;
		}
		n = (int)got;
		for (struct nlmsghdr *h = (void *)rbuf; mnl_nlmsg_ok(h, n);
		     h = mnl_nlmsg_next(h, &n)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			if (e->error) {
				err = e->error;
				break;
			}
			if (h->nlmsg_seq == b->last_seq)
				acked = true;
		}
	}
out:
	free(rbuf);
	mnl_socket_close(nl);
	return err;
}
