// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP on the host veth: packets from the container (container egress),
 * when the workload is attached with --hook xdp. All logic is in lib/bpf.
 */
#define BH_CTX_XDP
#include "datapath.h"

SEC("xdp")
int bh_xdp_from_container(struct xdp_md *ctx)
{
	return bh_handle(ctx, BH_DIR_EGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
