/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The two ways the TC programs go onto a host veth, and which one an
 * instance uses.
 *
 *   tcx     kernel >= 6.6: BPF_PROG_ATTACH on the tcx hooks (attach.c).
 *   clsact  every kernel bulkhead supports (Debian 12's 6.1 among them):
 *           a clsact qdisc with one direct-action cls_bpf filter per
 *           direction, at a fixed handle and priority (BH_CLSACT_HANDLE,
 *           BH_CLSACT_PRIO) so that an upgrade can replace the program in
 *           place (BPF_TC_F_REPLACE) without a moment with no filter.
 *
 * `tc_attach = auto | tcx | clsact` in $BULKHEAD_STATE_DIR/config picks
 * one; auto (the default) takes tcx when the kernel has it. The clsact
 * qdisc is left on the interface by a detach (other tools' filters may
 * hang on it); it goes with the veth.
 */
#ifndef BULKHEAD_TC_CLSACT_H
#define BULKHEAD_TC_CLSACT_H

#include <stdbool.h>

#include "bulkhead.h"
#include "config.h"

#define BH_CLSACT_HANDLE	0xb4c1
#define BH_CLSACT_PRIO		0xb4
/* The Services tc hook (services.h) on egress: a lower priority runs
 * first, before bulkhead's own filter on a host veth. */
#define BH_CLSACT_SVC_HANDLE	0xb4c2
#define BH_CLSACT_SVC_PRIO	0xb3

/* Does this kernel have tcx? Asks the kernel about the tcx hook of the
 * loopback device of the caller's netns: a kernel without tcx rejects the
 * attach type with EINVAL. */
bool bh_tcx_supported(void);
/* The mode this instance attaches with: the config's `tc_attach`, auto
 * resolved to tcx or clsact. A bad config is a user error in ctx; a
 * forced tcx on a kernel without it is a system error naming the key. */
int bh_tc_attach_mode(struct bh_ctx *ctx, enum bh_tc_attach *mode);
/* The mode a pod's programs take at its birth (CNI ADD): clsact when the
 * config says auto, else as bh_tc_attach_mode. A tcx attach waits for an
 * RCU grace period under RTNL, one per direction, which a pod's start
 * should not wait for; the agent moves them to tcx (bh_attach_promote).
 * *or_tcx: clsact was chosen on a kernel with tcx, which serves if clsact
 * cannot be had (no cls_bpf). */
int bh_tc_attach_birth_mode(struct bh_ctx *ctx, enum bh_tc_attach *mode, bool *or_tcx);

/* direction: true = the host veth's ingress (packets from the container). */
/* Put prog_fd at our handle/priority, replacing in place what is there. */
int bh_clsact_attach(struct bh_ctx *ctx, __u32 ifindex, bool host_ingress, int prog_fd);
/* Program id of the filter at our handle/priority, 0 if none. */
__u32 bh_clsact_prog_id(__u32 ifindex, bool host_ingress);
/* Remove our filter when the program at our handle/priority has id; a
 * vanished interface or filter is not an error. *removed counts. */
int bh_clsact_detach(struct bh_ctx *ctx, __u32 ifindex, bool host_ingress, __u32 id,
		     int *removed);
/* The same at another handle and priority (the Services hook). */
int bh_clsact_attach_at(struct bh_ctx *ctx, __u32 ifindex, bool host_ingress, int prog_fd,
			__u32 handle, __u32 prio);
__u32 bh_clsact_prog_id_at(__u32 ifindex, bool host_ingress, __u32 handle, __u32 prio);
int bh_clsact_detach_at(struct bh_ctx *ctx, __u32 ifindex, bool host_ingress, __u32 id,
			int *removed, __u32 handle, __u32 prio);

#endif /* BULKHEAD_TC_CLSACT_H */
