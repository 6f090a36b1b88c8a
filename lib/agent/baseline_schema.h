/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The baselines' tables (baseline.h, baseline_procs.h say what they
 * hold), created or migrated to the current version: by the agent at
 * start, and by a first learn on a store the agent has not migrated.
 */
#ifndef BULKHEAD_BASELINE_SCHEMA_H
#define BULKHEAD_BASELINE_SCHEMA_H

#include <sqlite3.h>

int bh_baseline_schema(sqlite3 *db);

#endif /* BULKHEAD_BASELINE_SCHEMA_H */
