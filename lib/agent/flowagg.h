/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Aggregation of flow records into flows, in memory and bounded.
 *
 * A flow is keyed by workload slot, protocol and the normalised 5-tuple,
 * so records of both directions (a reply's FIN, a deny of either side)
 * land in the same flow. Its orientation (src = initiator) and direction
 * come from the first record seen. The verdict is the most severe one
 * seen (allow < would-deny < deny < spoof/drop < quarantine) with its
 * reason and rule.
 *
 * Packets and bytes follow what the data path puts in records
 * (lib/bpf/flow.h, datapath.h):
 *   - passed traffic (verdict allow or would-deny): BH_E_NEW holds the
 *     first packet (1, its length), BH_E_END the conntrack totals of both
 *     directions, which include that first packet: the largest value seen
 *     is the flow's total.
 *   - dropped packets (deny, spoof, quarantine; events NEW and DENY) have
 *     no conntrack entry: each such record is ONE dropped packet (1, its
 *     length), written for the first drop of a flow and then at most once
 *     per second (BH_DENY_RECORD_INTERVAL_NS). They are added up. For a
 *     denied flow, packets/bytes therefore count the REPORTED drops, a
 *     lower bound; exact drop counts per workload and reason are the
 *     data path's counters (`bulkhead stats`).
 * A flow's packets = passed total + reported drops (a quarantine can drop
 * packets of a flow that passed before).
 *
 * At most max_flows live at once. A flow changed since the last flush is
 * "dirty"; bh_flowagg_flush hands dirty flows to the store. Clean flows
 * are freed when ended, idle for idle_ns, or evicted (least recently seen
 * first) to make room. If every candidate is dirty, add returns -ENOSPC:
 * flush, then retry.
 */
#ifndef BULKHEAD_FLOWAGG_H
#define BULKHEAD_FLOWAGG_H

#include <stdbool.h>
#include <stdint.h>

#include "bulkhead_abi.h"

struct bh_proc_info;

struct bh_flow {
	/* identity of the flow */
	__u32 slot;
	__u8 family, proto, dir;	/* dir: enum bh_dir of the initiator */
	__u8 src[16], dst[16];		/* initiator -> responder */
	__u16 sport, dport;
	__u32 peer_identity;
	/* what happened */
	__u8 verdict, reason, tcp_flags, mode;
	__u32 rule_id;
	__u64 packets, bytes;		/* passed total + dropped (see above) */
	__u64 drop_packets, drop_bytes;	/* the dropped part */
	__u64 first_ns, last_ns;	/* bpf_ktime_get_ns() clock */
	bool ended;
	/* store bookkeeping */
	int64_t db_id;			/* 0: not stored yet */
	bool dirty;
	__u8 user_flags;		/* free for the caller (the agent) */
	/* the process behind it (procjoin.h), NULL: not known; the flow
	 * holds a reference, dropped when the flow is freed */
	struct bh_proc_info *proc;
};

struct bh_flowagg_opts {
	uint32_t max_flows;		/* 0 = 262144 */
	uint64_t idle_ns;		/* 0 = 120 s */
};

/* What bh_flowagg_add changed, for detection and deviation checks. */
#define BH_AGG_NEW		0x1	/* flow was not live before */
#define BH_AGG_VERDICT		0x2	/* verdict became more severe */
#define BH_AGG_ENDED		0x4

struct bh_flowagg_stats {
	uint64_t live, dirty, created, evicted, expired;
};

struct bh_flowagg;

int bh_flowagg_new(const struct bh_flowagg_opts *opts, struct bh_flowagg **out);
void bh_flowagg_free(struct bh_flowagg *a);
/* Fold one record in. *flow stays valid until the next add/flush/expire.
 * Returns BH_AGG_* flags (>= 0) or a negative errno (-ENOSPC: flush). */
int bh_flowagg_add(struct bh_flowagg *a, const struct bh_flow_record *rec,
		   struct bh_flow **flow);
/* Hand up to max dirty flows, the longest dirty first, to fn (which may
 * set db_id); on fn success the flow is clean, and freed if ended. Stops
 * at the first error, which is returned; flows not handed over stay
 * dirty. Returns the count flushed. */
int bh_flowagg_flush(struct bh_flowagg *a, uint32_t max,
		     int (*fn)(struct bh_flow *f, void *arg), void *arg);
/* Undo a flush whose transaction failed: mark these flows dirty again. */
void bh_flowagg_mark_dirty(struct bh_flowagg *a, struct bh_flow *f);
/* Free clean flows last seen before now_ns - idle_ns. Returns count. */
int bh_flowagg_expire(struct bh_flowagg *a, uint64_t now_ns);
uint32_t bh_flowagg_dirty(const struct bh_flowagg *a);
void bh_flowagg_get_stats(const struct bh_flowagg *a, struct bh_flowagg_stats *st);
/* Look a flow up by a record of either direction (NULL if not live). */
struct bh_flow *bh_flowagg_find(struct bh_flowagg *a, const struct bh_flow_record *rec);
/* The peer's address: dst for egress, src for ingress. */
const __u8 *bh_flow_peer_addr(const struct bh_flow *f);

/* Severity rank used to merge verdicts. */
int bh_verdict_rank(enum bh_verdict v);

#endif /* BULKHEAD_FLOWAGG_H */
