/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Inside the network map (netmap.h): the graph the loaders fill and the
 * renderer draws.
 *
 *   netmap.c           nodes and their indexes (workloads, outside peers)
 *   netmap_flows.c     the flows table aggregated in SQL into rows
 *   netmap_build.c     rows folded into edges (busiest peers and ports)
 *   netmap_dot.c       DOT rendering and escaping
 *   netmap_graphviz.c  running `dot` for SVG and other formats
 */
#ifndef BULKHEAD_NETMAP_INT_H
#define BULKHEAD_NETMAP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "bulkhead.h"
#include "netmap.h"

#define DEFAULT_MAX_PEERS	24
#define DEFAULT_MAX_PORTS	6

enum node_kind { N_WORKLOAD, N_PEER, N_FOLD };
/* Verdict classes, in the order edges are drawn. */
enum vclass { VC_ALLOW, VC_WOULD_DENY, VC_DENY };

struct node {
	enum node_kind kind;
	int idx;
	char ns[BH_NAME_MAX + 1];	/* workload */
	char name[BH_NAME_MAX + 1];	/* workload; peer address */
	char reason[256];
	__u32 slot;
	enum bh_mode mode;
	bool quarantined;
	bool gone;			/* flows of a workload no longer registered */
	bool in_filter;
	bool drawn;
	uint64_t flows;			/* peers: for choosing the busiest */
	int folded;			/* N_FOLD: peers folded into it */
	int fold_to;			/* N_PEER not drawn: index of the fold node */
};

/* Index entry: string key -> node (tsearch trees). */
struct key {
	char *s;
	struct node *n;
};

struct row {
	int src, dst;
	__u8 proto;
	__u8 vclass;
	__u8 egress;		/* 1: counted on the initiator's side */
	__u16 port;		/* ICMP: type only */
	uint64_t flows, packets, bytes;
};

struct edge {
	int src, dst;
	__u8 proto, vclass;
	__u16 port;
	int more_ports;		/* > 0: a fold of this many port edges */
	bool mixed_proto;
	uint64_t flows[2], packets[2], bytes[2];	/* [0] ingress side, [1] egress side */
};

struct bh_netmap {
	struct bh_netmap_opts o;
	char *ns_filter;
	struct node **nodes;
	int nr_nodes, cap_nodes;
	void *by_name;		/* "ns/name" -> workload */
	void *by_ip;		/* address text -> workload */
	void *by_peer;		/* address text -> outside peer */
	struct node *by_slot[BH_MAX_WORKLOADS];
	struct row *rows;
	size_t nr_rows, cap_rows;
	struct edge *edges;
	size_t nr_edges;
	uint64_t flows;
	bool built;
};

static inline uint64_t nm_edge_flows(const struct edge *e)
{
	/* The two sides of a connection count it twice: take the larger. */
	return e->flows[0] > e->flows[1] ? e->flows[0] : e->flows[1];
}

/* A new node at the end of nm->nodes (NULL: out of memory). */
struct node *nm_node_new(struct bh_netmap *nm, enum node_kind kind);
/* The workload ns/name, created "gone" (no longer registered) until
 * bh_netmap_add_workload names it; *err set on failure. */
struct node *nm_workload_node(struct bh_netmap *nm, const char *ns, const char *name,
			      int *err);
/* The peer of a flow: a registered workload (by identity, "ns/name" or
 * address) or an outside peer keyed by its text; *err set on failure. */
struct node *nm_peer_node(struct bh_netmap *nm, const char *peer, int64_t identity,
			  int *err);
/* Fold peers and ports, merge rows into edges, mark what is drawn. Once:
 * later calls return 0. */
int nm_build(struct bh_netmap *nm);

#endif /* BULKHEAD_NETMAP_INT_H */
