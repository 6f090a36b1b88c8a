// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Services hook where BPF netfilter links are missing (before Linux
 * 6.4): a tc program at the egress of the host veths (before bulkhead's
 * own program there) and of the node's uplinks. It judges the flows to a
 * Service frontend that a host veth's program left to it, on the backend
 * kube-proxy chose, with the judge of the netfilter program
 * (lib/bpf/svc_nat.h); the flow comes from the kernel's conntrack through
 * its kfunc (lib/bpf/svc_ct.h). A separate object: the kfunc lives in
 * nf_conntrack, which a node without Services may not have loaded.
 */
#define BH_CTX_TC
#include "svc_ct.h"

SEC("tc")
int bh_svc_at_egress(struct __sk_buff *skb)
{
	__u32 from = skb->ingress_ifindex;
	struct bh_svc_flow f;

	/* only a packet a local workload sent can be a flagged flow's */
	if (!from || !bpf_map_lookup_elem(&bh_workloads_v1, &from))
		return BH_TC_NEXT;
	if (bh_svc_flow_of_skb(skb, &f))
		return BH_TC_NEXT;
	return bh_svc_judge_flow(&f, from, skb->len) ? BH_TC_NEXT : BH_TC_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
