// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The baselines' tables and their migrations (baseline_schema.h). */
#include "baseline_schema.h"
#include "store.h"

static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS baselines("
	" ns TEXT NOT NULL, name TEXT NOT NULL, dir TEXT NOT NULL,"
	" peer_kind TEXT NOT NULL, peer_ns TEXT NOT NULL, peer TEXT NOT NULL,"
	" peer_name TEXT, proto INTEGER NOT NULL, port INTEGER NOT NULL,"
	" flows INTEGER, first_ms INTEGER, last_ms INTEGER,"
	" PRIMARY KEY(ns, name, dir, peer_kind, peer_ns, peer, proto, port));";

/* the programs of a baseline (baseline_procs.c) */
static const char schema_v2[] =
	"CREATE TABLE IF NOT EXISTS baseline_procs("
	" ns TEXT NOT NULL, name TEXT NOT NULL, exe TEXT NOT NULL, comm TEXT,"
	" flows INTEGER, first_ms INTEGER, last_ms INTEGER, PRIMARY KEY(ns, name, exe));";

static const char *const migrations[] = { schema_v1, schema_v2 };

int bh_baseline_schema(sqlite3 *db)
{
	return bh_store_schema(db, "baselines", migrations, 2);
}
