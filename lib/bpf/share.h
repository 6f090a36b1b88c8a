/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fair shares of the tables every workload uses: conntrack, first
 * fragments, the deny record rate limit and the flow record ring. One
 * workload flooding them must lose its own state and records, not the
 * others'. Per workload slot, in bh_share_v1 (written here only) and
 * bh_ct_base_v1 (written by userspace only):
 *
 * - conntrack: a count checked before an insert. The data path adds every
 *   entry it inserts to ct_created; entries leave without the data path
 *   seeing it (age, LRU), so userspace recounts the workload's live
 *   entries from time to time (the agent, every few seconds; attach) and
 *   writes base = live - ct_created as read before its walk. ct_created +
 *   base is then never below the entries the workload holds, and a new
 *   flow of a workload at BH_CT_SHARE is dropped (BH_R_CT_SHARE). Without
 *   a recount the count only grows: a workload then creates at most
 *   BH_CT_SHARE flows until the next one.
 * - records: while the ring buffer is at most half full every record is
 *   written; beyond that, each workload has a budget (GCRA: one record per
 *   BH_SHARE_REC_NS after a burst of BH_SHARE_REC_BURST), so the half of
 *   the ring left is shared fairly and a flooding workload loses its own
 *   records first. Once the ring is three quarters full, many workloads,
 *   each within that budget, are together outrunning the reader: then a
 *   record costs BH_SHARE_REC_TIGHT_NS of the same budget, after a burst
 *   of BH_SHARE_REC_TIGHT_BURST. A workload writing steadily spends that
 *   burst at once and is then held to one record per 16 ms, its budget's
 *   time running ahead of now for as long as it keeps writing; one that
 *   was quiet (a workload starting a port scan, say) still has its burst
 *   when it starts, in the room the others left in the last quarter,
 *   instead of losing its records with everyone else's once the ring is
 *   full. Records not written count as lost (BH_C_RECORDS_LOST) and per
 *   workload in records_limited.
 * - deny rate limit: a new denied flow costs an insert in bh_deny_rl_v2
 *   and a record, always against the record budget: a workload inserts at
 *   most that rate, so another's entries live at least
 *   BH_DENY_RL_SIZE / (budget x flooding workloads) seconds.
 * - first fragments: remembered only once the fragment passed (a denied
 *   datagram takes no entry), at most one per BH_SHARE_FRAG_NS per
 *   workload after a burst of BH_SHARE_FRAG_BURST.
 * Updates of the budgets are not atomic: two CPUs may both take the last
 * token, which lets a workload exceed its budget by one event per CPU.
 */
#ifndef BH_BPF_SHARE_H
#define BH_BPF_SHARE_H

#include "parse.h"

static __always_inline struct bh_share *bh_share_of(__u32 slot)
{
	return bpf_map_lookup_elem(&bh_share_v1, &slot);
}

/* Generic cell rate algorithm: 1 if an event at now fits a budget of one
 * per interval after a burst, and takes it. */
static __always_inline int bh_gcra(__u64 *tat, __u64 now, __u64 interval, __u64 burst)
{
	__u64 t = *tat;

	if (t < now)
		t = now;
	if (t - now > (burst - 1) * interval)
		return 0;
	*tat = t + interval;
	return 1;
}

/* 1 if a record of the workload may be written (see above). always: the
 * record comes with a rate-limit table insert, budgeted even when the
 * ring has room. */
static __always_inline int bh_share_record_ok(__u32 slot, __u64 now, int always)
{
	/* the ring's size as created (a test may make it smaller) */
	__u64 used = bpf_ringbuf_query(&bh_flows_v1, BPF_RB_AVAIL_DATA),
	      size = bpf_ringbuf_query(&bh_flows_v1, BPF_RB_RING_SIZE);
	struct bh_share *s;
	int ok;

	if (!always && used <= size / 2)
		return 1;
	s = bh_share_of(slot);
	if (!s)
		return 1;	/* never: slots are checked before */
	if (used > size / 4 * 3)
		ok = bh_gcra(&s->rec_tat, now, BH_SHARE_REC_TIGHT_NS, BH_SHARE_REC_TIGHT_BURST);
	else
		ok = bh_gcra(&s->rec_tat, now, BH_SHARE_REC_NS, BH_SHARE_REC_BURST);
	if (ok)
		return 1;
	__sync_fetch_and_add(&s->records_limited, 1);
	bh_count(BH_C_RECORDS_LOST);
	return 0;
}

/* 1 if the workload may insert one more conntrack entry; a refusal is
 * counted in ct_refused. */
static __always_inline int bh_share_ct_ok(__u32 slot)
{
	struct bh_share *s = bh_share_of(slot);
	__s64 *base = bpf_map_lookup_elem(&bh_ct_base_v1, &slot);

	if (!s || !base)
		return 1;	/* never */
	if ((__s64)s->ct_created + *base < (__s64)BH_CT_SHARE)
		return 1;
	__sync_fetch_and_add(&s->ct_refused, 1);
	return 0;
}

static __always_inline void bh_share_ct_inserted(__u32 slot)
{
	struct bh_share *s = bh_share_of(slot);

	if (s)
		__sync_fetch_and_add(&s->ct_created, 1);
}

/* A packet passed: if it is a first fragment, remember its ports for the
 * later fragments, within the workload's budget. */
static __always_inline void bh_frag_passed(const struct bh_pkt *pkt, __u32 slot, __u64 now)
{
	struct bh_share *s;

	if (pkt->frag != BH_FRAG_FIRST)
		return;
	s = bh_share_of(slot);
	if (!s)
		return;
	if (!bh_gcra(&s->frag_tat, now, BH_SHARE_FRAG_NS, BH_SHARE_FRAG_BURST)) {
		__sync_fetch_and_add(&s->frags_limited, 1);
		return;
	}
	bh_frag_remember(pkt, slot);
}

#endif /* BH_BPF_SHARE_H */
