/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent's YAML configuration (docs/agent.md lists every key). Parsed
 * with libyaml into a plain struct; unknown keys are errors (a typo must
 * not silently disable a quarantine rule). Errors name the file, the line
 * and the dotted field. Command-line flags override fields after parsing.
 */
#ifndef BULKHEAD_AGENT_CONFIG_H
#define BULKHEAD_AGENT_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead.h"
#include "detect.h"
#include "export.h"
#include "syslog.h"

/* The agent's own log lines on stderr (agent_log.c). */
enum bh_log_level { BH_LOG_ERROR = 0, BH_LOG_WARNING, BH_LOG_INFO, BH_LOG_DEBUG };

struct bh_agent_config {
	/* syslog: {target, format, queue, flows, enterprise_id, tls} */
	char syslog_target[256];		/* "" = no syslog */
	enum bh_export_format syslog_format;	/* rfc5424 | rfc3164 | cef | json */
	uint32_t syslog_queue;			/* 0 = library default */
	bool syslog_flows;			/* send every flow record (default) */
	uint32_t enterprise_id;			/* the SD-IDs' @NUMBER */
	bool syslog_tls;			/* syslog.tls present */
	char tls_ca[PATH_MAX], tls_cert[PATH_MAX], tls_key[PATH_MAX];	/* "" = none */
	char tls_server_name[256];		/* "" = the target's host */
	/* node: NAME in every exported message; "" = the host name */
	char node[256];
	/* log: {level} */
	enum bh_log_level log_level;
	/* jsonl: PATH */
	char jsonl[PATH_MAX];			/* "" = none */
	/* retention: {max_flows, max_age} */
	uint64_t max_flows;			/* rows kept in the flows table */
	uint64_t max_age_ms;
	/* store: {flush_ms, flush_records} */
	uint32_t flush_ms;
	uint32_t flush_records;
	/* flows: {max_live, idle_timeout} (in-memory aggregation) */
	uint32_t max_live_flows;
	uint64_t idle_timeout_ms;
	/* baseline: {cidr_prefix_v4, cidr_prefix_v6} */
	int cidr_prefix_v4;			/* 32: exact address */
	int cidr_prefix_v6;			/* 128 */
	/* quarantine: {denied_flows, scan, deny_cidrs, exempt, capture} */
	struct bh_detect_opts detect;
	bool capture;				/* quarantine.capture present */
	uint32_t capture_seconds;
	uint64_t capture_max_bytes;
	/* deviations: {max_per_minute} per workload */
	uint32_t deviation_rate;
	/* metrics: {listen} */
	char metrics_listen[128];		/* "" = off */
	/* docker: {socket, namespace, mode} (docs/docker.md) */
	bool docker;				/* the section is present */
	char docker_socket[108];		/* sun_path */
	char docker_namespace[BH_NAME_MAX + 1];
	enum bh_mode docker_mode;
	/* kubernetes: {kubeconfig, node, chunk_size}; present (even empty):
	 * watch the API */
	bool k8s;
	char k8s_kubeconfig[PATH_MAX];		/* "" = in-cluster service account */
	char k8s_node[254];			/* "" = $NODE_NAME, then the hostname */
	uint32_t k8s_chunk_size;		/* items per list page; 0 = one page */
#define BH_K8S_CHUNK_DEFAULT	500	/* as kubectl's --chunk-size */
#define BH_K8S_CHUNK_MAX	100000
};

struct bh_agent_config_error {
	char file[256];
	int line;		/* 1-based, 0 if unknown */
	char field[128];	/* dotted path: quarantine.scan.seconds */
	char msg[256];
};

/* Defaults: no syslog, no jsonl, retention 1000000 flows / 7 days, flush
 * every 200 ms or 4000 changed flows, quarantine rules off, metrics off. */
void bh_agent_config_defaults(struct bh_agent_config *c);
/* Parse a file (or a buffer, name used in errors) over the defaults.
 * -EINVAL with err filled on bad input, other negative errno on I/O. */
int bh_agent_config_load(const char *path, struct bh_agent_config *c,
			 struct bh_agent_config_error *err);
int bh_agent_config_parse_buf(const char *name, const char *buf, size_t len,
			      struct bh_agent_config *c, struct bh_agent_config_error *err);
/* "FILE:LINE: FIELD: MSG" */
const char *bh_agent_config_error_format(const struct bh_agent_config_error *e,
					 char *buf, size_t len);

/* Helpers shared with the command line: "7d", "10s", "200ms", "1h30m"
 * (a bare number is seconds); "10485760", "10MiB", "64k". */
int bh_parse_duration_ms(const char *s, uint64_t *ms);
int bh_parse_size(const char *s, uint64_t *bytes);
/* "rfc5424" | "rfc3164" | "cef" | "json" */
int bh_syslog_format_parse(const char *s, enum bh_export_format *out);
/* "error" | "warning" | "info" | "debug" */
int bh_log_level_parse(const char *s, enum bh_log_level *out);

#endif /* BULKHEAD_AGENT_CONFIG_H */
