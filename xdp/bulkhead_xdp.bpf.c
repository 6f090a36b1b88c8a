// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP on the host veth: packets from the container (container egress),
 * when the workload is attached with --hook xdp. All logic is in lib/bpf.
 */
#define BH_CTX_XDP
#include "datapath.h"

/* global: the verifier checks it once (see BH_HANDLE) */
__attribute__((noinline)) int bh_xdp_judge(struct bh_pkt *pkt, struct bh_meta *m, int perr,
						int ct4_missed)
{
	return bh_judge_parsed(pkt, m, perr, ct4_missed, BH_DIR_EGRESS);
}

SEC("xdp")
int bh_xdp_from_container(struct xdp_md *ctx)
{
	return BH_HANDLE(ctx, BH_DIR_EGRESS, bh_xdp_judge);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
