/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow records and security events out of the agent: to syslog (RFC 5424
 * structured data, SD-IDs flow@32473 and event@32473; lib/syslog escapes
 * every value) and to a JSON-lines file. Both sinks are optional and
 * neither blocks: syslog queues (bounded, drops counted), the file is a
 * local append.
 */
#ifndef BULKHEAD_EXPORT_H
#define BULKHEAD_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "flowrec.h"
#include "jsonl.h"
#include "syslog.h"

struct bh_export {
	struct bh_syslog *syslog;	/* NULL: none */
	struct bh_jsonl *jsonl;		/* NULL: none */
	bool syslog_flows;		/* false: only events go to syslog */
	uint64_t errors;		/* jsonl write failures */
};

/* One flow record (event new/deny/end). */
int bh_export_flow(struct bh_export *x, const struct bh_flow_view *v);
/* A security or agent event: kind "deviation", "quarantine",
 * "records-lost"...; severity "info" | "notice" | "warning" | "alert". */
int bh_export_event(struct bh_export *x, const char *ns, const char *name, const char *kind,
		    const char *severity, const char *detail);
enum bh_syslog_sev bh_export_severity(const char *severity);

#endif /* BULKHEAD_EXPORT_H */
