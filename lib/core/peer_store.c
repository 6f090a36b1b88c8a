// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The peers table's rows, read (peer_store.h). */
#include <errno.h>
#include <stddef.h>

#include "peer_store.h"

int bh_store_peer_foreach(sqlite3 *db, int (*fn)(const struct bh_peer_rec *p, void *arg),
			  void *arg)
{
	sqlite3_stmt *st;
	int rc, err = 0;

	if (sqlite3_prepare_v2(db, "SELECT ns, name, ips, labels, ports FROM peers"
			       " ORDER BY ns, name",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bh_peer_rec p = {
			.ns = (const char *)sqlite3_column_text(st, 0),
			.name = (const char *)sqlite3_column_text(st, 1),
			.ips = (const char *)sqlite3_column_text(st, 2),
			.labels = (const char *)sqlite3_column_text(st, 3),
			.ports = (const char *)sqlite3_column_text(st, 4),
		};

		err = fn(&p, arg);
		if (err)
			break;
	}
	sqlite3_finalize(st);
	if (!err && rc != SQLITE_DONE)
		err = -EIO;
	return err;
}
