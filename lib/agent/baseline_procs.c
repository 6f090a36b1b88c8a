// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The programs of a baseline (baseline_procs.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline_procs.h"
#include "baseline_schema.h"
#include "store.h"

static int learn(sqlite3 *db, const char *ns, const char *name, const char *exe,
		 const char *comm, int64_t now_ms, bool retried)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db,
		"INSERT INTO baseline_procs(ns, name, exe, comm, flows, first_ms, last_ms)"
		" VALUES(?1,?2,?3,?4,1,?5,?5) ON CONFLICT DO UPDATE SET flows = flows + 1,"
		" comm = excluded.comm, last_ms = MAX(last_ms, excluded.last_ms)", -1, &st, NULL);
	if (rc == SQLITE_ERROR && !retried) {
		/* table missing (a store the agent has not migrated) */
		if (bh_baseline_schema(db))
			return -EIO;
		return learn(db, ns, name, exe, comm, now_ms, true);
	}
	if (rc != SQLITE_OK)
		return bh_sql_errno(rc);
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, exe, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, comm, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_ms);
	return bh_sql_run(st);
}

int bh_baseline_learn_proc(sqlite3 *db, const char *ns, const char *name, const char *exe,
			   const char *comm, int64_t now_ms)
{
	return learn(db, ns, name, exe, comm, now_ms, false);
}

int bh_baseline_load_procs(sqlite3 *db, const char *ns, const char *name,
			   struct bh_baseline_proc **procs, int *nr)
{
	sqlite3_stmt *st;
	int rc, cap = 0, ret = 0;

	if (sqlite3_prepare_v2(db, "SELECT exe, comm, flows, first_ms, last_ms FROM"
			       " baseline_procs WHERE ns=?1 AND name=?2 ORDER BY exe", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;	/* no table yet: no programs */
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bh_baseline_proc *p;

		if (*nr == cap) {
			int ncap = cap ? cap * 2 : 8;
			void *np = realloc(*procs, sizeof(**procs) * (size_t)ncap);

			if (!np) {
				ret = -ENOMEM;
				break;
			}
			*procs = np;
			cap = ncap;
		}
		p = &(*procs)[(*nr)++];
		memset(p, 0, sizeof(*p));
		bh_sql_text(st, 0, p->exe, sizeof(p->exe));
		bh_sql_text(st, 1, p->comm, sizeof(p->comm));
		p->flows = sqlite3_column_int64(st, 2);
		p->first_ms = sqlite3_column_int64(st, 3);
		p->last_ms = sqlite3_column_int64(st, 4);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = bh_sql_errno(rc);
	sqlite3_finalize(st);
	return ret;
}

int bh_baseline_clear_procs(sqlite3 *db, const char *ns, const char *name)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "DELETE FROM baseline_procs WHERE ns=?1 AND name=?2", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;	/* no table: nothing to clear */
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return bh_sql_run(st);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

bool bh_baseline_procs_cover(const struct bh_baseline_proc *procs, int nr, const char *exe)
{
	for (int i = 0; i < nr; i++) {
		const char *known = procs[i].exe;

		if (!strcmp(known, exe))
			return true;
		if ((!strchr(known, '/') || !strchr(exe, '/')) &&
		    !strcmp(base_name(known), base_name(exe)))
			return true;
	}
	return false;
}
