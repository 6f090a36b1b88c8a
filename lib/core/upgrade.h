/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `bulkhead upgrade`: this build's programs replace the running ones on
 * every interface, without a moment in which a packet meets no program.
 *
 *   1. The embedded programs are loaded with the instance's pin dir as
 *      their map root: every pinned map whose versioned name (lib/
 *      bulkhead_abi.h) they share is reused as it is -- policy, ipcache,
 *      workloads, counters carry over. A map whose layout changed has a
 *      new name and starts empty: the policy sync fills what the store
 *      holds, the layer 2 identities are read from the veth peers, and
 *      the migration table (migrate.h) copies conntrack from the old
 *      layout, all before any interface is switched.
 *   2. On each interface that carries the old programs, each hook is
 *      switched in one kernel call: tcx by BPF_PROG_ATTACH with
 *      BPF_F_REPLACE of the old program, clsact by replacing the filter at
 *      bulkhead's handle and priority, XDP by XDP_FLAGS_REPLACE of the old
 *      program. Until that call the old program judges every packet.
 *   3. What the old programs wrote after the first copy is merged, and
 *      counters of old layouts are added in; the new programs take the
 *      pinned names (rename over the old pins), the old maps' pins are
 *      removed, and the old programs and maps go when nothing holds them.
 *   4. The Services hook, when attached (services.h), gets this build's
 *      program the same way: each tc site replaced in one call, or new
 *      netfilter links pinned over the old ones.
 * A failure on one interface switches the interfaces already done back to
 * the old programs and leaves the old pins in place (the new layouts' maps
 * stay pinned; a later upgrade refreshes them).
 */
#ifndef BULKHEAD_UPGRADE_H
#define BULKHEAD_UPGRADE_H

#include "bulkhead.h"
#include "migrate.h"

struct bh_upgrade_result {
	int interfaces;		/* interfaces switched */
	int hooks;		/* hooks switched (2 per interface) */
	__u32 old_ids[3], new_ids[3];	/* xdp, tc from container, tc to container */
	struct bh_migrate_result migrate;	/* maps of older layouts carried */
	int svc_sites;		/* Services hook: tc sites or netfilter links switched */
};

int bh_upgrade(struct bh_ctx *ctx, struct bh_upgrade_result *res);

#endif /* BULKHEAD_UPGRADE_H */
