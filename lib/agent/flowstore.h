/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flows in the state store, and the agent's own small state.
 *
 *   flows(id INTEGER PRIMARY KEY, ns, name, dir, family, proto, src, sport,
 *         dst, dport, peer, peer_identity, verdict, reason, rule, packets,
 *         bytes, tcp_flags, first_ms, last_ms, ended, pid, comm, exe, cgroup)
 *   agent_state(key TEXT PRIMARY KEY, value INTEGER, updated_ms INTEGER)
 *
 * The agent writes flows in batches: begin, put each dirty flow, commit.
 * One transaction per batch; a committed flow is acknowledged and
 * survives kill -9 (WAL). Retention deletes rows last seen before max_age
 * and the oldest rows beyond max_flows, in bounded chunks so one pass
 * never holds the store for long. The CLI reads through the query
 * functions (the table may not exist yet: that is zero rows).
 */
#ifndef BULKHEAD_FLOWSTORE_H
#define BULKHEAD_FLOWSTORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "flowrec.h"

struct bh_flowstore_opts {
	uint64_t max_flows;	/* 0 = 1000000 */
	uint64_t max_age_ms;	/* 0 = 7 days */
	uint32_t chunk;		/* rows deleted per retention call; 0 = 20000 */
};

struct bh_flowstore;

/* Create the tables if needed (needs a writable store). */
int bh_flowstore_schema(sqlite3 *db);
int bh_flowstore_open(sqlite3 *db, const struct bh_flowstore_opts *opts,
		      struct bh_flowstore **out);
void bh_flowstore_close(struct bh_flowstore *fs);

int bh_flowstore_begin(struct bh_flowstore *fs);
/* Insert (*id == 0, or its row was deleted by retention) or update row
 * *id; sets *id. */
int bh_flowstore_put(struct bh_flowstore *fs, const struct bh_flow_view *v, int64_t *id);
int bh_flowstore_commit(struct bh_flowstore *fs);
void bh_flowstore_rollback(struct bh_flowstore *fs);
/* Apply the limits; *deleted counts rows removed. */
int bh_flowstore_retention(struct bh_flowstore *fs, int64_t now_ms, uint64_t *deleted);

/* agent_state: integer values by key (outside a batch is fine too). */
int bh_agent_state_set(sqlite3 *db, const char *key, int64_t value);
/* -ENOENT if unset */
int bh_agent_state_get(sqlite3 *db, const char *key, int64_t *value);

/* ------------------------------------------------------------- reading */
struct bh_flow_row {
	int64_t id;
	char ns[BH_NAME_MAX + 1], name[BH_NAME_MAX + 1];
	char dir[8];
	int family, proto;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int sport, dport;
	char peer[2 * BH_NAME_MAX + 2];
	int64_t peer_identity;
	char verdict[16], reason[32], rule[256];
	int64_t packets, bytes;
	int tcp_flags;
	int64_t first_ms, last_ms;
	bool ended;
	char counted[128];	/* detection marks ("port-scan:denied"), "" if none */
	/* the process behind the flow (procjoin.h); pid 0, "": not known */
	int64_t pid;
	char comm[16], exe[256], cgroup[256];
};

struct bh_flow_query {
	const char *ns, *name;	/* NULL: any namespace / any name */
	int64_t after_id;	/* rows with id > after_id */
	int64_t since_ms;	/* rows with last_ms >= since_ms (0: all) */
	int64_t until_ms;	/* rows with first_ms <= until_ms (0: all) */
	int64_t limit;		/* 0: no limit; else the newest `limit` rows */
	bool newest_first;	/* rows in descending id order */
};

/* Rows in id order (newest_first: descending). fn returning non-zero
 * stops (and is returned). */
int bh_flowstore_foreach(sqlite3 *db, const struct bh_flow_query *q,
			 int (*fn)(const struct bh_flow_row *r, void *arg), void *arg);

#endif /* BULKHEAD_FLOWSTORE_H */
