/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Putting this instance's programs on a host veth and taking them off.
 *
 * TC hooks use tcx (kernel >= 6.6) through BPF_PROG_ATTACH without a link:
 * the attachment belongs to the interface, not to a process or a pin, so
 * enforcement survives every bulkhead process and disappears with the veth
 * (a pinned bpf_link would outlive the veth as a defunct pin to clean).
 * XDP goes through libxdp in native mode (its dispatcher, when it cannot
 * be loaded, falls back to attaching our program alone).
 * Only programs whose id is one of this instance's pinned programs are
 * ever removed.
 */
#ifndef BULKHEAD_ATTACH_H
#define BULKHEAD_ATTACH_H

#include "bulkhead.h"

/* libbpf 1.1 headers predate tcx. */
#define BH_TCX_INGRESS	46
#define BH_TCX_EGRESS	47

/* Attach container-egress (XDP or tcx ingress) and container-ingress (tcx
 * egress) programs. All-or-nothing. Caller has loaded (bh_ctx_load).
 * birth: a pod being created (CNI ADD); with tc_attach = auto its TC
 * programs go on clsact, and bh_attach_promote moves them to tcx later. */
int bh_attach_hooks(struct bh_ctx *ctx, __u32 ifindex, enum bh_hook hook, bool birth);
/* Move our TC programs on ifindex from clsact to tcx when this instance
 * attaches through tcx (tc_attach auto or tcx on a kernel with tcx);
 * *moved says whether one did. Caller holds the lock and has loaded. */
int bh_attach_promote(struct bh_ctx *ctx, __u32 ifindex, bool *moved);
/* Remove our programs from every hook of ifindex; *removed counts them.
 * A vanished interface is not an error (nothing to remove). */
int bh_detach_hooks(struct bh_ctx *ctx, __u32 ifindex, int *removed);
/* Are our programs on ifindex for hook? 0 yes, -ENOENT no. */
int bh_hooks_check(struct bh_ctx *ctx, __u32 ifindex, enum bh_hook hook);

#endif /* BULKHEAD_ATTACH_H */
