/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `bulkhead upgrade`: this build's programs replace the running ones on
 * every interface, without a moment in which a packet meets no program.
 *
 *   1. The embedded programs are loaded with the instance's pin dir as
 *      their map root: every pinned map whose versioned name (lib/
 *      bulkhead_abi.h) they share is reused as it is -- conntrack,
 *      quarantine, policy, ipcache, counters carry over; a map whose
 *      layout changed has a new name and starts empty, and the policy
 *      sync fills it before any interface is switched.
 *   2. On each interface that carries the old programs, each hook is
 *      switched in one kernel call: tcx by BPF_PROG_ATTACH with
 *      BPF_F_REPLACE of the old program, clsact by replacing the filter at
 *      bulkhead's handle and priority, XDP by XDP_FLAGS_REPLACE of the old
 *      program. Until that call the old program judges every packet.
 *   3. The new programs take the pinned names (rename over the old pins),
 *      and the old programs go when nothing holds them.
 * A failure on one interface switches the interfaces already done back to
 * the old programs and leaves the old pins in place.
 */
#ifndef BULKHEAD_UPGRADE_H
#define BULKHEAD_UPGRADE_H

#include "bulkhead.h"

struct bh_upgrade_result {
	int interfaces;		/* interfaces switched */
	int hooks;		/* hooks switched (2 per interface) */
	__u32 old_ids[3], new_ids[3];	/* xdp, tc from container, tc to container */
};

int bh_upgrade(struct bh_ctx *ctx, struct bh_upgrade_result *res);

#endif /* BULKHEAD_UPGRADE_H */
