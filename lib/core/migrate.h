/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Carrying map state across a layout change (`bulkhead upgrade`).
 *
 * A pinned map's name carries its layout version (lib/bulkhead_abi.h):
 * when the layout changes, this build's programs pin a new, empty map
 * next to the old one, which the running programs keep using until the
 * switch. One table (migrate.c) says, for every older name this build
 * knows, which map of this build succeeds it and how its entries are
 * converted. A table row is all a future layout change adds: an older
 * name, this build's name and a converter (or none: the state is not
 * carried, and the old map is only unpinned).
 *
 * Phases, in bh_upgrade's order:
 *   BEFORE: after the new programs are loaded, before any hook switches:
 *     state the new programs need from their first packet (conntrack: an
 *     established connection must find its entry, or its next packet
 *     would be judged as a new flow).
 *   AFTER: once every hook runs the new programs, the old maps no longer
 *     change: what the old programs wrote between BEFORE and their switch
 *     (conntrack entries created or advanced meanwhile) is merged, and
 *     what only adds up (counters) is carried once.
 * Then the old pins are removed (bh_migrate_unpin_old); the old maps go
 * when the old programs do.
 *
 * Maps with no older layout (policy, ipcache, workloads) are the ones the
 * new programs share with the old by name, and the store rebuilds
 * everything else the policy sync writes.
 */
#ifndef BULKHEAD_MIGRATE_H
#define BULKHEAD_MIGRATE_H

#include "bulkhead.h"

enum bh_migrate_phase {
	BH_MIGRATE_BEFORE = 1,	/* before the first hook switches */
	BH_MIGRATE_AFTER = 2,	/* after the last hook switched */
};

/* What a converter did, summed over the table. */
struct bh_migrate_count {
	__u64 copied;		/* entries written into the new map */
	__u64 merged;		/* entries present in both, the new one updated */
	__u64 skipped;		/* entries that could not be carried (full map, bad slot) */
	__u32 slot_entries[BH_MAX_WORKLOADS];	/* conntrack entries copied, per slot */
};

struct bh_migrate_result {
	int maps;		/* old maps found pinned */
	int carried;		/* ... whose entries a converter carried */
	int unpinned;		/* old pins removed */
	__u64 ct_copied, ct_merged, ct_skipped;
	__u64 stats_carried;	/* counter rows added into the new stats map */
	char names[256];	/* "old->new" of each map found, for the report */
};

/* A converter: entries of the old map (from_fd) into the new one (to_fd)
 * for one phase. Returns 0 or a negative errno with the context's
 * message. */
typedef int (*bh_migrate_fn)(struct bh_ctx *ctx, int from_fd, int to_fd,
			     enum bh_migrate_phase phase, struct bh_migrate_count *c);

struct bh_map_migration {
	const char *from;	/* an older pinned name */
	const char *to;		/* this build's map that succeeds it */
	unsigned int phases;	/* BH_MIGRATE_* the converter runs in */
	bh_migrate_fn convert;	/* NULL: not carried (documented per row) */
	bool is_ct;		/* counts as conntrack in the result */
};

/* Run every row whose old map is pinned, for one phase. */
int bh_migrate_run(struct bh_ctx *ctx, enum bh_migrate_phase phase,
		   struct bh_migrate_result *res);
/* Remove the pins of the old maps the table names (after the switch). */
int bh_migrate_unpin_old(struct bh_ctx *ctx, struct bh_migrate_result *res);

/* The converters (migrate_ct.c, migrate_stats.c). */
int bh_migrate_ct_v2(struct bh_ctx *ctx, int from_fd, int to_fd, enum bh_migrate_phase phase,
		     struct bh_migrate_count *c);
int bh_migrate_stats_v1(struct bh_ctx *ctx, int from_fd, int to_fd, enum bh_migrate_phase phase,
			struct bh_migrate_count *c);
int bh_migrate_stats_v2(struct bh_ctx *ctx, int from_fd, int to_fd, enum bh_migrate_phase phase,
			struct bh_migrate_count *c);

#endif /* BULKHEAD_MIGRATE_H */
