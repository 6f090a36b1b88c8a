// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Flows table: batched writes, retention, queries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect_marks.h"
#include "flowstore.h"
#include "procjoin.h"
#include "store.h"

static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS flows("
	" id INTEGER PRIMARY KEY, ns TEXT NOT NULL, name TEXT NOT NULL,"
	" dir TEXT NOT NULL, family INTEGER, proto INTEGER,"
	" src TEXT, sport INTEGER, dst TEXT, dport INTEGER,"
	" peer TEXT, peer_identity INTEGER, verdict TEXT, reason TEXT, rule TEXT,"
	" packets INTEGER, bytes INTEGER, tcp_flags INTEGER,"
	" first_ms INTEGER, last_ms INTEGER, ended INTEGER);"
	"CREATE INDEX IF NOT EXISTS flows_workload ON flows(ns, name, id);"
	"CREATE INDEX IF NOT EXISTS flows_last ON flows(last_ms);"
	"CREATE TABLE IF NOT EXISTS agent_state("
	" key TEXT PRIMARY KEY, value INTEGER, updated_ms INTEGER);";

/* the process behind a flow (procjoin.h) */
static const char schema_v2[] =
	"ALTER TABLE flows ADD COLUMN pid INTEGER;"
	"ALTER TABLE flows ADD COLUMN comm TEXT;"
	"ALTER TABLE flows ADD COLUMN exe TEXT;"
	"ALTER TABLE flows ADD COLUMN cgroup TEXT;";

#define COLS "ns, name, dir, family, proto, src, sport, dst, dport, peer, peer_identity," \
	     " verdict, reason, rule, packets, bytes, tcp_flags, first_ms, last_ms, ended"
#define PROC_COLS "pid, comm, exe, cgroup"

struct bh_flowstore {
	sqlite3 *db;
	struct bh_flowstore_opts opts;
	sqlite3_stmt *insert, *update;
	bool in_tx;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A reader (the CLI) may meet a store the agent has not migrated yet. */
static bool has_proc_cols(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool ok;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('flows') WHERE name='exe'",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return ok;
}

static const char *const migrations[] = { schema_v1, schema_v2 };

int bh_flowstore_schema(sqlite3 *db)
{
	return bh_store_schema(db, "flows", migrations, 2);
}

int bh_flowstore_open(sqlite3 *db, const struct bh_flowstore_opts *opts,
		      struct bh_flowstore **out)
{
	struct bh_flowstore *fs;
	int err = bh_flowstore_schema(db);

	if (err)
		return err;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->db = db;
	fs->opts = *opts;
	if (!fs->opts.max_flows)
		fs->opts.max_flows = 1000000;
	if (!fs->opts.max_age_ms)
		fs->opts.max_age_ms = 7ULL * 86400 * 1000;
	if (!fs->opts.chunk)
		fs->opts.chunk = 20000;
	if (sqlite3_prepare_v2(db, "INSERT INTO flows(" COLS ", " PROC_COLS ") VALUES"
			       " (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,"
			       "?21,?22,?23,?24)",
			       -1, &fs->insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE flows SET verdict=?12, reason=?13, rule=?14,"
			       " packets=?15, bytes=?16, tcp_flags=?17, first_ms=?18, last_ms=?19,"
			       " ended=?20, peer=?10, pid=?21, comm=?22, exe=?23, cgroup=?24"
			       " WHERE id=?25",
			       -1, &fs->update, NULL) != SQLITE_OK) {
		err = bh_sql_errno(sqlite3_errcode(db));
		bh_flowstore_close(fs);
		return err;
	}
	*out = fs;
	return 0;
}

void bh_flowstore_close(struct bh_flowstore *fs)
{
	if (!fs)
		return;
	if (fs->in_tx)
		bh_flowstore_rollback(fs);
	sqlite3_finalize(fs->insert);
	sqlite3_finalize(fs->update);
	free(fs);
}

int bh_flowstore_begin(struct bh_flowstore *fs)
{
	int rc = sqlite3_exec(fs->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	fs->in_tx = true;
	return 0;
}

int bh_flowstore_commit(struct bh_flowstore *fs)
{
	int rc = sqlite3_exec(fs->db, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		bh_flowstore_rollback(fs);
		return bh_sql_errno(rc);
	}
	fs->in_tx = false;
	return 0;
}

void bh_flowstore_rollback(struct bh_flowstore *fs)
{
	sqlite3_exec(fs->db, "ROLLBACK", NULL, NULL, NULL);
	fs->in_tx = false;
}

static void bind_view(sqlite3_stmt *st, const struct bh_flow_view *v)
{
	sqlite3_bind_text(st, 1, v->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->dir, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, v->family);
	sqlite3_bind_int(st, 5, v->proto);
	sqlite3_bind_text(st, 6, v->src, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, v->sport);
	sqlite3_bind_text(st, 8, v->dst, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, v->dport);
	sqlite3_bind_text(st, 10, v->peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, v->peer_identity);
	sqlite3_bind_text(st, 12, v->verdict_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, v->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, v->rule, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 15, (sqlite3_int64)v->packets);
	sqlite3_bind_int64(st, 16, (sqlite3_int64)v->bytes);
	sqlite3_bind_int(st, 17, v->tcp_flags);
	sqlite3_bind_int64(st, 18, v->first_ms);
	sqlite3_bind_int64(st, 19, v->last_ms);
	sqlite3_bind_int(st, 20, v->ended);
	if (v->proc) {
		sqlite3_bind_int64(st, 21, v->proc->pid);
		sqlite3_bind_text(st, 22, v->proc->comm, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 23, v->proc->exe, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 24, v->proc->cgroup, -1, SQLITE_STATIC);
	}
}

static int step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : bh_sql_errno(rc);
}

int bh_flowstore_put(struct bh_flowstore *fs, const struct bh_flow_view *v, int64_t *id)
{
	int err;

	if (*id > 0) {
		bind_view(fs->update, v);
		sqlite3_bind_int64(fs->update, 25, *id);
		err = step_reset(fs->update);
		if (err)
			return err;
		if (sqlite3_changes(fs->db) > 0)
			return 0;
		/* the row was removed by retention meanwhile: store it anew */
	}
	bind_view(fs->insert, v);
	err = step_reset(fs->insert);
	if (err)
		return err;
	*id = sqlite3_last_insert_rowid(fs->db);
	return 0;
}

static int exec_changes(sqlite3 *db, const char *sql, int64_t a, int64_t b, uint64_t *n)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return bh_sql_errno(sqlite3_errcode(db));
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return bh_sql_errno(rc);
	*n += (uint64_t)sqlite3_changes(db);
	return 0;
}

int bh_flowstore_retention(struct bh_flowstore *fs, int64_t now, uint64_t *deleted)
{
	int err;

	*deleted = 0;
	/* age: the chunk bound keeps one pass short; the next pass goes on */
	err = exec_changes(fs->db,
			   "DELETE FROM flows WHERE id IN (SELECT id FROM flows"
			   " WHERE last_ms < ?1 ORDER BY last_ms LIMIT ?2)",
			   now - (int64_t)fs->opts.max_age_ms, fs->opts.chunk, deleted);
	if (err)
		return err;
	/* size: ids grow with inserts, so the lowest ids are the oldest rows */
	return exec_changes(fs->db,
			    "DELETE FROM flows WHERE id IN (SELECT id FROM flows"
			    " WHERE id <= (SELECT MAX(id) FROM flows) - ?1 ORDER BY id LIMIT ?2)",
			    (int64_t)fs->opts.max_flows, fs->opts.chunk, deleted);
}

int bh_agent_state_set(sqlite3 *db, const char *key, int64_t value)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "INSERT INTO agent_state(key, value, updated_ms)"
			       " VALUES(?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET"
			       " value=excluded.value, updated_ms=excluded.updated_ms",
			       -1, &st, NULL) != SQLITE_OK)
		return bh_sql_errno(sqlite3_errcode(db));
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, value);
	sqlite3_bind_int64(st, 3, now_ms());
	return bh_sql_run(st);
}

int bh_agent_state_get(sqlite3 *db, const char *key, int64_t *value)
{
	sqlite3_stmt *st;
	int rc, err = -ENOENT;

	if (sqlite3_prepare_v2(db, "SELECT value FROM agent_state WHERE key=?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -ENOENT;	/* no table yet */
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = sqlite3_column_int64(st, 0);
		err = 0;
	} else if (rc != SQLITE_DONE) {
		err = bh_sql_errno(rc);
	}
	sqlite3_finalize(st);
	return err;
}

static bool table_exists(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool ok;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table'"
			       " AND name='flows'", -1, &st, NULL) != SQLITE_OK)
		return false;
	ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return ok;
}

int bh_flowstore_foreach(sqlite3 *db, const struct bh_flow_query *q,
			 int (*fn)(const struct bh_flow_row *r, void *arg), void *arg)
{
	/* newest `limit` rows, shown oldest first (or newest first); the marks
	 * of detection decisions (lib/agent/detect_marks.h) name a flow by
	 * workload and tuple */
#define FLOWS_WHERE \
	"FROM flows WHERE id > ?1 AND last_ms >= ?2 AND (?3 IS NULL OR ns = ?3)" \
	" AND (?4 IS NULL OR name = ?4) AND (?6 = 0 OR first_ms <= ?6) ORDER BY id DESC LIMIT ?5"
	static const char sql[] =
		"SELECT * FROM (SELECT id, " COLS ", %s, %s " FLOWS_WHERE ") ORDER BY id";
	static const char sql_desc[] = "SELECT id, " COLS ", %s, %s " FLOWS_WHERE;
	static const char marks[] =
		"(SELECT group_concat(mark, ',') FROM flow_marks m WHERE m.ns = flows.ns AND"
		" m.name = flows.name AND m.src = flows.src AND m.sport = flows.sport AND"
		" m.dst = flows.dst AND m.dport = flows.dport AND m.proto = flows.proto)";
	char query[sizeof(sql) + sizeof(marks) + sizeof(PROC_COLS)];
	struct bh_flow_row *r;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (!table_exists(db))
		return 0;
	/* a store the agent has not opened since the process columns came
	 * is read as it is (no process) */
	snprintf(query, sizeof(query), q->newest_first ? sql_desc : sql,
		 bh_detect_marks_present(db) ? marks : "''",
		 has_proc_cols(db) ? PROC_COLS : "NULL, NULL, NULL, NULL");
	if (sqlite3_prepare_v2(db, query, -1, &st, NULL) != SQLITE_OK)
		return bh_sql_errno(sqlite3_errcode(db));
	r = calloc(1, sizeof(*r));
	if (!r) {
		sqlite3_finalize(st);
		return -ENOMEM;
	}
	sqlite3_bind_int64(st, 1, q->after_id);
	sqlite3_bind_int64(st, 2, q->since_ms);
	if (q->ns)
		sqlite3_bind_text(st, 3, q->ns, -1, SQLITE_STATIC);
	if (q->name)
		sqlite3_bind_text(st, 4, q->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, q->limit > 0 ? q->limit : -1);
	sqlite3_bind_int64(st, 6, q->until_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		bh_sql_text(st, 1, r->ns, sizeof(r->ns));
		bh_sql_text(st, 2, r->name, sizeof(r->name));
		bh_sql_text(st, 3, r->dir, sizeof(r->dir));
		r->family = sqlite3_column_int(st, 4);
		r->proto = sqlite3_column_int(st, 5);
		bh_sql_text(st, 6, r->src, sizeof(r->src));
		r->sport = sqlite3_column_int(st, 7);
		bh_sql_text(st, 8, r->dst, sizeof(r->dst));
		r->dport = sqlite3_column_int(st, 9);
		bh_sql_text(st, 10, r->peer, sizeof(r->peer));
		r->peer_identity = sqlite3_column_int64(st, 11);
		bh_sql_text(st, 12, r->verdict, sizeof(r->verdict));
		bh_sql_text(st, 13, r->reason, sizeof(r->reason));
		bh_sql_text(st, 14, r->rule, sizeof(r->rule));
		r->packets = sqlite3_column_int64(st, 15);
		r->bytes = sqlite3_column_int64(st, 16);
		r->tcp_flags = sqlite3_column_int(st, 17);
		r->first_ms = sqlite3_column_int64(st, 18);
		r->last_ms = sqlite3_column_int64(st, 19);
		r->ended = sqlite3_column_int(st, 20) != 0;
		bh_sql_text(st, 21, r->counted, sizeof(r->counted));
		r->pid = sqlite3_column_int64(st, 22);
		bh_sql_text(st, 23, r->comm, sizeof(r->comm));
		bh_sql_text(st, 24, r->exe, sizeof(r->exe));
		bh_sql_text(st, 25, r->cgroup, sizeof(r->cgroup));
		ret = fn(r, arg);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = bh_sql_errno(rc);
	free(r);
	sqlite3_finalize(st);
	return ret;
}

