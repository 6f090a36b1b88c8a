// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The nftables backend without root: the verdict-map elements computed
 * from a compiled workload (disjoint boxes, same verdicts as bh_eval), the
 * quarantine's, and the instance table's netlink batch, parsed back with
 * libmnl/libnftnl. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>

#include "nft_ruleset.h"
#include "nft_log.h"
#include "nft_table.h"

#define ID_A	(BH_ID_CIDR_BASE + 0)	/* 10.1.0.0/16 */
#define ID_B	(BH_ID_CIDR_BASE + 1)	/* 10.1.2.0/24, inside A */
#define ID_C	(BH_ID_CIDR_BASE + 2)	/* fd00::/64 */
#define ID_W	(BH_ID_WORKLOAD_BASE)	/* 10.9.0.5, no entries of its own */

struct fixture {
	struct bh_ipcache_entry ipc[4];
	struct bh_policy_entry ent[8];
	struct bh_compile_output out;
	struct bh_compiled_workload w;
};

static void v4(struct bh_ipcache_entry *e, const char *a, int plen, __u32 id)
{
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = 96 + plen;
	e->key.addr[10] = e->key.addr[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, a, e->key.addr + 12), 1);
	e->val.identity = id;
}

static void pent(struct bh_policy_entry *e, int plen, __u8 dir, __u32 id, __u8 proto, __u16 port,
		 __u8 verdict)
{
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = plen;
	e->key.dir = dir;
	e->key.identity[0] = id >> 24;
	e->key.identity[1] = id >> 16;
	e->key.identity[2] = id >> 8;
	e->key.identity[3] = id;
	e->key.proto = proto;
	e->key.port[0] = port >> 8;
	e->key.port[1] = port & 0xff;
	e->val.verdict = e->val.audit_verdict = verdict;
	/* the compiler names no rule behind the default deny or the
	 * quarantine */
	e->val.rule_id = verdict == BH_PV_DEFAULT_DENY || verdict == BH_PV_QUARANTINE ? 0 : 7;
	e->val.audit_rule_id = e->val.rule_id;
}

/* Ingress: isolated; A may reach TCP 80; B anything but TCP 22 (explicit
 * deny); anyone UDP 53; C ICMPv6 echo request (type 128, any code). An
 * egress entry that must not show up. */
static void fixture(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	v4(&f->ipc[0], "10.1.0.0", 16, ID_A);
	v4(&f->ipc[1], "10.1.2.0", 24, ID_B);
	v4(&f->ipc[2], "10.9.0.5", 32, ID_W);
	memset(&f->ipc[3], 0, sizeof(f->ipc[3]));
	f->ipc[3].key.prefixlen = 64;
	f->ipc[3].key.addr[0] = 0xfd;
	f->ipc[3].val.identity = ID_C;
	pent(&f->ent[0], 8, BH_DIR_INGRESS, 0, 0, 0, BH_PV_DEFAULT_DENY);
	pent(&f->ent[1], 64, BH_DIR_INGRESS, ID_A, IPPROTO_TCP, 80, BH_PV_ALLOW);
	pent(&f->ent[2], 40, BH_DIR_INGRESS, ID_B, 0, 0, BH_PV_ALLOW);
	pent(&f->ent[3], 64, BH_DIR_INGRESS, ID_B, IPPROTO_TCP, 22, BH_PV_DENY);
	pent(&f->ent[4], 64, BH_DIR_INGRESS, BH_ID_ANY, IPPROTO_UDP, 53, BH_PV_ALLOW);
	pent(&f->ent[5], 56, BH_DIR_INGRESS, ID_C, IPPROTO_ICMPV6, 128 << 8, BH_PV_ALLOW);
	pent(&f->ent[6], 64, BH_DIR_EGRESS, ID_A, IPPROTO_TCP, 443, BH_PV_ALLOW);
	for (int i = 1; i < 7; i++)	/* a rule of its own each */
		f->ent[i].val.rule_id = f->ent[i].val.audit_rule_id = 10 + (__u32)i;
	f->w.slot = 0;
	f->w.nr = 7;
	f->w.entries = f->ent;
	f->out.nr_ipcache = 4;
	f->out.ipcache = f->ipc;
	f->out.nr_workloads = 1;
	f->out.workloads = &f->w;
}

static __u32 a4(const struct bh_nft_elem *e, bool hi)
{
	__u32 v;

	memcpy(&v, hi ? e->addr_hi : e->addr_lo, 4);
	return ntohl(v);
}

static __u32 ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

/* Is the box containing (addr, proto, port) in the ruleset, and how? */
static int verdict_of(const struct bh_nft_ruleset *rs, __u32 addr, __u8 proto, __u16 port)
{
	int found = -1;

	for (size_t i = 0; i < rs->nr; i++) {
		const struct bh_nft_elem *e = &rs->elems[i];

		if (e->family != 4 || addr < a4(e, false) || addr > a4(e, true) ||
		    proto < e->proto_lo || proto > e->proto_hi || port < e->port_lo ||
		    port > e->port_hi)
			continue;
		assert_int_equal(found, -1);	/* boxes never overlap */
		found = e->accept;
	}
	return found < 0 ? !rs->default_accept ? 0 : 1 : found;
}

/* The outcome of (addr, proto, port): its box's, else the default. */
static struct bh_nft_outcome outcome_of(const struct bh_nft_ruleset *rs, __u32 addr, __u8 proto,
					__u16 port)
{
	for (size_t i = 0; i < rs->nr; i++) {
		const struct bh_nft_elem *e = &rs->elems[i];

		if (e->family == 4 && addr >= a4(e, false) && addr <= a4(e, true) &&
		    proto >= e->proto_lo && proto <= e->proto_hi && port >= e->port_lo &&
		    port <= e->port_hi) {
			assert_int_equal(e->rule_id, e->out.rule_id);
			assert_int_equal(e->accept, e->out.verdict != BH_V_DENY);
			return e->out;
		}
	}
	return rs->dflt;
}

static __u32 rule_of(const struct bh_nft_ruleset *rs, __u32 addr, __u8 proto, __u16 port)
{
	return outcome_of(rs, addr, proto, port).rule_id;
}

/* What the data path records for a new flow that bh_eval judged r, in
 * mode (lib/bpf/datapath.h, bh_judge_new_flow), restated for the test. */
static struct bh_nft_outcome data_path(enum bh_mode mode, const struct bh_eval_result *r)
{
	static const __u8 reason[] = { [BH_PV_NONE] = BH_R_NOT_ISOLATED,
				       [BH_PV_ALLOW] = BH_R_POLICY_ALLOW,
				       [BH_PV_DENY] = BH_R_POLICY_DENY,
				       [BH_PV_DEFAULT_DENY] = BH_R_DEFAULT_DENY,
				       [BH_PV_QUARANTINE] = BH_R_NOT_ISOLATED };
	bool denies = r->verdict >= BH_PV_DENY, audit_denies = r->audit_verdict >= BH_PV_DENY;
	bool passes = mode == BH_MODE_MONITOR || mode == BH_MODE_LEARN;

	if (denies)
		return (struct bh_nft_outcome){ passes ? BH_V_WOULD_DENY : BH_V_DENY,
						mode == BH_MODE_LEARN ? BH_R_LEARN
								      : reason[r->verdict],
						r->rule_id };
	if (audit_denies)
		return (struct bh_nft_outcome){ BH_V_WOULD_DENY,
						mode == BH_MODE_LEARN ? BH_R_LEARN
								      : reason[r->audit_verdict],
						r->audit_rule_id };
	/* bh_eval reports the data path's "no opinion" (not isolated) as an
	 * allow without a rule */
	return (struct bh_nft_outcome){ BH_V_ALLOW,
					r->rule_id ? reason[r->verdict] : BH_R_NOT_ISOLATED,
					r->rule_id };
}

static void test_elements_match_eval(void **state)
{
	struct bh_nft_ruleset rs;
	struct fixture f;
	int nr4 = 0, nr6 = 0;

	(void)state;
	fixture(&f);
	assert_int_equal(bh_nft_ruleset_build(&f.out, &f.w, BH_DIR_INGRESS, BH_MODE_ENFORCE, &rs), 0);
	assert_false(rs.default_accept);
	for (size_t i = 0; i < rs.nr; i++) {
		/* only what differs from drop, or what a rule decides */
		assert_true(rs.elems[i].accept || rs.elems[i].rule_id);
		assert_true(rs.elems[i].proto_lo <= rs.elems[i].proto_hi);
		assert_true(rs.elems[i].port_lo <= rs.elems[i].port_hi);
		if (rs.elems[i].family == 4)
			nr4++;
		else
			nr6++;
	}
	/* v4: 2 "anyone" ranges x UDP 53; A's 2 ranges x {TCP 80, UDP 53};
	 * B: ICMP, TCP below and above 22, UDP, ICMPv6, SCTP (its rule
	 * names no protocol, so the named ones stay denied), and TCP 22,
	 * which its deny rule decides (the rule's counter) */
	assert_int_equal(nr4, 13);
	/* v6: 3 "anyone" ranges x UDP 53; C: UDP 53 and ICMPv6 128 */
	assert_int_equal(nr6, 5);

	struct { const char *addr; __u8 proto; __u16 port; int accept; } cases[] = {
		{ "10.1.0.1", IPPROTO_TCP, 80, 1 },	/* A */
		{ "10.1.0.1", IPPROTO_TCP, 81, 0 },
		{ "10.1.200.1", IPPROTO_TCP, 80, 1 },	/* A, after B's hole */
		{ "10.1.2.9", IPPROTO_TCP, 80, 1 },	/* B: everything... */
		{ "10.1.2.9", IPPROTO_ICMP, 0x0800, 1 },
		{ "10.1.2.9", IPPROTO_TCP, 22, 0 },	/* ...but TCP 22 */
		{ "10.1.2.9", IPPROTO_TCP, 21, 1 },
		{ "10.1.2.9", IPPROTO_TCP, 23, 1 },
		{ "10.1.2.9", IPPROTO_UDP, 22, 1 },
		{ "10.1.2.9", 47, 0, 0 },		/* GRE: no rule names it */
		{ "192.0.2.1", IPPROTO_UDP, 53, 1 },	/* anyone, UDP 53 */
		{ "192.0.2.1", IPPROTO_TCP, 53, 0 },
		{ "10.9.0.5", IPPROTO_UDP, 53, 1 },	/* workload without entries */
		{ "10.9.0.5", IPPROTO_TCP, 80, 0 },
		{ "0.0.0.0", IPPROTO_UDP, 53, 1 },
		{ "255.255.255.255", IPPROTO_UDP, 53, 1 },
		{ "10.2.0.0", IPPROTO_TCP, 443, 0 },	/* egress entry ignored */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bh_eval_result r;
		__u8 a[16] = { [10] = 0xff, [11] = 0xff };
		__u32 n = htonl(ip4(cases[i].addr));

		memcpy(a + 12, &n, 4);
		bh_eval(&f.w, BH_DIR_INGRESS, bh_eval_identity(&f.out, a), cases[i].proto,
			cases[i].port, &r);
		/* the table agrees with the data path's own evaluation */
		assert_int_equal(r.verdict == BH_PV_ALLOW, cases[i].accept);
		assert_int_equal(verdict_of(&rs, ip4(cases[i].addr), cases[i].proto, cases[i].port),
				 cases[i].accept);
		/* and names the same rule (the per-rule counters' chain) */
		assert_int_equal(rule_of(&rs, ip4(cases[i].addr), cases[i].proto, cases[i].port),
				 r.rule_id);
	}
	bh_nft_ruleset_free(&rs);
}

static void test_monitor_mode_accepts_all(void **state)
{
	struct bh_nft_ruleset rs;
	struct bh_nft_outcome o;
	struct fixture f;

	(void)state;
	fixture(&f);
	assert_int_equal(bh_nft_ruleset_build(&f.out, &f.w, BH_DIR_INGRESS, BH_MODE_MONITOR, &rs), 0);
	/* everything passes; what enforce denies is a would-deny */
	assert_true(rs.default_accept);
	assert_int_equal(rs.dflt.verdict, BH_V_WOULD_DENY);
	assert_int_equal(rs.dflt.reason, BH_R_DEFAULT_DENY);
	for (size_t i = 0; i < rs.nr; i++)
		assert_true(rs.elems[i].accept);
	o = outcome_of(&rs, ip4("10.1.2.9"), IPPROTO_TCP, 22);	/* B's deny rule */
	assert_true(o.verdict == BH_V_WOULD_DENY && o.reason == BH_R_POLICY_DENY && o.rule_id == 13);
	o = outcome_of(&rs, ip4("10.1.0.1"), IPPROTO_TCP, 80);	/* A's allow rule */
	assert_true(o.verdict == BH_V_ALLOW && o.reason == BH_R_POLICY_ALLOW && o.rule_id == 11);
	bh_nft_ruleset_free(&rs);
	/* learn: the same, with reason learn for what would be denied */
	assert_int_equal(bh_nft_ruleset_build(&f.out, &f.w, BH_DIR_INGRESS, BH_MODE_LEARN, &rs), 0);
	assert_int_equal(rs.dflt.reason, BH_R_LEARN);
	o = outcome_of(&rs, ip4("10.1.2.9"), IPPROTO_TCP, 22);
	assert_true(o.verdict == BH_V_WOULD_DENY && o.reason == BH_R_LEARN && o.rule_id == 13);
	bh_nft_ruleset_free(&rs);
}

static void test_not_isolated_direction(void **state)
{
	struct bh_nft_ruleset rs;
	struct fixture f;

	(void)state;
	fixture(&f);
	/* egress: no default entry, one allow: nothing differs from accept,
	 * but the allow rule decides A's two ranges x TCP 443 (its counter) */
	assert_int_equal(bh_nft_ruleset_build(&f.out, &f.w, BH_DIR_EGRESS, BH_MODE_ENFORCE, &rs), 0);
	assert_true(rs.default_accept);
	assert_int_equal(rs.nr, 2);
	for (size_t i = 0; i < rs.nr; i++)
		assert_true(rs.elems[i].accept && rs.elems[i].rule_id == 16 &&
			    rs.elems[i].proto_lo == IPPROTO_TCP && rs.elems[i].port_lo == 443);
	bh_nft_ruleset_free(&rs);
}

/* Random compiled workloads (nested CIDRs, entries of every width, allow
 * and deny, isolated or not) against random packets, named protocols
 * among them: the boxes must give bh_eval's verdict at every point. The
 * seed is printed on failure. */
static __u32 rnd(__u32 *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 17;
	*st ^= *st << 5;
	return *st;
}

static void random_workload(__u32 *st, enum bh_dir dir, struct bh_ipcache_entry *ipc, int nr_pfx,
			    struct bh_policy_entry *ent, int nr_ent, struct bh_compile_output *out,
			    struct bh_compiled_workload *w)
{
	static const int plens[] = { 8, 12, 16, 20, 24, 28, 30, 32 };
	static const int widths[] = { 40, 48, 56, 64 };
	static const __u8 protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };

	for (int i = 0; i < nr_pfx; i++) {
		int plen = plens[rnd(st) % 8];
		__u32 a = htonl((10u << 24 | (rnd(st) % 4) << 16 | (rnd(st) % 4) << 8 |
				 (rnd(st) % 256)) & ~0u << (32 - plen));
		bool dup = false;

		for (size_t j = 0; j < out->nr_ipcache; j++)
			dup |= ipc[j].key.prefixlen == (__u32)(96 + plen) &&
			       !memcmp(ipc[j].key.addr + 12, &a, 4);
		if (dup)
			continue;
		v4(&ipc[out->nr_ipcache], "0.0.0.0", plen, BH_ID_CIDR_BASE + (__u32)i);
		memcpy(ipc[out->nr_ipcache].key.addr + 12, &a, 4);
		out->nr_ipcache++;
	}
	if (rnd(st) % 2) {
		pent(&ent[w->nr], 8, dir, 0, 0, 0, BH_PV_DEFAULT_DENY);
		if (rnd(st) % 3 == 0)	/* isolated by an audit policy only */
			ent[w->nr].val.verdict = BH_PV_NONE;
		w->nr++;
	}
	for (int i = 0; i < nr_ent; i++) {
		int plen = widths[rnd(st) % 4];
		__u32 id = rnd(st) % 5 ? BH_ID_CIDR_BASE + rnd(st) % (__u32)nr_pfx : BH_ID_ANY;
		__u8 proto = plen > 40 ? protos[rnd(st) % 3] : 0;
		__u16 port = plen > 48 ? (__u16)(rnd(st) % 1024) : 0;
		bool dup = false;

		if (plen == 56)
			port &= 0xff00;
		pent(&ent[w->nr], plen, dir, id, proto, port, rnd(st) % 3 ? BH_PV_ALLOW : BH_PV_DENY);
		ent[w->nr].val.rule_id = ent[w->nr].val.audit_rule_id = 100 + (__u32)w->nr;
		if (rnd(st) % 4 == 0) {		/* an audit policy's entry */
			ent[w->nr].val.verdict = BH_PV_NONE;
			ent[w->nr].val.rule_id = 0;
		}
		for (size_t j = 0; j < w->nr; j++)
			dup |= !memcmp(&ent[j].key, &ent[w->nr].key, sizeof(ent[j].key));
		if (!dup)
			w->nr++;
	}
}

static void test_random_against_eval(void **state)
{
	enum { NR_PFX = 40, NR_ENT = 60, NR_PKT = 3000, ROUNDS = 40 };
	static const __u8 protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 47, 2 };

	(void)state;
	for (__u32 seed = 1; seed <= ROUNDS; seed++) {
		struct bh_ipcache_entry ipc[NR_PFX];
		struct bh_policy_entry ent[NR_ENT + 1];
		struct bh_compiled_workload w = { .entries = ent };
		struct bh_compile_output out = { .ipcache = ipc };
		struct bh_nft_ruleset rs;
		__u32 st = seed * 2654435761u;
		enum bh_dir dir = seed % 2 ? BH_DIR_INGRESS : BH_DIR_EGRESS;
		enum bh_mode mode = seed % 5 == 0 ? BH_MODE_MONITOR
				    : seed % 5 == 1 ? BH_MODE_LEARN : BH_MODE_ENFORCE;

		random_workload(&st, dir, ipc, NR_PFX, ent, NR_ENT, &out, &w);
		assert_int_equal(bh_nft_ruleset_build(&out, &w, dir, mode, &rs), 0);
		for (int i = 0; i < NR_PKT; i++) {
			__u32 addr = rnd(&st) % 8 ? 10u << 24 | (rnd(&st) % 4) << 16 |
						   (rnd(&st) % 4) << 8 | (rnd(&st) % 256)
						 : rnd(&st);
			__u8 proto = protos[rnd(&st) % 5];
			__u16 port = (__u16)(rnd(&st) % 1100);
			__u8 a[16] = { [10] = 0xff, [11] = 0xff };
			struct bh_eval_result r;
			struct bh_nft_outcome o, want;
			__u32 n = htonl(addr);
			int got;

			if (proto == IPPROTO_ICMP)
				port = (__u16)((rnd(&st) % 20) << 8 | rnd(&st) % 3);
			memcpy(a + 12, &n, 4);
			bh_eval(&w, dir, bh_eval_identity(&out, a), proto, port, &r);
			got = verdict_of(&rs, addr, proto, port);
			o = outcome_of(&rs, addr, proto, port);
			want = data_path(mode, &r);
			if (o.verdict != want.verdict || o.reason != want.reason ||
			    o.rule_id != want.rule_id)
				fail_msg("seed %u mode %d: %08x proto %u port %u: box %u/%u/%u,"
					 " data path %u/%u/%u", seed, mode, addr, proto, port,
					 o.verdict, o.reason, o.rule_id, want.verdict, want.reason,
					 want.rule_id);
			if (got != (want.verdict != BH_V_DENY))
				fail_msg("seed %u: %08x proto %u port %u: boxes %d, data path %d",
					 seed, addr, proto, port, got, want.verdict != BH_V_DENY);
		}
		bh_nft_ruleset_free(&rs);
	}
}

/* ------------------------------------------------------------ messages */
#define MAX_NAMES 32

struct named {
	char name[32];
	int n;				/* elements of a set, rules of a chain */
	__u8 key[24];			/* a set's first element */
	__u32 key_len, verdict;
	char chain[32];			/* its jump/goto target */
	bool drop_rule;			/* a chain's lone `drop` rule */
};

struct seen {
	int begin, end, newtable, deltable, newset, newchain, newrule, acks;
	int arp_msgs;			/* messages of family arp */
	struct named sets[MAX_NAMES], chains[MAX_NAMES];
	__u32 policy_set_flags;
};

static struct named *named(struct named *tab, const char *name)
{
	for (int i = 0; i < MAX_NAMES; i++) {
		if (!strcmp(tab[i].name, name))
			return &tab[i];
		if (!tab[i].name[0]) {
			snprintf(tab[i].name, sizeof(tab[i].name), "%s", name);
			return &tab[i];
		}
	}
	fail_msg("more than %d names", MAX_NAMES);
	return NULL;
}

static const struct named *find(const struct named *tab, const char *name)
{
	for (int i = 0; i < MAX_NAMES; i++)
		if (!strcmp(tab[i].name, name))
			return &tab[i];
	return NULL;
}

static int count_of(const struct named *tab, const char *name)
{
	const struct named *n = find(tab, name);

	return n ? n->n : 0;
}

/* Nested attribute `type` inside nest, or NULL. */
static const struct nlattr *nested(const struct nlattr *nest, int type)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

/* NEWSETELEM is walked with libmnl: libnftnl 1.2's parser wants every
 * element nest typed NFTA_LIST_ELEM while its builder numbers them (the
 * kernel ignores the nest type), so it cannot read back its own batches. */
static void parse_elems(const struct nlmsghdr *h, struct seen *s)
{
	const struct nlattr *a, *list = NULL;
	struct named *set = NULL;

	mnl_attr_for_each(a, h, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
			set = named(s->sets, mnl_attr_get_str(a));
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			list = a;
	}
	assert_non_null(set);
	assert_non_null(list);
	mnl_attr_for_each_nested(a, list) {
		const struct nlattr *key = nested(a, NFTA_SET_ELEM_KEY);
		const struct nlattr *data = nested(a, NFTA_SET_ELEM_DATA);
		const struct nlattr *val, *verd, *code, *chain;

		assert_non_null(key);
		val = nested(key, NFTA_DATA_VALUE);
		assert_non_null(val);
		if (set->n++)
			continue;
		set->key_len = mnl_attr_get_payload_len(val);
		assert_true(set->key_len <= sizeof(set->key));
		memcpy(set->key, mnl_attr_get_payload(val), set->key_len);
		if (!data)
			continue;	/* a plain set */
		verd = nested(data, NFTA_DATA_VERDICT);
		assert_non_null(verd);
		code = nested(verd, NFTA_VERDICT_CODE);
		assert_non_null(code);
		set->verdict = ntohl(mnl_attr_get_u32(code));
		chain = nested(verd, NFTA_VERDICT_CHAIN);
		if (chain)
			snprintf(set->chain, sizeof(set->chain), "%s", mnl_attr_get_str(chain));
	}
}

static int count_expr(struct nftnl_expr *e, void *data)
{
	(void)e;
	(*(int *)data)++;
	return 0;
}

static void parse_rule(const struct nlmsghdr *h, struct seen *s)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct named *chain;
	int n = 0;

	assert_int_equal(nftnl_rule_nlmsg_parse(h, r), 0);
	nftnl_expr_foreach(r, count_expr, &n);
	chain = named(s->chains, nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	chain->n++;
	if (n == 1) {
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
		struct nftnl_expr *e = nftnl_expr_iter_next(it);

		if (!strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "immediate") &&
		    nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NF_DROP)
			chain->drop_rule = true;
		nftnl_expr_iter_destroy(it);
	}
	nftnl_rule_free(r);
}

static void walk(const struct bh_nft_batch *b, struct seen *s)
{
	int len = (int)b->len;

	memset(s, 0, sizeof(*s));
	for (const struct nlmsghdr *h = (const void *)b->buf; mnl_nlmsg_ok(h, len);
	     h = mnl_nlmsg_next(h, &len)) {
		int type = h->nlmsg_type;

		if (h->nlmsg_flags & NLM_F_ACK)
			s->acks++;
		if (type == NFNL_MSG_BATCH_BEGIN) {
			s->begin++;
			continue;
		}
		if (type == NFNL_MSG_BATCH_END) {
			s->end++;
			continue;
		}
		assert_int_equal(type >> 8, NFNL_SUBSYS_NFTABLES);
		if (((const struct nfgenmsg *)mnl_nlmsg_get_payload(h))->nfgen_family == NFPROTO_ARP)
			s->arp_msgs++;
		switch (type & 0xff) {
		case NFT_MSG_NEWTABLE: s->newtable++; break;
		case NFT_MSG_DELTABLE: s->deltable++; break;
		case NFT_MSG_NEWCHAIN: {
			struct nftnl_chain *c = nftnl_chain_alloc();

			assert_int_equal(nftnl_chain_nlmsg_parse(h, c), 0);
			named(s->chains, nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
			nftnl_chain_free(c);
			s->newchain++;
			break;
		}
		case NFT_MSG_NEWSET: {
			struct nftnl_set *set = nftnl_set_alloc();

			assert_int_equal(nftnl_set_nlmsg_parse(h, set), 0);
			named(s->sets, nftnl_set_get_str(set, NFTNL_SET_NAME));
			if (!strcmp(nftnl_set_get_str(set, NFTNL_SET_NAME), "w3_i4")) {
				s->policy_set_flags = nftnl_set_get_u32(set, NFTNL_SET_FLAGS);
				assert_int_equal(nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN), 12);
			}
			nftnl_set_free(set);
			s->newset++;
			break;
		}
		case NFT_MSG_NEWSETELEM: parse_elems(h, s); break;
		case NFT_MSG_NEWRULE: parse_rule(h, s); s->newrule++; break;
		default:
			fail_msg("unexpected message type %d", type & 0xff);
		}
	}
	assert_int_equal(len, 0);	/* the buffer is exactly the messages */
}

/* One workload, slot 3 on bhveth0, address 10.9.0.7, with the fixture's
 * policy; the quarantine as the fixture's compile output has it. */
struct one {
	struct bh_ip ip;
	struct bh_nft_ruleset rs[4];
	struct bh_nft_workload w;
	struct bh_nft_table t;
};

static void one(struct one *o, const struct fixture *f, enum bh_mode mode, bool quarantined)
{
	memset(o, 0, sizeof(*o));
	o->ip.family = 4;
	o->ip.addr[10] = o->ip.addr[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, "10.9.0.7", o->ip.addr + 12), 1);
	for (int d = 0; d < 2; d++) {
		assert_int_equal(bh_nft_ruleset_build(&f->out, &f->w, (enum bh_dir)d, mode,
						      &o->rs[d]), 0);
		assert_int_equal(bh_nft_ruleset_build_quarantine(&f->out, (enum bh_dir)d,
								 &o->rs[2 + d]), 0);
	}
	o->w = (struct bh_nft_workload){ .ifname = "bhveth0", .slot = 3,
					 .quarantined = quarantined, .nr_ips = 1, .ips = &o->ip,
					 .rs = { &o->rs[0], &o->rs[1] } };
	o->t = (struct bh_nft_table){ .name = "bh_test", .nr = 1, .w = &o->w,
				      .quarantine = { &o->rs[2], &o->rs[3] } };
}

static void one_free(struct one *o)
{
	for (int i = 0; i < 4; i++)
		bh_nft_ruleset_free(&o->rs[i]);
}

/* The quarantine: marker and default deny both ways, and the forensics
 * exception: A may reach TCP 22. */
static void quarantine_fixture(struct fixture *f, struct bh_policy_entry *q)
{
	pent(&q[0], 8, BH_DIR_META, 0, 0, 0, BH_PV_QUARANTINE);
	pent(&q[1], 8, BH_DIR_INGRESS, 0, 0, 0, BH_PV_QUARANTINE);
	pent(&q[2], 8, BH_DIR_EGRESS, 0, 0, 0, BH_PV_QUARANTINE);
	pent(&q[3], 64, BH_DIR_INGRESS, ID_A, IPPROTO_TCP, 22, BH_PV_ALLOW);
	f->out.quarantine.nr = 4;
	f->out.quarantine.entries = q;
}

static void test_table_batch(void **state)
{
	struct bh_policy_entry q[4];
	struct bh_nft_batch b = { 0 };
	const struct named *n;
	struct fixture f;
	struct one o;
	struct seen s;

	(void)state;
	fixture(&f);
	quarantine_fixture(&f, q);
	one(&o, &f, BH_MODE_ENFORCE, false);
	assert_int_equal(bh_nft_build_table(&o.t, &b), 0);
	walk(&b, &s);
	assert_int_equal(s.begin, 1);
	assert_int_equal(s.end, 1);
	/* create-if-absent, delete, create: an atomic replace, of the inet
	 * table and of its arp twin */
	assert_int_equal(s.newtable, 4);
	assert_int_equal(s.deltable, 2);
	/* arp: 3 tables, 4 chains, 3 sets and their elements, 6 rules */
	assert_int_equal(s.arp_msgs, 3 + 4 + 3 + 3 + 6);
	/* forward, input, output, forensics, w3_in, w3_out, and one chain
	 * per outcome (rule, verdict, reason) and direction: r11_0_0_i (A
	 * TCP 80), r12_0_0_i (B), r13_1_4_i (B's deny), r14_0_0_i (anyone
	 * UDP 53), r15_0_0_i (C), r16_0_0_e (egress to A); arp: arp_in,
	 * arp_out, w3_arp, w3_arp_in */
	assert_int_equal(s.newchain, 16);
	/* 4 quarantine maps, 2 interface maps, 4 policy maps, 2 address
	 * sets; arp: 2 interface maps and the IPv4 addresses */
	assert_int_equal(s.newset, 15);
	assert_int_equal(s.policy_set_flags, NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	assert_int_equal(count_of(s.sets, "w3_i4"), 13);
	assert_int_equal(count_of(s.sets, "w3_i6"), 5);
	assert_int_equal(count_of(s.sets, "w3_e4") + count_of(s.sets, "w3_e6"), 2);
	/* the shared quarantine maps are there for any workload to use */
	assert_int_equal(count_of(s.sets, "q_i4"), 2);
	assert_int_equal(count_of(s.sets, "q_e4"), 0);
	/* the first IPv4 box: 0.0.0.0 . udp . 53 goes to its rule's chain */
	n = find(s.sets, "w3_i4");
	assert_non_null(n);
	assert_int_equal(n->key_len, 12);
	assert_true(n->key[0] == 0 && n->key[3] == 0 && n->key[4] == IPPROTO_UDP &&
		    n->key[8] == 0 && n->key[9] == 53);
	assert_int_equal(n->verdict, (__u32)NFT_GOTO);
	assert_string_equal(n->chain, "r14_0_0_i");
	/* the veth jumps to the workload's chains */
	n = find(s.sets, "to_wl");
	assert_non_null(n);
	assert_int_equal(n->n, 1);
	assert_int_equal(n->key_len, 16);
	assert_string_equal((const char *)n->key, "bhveth0");
	assert_int_equal(n->verdict, (__u32)NFT_JUMP);
	assert_string_equal(n->chain, "w3_in");
	n = find(s.sets, "from_wl");
	assert_non_null(n);
	assert_string_equal(n->chain, "w3_out");
	/* its one address, for anti-spoofing */
	n = find(s.sets, "w3_a4");
	assert_non_null(n);
	assert_int_equal(n->n, 1);
	assert_true(n->key_len == 4 && n->key[0] == 10 && n->key[1] == 9 && n->key[3] == 7);
	assert_int_equal(count_of(s.sets, "w3_a6"), 0);
	/* rules */
	assert_int_equal(count_of(s.chains, "forward"), 2);
	assert_int_equal(count_of(s.chains, "input"), 1);
	assert_int_equal(count_of(s.chains, "output"), 1);
	assert_int_equal(count_of(s.chains, "forensics"), 1);
	/* ingress is isolated: ND, ct state, 2 lookups per family, drop */
	assert_int_equal(count_of(s.chains, "w3_in"), 7);
	assert_true(find(s.chains, "w3_in")->drop_rule);
	/* egress is open: ND, anti-spoofing for each family, ct state, 2
	 * lookups per family (its allow rule's boxes), log and return */
	assert_int_equal(count_of(s.chains, "w3_out"), 9);
	assert_false(find(s.chains, "w3_out")->drop_rule);
	/* a rule's chain: one rule (counter; drop for a deny) */
	assert_int_equal(count_of(s.chains, "r13_1_4_i"), 1);	/* deny, policy-deny */
	assert_int_equal(count_of(s.chains, "r11_0_0_i"), 1);	/* allow, policy-allow */
	/* arp: the interface maps' lookups; from the workload: malformed,
	 * 0.0.0.0, sender; to it: an answer about another address */
	assert_int_equal(count_of(s.chains, "arp_in"), 1);
	assert_int_equal(count_of(s.chains, "arp_out"), 1);
	assert_int_equal(count_of(s.chains, "w3_arp"), 3);
	assert_int_equal(count_of(s.chains, "w3_arp_in"), 1);
	n = find(s.sets, "arp_to_wl");
	assert_non_null(n);
	assert_string_equal(n->chain, "w3_arp_in");
	n = find(s.sets, "w3_arp4");
	assert_non_null(n);
	assert_true(n->n == 1 && n->key_len == 4 && n->key[0] == 10 && n->key[3] == 7);
	n = find(s.sets, "arp_from_wl");
	assert_non_null(n);
	assert_string_equal(n->chain, "w3_arp");
	assert_int_equal(s.newrule, 33);
	assert_int_equal(s.acks, 1);		/* only the last message */
	bh_nft_batch_free(&b);
	one_free(&o);
}

static void test_quarantine(void **state)
{
	struct bh_policy_entry q[4];
	struct bh_nft_batch b = { 0 };
	const struct named *n;
	struct fixture f;
	struct one o;
	struct seen s;

	(void)state;
	fixture(&f);
	quarantine_fixture(&f, q);
	one(&o, &f, BH_MODE_ENFORCE, true);
	/* the boxes agree with bh_eval on the deny-all map; default drop */
	assert_false(o.rs[2].default_accept);
	assert_int_equal(o.rs[2].nr, 2);	/* A's two ranges around B */
	assert_int_equal(verdict_of(&o.rs[2], ip4("10.1.0.1"), IPPROTO_TCP, 22), 1);
	assert_int_equal(verdict_of(&o.rs[2], ip4("10.1.0.1"), IPPROTO_TCP, 80), 0);
	assert_int_equal(verdict_of(&o.rs[2], ip4("10.1.2.1"), IPPROTO_TCP, 22), 0);
	assert_int_equal(o.rs[3].nr, 0);
	assert_int_equal(bh_nft_build_table(&o.t, &b), 0);
	walk(&b, &s);
	n = find(s.sets, "q_i4");
	assert_non_null(n);
	assert_int_equal(n->n, 2);
	/* the exception marks its flow, so its replies pass too */
	assert_int_equal(n->verdict, (__u32)NFT_GOTO);
	assert_string_equal(n->chain, "forensics");
	/* ND, ct mark, 2 lookups per family, drop; egress also anti-spoofing */
	assert_int_equal(count_of(s.chains, "w3_in"), 7);
	assert_int_equal(count_of(s.chains, "w3_out"), 9);
	assert_true(find(s.chains, "w3_in")->drop_rule);
	assert_true(find(s.chains, "w3_out")->drop_rule);
	bh_nft_batch_free(&b);
	one_free(&o);
}

static void test_learn_mode_has_no_drop(void **state)
{
	struct bh_nft_batch b = { 0 };
	struct fixture f;
	struct one o;
	struct seen s;

	(void)state;
	fixture(&f);
	one(&o, &f, BH_MODE_LEARN, false);
	assert_int_equal(bh_nft_build_table(&o.t, &b), 0);
	walk(&b, &s);
	/* the same boxes as enforce, judged as learn: ND, ct state, the
	 * lookups, the default (would-deny, learn) returns */
	assert_int_equal(count_of(s.sets, "w3_i4"), 13);
	assert_int_equal(count_of(s.chains, "w3_in"), 7);
	assert_false(find(s.chains, "w3_in")->drop_rule);
	assert_false(find(s.chains, "w3_out")->drop_rule);
	/* B's deny rule: would-deny (2), learn (3), no drop */
	assert_int_equal(count_of(s.chains, "r13_2_3_i"), 1);
	assert_int_equal(count_of(s.chains, "r13_1_4_i"), 0);
	bh_nft_batch_free(&b);
	one_free(&o);
}

static void test_many_elements_split(void **state)
{
	enum { N = 600 };
	struct bh_ipcache_entry *ipc = calloc(N, sizeof(*ipc));
	struct bh_policy_entry *ent = calloc(N + 1, sizeof(*ent));
	struct bh_compiled_workload w = { .nr = N + 1, .entries = ent };
	struct bh_compile_output out = { .nr_ipcache = N, .ipcache = ipc };
	struct bh_nft_ruleset rs[2], q = { .default_accept = false };
	struct bh_ip ip = { .family = 6 };
	struct bh_nft_workload nw = { .ifname = "bhveth0", .slot = 3, .nr_ips = 1, .ips = &ip,
				      .rs = { &rs[0], &rs[1] } };
	struct bh_nft_table t = { .name = "bh_test", .nr = 1, .w = &nw, .quarantine = { &q, &q } };
	struct bh_nft_batch b = { 0 };
	struct seen s;

	(void)state;
	assert_non_null(ipc);
	assert_non_null(ent);
	pent(&ent[0], 8, BH_DIR_INGRESS, 0, 0, 0, BH_PV_DEFAULT_DENY);
	for (int i = 0; i < N; i++) {
		char a[32];

		/* every other /32, so no two ranges merge */
		snprintf(a, sizeof(a), "10.5.%d.%d", (2 * i) / 256, (2 * i) % 256);
		v4(&ipc[i], a, 32, BH_ID_CIDR_BASE + i);
		pent(&ent[i + 1], 64, BH_DIR_INGRESS, BH_ID_CIDR_BASE + i, IPPROTO_TCP, 5201,
		     BH_PV_ALLOW);
	}
	for (int d = 0; d < 2; d++)
		assert_int_equal(bh_nft_ruleset_build(&out, &w, (enum bh_dir)d, BH_MODE_ENFORCE,
						      &rs[d]), 0);
	assert_int_equal(rs[BH_DIR_INGRESS].nr, N);
	assert_int_equal(bh_nft_build_table(&t, &b), 0);
	walk(&b, &s);
	assert_int_equal(count_of(s.sets, "w3_i4"), N);
	/* and one address in the IPv6 set */
	assert_int_equal(count_of(s.sets, "w3_a6"), 1);
	bh_nft_batch_free(&b);
	for (int d = 0; d < 2; d++)
		bh_nft_ruleset_free(&rs[d]);
	free(ipc);
	free(ent);
}

static void test_delete_batch_and_bad_input(void **state)
{
	struct bh_nft_ruleset rs = { .default_accept = true };
	struct bh_nft_workload w = { .ifname = "a-name-longer-than-15", .rs = { &rs, &rs } };
	struct bh_nft_table t = { .name = "bh_test", .nr = 1, .w = &w,
				  .quarantine = { &rs, &rs } };
	struct bh_nft_batch b = { 0 };
	struct seen s;

	(void)state;
	assert_int_equal(bh_nft_build_delete("bh_test", &b), 0);
	walk(&b, &s);
	/* the inet table; the arp one created if absent, then deleted */
	assert_int_equal(s.begin + s.deltable + s.end, 4);
	assert_int_equal(s.newtable, 1);
	assert_int_equal(s.arp_msgs, 2);
	assert_int_equal(s.newset + s.newrule, 0);
	assert_int_equal(s.acks, 1);
	bh_nft_batch_free(&b);
	assert_int_equal(bh_nft_build_table(&t, &b), -EINVAL);
	w.ifname = "";
	assert_int_equal(bh_nft_build_table(&t, &b), -EINVAL);
	t.name = "";
	w.ifname = "bhveth0";
	assert_int_equal(bh_nft_build_table(&t, &b), -EINVAL);
	assert_int_equal(bh_nft_build_delete("", &b), -EINVAL);
	bh_nft_batch_free(&b);
}

/* The names and prefixes the table writes and stats and the agent read
 * back: each reads back as written; what is not one is refused. */
static void test_names_and_prefixes(void **state)
{
	struct bh_nft_rulechain rc = { 4000000000u, BH_V_WOULD_DENY, BH_R_LEARN, BH_DIR_EGRESS }, back;
	struct bh_nft_log_tag tag = { BH_DIR_INGRESS, BH_V_DENY, BH_R_POLICY_DENY, 12 }, tback;
	char name[BH_NFT_RULECHAIN_NAME], prefix[BH_NFT_LOG_PREFIX_MAX];

	(void)state;
	bh_nft_rulechain_name(&rc, name);
	assert_string_equal(name, "r4000000000_2_3_e");
	assert_int_equal(bh_nft_rulechain_parse(name, &back), 0);
	assert_int_equal(bh_nft_rulechain_cmp(&rc, &back), 0);
	assert_true(back.verdict == rc.verdict && back.reason == rc.reason && back.dir == rc.dir);
	for (const char *bad = "w3_in\0r1_0_0\0r1_0_0_x\0r1_9_0_i\0r1_0_0_ix\0rx_0_0_i\0";
	     *bad; bad += strlen(bad) + 1)
		assert_int_equal(bh_nft_rulechain_parse(bad, &back), -EINVAL);
	bh_nft_log_prefix(&tag, prefix);
	assert_string_equal(prefix, "bh1 i 1 4 12");
	/* the attribute carries the NUL, or may not */
	assert_int_equal(bh_nft_log_parse(prefix, strlen(prefix) + 1, &tback), 0);
	assert_int_equal(bh_nft_log_parse(prefix, strlen(prefix), &tback), 0);
	assert_true(tback.dir == tag.dir && tback.verdict == tag.verdict &&
		    tback.reason == tag.reason && tback.rule_id == tag.rule_id);
	assert_int_equal(bh_nft_log_parse("DROP: ", 6, &tback), -EINVAL);
	assert_int_equal(bh_nft_log_parse("bh1 i 9 4 12", 12, &tback), -EINVAL);
	assert_int_equal(bh_nft_log_parse("bh1 i 1 4 12 x", 14, &tback), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elements_match_eval),
		cmocka_unit_test(test_monitor_mode_accepts_all),
		cmocka_unit_test(test_not_isolated_direction),
		cmocka_unit_test(test_random_against_eval),
		cmocka_unit_test(test_table_batch),
		cmocka_unit_test(test_quarantine),
		cmocka_unit_test(test_learn_mode_has_no_drop),
		cmocka_unit_test(test_many_elements_split),
		cmocka_unit_test(test_delete_batch_and_bad_input),
		cmocka_unit_test(test_names_and_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
