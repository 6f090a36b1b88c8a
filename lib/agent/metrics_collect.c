// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Metrics collectors: kernel figures (pinned maps, workload registry,
 * control-plane counters of the store) and agent figures. See metrics.h
 * for the names. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <bpf/libbpf.h>

#include "bulkhead.h"
#include "k8s.h"
#include "maps.h"
#include "metrics.h"
#include "store.h"
#include "syslog.h"

struct kernel_walk {
	struct bh_ctx *ctx;
	struct bh_metrics *m;
	int nr;
	int err;
};

static int kernel_workload(const struct bh_workload_info *w, void *arg)
{
	struct kernel_walk *k = arg;
	struct bh_workload_stats st;
	struct bh_metric_label lab[4] = {
		{ "namespace", w->ns }, { "workload", w->name }, { "direction", NULL },
		{ "reason", NULL },
	};
	int d, r, err;

	k->nr++;
	err = bh_metrics_add(k->m, "bulkhead_quarantined", BH_METRIC_GAUGE,
			     "1 if the workload is quarantined", lab, 2, w->quarantined);
	if (err)
		goto fail;
	/* No stats map (nothing loaded yet, read-only context): no verdicts
	 * to report, which is not an error for a scrape. */
	if (bh_stats_workload(k->ctx, w->slot, &st))
		return 0;
	for (d = BH_DIR_INGRESS; d <= BH_DIR_EGRESS; d++) {
		lab[2].value = bh_dir_name(d);
		for (r = 0; r < BH_R_MAX; r++) {
			const struct bh_stat *s = &st.dir[d][r];

			if (!s->packets && !s->bytes)
				continue;
			lab[3].value = bh_reason_name(r);
			err = bh_metrics_add(k->m, "bulkhead_verdict_packets_total",
					     BH_METRIC_COUNTER,
					     "Packets judged by the data path, per workload,"
					     " direction and reason", lab, 4, (double)s->packets);
			if (!err)
				err = bh_metrics_add(k->m, "bulkhead_verdict_bytes_total",
						     BH_METRIC_COUNTER,
						     "Bytes judged by the data path, per workload,"
						     " direction and reason", lab, 4, (double)s->bytes);
			if (err)
				goto fail;
		}
	}
	return 0;
fail:
	k->err = err;
	return 1;
}

/* ----------------------------------------------------- control plane */
struct counters {
	struct bh_metrics *m;
	int err;
	__s64 sync_ok, sync_err, sync_last_ms, sync_last_us;
	bool have_sync;
};

/* "cni.ADD.ok" -> bulkhead_cni_operations_total{command="ADD",result="ok"},
 * "cni_error.ADD.7" -> bulkhead_cni_errors_total{command="ADD",code="7"}
 * (written by ctl/cni_count.c) */
static int counter_row(const char *name, __s64 value, void *arg)
{
	struct counters *c = arg;
	char cmd[16], res[16];
	int n = 0;

	if (!strncmp(name, "policy_sync.", 12)) {
		const char *k = name + 12;

		c->have_sync = true;
		if (!strcmp(k, "ok"))
			c->sync_ok = value;
		else if (!strcmp(k, "error"))
			c->sync_err = value;
		else if (!strcmp(k, "last_ms"))
			c->sync_last_ms = value;
		else if (!strcmp(k, "last_us"))
			c->sync_last_us = value;
		return 0;
	}
	if (sscanf(name, "cni.%15[A-Za-z].%15[a-z]%n", cmd, res, &n) == 2 && !name[n]) {
		struct bh_metric_label lab[2] = { { "command", cmd }, { "result", res } };

		c->err = bh_metrics_add(c->m, "bulkhead_cni_operations_total", BH_METRIC_COUNTER,
					"bulkhead-cni invocations on this instance, by command and"
					" result", lab, 2, (double)value);
	} else if (sscanf(name, "cni_error.%15[A-Za-z].%15[0-9]%n", cmd, res, &n) == 2 &&
		   !name[n]) {
		struct bh_metric_label lab[2] = { { "command", cmd }, { "code", res } };

		c->err = bh_metrics_add(c->m, "bulkhead_cni_errors_total", BH_METRIC_COUNTER,
					"bulkhead-cni invocations that failed, by command and the"
					" CNI error code returned", lab, 2, (double)value);
	}
	return c->err;
}

static int policy_count(const struct bh_store_policy *p, void *arg)
{
	(void)p;
	(*(int *)arg)++;
	return 0;
}

static int collect_control(struct bh_ctx *ctx, struct bh_metrics *m)
{
	struct counters c = { .m = m };
	struct bh_metric_label ok = { "result", "ok" }, bad = { "result", "error" };
	sqlite3 *db = bh_ctx_db(ctx);
	int nr = 0, err;

	if (!db)
		return 0;
	bh_store_policy_foreach(db, policy_count, &nr);
	err = bh_metrics_add(m, "bulkhead_policies", BH_METRIC_GAUGE,
			     "Policies stored in this instance", NULL, 0, nr);
	if (err)
		return err;
	err = bh_store_counter_foreach(db, counter_row, &c);
	if (err < 0)
		return err;
	err = bh_metrics_add(m, "bulkhead_policy_syncs_total", BH_METRIC_COUNTER,
			     "Policy syncs into the kernel maps, by result", &ok, 1,
			     (double)c.sync_ok);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_policy_syncs_total", BH_METRIC_COUNTER, NULL,
				     &bad, 1, (double)c.sync_err);
	if (!err && c.have_sync)
		err = bh_metrics_add(m, "bulkhead_policy_sync_last_timestamp_seconds",
				     BH_METRIC_GAUGE, "When the last policy sync ended", NULL, 0,
				     (double)c.sync_last_ms / 1000.0);
	if (!err && c.have_sync)
		err = bh_metrics_add(m, "bulkhead_policy_sync_last_duration_seconds",
				     BH_METRIC_GAUGE, "How long the last policy sync took", NULL, 0,
				     (double)c.sync_last_us / 1e6);
	return err;
}

int bh_metrics_collect_kernel(struct bh_ctx *ctx, struct bh_metrics *m)
{
	struct kernel_walk k = { .ctx = ctx, .m = m };
	uint64_t ct, ct_cap;
	__u64 c[BH_C_MAX];
	int err;

	err = bh_workload_foreach(ctx, kernel_workload, &k);
	if (k.err)
		return k.err;
	if (err < 0)
		return err;
	err = bh_metrics_add(m, "bulkhead_workloads", BH_METRIC_GAUGE,
			     "Workloads registered in this instance", NULL, 0, k.nr);
	if (!err)
		err = collect_control(ctx, m);
	if (err)
		return err;
	if (bh_stats_counters(ctx, c))
		return 0;	/* maps not loaded: nothing counted yet */
	err = bh_metrics_add(m, "bulkhead_flow_records_total", BH_METRIC_COUNTER,
			     "Flow records written to the ring buffer", NULL, 0,
			     (double)c[BH_C_RECORDS]);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_flow_records_lost_total", BH_METRIC_COUNTER,
				     "Flow records lost because the ring buffer was full",
				     NULL, 0, (double)c[BH_C_RECORDS_LOST]);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_conntrack_insert_failures_total",
				     BH_METRIC_COUNTER, "Conntrack inserts that failed", NULL, 0,
				     (double)c[BH_C_CT_FULL]);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_no_workload_packets_total",
				     BH_METRIC_COUNTER,
				     "Packets on an interface with no registered workload",
				     NULL, 0, (double)c[BH_C_NO_WORKLOAD]);
	if (!err && !bh_ct_count(ctx, &ct, &ct_cap)) {
		err = bh_metrics_add(m, "bulkhead_conntrack_entries", BH_METRIC_GAUGE,
				     "Connections in conntrack now", NULL, 0, (double)ct);
		if (!err)
			err = bh_metrics_add(m, "bulkhead_conntrack_capacity_entries",
					     BH_METRIC_GAUGE,
					     "Connections conntrack holds before evicting the"
					     " least recently used", NULL, 0, (double)ct_cap);
	}
	return err;
}

static int add_syslog(struct bh_metrics *m, const struct bh_syslog_stats *s)
{
	int err = bh_metrics_add(m, "bulkhead_syslog_queue_messages", BH_METRIC_GAUGE,
				 "Syslog messages waiting to be sent", NULL, 0, (double)s->queued);

	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_messages_sent_total", BH_METRIC_COUNTER,
				     "Syslog messages sent", NULL, 0, (double)s->sent);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_messages_dropped_total",
				     BH_METRIC_COUNTER,
				     "Syslog messages dropped (queue full or collector gone)",
				     NULL, 0, (double)s->dropped);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_reconnects_total", BH_METRIC_COUNTER,
				     "Reconnections to the syslog collector", NULL, 0,
				     (double)s->reconnects);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_connected", BH_METRIC_GAUGE,
				     "1 while connected to the syslog collector", NULL, 0,
				     s->connected);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_tls_failures_total", BH_METRIC_COUNTER,
				     "TLS handshakes with the collector refused or failed", NULL, 0,
				     (double)s->tls_failures);
	return err;
}

/* The Kubernetes watch's load on the API server: in a steady state lists
 * stay flat (a list comes only at start or after 410 Gone) and watches
 * grow only by reconnects. */
static int add_k8s(struct bh_metrics *m, const struct bh_k8s_stats *k)
{
	int err = bh_metrics_add(m, "bulkhead_k8s_list_requests_total", BH_METRIC_COUNTER,
				 "List requests to the Kubernetes API (at start and after 410 Gone)",
				 NULL, 0, (double)k->lists);

	if (!err)
		err = bh_metrics_add(m, "bulkhead_k8s_watch_requests_total", BH_METRIC_COUNTER,
				     "Watch requests to the Kubernetes API, reconnects included",
				     NULL, 0, (double)k->watches);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_k8s_watch_events_total", BH_METRIC_COUNTER,
				     "Watch events applied to the agent's cache", NULL, 0,
				     (double)k->events);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_k8s_reconciles_total", BH_METRIC_COUNTER,
				     "Reconcile passes that changed bulkhead's state", NULL, 0,
				     (double)k->reconciles);
	return err;
}

int bh_metrics_collect_agent(struct bh_metrics *m, const struct bh_metrics_agent *a)
{
	struct utsname u;
	struct bh_metric_label info[3] = {
		{ "version", a->version ? a->version : "unknown" },
		{ "libbpf", libbpf_version_string() },
		{ "kernel", uname(&u) == 0 ? u.release : "unknown" },
	};
	int err;

	err = bh_metrics_add(m, "bulkhead_build_info", BH_METRIC_GAUGE,
			     "Always 1: the agent's version, libbpf and kernel as labels",
			     info, 3, 1);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_agent_start_time_seconds", BH_METRIC_GAUGE,
				     "Start time of the agent, seconds since the epoch",
				     NULL, 0, a->start_time);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_quarantines_total", BH_METRIC_COUNTER,
				     "Quarantines decided by this agent", NULL, 0,
				     (double)a->quarantines);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_agent_flows_live", BH_METRIC_GAUGE,
				     "Flows aggregated in the agent's memory", NULL, 0,
				     (double)a->flows_live);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_agent_flows_unstored", BH_METRIC_GAUGE,
				     "Flows changed in the agent's memory and not yet stored", NULL, 0,
				     (double)a->flows_unstored);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_agent_records_total", BH_METRIC_COUNTER,
				     "Flow records the agent consumed", NULL, 0,
				     (double)a->records);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_agent_bad_records_total", BH_METRIC_COUNTER,
				     "Flow records the agent refused as malformed", NULL, 0,
				     (double)a->bad_records);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_flow_stream_clients", BH_METRIC_GAUGE,
				     "Clients following the flow stream (flows --follow)", NULL, 0,
				     (double)a->stream_clients);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_flow_stream_lost_records_total",
				     BH_METRIC_COUNTER,
				     "Flow records not delivered to a slow stream client", NULL, 0,
				     (double)a->stream_lost);
	if (!err && a->jsonl)
		err = bh_metrics_add(m, "bulkhead_jsonl_write_errors_total", BH_METRIC_COUNTER,
				     "JSON-lines writes that failed", NULL, 0,
				     (double)a->jsonl_errors);
	if (!err && a->syslog)
		err = add_syslog(m, a->syslog);
	if (!err && a->k8s)
		err = add_k8s(m, a->k8s);
	return err;
}

int bh_metrics_add_flows(struct bh_metrics *m, const char *ns, const char *name,
			 enum bh_dir dir, enum bh_verdict verdict, uint64_t count)
{
	struct bh_metric_label lab[4] = {
		{ "namespace", ns }, { "workload", name }, { "direction", bh_dir_name(dir) },
		{ "verdict", bh_verdict_name(verdict) },
	};

	return bh_metrics_add(m, "bulkhead_flows_total", BH_METRIC_COUNTER,
			      "Flows seen starting, per workload, direction and verdict", lab, 4,
			      (double)count);
}
