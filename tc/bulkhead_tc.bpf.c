// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TC (tcx) on the host veth. Its ingress is the container's egress and
 * its egress the container's ingress. All logic is in lib/bpf.
 */
#define BH_CTX_TC
#include "datapath.h"

/* tcx ingress of the host veth: packets the container sends */
SEC("tc")
int bh_tc_from_container(struct __sk_buff *skb)
{
	return bh_handle(skb, BH_DIR_EGRESS);
}

/* tcx egress of the host veth: packets to the container */
SEC("tc")
int bh_tc_to_container(struct __sk_buff *skb)
{
	return bh_handle(skb, BH_DIR_INGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
