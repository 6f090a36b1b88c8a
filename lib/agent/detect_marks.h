/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Marks on the flows that counted towards a detection decision, kept in
 * the state store so `bulkhead flows` shows them:
 *
 *   flow_marks(id INTEGER PRIMARY KEY, ns, name, proto, src, sport, dst,
 *              dport, mark, decided_ms)
 *
 * A mark names the flow by workload and 5-tuple (initiator -> responder,
 * as the flows table does), not by row id: the counted flow may not be
 * stored yet when the decision is taken (the flow batch commits every
 * store.flush_ms). The mark is "rule:why" ("port-scan:denied",
 * "host-scan:outside-baseline", "deny-cidr:deny-listed").
 *
 * Size: one row per counted flow of a decision (at most the rule's
 * threshold); decisions are latched per attack (lib/agent/detect.h). Retention
 * drops marks older than retention.max_age with the flows.
 */
#ifndef BULKHEAD_DETECT_MARKS_H
#define BULKHEAD_DETECT_MARKS_H

#include <sqlite3.h>
#include <stdint.h>

#include "detect.h"

int bh_detect_marks_schema(sqlite3 *db);
/* One transaction: a mark for each flow of the decision. */
int bh_detect_marks_add(sqlite3 *db, const char *ns, const char *name,
			const struct bh_detect_result *r, int64_t decided_ms);
/* Delete marks decided before before_ms; *deleted counts them. */
int bh_detect_marks_retention(sqlite3 *db, int64_t before_ms, uint64_t *deleted);
/* Does the table exist? (readers of an older store) */
bool bh_detect_marks_present(sqlite3 *db);

#endif /* BULKHEAD_DETECT_MARKS_H */
