/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Learn-mode baselines: what each workload normally does.
 *
 * One entry per (direction, peer, protocol, port) with the number of flows
 * and the first/last time seen. The peer is
 *   - a workload: its namespace and its labels (the selector an exported
 *     policy uses; a peer without labels stands for its whole namespace),
 *   - otherwise an address widened to the configured prefix
 *     (baseline.cidr_prefix_v4 / _v6; 32 / 128 keep the exact address).
 * The port is the responder's port (for ICMP: type << 8 | code).
 *
 *   baselines(ns, name, dir, peer_kind, peer_ns, peer, peer_name, proto,
 *             port, flows, first_ms, last_ms)
 *
 * Export writes a policy (K8s NetworkPolicy or bulkhead.io/v1 Policy) that
 * isolates the workload in both directions and allows exactly the
 * entries. ICMP and protocols other than TCP/UDP/SCTP cannot be written as
 * a NetworkPolicy: the k8s export lists them in a comment and leaves them
 * denied (use --format native).
 */
#ifndef BULKHEAD_BASELINE_H
#define BULKHEAD_BASELINE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "baseline_procs.h"
#include "baseline_schema.h"
#include "bulkhead.h"
#include "detect.h"
#include "flowrec.h"

#define BH_BASELINE_PEER_MAX	4096

enum bh_peer_kind { BH_PEER_WORKLOAD = 0, BH_PEER_CIDR = 1 };

struct bh_baseline_entry {
	enum bh_dir dir;
	enum bh_peer_kind peer_kind;
	char peer_ns[BH_NAME_MAX + 1];		/* workload peers */
	char peer[BH_BASELINE_PEER_MAX];	/* "k=v\nk=v" (sorted) or CIDR */
	char peer_name[BH_NAME_MAX + 1];	/* workload it was learned from */
	int proto;
	int port;
	int64_t flows;
	int64_t first_ms, last_ms;
	/* filled by bh_baseline_load: a CIDR peer, parsed once for matching */
	bool cidr_ok;
	struct bh_cidr cidr;
};

struct bh_baseline {
	char ns[BH_NAME_MAX + 1], name[BH_NAME_MAX + 1];
	int nr;
	struct bh_baseline_entry *entries;
	int nr_procs;
	struct bh_baseline_proc *procs;
};

struct bh_baseline_opts {
	int cidr_prefix_v4;		/* 0..32 */
	int cidr_prefix_v6;		/* 0..128 */
};

/* The entry a flow would have (for learning and for matching). */
int bh_baseline_entry_from_flow(const struct bh_baseline_opts *o, const struct bh_flow_view *v,
				struct bh_baseline_entry *e);
/* Upsert: flows += 1, first/last widened. Call inside a transaction for
 * speed (the agent does it in its flow batch). */
int bh_baseline_learn(sqlite3 *db, const char *ns, const char *name,
		      const struct bh_baseline_entry *e);
/* All entries of a workload, ordered (dir, peer, proto, port). An empty
 * baseline (nr == 0) is not an error. */
int bh_baseline_load(sqlite3 *db, const char *ns, const char *name, struct bh_baseline *out);
void bh_baseline_free(struct bh_baseline *b);
int bh_baseline_clear(sqlite3 *db, const char *ns, const char *name);

/* Is a flow covered by the baseline? Workload peers match when the peer
 * is in the namespace and carries every label of the entry (selector
 * semantics, as the exported policy); CIDR peers by containment. */
bool bh_baseline_covers(const struct bh_baseline *b, const struct bh_flow_view *v);
/* The same for a flow given by its parts (no text to parse: the
 * detection path). peer_addr is IPv4-mapped for IPv4. */
bool bh_baseline_covers_peer(const struct bh_baseline *b, enum bh_dir dir, int proto, int port,
			     const struct bh_workload_info *peer_wl, const __u8 peer_addr[16]);

/* Did the workload learn this program (bh_baseline_procs_cover)? */
bool bh_baseline_covers_proc(const struct bh_baseline *b, const char *exe);

enum bh_baseline_format { BH_BASELINE_K8S = 0, BH_BASELINE_NATIVE = 1 };

/* The workload's own labels select it in the exported policy. */
int bh_baseline_export(const struct bh_baseline *b, int nr_labels,
		       const struct bh_label *labels, enum bh_baseline_format fmt, FILE *out);

/* "shop/{app=db}" or "10.0.0.0/24", for listings. */
const char *bh_baseline_peer_str(const struct bh_baseline_entry *e, char *buf, size_t len);

#endif /* BULKHEAD_BASELINE_H */
