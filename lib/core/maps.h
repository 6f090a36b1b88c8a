/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Writing the data path's maps: ipcache, per-workload policy (inner map
 * build then swap), workloads. Callers hold the lock and have loaded
 * (bh_ctx_load). Policy changes are made of these steps in the order
 * policy/sync.c documents, so no packet is judged by a half-made state.
 */
#ifndef BULKHEAD_MAPS_H
#define BULKHEAD_MAPS_H

#include "bulkhead.h"

/* A fresh inner policy map (LPM trie) with room for nr entries (at least
 * 16). Not visible to the data path until swapped in. */
int bh_maps_inner_create(struct bh_ctx *ctx, size_t nr, int *fd);
int bh_maps_inner_put(struct bh_ctx *ctx, int fd, const struct bh_policy_key *k,
		      const struct bh_policy_val *v);
/* The one atomic step: bh_policy_v1[slot] = fd. */
int bh_maps_policy_swap(struct bh_ctx *ctx, __u32 slot, int fd);
/* Quarantine: bh_policy_v1[slot] = the shared deny-all map. */
int bh_maps_policy_quarantine(struct bh_ctx *ctx, __u32 slot);
/* Deny-all map contents, updated in place (it is shared by every
 * quarantined slot): entries are added before stale ones go. */
int bh_maps_deny_all_put(struct bh_ctx *ctx, const struct bh_policy_key *k,
			 const struct bh_policy_val *v);

int bh_maps_ipcache_put(struct bh_ctx *ctx, const struct bh_ipcache_key *k,
			const struct bh_ipcache_val *v);

/* Delete every key of map `m` (a pinned name) for which keep() is false. */
int bh_maps_prune(struct bh_ctx *ctx, const char *map, size_t key_size,
		  bool (*keep)(const void *key, void *arg), void *arg);

int bh_maps_workload_put(struct bh_ctx *ctx, __u32 ifindex, const struct bh_workload *w);
int bh_maps_workload_del(struct bh_ctx *ctx, __u32 ifindex);

/* The data path's view of a registered workload. */
void bh_workload_entry(const struct bh_workload_info *w, struct bh_workload *out);

/* Forget a slot's flows: conntrack entries of the slot or of the
 * interface, deny records of the interface, fragments of the slot, so a
 * reused slot or ifindex never inherits an old workload's established
 * connections. slot BH_MAX_WORKLOADS: by the interface only. */
int bh_maps_flows_purge(struct bh_ctx *ctx, __u32 slot, __u32 ifindex);

/* Zero a workload slot's stats (a reused slot starts from nothing). */
int bh_maps_stats_clear(struct bh_ctx *ctx, __u32 slot);

/* ------------------------------------------------ incremental sync
 * The digest entry of an inner map (see bh_policy_key in the ABI). */
void bh_policy_digest_entry(__u64 digest, struct bh_policy_key *k, struct bh_policy_val *v);
/* The digest held by the inner map now in bh_policy_v1[slot]; -ENOENT if
 * the slot is empty, is the deny-all map or its map has no digest. */
int bh_maps_policy_digest(struct bh_ctx *ctx, __u32 slot, __u64 *digest);
/* Is bh_policy_v1[slot] the shared deny-all map? */
bool bh_maps_policy_is_quarantined(struct bh_ctx *ctx, __u32 slot);
/* bh_policy_v1[slots[i]] = fds[i] for every i: one batch update, so the
 * kernel waits for running programs (an RCU grace period) once, not once
 * per slot. Each slot still changes in one atomic step. Falls back to one
 * update per slot where the kernel has no batch update for the map. */
int bh_maps_policy_swap_many(struct bh_ctx *ctx, size_t nr, const __u32 *slots, const int *fds);

/* Every entry of a pinned map (keys and values, malloc'd, caller frees
 * both), in the map's iteration order. */
int bh_maps_dump(struct bh_ctx *ctx, const char *map, size_t key_size, size_t val_size,
		 void **keys, void **vals, size_t *nr);

/* The kernel's id of a map (0 if unknown), and of the inner map in
 * bh_policy_v1[slot] (0 if none). */
__u32 bh_maps_map_id(int fd);
__u32 bh_maps_slot_map_id(struct bh_ctx *ctx, __u32 slot);

/* Per-CPU elements (lib/core/percpu.c), values rows of nr_u64 counters:
 * the sum over every possible CPU of one element, the same sum added in
 * from a buffer of ncpu rows (batch reads), and one element zeroed. */
int bh_percpu_sum(int fd, __u32 key, unsigned int nr_u64, __u64 *sum);
void bh_percpu_fold(const __u64 *vals, int ncpu, unsigned int nr_u64, __u64 *sum);
int bh_percpu_zero(int fd, __u32 key, unsigned int nr_u64);

/* After conntrack entries were deleted or edited: bump bh_ctgen_v1, so
 * the programs' flow caches (lib/bpf/fcache.h) stop serving them. The
 * functions below that delete entries do it themselves. */
int bh_maps_ct_changed(struct bh_ctx *ctx);
/* Live conntrack entries per workload slot (live[slot], nr slots). An
 * entry counts until it is surely expired: the data path's longest
 * timeout for its kind (12 h for an established TCP flow, at most 60 s
 * for anything else, lib/bpf/ct.h) and 2 s for the clocks' difference. */
int bh_maps_ct_count_live(struct bh_ctx *ctx, __u64 *live, size_t nr);

/* Cut flows that passed only because of the mode or an audit policy
 * (BH_CT_F_WOULD_DENY): delete the conntrack entries among those for which
 * cut() says so (it also picks the slots), so their next packet is judged
 * again by the policy in force. *nr_cut (may be NULL) counts them. */
int bh_maps_flows_cut(struct bh_ctx *ctx,
		      bool (*cut)(const struct bh_ct_key *k, const struct bh_ct_val *v, void *arg),
		      void *arg, int *nr_cut);

/* Entries in conntrack now and its capacity (both maps): for metrics.
 * -ENOENT when nothing is pinned yet. */
int bh_ct_count(struct bh_ctx *ctx, uint64_t *entries, uint64_t *capacity);

#endif /* BULKHEAD_MAPS_H */
