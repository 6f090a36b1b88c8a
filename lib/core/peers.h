/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Peers: pods of the cluster that are not workloads of this node (other
 * nodes' pods, this node's pods bulkhead did not attach). They have no
 * veth and no policy here; each carries its namespace and labels, so that
 * podSelector/namespaceSelector peers match it wherever it runs. The
 * compiler gives every distinct (namespace, labels) set one identity
 * (stable, from the state store) and puts each peer address into the
 * ipcache under it; a deleted peer's addresses leave the ipcache in the
 * same sync. The Kubernetes watch keeps this table equal to the API.
 *
 * Table peers(ns, name, ips, labels, ports) (store schema v2, ports v3): ips "ADDR ADDR", labels "K=V\n..."
 * sorted by key (so equal label sets compare equal as text).
 */
#ifndef BULKHEAD_PEERS_H
#define BULKHEAD_PEERS_H

#include <sqlite3.h>

#include "bulkhead.h"

struct bh_peer_rec {
	const char *ns, *name;
	const char *ips;		/* "10.0.0.1 fd00::1" */
	const char *labels;		/* "k=v\nk2=v2\n", sorted by key */
	const char *ports;		/* named ports "http=80/TCP\n...", sorted; NULL = "" */
};

/* Make the peers table equal to recs[0..nr) (unique ns/name): one
 * transaction, one policy sync if anything changed. *changed: rows put or
 * deleted. Bad addresses or labels are user errors (message in ctx). */
int bh_peers_replace(struct bh_ctx *ctx, int nr, const struct bh_peer_rec *recs, int *changed);

/* Every stored peer, by ns/name. */
int bh_store_peer_foreach(sqlite3 *db, int (*fn)(const struct bh_peer_rec *p, void *arg),
			  void *arg);

#endif /* BULKHEAD_PEERS_H */
