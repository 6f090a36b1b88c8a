// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The network map's rows folded into edges: the busiest outside peers
 * and ports kept, the rest folded. See netmap.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netmap_int.h"

static int peer_by_flows(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;

	if (x->flows != y->flows)
		return x->flows > y->flows ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Keep the max_peers busiest outside peers; fold the rest into one node. */
static int fold_peers(struct bh_netmap *nm)
{
	struct node **peers, *fold = NULL;
	int i, n = 0, nr = nm->nr_nodes;

	peers = calloc(nr ? nr : 1, sizeof(*peers));
	if (!peers)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		if (nm->nodes[i]->kind == N_PEER)
			peers[n++] = nm->nodes[i];
	if (n)
		qsort(peers, n, sizeof(*peers), peer_by_flows);
	for (i = 0; i < n; i++) {
		if (i < nm->o.max_peers) {
			peers[i]->drawn = true;
			continue;
		}
		if (!fold) {
			fold = nm_node_new(nm, N_FOLD);
			if (!fold) {
				free(peers);
				return -ENOMEM;
			}
			fold->drawn = true;
		}
		fold->folded++;
		fold->flows += peers[i]->flows;
		peers[i]->fold_to = fold->idx;
	}
	free(peers);
	for (size_t r = 0; r < nm->nr_rows; r++) {
		struct row *row = &nm->rows[r];

		if (nm->nodes[row->src]->fold_to >= 0)
			row->src = nm->nodes[row->src]->fold_to;
		if (nm->nodes[row->dst]->fold_to >= 0)
			row->dst = nm->nodes[row->dst]->fold_to;
	}
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->dst != y->dst)
		return x->dst < y->dst ? -1 : 1;
	if (x->vclass != y->vclass)
		return x->vclass < y->vclass ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return 0;
}

static int edge_by_flows(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	uint64_t fx = nm_edge_flows(x), fy = nm_edge_flows(y);

	if (fx != fy)
		return fx > fy ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

/* Within one (src, dst, verdict class) group of edges [lo, hi): keep the
 * busiest max_ports, fold the rest into the last kept slot. Returns the
 * new number of edges in the group. */
static size_t fold_ports(struct bh_netmap *nm, struct edge *g, size_t n)
{
	size_t keep = nm->o.max_ports_per_pair, i;
	struct edge f;

	if (n <= keep + 1)
		return n;
	qsort(g, n, sizeof(*g), edge_by_flows);
	f = g[keep];
	f.more_ports = n - keep;
	for (i = keep + 1; i < n; i++) {
		int s;

		if (g[i].proto != f.proto)
			f.mixed_proto = true;
		for (s = 0; s < 2; s++) {
			f.flows[s] += g[i].flows[s];
			f.packets[s] += g[i].packets[s];
			f.bytes[s] += g[i].bytes[s];
		}
	}
	g[keep] = f;
	return keep + 1;
}

int nm_build(struct bh_netmap *nm)
{
	size_t i, j, out = 0;
	int err, s;

	if (nm->built)
		return 0;
	err = fold_peers(nm);
	if (err)
		return err;
	if (nm->nr_rows)
		qsort(nm->rows, nm->nr_rows, sizeof(*nm->rows), row_cmp);
	nm->edges = calloc(nm->nr_rows ? nm->nr_rows : 1, sizeof(*nm->edges));
	if (!nm->edges)
		return -ENOMEM;
	/* Merge equal keys; the two sides of a connection stay apart. */
	for (i = 0; i < nm->nr_rows; i = j) {
		struct edge *e = &nm->edges[out++];
		const struct row *r = &nm->rows[i];

		e->src = r->src;
		e->dst = r->dst;
		e->proto = r->proto;
		e->port = r->port;
		e->vclass = r->vclass;
		for (j = i; j < nm->nr_rows && !row_cmp(&nm->rows[j], r); j++) {
			s = nm->rows[j].egress;
			e->flows[s] += nm->rows[j].flows;
			e->packets[s] += nm->rows[j].packets;
			e->bytes[s] += nm->rows[j].bytes;
		}
	}
	/* Fold ports per (src, dst, class): edges are sorted by that prefix. */
	nm->nr_edges = 0;
	for (i = 0; i < out; i = j) {
		size_t n;

		for (j = i; j < out && nm->edges[j].src == nm->edges[i].src &&
			    nm->edges[j].dst == nm->edges[i].dst &&
			    nm->edges[j].vclass == nm->edges[i].vclass; j++)
			;
		n = fold_ports(nm, &nm->edges[i], j - i);
		memmove(&nm->edges[nm->nr_edges], &nm->edges[i], n * sizeof(*nm->edges));
		nm->nr_edges += n;
	}
	for (i = 0; i < nm->nr_edges; i++) {
		nm->nodes[nm->edges[i].src]->drawn = true;
		nm->nodes[nm->edges[i].dst]->drawn = true;
	}
	for (s = 0; s < nm->nr_nodes; s++)
		if (nm->nodes[s]->kind == N_WORKLOAD && nm->nodes[s]->in_filter)
			nm->nodes[s]->drawn = true;
	nm->built = true;
	return 0;
}

void bh_netmap_get_stats(const struct bh_netmap *nm, struct bh_netmap_stats *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	nm_build((struct bh_netmap *)nm);
	for (i = 0; i < nm->nr_nodes; i++) {
		if (!nm->nodes[i]->drawn)
			continue;
		if (nm->nodes[i]->kind == N_WORKLOAD)
			st->workloads++;
		else
			st->peers++;
	}
	st->edges = nm->nr_edges;
	st->flows = nm->flows;
}
