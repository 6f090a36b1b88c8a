// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Marks on counted flows (lib/agent/detect_marks.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "detect_marks.h"
#include "store.h"

static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS flow_marks("
	" id INTEGER PRIMARY KEY, ns TEXT NOT NULL, name TEXT NOT NULL, proto INTEGER,"
	" src TEXT, sport INTEGER, dst TEXT, dport INTEGER, mark TEXT, decided_ms INTEGER);"
	"CREATE INDEX IF NOT EXISTS flow_marks_flow ON flow_marks(ns, name, src, sport, dst, dport);"
	"CREATE INDEX IF NOT EXISTS flow_marks_time ON flow_marks(decided_ms);";

static const char *const migrations[] = { schema_v1 };

int bh_detect_marks_schema(sqlite3 *db)
{
	return bh_store_schema(db, "flow_marks", migrations, 1);
}

bool bh_detect_marks_present(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool ok;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table'"
			       " AND name='flow_marks'", -1, &st, NULL) != SQLITE_OK)
		return false;
	ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return ok;
}

int bh_detect_marks_add(sqlite3 *db, const char *ns, const char *name,
			const struct bh_detect_result *r, int64_t decided_ms)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	if (sqlite3_prepare_v2(db, "INSERT INTO flow_marks(ns, name, proto, src, sport, dst,"
			       " dport, mark, decided_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
			       -1, &st, NULL) != SQLITE_OK) {
		err = bh_sql_errno(sqlite3_errcode(db));
		goto out;
	}
	for (uint32_t i = 0; i < r->nr_counted && !err; i++) {
		const struct bh_detect_counted *c = &r->counted[i];
		char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], mark[80];

		bh_addr_format(c->src, src, sizeof(src));
		bh_addr_format(c->dst, dst, sizeof(dst));
		sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, c->proto);
		sqlite3_bind_text(st, 4, src, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 5, c->sport);
		sqlite3_bind_text(st, 6, dst, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 7, c->dport);
		sqlite3_bind_text(st, 8, bh_detect_mark(r, c, mark, sizeof(mark)), -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 9, decided_ms);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			err = bh_sql_errno(rc);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
out:
	sqlite3_finalize(st);
	rc = sqlite3_exec(db, err ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	if (!err && rc != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		err = bh_sql_errno(rc);
	}
	return err;
}

int bh_detect_marks_retention(sqlite3 *db, int64_t before_ms, uint64_t *deleted)
{
	sqlite3_stmt *st;
	int rc;

	*deleted = 0;
	if (sqlite3_prepare_v2(db, "DELETE FROM flow_marks WHERE decided_ms < ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return bh_sql_errno(sqlite3_errcode(db));
	sqlite3_bind_int64(st, 1, before_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return bh_sql_errno(rc);
	*deleted = (uint64_t)sqlite3_changes(db);
	return 0;
}
