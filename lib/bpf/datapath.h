/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The per-packet pipeline both programs run; only the direction differs.
 * Order (docs/datapath.md): workload, parse, anti-spoofing, quarantine,
 * conntrack, policy, mode, flow record, one exit; an established packet
 * takes a fast path that keeps the same judgement (bh_fast_established).
 */
#ifndef BH_BPF_DATAPATH_H
#define BH_BPF_DATAPATH_H

#include "ctx.h"
#include "maps.h"
#include "verdict.h"
#include "parse.h"
#include "spoof.h"
#include "l2.h"
#include "share.h"
#include "policy.h"
#include "ct.h"
#include "fcache.h"
#include "flow.h"
#include "svc.h"

/* A denied packet of a known kind: record it (rate-limited) and drop. */
static __always_inline int bh_drop_flow(struct bh_meta *m, const struct bh_pkt *pkt,
					const struct bh_ct_key *k, __u8 verdict, __u8 reason)
{
	bh_judge(m, verdict, reason, 0);
	bh_flow_denied(m, pkt, k);
	return bh_exit(m);
}

/* A new flow that passes: conntrack entry (within the workload's share,
 * else the flow is dropped: share.h), then its BH_E_NEW record. A packet
 * that starts no flow (bh_ct_starts_flow: a TCP packet without a lone
 * SYN, ICMP other than a query request) creates no entry, so it needs no
 * share: it passes alone, with a record at most once a second per tuple. */
static __always_inline int bh_pass_new_flow(struct bh_meta *m, const struct bh_pkt *pkt,
					    const struct bh_ct_key *k, int src_first)
{
	if (!bh_ct_starts_flow(pkt)) {
		bh_frag_passed(pkt, m->slot, m->now);
		bh_flow_stateless(m, pkt, k);
		return bh_exit(m);
	}
	if (!bh_share_ct_ok(m->slot)) {
		m->rule_id = 0;
		return bh_drop_flow(m, pkt, k, BH_V_DROP, BH_R_CT_SHARE);
	}
	bh_ct_create(k, pkt, m, src_first);
	bh_frag_passed(pkt, m->slot, m->now);
	bh_flow_emit(m, pkt, BH_E_NEW, NULL, 0);
	return bh_exit(m);
}

/*
 * Judge a new flow by the workload's policy and mode.
 * enforce drops what is denied; monitor passes it as would-deny; learn
 * passes everything (reason BH_R_LEARN where policy would deny). An
 * enforced allow with an audit deny passes as would-deny, naming the
 * audit rule. Flows that pass only because of mode or audit are flagged
 * in conntrack (BH_CT_F_WOULD_DENY).
 */
static __always_inline int bh_judge_new_flow(struct bh_meta *m, const struct bh_pkt *pkt,
					     const struct bh_ct_key *k, int src_first,
					     const struct bh_decision *d)
{
	m->rule_id = d->rule_id;
	if (bh_pv_denies(d->verdict)) {
		__u8 reason = bh_pv_reason(d->verdict);

		/* an unknown mode value enforces: fail closed */
		if (m->mode != BH_MODE_MONITOR && m->mode != BH_MODE_LEARN)
			return bh_drop_flow(m, pkt, k, BH_V_DENY, reason);
		if (m->mode == BH_MODE_LEARN)
			reason = BH_R_LEARN;
		m->ct_flags = BH_CT_F_WOULD_DENY;
		bh_judge(m, BH_V_WOULD_DENY, reason, 1);
	} else if (bh_pv_denies(d->audit_verdict)) {
		m->rule_id = d->audit_rule_id;
		m->ct_flags = BH_CT_F_WOULD_DENY;
		bh_judge(m, BH_V_WOULD_DENY,
			 m->mode == BH_MODE_LEARN ? BH_R_LEARN : bh_pv_reason(d->audit_verdict), 1);
	} else {
		bh_judge(m, BH_V_ALLOW, bh_pv_reason(d->verdict), 1);
	}
	return bh_pass_new_flow(m, pkt, k, src_first);
}

/*
 * Fast path: an established packet of a known flow costs one lookup, the
 * conntrack entry keyed by the interface (in the context), which names the
 * workload slot. It is taken only when the full path would pass the packet
 * as established with nothing more to do: a whole IP packet (no ARP, ND or
 * fragment), not a FIN or RST (those may end the flow and write its
 * record), from the workload's checked endpoint on container egress
 * (bh_ct_source_ok), and no quarantine, checked with the slot from the
 * entry before the entry is trusted. Anything else takes the full path,
 * which judges it exactly as before, reusing the key and the lookup (the
 * same for the same packet). IPv4 looks up bh_ct4_v2 under the 20-byte key
 * only (the point: less to hash and compare), so its full path builds the
 * long key but reuses the lookup. It fills this CPU's flow cache
 * (fcache.h), which bh_handle looks in before anything else: the same
 * facts for the flows this CPU passed in the last few ms, without a hash
 * lookup. Returns 1 if the packet was judged.
 */
struct bh_fast {
	struct bh_ct_val *ct;	/* the lookup's result, for the full path */
	int src_first;
	int looked;		/* src_first and ct are set */
	int keyed;		/* and the long key (IPv6 only) */
};

static __always_inline int bh_fast_established(struct bh_meta *m, const struct bh_pkt *pkt,
					       __u8 dir, struct bh_ct_key *key, struct bh_fast *f,
					       int ct4_missed, int *ret)
{
	struct bh_ct4_key k4;
	struct bh_ct_val *ct;
	__u64 gen = 0;
	int have_gen = 0;
	__u32 slot;

	if (pkt->arp || pkt->nd || pkt->frag != BH_FRAG_NONE ||
	    (pkt->tcp_flags & (BH_TCP_FIN | BH_TCP_RST)))
		return 0;
	if (pkt->family == 4 && ct4_missed) {
		/* bh_fc_quick found no live entry under this key: a new
		 * flow, nothing to look up again (the full path builds the
		 * long key) */
		f->looked = 1;
		return 0;
	}
	if (pkt->family == 4) {
		/* the 20-byte key straight from the packet; the full path,
		 * if needed, builds the long key and looks again. The cache
		 * generation is read before the lookup it vouches for (fcache.h) */
		if (pkt->proto == BH_IPPROTO_UDP ||
		    (pkt->proto == BH_IPPROTO_TCP && !(pkt->tcp_flags & BH_TCP_SYN)))
			have_gen = bh_fc_gen_read(&gen);	/* a fill may follow */
		f->src_first = bh_ct4_key_of(pkt, m->ifindex, &k4);
		ct = bh_ct_live(bpf_map_lookup_elem(&bh_ct4_v2, &k4), pkt->proto,
				pkt->tcp_flags, m->now);
	} else {
		f->src_first = bh_ct_key_of(pkt, m->ifindex, key);
		ct = bh_ct_lookup(key, pkt->family, pkt->tcp_flags, m->now);
		f->keyed = 1;
	}
	if (ct && !bh_ct_kind_ok(ct, pkt, f->src_first))
		ct = NULL;
	f->ct = ct;
	f->looked = 1;
	if (!ct || !bh_ct_source_ok(ct, dir, f->src_first))
		return 0;
	slot = ct->slot;
	if (!bh_established_may_pass(slot, ct->flags) ||
	    !bh_l2_frame_ok(bh_l2_of(slot), dir, pkt->eth))
		return 0;
	m->slot = slot;
	bh_judge(m, BH_V_ALLOW, BH_R_ESTABLISHED, 1);
	/* no FIN/RST: never closes */
	bh_ct_update(ct, pkt->proto, pkt->tcp_flags, f->src_first, m->len, m->now, &pkt->tcp);
	if (pkt->family == 4 && have_gen)
		bh_fc_fill(NULL, &k4, ct, m, pkt->proto, pkt->tcp_flags, gen);
	*ret = bh_exit(m);
	return 1;
}

/*
 * Steps 1-9 for a parsed packet (perr: the parser's result; ct4_missed:
 * bh_fc_quick found no live conntrack entry for it), from the established
 * fast path on; each program file wraps it in a global function (see
 * BH_HANDLE). Returns BH_CTX_PASS or BH_CTX_DROP.
 */
static __always_inline int bh_judge_parsed(struct bh_pkt *pkt, struct bh_meta *m, int perr,
					   int ct4_missed, __u8 dir)
{
	struct bh_fast fast = {};
	struct bh_ct_key key;
	struct bh_decision d;
	struct bh_workload *wl;
	const struct bh_l2 *l2;
	struct bh_ct_val *ct;
	int err, src_first, quarantined, ret;
	void *inner;
	__u8 *peer;

	if (!pkt || !m)		/* never: the verifier wants it said */
		return BH_CTX_DROP;
	if (!perr && bh_fast_established(m, pkt, dir, &key, &fast, ct4_missed, &ret))
		return ret;

	/* 1. workload: an unregistered interface fails closed; it has no
	 * slot to count under, so only the global counter sees it */
	wl = bpf_map_lookup_elem(&bh_workloads_v1, &m->ifindex);
	if (!wl || wl->slot >= BH_MAX_WORKLOADS) {
		bh_count(BH_C_NO_WORKLOAD);
		m->slot = BH_MAX_WORKLOADS;
		bh_judge(m, BH_V_DROP, BH_R_NO_WORKLOAD, 0);
		return bh_exit(m);
	}
	m->slot = wl->slot;
	m->mode = wl->mode;

	/* 2. parse result; fragments need the slot */
	err = perr ? perr : bh_frag_track(pkt, m->slot);
	if (err) {
		bh_judge(m, BH_V_DROP, BH_ERR_REASON(err), 0);
		return bh_exit(m);
	}
	src_first = fast.keyed ? fast.src_first : bh_ct_key_of(pkt, m->ifindex, &key);
	/* which endpoint of a flow this packet creates is the workload's,
	 * and whether it is one of its addresses (bh_ct_source_ok) */
	if (dir == BH_DIR_EGRESS)
		m->ct_wl = BH_CT_F_WL_OWNED | (src_first ? BH_CT_F_WL_A : 0);
	else
		m->ct_wl = (bh_workload_owns(wl, pkt->family, pkt->daddr) ? BH_CT_F_WL_OWNED : 0) |
			  (src_first ? 0 : BH_CT_F_WL_A);

	/* 3. anti-spoofing and layer 2 identity (l2.h): from the container
	 * its addresses and MAC; to it, only what is for it */
	l2 = bh_l2_of(m->slot);
	if (dir == BH_DIR_EGRESS) {
		err = bh_check_source(wl, pkt);
		if (!err)
			err = bh_l2_check_egress(l2, wl, pkt);
		if (err == BH_ERR(BH_R_MALFORMED)) {
			bh_judge(m, BH_V_DROP, BH_R_MALFORMED, 0);
			return bh_exit(m);
		}
		if (err)
			return bh_drop_flow(m, pkt, &key, BH_V_SPOOF, BH_ERR_REASON(err));
	} else if (bh_l2_check_ingress(l2, wl, pkt)) {
		bh_judge(m, BH_V_DROP, BH_R_NOT_OURS, 0);
		return bh_exit(m);
	}

	/* 4. quarantine: checked before conntrack so it cuts live flows,
	 * and before ARP and ND, of which it lets only neighbour
	 * resolution pass (l2.h) */
	inner = bh_policy_map(m->slot);
	quarantined = bh_policy_quarantined(inner, m->slot);
	if ((pkt->arp || pkt->nd) && quarantined) {
		/* both ways: nothing rides on neighbour resolution in or out
		 * (egress checked the size in step 3 already) */
		if (pkt->l2_flags & BH_PKT_L2_OVERSIZE) {
			bh_judge(m, BH_V_DROP, BH_R_MALFORMED, 0);
			return bh_exit(m);
		}
		if (!bh_l2_quarantine_ok(pkt))
			return bh_drop_flow(m, pkt, &key, BH_V_QUARANTINE, BH_R_QUARANTINE);
	}
	if (pkt->arp) {
		bh_judge(m, BH_V_ALLOW, BH_R_ARP, 1);
		return bh_exit(m);
	}
	if (pkt->nd) {
		bh_judge(m, BH_V_ALLOW, BH_R_ND, 1);
		return bh_exit(m);
	}

	/* 5. conntrack */
	ct = fast.looked ? fast.ct : bh_ct_lookup(&key, pkt->family, pkt->tcp_flags, m->now);
	if (ct && !fast.looked && !bh_ct_kind_ok(ct, pkt, src_first))
		ct = NULL;
	if (ct && (!quarantined || (ct->flags & BH_CT_F_FORENSICS))) {
		int reply = !bh_ct_from_orig(ct, src_first);

		if (ct->flags & BH_CT_F_SVC)
			return bh_svc_pending(m, dir);	/* not judged yet (svc.h) */
		bh_fc_forget(pkt, m->ifindex, ct);	/* e.g. a FIN: counts whole first */
		bh_judge(m, BH_V_ALLOW, BH_R_ESTABLISHED, 1);
		bh_frag_passed(pkt, m->slot, m->now);
		if (bh_ct_update(ct, pkt->proto, pkt->tcp_flags, src_first, m->len, m->now,
				 &pkt->tcp))
			bh_flow_emit(m, pkt, BH_E_END, ct, reply);
		return bh_exit(m);
	}
	/* an ICMP error about a known flow belongs to that flow */
	ct = bh_ct_lookup_related(pkt, m->ifindex, m->now);
	if (ct && (!quarantined || (ct->flags & BH_CT_F_FORENSICS))) {
		bh_judge(m, BH_V_ALLOW, BH_R_ESTABLISHED, 1);
		return bh_exit(m);
	}
	if (pkt->frag == BH_FRAG_LATER) {
		/* no L4 header to judge: only a known flow's fragments pass */
		if (quarantined)
			return bh_drop_flow(m, pkt, &key, BH_V_QUARANTINE, BH_R_QUARANTINE);
		bh_judge(m, BH_V_DROP, BH_R_FRAGMENT, 0);
		return bh_exit(m);
	}

	/* 6. policy for a new flow; to a Service frontend, after the DNAT
	 * (svc.h) */
	if (dir == BH_DIR_EGRESS && !quarantined && bh_ct_starts_flow(pkt) &&
	    bh_svc_frontend(pkt) && (ret = bh_svc_defer(m, pkt, &key, src_first)) >= 0)
		return ret;
	peer = dir == BH_DIR_EGRESS ? pkt->daddr : pkt->saddr;
	m->peer_identity = bh_identity_of(peer);
	bh_policy_decide(inner, dir, m->peer_identity, pkt->proto, pkt->pport, &d);
	if (pkt->named_proto)
		bh_policy_named(inner, dir, m->peer_identity, pkt->proto, &d);

	if (quarantined) {
		/* every mode: only the forensics exception passes */
		if (d.verdict != BH_PV_ALLOW)
			return bh_drop_flow(m, pkt, &key, BH_V_QUARANTINE, BH_R_QUARANTINE);
		m->rule_id = d.rule_id;
		m->ct_flags = BH_CT_F_FORENSICS;
		bh_judge(m, BH_V_ALLOW, BH_R_FORENSICS, 1);
		return bh_pass_new_flow(m, pkt, &key, src_first);
	}

	/* 7. mode, 8. flow record, 9. exit */
	return bh_judge_new_flow(m, pkt, &key, src_first, &d);
}


/*
 * The start of both programs: fill in m, then judge an ordinary
 * established packet by the flow cache or conntrack (bh_fc_quick).
 * Returns 1 if that judged the packet (m says how).
 */
static __always_inline int bh_begin(bh_ctx_t *ctx, __u8 dir, struct bh_meta *m, int *ct_missed)
{
	bh_ctx_linearize(ctx);	/* before any packet pointer is taken */
	m->ifindex = bh_ctx_ifindex(ctx);
	m->len = bh_ctx_len(ctx);
	m->now = bh_ct_now();	/* tick resolution, see ct.h */
	return bh_fc_quick(ctx, m, dir, ct_missed);
}

/* The parsed packet, one per CPU (the programs of a CPU do not nest):
 * off the stack, so that a program and its judge function fit the 512
 * bytes of stack a chain of calls may use. Private to each object. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_pkt);
} bh_pkt_scratch SEC(".maps");

/*
 * A program: step 0 (bh_begin), the parser, then the program file's
 * global judge function for the rest. A global function is verified once,
 * from one state, so the parser's many endings do not multiply the rest:
 * verified once per call site instead of once per parser outcome, far
 * from the verifier's limit of 10^6 instructions. The call (return
 * thunks) is paid on every path but an ordinary established packet.
 */
#define BH_HANDLE(ctx, direction, judge)                                        \
	({                                                                      \
		struct bh_meta _m = { .dir = (direction) };                     \
		struct bh_pkt *_pkt;                                            \
		__u32 _zero = 0;                                                \
		int _ret, _missed = 0;                                          \
									        \
		if (bh_begin((ctx), (direction), &_m, &_missed)) {              \
			_ret = bh_exit(&_m);                                    \
		} else if (!(_pkt = bpf_map_lookup_elem(&bh_pkt_scratch, &_zero))) { \
			_ret = BH_CTX_DROP;	/* never: a one-entry array */  \
		} else {                                                        \
			__builtin_memset(_pkt, 0, sizeof(*_pkt));               \
			_ret = judge(_pkt, &_m, bh_parse((ctx), _pkt, _m.len),   \
				     _missed) ==                                \
					       BH_CTX_PASS ? BH_CTX_PASS : BH_CTX_DROP; \
		}                                                               \
		_ret;                                                           \
	})

#endif /* BH_BPF_DATAPATH_H */
