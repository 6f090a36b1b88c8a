// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Metrics collectors: kernel figures (pinned maps, workload registry) and
 * agent figures. See metrics.h for the names. */
#include <stdio.h>

#include "bulkhead.h"
#include "metrics.h"
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
	char wl[2 * BH_NAME_MAX + 2];
	struct bh_metric_label lab[2] = { { "workload", wl }, { "reason", NULL } };
	int r, err;

	snprintf(wl, sizeof(wl), "%s/%s", w->ns, w->name);
	k->nr++;
	err = bh_metrics_add(k->m, "bulkhead_quarantined", BH_METRIC_GAUGE,
			     "1 if the workload is quarantined", lab, 1, w->quarantined);
	if (err)
		goto fail;
	/* No stats map (nothing loaded yet, read-only context): no verdicts
	 * to report, which is not an error for a scrape. */
	if (bh_stats_workload(k->ctx, w->slot, &st))
		return 0;
	for (r = 0; r < BH_R_MAX; r++) {
		if (!st.reason[r].packets && !st.reason[r].bytes)
			continue;
		lab[1].value = bh_reason_name(r);
		err = bh_metrics_add(k->m, "bulkhead_verdict_packets_total", BH_METRIC_COUNTER,
				     "Packets judged by the data path, per workload and reason",
				     lab, 2, (double)st.reason[r].packets);
		if (!err)
			err = bh_metrics_add(k->m, "bulkhead_verdict_bytes_total",
					     BH_METRIC_COUNTER,
					     "Bytes judged by the data path, per workload and reason",
					     lab, 2, (double)st.reason[r].bytes);
		if (err)
			goto fail;
	}
	return 0;
fail:
	k->err = err;
	return 1;
}

int bh_metrics_collect_kernel(struct bh_ctx *ctx, struct bh_metrics *m)
{
	struct kernel_walk k = { .ctx = ctx, .m = m };
	__u64 c[BH_C_MAX];
	int err;

	err = bh_workload_foreach(ctx, kernel_workload, &k);
	if (k.err)
		return k.err;
	if (err < 0)
		return err;
	err = bh_metrics_add(m, "bulkhead_workloads", BH_METRIC_GAUGE,
			     "Workloads registered in this instance", NULL, 0, k.nr);
	if (err)
		return err;
	if (bh_stats_counters(ctx, c))
		return 0;	/* maps not loaded: nothing counted yet */
	err = bh_metrics_add(m, "bulkhead_records_total", BH_METRIC_COUNTER,
			     "Flow records written to the ring buffer", NULL, 0,
			     (double)c[BH_C_RECORDS]);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_records_lost_total", BH_METRIC_COUNTER,
				     "Flow records lost because the ring buffer was full",
				     NULL, 0, (double)c[BH_C_RECORDS_LOST]);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_conntrack_full_total", BH_METRIC_COUNTER,
				     "Conntrack inserts that failed", NULL, 0,
				     (double)c[BH_C_CT_FULL]);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_no_workload_packets_total",
				     BH_METRIC_COUNTER,
				     "Packets on an interface with no registered workload",
				     NULL, 0, (double)c[BH_C_NO_WORKLOAD]);
	return err;
}

int bh_metrics_collect_agent(struct bh_metrics *m, const struct bh_metrics_agent *a)
{
	const struct bh_syslog_stats *s = a->syslog;
	int err;

	err = bh_metrics_add(m, "bulkhead_agent_up", BH_METRIC_GAUGE,
			     "1 while the agent is running", NULL, 0, 1);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_agent_start_time_seconds", BH_METRIC_GAUGE,
				     "Start time of the agent, seconds since the epoch",
				     NULL, 0, a->start_time);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_quarantines_total", BH_METRIC_COUNTER,
				     "Quarantines decided by this agent", NULL, 0,
				     (double)a->quarantines);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_flows_live", BH_METRIC_GAUGE,
				     "Flows aggregated in the agent's memory", NULL, 0,
				     (double)a->flows_live);
	if (err || !s)
		return err;
	err = bh_metrics_add(m, "bulkhead_syslog_queue", BH_METRIC_GAUGE,
			     "Syslog records waiting to be sent", NULL, 0, (double)s->queued);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_sent_total", BH_METRIC_COUNTER,
				     "Syslog records sent", NULL, 0, (double)s->sent);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_dropped_total", BH_METRIC_COUNTER,
				     "Syslog records dropped (queue full or collector gone)",
				     NULL, 0, (double)s->dropped);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_reconnects_total", BH_METRIC_COUNTER,
				     "Reconnections to the syslog collector", NULL, 0,
				     (double)s->reconnects);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_syslog_connected", BH_METRIC_GAUGE,
				     "1 while connected to the syslog collector", NULL, 0,
				     s->connected);
	return err;
}

int bh_metrics_add_flows(struct bh_metrics *m, const char *ns, const char *name,
			 enum bh_verdict verdict, uint64_t count)
{
	char wl[2 * BH_NAME_MAX + 2];
	struct bh_metric_label lab[2] = {
		{ "workload", wl }, { "verdict", bh_verdict_name(verdict) },
	};

	snprintf(wl, sizeof(wl), "%s/%s", ns, name);
	return bh_metrics_add(m, "bulkhead_flows_total", BH_METRIC_COUNTER,
			      "Flows seen starting, per workload and verdict", lab, 2,
			      (double)count);
}
