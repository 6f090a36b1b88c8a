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

#include "bulkhead.h"
#include "peer_store.h"

/* Make the peers table equal to recs[0..nr) (unique ns/name): one
 * transaction, one policy sync if anything changed. *changed: rows put or
 * deleted. Bad addresses or labels are user errors (message in ctx). */
int bh_peers_replace(struct bh_ctx *ctx, int nr, const struct bh_peer_rec *recs, int *changed);

#endif /* BULKHEAD_PEERS_H */
