/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The state store: desired state in SQLite (WAL) under BULKHEAD_STATE_DIR.
 * Tables: namespaces (+labels), workloads (+ips, +labels), policies (their
 * YAML source), cidr_identity and rules (stable ids the compiler asks
 * for), events (the timeline). Pure SQL, no kernel: unit-tested without
 * root. Functions return 0 or a negative errno (-ENOENT: no such row,
 * -EEXIST: a uniqueness rule, -ENOSPC: no free slot, -EIO: SQLite).
 * The schema carries a version (PRAGMA user_version) and bh_store_open
 * migrates an older store; -EPROTO: the store is of a newer version.
 * The controller's and the CNI plugin's tables (flows, baselines,
 * agent_state, flow_marks, docker_attachments, cni_attachments, counters)
 * belong to their modules; each module versions its own tables through
 * bh_store_schema.
 */
#ifndef BULKHEAD_STORE_H
#define BULKHEAD_STORE_H

#include <sqlite3.h>

#include "bulkhead.h"

/* A SQLite result code as a negative errno (0 for OK, DONE, ROW): busy or
 * locked -EBUSY, constraint -EEXIST, no memory -ENOMEM, read-only or no
 * permission -EACCES, full -ENOSPC, cannot open -ENOENT, else -EIO. */
int bh_sql_errno(int rc);
/* Text column col of the current row into dst ("" for NULL), cut to len. */
void bh_sql_text(sqlite3_stmt *st, int col, char *dst, size_t len);
/* Step a statement that returns no rows, once, and finalize it. */
int bh_sql_run(sqlite3_stmt *st);
/* The end of a loop over rows: st finalized; the loop's own err, else 0
 * when the rows ran out (rc SQLITE_DONE), else the step's error. */
int bh_sql_rows_end(sqlite3_stmt *st, int rc, int err);
int bh_store_open(const char *path, sqlite3 **out);
void bh_store_close(sqlite3 *db);

/* A module's own tables, versioned apart from the core's: steps[i] takes
 * the module's tables from version i to i + 1 (a change is a new step at
 * the end, never an edit of an old one; step 0 creates with IF NOT EXISTS
 * so stores made before versions existed pass). The version of each
 * component is a row of schema_versions. Applies the missing steps in
 * one transaction; -EPROTO if the store was written by a newer bulkhead. */
int bh_store_schema(sqlite3 *db, const char *component, const char *const *steps, int nr_steps);

/* Transactions nest: the outermost is BEGIN IMMEDIATE, inner ones are
 * savepoints. end(commit=false) rolls back to where begin was called. */
struct bh_tx {
	sqlite3 *db;
	bool outer;
	bool open;
};
int bh_store_begin(sqlite3 *db, struct bh_tx *tx);
int bh_store_end(struct bh_tx *tx, bool commit);
struct bh_ctx;
/* The start of every change (ctx.c): the instance lock, the maps loaded
 * and a store transaction begun; on error nothing is held and the
 * message is set. The caller ends the transaction and unlocks. */
int bh_ctx_begin_change(struct bh_ctx *ctx, struct bh_tx *tx);

/* ------------------------------------------------------------ namespaces */
int bh_store_ns_ensure(sqlite3 *db, const char *ns);
int bh_store_ns_set_label(sqlite3 *db, const char *ns, const struct bh_label *l);
/* Stored labels plus kubernetes.io/metadata.name=NS (which cannot be
 * overridden). *nr: capacity in, count out; -E2BIG if more. */
int bh_store_ns_labels(sqlite3 *db, const char *ns, int *nr, struct bh_label *labels);
/* Namespaces that have a workload, a label or a policy, by name. */
int bh_store_ns_foreach(sqlite3 *db, int (*fn)(const char *ns, void *arg), void *arg);

/* ------------------------------------------------------------- workloads */
/* Inserts w (slot chosen: lowest free; identity = BASE + slot), fills
 * w->slot and w->identity. -EEXIST if ns/name, ifname or an IP is taken. */
int bh_store_workload_add(sqlite3 *db, struct bh_workload_info *w);
int bh_store_workload_del(sqlite3 *db, const char *ns, const char *name);
int bh_store_workload_get(sqlite3 *db, const char *ns, const char *name,
			  struct bh_workload_info *out);
int bh_store_workload_by_ifname(sqlite3 *db, const char *ifname, struct bh_workload_info *out);
int bh_store_workload_by_slot(sqlite3 *db, __u32 slot, struct bh_workload_info *out);
int bh_store_workload_foreach(sqlite3 *db,
			      int (*fn)(const struct bh_workload_info *w, void *arg), void *arg);
int bh_store_workload_count(sqlite3 *db, int *count);
int bh_store_workload_set_mode(sqlite3 *db, const char *ns, const char *name, enum bh_mode m);
int bh_store_workload_set_quarantine(sqlite3 *db, const char *ns, const char *name,
				     bool on, const char *reason);
/* Labels: set (insert or replace) and delete one key (absent: 0). */
int bh_store_workload_set_label(sqlite3 *db, const char *ns, const char *name,
				const struct bh_label *l);
int bh_store_workload_del_label(sqlite3 *db, const char *ns, const char *name, const char *key);
int bh_store_workload_label_count(sqlite3 *db, const char *ns, const char *name, int *count);
int bh_store_ns_del_label(sqlite3 *db, const char *ns, const char *key);
/* Named ports: replace them all. Pending: unknown_pod posture on/off. */
int bh_store_workload_set_ports(sqlite3 *db, const char *ns, const char *name, int nr,
				const struct bh_named_port *ports);
int bh_store_workload_set_pending(sqlite3 *db, const char *ns, const char *name, bool on);
/* Which workload holds ip? -ENOENT if none. */
int bh_store_ip_owner(sqlite3 *db, const struct bh_ip *ip, char *ns, size_t nslen,
		      char *name, size_t namelen);

/* -------------------------------------------------------------- policies
 * ns "" is a cluster-wide policy. kind is the policy layer's enum. */
struct bh_store_policy {
	char ns[BH_NAME_MAX + 1];
	char name[BH_NAME_MAX + 1];
	int kind;
	const char *source;	/* valid during the callback */
	char file[256];
	__s64 applied_ms;
};
int bh_store_policy_put(sqlite3 *db, const char *ns, const char *name, int kind,
			const char *source, const char *file);
int bh_store_policy_del(sqlite3 *db, const char *ns, const char *name);
/* The stored source (malloc'd, caller frees); -ENOENT if none. */
int bh_store_policy_source(sqlite3 *db, const char *ns, const char *name, char **source);
/* Ordered by ns, name. */
int bh_store_policy_foreach(sqlite3 *db,
			    int (*fn)(const struct bh_store_policy *p, void *arg), void *arg);
int bh_store_policy_count(sqlite3 *db, int *count);

/* -------------------------------------------------------------- stable ids
 * Allocated once, kept until reset (so an id in an old flow record still
 * resolves, and re-applying a policy gives the same ids). */
int bh_store_cidr_identity(sqlite3 *db, const char *cidr, __u32 *id);
int bh_store_rule_id(sqlite3 *db, const char *ns, const char *name, enum bh_dir dir,
		     int index, __u32 *id);
/* "ns/name ingress[2]" ("name ingress[2]" for cluster policies). */
int bh_store_rule_describe(sqlite3 *db, __u32 id, char *buf, size_t len);

/* ---------------------------------------------------------------- events */
int bh_store_event_add(sqlite3 *db, const char *ns, const char *name, const char *kind,
		       const char *severity, const char *detail);
int bh_store_event_foreach(sqlite3 *db, const char *ns, const char *name, __s64 after_id,
			   int (*fn)(const struct bh_event_rec *e, void *arg), void *arg);

/* -------------------------------------------------------------- counters
 * Control-plane counters (store_counters.c): policy syncs, CNI
 * operations. Added outside transactions, read by the agent's metrics. */
int bh_store_counter_add(sqlite3 *db, const char *name, __s64 delta);
int bh_store_counter_set(sqlite3 *db, const char *name, __s64 value);
int bh_store_counter_foreach(sqlite3 *db, int (*fn)(const char *name, __s64 value, void *arg),
			     void *arg);

#endif /* BULKHEAD_STORE_H */
