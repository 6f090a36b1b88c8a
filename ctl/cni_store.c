/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bulkhead-cni: the cni_attachments table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cni_store.h"
#include "store.h"

static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS cni_attachments ("
	" network TEXT NOT NULL, container_id TEXT NOT NULL, ifname TEXT NOT NULL,"
	" ifindex INTEGER NOT NULL, veth TEXT NOT NULL, ns TEXT NOT NULL,"
	" name TEXT NOT NULL, created_ms INTEGER NOT NULL"
	"  DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),"
	" PRIMARY KEY (network, container_id, ifname))";

static const char *const migrations[] = { schema_v1 };

int cni_store_init(struct sqlite3 *db)
{
	return bh_store_schema(db, "cni_attachments", migrations, 1);
}

static void row_to_record(sqlite3_stmt *st, struct cni_record *r)
{
	memset(r, 0, sizeof(*r));
	bh_sql_text(st, 0, r->network, sizeof(r->network));
	bh_sql_text(st, 1, r->container_id, sizeof(r->container_id));
	bh_sql_text(st, 2, r->ifname, sizeof(r->ifname));
	r->ifindex = sqlite3_column_int(st, 3);
	bh_sql_text(st, 4, r->veth, sizeof(r->veth));
	bh_sql_text(st, 5, r->ns, sizeof(r->ns));
	bh_sql_text(st, 6, r->name, sizeof(r->name));
}

#define COLS "network, container_id, ifname, ifindex, veth, ns, name"
#define ONE_ATTACHMENT " WHERE network = ?1 AND container_id = ?2 AND ifname = ?3"

/* sql (ending in ONE_ATTACHMENT) prepared with the attachment's key bound. */
static int prepare_one(struct sqlite3 *db, const char *sql, const char *network,
		       const char *container_id, const char *ifname, sqlite3_stmt **st)
{
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	sqlite3_bind_text(*st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, container_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 3, ifname, -1, SQLITE_STATIC);
	return 0;
}

int cni_store_get(struct sqlite3 *db, const char *network, const char *container_id,
		  const char *ifname, struct cni_record *out)
{
	sqlite3_stmt *st;
	int rc, err;

	err = prepare_one(db, "SELECT " COLS " FROM cni_attachments" ONE_ATTACHMENT,
			  network, container_id, ifname, &st);
	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_record(st, out);
		err = 0;
	} else {
		err = rc == SQLITE_DONE ? -ENOENT : bh_sql_errno(rc);
	}
	sqlite3_finalize(st);
	return err;
}

int cni_store_put(struct sqlite3 *db, const struct cni_record *r)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO cni_attachments (" COLS ")"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	sqlite3_bind_text(st, 1, r->network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->container_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->ifname, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, r->ifindex);
	sqlite3_bind_text(st, 5, r->veth, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : bh_sql_errno(rc);
}

int cni_store_del(struct sqlite3 *db, const char *network, const char *container_id,
		  const char *ifname)
{
	sqlite3_stmt *st;
	int rc, err;

	err = prepare_one(db, "DELETE FROM cni_attachments" ONE_ATTACHMENT,
			  network, container_id, ifname, &st);
	if (err)
		return err;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : bh_sql_errno(rc);
}

int cni_store_list(struct sqlite3 *db, const char *network, struct cni_record **out, int *nr)
{
	struct cni_record *recs = NULL, *grown;
	sqlite3_stmt *st;
	int rc, n = 0, cap = 0, err = 0;

	*out = NULL;
	*nr = 0;
	rc = sqlite3_prepare_v2(db, "SELECT " COLS " FROM cni_attachments"
				" WHERE ?1 IS NULL OR network = ?1"
				" ORDER BY network, container_id, ifname", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	if (network)
		sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(recs, cap * sizeof(*recs));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			recs = grown;
		}
		row_to_record(st, &recs[n++]);
	}
	if (!err && rc != SQLITE_DONE)
		err = bh_sql_errno(rc);
	sqlite3_finalize(st);
	if (err) {
		free(recs);
		return err;
	}
	*out = recs;
	*nr = n;
	return 0;
}
