/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The fields of a flow as every JSON output names them: `bulkhead flows
 * -o json`, the JSON-lines file, syslog.format json, CEF's extension keys
 * and the agent's flow stream (`flows --follow`). One builder, so the
 * names never drift apart (docs/agent.md, "Flow fields").
 *
 * pid, comm, exe and cgroup name the process that owned the socket
 * (lib/agent/procjoin.h), null when it is not known.
 *
 * ICMP flows carry no ports: sport/dport are null and icmp_type,
 * icmp_code and icmp (the type and code by name, "echo-request",
 * "destination-unreachable/port-unreachable") say what they are.
 */
#ifndef BULKHEAD_FLOWJSON_H
#define BULKHEAD_FLOWJSON_H

#include <json-c/json.h>
#include <stdint.h>

#include "flowrec.h"

struct bh_flow_fields {
	int64_t ts_ms;			/* what the line is about: last packet */
	const char *node;		/* NULL: no node field */
	const char *ns, *name;
	int nr_labels;
	const struct bh_label *labels;
	const char *dir;
	int family, proto;
	const char *src, *dst;
	int sport, dport;		/* ICMP: echo id, type << 8 | code */
	const char *peer;		/* "ns/name" of a workload, else the address */
	const char *peer_ns, *peer_name;	/* NULL: the peer is no workload */
	int nr_peer_labels;
	const struct bh_label *peer_labels;
	uint32_t peer_identity;
	const char *verdict, *reason, *rule;
	uint64_t packets, bytes;
	int tcp_flags;
	/* the process behind the flow: pid 0 = not known (null fields) */
	int64_t pid;
	const char *comm, *exe, *cgroup;
};

/* A decoded record (lib/agent/flowrec.h) with the workloads' labels. */
void bh_flow_fields_from_view(const struct bh_flow_view *v, const char *node,
			      struct bh_flow_fields *f);
/* Add the fields to o, in the documented order. without_labels leaves
 * labels and peer_labels out (a syslog record that would not fit). */
void bh_flow_fields_json(const struct bh_flow_fields *f, json_object *o, bool without_labels);
/* "2024-05-01T12:00:00.123Z" (ISO 8601, UTC, milliseconds). */
const char *bh_time_iso(int64_t ms, char *buf, size_t len);

/* ICMP type and code by name ("echo-request", "time-exceeded/
 * ttl-zero-during-transit", "type-42/code-1"); proto is IPPROTO_ICMP or
 * IPPROTO_ICMPV6. */
const char *bh_icmp_name(int proto, int type, int code, char *buf, size_t len);
static inline bool bh_proto_is_icmp(int proto)
{
	return proto == 1 || proto == 58;
}

#endif /* BULKHEAD_FLOWJSON_H */
