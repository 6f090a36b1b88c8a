/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A workload slot's policy map written in place instead of swapped.
 *
 * Every update of bh_policy_v1 (an array of maps) waits in the kernel for
 * an RCU grace period before it returns (10-20 ms on a small machine), so
 * that running programs stop using the map it replaced. That wait buys
 * nothing for a slot no program reads: a program finds a workload's slot
 * only in its bh_workloads_v1 entry (conntrack entries of a reused slot are
 * purged before it is filled), so a slot that no such entry names is
 * unread. The workload being attached has no entry until the sync's step 6,
 * after its policy is in; the one being detached lost its entry and its
 * programs first.
 *
 * So a slot keeps a private inner map across the workloads it serves:
 * emptied in place at detach, filled in place at attach, then its programs
 * attach and the first packet is judged by the whole policy. A workload
 * that programs read still changes policy only by the swap (sync.h): one
 * atomic step, never a half-written map. In place needs the slot's own map
 * (not the shared deny-all map of a quarantined slot) with room for the
 * policy; otherwise the caller swaps, as before.
 *
 * A map filled in place keeps its id, which the data path's per-CPU
 * quarantine cache (lib/bpf/policy.h) keys on: right, because only the
 * deny-all map ever holds the quarantine marker, so a slot's own map reads
 * "not quarantined" whatever it is filled with.
 *
 * Callers hold the lock and have loaded (bh_ctx_load).
 */
#ifndef BULKHEAD_POLICY_SLOT_H
#define BULKHEAD_POLICY_SLOT_H

#include "bulkhead.h"
#include "policy.h"

/* Room of the empty maps slots get (BPF_F_NO_PREALLOC: room costs nothing
 * until used): a policy of fewer entries fills in place. */
#define BH_SLOT_SPARE_SIZE	BH_POLICY_TEMPLATE_SIZE

/* *unread: no bh_workloads_v1 entry names slot. */
int bh_slot_unread(struct bh_ctx *ctx, __u32 slot, bool *unread);

/* If slot is unread and holds a private map with room for nr entries and
 * the digest entry: empty it, write e[0..nr) and the digest entry last,
 * *done = true. Else nothing changes, *done = false. A slot without any
 * map gets one first, and so does every other such slot (bh_slot_spares).
 * On an error midway the map has no digest entry, so the next sync
 * rebuilds it; the slot stays unread. */
int bh_slot_fill(struct bh_ctx *ctx, __u32 slot, const struct bh_policy_entry *e, size_t nr,
		 __u64 digest, bool *done);

/* Every slot of bh_policy_v1 without an inner map gets an empty private
 * one. A program that found no map judges as with an empty one, so this
 * changes no verdict. Batched: one grace period per 256 slots, once in an
 * instance's life (slots keep their map afterwards). */
int bh_slot_spares(struct bh_ctx *ctx);

/* After a detach: empty the slot's map in place if the slot is unread and
 * the map is its own; else give the slot a new empty map (one swap). */
int bh_slot_release(struct bh_ctx *ctx, __u32 slot);

#endif /* BULKHEAD_POLICY_SLOT_H */
