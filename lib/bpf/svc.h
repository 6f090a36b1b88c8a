/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Services, the host veth's side. A new flow from a workload to a Service
 * frontend (a ClusterIP, port and protocol in bh_svc_v1) is not judged
 * here: its destination is the ClusterIP, and Kubernetes judges egress on
 * the backend kube-proxy's DNAT picks, which happens after this program,
 * in netfilter's PREROUTING. The flow gets its conntrack entry, flagged
 * BH_CT_F_SVC, and goes on; the post-NAT hook (svc_nat.h,
 * tc/bulkhead_svc.bpf.c; before Linux 6.4 its tc form, svc_ct.h) judges
 * it on the backend, then clears the flag or
 * deletes the entry and drops. Until then no fast path passes the flow's
 * packets (bh_established_may_pass), packets out go on to the hook, and
 * nothing comes in: a reply cannot come before the hook judged, so one
 * would mean the hook is missing, and that fails closed.
 * docs/architecture.md ("Services") says why this mechanism.
 */
#ifndef BH_BPF_SVC_H
#define BH_BPF_SVC_H

#include "parse.h"
#include "ct.h"
#include "share.h"

/* 1 if the packet goes to a Service frontend. */
static __always_inline int bh_svc_frontend(const struct bh_pkt *pkt)
{
	struct bh_svc_key k;

	if (pkt->named_proto || (pkt->proto != BH_IPPROTO_TCP && pkt->proto != BH_IPPROTO_UDP &&
				 pkt->proto != BH_IPPROTO_SCTP))
		return 0;
	__builtin_memcpy(k.addr, pkt->daddr, 16);
	k.port = pkt->dport;
	k.proto = pkt->proto;
	k.pad = 0;
	return bpf_map_lookup_elem(&bh_svc_v1, &k) != NULL;
}

/*
 * A new flow to a frontend, container egress, not quarantined: its entry,
 * flagged, and on. Counted nowhere here (slot out of range at the exit):
 * the hook counts it once, under its verdict. Returns -1 when the
 * workload's conntrack share is used up: the caller judges the packet as
 * any other, which drops it for that reason.
 */
static __always_inline int bh_svc_defer(struct bh_meta *m, const struct bh_pkt *pkt,
					const struct bh_ct_key *k, int src_first)
{
	if (!bh_share_ct_ok(m->slot))
		return -1;
	m->rule_id = 0;
	m->ct_flags = BH_CT_F_SVC;
	bh_judge(m, BH_V_ALLOW, BH_R_NOT_ISOLATED, 1);	/* until the hook judged */
	bh_ct_create(k, pkt, m, src_first);
	bh_frag_passed(pkt, m->slot, m->now);
	m->slot = BH_MAX_WORKLOADS;
	return bh_exit(m);
}

/* A packet of a flagged flow: out, on to the hook (more packets before
 * it judged, e.g. a second CPU); in, dropped (see above). */
static __always_inline int bh_svc_pending(struct bh_meta *m, __u8 dir)
{
	if (dir == BH_DIR_EGRESS) {
		bh_judge(m, BH_V_ALLOW, BH_R_NOT_ISOLATED, 1);
		m->slot = BH_MAX_WORKLOADS;
	} else {
		bh_judge(m, BH_V_DROP, BH_R_DEFAULT_DENY, 0);
	}
	return bh_exit(m);
}

#endif /* BH_BPF_SVC_H */
