// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Control-plane counters in the state store, for the agent's metrics:
 * policy syncs (counted by every process that syncs, ctx.c) and CNI
 * operations (ctl/cni_cmd.c). A process adds its counts once, when it
 * closes its context, outside any transaction: a sync that failed and was
 * rolled back is still counted.
 *
 *   counters(name TEXT PRIMARY KEY, value INTEGER, updated_ms INTEGER)
 */
#include <errno.h>
#include <time.h>

#include "store.h"

static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL, updated_ms INTEGER NOT NULL)";
static const char *const migrations[] = { schema_v1 };

static __s64 wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__s64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int update(sqlite3 *db, const char *sql, const char *name, __s64 v)
{
	sqlite3_stmt *st;
	int rc = bh_store_schema(db, "counters", migrations, 1);

	if (rc)
		return rc;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return bh_sql_errno(sqlite3_errcode(db));
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	sqlite3_bind_int64(st, 3, wall_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return bh_sql_errno(rc);
}

int bh_store_counter_add(sqlite3 *db, const char *name, __s64 delta)
{
	return update(db, "INSERT INTO counters(name, value, updated_ms) VALUES(?1, ?2, ?3)"
			  " ON CONFLICT(name) DO UPDATE SET value = value + ?2, updated_ms = ?3",
		      name, delta);
}

int bh_store_counter_set(sqlite3 *db, const char *name, __s64 value)
{
	return update(db, "INSERT INTO counters(name, value, updated_ms) VALUES(?1, ?2, ?3)"
			  " ON CONFLICT(name) DO UPDATE SET value = ?2, updated_ms = ?3",
		      name, value);
}

int bh_store_counter_foreach(sqlite3 *db, int (*fn)(const char *name, __s64 value, void *arg),
			     void *arg)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(db, "SELECT name, value FROM counters ORDER BY name", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;	/* no table yet: no counter */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1), arg);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = bh_sql_errno(rc);
	sqlite3_finalize(st);
	return ret;
}
