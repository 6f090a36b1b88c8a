// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Flow aggregation: both directions in one flow, counters, verdict merge,
 * flush/dirty bookkeeping, bounded memory (eviction, -ENOSPC), expiry. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "flowagg.h"

static void v4(__u8 a[16], __u8 b0, __u8 b1, __u8 b2, __u8 b3)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = b0; a[13] = b1; a[14] = b2; a[15] = b3;
}

/* 10.0.0.2:sport -> 10.0.0.3:dport from slot 1, egress */
static struct bh_flow_record rec(__u16 sport, __u16 dport, __u8 event, __u8 verdict,
				 __u64 ts_ns, __u64 packets)
{
	struct bh_flow_record r;

	memset(&r, 0, sizeof(r));
	r.ts_ns = ts_ns;
	r.packets = packets;
	r.bytes = packets * 100;
	r.slot = 1;
	r.family = 4;
	r.proto = IPPROTO_TCP;
	r.dir = BH_DIR_EGRESS;
	r.verdict = verdict;
	r.event = event;
	r.sport = sport;
	r.dport = dport;
	r.peer_identity = BH_ID_WORKLOAD_BASE + 2;
	v4(r.saddr, 10, 0, 0, 2);
	v4(r.daddr, 10, 0, 0, 3);
	return r;
}

static struct bh_flow_record reversed(struct bh_flow_record r)
{
	__u8 t[16];
	__u16 p = r.sport;

	memcpy(t, r.saddr, 16);
	memcpy(r.saddr, r.daddr, 16);
	memcpy(r.daddr, t, 16);
	r.sport = r.dport;
	r.dport = p;
	return r;
}

static int count_fn(struct bh_flow *f, void *arg)
{
	int *n = arg;

	f->db_id = 1000 + *n;
	(*n)++;
	return 0;
}

static int fail_fn(struct bh_flow *f, void *arg)
{
	(void)f;
	(void)arg;
	return -EIO;
}

static void test_both_directions_one_flow(void **state)
{
	struct bh_flowagg_opts o = { 0 };
	struct bh_flowagg *a;
	struct bh_flow *f, *g;
	struct bh_flow_record r = rec(40000, 80, BH_E_NEW, BH_V_ALLOW, 1000, 1);
	struct bh_flow_record end = reversed(rec(40000, 80, BH_E_END, BH_V_ALLOW, 5000, 10));
	int flags, n = 0;

	(void)state;
	assert_int_equal(bh_flowagg_new(&o, &a), 0);
	flags = bh_flowagg_add(a, &r, &f);
	assert_true(flags & BH_AGG_NEW);
	end.tcp_flags = 0x11;	/* FIN|ACK from the responder */
	flags = bh_flowagg_add(a, &end, &g);
	assert_ptr_equal(f, g);
	assert_false(flags & BH_AGG_NEW);
	assert_true(flags & BH_AGG_ENDED);
	/* orientation from the first record */
	assert_int_equal(g->sport, 40000);
	assert_int_equal(g->dport, 80);
	assert_int_equal(g->dir, BH_DIR_EGRESS);
	assert_int_equal(g->src[15], 2);
	assert_int_equal(bh_flow_peer_addr(g)[15], 3);
	assert_int_equal(g->packets, 10);
	assert_int_equal(g->bytes, 1000);
	assert_int_equal(g->tcp_flags, 0x11);
	assert_int_equal(g->first_ns, 1000);
	assert_int_equal(g->last_ns, 5000);
	assert_true(g->ended);
	assert_int_equal(bh_flowagg_dirty(a), 1);
	/* flushing an ended flow frees it */
	assert_int_equal(bh_flowagg_flush(a, UINT32_MAX, count_fn, &n), 1);
	assert_int_equal(n, 1);
	assert_null(bh_flowagg_find(a, &r));
	bh_flowagg_free(a);
}

static void test_distinct_tuples_distinct_flows(void **state)
{
	struct bh_flowagg_opts o = { 0 };
	struct bh_flowagg *a;
	struct bh_flow *f1, *f2, *f3;
	struct bh_flow_record r1 = rec(40000, 80, BH_E_NEW, BH_V_ALLOW, 1, 1);
	struct bh_flow_record r2 = rec(40001, 80, BH_E_NEW, BH_V_ALLOW, 2, 1);
	struct bh_flow_record r3 = r1;
	struct bh_flowagg_stats st;

	(void)state;
	r3.slot = 2;	/* same 5-tuple seen by the receiving workload */
	r3.dir = BH_DIR_INGRESS;
	assert_int_equal(bh_flowagg_new(&o, &a), 0);
	assert_true(bh_flowagg_add(a, &r1, &f1) & BH_AGG_NEW);
	assert_true(bh_flowagg_add(a, &r2, &f2) & BH_AGG_NEW);
	assert_true(bh_flowagg_add(a, &r3, &f3) & BH_AGG_NEW);
	assert_ptr_not_equal(f1, f2);
	assert_ptr_not_equal(f1, f3);
	bh_flowagg_get_stats(a, &st);
	assert_int_equal(st.live, 3);
	assert_int_equal(st.dirty, 3);
	bh_flowagg_free(a);
}

static int sport_fn(struct bh_flow *f, void *arg)
{
	__u16 **next = arg;

	*(*next)++ = f->sport;
	return 0;
}

/* A bounded flush takes the flows in the order they became dirty, so a
 * flow that keeps changing never holds back the ones dirty before it. */
static void test_bounded_flush_first_dirty_first(void **state)
{
	struct bh_flowagg_opts o = { 0 };
	struct bh_flowagg *a;
	struct bh_flow *f;
	struct bh_flow_record r1 = rec(40001, 80, BH_E_NEW, BH_V_ALLOW, 1, 1);
	struct bh_flow_record r2 = rec(40002, 80, BH_E_NEW, BH_V_ALLOW, 2, 1);
	struct bh_flow_record r3 = rec(40003, 80, BH_E_NEW, BH_V_ALLOW, 3, 1);
	struct bh_flow_record r1b = rec(40001, 80, BH_E_NEW, BH_V_ALLOW, 4, 2);
	__u16 got[8] = { 0 }, *next = got;

	(void)state;
	assert_int_equal(bh_flowagg_new(&o, &a), 0);
	assert_true(bh_flowagg_add(a, &r1, &f) >= 0);
	assert_true(bh_flowagg_add(a, &r2, &f) >= 0);
	assert_true(bh_flowagg_add(a, &r3, &f) >= 0);
	assert_int_equal(bh_flowagg_flush(a, 2, sport_fn, &next), 2);
	assert_int_equal(bh_flowagg_dirty(a), 1);
	assert_true(bh_flowagg_add(a, &r1b, &f) >= 0);	/* dirty again, after 40003 */
	assert_int_equal(bh_flowagg_flush(a, 1, sport_fn, &next), 1);
	assert_int_equal(bh_flowagg_flush(a, 5, sport_fn, &next), 1);
	assert_int_equal(bh_flowagg_flush(a, 5, sport_fn, &next), 0);
	assert_int_equal(got[0], 40001);
	assert_int_equal(got[1], 40002);
	assert_int_equal(got[2], 40003);
	assert_int_equal(got[3], 40001);
	assert_int_equal(got[4], 0);
	bh_flowagg_free(a);
}

static void test_verdict_merge_and_deny_counts(void **state)
{
	struct bh_flowagg_opts o = { 0 };
	struct bh_flowagg *a;
	struct bh_flow *f;
	struct bh_flow_record r = rec(40000, 22, BH_E_NEW, BH_V_DENY, 1, 1);
	struct bh_flow_record d = rec(40000, 22, BH_E_DENY, BH_V_DENY, 1000000001, 1);
	struct bh_flow_record q = rec(40000, 22, BH_E_DENY, BH_V_QUARANTINE, 2000000001, 1);
	struct bh_flow_record al = rec(40000, 22, BH_E_DENY, BH_V_ALLOW, 3000000001, 1);

	(void)state;
	r.reason = BH_R_DEFAULT_DENY;
	q.reason = BH_R_QUARANTINE;
	assert_int_equal(bh_flowagg_new(&o, &a), 0);
	assert_true(bh_flowagg_add(a, &r, &f) & BH_AGG_NEW);
	/* each drop record is one dropped packet: added up */
	assert_int_equal(bh_flowagg_add(a, &d, &f) & BH_AGG_VERDICT, 0);
	assert_int_equal(f->packets, 2);
	assert_true(bh_flowagg_add(a, &q, &f) & BH_AGG_VERDICT);
	assert_int_equal(f->verdict, BH_V_QUARANTINE);
	assert_int_equal(f->reason, BH_R_QUARANTINE);
	assert_int_equal(f->packets, 3);
	/* never downgraded */
	bh_flowagg_add(a, &al, &f);
	assert_int_equal(f->verdict, BH_V_QUARANTINE);
	assert_true(bh_verdict_rank(BH_V_DENY) > bh_verdict_rank(BH_V_WOULD_DENY));
	assert_true(bh_verdict_rank(BH_V_WOULD_DENY) > bh_verdict_rank(BH_V_ALLOW));
	bh_flowagg_free(a);
}

/* Counting as the data path fills records (lib/bpf/flow.h): passed NEW =
 * first packet, END = conntrack totals of both directions (max); drop
 * records (NEW/DENY with a drop verdict) = one packet each (sum). */
static void test_counts_follow_datapath(void **state)
{
	struct bh_flowagg_opts o = { 0 };
	struct bh_flowagg *a;
	struct bh_flow *f;
	struct bh_flow_record n = rec(40001, 80, BH_E_NEW, BH_V_ALLOW, 1, 1);
	struct bh_flow_record e = rec(40001, 80, BH_E_END, BH_V_ALLOW, 5, 10);
	struct bh_flow_record q = rec(40001, 80, BH_E_NEW, BH_V_QUARANTINE, 3, 1);
	struct bh_flow_record qd = rec(40001, 80, BH_E_DENY, BH_V_QUARANTINE, 4, 1);
	struct bh_flow_record wd = rec(40002, 80, BH_E_NEW, BH_V_WOULD_DENY, 1, 1);
	struct bh_flow_record wde = rec(40002, 80, BH_E_END, BH_V_WOULD_DENY, 2, 4);
	struct bh_flow_record sp = rec(40003, 80, BH_E_NEW, BH_V_SPOOF, 1, 1);

	(void)state;
	q.bytes = qd.bytes = 60;
	assert_int_equal(bh_flowagg_new(&o, &a), 0);
	/* passed flow: 1 packet, then quarantine drops two of its packets
	 * (reported: the first drop and one a second later) */
	bh_flowagg_add(a, &n, &f);
	assert_int_equal(f->packets, 1);
	bh_flowagg_add(a, &q, &f);
	bh_flowagg_add(a, &qd, &f);
	assert_int_equal(f->drop_packets, 2);
	assert_int_equal(f->drop_bytes, 120);
	assert_int_equal(f->packets, 3);
	assert_int_equal(f->bytes, 100 + 120);
	/* the END totals replace the passed part, the drops stay on top */
	bh_flowagg_add(a, &e, &f);
	assert_int_equal(f->packets, 10 + 2);
	assert_int_equal(f->bytes, 1000 + 120);
	/* would-deny traffic passed: totals, not sums */
	bh_flowagg_add(a, &wd, &f);
	bh_flowagg_add(a, &wde, &f);
	assert_int_equal(f->packets, 4);
	assert_int_equal(f->drop_packets, 0);
	/* a spoofed packet: one drop */
	bh_flowagg_add(a, &sp, &f);
	assert_int_equal(f->packets, 1);
	assert_int_equal(f->drop_packets, 1);
	bh_flowagg_free(a);
}

static void test_flush_failure_keeps_dirty(void **state)
{
	struct bh_flowagg_opts o = { 0 };
	struct bh_flowagg *a;
	struct bh_flow *f;
	struct bh_flow_record r = rec(1, 2, BH_E_NEW, BH_V_ALLOW, 1, 1);
	int n = 0;

	(void)state;
	assert_int_equal(bh_flowagg_new(&o, &a), 0);
	bh_flowagg_add(a, &r, &f);
	assert_int_equal(bh_flowagg_flush(a, UINT32_MAX, fail_fn, NULL), -EIO);
	assert_int_equal(bh_flowagg_dirty(a), 1);
	assert_int_equal(bh_flowagg_flush(a, UINT32_MAX, count_fn, &n), 1);
	assert_int_equal(f->db_id, 1000);
	assert_false(f->dirty);
	assert_int_equal(bh_flowagg_dirty(a), 0);
	/* a transaction rolled back: the caller marks the flow dirty again */
	bh_flowagg_mark_dirty(a, f);
	assert_int_equal(bh_flowagg_dirty(a), 1);
	/* an update after a flush makes it dirty again, keeping its row */
	n = 0;
	assert_int_equal(bh_flowagg_flush(a, UINT32_MAX, count_fn, &n), 1);
	r.packets = 5;
	bh_flowagg_add(a, &r, &f);
	assert_true(f->dirty);
	assert_int_equal(f->db_id, 1000);
	bh_flowagg_free(a);
}

static void test_bounded(void **state)
{
	struct bh_flowagg_opts o = { .max_flows = 16 };
	struct bh_flowagg *a;
	struct bh_flow *f;
	struct bh_flowagg_stats st;
	int n = 0;

	(void)state;
	assert_int_equal(bh_flowagg_new(&o, &a), 0);
	for (int i = 0; i < 16; i++) {
		struct bh_flow_record r = rec(1000 + i, 80, BH_E_NEW, BH_V_ALLOW, i, 1);

		assert_true(bh_flowagg_add(a, &r, &f) >= 0);
	}
	/* full of dirty flows: no room until flushed */
	{
		struct bh_flow_record r = rec(2000, 80, BH_E_NEW, BH_V_ALLOW, 100, 1);

		assert_int_equal(bh_flowagg_add(a, &r, &f), -ENOSPC);
		assert_int_equal(bh_flowagg_flush(a, UINT32_MAX, count_fn, &n), 16);
		assert_true(bh_flowagg_add(a, &r, &f) & BH_AGG_NEW);
	}
	/* the least recently seen flow (sport 1000) was evicted */
	{
		struct bh_flow_record r0 = rec(1000, 80, BH_E_NEW, BH_V_ALLOW, 0, 1);
		struct bh_flow_record r1 = rec(1001, 80, BH_E_NEW, BH_V_ALLOW, 0, 1);

		assert_null(bh_flowagg_find(a, &r0));
		assert_non_null(bh_flowagg_find(a, &r1));
	}
	bh_flowagg_get_stats(a, &st);
	assert_int_equal(st.live, 16);
	assert_int_equal(st.evicted, 1);
	/* many more flows never exceed the bound */
	for (int i = 0; i < 1000; i++) {
		struct bh_flow_record r = rec(3000 + i, 443, BH_E_NEW, BH_V_ALLOW, 200 + i, 1);

		if (bh_flowagg_add(a, &r, &f) == -ENOSPC) {
			bh_flowagg_flush(a, UINT32_MAX, count_fn, &n);
			assert_true(bh_flowagg_add(a, &r, &f) >= 0);
		}
		bh_flowagg_get_stats(a, &st);
		assert_true(st.live <= 16);
	}
	bh_flowagg_free(a);
}

static void test_expire_idle(void **state)
{
	struct bh_flowagg_opts o = { .idle_ns = 1000 };
	struct bh_flowagg *a;
	struct bh_flow *f;
	struct bh_flow_record old = rec(1, 80, BH_E_NEW, BH_V_ALLOW, 100, 1);
	struct bh_flow_record fresh = rec(2, 80, BH_E_NEW, BH_V_ALLOW, 1900, 1);
	int n = 0;

	(void)state;
	assert_int_equal(bh_flowagg_new(&o, &a), 0);
	bh_flowagg_add(a, &old, &f);
	bh_flowagg_add(a, &fresh, &f);
	/* dirty flows are never expired: their update is not stored yet */
	assert_int_equal(bh_flowagg_expire(a, 2000), 0);
	bh_flowagg_flush(a, UINT32_MAX, count_fn, &n);
	assert_int_equal(bh_flowagg_expire(a, 2000), 1);
	assert_null(bh_flowagg_find(a, &old));
	assert_non_null(bh_flowagg_find(a, &fresh));
	bh_flowagg_free(a);
}

static void test_tuple_reuse_after_end(void **state)
{
	struct bh_flowagg_opts o = { 0 };
	struct bh_flowagg *a;
	struct bh_flow *f;
	struct bh_flow_record r = rec(5, 80, BH_E_NEW, BH_V_ALLOW, 1, 1);
	struct bh_flow_record e = rec(5, 80, BH_E_END, BH_V_ALLOW, 2, 4);
	int n = 0;

	(void)state;
	assert_int_equal(bh_flowagg_new(&o, &a), 0);
	bh_flowagg_add(a, &r, &f);
	bh_flowagg_add(a, &e, &f);
	/* NEW on an ended, unflushed flow: flush first */
	r.ts_ns = 3;
	assert_int_equal(bh_flowagg_add(a, &r, &f), -ENOSPC);
	bh_flowagg_flush(a, UINT32_MAX, count_fn, &n);
	assert_true(bh_flowagg_add(a, &r, &f) & BH_AGG_NEW);
	assert_int_equal(f->packets, 1);
	assert_false(f->ended);
	bh_flowagg_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions_one_flow),
		cmocka_unit_test(test_distinct_tuples_distinct_flows),
		cmocka_unit_test(test_bounded_flush_first_dirty_first),
		cmocka_unit_test(test_verdict_merge_and_deny_counts),
		cmocka_unit_test(test_counts_follow_datapath),
		cmocka_unit_test(test_flush_failure_keeps_dirty),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_expire_idle),
		cmocka_unit_test(test_tuple_reuse_after_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
