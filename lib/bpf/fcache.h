/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow cache: a small direct-mapped table per CPU that remembers, for
 * the IPv4 flows this CPU passed last, what the established fast path
 * reads from conntrack (the slot and the entry's flags). A packet that
 * finds its flow there skips the conntrack hash lookup, the largest part of
 * an established packet's cost (an array lookup is inlined).
 *
 * It is a cache of conntrack, never a source of verdicts of its own:
 * - an entry is filled only from a live conntrack entry that had just
 *   passed a packet as established (here on a miss, or in the fast path),
 *   and only for a settled flow (TCP established, or UDP); SYN, FIN and RST
 *   always go to conntrack;
 * - quarantine and the anti-spoofing endpoint are checked on every hit, as
 *   on the conntrack path (the quarantine check never was a conntrack
 *   fact: it reads the slot's policy map);
 * - an entry lives BH_FC_REFRESH_NS at most (UDP: BH_FC_REFRESH_UDP_NS),
 *   then the next packet looks
 *   conntrack up again, which refreshes the entry's age and LRU position
 *   and hands over the packets counted meanwhile;
 * - userspace bumps bh_ctgen_v1 after it deletes or edits conntrack
 *   entries (cut flows, detach): every entry filled before is then stale.
 *   The generation an entry is filled under is read BEFORE the conntrack
 *   lookup whose result it copies: if userspace deleted the flow and
 *   bumped the generation after that read, the entry carries the old
 *   generation and is never hit; read after the lookup, it could carry
 *   the new one with a deleted flow's facts (a cut flow served again);
 * - the full path forgets this CPU's entry of the packet's flow, after
 *   handing its counts to conntrack, so a FIN or RST ends the flow with
 *   its counters whole.
 * Per CPU, so no entry is ever read half-written: the programs of one CPU
 * do not nest (XDP and TC run with bottom halves off). The cost of that
 * choice: a flow's packets counted on a CPU whose entry is not hit again
 * reach conntrack only when the entry is refreshed or reused (at most
 * BH_FC_REFRESH_NS of that flow's packets on that CPU); verdicts and
 * per-workload stats are exact.
 */
#ifndef BH_BPF_FCACHE_H
#define BH_BPF_FCACHE_H

#include "ct.h"
#include "policy.h"
#include "l2.h"

/* Set by the loader from the config's `flow_cache` (lib/core/config.h) before
 * the object is loaded; the verifier drops the cache's code when 0. */
const volatile __u8 bh_cfg_flow_cache = 1;

/*
 * Two ways a set: a flow takes either entry of its set, a fill replaces
 * the entry filled longer ago. Direct-mapped (one way) with 1024 entries,
 * the 2048 flows of bench/veth_path.sh's UDP phase (1024 flows, each
 * judged on two veths) would find their entry taken by another flow on
 * 86 % of the packets (1 - e^-2: 2047 other flows over 1024 entries),
 * each a conntrack lookup and often a second one to hand the other flow's
 * counts over; two ways over twice the entries keep every flow of a set
 * of at most two.
 */
#define BH_FC_WAYS		2
/* BH_FC_SETS sets per CPU (lib/bulkhead_abi.h, with the hash): 256 KiB */
#define BH_FC_REFRESH_NS	(10ULL * 1000000)

/*
 * A UDP entry lives ten times longer. A refresh is a conntrack lookup,
 * cache-cold once many flows are live: at a packet every few ms per flow
 * (bench/veth_path.sh's 1024 UDP flows at 250 kpps: one every 4 ms), a
 * 10 ms life made every third packet pay it. What the refresh keeps
 * current is, for UDP, only the entry's age (60 s timeout), its LRU
 * position and the counts; TCP entries keep 10 ms because the refresh is
 * also where sequence tracking (the blind-RST window) catches up.
 */
#define BH_FC_REFRESH_UDP_NS	(100ULL * 1000000)

/*
 * Both lives times this factor: 1 in the product. The verdict tests
 * (tests/bpf/test_verdicts.c) raise it before loading, so that their
 * steps, which count on an entry still being there, do not depend on how
 * long the test process is kept off the CPU between two of them.
 */
const volatile __u32 bh_cfg_fc_life_factor = 1;

static __always_inline __u64 bh_fc_refresh_ns(__u8 proto)
{
	return (proto == BH_IPPROTO_UDP ? BH_FC_REFRESH_UDP_NS : BH_FC_REFRESH_NS) *
	       bh_cfg_fc_life_factor;
}

struct bh_fc_entry {
	struct bh_ct4_key key;
	__u16 slot;
	__u8 flags;		/* the conntrack entry's BH_CT_F_* */
	__u8 live;
	__u64 gen;		/* bh_ctgen_v1 when filled */
	__u64 filled_ns;
	__u64 ct_first;		/* the conntrack entry's first_ns: which incarnation */
	__u32 packets[2];	/* not yet in conntrack: [0] initiator, [1] reply */
	__u32 bytes[2];
};

struct bh_fc_set {
	struct bh_fc_entry way[BH_FC_WAYS];
};

/* Private to each program object, not pinned: losing it costs lookups. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_FC_SETS);
	__type(key, __u32);
	__type(value, struct bh_fc_set);
} bh_fcache SEC(".maps");

/*
 * Which set a flow uses. The hash needs no secret: a crafted collision
 * only makes flows take turns in one set, i.e. the conntrack path.
 */
static __always_inline struct bh_fc_set *bh_fc_set_of(const struct bh_ct4_key *k)
{
	__u32 h = bh_fc_set_index(k);

	return bpf_map_lookup_elem(&bh_fcache, &h);
}

static __always_inline int bh_fc_key_eq(const struct bh_ct4_key *a, const struct bh_ct4_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) |
		(x[4] ^ y[4])) == 0;
}

/* The live entry of the flow in its set, or NULL. */
static __always_inline struct bh_fc_entry *bh_fc_find(struct bh_fc_set *set,
						      const struct bh_ct4_key *k)
{
	if (!set)
		return NULL;
	if (set->way[0].live && bh_fc_key_eq(&set->way[0].key, k))
		return &set->way[0];
	if (set->way[1].live && bh_fc_key_eq(&set->way[1].key, k))
		return &set->way[1];
	return NULL;
}

/* The entry a fill of the flow takes: its own, a free one, else the one
 * filled longer ago. */
static __always_inline struct bh_fc_entry *bh_fc_victim(struct bh_fc_set *set,
							const struct bh_ct4_key *k)
{
	struct bh_fc_entry *e = bh_fc_find(set, k);

	if (e || !set)
		return e;
	if (!set->way[0].live)
		return &set->way[0];
	if (!set->way[1].live)
		return &set->way[1];
	return set->way[0].filled_ns <= set->way[1].filled_ns ? &set->way[0] : &set->way[1];
}

static __always_inline __u64 *bh_fc_gen(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&bh_ctgen_v1, &zero);
}

/* The current generation into *gen, to be read before the conntrack
 * lookup an entry will be filled from (above). 1 if read. */
static __always_inline int bh_fc_gen_read(__u64 *gen)
{
	__u64 *g;

	if (!bh_cfg_flow_cache)
		return 0;
	g = bh_fc_gen();
	if (!g)
		return 0;
	*gen = *g;
	return 1;
}

/* Hand the entry's counts to its conntrack entry, if ct is still the one
 * the entry copied: not cut by userspace since (the generation), nor ended
 * and started again under the same tuple (first_ns). Else they are lost:
 * they belong to no live flow. */
static __always_inline void bh_fc_flush(struct bh_fc_entry *e, struct bh_ct_val *ct, __u64 gen)
{
	if ((e->packets[0] | e->packets[1]) && e->gen == gen && e->ct_first == ct->first_ns) {
		__sync_fetch_and_add(&ct->packets[0], e->packets[0]);
		__sync_fetch_and_add(&ct->bytes[0], e->bytes[0]);
		__sync_fetch_and_add(&ct->packets[1], e->packets[1]);
		__sync_fetch_and_add(&ct->bytes[1], e->bytes[1]);
	}
	e->packets[0] = e->packets[1] = 0;
	e->bytes[0] = e->bytes[1] = 0;
}

/* The entry is taken by another flow: the flow it held gets its counts,
 * unless its conntrack entry is gone (evicted, expired: they go with it). */
static __always_inline void bh_fc_evict(struct bh_fc_entry *e, __u64 gen)
{
	struct bh_ct_val *old = bpf_map_lookup_elem(&bh_ct4_v2, &e->key);

	if (old)
		bh_fc_flush(e, old, gen);
}

/*
 * An established packet judged from the entry alone (e: the flow's live
 * entry, bh_fc_find); 1 if judged (m says how). Everything
 * bh_fast_established checks on conntrack is checked here on the entry's
 * copy, and the entry must be current.
 */
static __always_inline int bh_fc_hit(struct bh_fc_entry *e, const struct bh_ct4_key *k,
				     struct bh_meta *m, __u8 dir, int src_first, const __u8 *eth)
{
	__u64 *gen;
	__u32 slot;

	if (!e || m->now - e->filled_ns >= bh_fc_refresh_ns(k->proto))
		return 0;
	gen = bh_fc_gen();
	if (!gen || *gen != e->gen || !bh_ct_flags_source_ok(e->flags, dir, src_first))
		return 0;
	slot = e->slot;
	if (!bh_established_may_pass(slot, e->flags) || !bh_l2_frame_ok(bh_l2_of(slot), dir, eth))
		return 0;
	if (!!(e->flags & BH_CT_F_ORIG_FIRST) == !!src_first) {
		e->packets[0] += 1;
		e->bytes[0] += m->len;
	} else {
		e->packets[1] += 1;
		e->bytes[1] += m->len;
	}
	m->slot = slot;
	bh_judge(m, BH_V_ALLOW, BH_R_ESTABLISHED, 1);
	return 1;
}

/* After a packet of the live entry ct passed as established: remember
 * the flow, if it is settled, in its set (set: the key's set, or NULL:
 * looked up here, only if needed). gen: bh_ctgen_v1 as read before the
 * lookup that found ct (bh_fc_gen_read). The flow the entry held before
 * gets its counts. */
static __always_inline void bh_fc_fill(struct bh_fc_set *set, const struct bh_ct4_key *k,
				       struct bh_ct_val *ct, const struct bh_meta *m, __u8 proto,
				       __u8 tcp_flags, __u64 gen)
{
	/* only what bh_fc_quick can hit, and only settled flows */
	if (!bh_cfg_flow_cache || (proto != BH_IPPROTO_TCP && proto != BH_IPPROTO_UDP) ||
	    (proto == BH_IPPROTO_TCP &&
	     ((tcp_flags & BH_TCP_SYN) || ct->tcp_state != BH_TCP_ESTABLISHED)))
		return;
	struct bh_fc_entry *e;

	if (!set)
		set = bh_fc_set_of(k);
	e = bh_fc_victim(set, k);
	if (!e)
		return;
	if (e->live && bh_fc_key_eq(&e->key, k))
		bh_fc_flush(e, ct, gen);
	else if (e->live && (e->packets[0] | e->packets[1]))
		bh_fc_evict(e, gen);
	e->key = *k;
	e->slot = ct->slot;
	e->flags = ct->flags;
	e->gen = gen;
	e->filled_ns = m->now;
	e->ct_first = ct->first_ns;
	e->packets[0] = e->packets[1] = 0;
	e->bytes[0] = e->bytes[1] = 0;
	e->live = 1;
}

/*
 * The ordinary established packet, judged before the parser: Ethernet,
 * IPv4 without options, not a fragment, TCP without SYN, FIN or RST, or
 * UDP, read straight from the linear data with the checks bh_parse makes
 * on that shape (version, header and datagram lengths, TCP data offset).
 * First this CPU's flow cache; on a miss, conntrack under the same key,
 * with the checks and the update of bh_fast_established, and the cache
 * is filled. Returns 1 if the packet was judged (m says how). Else 0,
 * and *ct_missed is 1 if conntrack has no live entry for the flow (the
 * judge function then does not look again).
 *
 * Kept apart from the parser on purpose: every way out of here but a
 * verdict leaves the same verifier state, so the rest of the program is
 * not verified once more per outcome, and an ordinary established packet
 * pays neither the parser nor the call into the judge function
 * (bench/bench_helpers.sh measures that call).
 */
static __always_inline int bh_fc_quick(bh_ctx_t *ctx, struct bh_meta *m, __u8 dir,
				       int *ct_missed)
{
	const __u8 *p = (const __u8 *)(long)ctx->data;
	const void *end = (const void *)(long)ctx->data_end;
	struct bh_fc_set *set;
	struct bh_ct_val *ct;
	struct bh_ct4_key k;
	__u32 tot, sa, da;
	__u64 gen;
	__u16 sp, dp;
	__u8 proto, flags = 0;
	int src_first;

	if (!bh_cfg_flow_cache || bh_ctx_vlan_offloaded(ctx) ||
	    (const void *)(p + BH_ETH_HLEN + 20 + 8) > end)
		return 0;
	if (p[12] != 0x08 || p[13] != 0x00 || p[14] != 0x45 || (p[20] & 0x3f) || p[21])
		return 0;
	tot = (__u32)p[16] << 8 | p[17];
	if (tot < 20 || tot > m->len - BH_ETH_HLEN)
		return 0;
	proto = p[23];
	if (proto == BH_IPPROTO_TCP) {
		if ((const void *)(p + BH_ETH_HLEN + 20 + 20) > end || tot - 20 < 20 ||
		    (p[46] >> 4) < 5 || (__u32)(p[46] >> 4) * 4 > tot - 20)
			return 0;
		flags = p[47];
		if (flags & (BH_TCP_SYN | BH_TCP_FIN | BH_TCP_RST))
			return 0;
	} else if (proto != BH_IPPROTO_UDP || tot - 20 < 8) {
		return 0;
	}
	sa = *(const __u32 *)(p + 26);
	da = *(const __u32 *)(p + 30);
	sp = *(const __u16 *)(p + 34);
	dp = *(const __u16 *)(p + 36);
	src_first = bh_ct4_key_make(sa, da, sp, dp, proto, 0, m->ifindex, &k);
	set = bh_fc_set_of(&k);
	if (bh_fc_hit(bh_fc_find(set, &k), &k, m, dir, src_first, p))
		return 1;

	/* the generation the entry will be filled under, read before the
	 * lookup whose result it copies (see the header comment) */
	if (!bh_fc_gen_read(&gen))
		return 0;
	ct = bh_ct_live(bpf_map_lookup_elem(&bh_ct4_v2, &k), proto, flags, m->now);
	if (!ct) {
		*ct_missed = 1;
		return 0;
	}
	if (!bh_ct_source_ok(ct, dir, src_first) || !bh_established_may_pass(ct->slot, ct->flags) ||
	    !bh_l2_frame_ok(bh_l2_of(ct->slot), dir, p))
		return 0;
	m->slot = ct->slot;
	bh_judge(m, BH_V_ALLOW, BH_R_ESTABLISHED, 1);
	/* no SYN, FIN or RST here: nothing to check, only to track */
	if (bh_ct_update(ct, proto, flags, src_first, m->len, m->now, NULL) == 0 &&
	    proto == BH_IPPROTO_TCP && ct->tcp_state != BH_TCP_CLOSED)
		/* sequence tracking (tcp.h), from the header checked above */
		bh_tcp_track_seg(ct, bpf_ntohl(*(const __u32 *)(p + 38)),
				 tot - 20 - (__u32)(p[46] >> 4) * 4,
				 bpf_ntohs(*(const __u16 *)(p + 48)), 0, flags,
				 !bh_ct_from_orig(ct, src_first));
	bh_fc_fill(set, &k, ct, m, proto, flags, gen);
	return 1;
}

/* The full path passes an IPv4 packet of the known flow ct (a FIN, say):
 * this CPU's entry of the flow, if any, hands its counts to ct and is
 * dropped, so the flow's end record has them and a closing flow is not
 * served from the cache. */
static __always_inline void bh_fc_forget(const struct bh_pkt *pkt, __u32 ifindex,
					 struct bh_ct_val *ct)
{
	struct bh_ct4_key k;
	struct bh_fc_entry *e;
	__u64 *gen;

	if (pkt->family != 4 || pkt->frag != BH_FRAG_NONE)
		return;
	bh_ct4_key_of(pkt, ifindex, &k);
	e = bh_fc_find(bh_fc_set_of(&k), &k);
	if (!e)
		return;
	gen = bh_fc_gen();
	if (gen)
		bh_fc_flush(e, ct, *gen);
	e->live = 0;
}

#endif /* BH_BPF_FCACHE_H */
