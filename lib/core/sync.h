/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Making the kernel match the store: compile every stored policy against
 * every stored workload and namespace, then update the maps in an order
 * that never judges a packet by a half-made state:
 *   1. build a new inner policy map for each workload whose compiled
 *      entries differ from its live map's (the digest entry each map
 *      carries); unchanged workloads keep their map (invisible so far);
 *      a workload being attached, whose slot no program reads yet, has
 *      its slot's own map filled in place instead (policy_slot.h);
 *   2. add the deny-all map's new or changed entries (forensics exception);
 *   3. swap the changed slots to their new maps in one batch update (one
 *      atomic update per slot, one RCU wait in all; quarantined workloads
 *      get the shared deny-all map);
 *   4. add/update changed ipcache entries, 5. delete stale ipcache entries;
 *   6. update changed bh_workloads_v1 entries (mode, addresses), delete
 *      stale ones; then cut (delete) the conntrack entries flagged
 *      BH_CT_F_WOULD_DENY of enforce-mode workloads whose policy changed or
 *      that just entered enforce, when the policy now in force denies them;
 *   7. delete stale deny-all entries.
 * With `backend = nftables` (nft_sync.h) prepare builds the one batch that
 * replaces the instance's nftables table instead of steps 1-7, and commit
 * sends it.
 * Prepare (1) can fail without touching anything the data path reads; the
 * policy apply layer uses it to decide before committing the store.
 * prepare and commit expect the instance lock held across both (the
 * apply does); bh_policy_sync takes it itself, as every other mutating
 * call of the core does (bulkhead.h).
 */
#ifndef BULKHEAD_POLICY_SYNC_H
#define BULKHEAD_POLICY_SYNC_H

#include "bulkhead.h"
#include "policy.h"

/* The compile input as the store holds it (lib/core/stored_input.c), the
 * one way to gather it: every workload, every namespace with its labels,
 * every stored policy parsed again from its source (one that no longer
 * parses is an error naming it, never skipped). The sync compiles it; the
 * what-if evaluation (`policy test`) compiles it with candidates on top. */
struct bh_stored_ns {
	char name[BH_NAME_MAX + 1];
	int nr;
	struct bh_label labels[BH_MAX_LABELS + 1];
};

struct bh_stored_input {
	int nr_w;
	struct bh_workload_info *w;
	int nr_ns;
	struct bh_stored_ns *ns;
	int nr_pol, cap_pol;
	struct bh_policy *pol;
	struct bh_compile_workload *cw;		/* views of w and ns */
	struct bh_compile_namespace *cn;
	/* peers (peers.h): one entry per identity, all its addresses */
	int nr_peers, cap_peers;
	struct bh_compile_workload *peers;	/* strings owned */
};

int bh_stored_input_load(struct bh_ctx *ctx, struct bh_stored_input *in);
/* Workloads, namespaces and policies of in as a compile input (ids and
 * forensics left for the caller). */
void bh_stored_input_view(const struct bh_stored_input *in, struct bh_compile_input *out);
void bh_stored_input_free(struct bh_stored_input *in);

struct bh_sync_plan;

/* Compile from the store (including its uncommitted changes) and build
 * the new inner maps. A compile error is a user error (message in ctx). */
int bh_sync_prepare(struct bh_ctx *ctx, struct bh_sync_plan **plan);
/* Steps 2-7. */
int bh_sync_commit(struct bh_ctx *ctx, struct bh_sync_plan *plan);
/* Close the built maps (the kernel frees those not swapped in). */
void bh_sync_plan_free(struct bh_sync_plan *plan);

/* prepare + commit, under the lock: what every workload, namespace,
 * mode and quarantine change runs to make the maps match the store. */
int bh_policy_sync(struct bh_ctx *ctx);
/* The same for an attach, before the workload's programs are: its slot,
 * which no program reads yet, gets its policy written in place into the
 * map the slot has instead of a new map swapped in (policy_slot.h), which
 * spares the swap's RCU grace period. */
int bh_policy_sync_attach(struct bh_ctx *ctx, __u32 slot);

/* The quarantine exception from STATE_DIR/config (docs/cli.md), read with
 * config.c (which refuses unknown keys):
 *   forensics.cidr = 10.99.0.0/24
 *   forensics.port = tcp/22        (repeatable; none: all ports)
 * Absent file or keys: disabled. Errors (user errors, message in ctx)
 * name the file, the line and the key. */
int bh_forensics_load(struct bh_ctx *ctx, struct bh_forensics *out);
void bh_forensics_free(struct bh_forensics *f);

/* ------------------------------------------------------ policy apply/delete
 * (policy/apply.c) All-or-nothing: the whole file is parsed first; then,
 * in one store transaction, the policies are stored, everything is
 * compiled and every new map is built; only then are maps swapped and the
 * transaction committed. On any failure the old maps stay and nothing is
 * stored. Parse errors are user errors "FILE:LINE:COL: FIELD: MSG". */
enum bh_apply_change { BH_APPLY_CREATED, BH_APPLY_CONFIGURED, BH_APPLY_UNCHANGED };

struct bh_apply_item {
	char ns[BH_NAME_MAX + 1];	/* "" for cluster-wide */
	char name[BH_NAME_MAX + 1];
	enum bh_policy_kind kind;
	enum bh_apply_change change;
};

struct bh_apply_result {
	int nr;
	struct bh_apply_item *items;
};

int bh_policy_apply_file(struct bh_ctx *ctx, const char *path, struct bh_apply_result *res);
/* The same from a buffer; name stands for the file in messages and in
 * the stored record (the Kubernetes watch applies API objects this way). */
int bh_policy_apply_buf(struct bh_ctx *ctx, const char *name, const char *buf, size_t len,
			struct bh_apply_result *res);
void bh_apply_result_free(struct bh_apply_result *res);
/* ns "" deletes a cluster-wide policy. -ENOENT (user error) if absent. */
int bh_policy_delete(struct bh_ctx *ctx, const char *ns, const char *name);
const char *bh_policy_kind_name(enum bh_policy_kind k);

#endif /* BULKHEAD_POLICY_SYNC_H */
