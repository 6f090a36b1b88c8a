/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The network map: workloads grouped by namespace, observed flows as
 * edges, rendered as Graphviz DOT (and SVG through the `dot` program).
 *
 * Build: bh_netmap_new, then bh_netmap_add_workload for every workload
 * (all of them, even outside the namespace filter: they resolve peers),
 * then bh_netmap_load_flows from the state store's flows table. Or
 * bh_netmap_load(ctx, ...) which does both from a libbulkhead context.
 *
 * Nodes: a workload drawn in its namespace's cluster (quarantined: red,
 * double border, "QUARANTINED"; workloads outside the namespace filter that
 * an edge reaches: grey; flows of a workload no longer registered: a dashed
 * "(detached)" node); every other peer in the "outside" cluster, one node
 * per peer address, the max_peers busiest drawn and the rest folded into
 * one "other peers" node.
 *
 * Edges: one per (source, destination, protocol/port, verdict class), from
 * the initiator to the responder (egress: workload -> peer, ingress: peer
 * -> workload), labelled "tcp/80 (12 flows)". Verdict classes: allowed
 * (solid green), would-deny (orange dashed), denied (red bold: deny,
 * quarantine, spoof, drop). Between two registered workloads a connection
 * is recorded twice (sender's egress and receiver's ingress); the edge
 * counts the larger of the two sides, not their sum. Beyond
 * max_ports_per_pair ports between the same two nodes with the same
 * verdict, the rest are folded into one "N more ports" edge, so a port
 * scan is one visible edge rather than a thousand.
 *
 * Every string from a container or the store is escaped for DOT: quotes
 * and backslashes are escaped, control characters and invalid UTF-8 are
 * replaced by '?', so a name cannot add nodes, attributes or lines (not
 * even a fake "QUARANTINED" line).
 */
#ifndef BULKHEAD_NETMAP_H
#define BULKHEAD_NETMAP_H

#include <stddef.h>
#include <stdint.h>

struct bh_ctx;
struct bh_workload_info;
struct sqlite3;

struct bh_netmap_opts {
	const char *ns;			/* only this namespace's workloads and flows; NULL: all */
	int64_t since_ms;		/* only flows last seen at or after (epoch ms); 0: all */
	int max_peers;			/* outside peers drawn; 0: 24 */
	int max_ports_per_pair;		/* 0: 6 */
};

struct bh_netmap;

int bh_netmap_new(const struct bh_netmap_opts *opts, struct bh_netmap **out);
void bh_netmap_free(struct bh_netmap *nm);
int bh_netmap_add_workload(struct bh_netmap *nm, const struct bh_workload_info *w);
/* Aggregate the flows table (columns ns, name, dir, proto, dport, peer,
 * peer_identity, verdict, packets, bytes, last_ms; dir/verdict as integers
 * or as the bh_*_name strings). No flows table: 0, workloads only. */
int bh_netmap_load_flows(struct bh_netmap *nm, struct sqlite3 *db);
/* All workloads (bh_workload_foreach) and the flows of ctx's store. */
int bh_netmap_load(struct bh_ctx *ctx, struct bh_netmap *nm);

/* Render DOT into a malloc'd NUL-terminated buffer. */
int bh_netmap_dot(const struct bh_netmap *nm, char **buf, size_t *len);

/* Counts after load (tests, CLI summary). */
struct bh_netmap_stats {
	int workloads;		/* drawn */
	int peers;		/* outside nodes drawn (folded node included) */
	int edges;
	uint64_t flows;		/* rows aggregated */
};
void bh_netmap_get_stats(const struct bh_netmap *nm, struct bh_netmap_stats *st);

/* Run Graphviz `dot -T FORMAT` on the DOT text and write its output to
 * out_fd (no shell; dot found through PATH). -ENOENT when Graphviz is not
 * installed; -EIO when dot failed, with its first line of complaint in
 * err. format: "svg", "png", ... (letters only). */
int bh_netmap_graphviz(const char *dot, size_t len, const char *format, int out_fd,
		       char *err, size_t errlen);

#endif /* BULKHEAD_NETMAP_H */
