/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-packet state and the one exit path.
 *
 * Internal steps return 0 to go on or BH_ERR(reason) to stop with a drop.
 * Reasons are negative there and only bh_exit() turns a verdict into the
 * hook's return code, so a reason can never leak out as XDP_* / TC_ACT_*.
 */
#ifndef BH_BPF_VERDICT_H
#define BH_BPF_VERDICT_H

#include "ctx.h"
#include "maps.h"

#define BH_ERR(reason)		(-1 - (int)(reason))
#define BH_ERR_REASON(err)	((__u8)(-1 - (err)))

/* What is known about the packet's judgement, filled in step by step. */
struct bh_meta {
	__u64 now;
	__u32 slot;
	__u32 ifindex;
	__u32 len;		/* bytes on the wire */
	__u32 rule_id;
	__u32 peer_identity;
	__u8 dir;		/* enum bh_dir */
	__u8 mode;		/* enum bh_mode */
	__u8 verdict;		/* enum bh_verdict */
	__u8 reason;		/* enum bh_reason */
	__u8 ct_flags;		/* BH_CT_F_* for a flow this packet creates */
	__u8 ct_wl;		/* BH_CT_F_WL_* of that flow */
	__u8 pass;
};

static __always_inline void bh_count(__u32 counter)
{
	__u64 *v = bpf_map_lookup_elem(&bh_counters_v1, &counter);

	if (v)
		*v += 1;	/* per-CPU slot: no atomics needed */
}

/* Set the judgement. Every verdict goes through here and then bh_exit(). */
static __always_inline void bh_judge(struct bh_meta *m, __u8 verdict, __u8 reason, int pass)
{
	m->verdict = verdict;
	m->reason = reason;
	m->pass = pass ? 1 : 0;
}

/* Count the packet under the rule that decided it. Only a new-flow
 * decision sets rule_id (conntrack hits leave it 0). Per-CPU values: no
 * atomics. The array lookup fails only for an id at or beyond the map
 * size: those share the overflow slot (bulkhead_abi.h). */
static __always_inline void bh_count_rule(const struct bh_meta *m)
{
	__u32 rule = m->rule_id, overflow = BH_RULE_STATS_OVERFLOW;
	struct bh_stat *s;

	if (!rule)
		return;
	s = bpf_map_lookup_elem(&bh_rule_stats_v2, &rule);
	if (!s)
		s = bpf_map_lookup_elem(&bh_rule_stats_v2, &overflow);
	if (s) {
		s->packets += 1;
		s->bytes += m->len;
	}
}

/* The one exit: count packets and bytes under the direction and reason
 * (when there is a workload slot) and under the deciding rule, return the
 * hook's code. m->dir is the program's direction, 0 or 1; the mask only
 * keeps the index inside the slot's own entries. */
static __always_inline int bh_exit(const struct bh_meta *m)
{
	__u32 idx = BH_STATS_INDEX(m->slot, m->dir & 1, m->reason);
	struct bh_stat *s;

	if (m->slot < BH_MAX_WORKLOADS && m->reason < BH_R_MAX) {
		s = bpf_map_lookup_elem(&bh_stats_v3, &idx);
		if (s) {
			s->packets += 1;
			s->bytes += m->len;
		}
		bh_count_rule(m);
	}
	return m->pass ? BH_CTX_PASS : BH_CTX_DROP;
}

#endif /* BH_BPF_VERDICT_H */
