/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Prometheus metrics: a registry rendered in the text exposition format
 * 0.0.4, and a small non-blocking HTTP server for GET /metrics.
 *
 * Registry. Samples are (family name, type, help, labels, value). The
 * agent fills the registry on every scrape through the collect callback
 * given to the server: bh_metrics_begin() empties it, bh_metrics_add()
 * appends samples (samples of one family are grouped under one # HELP and
 * # TYPE whatever the order of the calls), bh_metrics_render() writes the
 * text. Names are checked against the Prometheus grammar; label values and
 * help text are escaped (backslash, double quote in label values, newline).
 * Families are rendered in order of first appearance, samples in order of
 * addition. The registry does not detect duplicate label sets.
 *
 * Server. Everything the server does is driven from one fd, an epoll fd
 * that holds the listening socket, every open connection and a timerfd for
 * connection deadlines. The agent adds bh_metrics_server_fd() to its own
 * epoll set for EPOLLIN and calls bh_metrics_handle() when it is readable.
 * bh_metrics_handle() never blocks: it accepts, reads what has arrived,
 * writes what the socket takes, and closes connections that finished,
 * misbehaved or passed their deadline. A connection has a bounded request
 * size (BH_METRICS_REQ_MAX), a deadline (opts.timeout_ms) and is closed
 * after its one response, so a slow or hostile client costs one buffer
 * and cannot stall the agent. At most opts.max_conns connections are open;
 * beyond that new ones are accepted and closed at once.
 */
#ifndef BULKHEAD_METRICS_H
#define BULKHEAD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead_abi.h"

struct bh_ctx;
struct bh_k8s_stats;
struct bh_syslog_stats;

#define BH_METRICS_DEFAULT_LISTEN	"127.0.0.1:9109"
#define BH_METRICS_REQ_MAX		8192	/* request line + headers */
#define BH_METRICS_DEFAULT_TIMEOUT_MS	5000
#define BH_METRICS_DEFAULT_MAX_CONNS	16

enum bh_metric_type {
	BH_METRIC_COUNTER = 0,
	BH_METRIC_GAUGE = 1,
	BH_METRIC_UNTYPED = 2,
};

struct bh_metric_label {
	const char *name;	/* [a-zA-Z_][a-zA-Z0-9_]*, not starting "__" */
	const char *value;	/* any bytes; escaped when rendered */
};

struct bh_metrics;

int bh_metrics_new(struct bh_metrics **out);
void bh_metrics_free(struct bh_metrics *m);
/* Drop every sample and family: the start of a scrape. */
void bh_metrics_begin(struct bh_metrics *m);
/* Append a sample. -EINVAL for a bad metric or label name, or when the
 * family exists with another type; -ENOMEM. help may be NULL (then the
 * family keeps the help of an earlier call, or has none). */
int bh_metrics_add(struct bh_metrics *m, const char *name, enum bh_metric_type type,
		   const char *help, const struct bh_metric_label *labels, int nr_labels,
		   double value);
/* Render into a malloc'd, NUL-terminated buffer (*len without the NUL). */
int bh_metrics_render(const struct bh_metrics *m, char **buf, size_t *len);
/* Number of samples now in the registry (tests, self-monitoring). */
size_t bh_metrics_count(const struct bh_metrics *m);

/* --------------------------------------------------------- collectors
 * Metric names, types and labels are listed in docs/operations.md. A
 * workload is two labels, namespace and workload (its name), so series
 * join with kube-state-metrics' namespace/pod.
 */

/* Kernel side, from the pinned maps and the workload registry:
 *   bulkhead_verdict_packets_total{namespace,workload,reason}     counter
 *   bulkhead_verdict_bytes_total{namespace,workload,reason}       counter
 *   bulkhead_quarantined{namespace,workload}                      gauge 0|1
 *   bulkhead_workloads                                            gauge
 *   bulkhead_flow_records_total                                   counter
 *   bulkhead_flow_records_lost_total                              counter
 *   bulkhead_conntrack_entries                                    gauge
 *   bulkhead_conntrack_capacity_entries                           gauge
 *   bulkhead_conntrack_insert_failures_total                      counter
 *   bulkhead_no_workload_packets_total                            counter
 *   bulkhead_policies                                             gauge
 *   bulkhead_policy_syncs_total{result}                           counter
 *   bulkhead_policy_sync_last_timestamp_seconds                   gauge
 *   bulkhead_policy_sync_last_duration_seconds                    gauge
 *   bulkhead_cni_operations_total{command,result}                 counter
 * Per (workload, reason) series appear once their counter is non-zero. */
int bh_metrics_collect_kernel(struct bh_ctx *ctx, struct bh_metrics *m);

/* Agent side: what only the agent process knows. */
struct bh_metrics_agent {
	const char *version;			/* bulkhead_build_info */
	double start_time;			/* seconds since the epoch */
	uint64_t quarantines;			/* decided by this agent since start */
	uint64_t flows_live;			/* flows aggregated in memory now */
	uint64_t flows_unstored;		/* of them, changed since last stored */
	uint64_t records, bad_records;		/* flow records consumed, malformed */
	bool jsonl;				/* a JSON-lines file is written */
	uint64_t jsonl_errors;
	uint64_t stream_clients, stream_lost;	/* flows --follow */
	const struct bh_syslog_stats *syslog;	/* NULL: no syslog output */
	const struct bh_k8s_stats *k8s;		/* NULL: no Kubernetes watch */
};
/*   bulkhead_build_info{version,libbpf,kernel}               gauge 1
 *   bulkhead_agent_start_time_seconds                        gauge
 *   bulkhead_quarantines_total                               counter
 *   bulkhead_agent_flows_live                                gauge
 *   bulkhead_agent_flows_unstored                            gauge
 *   bulkhead_agent_records_total                             counter
 *   bulkhead_agent_bad_records_total                         counter
 *   bulkhead_flow_stream_clients                             gauge
 *   bulkhead_flow_stream_lost_records_total                  counter
 *   bulkhead_jsonl_write_errors_total                        counter   (jsonl set)
 *   bulkhead_syslog_queue_messages                           gauge     (syslog set)
 *   bulkhead_syslog_messages_sent_total                      counter   (syslog set)
 *   bulkhead_syslog_messages_dropped_total                   counter   (syslog set)
 *   bulkhead_syslog_reconnects_total                         counter   (syslog set)
 *   bulkhead_syslog_connected                                gauge 0|1 (syslog set)
 *   bulkhead_syslog_tls_failures_total                       counter   (syslog set)
 *   bulkhead_k8s_list_requests_total                         counter   (k8s set)
 *   bulkhead_k8s_watch_requests_total                        counter   (k8s set)
 *   bulkhead_k8s_watch_events_total                          counter   (k8s set)
 *   bulkhead_k8s_reconciles_total                            counter   (k8s set) */
int bh_metrics_collect_agent(struct bh_metrics *m, const struct bh_metrics_agent *a);

/* bulkhead_flows_total{namespace,workload,direction,verdict}: flows the
 * agent has seen start, per workload, direction (ingress|egress, seen
 * from the workload) and verdict (bh_verdict_name). */
int bh_metrics_add_flows(struct bh_metrics *m, const char *ns, const char *name,
			 enum bh_dir dir, enum bh_verdict verdict, uint64_t count);

/* ------------------------------------------------------------- server */
struct bh_metrics_server;

/* Called for each scrape to fill m (already emptied). A non-zero return
 * makes the scrape answer 500. */
typedef int (*bh_metrics_collect_fn)(struct bh_metrics *m, void *arg);

/* GET /healthz (liveness) and GET /readyz (readiness): 0 = healthy or
 * ready (200 with msg), else 503 with msg. */
typedef int (*bh_metrics_health_fn)(void *arg, char *msg, size_t len);

struct bh_metrics_server_opts {
	const char *listen;		/* "HOST:PORT", "[V6]:PORT"; NULL: default; port 0: any */
	bh_metrics_collect_fn collect;
	bh_metrics_health_fn health;	/* NULL: /healthz is 404 */
	bh_metrics_health_fn ready;	/* NULL: /readyz is 404 */
	void *arg;
	int timeout_ms;			/* per connection; 0: default */
	int max_conns;			/* 0: default */
};

/* -EINVAL for a malformed listen address (the caller names the config
 * field), else the errno of socket/bind/listen. */
int bh_metrics_server_open(const struct bh_metrics_server_opts *opts,
			   struct bh_metrics_server **out);
void bh_metrics_server_close(struct bh_metrics_server *srv);
/* Poll this for EPOLLIN (it is an epoll fd). */
int bh_metrics_server_fd(const struct bh_metrics_server *srv);
/* The bound port (useful with port 0). */
int bh_metrics_server_port(const struct bh_metrics_server *srv);
/* Serve whatever is ready; never blocks. Returns the number of responses
 * completed in this call, or a negative errno for a failure of the server
 * itself (a bad client never makes it fail). */
int bh_metrics_handle(struct bh_metrics_server *srv);
/* Open connections now (tests). */
int bh_metrics_server_conns(const struct bh_metrics_server *srv);

#endif /* BULKHEAD_METRICS_H */
