/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Services, the post-NAT side: a BPF netfilter program at PREROUTING
 * right after NAT (NF_IP_PRI_NAT_DST + 1), where kube-proxy's DNAT,
 * iptables or nftables alike, has picked the backend. For a packet of a
 * flow the host veth's program flagged (svc.h), it judges the flow's
 * egress on the backend (its address's identity, its port), as Kubernetes
 * does, and either clears the flag (the flow is then an ordinary flow of
 * the host veth, under its pre-NAT tuple, which is what that program sees
 * both ways: kube-proxy's conntrack turns the replies' source back into
 * the ClusterIP before they reach the veth) or deletes the entry and drops.
 *
 * The translated destination comes from the kernel's conntrack entry
 * (skb->_nfct): its original tuple is the flow as the veth saw it (the
 * bulkhead conntrack key), its reply tuple's source is the backend.
 * Everything else (the ring record, the stats, the deny record limit) is
 * what the host veth's program does for a new flow.
 *
 * The judge (bh_svc_judge_flow) and the read of the kernel's entry
 * (bh_svc_flow_read) are also the tc hook's, for kernels without BPF
 * netfilter links (svc_ct.h): it finds the entry through the conntrack
 * kfunc instead of skb->_nfct, the client's veth as skb->skb_iif.
 */
#ifndef BH_BPF_SVC_NAT_H
#define BH_BPF_SVC_NAT_H

#include <bpf/bpf_core_read.h>
#include "maps.h"
#include "verdict.h"
#include "policy.h"
#include "ct.h"
#include "share.h"

#define BH_NF_DROP		0
#define BH_NF_ACCEPT		1
#define BH_IP_CT_NEW		2	/* enum ip_conntrack_info: a flow's first packet */
#define BH_IP_CT_IS_REPLY	3	/* enum ip_conntrack_info: >= is a reply */
#define BH_IPS_SEEN_REPLY	0x02	/* enum ip_conntrack_status */
#define BH_IPS_DST_NAT		0x20
#define BH_NFCT_INFOMASK	7UL

/* The kernel's types, only the fields read (CO-RE: offsets from the
 * running kernel's BTF, names without the ___bh suffix). */
struct net_device___bh {
	int ifindex;
} __attribute__((preserve_access_index));

struct nf_hook_state___bh {
	struct net_device___bh *in;
} __attribute__((preserve_access_index));

struct sk_buff___bh {
	unsigned int len;
	unsigned long _nfct;
} __attribute__((preserve_access_index));

struct bpf_nf_ctx___bh {
	const struct nf_hook_state___bh *state;
	struct sk_buff___bh *skb;
} __attribute__((preserve_access_index));

union nf_inet_addr___bh {
	__u32 all[4];
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple___bh {
	struct {
		union nf_inet_addr___bh u3;
		union {
			__be16 all;
		} u;
		__u16 l3num;
	} src;
	struct {
		union nf_inet_addr___bh u3;
		union {
			__be16 all;
		} u;
		__u8 protonum;
	} dst;
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple_hash___bh {
	struct nf_conntrack_tuple___bh tuple;
} __attribute__((preserve_access_index));

struct nf_conn___bh {
	struct nf_conntrack_tuple_hash___bh tuplehash[2];
	unsigned long status;
} __attribute__((preserve_access_index));

/* The flow as the kernel's conntrack has it. */
struct bh_svc_flow {
	__u8 client[16], frontend[16], backend[16];	/* IPv4-mapped or IPv6 */
	__be16 cport, fport, bport;
	__u8 proto, family;
};

static __always_inline void bh_svc_addr(__u8 *to, const __u32 *all, __u8 family)
{
	__u32 *t = (__u32 *)to;

	if (family == 4) {
		t[0] = 0;
		t[1] = 0;
		t[2] = bpf_htonl(0xffff);
		t[3] = all[0];
	} else {
		t[0] = all[0];
		t[1] = all[1];
		t[2] = all[2];
		t[3] = all[3];
	}
}

/* 1 if (addr, port, proto) is a Service frontend (svc.h's key). */
static __always_inline int bh_svc_is_frontend(const __u8 *addr, __be16 port, __u8 proto)
{
	struct bh_svc_key k = { .port = port, .proto = proto };

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&bh_svc_v1, &k) != NULL;
}

/*
 * 0 and f filled if ct is a destination-NATed flow; else nonzero. ct is
 * the kernel's entry, from skb->_nfct (netfilter) or from the conntrack
 * kfunc (tc, svc_ct.h): both read it the same way.
 *
 * With unnat set (the flow's first packet), a flow that no DNAT
 * translated is filled too when its destination is a frontend: kube-proxy
 * has no rule for it (not yet, or none at all), so the host veth's
 * program flagged a flow nothing will translate. Its backend is then the
 * frontend itself, and it is judged on the address it was sent to, as any
 * flow not to a Service; left alone, it would pass unjudged.
 */
static __always_inline int bh_svc_flow_read(const struct nf_conn___bh *ct, struct bh_svc_flow *f,
					    int unnat)
{
	__u32 osrc[4], odst[4], rsrc[4];
	unsigned long status;
	__u16 l3num;
	int nat;

	if (bpf_core_read(&status, sizeof(status), &ct->status))
		return -1;
	nat = !!(status & BH_IPS_DST_NAT);
	/* a reply seen: past the first packet, which the hook judged */
	if (!nat && (!unnat || (status & BH_IPS_SEEN_REPLY)))
		return -1;
	if (bpf_core_read(&l3num, sizeof(l3num), &ct->tuplehash[0].tuple.src.l3num) ||
	    bpf_core_read(osrc, 16, &ct->tuplehash[0].tuple.src.u3.all) ||
	    bpf_core_read(odst, 16, &ct->tuplehash[0].tuple.dst.u3.all) ||
	    bpf_core_read(rsrc, 16, &ct->tuplehash[1].tuple.src.u3.all) ||
	    bpf_core_read(&f->cport, 2, &ct->tuplehash[0].tuple.src.u.all) ||
	    bpf_core_read(&f->fport, 2, &ct->tuplehash[0].tuple.dst.u.all) ||
	    bpf_core_read(&f->bport, 2, &ct->tuplehash[1].tuple.src.u.all) ||
	    bpf_core_read(&f->proto, 1, &ct->tuplehash[0].tuple.dst.protonum))
		return -1;
	if (l3num == 2)		/* AF_INET */
		f->family = 4;
	else if (l3num == 10)	/* AF_INET6 */
		f->family = 6;
	else
		return -1;
	bh_svc_addr(f->client, osrc, f->family);
	bh_svc_addr(f->frontend, odst, f->family);
	if (nat) {
		bh_svc_addr(f->backend, rsrc, f->family);
		return 0;
	}
	if (!bh_svc_is_frontend(f->frontend, f->fport, f->proto))
		return -1;
	__builtin_memcpy(f->backend, f->frontend, 16);
	f->bport = f->fport;
	return 0;
}

/* The flow's BH_E_NEW (or, denied, rate-limited) record: the peer is the
 * backend, the address policy judged. */
static __always_inline void bh_svc_record(const struct bh_meta *m, const struct bh_svc_flow *f,
					  __u8 event)
{
	struct bh_flow_record *r;

	r = bpf_ringbuf_reserve(&bh_flows_v1, sizeof(*r), 0);
	if (!r) {
		bh_count(BH_C_RECORDS_LOST);
		return;
	}
	r->ts_ns = bpf_ktime_get_ns();
	r->packets = 1;
	r->bytes = m->len;
	r->slot = m->slot;
	r->ifindex = m->ifindex;
	r->rule_id = m->rule_id;
	r->peer_identity = m->peer_identity;
	__builtin_memcpy(r->saddr, f->client, 16);
	__builtin_memcpy(r->daddr, f->backend, 16);
	r->sport = bpf_ntohs(f->cport);
	r->dport = bpf_ntohs(f->bport);
	r->family = f->family;
	r->proto = f->proto;
	r->dir = BH_DIR_EGRESS;
	r->verdict = m->verdict;
	r->reason = m->reason;
	r->event = event;
	r->tcp_flags = 0;
	r->mode = m->mode;
	bpf_ringbuf_submit(r, 0);
	bh_count(BH_C_RECORDS);
}

/* A denied flow's record: the first, then at most one per interval (as
 * bh_flow_denied). */
static __always_inline void bh_svc_denied(const struct bh_meta *m, const struct bh_svc_flow *f,
					  const struct bh_ct_key *k)
{
	__u64 *last = bpf_map_lookup_elem(&bh_deny_rl_v2, k);

	if (!last) {
		if (!bh_share_record_ok(m->slot, m->now, 1))
			return;
		bpf_map_update_elem(&bh_deny_rl_v2, k, &m->now, BPF_ANY);
		bh_svc_record(m, f, BH_E_NEW);
		return;
	}
	if ((__s64)(m->now - *last) < (__s64)BH_DENY_RECORD_INTERVAL_NS)
		return;
	*last = m->now;
	if (bh_share_record_ok(m->slot, m->now, 0))
		bh_svc_record(m, f, BH_E_DENY);
}

static __always_inline void bh_svc_ct_delete(const struct bh_ct_key *k, __u8 family)
{
	if (family == 4) {
		struct bh_ct4_key k4;

		bh_ct4_key_from(&k4, k);
		bpf_map_delete_elem(&bh_ct4_v2, &k4);
	} else {
		bpf_map_delete_elem(&bh_ct_v3, k);
	}
}

/*
 * Judge a flagged flow on its backend: the steps and the mode logic of a
 * new flow on the host veth (datapath.h, bh_judge_new_flow), with the
 * backend as the peer. ifindex is the client's host veth (the packet's
 * way in), len the packet's. Returns 1 to let the packet go on, 0 to drop
 * it; a flow the host veth's program did not flag is let go on.
 */
static __always_inline int bh_svc_judge_flow(const struct bh_svc_flow *f, __u32 ifindex,
					     __u32 len)
{
	struct bh_meta m = { .dir = BH_DIR_EGRESS };
	struct bh_workload *wl;
	struct bh_decision d;
	struct bh_ct_key key;
	struct bh_ct_val *ct;
	void *inner;
	int src_first;

	if (f->proto != BH_IPPROTO_TCP && f->proto != BH_IPPROTO_UDP &&
	    f->proto != BH_IPPROTO_SCTP)
		return 1;
	m.ifindex = ifindex;
	m.now = bh_ct_now();
	src_first = bh_ct_key_make(f->client, f->frontend, f->cport, f->fport, f->proto, 0,
				   m.ifindex, &key);
	ct = bh_ct_lookup(&key, f->family, 0, m.now);
	if (!ct || !(ct->flags & BH_CT_F_SVC) || !bh_ct_from_orig(ct, src_first))
		return 1;	/* not a flow the veth's program flagged */

	m.len = len;
	m.slot = ct->slot;
	wl = bpf_map_lookup_elem(&bh_workloads_v1, &m.ifindex);
	m.mode = wl ? wl->mode : BH_MODE_ENFORCE;
	inner = bh_policy_map(m.slot);
	m.peer_identity = bh_identity_of(f->backend);
	bh_policy_decide(inner, BH_DIR_EGRESS, m.peer_identity, f->proto, bpf_ntohs(f->bport), &d);
	m.rule_id = d.rule_id;

	if (m.slot >= BH_MAX_WORKLOADS || !wl || wl->slot != m.slot ||
	    (bh_policy_quarantined(inner, m.slot) && d.verdict != BH_PV_ALLOW)) {
		/* quarantined since the veth let it through (the veth's
		 * program drops the flow's later packets), or a workload gone */
		bh_judge(&m, BH_V_QUARANTINE, BH_R_QUARANTINE, 0);
	} else if (bh_pv_denies(d.verdict)) {
		__u8 reason = bh_pv_reason(d.verdict);

		if (m.mode != BH_MODE_MONITOR && m.mode != BH_MODE_LEARN) {
			bh_judge(&m, BH_V_DENY, reason, 0);
		} else {
			m.ct_flags = BH_CT_F_WOULD_DENY;
			bh_judge(&m, BH_V_WOULD_DENY, m.mode == BH_MODE_LEARN ? BH_R_LEARN : reason, 1);
		}
	} else if (bh_pv_denies(d.audit_verdict)) {
		m.rule_id = d.audit_rule_id;
		m.ct_flags = BH_CT_F_WOULD_DENY;
		bh_judge(&m, BH_V_WOULD_DENY,
			 m.mode == BH_MODE_LEARN ? BH_R_LEARN : bh_pv_reason(d.audit_verdict), 1);
	} else {
		bh_judge(&m, BH_V_ALLOW, bh_pv_reason(d.verdict), 1);
	}

	if (!m.pass) {
		bh_svc_ct_delete(&key, f->family);
		bh_svc_denied(&m, f, &key);
		bh_exit(&m);
		return 0;
	}
	ct->rule_id = m.rule_id;
	ct->peer_identity = m.peer_identity;
	ct->verdict = m.verdict;
	ct->reason = m.reason;
	ct->flags = (ct->flags & ~BH_CT_F_SVC) | m.ct_flags;
	if (bh_share_record_ok(m.slot, m.now, 0))
		bh_svc_record(&m, f, BH_E_NEW);
	bh_exit(&m);
	return 1;
}

/* The netfilter program's entry: the flow from the packet's own
 * conntrack entry, seen from its initiator's side (a reply is not a
 * new flow's packet). */
static __always_inline int bh_svc_judge(struct bpf_nf_ctx___bh *ctx)
{
	struct sk_buff___bh *skb = ctx->skb;
	unsigned long nfct;
	struct bh_svc_flow f;

	if (!skb)
		return BH_NF_ACCEPT;
	nfct = skb->_nfct;
	if (!(nfct & ~BH_NFCT_INFOMASK) || (nfct & BH_NFCT_INFOMASK) >= BH_IP_CT_IS_REPLY ||
	    bh_svc_flow_read((const struct nf_conn___bh *)(nfct & ~BH_NFCT_INFOMASK), &f,
			     (nfct & BH_NFCT_INFOMASK) == BH_IP_CT_NEW))
		return BH_NF_ACCEPT;
	return bh_svc_judge_flow(&f, ctx->state->in->ifindex, skb->len) ? BH_NF_ACCEPT
									   : BH_NF_DROP;
}

#endif /* BH_BPF_SVC_NAT_H */
