// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The post-NAT hook for Services: a netfilter program (BPF netfilter
 * link, kernel 6.4+) at PREROUTING just after NAT, in the netns of the
 * host veths. It judges the flows to a Service frontend that the host
 * veth's program left to it, on the backend kube-proxy chose. Logic in
 * lib/bpf/svc_nat.h. libbpf 1.1 does not know the "netfilter" section:
 * the loader sets the program type and attach type itself.
 */
#define BH_CTX_TC	/* the shared headers' packet helpers are not used here */
#include "svc_nat.h"

SEC("netfilter")
int bh_svc_after_nat(struct bpf_nf_ctx___bh *ctx)
{
	return bh_svc_judge(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
