// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TC (tcx) on the host veth. Its ingress is the container's egress and
 * its egress the container's ingress. All logic is in lib/bpf.
 */
#define BH_CTX_TC
#include "datapath.h"

/* global: the verifier checks each once (see BH_HANDLE) */
__attribute__((noinline)) int bh_tc_judge_egress(struct bh_pkt *pkt, struct bh_meta *m, int perr,
						      int ct4_missed)
{
	return bh_judge_parsed(pkt, m, perr, ct4_missed, BH_DIR_EGRESS);
}

__attribute__((noinline)) int bh_tc_judge_ingress(struct bh_pkt *pkt, struct bh_meta *m, int perr,
						       int ct4_missed)
{
	return bh_judge_parsed(pkt, m, perr, ct4_missed, BH_DIR_INGRESS);
}

/* tcx ingress of the host veth: packets the container sends */
SEC("tc")
int bh_tc_from_container(struct __sk_buff *skb)
{
	return BH_HANDLE(skb, BH_DIR_EGRESS, bh_tc_judge_egress);
}

/* tcx egress of the host veth: packets to the container */
SEC("tc")
int bh_tc_to_container(struct __sk_buff *skb)
{
	return BH_HANDLE(skb, BH_DIR_INGRESS, bh_tc_judge_ingress);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
