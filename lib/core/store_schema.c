// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Versioned schemas of the tables other rooms keep in the state store
 * (see store.h, bh_store_schema). */
#include <errno.h>
#include <stdio.h>

#include "store.h"

static int exec(sqlite3 *db, const char *sql)
{
	return bh_sql_errno(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

static int component_version(sqlite3 *db, const char *component, int *version)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT version FROM schema_versions WHERE component = ?1",
				    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : bh_sql_errno(rc);
}

static int set_version(sqlite3 *db, const char *component, int version)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO schema_versions(component, version)"
				    " VALUES(?1, ?2) ON CONFLICT(component) DO UPDATE SET"
				    " version = excluded.version", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, version);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return bh_sql_errno(rc);
}

/* Read without the write lock first: the common case (up to date) must
 * not serialize every process that opens the store. */
static int up_to_date(sqlite3 *db, const char *component, int nr_steps)
{
	int v;

	if (component_version(db, component, &v))
		return 0;	/* no table yet: take the slow path */
	return v == nr_steps;
}

int bh_store_schema(sqlite3 *db, const char *component, const char *const *steps, int nr_steps)
{
	struct bh_tx tx;
	int v, err;

	if (up_to_date(db, component, nr_steps))
		return 0;
	err = bh_store_begin(db, &tx);
	if (err)
		return err;
	err = exec(db, "CREATE TABLE IF NOT EXISTS schema_versions("
		       " component TEXT PRIMARY KEY, version INTEGER NOT NULL)");
	if (!err)
		err = component_version(db, component, &v);
	if (!err && v > nr_steps)
		err = -EPROTO;	/* written by a newer bulkhead */
	for (; !err && v < nr_steps; v++) {
		err = exec(db, steps[v]);
		if (!err)
			err = set_version(db, component, v + 1);
	}
	return bh_store_end(&tx, !err) ?: err;
}
