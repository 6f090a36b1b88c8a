/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow records and security events out of the agent: to syslog and to a
 * JSON-lines file. Both sinks are optional and neither blocks: syslog
 * queues (bounded, drops counted), the file is a local append.
 *
 * Syslog messages (docs/syslog.md lists every field):
 *   rfc5424  structured data flow@EID / event@EID (EID: syslog.enterprise_id)
 *   rfc3164  the same parameters after the tag
 *   cef      ArcSight CEF:0 as the MSG of an RFC 5424 record (lib/agent/cef.c)
 *   json     the JSON-lines object as the MSG of an RFC 5424 record
 * Field names are the flow fields of lib/agent/flowjson.h everywhere.
 */
#ifndef BULKHEAD_EXPORT_H
#define BULKHEAD_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "flowrec.h"
#include "jsonl.h"
#include "syslog.h"

enum bh_export_format {
	BH_EXPORT_RFC5424 = 0,
	BH_EXPORT_RFC3164,
	BH_EXPORT_CEF,
	BH_EXPORT_JSON,
};

/* RFC 5612's documentation number: a deployment sets its own
 * (syslog.enterprise_id). */
#define BH_DEFAULT_ENTERPRISE_ID	32473

struct bh_export {
	struct bh_syslog *syslog;	/* NULL: none */
	struct bh_jsonl *jsonl;		/* NULL: none */
	bool syslog_flows;		/* false: only events go to syslog */
	enum bh_export_format format;	/* of syslog messages */
	uint32_t enterprise_id;		/* 0: BH_DEFAULT_ENTERPRISE_ID */
	const char *node;		/* node name in every message; NULL: none */
	const char *version;		/* CEF Device Version; NULL: "0" */
	uint64_t errors;		/* jsonl write failures */
	uint64_t syslog_errors;		/* messages that could not be queued */
};

/* One flow record (event new/deny/end). */
int bh_export_flow(struct bh_export *x, const struct bh_flow_view *v);
/* A security or agent event: kind "deviation", "quarantine",
 * "records-lost"...; severity "info" | "notice" | "warning" | "alert". */
int bh_export_event(struct bh_export *x, const char *ns, const char *name, const char *kind,
		    const char *severity, const char *detail);
enum bh_syslog_sev bh_export_severity(const char *severity);
/* "rfc5424" | "rfc3164" | "cef" | "json" */
int bh_export_format_parse(const char *s, enum bh_export_format *out);
const char *bh_export_format_name(enum bh_export_format f);

/* The message bodies, exposed for tests (tests/unit/test_export.c): the
 * CEF line and the JSON object of a flow or an event, NUL-terminated.
 * Return the length or -EMSGSIZE / -ENOMEM. */
int bh_export_flow_cef(const struct bh_export *x, const struct bh_flow_view *v, char *buf,
		       size_t len);
int bh_export_event_cef(const struct bh_export *x, const char *ns, const char *name,
			const char *kind, const char *severity, const char *detail, int64_t ts_ms,
			char *buf, size_t len);
struct json_object;
struct json_object *bh_export_flow_json(const struct bh_export *x, const struct bh_flow_view *v,
					bool without_labels);
struct json_object *bh_export_event_json(const struct bh_export *x, const char *ns,
					 const char *name, const char *kind,
					 const char *severity, const char *detail, int64_t ts_ms);

#endif /* BULKHEAD_EXPORT_H */
