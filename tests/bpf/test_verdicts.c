// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Verdict tests: load the XDP and TC programs with their maps pinned in a
 * private bpffs directory, fill the maps directly, run each fixture of
 * fixtures.h through BPF_PROG_TEST_RUN and assert verdict, reason counter
 * and flow record. Needs root (77 without it, which tests/run.sh counts as
 * a failure); programs that do not load are a failure, never a skip.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "bulkhead_abi.h"
#include "bulkhead_xdp.skel.h"
#include "bulkhead_tc.skel.h"
#include "bpf_test_util.h"
#include "pkt.h"
#include "fixtures.h"
#include "fixtures_sec.h"

#define MAX_RECS 64

struct suite {
	char pin_dir[256];
	struct bulkhead_xdp *xdp;
	struct bulkhead_tc *tc;
	struct ring_buffer *rb;
	int workloads, ipcache, policy, ct, ct4, ctgen, frag, deny_rl, stats, counters, rule_stats;
	int l2, share, ct_base;
	struct bh_flow_record recs[MAX_RECS];
	int nrecs;
};

struct fx_case {
	struct suite *s;
	const struct fixture *fx;
	bool xdp;		/* egress steps through XDP, else TC */
	char name[160];
};

/* Map sizes for an instance; 0 keeps the ABI default. */
struct suite_sizes {
	__u32 ring, ct, frag, rule_stats;
};

#define CHECK_EQ(step, got, want, what)                                          \
	do {                                                                     \
		long long _g = (long long)(got), _w = (long long)(want);         \
		if (_g != _w) {                                                  \
			print_error("step %d: %s: got %lld, want %lld\n", (step), \
				    (what), _g, _w);                             \
			fail();                                                  \
		}                                                                \
	} while (0)

/* ------------------------------------------------------------ map setup */
static int on_record(void *ctx, void *data, size_t len)
{
	struct suite *s = ctx;

	if (len < sizeof(struct bh_flow_record) || s->nrecs >= MAX_RECS)
		return 0;
	memcpy(&s->recs[s->nrecs++], data, sizeof(struct bh_flow_record));
	return 0;
}

static void policy_key(struct bh_policy_key *k, __u32 plen, __u8 dir, __u32 id, __u8 proto,
		       __u16 port)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = plen;
	k->dir = dir;
	k->identity[0] = id >> 24;
	k->identity[1] = id >> 16;
	k->identity[2] = id >> 8;
	k->identity[3] = id;
	k->proto = proto;
	k->port[0] = port >> 8;
	k->port[1] = port & 0xff;
}

static int add_rules(int fd, const struct fx_rule *rules)
{
	struct bh_policy_key k;
	struct bh_policy_val v;
	int i;

	for (i = 0; i < FX_MAX_RULES && rules[i].plen; i++) {
		const struct fx_rule *r = &rules[i];

		policy_key(&k, r->plen, r->dir, r->identity, r->proto, r->port);
		memset(&v, 0, sizeof(v));
		v.verdict = r->verdict;
		v.rule_id = r->rule_id;
		v.audit_verdict = r->audit_verdict;
		v.audit_rule_id = r->audit_rule_id;
		v.flags = r->flags;
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* A new fd of the inner map now in the slot (caller closes), or -errno. */
static int inner_fd(struct suite *s)
{
	__u32 slot = FX_SLOT, id = 0;
	int fd;

	if (bpf_map_lookup_elem(s->policy, &slot, &id))
		return -errno;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

/* Build an inner map (policy or deny-all) and swap it into the slot. */
static int install_policy(struct suite *s, const struct fx_rule *rules, bool deny_all)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	__u32 slot = FX_SLOT;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, deny_all ? "bh_t_deny_all" : "bh_t_policy",
			    sizeof(struct bh_policy_key), sizeof(struct bh_policy_val), 64, &o);
	if (fd < 0)
		return -errno;
	err = add_rules(fd, rules);
	if (!err && deny_all) {
		struct bh_policy_key k;
		struct bh_policy_val v = { .verdict = BH_PV_QUARANTINE,
					   .audit_verdict = BH_PV_QUARANTINE };

		policy_key(&k, 8, BH_DIR_META, 0, 0, 0);
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			err = -errno;
	}
	if (!err && bpf_map_update_elem(s->policy, &slot, &fd, BPF_ANY))
		err = -errno;
	close(fd);	/* the outer map holds it now */
	return err;
}

static int add_ipcache(struct suite *s, const char *addr, int plen, __u32 identity)
{
	struct bh_ipcache_key k = { 0 };
	struct bh_ipcache_val v = { .identity = identity };
	struct in_addr a4;

	if (inet_pton(AF_INET, addr, &a4) == 1) {
		k.addr[10] = k.addr[11] = 0xff;
		memcpy(&k.addr[12], &a4, 4);
		k.prefixlen = 96 + plen;
	} else if (inet_pton(AF_INET6, addr, k.addr) == 1) {
		k.prefixlen = plen;
	} else {
		return -EINVAL;
	}
	return bpf_map_update_elem(s->ipcache, &k, &v, BPF_ANY) ? -errno : 0;
}

static int ip_of(const char *addr, struct bh_ip *ip)
{
	struct in_addr a4;

	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		ip->family = 4;
		ip->addr[10] = ip->addr[11] = 0xff;
		memcpy(&ip->addr[12], &a4, 4);
		return 0;
	}
	ip->family = 6;
	return inet_pton(AF_INET6, addr, ip->addr) == 1 ? 0 : -EINVAL;
}

/* The slot's layer 2 identity and a fresh share of the tables. */
static int set_l2(struct suite *s, __u32 slot, bool bound, bool router)
{
	struct bh_l2 l2 = { .flags = (bound ? BH_L2_F_BOUND : 0) | (router ? BH_L2_F_ROUTER : 0) };
	struct bh_share share = { 0 };
	__s64 base = 0;

	memcpy(l2.mac, FX_MAC, 6);
	if (bpf_map_update_elem(s->l2, &slot, &l2, BPF_ANY) ||
	    bpf_map_update_elem(s->share, &slot, &share, BPF_ANY) ||
	    bpf_map_update_elem(s->ct_base, &slot, &base, BPF_ANY))
		return -errno;
	return 0;
}

static int set_workload(struct suite *s, enum fx_mode mode)
{
	static const __u8 modes[] = {
		[FX_ENFORCE] = BH_MODE_ENFORCE,
		[FX_MONITOR] = BH_MODE_MONITOR,
		[FX_LEARN] = BH_MODE_LEARN,
	};
	struct bh_workload w = { .slot = FX_SLOT, .identity = BH_ID_WORKLOAD_BASE + FX_SLOT,
				 .mode = modes[mode], .nr_ips = 2 };
	__u32 ifindex = FX_IFINDEX;

	if (ip_of(FX_WL4, &w.ips[0]) || ip_of(FX_WL6, &w.ips[1]))
		return -EINVAL;
	return bpf_map_update_elem(s->workloads, &ifindex, &w, BPF_ANY) ? -errno : 0;
}

/* Set the value of every entry of a hash map of __u64 (or at offset). */
static int set_all_u64(int fd, size_t key_size, size_t val_size, size_t off, __u64 val)
{
	__u8 key[64], next[64], v[128];
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, v))
			continue;
		memcpy(v + off, &val, sizeof(val));
		if (bpf_map_update_elem(fd, key, v, BPF_EXIST))
			return -errno;
	}
	return val_size ? 0 : -EINVAL;
}

/* Conntrack was edited: as userspace must (bh_maps_ct_changed), bump the
 * generation so the flow caches stop serving what they copied. */
static int ct_changed(struct suite *s)
{
	__u32 zero = 0;
	__u64 gen;

	if (bpf_map_lookup_elem(s->ctgen, &zero, &gen))
		return -errno;
	gen++;
	return bpf_map_update_elem(s->ctgen, &zero, &gen, BPF_ANY) ? -errno : 0;
}

/* Packets counted in conntrack, both directions of every flow. */
static int ct_packets(int fd, size_t key_size, __u64 *sum)
{
	__u8 key[64], next[64];
	struct bh_ct_val v;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (!bpf_map_lookup_elem(fd, next, &v))
			*sum += v.packets[0] + v.packets[1];
		memcpy(key, next, key_size);
		prev = key;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int do_action(struct suite *s, const struct fixture *fx, enum fx_act act)
{
	switch (act) {
	case FX_ACT_NONE:
		return 0;
	case FX_ACT_AGE_CT:
		return set_all_u64(s->ct, sizeof(struct bh_ct_key), sizeof(struct bh_ct_val),
				   offsetof(struct bh_ct_val, last_ns), 1) ?:
		       set_all_u64(s->ct4, sizeof(struct bh_ct4_key), sizeof(struct bh_ct_val),
				   offsetof(struct bh_ct_val, last_ns), 1) ?:
		       ct_changed(s);
	case FX_ACT_AGE_CT_SECS:
		/* past the SYN timeout (5 s), far from any other; the data
		 * path's clock runs a fraction of a second behind (ct.h) */
		return set_all_u64(s->ct, sizeof(struct bh_ct_key), sizeof(struct bh_ct_val),
				   offsetof(struct bh_ct_val, last_ns),
				   bt_now_ns() - 8ULL * 1000000000ULL) ?:
		       set_all_u64(s->ct4, sizeof(struct bh_ct4_key), sizeof(struct bh_ct_val),
				   offsetof(struct bh_ct_val, last_ns),
				   bt_now_ns() - 8ULL * 1000000000ULL) ?:
		       ct_changed(s);
	case FX_ACT_CUT_CT:
		return bt_map_clear(s->ct, sizeof(struct bh_ct_key)) ?:
		       bt_map_clear(s->ct4, sizeof(struct bh_ct4_key)) ?: ct_changed(s);
	case FX_ACT_RL_FUTURE:
		return set_all_u64(s->deny_rl, sizeof(struct bh_ct_key), 8, 0,
				   bt_now_ns() + 3600ULL * 1000000000ULL);
	case FX_ACT_RL_PAST:
		return set_all_u64(s->deny_rl, sizeof(struct bh_ct_key), 8, 0, 1);
	case FX_ACT_QUARANTINE:
		return install_policy(s, fx->qrules, true);
	}
	return -EINVAL;
}

static int reset_state(struct suite *s, const struct fixture *fx)
{
	__u32 slot = FX_SLOT, ifindex = FX_IFINDEX;
	int err;

	if ((err = bt_map_clear(s->ct, sizeof(struct bh_ct_key))) ||
	    (err = bt_map_clear(s->ct4, sizeof(struct bh_ct4_key))) ||
	    (err = bt_map_clear(s->frag, sizeof(struct bh_frag_key))) ||
	    (err = bt_map_clear(s->deny_rl, sizeof(struct bh_ct_key))) ||
	    (err = ct_changed(s)))
		return err;
	ring_buffer__consume(s->rb);
	s->nrecs = 0;
	if (fx->no_workload) {
		if (bpf_map_delete_elem(s->workloads, &ifindex) && errno != ENOENT)
			return -errno;
	} else if ((err = set_workload(s, fx->mode))) {
		return err;
	}
	if ((err = set_l2(s, FX_SLOT, fx->l2_bound, fx->router)))
		return err;
	if (fx->no_policy_map) {
		if (bpf_map_delete_elem(s->policy, &slot) && errno != ENOENT)
			return -errno;
		return 0;
	}
	return fx->quarantined ? install_policy(s, fx->qrules, true)
			       : install_policy(s, fx->rules, false);
}

/* -------------------------------------------------------------- runner */
/* FX_SLOT's stats, pk[direction][reason] */
static void read_stats(struct suite *s, __u64 pk[2][BH_R_MAX], __u64 by[2][BH_R_MAX])
{
	__u64 v[2];
	__u32 d, r;

	for (d = 0; d < 2; d++) {
		for (r = 0; r < BH_R_MAX; r++) {
			assert_int_equal(bh_percpu_sum(s->stats, BH_STATS_INDEX(FX_SLOT, d, r), 2,
						       v), 0);
			pk[d][r] = v[0];
			by[d][r] = v[1];
		}
	}
}

static __u64 read_counter(struct suite *s, __u32 c)
{
	__u64 v = 0;

	assert_int_equal(bh_percpu_sum(s->counters, c, 1, &v), 0);
	return v;
}

static void check_record(struct suite *s, int i, const struct fx_step *st)
{
	static const __u8 events[] = {
		[FX_REC_NEW] = BH_E_NEW, [FX_REC_DENY] = BH_E_DENY, [FX_REC_END] = BH_E_END,
	};
	const struct bh_flow_record *r = &s->recs[0];

	if (st->rec == FX_REC_ANY)
		return;
	if (st->rec == FX_REC_NONE) {
		CHECK_EQ(i, s->nrecs, 0, "flow records");
		return;
	}
	CHECK_EQ(i, s->nrecs, 1, "flow records");
	CHECK_EQ(i, r->event, events[st->rec], "record event");
	CHECK_EQ(i, r->verdict, st->rec_verdict, "record verdict");
	if (st->rec_rule)
		CHECK_EQ(i, r->rule_id, st->rec_rule, "record rule");
	CHECK_EQ(i, r->slot, FX_SLOT, "record slot");
	CHECK_EQ(i, r->ifindex, FX_IFINDEX, "record ifindex");
	CHECK_EQ(i, r->reason, st->rec == FX_REC_END ? r->reason : st->reason, "record reason");
	if (st->rec == FX_REC_END) {
		if (r->packets < 3) {
			print_error("step %d: END record counts %llu packets\n", i,
				    (unsigned long long)r->packets);
			fail();
		}
		return;
	}
	CHECK_EQ(i, r->dir, st->prog == FX_EGRESS ? BH_DIR_EGRESS : BH_DIR_INGRESS, "record dir");
	CHECK_EQ(i, r->family, st->pkt.arp ? 0 : st->pkt.family, "record family");
	CHECK_EQ(i, r->proto, st->pkt.arp ? 0 : st->pkt.proto, "record proto");
	if (st->pkt.proto == IPPROTO_TCP || st->pkt.proto == IPPROTO_UDP) {
		CHECK_EQ(i, r->sport, st->pkt.sport, "record sport");
		CHECK_EQ(i, r->dport, st->pkt.dport, "record dport");
	}
}

/* Per-rule counters (an array by rule id, read in batches): packets and
 * bytes of one rule (of the overflow slot if its id is beyond the map,
 * where the data path counts it), and packets over every rule. */
static void read_rule(struct suite *s, __u32 rule, __u64 *pk, __u64 *by, __u64 *all)
{
	enum { BATCH = 4096 };
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info), keys[BATCH], token = 0, count;
	int ncpu = libbpf_num_possible_cpus(), first = 1, done = 0;
	__u64 *vals;

	*pk = *by = *all = 0;
	assert_true(ncpu > 0);
	assert_int_equal(bpf_obj_get_info_by_fd(s->rule_stats, &info, &info_len), 0);
	if (rule >= info.max_entries)
		rule = BH_RULE_STATS_OVERFLOW;
	vals = calloc((size_t)BATCH * ncpu * 2, sizeof(*vals));
	assert_non_null(vals);
	while (!done) {
		count = BATCH;
		if (bpf_map_lookup_batch(s->rule_stats, first ? NULL : &token, &token, keys, vals,
					 &count, &bo)) {
			assert_int_equal(errno, ENOENT);
			done = 1;
		}
		first = 0;
		for (__u32 k = 0; k < count; k++) {
			__u64 sum[2] = { 0, 0 };

			bh_percpu_fold(vals + (size_t)k * ncpu * 2, ncpu, 2, sum);
			*all += sum[0];
			if (keys[k] == rule) {
				*pk += sum[0];
				*by += sum[1];
			}
		}
	}
	free(vals);
}

/* Reasons for which a rule, when one is named, decided the packet. */
static bool rule_decides(__u8 reason)
{
	return reason == BH_R_POLICY_ALLOW || reason == BH_R_POLICY_DENY ||
	       reason == BH_R_LEARN || reason == BH_R_FORENSICS;
}

/* Run one step and check verdict and counters (records are left). */
static void run_step_nocollect(struct suite *s, bool xdp, int i, const struct fx_step *st)
{
	__u64 pk0[2][BH_R_MAX], by0[2][BH_R_MAX], pk1[2][BH_R_MAX], by1[2][BH_R_MAX];
	__u64 c0 = 0, total = 0, rpk0, rby0, rall0, rpk1, rby1, rall1;
	__u8 frame[PKT_MAX];
	__u32 ret = 0, want;
	int len, prog, r, k, d;
	bool use_xdp = xdp && st->prog == FX_EGRESS;
	/* seen from the workload: what it sends is egress */
	int dir = st->prog == FX_EGRESS ? BH_DIR_EGRESS : BH_DIR_INGRESS;

	len = pkt_build(&st->pkt, frame, sizeof(frame));
	CHECK_EQ(i, len > 0, 1, "packet builds");
	if (st->trunc && st->trunc < len)
		len = st->trunc;
	for (k = 0; k < st->npoke && k < 2; k++)
		frame[st->poke_off[k]] = st->poke_val[k];

	if (use_xdp)
		prog = bpf_program__fd(s->xdp->progs.bh_xdp_from_container);
	else if (st->prog == FX_EGRESS)
		prog = bpf_program__fd(s->tc->progs.bh_tc_from_container);
	else
		prog = bpf_program__fd(s->tc->progs.bh_tc_to_container);

	read_stats(s, pk0, by0);
	read_rule(s, st->rec_rule, &rpk0, &rby0, &rall0);
	if (st->counter)
		c0 = read_counter(s, st->counter - 1);
	s->nrecs = 0;

	CHECK_EQ(i, bt_run(prog, frame, (size_t)len, &ret), 0, "BPF_PROG_TEST_RUN");
	if (use_xdp)
		want = st->pass ? XDP_PASS : XDP_DROP;
	else
		want = st->pass ? TC_ACT_OK : TC_ACT_SHOT;
	CHECK_EQ(i, ret, want, st->pass ? "verdict (want pass)" : "verdict (want drop)");

	read_stats(s, pk1, by1);
	for (d = 0; d < 2; d++) {
		for (r = 0; r < BH_R_MAX; r++) {
			total += pk1[d][r] - pk0[d][r];
			if (pk1[d][r] != pk0[d][r] && (r != st->reason || d != dir))
				print_error("step %d: counted under direction %d reason %d, want"
					    " %d %d\n", i, d, r, dir, st->reason);
		}
	}
	if (st->reason == FX_NO_REASON) {
		CHECK_EQ(i, total, 0, "packets counted under any reason");
	} else {
		CHECK_EQ(i, pk1[dir][st->reason] - pk0[dir][st->reason], 1,
			 "packets under the direction and expected reason");
		CHECK_EQ(i, by1[dir][st->reason] - by0[dir][st->reason], len,
			 "bytes under the direction and expected reason");
		CHECK_EQ(i, total, 1, "packets counted under any reason");
	}
	if (st->counter)
		CHECK_EQ(i, read_counter(s, st->counter - 1) - c0, 1, "global counter");
	if (st->ct_packets) {
		__u64 sum = 0;

		CHECK_EQ(i, ct_packets(s->ct, sizeof(struct bh_ct_key), &sum) ?:
			    ct_packets(s->ct4, sizeof(struct bh_ct4_key), &sum), 0,
			 "conntrack readable");
		CHECK_EQ(i, sum, st->ct_packets, "packets counted in conntrack");
	}
	/* The rule named by the step counts this packet, and no other rule
	 * does; a packet no rule decided counts under none. */
	read_rule(s, st->rec_rule, &rpk1, &rby1, &rall1);
	if (st->rec_rule && rule_decides(st->reason)) {
		CHECK_EQ(i, rpk1 - rpk0, 1, "packets under the deciding rule");
		CHECK_EQ(i, rby1 - rby0, len, "bytes under the deciding rule");
		CHECK_EQ(i, rall1 - rall0, 1, "packets under any rule");
	} else if (st->reason == FX_NO_REASON || !rule_decides(st->reason)) {
		CHECK_EQ(i, rall1 - rall0, 0, "packets under any rule (none decided)");
	}

}

static void run_step(struct suite *s, bool xdp, int i, const struct fx_step *st)
{
	run_step_nocollect(s, xdp, i, st);
	ring_buffer__consume(s->rb);
	check_record(s, i, st);
}

static void test_fixture(void **state)
{
	struct fx_case *c = *state;
	const struct fixture *fx = c->fx;
	int i;

	assert_int_equal(reset_state(c->s, fx), 0);
	for (i = 0; i < FX_MAX_STEPS && fx->steps[i].prog != FX_END; i++) {
		assert_int_equal(do_action(c->s, fx, fx->steps[i].before), 0);
		run_step(c->s, c->xdp, i, &fx->steps[i]);
	}
}


/* ------------------------------------------------------- full maps
 * Each case gets its own small instance (pins in its own directory).
 */
static int suite_open(struct suite *s, const char *tag, const struct suite_sizes *sz, char *why,
		      size_t len);
static void suite_close(struct suite *s);

/* The small suite of the case running, if any: a failed assertion leaves
 * its case before small_suite_close, so main closes it (its pins). */
static struct suite *small_open;

static void small_suite_close(struct suite *t)
{
	suite_close(t);
	free(t);
	if (small_open == t)
		small_open = NULL;
}

static struct suite *small_suite(const char *tag, const struct suite_sizes *sz)
{
	struct suite *t = calloc(1, sizeof(*t));
	struct suite_sizes z = *sz;
	char why[256];

	assert_non_null(t);
	if (small_open)		/* left by a failed case */
		small_suite_close(small_open);
	small_open = t;
	/* every step reads the whole per-rule array: keep it small */
	if (!z.rule_stats)
		z.rule_stats = 1024;
	if (suite_open(t, tag, &z, why, sizeof(why))) {
		print_error("%s\n", why);
		small_suite_close(t);
		fail();
	}
	return t;
}

/*
 * Per-rule counters accumulate: three new flows allowed by rule 11 and one
 * denied by rule 41 count under those rules, the established packets of
 * the allowed flows under none, a default deny under none.
 */
static void test_rule_stats(void **state)
{
	struct suite *s = *state;
	struct fixture fx = { .desc = "rule stats", .rules = { WEB_POLICY,
		DENY_PORT(EG, FX_ID_PEER, IPPROTO_TCP, 22, 41) } };
	struct fx_step syn = { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 0, 80, FX_SYN),
			       PASS(BH_R_POLICY_ALLOW), .rec_rule = 11 };
	struct fx_step ack = { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 0, 80, FX_ACK),
			       PASS(BH_R_ESTABLISHED) };
	struct fx_step deny = { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 22, FX_SYN),
				DROP(BH_R_POLICY_DENY), .rec_rule = 41 };
	struct fx_step dflt = { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 23, FX_SYN),
				DROP(BH_R_DEFAULT_DENY) };
	__u64 pk11_0, by11_0, all0, pk11, by11, all, pk41_0, by41_0, pk41, by41;
	__u8 frame[PKT_MAX];
	int i, len;

	assert_int_equal(reset_state(s, &fx), 0);
	read_rule(s, 11, &pk11_0, &by11_0, &all0);
	read_rule(s, 41, &pk41_0, &by41_0, &all0);
	for (i = 0; i < 3; i++) {
		syn.pkt.sport = ack.pkt.sport = (__u16)(41000 + i);
		run_step_nocollect(s, true, i, &syn);
		run_step_nocollect(s, false, i, &ack);
	}
	run_step_nocollect(s, false, 3, &deny);
	run_step_nocollect(s, true, 4, &dflt);
	ring_buffer__consume(s->rb);
	read_rule(s, 11, &pk11, &by11, &all);
	read_rule(s, 41, &pk41, &by41, &all);
	len = pkt_build(&syn.pkt, frame, sizeof(frame));
	assert_true(len > 0);
	assert_int_equal(pk11 - pk11_0, 3);
	assert_int_equal(by11 - by11_0, 3 * (__u64)len);
	assert_int_equal(pk41 - pk41_0, 1);
	assert_int_equal(all - all0, 4);
}

/*
 * More rules than per-rule slots: the packet's verdict is unchanged, every
 * rule whose id fits is counted in its own slot, the others together in
 * the overflow slot, and nothing is lost.
 */
static void test_rule_stats_full(void **state)
{
	struct suite_sizes sz = { .rule_stats = 16 };
	struct suite *t = small_suite("rules", &sz);
	struct fx_step st = { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 1000, FX_SYN),
			      PASS(BH_R_POLICY_ALLOW) };
	struct fixture fx = { .desc = "rules full", .rules = { ISOLATED(EG) } };
	__u64 pk, by, all, over, own = 0;
	int i, inner;

	(void)state;
	assert_int_equal(reset_state(t, &fx), 0);
	/* 48 rules (ids 1..48), one per port: each new flow is decided by its
	 * own rule; ids 1..15 have a slot, 16..48 share the overflow slot 0 */
	inner = inner_fd(t);
	assert_true(inner >= 0);
	for (i = 0; i < 48; i++) {
		struct fx_rule r[2] = { ALLOW_PORT(EG, FX_ID_PEER, IPPROTO_TCP, 1000 + i, 1 + i) };

		assert_int_equal(add_rules(inner, r), 0);
	}
	close(inner);
	for (i = 0; i < 48; i++) {
		st.pkt.dport = (__u16)(1000 + i);
		st.rec_rule = (__u32)(1 + i);
		run_step_nocollect(t, true, i, &st);
		ring_buffer__consume(t->rb);
	}
	for (i = 1; i < 16; i++) {
		read_rule(t, (__u32)i, &pk, &by, &all);
		own += pk == 1;
	}
	read_rule(t, BH_RULE_STATS_OVERFLOW, &over, &by, &all);
	small_suite_close(t);
	assert_int_equal(own, 15);
	assert_int_equal(over, 33);
	assert_int_equal(all, 48);
}

/*
 * A full ring buffer: one page, flooded with new flows nobody reads.
 * Records that do not fit are counted lost; every packet still passes.
 */
static void test_ring_full(void **state)
{
	struct suite_sizes sz = { .ring = (__u32)getpagesize() };
	struct suite *t = small_suite("ring", &sz);
	struct fx_step st = { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 0, 53), PASS(BH_R_NOT_ISOLATED) };
	struct fixture fx = { .desc = "ring" };
	__u64 rec0, lost0, rec, lost;
	int i;

	(void)state;
	assert_int_equal(reset_state(t, &fx), 0);
	rec0 = read_counter(t, BH_C_RECORDS);
	lost0 = read_counter(t, BH_C_RECORDS_LOST);
	for (i = 0; i < 128; i++) {
		st.pkt.sport = (__u16)(1000 + i);
		run_step_nocollect(t, true, i, &st);
	}
	rec = read_counter(t, BH_C_RECORDS) - rec0;
	lost = read_counter(t, BH_C_RECORDS_LOST) - lost0;
	print_message("ring of %u bytes: %llu records written, %llu lost\n", sz.ring,
		      (unsigned long long)rec, (unsigned long long)lost);
	small_suite_close(t);
	assert_int_equal(rec + lost, 128);
	assert_true(rec > 0);
	assert_true(lost > 0);
}

/*
 * A full conntrack table evicts the least recently used flow: its reply
 * is then judged by policy (denied here), the newest flow's reply passes.
 */
static void test_ct_full(void **state)
{
	struct suite_sizes sz = { .ct = 32 };
	struct suite *t = small_suite("ctfull", &sz);
	struct fixture fx = { .desc = "ct full", .rules = { WEB_POLICY } };
	struct fx_step syn = { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 0, 80, FX_SYN),
			       PASS(BH_R_POLICY_ALLOW) };
	struct fx_step reply = { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 80, 0, FX_SYN | FX_ACK) };
	int i;

	(void)state;
	assert_int_equal(reset_state(t, &fx), 0);
	for (i = 0; i < 128; i++) {
		syn.pkt.sport = (__u16)(20000 + i);
		run_step_nocollect(t, false, i, &syn);
	}
	reply.pkt.dport = 20000;	/* oldest: evicted */
	reply.pass = false;
	reply.reason = BH_R_DEFAULT_DENY;
	run_step_nocollect(t, false, 200, &reply);
	reply.pkt.dport = 20000 + 127;	/* newest: kept */
	reply.pass = true;
	reply.reason = BH_R_ESTABLISHED;
	run_step_nocollect(t, false, 201, &reply);
	small_suite_close(t);
}

/*
 * A full fragment table forgets the oldest datagram: its later fragment
 * is dropped, the newest datagram's later fragment passes.
 */
static void test_frag_full(void **state)
{
	struct suite_sizes sz = { .frag = 32 };
	struct suite *t = small_suite("fragfull", &sz);
	struct fixture fx = { .desc = "frag full" };
	struct fx_step first = { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4,
					       .proto = IPPROTO_UDP, .sport = 7, .dport = 53,
					       .payload = 64, .more_frags = true },
				 PASS(BH_R_NOT_ISOLATED) };
	struct fx_step later = { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4,
					       .proto = IPPROTO_UDP, .payload = 64,
					       .frag_off = 9 } };
	int i;

	(void)state;
	assert_int_equal(reset_state(t, &fx), 0);
	/* one flow, many datagrams: the first fragment creates the CT entry */
	for (i = 0; i < 128; i++) {
		first.pkt.frag_id = (__u32)(100 + i);
		first.reason = i ? BH_R_ESTABLISHED : BH_R_NOT_ISOLATED;
		run_step_nocollect(t, true, i, &first);
	}
	later.pkt.frag_id = 100;	/* oldest: forgotten */
	later.pass = false;
	later.reason = BH_R_FRAGMENT;
	run_step_nocollect(t, true, 200, &later);
	later.pkt.frag_id = 100 + 127;	/* newest: known */
	later.pass = true;
	later.reason = BH_R_ESTABLISHED;
	run_step_nocollect(t, true, 201, &later);
	small_suite_close(t);
}

/* One XDP run of a frame, no counters read (fast, for floods and for
 * steps of a workload in another slot): the verdict, or -1. */
static int run_xdp_raw(struct suite *s, const struct pkt_opts *o)
{
	__u8 frame[PKT_MAX];
	__u32 ret = 0;
	int len = pkt_build(o, frame, sizeof(frame));

	if (len <= 0 || bt_run(bpf_program__fd(s->xdp->progs.bh_xdp_from_container), frame,
			       (size_t)len, &ret))
		return -1;
	return (int)ret;
}

/*
 * The conntrack share (share.h): a workload whose count reaches BH_CT_SHARE
 * gets no new flow (dropped as ct-share, counted in ct_refused), its
 * established flows go on, another workload's new flows pass, and a
 * recount that lowers the count (base) lets it open flows again.
 */
static void test_ct_share(void **state)
{
	struct suite *s = *state;
	struct fixture fx = { .desc = "ct share" };
	struct fx_step st = { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 0, 53), PASS(BH_R_NOT_ISOLATED) };
	__u32 slot = FX_SLOT, other = FX_SLOT + 1, ifindex = FX_IFINDEX;
	__s64 base = BH_CT_SHARE - 3;
	struct bh_share sh;
	struct bh_workload w;

	(void)state;
	assert_int_equal(reset_state(s, &fx), 0);
	assert_int_equal(bpf_map_update_elem(s->ct_base, &slot, &base, BPF_ANY), 0);
	for (int i = 0; i < 3; i++) {
		st.pkt.sport = (__u16)(1000 + i);
		run_step_nocollect(s, true, i, &st);
	}
	st.pkt.sport = 2000;
	st.pass = false;
	st.reason = BH_R_CT_SHARE;
	run_step_nocollect(s, true, 3, &st);
	run_step_nocollect(s, false, 4, &st);
	assert_int_equal(bpf_map_lookup_elem(s->share, &slot, &sh), 0);
	assert_int_equal(sh.ct_created, 3);
	assert_int_equal(sh.ct_refused, 2);
	/* its established flows go on */
	st.pkt.sport = 1000;
	st.pass = true;
	st.reason = BH_R_ESTABLISHED;
	run_step_nocollect(s, true, 5, &st);
	/* another workload (same interface, another slot) opens flows */
	assert_int_equal(bpf_map_lookup_elem(s->workloads, &ifindex, &w), 0);
	w.slot = other;
	assert_int_equal(bpf_map_update_elem(s->workloads, &ifindex, &w, BPF_ANY), 0);
	assert_int_equal(set_l2(s, other, false, false), 0);
	st.pkt.sport = 2001;
	assert_int_equal(run_xdp_raw(s, &st.pkt), XDP_PASS);
	assert_int_equal(bpf_map_lookup_elem(s->share, &other, &sh), 0);
	assert_int_equal(sh.ct_created, 1);
	st.reason = BH_R_NOT_ISOLATED;
	/* a recount found fewer entries: room again */
	w.slot = slot;
	assert_int_equal(bpf_map_update_elem(s->workloads, &ifindex, &w, BPF_ANY), 0);
	base = BH_CT_SHARE - 10 - 3;
	assert_int_equal(bpf_map_update_elem(s->ct_base, &slot, &base, BPF_ANY), 0);
	st.pkt.sport = 2002;
	run_step_nocollect(s, true, 7, &st);
}

/*
 * The record budget (share.h): a workload flooding new denied flows gets
 * BH_SHARE_REC_BURST records and deny rate-limit entries, then none (they
 * count as lost and in records_limited); another workload's denied flow
 * still gets its record and entry.
 */
static void test_record_share(void **state)
{
	struct suite *s = *state;
	struct fixture fx = { .desc = "record share", .rules = { ISOLATED(EG) } };
	struct fx_step st = { OUT, .pkt = UDP4(FX_WL4, FX_PEER4, 0, 53), DROP(BH_R_DEFAULT_DENY) };
	__u32 slot = FX_SLOT, other = FX_SLOT + 1, ifindex = FX_IFINDEX, n = 0;
	__u64 rec0, lost0, rl = 0;
	struct bh_share sh;
	struct bh_workload w;
	__u8 key[64], next[64];
	void *prev = NULL;

	(void)state;
	assert_int_equal(reset_state(s, &fx), 0);
	rec0 = read_counter(s, BH_C_RECORDS);
	lost0 = read_counter(s, BH_C_RECORDS_LOST);
	/* until the budget is visibly used up: the flood outruns the refill
	 * (1/ms) on any machine that runs a test run in under 1 ms; bounded */
	for (__u32 i = 0; i < 60000; i++) {
		st.pkt.sport = (__u16)(1 + i);
		assert_int_equal(run_xdp_raw(s, &st.pkt), XDP_DROP);
		if (i % 1024 == 0)
			ring_buffer__consume(s->rb);
		n = i + 1;
		if (i >= BH_SHARE_REC_BURST && i % 64 == 0 &&
		    !bpf_map_lookup_elem(s->share, &slot, &sh) && sh.records_limited >= 64)
			break;
	}
	ring_buffer__consume(s->rb);
	assert_int_equal(bpf_map_lookup_elem(s->share, &slot, &sh), 0);
	print_message("%u new denied flows: %llu records, %llu over budget\n", n,
		      (unsigned long long)(read_counter(s, BH_C_RECORDS) - rec0),
		      (unsigned long long)sh.records_limited);
	/* the budget refills at 1/ms while the flood runs: allow for it */
	assert_true(read_counter(s, BH_C_RECORDS) - rec0 >= BH_SHARE_REC_BURST);
	assert_true(sh.records_limited > 0);
	assert_int_equal(read_counter(s, BH_C_RECORDS) - rec0 + sh.records_limited, n);
	assert_int_equal(read_counter(s, BH_C_RECORDS_LOST) - lost0, sh.records_limited);
	while (!bpf_map_get_next_key(s->deny_rl, prev, next)) {
		memcpy(key, next, sizeof(struct bh_ct_key));
		prev = key;
		rl++;
	}
	assert_int_equal(rl, read_counter(s, BH_C_RECORDS) - rec0);
	/* the other workload, isolated too: its denied flow is recorded */
	assert_int_equal(bpf_map_lookup_elem(s->workloads, &ifindex, &w), 0);
	w.slot = other;
	assert_int_equal(bpf_map_update_elem(s->workloads, &ifindex, &w, BPF_ANY), 0);
	assert_int_equal(set_l2(s, other, false, false), 0);
	{
		__u32 fd = inner_fd(s);

		assert_true((int)fd >= 0);
		assert_int_equal(bpf_map_update_elem(s->policy, &other, &fd, BPF_ANY), 0);
		close((int)fd);
	}
	ring_buffer__consume(s->rb);
	s->nrecs = 0;
	st.pkt.sport = 61000;
	assert_int_equal(run_xdp_raw(s, &st.pkt), XDP_DROP);
	ring_buffer__consume(s->rb);
	assert_int_equal(s->nrecs, 1);
	assert_int_equal(s->recs[0].slot, other);
	assert_int_equal(s->recs[0].verdict, BH_V_DENY);
	assert_int_equal(s->recs[0].event, BH_E_NEW);
	w.slot = slot;
	assert_int_equal(bpf_map_update_elem(s->workloads, &ifindex, &w, BPF_ANY), 0);
}

/* The workload of the fixture's interface is slot now: its own policy
 * (the suite's inner map) and an unbound layer 2. */
static void move_workload(struct suite *t, __u32 slot)
{
	__u32 ifindex = FX_IFINDEX;
	struct bh_workload w;
	int fd;

	assert_int_equal(bpf_map_lookup_elem(t->workloads, &ifindex, &w), 0);
	w.slot = slot;
	assert_int_equal(bpf_map_update_elem(t->workloads, &ifindex, &w, BPF_ANY), 0);
	assert_int_equal(set_l2(t, slot, false, false), 0);
	fd = inner_fd(t);
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_update_elem(t->policy, &slot, &fd, BPF_ANY), 0);
	close(fd);
}

/* New allowed flows of the workload until n records of its were refused
 * or `most` flows were sent; the flows sent. Nothing is consumed. */
static __u32 flood_records(struct suite *t, __u32 slot, __u16 *port, __u32 most, __u64 n)
{
	struct pkt_opts p = UDP4(FX_WL4, FX_PEER4, 0, 53);
	struct bh_share sh;
	__u32 i;

	for (i = 0; i < most; i++) {
		p.sport = (*port)++;
		assert_int_equal(run_xdp_raw(t, &p), XDP_PASS);
		assert_int_equal(bpf_map_lookup_elem(t->share, &slot, &sh), 0);
		if (sh.records_limited >= n)
			return i + 1;
	}
	return i;
}

/*
 * Many workloads outrunning the reader (share.h): once the ring is three
 * quarters full, a workload that wrote steadily gets no more records,
 * and one that was quiet still gets its burst into the last quarter. A
 * 64 KiB ring, never consumed while it fills: one workload, within its
 * burst of 4,096, fills it past three quarters, as many would together.
 * The budget refills in real time (one record per 16 ms past three
 * quarters): a flood slowed down enough to be refilled to the ring's end
 * shows as records lost to a full ring rather than refused; the flood is
 * then run again from a fresh budget, up to three times in all.
 */
static void test_record_share_tight(void **state)
{
	struct suite_sizes sz = { .ring = 64 * 1024 };
	struct suite *t = small_suite("tight", &sz);
	struct fixture fx = { .desc = "tight record share" };
	__u32 heavy = FX_SLOT, quiet = FX_SLOT + 1, sent = 0;
	__u64 rec0 = 0, rec1, lost0, full = 0;
	struct bh_share sh, zero = { 0 };
	__u16 port = 1000;
	int attempt;

	(void)state;
	for (attempt = 0; attempt < 3; attempt++) {
		assert_int_equal(reset_state(t, &fx), 0);	/* consumes the ring */
		assert_int_equal(bpf_map_update_elem(t->share, &heavy, &zero, BPF_ANY), 0);
		assert_int_equal(bpf_map_update_elem(t->share, &quiet, &zero, BPF_ANY), 0);
		rec0 = read_counter(t, BH_C_RECORDS);
		lost0 = read_counter(t, BH_C_RECORDS_LOST);
		/* bounded: far more flows than 64 KiB holds records */
		sent = flood_records(t, heavy, &port, 4000, 8);
		assert_int_equal(bpf_map_lookup_elem(t->share, &heavy, &sh), 0);
		full = read_counter(t, BH_C_RECORDS_LOST) - lost0 - sh.records_limited;
		if (!full)
			break;
		print_message("the flood was refilled to a full ring (%llu records lost to it): "
			      "again\n", (unsigned long long)full);
	}
	rec1 = read_counter(t, BH_C_RECORDS);
	print_message("steady workload: %u flows, %llu records, %llu over budget\n", sent,
		      (unsigned long long)(rec1 - rec0), (unsigned long long)sh.records_limited);
	assert_int_equal(full, 0);
	assert_true(sh.records_limited >= 8);
	/* refused past three quarters of the ring (over 512 records) */
	assert_true((rec1 - rec0) * (sizeof(struct bh_flow_record) + 8) > sz.ring / 4 * 3);

	move_workload(t, quiet);
	assert_int_equal(flood_records(t, quiet, &port, 20, 1), 20);
	assert_int_equal(read_counter(t, BH_C_RECORDS) - rec1, 20);
	assert_int_equal(bpf_map_lookup_elem(t->share, &quiet, &sh), 0);
	assert_int_equal(sh.records_limited, 0);
	/* and the steady one is refused again at once: 8 more refusals in
	 * at most 100 flows, where the refill gives one per 16 ms */
	move_workload(t, heavy);
	assert_int_equal(bpf_map_lookup_elem(t->share, &heavy, &sh), 0);
	assert_true(flood_records(t, heavy, &port, 100, sh.records_limited + 8) < 100);
	small_suite_close(t);
}

/*
 * A first fragment is remembered only once it passed: a denied one leaves
 * the fragment table empty, an allowed one fills it.
 */
static void test_frag_after_policy(void **state)
{
	struct suite *s = *state;
	struct fixture fx = { .desc = "frag after policy", .rules = { WEB_POLICY } };
	struct fx_step st = { OUT, .pkt = { .family = 4, .src = FX_WL4, .dst = FX_PEER4,
					    .proto = IPPROTO_TCP, .sport = 40000, .dport = 81,
					    .tcp_flags = FX_SYN, .payload = 64, .more_frags = true,
					    .frag_id = 7 },
			      DROP(BH_R_DEFAULT_DENY) };
	__u8 next[64];

	(void)state;
	assert_int_equal(reset_state(s, &fx), 0);
	run_step_nocollect(s, true, 0, &st);
	assert_int_not_equal(bpf_map_get_next_key(s->frag, NULL, next), 0);
	st.pkt.dport = 80;
	st.pass = true;
	st.reason = BH_R_POLICY_ALLOW;
	run_step_nocollect(s, true, 1, &st);
	assert_int_equal(bpf_map_get_next_key(s->frag, NULL, next), 0);
}

/* ------------------------------------------------------------- suite */

/*
 * Services (lib/bpf/svc.h): a new flow to a Service frontend is not judged
 * by the veth's program. Under a default-deny egress it passes, counted
 * under no reason, with a conntrack entry flagged BH_CT_F_SVC; a
 * retransmit passes the same way (on to the post-NAT hook); a reply to
 * the container while the flag stands is dropped (the hook judges before
 * any reply can come); once the hook cleared the flag the flow is an
 * ordinary established one. The same flow to a port that is no frontend
 * meets the default deny.
 */
static void test_svc_frontend(void **state)
{
	struct suite *s = *state;
	struct fixture fx = { .desc = "svc frontend", .rules = { ISOLATED(EG) } };
	struct fx_step out = { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40000, 5432, FX_SYN),
			       PASS(FX_NO_REASON) };
	struct fx_step back = { INTO, .pkt = TCP4(FX_PEER4, FX_WL4, 5432, 40000, FX_SYN | FX_ACK),
				DROP(BH_R_DEFAULT_DENY) };
	struct fx_step other = { OUT, .pkt = TCP4(FX_WL4, FX_PEER4, 40001, 5433, FX_SYN),
				 DROP(BH_R_DEFAULT_DENY) };
	int svc = bpf_map__fd(s->tc->maps.bh_svc_v1);
	struct bh_svc_key k = { .port = htons(5432), .proto = IPPROTO_TCP };
	struct bh_svc_val v = { 0 };
	struct bh_ct4_key ck, *prev = NULL;
	struct bh_ct_val cv;
	struct bh_ip ip;
	int n;

	assert_int_equal(ip_of(FX_PEER4, &ip), 0);
	memcpy(k.addr, ip.addr, 16);
	for (int xdp = 0; xdp < 2; xdp++) {
		assert_int_equal(reset_state(s, &fx), 0);
		assert_int_equal(bpf_map_update_elem(svc, &k, &v, BPF_ANY), 0);
		out.pass = true;
		out.reason = FX_NO_REASON;
		run_step_nocollect(s, xdp, 0, &out);
		/* one entry, flagged */
		n = 0;
		prev = NULL;
		while (!bpf_map_get_next_key(s->ct4, prev, &ck)) {
			n++;
			prev = &ck;
		}
		assert_int_equal(n, 1);
		assert_int_equal(bpf_map_lookup_elem(s->ct4, &ck, &cv), 0);
		assert_true(cv.flags & BH_CT_F_SVC);
		run_step_nocollect(s, xdp, 1, &out);
		back.pass = false;
		back.reason = BH_R_DEFAULT_DENY;
		run_step_nocollect(s, false, 2, &back);
		/* the hook allowed it */
		cv.flags &= (__u8)~BH_CT_F_SVC;
		assert_int_equal(bpf_map_update_elem(s->ct4, &ck, &cv, BPF_EXIST), 0);
		assert_int_equal(ct_changed(s), 0);
		back.pass = true;
		back.reason = BH_R_ESTABLISHED;
		run_step_nocollect(s, false, 3, &back);
		run_step_nocollect(s, xdp, 4, &other);
		assert_int_equal(bpf_map_delete_elem(svc, &k), 0);
	}
}

static int set_size(struct bpf_map *a, struct bpf_map *b, __u32 n)
{
	if (!n)
		return 0;
	if (bpf_map__set_max_entries(a, n) || bpf_map__set_max_entries(b, n))
		return -EINVAL;
	return 0;
}

static int suite_open(struct suite *s, const char *tag, const struct suite_sizes *sz, char *why,
		      size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	int err;

	err = bt_bpffs_dir(tag, s->pin_dir, sizeof(s->pin_dir));
	if (err) {
		s->pin_dir[0] = 0;
		snprintf(why, len, "no bpffs directory: %s", strerror(-err));
		return err;
	}
	oo.pin_root_path = s->pin_dir;
	s->xdp = bulkhead_xdp__open_opts(&oo);
	s->tc = bulkhead_tc__open_opts(&oo);
	if (!s->xdp || !s->tc) {
		snprintf(why, len, "cannot open the BPF objects: %s", strerror(errno));
		return -EINVAL;
	}
	/* both objects must agree, or the second one cannot reuse the pins */
	if (sz && (set_size(s->xdp->maps.bh_flows_v1, s->tc->maps.bh_flows_v1, sz->ring) ||
		   set_size(s->xdp->maps.bh_ct_v3, s->tc->maps.bh_ct_v3, sz->ct) ||
		   set_size(s->xdp->maps.bh_ct4_v2, s->tc->maps.bh_ct4_v2, sz->ct) ||
		   set_size(s->xdp->maps.bh_frag_v1, s->tc->maps.bh_frag_v1, sz->frag) ||
		   set_size(s->xdp->maps.bh_rule_stats_v2, s->tc->maps.bh_rule_stats_v2,
			    sz->rule_stats))) {
		snprintf(why, len, "cannot size the maps");
		return -EINVAL;
	}
	/* A flow cache entry lives 1000 times longer than in the product
	 * (10 s for TCP): the flow cache steps count on an entry staying
	 * between two steps, however long this process waits for a CPU. */
	s->xdp->rodata->bh_cfg_fc_life_factor = 1000;
	s->tc->rodata->bh_cfg_fc_life_factor = 1000;
	/* XDP first creates the pins, TC reuses them by name */
	err = bulkhead_xdp__load(s->xdp);
	if (!err)
		err = bulkhead_tc__load(s->tc);
	if (err) {
		snprintf(why, len, "cannot load the BPF programs: %s", strerror(-err));
		return err;
	}
	s->workloads = bpf_map__fd(s->xdp->maps.bh_workloads_v1);
	s->ipcache = bpf_map__fd(s->xdp->maps.bh_ipcache_v1);
	s->policy = bpf_map__fd(s->xdp->maps.bh_policy_v1);
	s->ct = bpf_map__fd(s->xdp->maps.bh_ct_v3);
	s->ct4 = bpf_map__fd(s->xdp->maps.bh_ct4_v2);
	s->ctgen = bpf_map__fd(s->xdp->maps.bh_ctgen_v1);
	s->frag = bpf_map__fd(s->xdp->maps.bh_frag_v1);
	s->deny_rl = bpf_map__fd(s->xdp->maps.bh_deny_rl_v2);
	s->stats = bpf_map__fd(s->xdp->maps.bh_stats_v3);
	s->counters = bpf_map__fd(s->xdp->maps.bh_counters_v1);
	s->rule_stats = bpf_map__fd(s->xdp->maps.bh_rule_stats_v2);
	s->l2 = bpf_map__fd(s->xdp->maps.bh_l2_v1);
	s->share = bpf_map__fd(s->xdp->maps.bh_share_v1);
	s->ct_base = bpf_map__fd(s->xdp->maps.bh_ct_base_v1);
	s->rb = ring_buffer__new(bpf_map__fd(s->xdp->maps.bh_flows_v1), on_record, s, NULL);
	if (!s->rb) {
		snprintf(why, len, "ring_buffer__new: %s", strerror(errno));
		return -errno;
	}
	if ((err = add_ipcache(s, FX_PEER4, 32, FX_ID_PEER)) ||
	    (err = add_ipcache(s, FX_PEER6, 128, FX_ID_PEER)) ||
	    (err = add_ipcache(s, "10.1.0.0", 16, FX_ID_CIDR)) ||
	    (err = add_ipcache(s, FX_WL4, 32, BH_ID_WORKLOAD_BASE + FX_SLOT))) {
		snprintf(why, len, "ipcache: %s", strerror(-err));
		return err;
	}
	return 0;
}

static void suite_close(struct suite *s)
{
	ring_buffer__free(s->rb);
	bulkhead_tc__destroy(s->tc);
	bulkhead_xdp__destroy(s->xdp);
	if (s->pin_dir[0])
		bt_bpffs_remove(s->pin_dir);
}

static bool has_egress(const struct fixture *fx)
{
	int i;

	for (i = 0; i < FX_MAX_STEPS; i++)
		if (fx->steps[i].prog == FX_EGRESS)
			return true;
	return false;
}

int main(void)
{
	struct suite s = { 0 };
	struct fx_case *cases;
	struct CMUnitTest *tests;
	char why[256] = "";
	size_t i, n = 0;
	int rc;

	/* output into a closed pipe must not kill us before the pins go */
	signal(SIGPIPE, SIG_IGN);
	/* One CPU: the flow cache is per CPU, and a step's expectations
	 * (what conntrack counted) depend on which CPU ran the one before. */
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		perror("sched_setaffinity");
		return 1;
	}
	if (geteuid() != 0) {
		printf("skip: BPF_PROG_TEST_RUN needs root\n");
		return 77;
	}
	/* the per-rule array sized past every fixture rule id (99), not to
	 * 65536 slots: each step reads all of it twice */
	if (suite_open(&s, "verdicts", &(struct suite_sizes){ .rule_stats = 1024 }, why,
		       sizeof(why))) {
		suite_close(&s);
		/* bulkhead's own programs must load: never a skip */
		printf("FAIL: %s\n", why);
		return 1;
	}
	cases = calloc(2 * (FX_COUNT + FX_SEC_COUNT), sizeof(*cases));
	tests = calloc(2 * (FX_COUNT + FX_SEC_COUNT) + 10, sizeof(*tests));
	if (!cases || !tests) {
		free(cases);
		free(tests);
		suite_close(&s);
		return 1;
	}
	for (i = 0; i < FX_COUNT + FX_SEC_COUNT; i++) {
		/* the security block (fixtures_sec.h) after the others */
		const struct fixture *fx = i < FX_COUNT ? &fixtures[i] : &fixtures_sec[i - FX_COUNT];
		int v;

		for (v = 0; v < 2; v++) {
			struct fx_case *c = &cases[n];

			if (v == 0 && !has_egress(fx))
				continue;	/* ingress-only: TC alone */
			if (v == 1 && fx->xdp_only)
				continue;
			c->s = &s;
			c->fx = fx;
			c->xdp = v == 0;
			snprintf(c->name, sizeof(c->name), "[%s] %s", c->xdp ? "xdp" : "tc",
				 fx->desc);
			tests[n].name = c->name;
			tests[n].test_func = test_fixture;
			tests[n].initial_state = c;
			n++;
		}
	}
	tests[n].name = "ring buffer full: records lost are counted";
	tests[n++].test_func = test_ring_full;
	tests[n].name = "conntrack full: least recently used flow evicted";
	tests[n++].test_func = test_ct_full;
	tests[n].name = "fragment table full: oldest datagram forgotten";
	tests[n++].test_func = test_frag_full;
	tests[n].name = "conntrack share: a full share drops the workload's new flows only";
	tests[n].initial_state = &s;
	tests[n++].test_func = test_ct_share;
	tests[n].name = "record budget: a flooding workload loses its own records first";
	tests[n].initial_state = &s;
	tests[n++].test_func = test_record_share;
	tests[n].name = "tight record budget: past three quarters a quiet workload still writes";
	tests[n++].test_func = test_record_share_tight;
	tests[n].name = "a first fragment is remembered only once it passed";
	tests[n].initial_state = &s;
	tests[n++].test_func = test_frag_after_policy;
	tests[n].name = "per-rule counters accumulate; established packets count under none";
	tests[n].initial_state = &s;
	tests[n++].test_func = test_rule_stats;
	tests[n].name = "a flow to a Service frontend is left to the post-NAT hook, flagged";
	tests[n].initial_state = &s;
	tests[n++].test_func = test_svc_frontend;
	tests[n].name = "per-rule map full: ids beyond it counted in the overflow slot";
	tests[n++].test_func = test_rule_stats_full;

	rc = _cmocka_run_group_tests("bpf_verdicts", tests, n, NULL, NULL);
	if (small_open)
		small_suite_close(small_open);
	free(tests);
	free(cases);
	suite_close(&s);
	return rc ? 1 : 0;
}
