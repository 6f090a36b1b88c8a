// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The network map's nodes: workloads, outside peers, and the indexes
 * that find them by name, address and slot. See netmap.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmap_int.h"

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct key *)a)->s, ((const struct key *)b)->s);
}

static void key_free(void *p)
{
	struct key *k = p;

	free(k->s);
	free(k);
}

static struct node *index_find(void *root, const char *s)
{
	struct key k = { .s = (char *)s };
	struct key **found = tfind(&k, &root, key_cmp);

	return found ? (*found)->n : NULL;
}

/* Insert s -> n unless s is there already (first one wins). */
static int index_add(void **root, const char *s, struct node *n)
{
	struct key *k = calloc(1, sizeof(*k)), **slot;

	if (!k || !(k->s = strdup(s))) {
		free(k);
		return -ENOMEM;
	}
	k->n = n;
	slot = tsearch(k, root, key_cmp);
	if (!slot) {
		key_free(k);
		return -ENOMEM;
	}
	if (*slot != k)
		key_free(k);
	return 0;
}

int bh_netmap_new(const struct bh_netmap_opts *opts, struct bh_netmap **out)
{
	struct bh_netmap *nm = calloc(1, sizeof(*nm));

	if (!nm)
		return -ENOMEM;
	if (opts)
		nm->o = *opts;
	if (nm->o.max_peers <= 0)
		nm->o.max_peers = DEFAULT_MAX_PEERS;
	if (nm->o.max_ports_per_pair <= 0)
		nm->o.max_ports_per_pair = DEFAULT_MAX_PORTS;
	if (nm->o.ns && !(nm->ns_filter = strdup(nm->o.ns))) {
		free(nm);
		return -ENOMEM;
	}
	nm->o.ns = nm->ns_filter;
	*out = nm;
	return 0;
}

void bh_netmap_free(struct bh_netmap *nm)
{
	int i;

	if (!nm)
		return;
	tdestroy(nm->by_name, key_free);
	tdestroy(nm->by_ip, key_free);
	tdestroy(nm->by_peer, key_free);
	for (i = 0; i < nm->nr_nodes; i++)
		free(nm->nodes[i]);
	free(nm->nodes);
	free(nm->rows);
	free(nm->edges);
	free(nm->ns_filter);
	free(nm);
}

struct node *nm_node_new(struct bh_netmap *nm, enum node_kind kind)
{
	struct node *n;

	if (nm->nr_nodes == nm->cap_nodes) {
		int cap = nm->cap_nodes ? nm->cap_nodes * 2 : 64;
		struct node **p = realloc(nm->nodes, cap * sizeof(*p));

		if (!p)
			return NULL;
		nm->nodes = p;
		nm->cap_nodes = cap;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = kind;
	n->idx = nm->nr_nodes;
	n->fold_to = -1;
	nm->nodes[nm->nr_nodes++] = n;
	return n;
}

struct node *nm_workload_node(struct bh_netmap *nm, const char *ns, const char *name,
				  int *err)
{
	char key[2 * BH_NAME_MAX + 2];
	struct node *n;

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	n = index_find(nm->by_name, key);
	if (n)
		return n;
	n = nm_node_new(nm, N_WORKLOAD);
	if (!n || index_add(&nm->by_name, key, n)) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(n->ns, sizeof(n->ns), "%s", ns);
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->slot = BH_MAX_WORKLOADS;
	n->gone = true;		/* until bh_netmap_add_workload says otherwise */
	n->in_filter = !nm->o.ns || !strcmp(ns, nm->o.ns);
	return n;
}

int bh_netmap_add_workload(struct bh_netmap *nm, const struct bh_workload_info *w)
{
	struct node *n;
	int i, err = 0;

	if (nm->built)
		return -EBUSY;
	n = nm_workload_node(nm, w->ns, w->name, &err);
	if (!n)
		return err;
	n->gone = false;
	n->slot = w->slot;
	n->mode = w->mode;
	n->quarantined = w->quarantined;
	snprintf(n->reason, sizeof(n->reason), "%s", w->quarantine_reason);
	if (w->slot < BH_MAX_WORKLOADS)
		nm->by_slot[w->slot] = n;
	for (i = 0; i < w->nr_ips && i < BH_MAX_WORKLOAD_IPS; i++) {
		char ip[INET6_ADDRSTRLEN];

		if (!w->ips[i].family)
			continue;
		if (!bh_ip_format(&w->ips[i], ip, sizeof(ip)))
			continue;
		err = index_add(&nm->by_ip, ip, n);
		if (err)
			return err;
	}
	return 0;
}

struct node *nm_peer_node(struct bh_netmap *nm, const char *peer, int64_t identity,
			      int *err)
{
	struct node *n = NULL;

	if (identity >= BH_ID_WORKLOAD_BASE && identity < BH_ID_CIDR_BASE &&
	    identity - BH_ID_WORKLOAD_BASE < BH_MAX_WORKLOADS)
		n = nm->by_slot[identity - BH_ID_WORKLOAD_BASE];
	if (!n)
		n = index_find(nm->by_name, peer);
	if (!n)
		n = index_find(nm->by_ip, peer);
	if (!n)
		n = index_find(nm->by_peer, peer);
	if (n)
		return n;
	n = nm_node_new(nm, N_PEER);
	if (!n || index_add(&nm->by_peer, peer, n)) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(n->name, sizeof(n->name), "%s", *peer ? peer : "unknown");
	return n;
}
