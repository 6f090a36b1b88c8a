/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow records to the agent through the ring buffer. The data path never
 * waits for room: a record that does not fit is counted as lost.
 */
#ifndef BH_BPF_FLOW_H
#define BH_BPF_FLOW_H

#include "ct.h"

static __always_inline void bh_flow_ports(const struct bh_pkt *pkt, __u16 *sport, __u16 *dport)
{
	if (pkt->proto == BH_IPPROTO_ICMP || pkt->proto == BH_IPPROTO_ICMPV6) {
		*sport = pkt->icmp_kind ? bpf_ntohs(pkt->sport) : 0;	/* query id */
		*dport = pkt->pport;					/* type << 8 | code */
	} else {
		*sport = bpf_ntohs(pkt->sport);
		*dport = bpf_ntohs(pkt->dport);
	}
}

/*
 * One record. With ct (flow end), totals and judgement come from the
 * entry and the record is told from the initiator's side, whichever side
 * sent the closing packet (reply != 0: it was the responder).
 */
static __always_inline void bh_flow_write(const struct bh_meta *m, const struct bh_pkt *pkt, __u8 event,
					  const struct bh_ct_val *ct, int reply)
{
	struct bh_flow_record *r;
	__u16 sport, dport;

	r = bpf_ringbuf_reserve(&bh_flows_v1, sizeof(*r), 0);
	if (!r) {
		bh_count(BH_C_RECORDS_LOST);
		return;
	}
	bh_flow_ports(pkt, &sport, &dport);
	r->ts_ns = bpf_ktime_get_ns();	/* precise: records are few, packets many */
	r->slot = m->slot;
	r->ifindex = m->ifindex;
	r->family = pkt->family;
	r->proto = pkt->proto;
	r->event = event;
	r->mode = m->mode;
	if (ct) {
		r->packets = ct->packets[0] + ct->packets[1];
		r->bytes = ct->bytes[0] + ct->bytes[1];
		r->rule_id = ct->rule_id;
		r->peer_identity = ct->peer_identity;
		r->dir = ct->dir;
		r->verdict = ct->verdict;
		r->reason = ct->reason;
		r->tcp_flags = ct->tcp_flags;
	} else {
		r->packets = 1;
		r->bytes = m->len;
		r->rule_id = m->rule_id;
		r->peer_identity = m->peer_identity;
		r->dir = m->dir;
		r->verdict = m->verdict;
		r->reason = m->reason;
		r->tcp_flags = pkt->tcp_flags;
	}
	if (reply) {
		__builtin_memcpy(r->saddr, pkt->daddr, 16);
		__builtin_memcpy(r->daddr, pkt->saddr, 16);
		r->sport = dport;
		r->dport = sport;
	} else {
		__builtin_memcpy(r->saddr, pkt->saddr, 16);
		__builtin_memcpy(r->daddr, pkt->daddr, 16);
		r->sport = sport;
		r->dport = dport;
	}
	bpf_ringbuf_submit(r, 0);
	bh_count(BH_C_RECORDS);
}

/* A record, within the workload's share of the ring (share.h). */
static __always_inline void bh_flow_emit(const struct bh_meta *m, const struct bh_pkt *pkt, __u8 event,
					 const struct bh_ct_val *ct, int reply)
{
	if (bh_share_record_ok(m->slot, m->now, 0))
		bh_flow_write(m, pkt, event, ct, reply);
}

/*
 * A record of a packet that is not an established flow's, rate-limited per
 * tuple: the first one is a BH_E_NEW record, later ones a `repeat` record
 * at most once per BH_DENY_RECORD_INTERVAL_NS, so a flood of such packets
 * cannot flood the agent. The rate-limit table is an LRU: when full, the
 * oldest tuple is forgotten and its next packet is reported again as new.
 * A new entry and its record always take the workload's record budget
 * (share.h): a workload flooding new tuples evicts at most that many
 * entries of the others a second.
 */
static __always_inline void bh_flow_limited(const struct bh_meta *m, const struct bh_pkt *pkt,
					    const struct bh_ct_key *k, __u8 repeat)
{
	__u64 *last = bpf_map_lookup_elem(&bh_deny_rl_v2, k);

	if (!last) {
		if (!bh_share_record_ok(m->slot, m->now, 1))
			return;
		bpf_map_update_elem(&bh_deny_rl_v2, k, &m->now, BPF_ANY);
		bh_flow_write(m, pkt, BH_E_NEW, NULL, 0);
		return;
	}
	if ((__s64)(m->now - *last) < (__s64)BH_DENY_RECORD_INTERVAL_NS)
		return;
	*last = m->now;
	bh_flow_emit(m, pkt, repeat, NULL, 0);
}

/* A dropped packet: its flow's BH_E_NEW record, then BH_E_DENY records. */
static __always_inline void bh_flow_denied(const struct bh_meta *m, const struct bh_pkt *pkt,
					   const struct bh_ct_key *k)
{
	bh_flow_limited(m, pkt, k, BH_E_DENY);
}

/*
 * A packet that passes without creating a flow (ct.h, bh_ct_starts_flow):
 * BH_E_NEW records, through the deny limit's table, so that a stream of
 * such packets cannot flood the agent either.
 */
static __always_inline void bh_flow_stateless(const struct bh_meta *m, const struct bh_pkt *pkt,
					      const struct bh_ct_key *k)
{
	bh_flow_limited(m, pkt, k, BH_E_NEW);
}

#endif /* BH_BPF_FLOW_H */
