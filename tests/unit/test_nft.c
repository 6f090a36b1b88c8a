// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The nftables backend without root: the verdict-map elements computed
 * from a compiled workload (disjoint boxes, same verdicts as bh_eval), and
 * the netlink batch, parsed back with libnftnl. */
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

#include "nft.h"

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
	e->val.rule_id = 7;
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
		assert_true(rs.elems[i].accept);	/* only what differs from drop */
		assert_true(rs.elems[i].proto_lo <= rs.elems[i].proto_hi);
		assert_true(rs.elems[i].port_lo <= rs.elems[i].port_hi);
		if (rs.elems[i].family == 4)
			nr4++;
		else
			nr6++;
	}
	/* v4: 2 "anyone" ranges x UDP 53; A's 2 ranges x {TCP 80, UDP 53};
	 * B: 4 boxes around TCP 22 */
	assert_int_equal(nr4, 10);
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
	}
	bh_nft_ruleset_free(&rs);
}

static void test_monitor_mode_accepts_all(void **state)
{
	struct bh_nft_ruleset rs;
	struct fixture f;

	(void)state;
	fixture(&f);
	assert_int_equal(bh_nft_ruleset_build(&f.out, &f.w, BH_DIR_INGRESS, BH_MODE_MONITOR, &rs), 0);
	assert_true(rs.default_accept);
	assert_int_equal(rs.nr, 0);
	bh_nft_ruleset_free(&rs);
}

static void test_not_isolated_direction(void **state)
{
	struct bh_nft_ruleset rs;
	struct fixture f;

	(void)state;
	fixture(&f);
	/* egress: no default entry, one allow: nothing differs from accept */
	assert_int_equal(bh_nft_ruleset_build(&f.out, &f.w, BH_DIR_EGRESS, BH_MODE_ENFORCE, &rs), 0);
	assert_true(rs.default_accept);
	assert_int_equal(rs.nr, 0);
	bh_nft_ruleset_free(&rs);
}

/* ------------------------------------------------------------ messages */
struct seen {
	int begin, end, newtable, deltable, newset, newchain, newrule, elem_msgs, acks;
	int elems[2];			/* per map: wl4, wl6 */
	int rule_exprs[16];
	bool fwd_ifname_ok, drop_rule;
	__u32 set_flags, key_len4;
	bool elem_key_ok;
};

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
	const char *set = "";
	int n = 0;

	mnl_attr_for_each(a, h, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
			set = mnl_attr_get_str(a);
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			list = a;
	}
	assert_non_null(list);
	mnl_attr_for_each_nested(a, list) {
		const struct nlattr *key = nested(a, NFTA_SET_ELEM_KEY);
		const struct nlattr *kend = nested(a, NFTA_SET_ELEM_KEY_END);
		const struct nlattr *data = nested(a, NFTA_SET_ELEM_DATA);
		const struct nlattr *val, *verd, *code;

		assert_non_null(key);
		assert_non_null(kend);
		assert_non_null(data);
		val = nested(key, NFTA_DATA_VALUE);
		verd = nested(data, NFTA_DATA_VERDICT);
		assert_non_null(val);
		assert_non_null(verd);
		code = nested(verd, NFTA_VERDICT_CODE);
		assert_non_null(code);
		/* the first IPv4 element: 0.0.0.0 . udp . 53 -> accept */
		const __u8 *k = mnl_attr_get_payload(val);

		if (!strcmp(set, "wl4") && s->elems[0] == 0 && n == 0) {
			assert_int_equal(mnl_attr_get_payload_len(val), 12);
			s->elem_key_ok = k[0] == 0 && k[1] == 0 && k[2] == 0 && k[3] == 0 &&
					 k[4] == IPPROTO_UDP && k[5] == 0 && k[8] == 0 && k[9] == 53 &&
					 ntohl(mnl_attr_get_u32(code)) == NF_ACCEPT;
		}
		n++;
	}
	s->elems[strcmp(set, "wl4") ? 1 : 0] += n;
}

static int count_expr(struct nftnl_expr *e, void *data)
{
	(void)e;
	(*(int *)data)++;
	return 0;
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
		switch (type & 0xff) {
		case NFT_MSG_NEWTABLE: s->newtable++; break;
		case NFT_MSG_DELTABLE: s->deltable++; break;
		case NFT_MSG_NEWCHAIN: s->newchain++; break;
		case NFT_MSG_NEWSET: {
			struct nftnl_set *set = nftnl_set_alloc();

			assert_int_equal(nftnl_set_nlmsg_parse(h, set), 0);
			s->set_flags = nftnl_set_get_u32(set, NFTNL_SET_FLAGS);
			if (!strcmp(nftnl_set_get_str(set, NFTNL_SET_NAME), "wl4"))
				s->key_len4 = nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN);
			nftnl_set_free(set);
			s->newset++;
			break;
		}
		case NFT_MSG_NEWSETELEM: {
			parse_elems(h, s);
			s->elem_msgs++;
			break;
		}
		case NFT_MSG_NEWRULE: {
			struct nftnl_rule *r = nftnl_rule_alloc();
			int n = 0;

			assert_int_equal(nftnl_rule_nlmsg_parse(h, r), 0);
			nftnl_expr_foreach(r, count_expr, &n);
			if (s->newrule < 16)
				s->rule_exprs[s->newrule] = n;
			if (!strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), "forward")) {
				struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
				struct nftnl_expr *e;

				while ((e = nftnl_expr_iter_next(it))) {
					uint32_t dl;
					const char *d;

					if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "cmp"))
						continue;
					d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &dl);
					s->fwd_ifname_ok = dl == 16 && !strcmp(d, "bhveth0");
				}
				nftnl_expr_iter_destroy(it);
			}
			if (n == 1)
				s->drop_rule = true;
			nftnl_rule_free(r);
			s->newrule++;
			break;
		}
		default:
			fail_msg("unexpected message type %d", type & 0xff);
		}
	}
	assert_int_equal(len, 0);	/* the buffer is exactly the messages */
}

static void test_install_batch(void **state)
{
	struct bh_nft_ruleset rs;
	struct bh_nft_batch b = { 0 };
	struct bh_nft_target t = { .table = "bh_test", .ifname = "bhveth0" };
	struct fixture f;
	struct seen s;

	(void)state;
	fixture(&f);
	assert_int_equal(bh_nft_ruleset_build(&f.out, &f.w, BH_DIR_INGRESS, BH_MODE_ENFORCE, &rs), 0);
	assert_int_equal(bh_nft_build_install(&rs, &t, &b), 0);
	walk(&b, &s);
	assert_int_equal(s.begin, 1);
	assert_int_equal(s.end, 1);
	/* create-if-absent, delete, create: an atomic replace */
	assert_int_equal(s.newtable, 2);
	assert_int_equal(s.deltable, 1);
	assert_int_equal(s.newset, 2);
	assert_int_equal(s.set_flags, NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	assert_int_equal(s.key_len4, 12);	/* addr . proto . port, 4-byte fields */
	assert_int_equal(s.elems[0], 10);
	assert_int_equal(s.elems[1], 5);
	assert_true(s.elem_key_ok);
	assert_int_equal(s.newchain, 2);
	/* forward jump, ct state, 2 lookups per family, final drop */
	assert_int_equal(s.newrule, 7);
	assert_int_equal(s.rule_exprs[0], 3);	/* oifname == IF jump wl */
	assert_int_equal(s.rule_exprs[1], 4);	/* ct, bitwise, cmp, accept */
	assert_int_equal(s.rule_exprs[2], 8);	/* nfproto, l4proto, key, lookup */
	assert_true(s.fwd_ifname_ok);
	assert_true(s.drop_rule);
	assert_int_equal(s.acks, 1);		/* only the last message */
	bh_nft_batch_free(&b);
	bh_nft_ruleset_free(&rs);
}

static void test_install_accepting_has_no_drop(void **state)
{
	struct bh_nft_ruleset rs;
	struct bh_nft_batch b = { 0 };
	struct bh_nft_target t = { .table = "bh_test", .ifname = "bhveth0" };
	struct fixture f;
	struct seen s;

	(void)state;
	fixture(&f);
	assert_int_equal(bh_nft_ruleset_build(&f.out, &f.w, BH_DIR_INGRESS, BH_MODE_LEARN, &rs), 0);
	assert_int_equal(bh_nft_build_install(&rs, &t, &b), 0);
	walk(&b, &s);
	assert_int_equal(s.elem_msgs, 0);
	assert_int_equal(s.newrule, 6);
	assert_false(s.drop_rule);
	bh_nft_batch_free(&b);
	bh_nft_ruleset_free(&rs);
}

static void test_many_elements_split(void **state)
{
	enum { N = 600 };
	struct bh_ipcache_entry *ipc = calloc(N, sizeof(*ipc));
	struct bh_policy_entry *ent = calloc(N + 1, sizeof(*ent));
	struct bh_compiled_workload w = { .nr = N + 1, .entries = ent };
	struct bh_compile_output out = { .nr_ipcache = N, .ipcache = ipc };
	struct bh_nft_target t = { .table = "bh_test", .ifname = "bhveth0" };
	struct bh_nft_batch b = { 0 };
	struct bh_nft_ruleset rs;
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
	assert_int_equal(bh_nft_ruleset_build(&out, &w, BH_DIR_INGRESS, BH_MODE_ENFORCE, &rs), 0);
	assert_int_equal(rs.nr, N);
	assert_int_equal(bh_nft_build_install(&rs, &t, &b), 0);
	walk(&b, &s);
	assert_int_equal(s.elems[0], N);
	assert_int_equal(s.elem_msgs, 3);	/* 256 + 256 + 88 */
	bh_nft_batch_free(&b);
	bh_nft_ruleset_free(&rs);
	free(ipc);
	free(ent);
}

static void test_delete_batch_and_bad_input(void **state)
{
	struct bh_nft_ruleset rs = { .default_accept = true };
	struct bh_nft_batch b = { 0 };
	struct bh_nft_target bad = { .table = "bh_test", .ifname = "a-name-longer-than-15" };
	struct bh_nft_target noif = { .table = "bh_test", .ifname = "" };
	struct seen s;

	(void)state;
	assert_int_equal(bh_nft_build_delete("bh_test", &b), 0);
	walk(&b, &s);
	assert_int_equal(s.begin + s.deltable + s.end, 3);
	assert_int_equal(s.newtable + s.newset + s.newrule, 0);
	assert_int_equal(s.acks, 1);
	bh_nft_batch_free(&b);
	assert_int_equal(bh_nft_build_install(&rs, &bad, &b), -EINVAL);
	assert_int_equal(bh_nft_build_install(&rs, &noif, &b), -EINVAL);
	assert_int_equal(bh_nft_build_delete("", &b), -EINVAL);
	bh_nft_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elements_match_eval),
		cmocka_unit_test(test_monitor_mode_accepts_all),
		cmocka_unit_test(test_not_isolated_direction),
		cmocka_unit_test(test_install_batch),
		cmocka_unit_test(test_install_accepting_has_no_drop),
		cmocka_unit_test(test_many_elements_split),
		cmocka_unit_test(test_delete_batch_and_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
