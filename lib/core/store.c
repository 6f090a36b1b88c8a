// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The SQLite state store (see store.h). One prepared statement per call:
 * the store is small and calls are rare next to packet rates. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

/*
 * The schema is versioned (PRAGMA user_version): migrations[i] takes a
 * store from version i to i + 1, and bh_store_open applies the missing
 * ones in one transaction. A change of a table is a new step at the end,
 * never an edit of an old one. A store of a newer version than this build
 * knows is refused rather than misread.
 */
static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS namespaces("
	" name TEXT PRIMARY KEY);"
	"CREATE TABLE IF NOT EXISTS namespace_labels("
	" ns TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,"
	" key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(ns, key));"
	"CREATE TABLE IF NOT EXISTS workloads("
	" id INTEGER PRIMARY KEY, ns TEXT NOT NULL, name TEXT NOT NULL,"
	" ifname TEXT NOT NULL UNIQUE, ifindex INTEGER NOT NULL,"
	" slot INTEGER NOT NULL UNIQUE, hook INTEGER NOT NULL, mode INTEGER NOT NULL,"
	" quarantined INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL, UNIQUE(ns, name));"
	"CREATE TABLE IF NOT EXISTS workload_ips("
	" wid INTEGER NOT NULL REFERENCES workloads(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL, family INTEGER NOT NULL, addr BLOB NOT NULL UNIQUE,"
	" PRIMARY KEY(wid, idx));"
	"CREATE TABLE IF NOT EXISTS workload_labels("
	" wid INTEGER NOT NULL REFERENCES workloads(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(wid, key));"
	"CREATE TABLE IF NOT EXISTS policies("
	" ns TEXT NOT NULL, name TEXT NOT NULL, kind INTEGER NOT NULL,"
	" source TEXT NOT NULL, file TEXT NOT NULL, applied INTEGER NOT NULL,"
	" PRIMARY KEY(ns, name));"
	"CREATE TABLE IF NOT EXISTS cidr_identity("
	" cidr TEXT PRIMARY KEY, identity INTEGER NOT NULL UNIQUE);"
	"CREATE TABLE IF NOT EXISTS rules("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, ns TEXT NOT NULL, name TEXT NOT NULL,"
	" dir INTEGER NOT NULL, idx INTEGER NOT NULL, UNIQUE(ns, name, dir, idx));"
	"CREATE TABLE IF NOT EXISTS events("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL,"
	" ns TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,"
	" severity TEXT NOT NULL, detail TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS events_workload ON events(ns, name, id);";

/* Peers (peers.h): the cluster's other pods, kept by the Kubernetes
 * watch; k8s_policies: the policies the watch applied (and may delete). */
static const char schema_v2[] =
	"CREATE TABLE IF NOT EXISTS peers(ns TEXT NOT NULL, name TEXT NOT NULL,"
	" ips TEXT NOT NULL, labels TEXT NOT NULL, PRIMARY KEY(ns, name));"
	"CREATE TABLE IF NOT EXISTS k8s_policies(ns TEXT NOT NULL, name TEXT NOT NULL,"
	" kind TEXT NOT NULL, PRIMARY KEY(ns, name));";

/* Named ports of workloads and peers (rules' `port: NAME` resolve
 * through them); a workload attached before its identity arrived
 * (unknown_pod: deny) is pending. */
static const char schema_v3[] =
	"CREATE TABLE IF NOT EXISTS workload_ports("
	" wid INTEGER NOT NULL REFERENCES workloads(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, proto INTEGER NOT NULL, port INTEGER NOT NULL,"
	" PRIMARY KEY(wid, name, proto));"
	"ADD COLUMN workloads pending INTEGER NOT NULL DEFAULT 0;"
	"ADD COLUMN peers ports TEXT NOT NULL DEFAULT '';";

static const char *const migrations[] = {
	schema_v1,	/* 0 -> 1: stores made before the version existed hold
			 * these tables already (every statement is IF NOT EXISTS) */
	schema_v2,	/* 1 -> 2: peers, k8s_policies */
	schema_v3,	/* 2 -> 3: named ports, pending workloads */
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The one mapping of SQLite result codes to negative errno values. */
int bh_sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return 0;
	case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_CONSTRAINT: return -EEXIST;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: return -EACCES;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_CANTOPEN: return -ENOENT;
	default: return -EIO;
	}
}

static int exec(sqlite3 *db, const char *sql)
{
	return bh_sql_errno(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/* "ADD COLUMN TABLE COLUMN TYPE...": ALTER TABLE, unless the column is
 * there already. Like the IF NOT EXISTS of the other steps, it lets a
 * migration run on a store that has some of its changes (a store made
 * before the version existed). */
static int add_column(sqlite3 *db, const char *stmt)
{
	char table[64], column[64], sql[256];
	sqlite3_stmt *st;
	int n = 0, rc;

	if (sscanf(stmt, "ADD COLUMN %63s %63s %n", table, column, &n) != 2 || !n)
		return -EINVAL;
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM pragma_table_info('%s') WHERE name = '%s'",
		 table, column);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	rc = sqlite3_step(st);
	n = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (n < 0)
		return bh_sql_errno(rc);
	if (n > 0)
		return 0;
	snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", table, column,
		 stmt + strlen("ADD COLUMN ") + strlen(table) + 1 + strlen(column) + 1);
	return exec(db, sql);
}

/* One migration step: its statements in order, ";"-separated (none holds
 * a ";" of its own). */
static int exec_step(sqlite3 *db, const char *step)
{
	char stmt[1024];
	int err = 0;

	while (!err && *step) {
		size_t n = strcspn(step, ";");

		if (n >= sizeof(stmt))
			return -E2BIG;
		memcpy(stmt, step, n);
		stmt[n] = '\0';
		step += n + (step[n] == ';');
		if (!stmt[strspn(stmt, " ")])
			continue;
		err = strncmp(stmt, "ADD COLUMN ", 11) ? exec(db, stmt) : add_column(db, stmt);
	}
	return err;
}

static int schema_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : bh_sql_errno(rc);
}

/* Bring the schema to SCHEMA_VERSION under the write lock, so that two
 * processes opening a store at once migrate it once. */
static int migrate(sqlite3 *db)
{
	char sql[64];
	int v, err;

	err = schema_version(db, &v);
	if (err || v == SCHEMA_VERSION)
		return err;
	err = exec(db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	err = schema_version(db, &v);
	if (!err && v > SCHEMA_VERSION)
		err = -EPROTO;	/* written by a newer bulkhead */
	for (; !err && v < SCHEMA_VERSION; v++) {
		err = exec_step(db, migrations[v]);
		if (!err) {
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
			err = exec(db, sql);
		}
	}
	if (err) {
		exec(db, "ROLLBACK");
		return err;
	}
	return exec(db, "COMMIT");
}

/* Prepare sql and bind text/int arguments described by fmt:
 * 's' text, 'i' int64, 'b' 16-byte blob. */
static int prep(sqlite3 *db, sqlite3_stmt **st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc, i = 1;

	rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	va_start(ap, fmt);
	for (const char *f = fmt; *f && rc == SQLITE_OK; f++, i++) {
		switch (*f) {
		case 's':
			rc = sqlite3_bind_text(*st, i, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
			break;
		case 'i':
			rc = sqlite3_bind_int64(*st, i, va_arg(ap, sqlite3_int64));
			break;
		case 'b':
			rc = sqlite3_bind_blob(*st, i, va_arg(ap, const void *), 16, SQLITE_TRANSIENT);
			break;
		}
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return bh_sql_errno(rc);
	}
	return 0;
}

int bh_sql_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : bh_sql_errno(rc);
}

int bh_sql_rows_end(sqlite3_stmt *st, int rc, int err)
{
	sqlite3_finalize(st);
	if (err)
		return err;
	return rc == SQLITE_DONE ? 0 : bh_sql_errno(rc);
}

void bh_sql_text(sqlite3_stmt *st, int col, char *dst, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static __s64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__s64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bh_store_open(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc, err;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = bh_sql_errno(rc);
		sqlite3_close(db);
		return err;
	}
	/* CLI, CNI and agent share the file: readers never block the writer
	 * (WAL) and a writer waits for another instead of failing. */
	sqlite3_busy_timeout(db, 10000);
	/* Keep the WAL file when the last connection closes (it is still
	 * checkpointed into the database, and synced, then): deleting it
	 * made the next process create it again and sync its header and the
	 * directory, disk waits in every short command such as a CNI ADD. */
	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){ 1 });
	/* Switching a new file to WAL and creating the schema can report
	 * BUSY without consulting the busy handler when several processes
	 * create the store at once: retry, bounded (about 5 s). */
	for (int i = 0; i < 250; i++) {
		err = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			       "PRAGMA foreign_keys=ON;");
		if (!err)
			err = migrate(db);
		if (err != -EBUSY)
			break;
		usleep(20000);
	}
	if (err) {
		sqlite3_close(db);
		return err;
	}
	*out = db;
	return 0;
}

void bh_store_close(sqlite3 *db)
{
	sqlite3_close(db);
}

int bh_store_begin(sqlite3 *db, struct bh_tx *tx)
{
	int err;

	tx->db = db;
	tx->outer = sqlite3_get_autocommit(db);
	/* IMMEDIATE takes the write lock up front: a deferred transaction
	 * that later upgrades can fail with BUSY despite busy_timeout. */
	err = exec(db, tx->outer ? "BEGIN IMMEDIATE" : "SAVEPOINT bh_tx");
	tx->open = !err;
	return err;
}

int bh_store_end(struct bh_tx *tx, bool commit)
{
	int err = 0;

	if (!tx->open)
		return 0;
	tx->open = false;
	if (commit) {
		err = exec(tx->db, tx->outer ? "COMMIT" : "RELEASE bh_tx");
		if (!err)
			return 0;
	}
	if (tx->outer)
		exec(tx->db, "ROLLBACK");
	else
		exec(tx->db, "ROLLBACK TO bh_tx; RELEASE bh_tx");
	return err;
}

/* ------------------------------------------------------------ namespaces */
int bh_store_ns_ensure(sqlite3 *db, const char *ns)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "INSERT OR IGNORE INTO namespaces(name) VALUES(?)", "s", ns);

	return err ? err : bh_sql_run(st);
}

int bh_store_ns_set_label(sqlite3 *db, const char *ns, const struct bh_label *l)
{
	sqlite3_stmt *st;
	int err = bh_store_ns_ensure(db, ns);

	if (!err)
		err = prep(db, &st, "INSERT OR REPLACE INTO namespace_labels(ns, key, value)"
			   " VALUES(?, ?, ?)", "sss", ns, l->key, l->value);
	return err ? err : bh_sql_run(st);
}

#define NS_NAME_LABEL "kubernetes.io/metadata.name"

int bh_store_ns_labels(sqlite3 *db, const char *ns, int *nr, struct bh_label *labels)
{
	sqlite3_stmt *st;
	int cap = *nr, n = 0, rc, err;

	if (cap < 1)
		return -E2BIG;
	memset(&labels[0], 0, sizeof(labels[0]));
	snprintf(labels[0].key, sizeof(labels[0].key), "%s", NS_NAME_LABEL);
	snprintf(labels[0].value, sizeof(labels[0].value), "%s", ns);
	n = 1;
	err = prep(db, &st, "SELECT key, value FROM namespace_labels WHERE ns = ? AND key != ?"
		   " ORDER BY key", "ss", ns, NS_NAME_LABEL);
	if (err)
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n >= cap) {
			sqlite3_finalize(st);
			return -E2BIG;
		}
		bh_sql_text(st, 0, labels[n].key, sizeof(labels[n].key));
		bh_sql_text(st, 1, labels[n].value, sizeof(labels[n].value));
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return bh_sql_errno(rc);
	*nr = n;
	return 0;
}

int bh_store_ns_foreach(sqlite3 *db, int (*fn)(const char *ns, void *arg), void *arg)
{
	sqlite3_stmt *st;
	char ns[BH_NAME_MAX + 1];
	int rc, err;

	err = prep(db, &st, "SELECT name FROM namespaces UNION SELECT ns FROM workloads"
		   " UNION SELECT ns FROM policies WHERE ns != '' ORDER BY 1", "");
	if (err)
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		bh_sql_text(st, 0, ns, sizeof(ns));
		err = fn(ns, arg);
		if (err)
			break;
	}
	return bh_sql_rows_end(st, rc, err);
}

/* ------------------------------------------------------------- workloads */
#define WL_COLS "id, ns, name, ifname, ifindex, slot, hook, mode, quarantined, reason, pending"

static int fill_details(sqlite3 *db, sqlite3_int64 wid, struct bh_workload_info *w)
{
	sqlite3_stmt *st;
	int rc, err;

	err = prep(db, &st, "SELECT family, addr FROM workload_ips WHERE wid = ? ORDER BY idx",
		   "i", wid);
	if (err)
		return err;
	w->nr_ips = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && w->nr_ips < BH_MAX_WORKLOAD_IPS) {
		struct bh_ip *ip = &w->ips[w->nr_ips++];

		memset(ip, 0, sizeof(*ip));
		ip->family = sqlite3_column_int(st, 0);
		if (sqlite3_column_bytes(st, 1) == 16)
			memcpy(ip->addr, sqlite3_column_blob(st, 1), 16);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return bh_sql_errno(rc);

	err = prep(db, &st, "SELECT key, value FROM workload_labels WHERE wid = ? ORDER BY key",
		   "i", wid);
	if (err)
		return err;
	w->nr_labels = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && w->nr_labels < BH_MAX_LABELS) {
		struct bh_label *l = &w->labels[w->nr_labels++];

		bh_sql_text(st, 0, l->key, sizeof(l->key));
		bh_sql_text(st, 1, l->value, sizeof(l->value));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return bh_sql_errno(rc);

	err = prep(db, &st, "SELECT name, proto, port FROM workload_ports WHERE wid = ?"
		   " ORDER BY name, proto", "i", wid);
	if (err)
		return err;
	w->nr_ports = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && w->nr_ports < BH_MAX_NAMED_PORTS) {
		struct bh_named_port *p = &w->ports[w->nr_ports++];

		bh_sql_text(st, 0, p->name, sizeof(p->name));
		p->proto = (unsigned char)sqlite3_column_int(st, 1);
		p->port = (unsigned short)sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : bh_sql_errno(rc);
}

static void fill_row(sqlite3_stmt *st, struct bh_workload_info *w)
{
	memset(w, 0, sizeof(*w));
	bh_sql_text(st, 1, w->ns, sizeof(w->ns));
	bh_sql_text(st, 2, w->name, sizeof(w->name));
	bh_sql_text(st, 3, w->ifname, sizeof(w->ifname));
	w->ifindex = sqlite3_column_int64(st, 4);
	w->slot = sqlite3_column_int64(st, 5);
	w->identity = BH_ID_WORKLOAD_BASE + w->slot;
	w->hook = sqlite3_column_int(st, 6);
	w->mode = sqlite3_column_int(st, 7);
	w->quarantined = sqlite3_column_int(st, 8) != 0;
	bh_sql_text(st, 9, w->quarantine_reason, sizeof(w->quarantine_reason));
	w->pending = sqlite3_column_int(st, 10) != 0;
}

/* Runs a workload query; calls fn for each row with IPs and labels. */
static int wl_query(sqlite3 *db, sqlite3_stmt *st,
		    int (*fn)(const struct bh_workload_info *w, void *arg), void *arg, int *count)
{
	struct bh_workload_info *w = malloc(sizeof(*w));
	int rc, err = 0, n = 0;

	if (!w) {
		sqlite3_finalize(st);
		return -ENOMEM;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fill_row(st, w);
		err = fill_details(db, sqlite3_column_int64(st, 0), w);
		if (!err)
			err = fn(w, arg);
		n++;
		if (err)
			break;
	}
	sqlite3_finalize(st);
	free(w);
	if (count)
		*count = n;
	if (err)
		return err;
	return rc == SQLITE_DONE ? 0 : bh_sql_errno(rc);
}

static int copy_out(const struct bh_workload_info *w, void *arg)
{
	memcpy(arg, w, sizeof(*w));
	return 0;
}

static int wl_get(sqlite3 *db, sqlite3_stmt *st, struct bh_workload_info *out)
{
	int n = 0, err = wl_query(db, st, copy_out, out, &n);

	if (err)
		return err;
	return n ? 0 : -ENOENT;
}

static int free_slot(sqlite3 *db, __u32 *slot)
{
	sqlite3_stmt *st;
	int rc, err;

	/* Lowest free: 0 if unused, else the lowest used slot + 1 that is
	 * itself unused. */
	err = prep(db, &st, "SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM workloads WHERE slot = 0)"
		   " UNION ALL SELECT MIN(slot + 1) FROM workloads"
		   " WHERE slot + 1 NOT IN (SELECT slot FROM workloads)", "");
	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*slot = sqlite3_column_int64(st, 0);
	else
		*slot = 0;
	err = rc == SQLITE_ROW ? 0 : bh_sql_errno(rc);
	sqlite3_finalize(st);
	if (!err && *slot >= BH_MAX_WORKLOADS)
		err = -ENOSPC;
	return err;
}

int bh_store_workload_add(sqlite3 *db, struct bh_workload_info *w)
{
	struct bh_tx tx;
	sqlite3_stmt *st;
	sqlite3_int64 wid;
	__u32 slot;
	int err;

	err = bh_store_begin(db, &tx);
	if (err)
		return err;
	err = free_slot(db, &slot);
	if (!err)
		err = bh_store_ns_ensure(db, w->ns);
	if (!err)
		err = prep(db, &st, "INSERT INTO workloads(ns, name, ifname, ifindex, slot, hook,"
			   " mode, quarantined, reason, created, pending)"
			   " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
			   "sssiiiiisii", w->ns, w->name, w->ifname, (sqlite3_int64)w->ifindex,
			   (sqlite3_int64)slot, (sqlite3_int64)w->hook, (sqlite3_int64)w->mode,
			   (sqlite3_int64)w->quarantined, w->quarantine_reason,
			   (sqlite3_int64)now_ms(), (sqlite3_int64)w->pending);
	if (!err)
		err = bh_sql_run(st);
	wid = sqlite3_last_insert_rowid(db);
	for (int i = 0; !err && i < w->nr_ips && i < BH_MAX_WORKLOAD_IPS; i++) {
		err = prep(db, &st, "INSERT INTO workload_ips(wid, idx, family, addr)"
			   " VALUES(?, ?, ?, ?)", "iiib", wid, (sqlite3_int64)i,
			   (sqlite3_int64)w->ips[i].family, w->ips[i].addr);
		if (!err)
			err = bh_sql_run(st);
	}
	for (int i = 0; !err && i < w->nr_labels && i < BH_MAX_LABELS; i++) {
		err = prep(db, &st, "INSERT OR REPLACE INTO workload_labels(wid, key, value)"
			   " VALUES(?, ?, ?)", "iss", wid, w->labels[i].key, w->labels[i].value);
		if (!err)
			err = bh_sql_run(st);
	}
	for (int i = 0; !err && i < w->nr_ports && i < BH_MAX_NAMED_PORTS; i++) {
		err = prep(db, &st, "INSERT INTO workload_ports(wid, name, proto, port)"
			   " VALUES(?, ?, ?, ?)", "isii", wid, w->ports[i].name,
			   (sqlite3_int64)w->ports[i].proto, (sqlite3_int64)w->ports[i].port);
		if (!err)
			err = bh_sql_run(st);
	}
	err = bh_store_end(&tx, !err) ?: err;
	if (!err) {
		w->slot = slot;
		w->identity = BH_ID_WORKLOAD_BASE + slot;
	}
	return err;
}

int bh_store_workload_del(sqlite3 *db, const char *ns, const char *name)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "DELETE FROM workloads WHERE ns = ? AND name = ?", "ss", ns, name);

	if (err)
		return err;
	err = bh_sql_run(st);
	if (!err && sqlite3_changes(db) == 0)
		err = -ENOENT;
	return err;
}

int bh_store_workload_get(sqlite3 *db, const char *ns, const char *name,
			  struct bh_workload_info *out)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "SELECT " WL_COLS " FROM workloads WHERE ns = ? AND name = ?",
		       "ss", ns, name);

	return err ? err : wl_get(db, st, out);
}

int bh_store_workload_by_ifname(sqlite3 *db, const char *ifname, struct bh_workload_info *out)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "SELECT " WL_COLS " FROM workloads WHERE ifname = ?", "s", ifname);

	return err ? err : wl_get(db, st, out);
}

int bh_store_workload_by_slot(sqlite3 *db, __u32 slot, struct bh_workload_info *out)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "SELECT " WL_COLS " FROM workloads WHERE slot = ?", "i",
		       (sqlite3_int64)slot);

	return err ? err : wl_get(db, st, out);
}

int bh_store_workload_foreach(sqlite3 *db,
			      int (*fn)(const struct bh_workload_info *w, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "SELECT " WL_COLS " FROM workloads ORDER BY ns, name", "");

	return err ? err : wl_query(db, st, fn, arg, NULL);
}

static int count_rows(sqlite3 *db, const char *sql, int *count)
{
	sqlite3_stmt *st;
	int rc, err = prep(db, &st, sql, "");

	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : bh_sql_errno(rc);
}

int bh_store_workload_count(sqlite3 *db, int *count)
{
	return count_rows(db, "SELECT COUNT(*) FROM workloads", count);
}

static int update_one(sqlite3 *db, sqlite3_stmt *st)
{
	int err = bh_sql_run(st);

	if (!err && sqlite3_changes(db) == 0)
		err = -ENOENT;
	return err;
}

int bh_store_workload_set_mode(sqlite3 *db, const char *ns, const char *name, enum bh_mode m)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "UPDATE workloads SET mode = ? WHERE ns = ? AND name = ?",
		       "iss", (sqlite3_int64)m, ns, name);

	return err ? err : update_one(db, st);
}

int bh_store_workload_set_quarantine(sqlite3 *db, const char *ns, const char *name,
				     bool on, const char *reason)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "UPDATE workloads SET quarantined = ?, reason = ?"
		       " WHERE ns = ? AND name = ?", "isss", (sqlite3_int64)on,
		       on && reason ? reason : "", ns, name);

	return err ? err : update_one(db, st);
}

int bh_store_workload_set_label(sqlite3 *db, const char *ns, const char *name,
				const struct bh_label *l)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "INSERT OR REPLACE INTO workload_labels(wid, key, value)"
		       " SELECT id, ?, ? FROM workloads WHERE ns = ? AND name = ?", "ssss",
		       l->key, l->value, ns, name);

	return err ? err : update_one(db, st);
}

int bh_store_workload_set_ports(sqlite3 *db, const char *ns, const char *name, int nr,
				const struct bh_named_port *ports)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "DELETE FROM workload_ports WHERE wid ="
		       " (SELECT id FROM workloads WHERE ns = ? AND name = ?)", "ss", ns, name);

	if (!err)
		err = bh_sql_run(st);
	for (int i = 0; !err && i < nr; i++) {
		err = prep(db, &st, "INSERT INTO workload_ports(wid, name, proto, port)"
			   " SELECT id, ?, ?, ? FROM workloads WHERE ns = ? AND name = ?", "siiss",
			   ports[i].name, (sqlite3_int64)ports[i].proto,
			   (sqlite3_int64)ports[i].port, ns, name);
		if (!err)
			err = update_one(db, st);
	}
	return err;
}

int bh_store_workload_set_pending(sqlite3 *db, const char *ns, const char *name, bool on)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "UPDATE workloads SET pending = ? WHERE ns = ? AND name = ?",
		       "iss", (sqlite3_int64)on, ns, name);

	return err ? err : update_one(db, st);
}

int bh_store_workload_del_label(sqlite3 *db, const char *ns, const char *name, const char *key)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "DELETE FROM workload_labels WHERE key = ? AND wid ="
		       " (SELECT id FROM workloads WHERE ns = ? AND name = ?)", "sss", key, ns, name);

	return err ? err : bh_sql_run(st);
}

int bh_store_workload_label_count(sqlite3 *db, const char *ns, const char *name, int *count)
{
	sqlite3_stmt *st;
	int rc, err = prep(db, &st, "SELECT COUNT(*) FROM workload_labels WHERE wid ="
			   " (SELECT id FROM workloads WHERE ns = ? AND name = ?)", "ss", ns, name);

	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : bh_sql_errno(rc);
}

int bh_store_ns_del_label(sqlite3 *db, const char *ns, const char *key)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "DELETE FROM namespace_labels WHERE ns = ? AND key = ?", "ss",
		       ns, key);

	return err ? err : bh_sql_run(st);
}

int bh_store_ip_owner(sqlite3 *db, const struct bh_ip *ip, char *ns, size_t nslen,
		      char *name, size_t namelen)
{
	sqlite3_stmt *st;
	int rc, err;

	err = prep(db, &st, "SELECT w.ns, w.name FROM workload_ips i JOIN workloads w"
		   " ON w.id = i.wid WHERE i.addr = ?", "b", ip->addr);
	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		bh_sql_text(st, 0, ns, nslen);
		bh_sql_text(st, 1, name, namelen);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return rc == SQLITE_ROW ? 0 : bh_sql_errno(rc);
}

/* -------------------------------------------------------------- policies */
int bh_store_policy_put(sqlite3 *db, const char *ns, const char *name, int kind,
			const char *source, const char *file)
{
	sqlite3_stmt *st;
	int err = 0;

	if (ns[0])
		err = bh_store_ns_ensure(db, ns);
	if (!err)
		err = prep(db, &st, "INSERT OR REPLACE INTO policies(ns, name, kind, source, file,"
			   " applied) VALUES(?, ?, ?, ?, ?, ?)", "ssissi", ns, name,
			   (sqlite3_int64)kind, source ? source : "", file ? file : "",
			   (sqlite3_int64)now_ms());
	return err ? err : bh_sql_run(st);
}

int bh_store_policy_del(sqlite3 *db, const char *ns, const char *name)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "DELETE FROM policies WHERE ns = ? AND name = ?", "ss", ns, name);

	return err ? err : update_one(db, st);
}

int bh_store_policy_source(sqlite3 *db, const char *ns, const char *name, char **source)
{
	sqlite3_stmt *st;
	int rc, err;

	*source = NULL;
	err = prep(db, &st, "SELECT source FROM policies WHERE ns = ? AND name = ?", "ss", ns, name);
	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		*source = strdup(t ? t : "");
		if (!*source)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return rc == SQLITE_ROW ? 0 : bh_sql_errno(rc);
}

int bh_store_policy_foreach(sqlite3 *db,
			    int (*fn)(const struct bh_store_policy *p, void *arg), void *arg)
{
	struct bh_store_policy p;
	sqlite3_stmt *st;
	int rc, err;

	err = prep(db, &st, "SELECT ns, name, kind, source, file, applied FROM policies"
		   " ORDER BY ns, name", "");
	if (err)
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		bh_sql_text(st, 0, p.ns, sizeof(p.ns));
		bh_sql_text(st, 1, p.name, sizeof(p.name));
		p.kind = sqlite3_column_int(st, 2);
		p.source = (const char *)sqlite3_column_text(st, 3);
		if (!p.source)
			p.source = "";
		bh_sql_text(st, 4, p.file, sizeof(p.file));
		p.applied_ms = sqlite3_column_int64(st, 5);
		err = fn(&p, arg);
		if (err)
			break;
	}
	return bh_sql_rows_end(st, rc, err);
}

int bh_store_policy_count(sqlite3 *db, int *count)
{
	return count_rows(db, "SELECT COUNT(*) FROM policies", count);
}

/* -------------------------------------------------------------- stable ids */
static int lookup_id(sqlite3_stmt *st, __u32 *id)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return rc == SQLITE_ROW ? 0 : bh_sql_errno(rc);
}

int bh_store_cidr_identity(sqlite3 *db, const char *cidr, __u32 *id)
{
	sqlite3_stmt *st;
	int err;

	err = prep(db, &st, "SELECT identity FROM cidr_identity WHERE cidr = ?", "s", cidr);
	if (!err)
		err = lookup_id(st, id);
	if (err != -ENOENT)
		return err;
	/* Never reused (max + 1): an identity in an old flow record keeps
	 * meaning the same block. */
	err = prep(db, &st, "INSERT INTO cidr_identity(cidr, identity) SELECT ?,"
		   " COALESCE(MAX(identity) + 1, ?) FROM cidr_identity", "si", cidr,
		   (sqlite3_int64)BH_ID_CIDR_BASE);
	if (!err)
		err = bh_sql_run(st);
	if (!err)
		err = prep(db, &st, "SELECT identity FROM cidr_identity WHERE cidr = ?", "s", cidr);
	if (!err)
		err = lookup_id(st, id);
	if (!err && *id >= BH_ID_ANY)
		err = -ENOSPC;
	return err;
}

int bh_store_rule_id(sqlite3 *db, const char *ns, const char *name, enum bh_dir dir,
		     int index, __u32 *id)
{
	sqlite3_stmt *st;
	int err;

	err = prep(db, &st, "INSERT OR IGNORE INTO rules(ns, name, dir, idx) VALUES(?, ?, ?, ?)",
		   "ssii", ns, name, (sqlite3_int64)dir, (sqlite3_int64)index);
	if (!err)
		err = bh_sql_run(st);
	if (!err)
		err = prep(db, &st, "SELECT id FROM rules WHERE ns = ? AND name = ? AND dir = ?"
			   " AND idx = ?", "ssii", ns, name, (sqlite3_int64)dir,
			   (sqlite3_int64)index);
	return err ? err : lookup_id(st, id);
}

int bh_store_rule_describe(sqlite3 *db, __u32 id, char *buf, size_t len)
{
	char ns[BH_NAME_MAX + 1], name[BH_NAME_MAX + 1];
	sqlite3_stmt *st;
	int rc, dir, idx, err;

	err = prep(db, &st, "SELECT ns, name, dir, idx FROM rules WHERE id = ?", "i",
		   (sqlite3_int64)id);
	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		bh_sql_text(st, 0, ns, sizeof(ns));
		bh_sql_text(st, 1, name, sizeof(name));
		dir = sqlite3_column_int(st, 2);
		idx = sqlite3_column_int(st, 3);
		snprintf(buf, len, "%s%s%s %s[%d]", ns, ns[0] ? "/" : "", name,
			 bh_dir_name(dir), idx);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return rc == SQLITE_ROW ? 0 : bh_sql_errno(rc);
}

/* ---------------------------------------------------------------- events */
int bh_store_event_add(sqlite3 *db, const char *ns, const char *name, const char *kind,
		       const char *severity, const char *detail)
{
	sqlite3_stmt *st;
	int err = prep(db, &st, "INSERT INTO events(ts_ms, ns, name, kind, severity, detail)"
		       " VALUES(?, ?, ?, ?, ?, ?)", "isssss", (sqlite3_int64)now_ms(),
		       ns ? ns : "", name ? name : "", kind, severity, detail ? detail : "");

	return err ? err : bh_sql_run(st);
}

int bh_store_event_foreach(sqlite3 *db, const char *ns, const char *name, __s64 after_id,
			   int (*fn)(const struct bh_event_rec *e, void *arg), void *arg)
{
	struct bh_event_rec *e;
	sqlite3_stmt *st;
	int rc, err;

	if (ns && name)
		err = prep(db, &st, "SELECT id, ts_ms, ns, name, kind, severity, detail FROM events"
			   " WHERE ns = ? AND name = ? AND id > ? ORDER BY id", "ssi", ns, name,
			   (sqlite3_int64)after_id);
	else
		err = prep(db, &st, "SELECT id, ts_ms, ns, name, kind, severity, detail FROM events"
			   " WHERE id > ? ORDER BY id", "i", (sqlite3_int64)after_id);
	if (err)
		return err;
	e = malloc(sizeof(*e));
	if (!e) {
		sqlite3_finalize(st);
		return -ENOMEM;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e->id = sqlite3_column_int64(st, 0);
		e->ts_ms = sqlite3_column_int64(st, 1);
		bh_sql_text(st, 2, e->ns, sizeof(e->ns));
		bh_sql_text(st, 3, e->name, sizeof(e->name));
		bh_sql_text(st, 4, e->kind, sizeof(e->kind));
		bh_sql_text(st, 5, e->severity, sizeof(e->severity));
		bh_sql_text(st, 6, e->detail, sizeof(e->detail));
		err = fn(e, arg);
		if (err)
			break;
	}
	sqlite3_finalize(st);
	free(e);
	if (err)
		return err;
	return rc == SQLITE_DONE ? 0 : bh_sql_errno(rc);
}
