/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The peers table's rows as stored (peers.h says what a peer is): read by
 * the policy sync's input (stored_input.c) and by peers.c, which replaces
 * them and then syncs, so the reading stands below both.
 */
#ifndef BULKHEAD_PEER_STORE_H
#define BULKHEAD_PEER_STORE_H

#include <sqlite3.h>

struct bh_peer_rec {
	const char *ns, *name;
	const char *ips;		/* "10.0.0.1 fd00::1" */
	const char *labels;		/* "k=v\nk2=v2\n", sorted by key */
	const char *ports;		/* named ports "http=80/TCP\n...", sorted; NULL = "" */
};

/* Every stored peer, by ns/name. */
int bh_store_peer_foreach(sqlite3 *db, int (*fn)(const struct bh_peer_rec *p, void *arg),
			  void *arg);

#endif /* BULKHEAD_PEER_STORE_H */
