// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's main loop. One thread, one epoll set:
 *   ring buffer fd   flow records (consumed as they come)
 *   signalfd         SIGINT/SIGTERM stop, SIGHUP reopens the JSONL file,
 *                    SIGCHLD reaps capture children
 *   timerfd          every flush_ms: store batch; every second: lost
 *                    records, idle flows, pins; every 10 s: retention
 *   syslog fd        EPOLLOUT while its queue is non-empty (re-registered
 *                    after every reconnect: lib/agent/syslog_watch.h); the
 *                    epoll timeout follows its reconnect backoff
 *   metrics fd       scrapes
 *   flow stream fd   `flows --follow` clients (lib/agent/flowstream.h)
 * Nothing here waits on the network: syslog, metrics and the flow stream
 * never block, so the ring buffer is drained whatever the collector does.
 * What the agent does is logged, one logfmt line per event, through the
 * front end's callback (lib/agent/agent_log.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "agent.h"
#include "k8s.h"
#include "agent_log.h"
#include "maps.h"
#include "baseline.h"
#include "capture.h"
#include "detect.h"
#include "detect_marks.h"
#include "docker_watch.h"
#include "export.h"
#include "flowagg.h"
#include "recount.h"
#include "flowrec.h"
#include "flowstore.h"
#include "flowstream.h"
#include "metrics.h"
#include "nflog.h"
#include "nft_sync.h"
#include "config.h"
#include "procflow.h"
#include "syslog_watch.h"

#define BASELINE_TTL_MS	5000
#define F_LEARN		0x1	/* flow_user flag: add to the baseline at flush */
#define F_LEARN_PROC	0x2	/* flow_user flag: add its program to the baseline at flush */

enum { TAG_RING = 1, TAG_SIGNAL, TAG_TIMER, TAG_SYSLOG, TAG_METRICS, TAG_STREAM, TAG_DOCKER,
       TAG_PROC, TAG_NFLOG };

struct slot_state {
	char id[2 * BH_NAME_MAX + 2];	/* ns/name the counters belong to */
	uint64_t flows[2][BH_V_MAX];	/* flows started, by direction and verdict */
	/* deviation rate limit: a window of one minute */
	int64_t dev_window_ms;
	uint32_t dev_in_window;
	uint64_t dev_suppressed;
	/* baseline cache: reloaded after BASELINE_TTL_MS, when the mode
	 * changes and when this agent learned an entry for the workload */
	int64_t bl_loaded_ms;
	enum bh_mode bl_mode;
	struct bh_baseline bl;
	bool auto_quarantined;		/* detection fired for this workload */
	uint64_t quarantined_ns;	/* when (monotonic, as record times) */
	uint64_t decisions[BH_DETECT_RULES][BH_DETECT_OUTCOMES];	/* metrics */
};

struct agent {
	struct bh_ctx *ctx;
	const struct bh_agent_config *cfg;
	sqlite3 *db;
	int epfd, sigfd, timerfd;
	int flows_fd, counters_fd;
	__u32 flows_map_id;
	struct ring_buffer *rb;
	struct bh_nflog *nflog;		/* backend = nftables: the flow logs */
	struct nflog_if { __u32 ifindex, slot; enum bh_mode mode; } *nf_if;
	int nr_nf_if;
	int64_t nf_if_ms;		/* when nf_if was read */
	uint64_t nflog_lost_reported;
	struct bh_flowagg *agg;
	struct bh_flowrec *fr;
	struct bh_flowstore *fs;
	struct bh_detect *det;
	struct bh_export x;
	struct bh_metrics_server *metrics;
	struct bh_syslog_watch sw;	/* the syslog fd in epfd */
	int64_t syslog_retry_ms;	/* target did not resolve: next try (0: none due) */
	struct bh_flowstream *stream;	/* NULL: none (socket path unusable) */
	struct bh_agent_log log;
	const char *version;
	char node[256];			/* in every exported message */
	/* what was last logged about the outputs (log on change only) */
	bool syslog_up;
	uint64_t tls_failures, jsonl_errors, syslog_errors;
	struct bh_docker_watch *docker;	/* docker: section (docker_watch.h) */
	struct bh_k8s *k8s;		/* the API watch (its own threads), or NULL */
	struct bh_recount *recount;	/* conntrack shares' recount (its own thread) */
	struct bh_procflow *pf;		/* the process behind flows, or NULL (not loaded) */
	struct slot_state *slots[BH_MAX_WORKLOADS];
	struct bh_baseline_opts bl_opts;
	bool stop;
	int64_t start_ms, last_second_ms, last_retention_ms, last_pin_check_ms;
	int64_t last_promote_ms;
	bool promote_failed;		/* logged; quiet until it clears */
	int64_t flush_due_ms;
	bool flush_wanted;		/* flush_records flows are dirty */
	bool reading;			/* inside a read of the records */
	/* counters (agent_state, metrics) */
	uint64_t records, bad_records, lost_reported, quarantines, deviations;
	uint64_t would_quarantines, detect_alerts, detect_errors, decision_last_us;
	uint64_t flows_written, store_errors, baseline_errors;
	char msg[PATH_MAX + 512];
};

static int64_t now_ms(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct slot_state *slot_state(struct agent *a, __u32 slot, const char *ns,
				     const char *name)
{
	struct slot_state *s;
	char id[sizeof(s->id)];

	if (slot >= BH_MAX_WORKLOADS)
		return NULL;
	snprintf(id, sizeof(id), "%s/%s", ns, name);
	s = a->slots[slot];
	if (s && strcmp(s->id, id)) {
		/* slot reused by another workload */
		bh_baseline_free(&s->bl);
		free(s);
		s = a->slots[slot] = NULL;
		bh_detect_forget(a->det, slot);
	}
	if (!s) {
		char sl[16];

		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		memcpy(s->id, id, sizeof(id));
		a->slots[slot] = s;
		snprintf(sl, sizeof(sl), "%u", slot);
		bh_alog(&a->log, BH_LOG_INFO, "workload seen", "workload", id, "slot", sl, NULL);
	}
	return s;
}

/* Events go to the timeline (store) and to syslog/JSONL. */
static void agent_event(struct agent *a, const char *ns, const char *name, const char *kind,
			const char *sev, const char *detail)
{
	char wl[2 * BH_NAME_MAX + 2];

	bh_event_add(a->ctx, ns, name, kind, sev, "%s", detail);
	bh_export_event(&a->x, ns, name, kind, sev, detail);
	snprintf(wl, sizeof(wl), "%s%s%s", ns, *ns ? "/" : "", name);
	bh_alog(&a->log, !strcmp(sev, "alert") || !strcmp(sev, "warning") ? BH_LOG_WARNING
									: BH_LOG_INFO,
		kind, "workload", wl, "severity", sev, "detail", detail, NULL);
}

static void docker_log(void *arg, const char *ns, const char *name, const char *kind,
		       const char *sev, const char *detail)
{
	agent_event(arg, ns, name, kind, sev, detail);
}

/* ------------------------------------------------------- quarantine */
/* Wall clock minus monotonic clock, ms: record times are monotonic. */
static int64_t wall_offset_ms(void)
{
	return now_ms(CLOCK_REALTIME) - now_ms(CLOCK_MONOTONIC);
}

static void start_capture(struct agent *a, const struct bh_flow_view *v)
{
	struct bh_capture_spawn_opts co = {
		.seconds = a->cfg->capture_seconds, .max_bytes = a->cfg->capture_max_bytes,
		.no_event = true,	/* agent_event below: timeline + syslog, once */
	};
	char path[512], detail[1024];
	pid_t pid;
	int err;

	err = bh_capture_spawn(a->ctx, v->ns, v->name, &co, &pid, path, sizeof(path));
	if (err)
		snprintf(detail, sizeof(detail), "capture on quarantine failed: %s",
			 strerror(-err));
	else
		snprintf(detail, sizeof(detail), "capturing %us / %" PRIu64 " bytes to %s"
			 " (pid %d)", a->cfg->capture_seconds, a->cfg->capture_max_bytes,
			 path, (int)pid);
	agent_event(a, v->ns, v->name, "capture", err ? "warning" : "info", detail);
}

/* Is the workload quarantined already (by hand, or by us after this
 * record was written: records wait in the ring)? The cached answer may
 * be stale after a release: ask the store before skipping. */
static bool already_quarantined(struct agent *a, const struct slot_state *s,
				const struct bh_flow_view *v, uint64_t rec_ts_ns)
{
	const struct bh_workload_info *wl;

	if (!v->wl || !v->wl->quarantined)
		return false;
	if (s && s->quarantined_ns && rec_ts_ns <= s->quarantined_ns)
		return true;
	bh_flowrec_invalidate(a->fr);
	wl = bh_flowrec_workload(a->fr, v->wl->slot);
	return wl && wl->quarantined;
}

/* Quarantine now: one map update, then tell syslog how long after the
 * threshold-crossing flow's record (rec_ts_ns, monotonic) it took. */
static void auto_quarantine(struct agent *a, struct slot_state *s, const struct bh_flow_view *v,
			    const struct bh_detect_result *r, const char *explanation,
			    uint64_t rec_ts_ns)
{
	char detail[1536];
	struct timespec ts;
	uint64_t decided_ns, done_ns;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	decided_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	err = bh_workload_quarantine_explained(a->ctx, v->ns, v->name, r->reason, explanation);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	done_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	bh_flowrec_invalidate(a->fr);
	if (err) {
		snprintf(detail, sizeof(detail), "automatic quarantine failed (%s): %s",
			 r->reason, bh_ctx_error(a->ctx));
		agent_event(a, v->ns, v->name, "error", "alert", detail);
		return;
	}
	a->quarantines++;
	a->decision_last_us = done_ns > rec_ts_ns ? (done_ns - rec_ts_ns) / 1000 : 0;
	if (s) {
		s->auto_quarantined = true;
		s->quarantined_ns = done_ns;
	}
	{
		char wl[2 * BH_NAME_MAX + 2];

		snprintf(wl, sizeof(wl), "%s/%s", v->ns, v->name);
		bh_alog(&a->log, BH_LOG_WARNING, "quarantined", "workload", wl, "rule",
			bh_detect_rule_name(r->rule), "reason", r->reason, NULL);
	}
	/* bh_workload_quarantine recorded the timeline event; tell syslog.
	 * "updated": the map update syscall returned, which waits for an
	 * RCU grace period, so no CPU still judges by the old policy. */
	snprintf(detail, sizeof(detail), "quarantined: %s; decided %.3f ms and quarantine map"
		 " updated %.3f ms after the flow's record", explanation,
		 (double)(decided_ns > rec_ts_ns ? decided_ns - rec_ts_ns : 0) / 1e6,
		 (double)a->decision_last_us / 1000.0);
	bh_export_event(&a->x, v->ns, v->name, "quarantine", "alert", detail);
	if (a->cfg->capture)
		start_capture(a, v);
}

/* A decision of the rules: act (enforce, action quarantine) or report
 * (would-quarantine, alert); mark the flows that counted. */
static void detect_decide(struct agent *a, struct slot_state *s, const struct bh_flow_view *v,
			  const struct bh_detect_result *r, uint64_t rec_ts_ns)
{
	char expl[1024];

	/* a decision on records of a workload that is quarantined already
	 * is no decision: nothing to do, nothing to mark */
	if (r->outcome == BH_DETECT_QUARANTINE && already_quarantined(a, s, v, rec_ts_ns))
		return;
	bh_detect_explain(r, wall_offset_ms(), expl, sizeof(expl));
	if (s)
		s->decisions[r->rule][r->outcome]++;
	switch (r->outcome) {
	case BH_DETECT_QUARANTINE:
		auto_quarantine(a, s, v, r, expl, rec_ts_ns);
		break;
	case BH_DETECT_WOULD_QUARANTINE:
		a->would_quarantines++;
		agent_event(a, v->ns, v->name, "would-quarantine", "warning", expl);
		break;
	default:
		a->detect_alerts++;
		agent_event(a, v->ns, v->name, "alert", "warning", expl);
		break;
	}
	if (bh_detect_marks_add(a->db, v->ns, v->name, r, now_ms(CLOCK_REALTIME)))
		a->detect_errors++;
}

/* After a quarantine the data path judges every packet of the workload
 * "quarantine". A record it judged by policy instead, time-stamped after
 * our quarantine's map update returned (that update waits for an RCU
 * grace period: no program still runs with the old map), proves someone
 * released it, even before the store says so (a release swaps the map
 * before it commits). Then the rules watch it afresh at once. */
static void check_released(struct agent *a, struct slot_state *s, const struct bh_flow_record *rec,
			   const struct bh_flow_view *v)
{
	bool judged = rec->verdict == BH_V_ALLOW || rec->verdict == BH_V_WOULD_DENY ||
		      rec->verdict == BH_V_DENY;

	if (v->wl->quarantined && !(judged && rec->ts_ns > s->quarantined_ns))
		return;
	s->auto_quarantined = false;
	bh_detect_forget(a->det, rec->slot);
	bh_flowrec_invalidate(a->fr);
}

/* ------------------------------------------------------- deviations */
static const struct bh_baseline *baseline_of(struct agent *a, struct slot_state *s,
					     const struct bh_flow_view *v)
{
	int64_t now = now_ms(CLOCK_MONOTONIC);

	if (!s->bl_loaded_ms || now - s->bl_loaded_ms >= BASELINE_TTL_MS || s->bl_mode != v->mode) {
		struct bh_baseline nb;

		if (bh_baseline_load(a->db, v->ns, v->name, &nb) == 0) {
			bh_baseline_free(&s->bl);
			s->bl = nb;
		}
		s->bl_loaded_ms = now;
		s->bl_mode = v->mode;
	}
	return &s->bl;
}

static void report_deviation(struct agent *a, struct slot_state *s, const struct bh_flow_view *v,
			     const char *why, const char *sev)
{
	char detail[1024], proc[600] = "";
	int64_t now = now_ms(CLOCK_MONOTONIC);

	if (now - s->dev_window_ms >= 60000) {
		if (s->dev_suppressed) {
			snprintf(detail, sizeof(detail), "%" PRIu64 " more deviations not recorded"
				 " (limit %u per minute)", s->dev_suppressed, a->cfg->deviation_rate);
			agent_event(a, v->ns, v->name, "deviation", "warning", detail);
		}
		s->dev_window_ms = now;
		s->dev_in_window = 0;
		s->dev_suppressed = 0;
	}
	a->deviations++;
	if (s->dev_in_window >= a->cfg->deviation_rate) {
		s->dev_suppressed++;
		return;
	}
	s->dev_in_window++;
	if (v->proc) {
		char pb[sizeof(proc) - 16];

		snprintf(proc, sizeof(proc), ", process %s",
			 bh_proc_str(v->proc, pb, sizeof(pb)));
	}
	{
		char pbuf[8];

		snprintf(detail, sizeof(detail), "%s: %s %s %s:%d -> %s:%d peer %s, %s (%s%s%s)%s",
			 why, v->dir, bh_proto_str(v->proto, pbuf, sizeof(pbuf)), v->src,
			 v->sport, v->dst, v->dport, v->peer, v->verdict_name, v->reason,
			 v->rule[0] ? ", " : "", v->rule, proc);
	}
	agent_event(a, v->ns, v->name, "deviation", sev, detail);
}

/* A program the workload did not learn (baseline_procs.c): only when it
 * learned some. */
static bool new_process(struct agent *a, struct slot_state *s, const struct bh_flow_view *v)
{
	const struct bh_baseline *bl;

	if (!v->proc || (v->mode != BH_MODE_MONITOR && v->mode != BH_MODE_ENFORCE))
		return false;
	bl = baseline_of(a, s, v);
	return bl->nr_procs && !bh_baseline_covers_proc(bl, v->proc->exe);
}

/* A new flow in monitor or enforce mode is a deviation when policy denies
 * it (deny / would-deny: outside policy) or, if the workload has a
 * baseline, when no baseline entry covers it or a program it did not
 * learn made it. */
static void check_deviation(struct agent *a, struct slot_state *s, const struct bh_flow_view *v)
{
	const char *why = NULL, *sev = "notice";

	if (v->mode != BH_MODE_MONITOR && v->mode != BH_MODE_ENFORCE)
		return;
	if (v->verdict == BH_V_DENY) {
		why = "denied by policy";
		sev = "warning";
	} else if (v->verdict == BH_V_WOULD_DENY) {
		why = "outside policy (would deny)";
		sev = "warning";
	} else if (v->verdict == BH_V_SPOOF) {
		why = "spoofed source address";
		sev = "alert";
	} else if (v->verdict == BH_V_ALLOW) {
		const struct bh_baseline *bl = baseline_of(a, s, v);

		if (bl->nr && !bh_baseline_covers(bl, v)) {
			why = "not in baseline";
		} else if (new_process(a, s, v)) {
			why = "new process";
			sev = "warning";
		}
	}
	if (why)
		report_deviation(a, s, v, why, sev);
}

/* Is a flow outside the workload's baseline? Only the scan rules use it,
 * and only in monitor and enforce mode (learning explains everything
 * policy allows). An empty baseline covers nothing. */
static bool outside_baseline(struct agent *a, struct slot_state *s, const struct bh_flow *f,
			     const struct bh_flow_view *v)
{
	const struct bh_detect_opts *o = &a->cfg->detect;
	const struct bh_baseline *bl;

	if (!s || f->dir != BH_DIR_EGRESS || (!o->scan_ports && !o->scan_peers) ||
	    (f->mode != BH_MODE_MONITOR && f->mode != BH_MODE_ENFORCE))
		return false;
	bl = baseline_of(a, s, v);
	return !bh_baseline_covers_peer(bl, BH_DIR_EGRESS, f->proto, f->dport, v->peer_wl,
					bh_flow_peer_addr(f));
}

/* ------------------------------------------------------------ store */
static int flush_one(struct bh_flow *f, void *arg)
{
	struct agent *a = arg;
	struct bh_flow_view v;
	int err;

	bh_flowrec_decode_flow(a->fr, f, &v);
	err = bh_flowstore_put(a->fs, &v, &f->db_id);
	if (err)
		return err;
	a->flows_written++;
	if ((f->user_flags & F_LEARN) && v.wl) {
		struct bh_baseline_entry e;

		f->user_flags &= (__u8)~F_LEARN;
		if (bh_baseline_entry_from_flow(&a->bl_opts, &v, &e) ||
		    bh_baseline_learn(a->db, v.ns, v.name, &e))
			a->baseline_errors++;
		if (f->slot < BH_MAX_WORKLOADS && a->slots[f->slot])
			a->slots[f->slot]->bl_loaded_ms = 0;	/* cached copy is stale */
	}
	if ((f->user_flags & F_LEARN_PROC) && f->proc && v.wl) {
		f->user_flags &= (__u8)~F_LEARN_PROC;
		if (bh_baseline_learn_proc(a->db, v.ns, v.name, f->proc->exe, f->proc->comm,
					   v.last_ms))
			a->baseline_errors++;
		if (f->slot < BH_MAX_WORKLOADS && a->slots[f->slot])
			a->slots[f->slot]->bl_loaded_ms = 0;
	}
	return 0;
}

/* A batch of the store is cut after this long, so a record waits at most
 * about this long (plus the commit) behind the store before it is read. */
#define FLUSH_BATCH_MS 20
#define FLUSH_STEP 256	/* flows between two looks at the clock */

/* One transaction of at most max dirty flows, the longest dirty first,
 * and at most about FLUSH_BATCH_MS long. Returns the count stored, 0 when
 * the store was busy or failed. */
static uint32_t flush_batch(struct agent *a, uint32_t max)
{
	int64_t end = now_ms(CLOCK_MONOTONIC) + FLUSH_BATCH_MS;
	uint32_t done = 0;
	int n = 0, err;

	err = bh_flowstore_begin(a->fs);
	if (err) {
		a->store_errors++;	/* busy: the flows stay dirty, next tick */
		return 0;
	}
	while (done < max) {
		n = bh_flowagg_flush(a->agg, max - done < FLUSH_STEP ? max - done : FLUSH_STEP,
				     flush_one, a);
		if (n <= 0)
			break;
		done += (uint32_t)n;
		if (now_ms(CLOCK_MONOTONIC) >= end)
			break;
	}
	if (n < 0 || bh_flowstore_commit(a->fs)) {
		/* live flows keep their update pending (put re-inserts a
		 * row that was rolled back); ended ones of this batch are
		 * lost and counted */
		if (n < 0)
			bh_flowstore_rollback(a->fs);
		a->store_errors++;
		return 0;
	}
	return done;
}

static void read_records(struct agent *a);

/* Store the flows that changed, in transactions of at most flush_records
 * flows, and read the records waiting between two of them: storing
 * yields to reading, so a record that crosses a detection threshold
 * never waits behind the store's backlog (a busy node's storage lags
 * instead, and the live-flow bound sheds it). Flows that change during
 * the flush wait for the next one, which bounds this one. */
static void flush(struct agent *a)
{
	uint32_t left = bh_flowagg_dirty(a->agg);

	a->flush_due_ms = now_ms(CLOCK_MONOTONIC) + a->cfg->flush_ms;
	a->flush_wanted = false;
	if (!left)
		return;
	bh_flowrec_tick(a->fr);
	while (left) {
		uint32_t n = flush_batch(a, left < a->cfg->flush_records ? left : a->cfg->flush_records);

		if (!n)
			break;
		left = n < left ? left - n : 0;
		if (left)
			read_records(a);
	}
}

/* ------------------------------------------------- process behind flows */
static const struct bh_workload_info *proc_workload(__u32 slot, void *arg)
{
	struct agent *a = arg;

	return bh_flowrec_workload(a->fr, slot);
}

/* A flow got its process after its first record: learn the program, or
 * report it when the workload did not learn it (an allowed flow: a
 * denied one was reported when it started). */
static void proc_joined(struct bh_flow *f, void *arg)
{
	struct agent *a = arg;
	struct slot_state *s = f->slot < BH_MAX_WORKLOADS ? a->slots[f->slot] : NULL;
	struct bh_flow_view v;

	if (f->mode == BH_MODE_LEARN) {
		f->user_flags |= F_LEARN_PROC;
		return;
	}
	if (!s || f->verdict != BH_V_ALLOW)
		return;
	bh_flowrec_decode_flow(a->fr, f, &v);
	if (v.wl && new_process(a, s, &v))
		report_deviation(a, s, &v, "new process", "warning");
}

static void proc_poll(struct agent *a)
{
	if (a->pf)
		bh_procflow_poll(a->pf, a->agg, proc_workload, proc_joined, a);
}

/* ---------------------------------------------------------- records */
static int handle_record(void *arg, void *data, size_t size);
static int fail(struct agent *a, int err, const char *fmt, const char *arg);

/* ------------------------------------------------------ nftables logs */
static int nf_if_add(const struct bh_workload_info *w, void *arg)
{
	struct agent *a = arg;
	struct nflog_if *n = realloc(a->nf_if, (size_t)(a->nr_nf_if + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	a->nf_if = n;
	n[a->nr_nf_if++] = (struct nflog_if){ w->ifindex, w->slot, w->mode };
	return 0;
}

static void nf_if_read(struct agent *a, int64_t now)
{
	a->nf_if_ms = now;
	a->nr_nf_if = 0;
	if (bh_workload_foreach(a->ctx, nf_if_add, a))
		a->nr_nf_if = 0;
}

/* The workload behind interface ifindex: the store's list, read again
 * every 2 s (a changed mode shows) and on a miss, at most once a second
 * (a packet of an interface that is no workload must not cost a query
 * each). */
static const struct nflog_if *nf_if_find(struct agent *a, __u32 ifindex)
{
	int64_t now = now_ms(CLOCK_MONOTONIC);

	if (!a->nf_if_ms || now - a->nf_if_ms >= 2000)
		nf_if_read(a, now);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < a->nr_nf_if; i++)
			if (a->nf_if[i].ifindex == ifindex)
				return &a->nf_if[i];
		if (pass || now - a->nf_if_ms < 1000)
			break;
		nf_if_read(a, now);
	}
	return NULL;
}

/* A logged packet, as the ring buffer would have given it. */
static int nflog_record(struct bh_flow_record *r, void *arg)
{
	struct agent *a = arg;
	const struct nflog_if *w = nf_if_find(a, r->ifindex);

	if (!w) {
		a->bad_records++;
		return 0;
	}
	r->slot = w->slot;
	r->mode = (__u8)w->mode;
	return handle_record(a, r, sizeof(*r));
}

/* Read what the table logged; report (as a records-lost event) each
 * time the kernel found the socket full and dropped log messages. */
static void nflog_consume(struct agent *a)
{
	char detail[160];
	uint64_t lost;

	if (!a->nflog)
		return;
	if (bh_nflog_read(a->nflog, nflog_record, a) == -ENOMEM)
		agent_event(a, "", "", "agent", "warning", "out of memory reading the flow logs");
	lost = bh_nflog_lost(a->nflog);
	if (lost == a->nflog_lost_reported)
		return;
	snprintf(detail, sizeof(detail), "flow records lost (nftables log socket full) %" PRIu64
		 " times, %" PRIu64 " in total", lost - a->nflog_lost_reported, lost);
	agent_event(a, "", "", "records-lost", "warning", detail);
	a->nflog_lost_reported = lost;
}

/* Read the records waiting (ring buffer or flow logs); not again from
 * inside a read (the ring's callback may not consume the ring). */
static void read_records(struct agent *a)
{
	if (a->reading)
		return;
	a->reading = true;
	if (a->rb)
		ring_buffer__consume(a->rb);
	nflog_consume(a);
	a->reading = false;
}

/* The loop's read: then store, when enough flows changed. */
static void pump_records(struct agent *a)
{
	read_records(a);
	if (a->flush_wanted)
		flush(a);
}

/* With backend = nftables the table logs flows to the instance's
 * nfnetlink_log group (lib/core/nft_log.h) instead of a ring buffer. */
static int nflog_open(struct agent *a)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_NFLOG };
	enum bh_backend be;
	char group[16];
	int err = bh_config_backend(a->ctx, &be);

	if (err || be != BH_BACKEND_NFTABLES)
		return err;
	err = bh_nflog_open(bh_nft_sync_log_group(a->ctx), &a->nflog);
	if (err)
		return fail(a, err, "cannot read the nftables flow logs%s: %s",
			    err == -EBUSY ? " (another process has this instance's log group)" : "");
	epoll_ctl(a->epfd, EPOLL_CTL_ADD, bh_nflog_fd(a->nflog), &ev);
	snprintf(group, sizeof(group), "%u", bh_nft_sync_log_group(a->ctx));
	bh_alog(&a->log, BH_LOG_INFO, "nftables flow logs opened", "group", group, NULL);
	return 0;
}

static int handle_record(void *arg, void *data, size_t size)
{
	struct agent *a = arg;
	struct bh_flow_record rec;
	struct bh_flow_view v;
	struct bh_flow *f;
	struct slot_state *s;
	int flags;

	if (size < sizeof(rec)) {
		a->bad_records++;
		return 0;
	}
	memcpy(&rec, data, sizeof(rec));
	if (rec.slot >= BH_MAX_WORKLOADS || rec.verdict >= BH_V_MAX || rec.dir > BH_DIR_EGRESS) {
		a->bad_records++;
		return 0;
	}
	a->records++;
	flags = bh_flowagg_add(a->agg, &rec, &f);
	if (flags == -ENOSPC) {
		/* every flow that could leave is dirty: store one batch now
		 * (the ring's callback may not read the ring again) */
		bh_flowrec_tick(a->fr);
		flush_batch(a, a->cfg->flush_records);
		flags = bh_flowagg_add(a->agg, &rec, &f);
	}
	bh_flowrec_decode(a->fr, &rec, &v);
	if (flags >= 0 && a->pf && v.wl && (f->proto == 6 || f->proto == 17)) {
		/* socket records already written are read first (the
		 * deferred flows are retried on the timer, not per record):
		 * a short connection's end record may come before the timer,
		 * and an ended flow leaves memory at the next flush */
		if (!f->proc)
			bh_procflow_read(a->pf);
		if (!f->proc && bh_procflow_join(a->pf, f, v.wl)) {
			if (f->mode == BH_MODE_LEARN)
				f->user_flags |= F_LEARN_PROC;
		} else if (!f->proc && (flags & BH_AGG_NEW)) {
			bh_procflow_defer(a->pf, &rec);
		}
		v.proc = f->proc;
	}
	bh_export_flow(&a->x, &v);
	if (bh_flowstream_active(a->stream)) {
		json_object *o = bh_export_flow_json(&a->x, &v, false);

		if (o) {
			size_t n;
			const char *line = json_object_to_json_string_length(
				o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);

			bh_flowstream_send(a->stream, line, n);
			json_object_put(o);
		}
	}
	if (a->log.level >= BH_LOG_DEBUG) {
		char wl[2 * BH_NAME_MAX + 2], sp[8], dp[8], pb[8];

		snprintf(wl, sizeof(wl), "%s/%s", v.ns, v.name);
		snprintf(sp, sizeof(sp), "%d", v.sport);
		snprintf(dp, sizeof(dp), "%d", v.dport);
		bh_alog(&a->log, BH_LOG_DEBUG, "flow record", "workload", wl, "event", v.event,
			"dir", v.dir, "proto", bh_proto_str(v.proto, pb, sizeof(pb)), "src", v.src,
			"sport", sp, "dst", v.dst, "dport", dp, "verdict", v.verdict_name,
			"reason", v.reason, NULL);
	}
	if (flags < 0) {
		a->store_errors++;
		return 0;
	}
	if (!v.wl)
		return 0;	/* slot not (or no longer) registered */
	s = slot_state(a, rec.slot, v.ns, v.name);
	if (s && s->auto_quarantined)
		check_released(a, s, &rec, &v);
	if (flags & BH_AGG_NEW) {
		if (s)
			s->flows[f->dir == BH_DIR_EGRESS][f->verdict]++;
		if (f->mode == BH_MODE_LEARN)
			f->user_flags |= F_LEARN;
	}
	if ((flags & BH_AGG_NEW) || ((flags & BH_AGG_VERDICT) &&
				      (f->verdict == BH_V_DENY || f->verdict == BH_V_WOULD_DENY))) {
		struct bh_detect_flow df = {
			.slot = rec.slot, .ns = v.ns, .name = v.name,
			.ts_ms = rec.ts_ns / 1000000, .dir = f->dir, .verdict = f->verdict,
			.mode = f->mode, .family = f->family, .proto = f->proto,
			.sport = f->sport, .dport = f->dport,
		};
		struct bh_detect_result r[BH_DETECT_RULES];
		int n;

		memcpy(df.src, f->src, 16);
		memcpy(df.peer, bh_flow_peer_addr(f), 16);
		if (s)
			check_deviation(a, s, &v);
		if (bh_detect_enabled(&a->cfg->detect) && f->dir == BH_DIR_EGRESS &&
		    f->verdict != BH_V_QUARANTINE) {
			df.outside_baseline = outside_baseline(a, s, f, &v);
			n = bh_detect_flow(a->det, &df, r);
			if (n < 0)
				a->detect_errors++;
			for (int i = 0; i < n; i++)
				detect_decide(a, s, &v, &r[i], rec.ts_ns);
		}
	}
	if (bh_flowagg_dirty(a->agg) >= a->cfg->flush_records)
		a->flush_wanted = true;	/* after this read of the ring */
	return 0;
}

/* ------------------------------------------------------- kernel side */
static int pin_open(struct agent *a, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", bh_ctx_bpffs(a->ctx), name);
	return bpf_obj_get(path);
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static void ring_close(struct agent *a)
{
	ring_buffer__free(a->rb);
	a->rb = NULL;
	if (a->flows_fd >= 0)
		close(a->flows_fd);
	if (a->counters_fd >= 0)
		close(a->counters_fd);
	a->flows_fd = a->counters_fd = -1;
}

/* The pins appear when the first workload is attached; until then, and
 * after a reset replaced them, (re)open every second. The consumer
 * position lives in the ring buffer itself, so a restarted agent resumes
 * where the last one stopped. */
static void ring_check(struct agent *a)
{
	int fd = pin_open(a, BH_MAP_FLOWS);
	__u32 id;

	if (fd < 0) {
		if (a->rb) {
			ring_close(a);	/* unpinned (reset): wait for new pins */
			agent_event(a, "", "", "agent", "notice",
				    "flow ring buffer unpinned; waiting for it to reappear");
		}
		return;
	}
	id = map_id(fd);
	if (a->rb && id == a->flows_map_id) {
		close(fd);
		return;
	}
	ring_close(a);
	if (a->flows_map_id && id != a->flows_map_id) {
		char detail[128];

		/* a reset or a new instance replaced the ring: records of the
		 * old one not read yet are gone with it */
		snprintf(detail, sizeof(detail), "flow ring buffer re-pinned (map id %u -> %u)",
			 a->flows_map_id, id);
		agent_event(a, "", "", "agent", "notice", detail);
	}
	a->flows_fd = fd;
	a->flows_map_id = id;
	a->counters_fd = pin_open(a, BH_MAP_COUNTERS);
	a->rb = ring_buffer__new(fd, handle_record, a, NULL);
	if (!a->rb) {
		ring_close(a);
		return;
	}
	{
		char mid[16];

		snprintf(mid, sizeof(mid), "%u", id);
		bh_alog(&a->log, BH_LOG_INFO, "flow ring buffer opened", "bpffs",
			bh_ctx_bpffs(a->ctx), "map_id", mid, NULL);
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_RING };

		epoll_ctl(a->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(a->rb), &ev);
	}
	ring_buffer__consume(a->rb);
}

static int read_lost(struct agent *a, uint64_t *lost)
{
	__u64 sum;
	int err;

	if (a->counters_fd < 0)
		return -ENOENT;
	err = bh_percpu_sum(a->counters_fd, BH_C_RECORDS_LOST, 1, &sum);
	if (!err)
		*lost = sum;
	return err;
}

/* Every lost record is reported: counters in agent_state, a syslog
 * event and a timeline event. The last reported total is persisted, so
 * losses while the agent was down are reported at its next start. */
static void check_lost(struct agent *a)
{
	uint64_t lost = 0;
	char detail[256];

	if (read_lost(a, &lost))
		return;
	if (lost < a->lost_reported)
		a->lost_reported = 0;	/* counters recreated */
	if (lost == a->lost_reported)
		return;
	snprintf(detail, sizeof(detail), "%" PRIu64 " flow records lost (ring buffer full),"
		 " %" PRIu64 " in total", lost - a->lost_reported, lost);
	agent_event(a, "", "", "records-lost", "warning", detail);
	a->lost_reported = lost;
	bh_agent_state_set(a->db, "records_lost_reported", (int64_t)lost);
}

/* -------------------------------------------------------- periodic */
static void save_state(struct agent *a)
{
	struct bh_syslog_stats ss = { 0 };
	struct bh_flowagg_stats as;

	if (a->x.syslog)
		bh_syslog_get_stats(a->x.syslog, &ss);
	bh_flowagg_get_stats(a->agg, &as);
	bh_agent_state_set(a->db, "pid", getpid());
	bh_agent_state_set(a->db, "heartbeat_ms", now_ms(CLOCK_REALTIME));
	bh_agent_state_set(a->db, "records", (int64_t)a->records);
	bh_agent_state_set(a->db, "bad_records", (int64_t)a->bad_records);
	if (a->pf) {
		struct bh_procjoin_stats ps;

		bh_procflow_get_stats(a->pf, &ps);
		bh_agent_state_set(a->db, "proc_records", (int64_t)ps.records);
		bh_agent_state_set(a->db, "proc_joined", (int64_t)ps.joined);
		bh_agent_state_set(a->db, "proc_lost", (int64_t)ps.lost);
	}
	bh_agent_state_set(a->db, "flows_live", (int64_t)as.live);
	bh_agent_state_set(a->db, "flows_unstored", (int64_t)as.dirty);
	bh_agent_state_set(a->db, "flows_written", (int64_t)a->flows_written);
	bh_agent_state_set(a->db, "store_errors", (int64_t)a->store_errors);
	bh_agent_state_set(a->db, "deviations", (int64_t)a->deviations);
	bh_agent_state_set(a->db, "quarantines", (int64_t)a->quarantines);
	bh_agent_state_set(a->db, "would_quarantines", (int64_t)a->would_quarantines);
	bh_agent_state_set(a->db, "detect_alerts", (int64_t)a->detect_alerts);
	bh_agent_state_set(a->db, "detect_errors", (int64_t)a->detect_errors);
	bh_agent_state_set(a->db, "detect_decision_last_us", (int64_t)a->decision_last_us);
	bh_agent_state_set(a->db, "syslog_sent", (int64_t)ss.sent);
	bh_agent_state_set(a->db, "syslog_dropped", (int64_t)ss.dropped);
	bh_agent_state_set(a->db, "syslog_queued", (int64_t)ss.queued);
	bh_agent_state_set(a->db, "syslog_connected", ss.connected);
	bh_agent_state_set(a->db, "ring_open", a->rb != NULL);
}

/* Export trouble, logged when it changes (not once per record). */
static void log_outputs(struct agent *a)
{
	struct bh_syslog_stats ss;
	char n[24];

	if (a->x.syslog) {
		bh_syslog_get_stats(a->x.syslog, &ss);
		if (ss.connected != a->syslog_up)
			bh_alog(&a->log, ss.connected ? BH_LOG_INFO : BH_LOG_WARNING,
				ss.connected ? "syslog connected" : "syslog not connected",
				"target", a->cfg->syslog_target, "queued",
				(snprintf(n, sizeof(n), "%" PRIu64, ss.queued), n), NULL);
		a->syslog_up = ss.connected;
		if (ss.tls_failures != a->tls_failures) {
			snprintf(n, sizeof(n), "%" PRIu64, ss.tls_failures);
			bh_alog(&a->log, BH_LOG_ERROR, "syslog TLS handshake failed", "target",
				a->cfg->syslog_target, "error", bh_syslog_tls_error(a->x.syslog),
				"failures", n, NULL);
			a->tls_failures = ss.tls_failures;
		}
	}
	if (a->x.errors != a->jsonl_errors) {
		snprintf(n, sizeof(n), "%" PRIu64, a->x.errors);
		bh_alog(&a->log, BH_LOG_ERROR, "jsonl write failed", "file", a->cfg->jsonl,
			"errors", n, NULL);
		a->jsonl_errors = a->x.errors;
	}
	if (a->x.syslog_errors != a->syslog_errors) {
		snprintf(n, sizeof(n), "%" PRIu64, a->x.syslog_errors);
		bh_alog(&a->log, BH_LOG_ERROR, "syslog message not queued", "errors", n, NULL);
		a->syslog_errors = a->x.syslog_errors;
	}
}

static void syslog_poll(struct agent *a)
{
	if (a->x.syslog)
		bh_syslog_watch_pump(&a->sw, a->x.syslog);
}

#define SYSLOG_RETRY_MS 30000

/* Open the syslog target of the config (TLS when asked); why: the reason
 * in words when the target itself is refused. */
static int syslog_open(struct agent *a, char *why, size_t whylen)
{
	const struct bh_agent_config *c = a->cfg;
	struct bh_syslog_tls_opts to = {
		.ca_file = c->tls_ca[0] ? c->tls_ca : NULL,
		.cert_file = c->tls_cert[0] ? c->tls_cert : NULL,
		.key_file = c->tls_key[0] ? c->tls_key : NULL,
		.server_name = c->tls_server_name[0] ? c->tls_server_name : NULL,
	};
	/* CEF and JSON travel as the MSG of an RFC 5424 record */
	struct bh_syslog_opts so = {
		.target = c->syslog_target, .queue_max = c->syslog_queue,
		.format = c->syslog_format == BH_EXPORT_RFC3164 ? BH_SYSLOG_RFC3164
								: BH_SYSLOG_RFC5424,
		.hostname = a->node,
		.tls = c->syslog_tls || !strncmp(c->syslog_target, "tls://", 6) ? &to : NULL,
		.err = why, .errlen = whylen,
	};

	why[0] = '\0';
	return bh_syslog_open(&so, &a->x.syslog);
}

/* The syslog target did not resolve at start: try again (setup()). */
static void syslog_retry(struct agent *a, int64_t now)
{
	char why[512];

	if (syslog_open(a, why, sizeof(why))) {
		a->x.syslog = NULL;
		a->syslog_retry_ms = now + SYSLOG_RETRY_MS;
		return;
	}
	a->syslog_retry_ms = 0;
	agent_event(a, "", "", "agent", "notice", "syslog target resolves now; sending");
}

/* Pods attached at birth through clsact go to tcx (attach.h): a pod's
 * start does not wait for tcx's RCU grace periods, and it does not stay
 * on a hook any tc user on the node can take off. A failure is logged
 * once until it clears; the pod stays enforced on clsact meanwhile. */
static void promote_hooks(struct agent *a)
{
	char n[16];
	int moved, err = bh_workload_promote_hooks(a->ctx, &moved);

	if (moved) {
		snprintf(n, sizeof(n), "%d", moved);
		bh_alog(&a->log, BH_LOG_INFO, "pod hooks moved from clsact to tcx", "workloads", n,
			NULL);
	}
	if (err && !a->promote_failed)
		bh_alog(&a->log, BH_LOG_WARNING, "cannot move pod hooks from clsact to tcx",
			"error", bh_ctx_error(a->ctx), NULL);
	a->promote_failed = err != 0;
}

static void tick(struct agent *a)
{
	int64_t now = now_ms(CLOCK_MONOTONIC);
	uint64_t exp;

	if (read(a->timerfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return;
	/* Also drain on the timer, not only when the kernel wakes us: a
	 * producer that skips a wakeup can never leave records waiting. */
	pump_records(a);
	proc_poll(a);
	if (now >= a->flush_due_ms)
		flush(a);
	if (a->syslog_retry_ms && now >= a->syslog_retry_ms)
		syslog_retry(a, now);
	if (now - a->last_second_ms >= 1000) {
		struct timespec ts;

		a->last_second_ms = now;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		bh_flowagg_expire(a->agg, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
		if (!a->rb || now - a->last_pin_check_ms >= 5000) {
			a->last_pin_check_ms = now;
			ring_check(a);
		}
		check_lost(a);
		save_state(a);
		log_outputs(a);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;	/* capture children */
	}
	if (now - a->last_promote_ms >= 1000) {
		a->last_promote_ms = now;
		promote_hooks(a);
	}
	if (now - a->last_retention_ms >= 10000) {
		uint64_t deleted;

		a->last_retention_ms = now;
		bh_flowstore_retention(a->fs, now_ms(CLOCK_REALTIME), &deleted);
		bh_detect_marks_retention(a->db, now_ms(CLOCK_REALTIME) - (int64_t)a->cfg->max_age_ms,
					  &deleted);
	}
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			a->stop = true;
			break;
		case SIGHUP:
			if (a->x.jsonl)
				bh_jsonl_reopen(a->x.jsonl);
			break;
		case SIGCHLD:
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			break;
		}
	}
}

/* ---------------------------------------------------------- metrics */
static int collect(struct bh_metrics *m, void *arg)
{
	struct agent *a = arg;
	struct bh_syslog_stats ss;
	struct bh_flowagg_stats as;
	struct bh_metrics_agent ma = { 0 };
	struct bh_k8s_stats ks;
	int err;

	bh_flowagg_get_stats(a->agg, &as);
	ma.version = a->version;
	ma.start_time = (double)a->start_ms / 1000.0;
	ma.quarantines = a->quarantines;
	ma.flows_live = as.live;
	ma.flows_unstored = as.dirty;
	ma.records = a->records;
	ma.bad_records = a->bad_records;
	ma.jsonl = a->x.jsonl != NULL;
	ma.jsonl_errors = a->x.errors;
	ma.stream_clients = (uint64_t)bh_flowstream_clients(a->stream);
	ma.stream_lost = bh_flowstream_lost(a->stream);
	if (a->x.syslog) {
		bh_syslog_get_stats(a->x.syslog, &ss);
		ma.syslog = &ss;
	}
	if (a->k8s) {
		bh_k8s_get_stats(a->k8s, &ks);
		ma.k8s = &ks;
	}
	err = bh_metrics_collect_agent(m, &ma);
	if (err)
		return err;
	for (int i = 0; i < BH_MAX_WORKLOADS; i++) {
		struct slot_state *s = a->slots[i];
		char ns[sizeof(s->id)], *slash;

		if (!s)
			continue;
		memcpy(ns, s->id, sizeof(ns));
		slash = strchr(ns, '/');
		if (!slash)
			continue;
		*slash = '\0';
		for (int d = 0; d < 2; d++)
			for (int v = 0; v < BH_V_MAX; v++)
				if (s->flows[d][v])
					bh_metrics_add_flows(m, ns, slash + 1,
							     d ? BH_DIR_EGRESS : BH_DIR_INGRESS,
							     (enum bh_verdict)v, s->flows[d][v]);
		for (int r = BH_DETECT_DENIED; r < BH_DETECT_RULES; r++) {
			for (int o = BH_DETECT_QUARANTINE; o < BH_DETECT_OUTCOMES; o++) {
				struct bh_metric_label l[4] = {
					{ "namespace", ns }, { "workload", slash + 1 },
					{ "rule", bh_detect_rule_name(r) },
					{ "action", bh_detect_outcome_name(o) },
				};

				if (!s->decisions[r][o])
					continue;
				err = bh_metrics_add(m, "bulkhead_detections_total",
						     BH_METRIC_COUNTER, "decisions of the automatic"
						     " quarantine rules, by rule and what was done",
						     l, 4, (double)s->decisions[r][o]);
				if (err)
					return err;
			}
		}
	}
	err = bh_metrics_add(m, "bulkhead_would_quarantines_total", BH_METRIC_COUNTER,
			     "quarantines the rules decided but did not apply (learn/monitor"
			     " mode, quarantine.dry_run)", NULL, 0, (double)a->would_quarantines);
	if (!err)
		err = bh_metrics_add(m, "bulkhead_detect_alerts_total", BH_METRIC_COUNTER,
				     "decisions of rules whose action is alert", NULL, 0,
				     (double)a->detect_alerts);
	if (err)
		return err;
	return bh_metrics_collect_kernel(a->ctx, m);
}

/* GET /healthz, for liveness: the instance's programs are loaded and
 * pinned (the agent loaded them at start; a `bulkhead reset` or a lost
 * bpffs takes them away) and the agent reads their flow ring. An API
 * server out of reach is not part of it: restarting the agent would not
 * bring it back. */
static int health(void *arg, char *msg, size_t len)
{
	struct agent *a = arg;
	const char *const pins[] = { BH_PIN_PROG_TC_EGRESS, BH_PIN_PROG_TC_INGRESS,
				     BH_PIN_PROG_XDP };

	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		int fd = pin_open(a, pins[i]);

		if (fd < 0) {
			snprintf(msg, len, "not ready: program %s is not pinned", pins[i]);
			return 1;
		}
		close(fd);
	}
	if (!a->rb) {
		snprintf(msg, len, "not ready: the flow ring buffer is not open");
		return 1;
	}
	snprintf(msg, len, "ok: programs loaded, flow ring read");
	return 0;
}

/* GET /readyz, for readiness: /healthz, and with a Kubernetes API
 * configured, its watches listed once and applied (until then a pod's
 * labels and policies may not be in force yet). */
static int ready(void *arg, char *msg, size_t len)
{
	struct agent *a = arg;

	if (health(arg, msg, len))
		return 1;
	if (!a->cfg->k8s)
		return 0;
	if (!bh_k8s_synced(a->k8s)) {
		snprintf(msg, len, "not ready: the Kubernetes API watches have not synced");
		return 1;
	}
	snprintf(msg, len, "ok: programs loaded, flow ring read, API watches synced");
	return 0;
}

/* ------------------------------------------------------------ setup */
static int fail(struct agent *a, int err, const char *fmt, const char *arg)
{
	snprintf(a->msg, sizeof(a->msg), fmt, arg, strerror(err < 0 ? -err : err));
	return err < 0 ? err : -err;
}

/* The API watch's log lines (its threads serialise the calls). */
static void k8s_log_line(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "bulkhead agent: %s\n", msg);
}

/* The socket-side program: flows name their process where it loads; the
 * agent runs without it where it does not (an event says why). */
static void proc_open(struct agent *a)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_PROC };
	enum bh_backend be;
	char detail[256];
	int err;

	/* backend = nftables is for hosts where BPF cannot be used: the
	 * agent loads none either */
	if (!bh_config_backend(a->ctx, &be) && be == BH_BACKEND_NFTABLES) {
		bh_alog(&a->log, BH_LOG_INFO, "socket-side program not loaded", "reason",
			"backend = nftables loads no BPF; flows do not name their process", NULL);
		return;
	}
	err = bh_procflow_open(&a->pf);

	if (err) {
		snprintf(detail, sizeof(detail), "socket-side program not loaded (%s): flows do not"
			 " name their process", strerror(-err));
		agent_event(a, "", "", "agent", "warning", detail);
		a->pf = NULL;
		return;
	}
	epoll_ctl(a->epfd, EPOLL_CTL_ADD, bh_procflow_fd(a->pf), &ev);
	bh_alog(&a->log, BH_LOG_INFO, "socket-side program loaded", "tcp", "yes", "udp",
		bh_procflow_udp(a->pf) ? "yes" : "no (kernel lacks sock_send_length)", NULL);
}

static int setup(struct agent *a)
{
	const struct bh_agent_config *c = a->cfg;
	struct epoll_event ev;
	sigset_t mask;
	int err;

	a->db = bh_ctx_db(a->ctx);
	if (!a->db)
		return fail(a, -ENOENT, "no state store%s: %s", "");
	{
		struct bh_flowstore_opts fo = { .max_flows = c->max_flows,
						.max_age_ms = c->max_age_ms };

		err = bh_flowstore_open(a->db, &fo, &a->fs);
		if (err)
			return fail(a, err, "cannot prepare the flows table%s: %s", "");
		err = bh_baseline_schema(a->db);
		if (err)
			return fail(a, err, "cannot prepare the baselines table%s: %s", "");
		err = bh_detect_marks_schema(a->db);
		if (err)
			return fail(a, err, "cannot prepare the flow_marks table%s: %s", "");
	}
	{
		struct bh_flowagg_opts ao = { .max_flows = c->max_live_flows,
					      .idle_ns = c->idle_timeout_ms * 1000000ULL };

		err = bh_flowagg_new(&ao, &a->agg);
		if (err)
			return fail(a, err, "flow table%s: %s", "");
	}
	{
		struct bh_flowrec_opts ro = { 0 };

		bh_flowrec_ctx_resolver(a->ctx, &ro.resolver);
		err = bh_flowrec_new(&ro, &a->fr);
		if (err)
			return fail(a, err, "decoder%s: %s", "");
	}
	err = bh_detect_new(&c->detect, &a->det);
	if (err)
		return fail(a, err, "quarantine rules%s: %s", "");
	a->bl_opts.cidr_prefix_v4 = c->cidr_prefix_v4;
	a->bl_opts.cidr_prefix_v6 = c->cidr_prefix_v6;
	if (c->node[0])
		snprintf(a->node, sizeof(a->node), "%s", c->node);
	else if (gethostname(a->node, sizeof(a->node) - 1))
		snprintf(a->node, sizeof(a->node), "unknown");
	a->x.syslog_flows = c->syslog_flows;
	a->x.format = c->syslog_format;
	a->x.enterprise_id = c->enterprise_id;
	a->x.node = a->node;
	a->x.version = a->version;
	if (c->syslog_target[0]) {
		char why[512];

		err = syslog_open(a, why, sizeof(why));
		/* A relay whose name does not resolve (yet: its Service not
		 * created, DNS not up on a booting node) must not stop the
		 * agent: flows still go to the store, and the name is tried
		 * again every SYSLOG_RETRY_MS. A malformed target stays an
		 * error of the configuration. */
		if (err == -ENXIO || err == -EAGAIN) {
			a->syslog_retry_ms = now_ms(CLOCK_MONOTONIC) + SYSLOG_RETRY_MS;
			fprintf(stderr, "bulkhead agent: syslog target '%s' does not resolve;"
				" running without syslog, retrying every %d s\n",
				c->syslog_target, SYSLOG_RETRY_MS / 1000);
		} else if (err && why[0]) {
			snprintf(a->msg, sizeof(a->msg), "syslog target '%s': %s", c->syslog_target,
				 why);
			return -EINVAL;
		} else if (err) {
			return fail(a, err, "syslog target '%s': %s", c->syslog_target);
		}
	}
	if (c->jsonl[0]) {
		struct bh_jsonl_opts jo = { .path = c->jsonl };

		err = bh_jsonl_open(&jo, &a->x.jsonl);
		if (err)
			return fail(a, err, "jsonl file '%s': %s", c->jsonl);
	}

	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0)
		return fail(a, -errno, "epoll%s: %s", "");
	bh_syslog_watch_init(&a->sw, a->epfd, TAG_SYSLOG);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->sigfd < 0)
		return fail(a, -errno, "signalfd%s: %s", "");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = TAG_SIGNAL };
	epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->sigfd, &ev);

	a->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->timerfd < 0)
		return fail(a, -errno, "timerfd%s: %s", "");
	{
		long period_ms = c->flush_ms < 100 ? c->flush_ms : 100;
		struct itimerspec its = {
			.it_interval = { period_ms / 1000, (period_ms % 1000) * 1000000 },
			.it_value = { period_ms / 1000, (period_ms % 1000) * 1000000 },
		};

		timerfd_settime(a->timerfd, 0, &its, NULL);
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = TAG_TIMER };
	epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->timerfd, &ev);

	{
		char path[PATH_MAX];
		struct bh_flowstream_opts fo = { .path = path };

		snprintf(path, sizeof(path), "%s/%s", bh_ctx_state_dir(a->ctx), BH_FLOWSTREAM_SOCK);
		err = bh_flowstream_open(&fo, &a->stream);
		if (err == -EADDRINUSE)
			return fail(a, err, "another agent serves %s: %s", path);
		if (err) {
			/* flows --follow then waits for an agent; nothing else needs it */
			bh_alog(&a->log, BH_LOG_WARNING, "no flow stream socket", "path", path,
				"error", strerror(-err), NULL);
		} else {
			ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = TAG_STREAM };
			epoll_ctl(a->epfd, EPOLL_CTL_ADD, bh_flowstream_fd(a->stream), &ev);
		}
	}
	if (c->metrics_listen[0]) {
		struct bh_metrics_server_opts mo = { .listen = c->metrics_listen,
						     .collect = collect, .health = health,
						     .ready = ready,
						     .arg = a };

		err = bh_metrics_server_open(&mo, &a->metrics);
		if (err)
			return fail(a, err, "metrics listen '%s': %s", c->metrics_listen);
		ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = TAG_METRICS };
		epoll_ctl(a->epfd, EPOLL_CTL_ADD, bh_metrics_server_fd(a->metrics), &ev);
	}
	{
		int64_t v;

		if (!bh_agent_state_get(a->db, "records_lost_reported", &v) && v > 0)
			a->lost_reported = (uint64_t)v;
	}
	if (c->docker) {
		struct bh_docker_watch_opts dopts = {
			.socket = c->docker_socket, .ns = c->docker_namespace,
			.mode = c->docker_mode, .log = docker_log, .log_arg = a,
		};

		err = bh_docker_watch_open(a->ctx, &dopts, &a->docker, a->msg, sizeof(a->msg));
		if (err)
			return err;
		ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = TAG_DOCKER };
		epoll_ctl(a->epfd, EPOLL_CTL_ADD, bh_docker_watch_fd(a->docker), &ev);
	}
	if (c->k8s) {
		/* after the signal mask: its threads inherit it */
		struct bh_k8s_opts ko = { .kubeconfig = c->k8s_kubeconfig, .node = c->k8s_node,
					  .chunk_size = c->k8s_chunk_size,
					  .bpffs = bh_ctx_bpffs(a->ctx),
					  .state_dir = bh_ctx_state_dir(a->ctx),
					  .log = k8s_log_line };

		err = bh_k8s_start(&ko, &a->k8s, a->msg, sizeof(a->msg));
		if (err)
			return err == -ENOMEM ? err : -EINVAL;
	}
	/* conntrack shares: entries gone since the last recount no longer
	 * count against their workload (lib/bpf/share.h), every 5 s */
	err = bh_recount_start(bh_ctx_bpffs(a->ctx), bh_ctx_state_dir(a->ctx), 5000, &a->recount,
			       a->msg, sizeof(a->msg));
	if (err)
		return err;
	proc_open(a);
	bh_agent_state_set(a->db, "started_ms", now_ms(CLOCK_REALTIME));
	a->start_ms = now_ms(CLOCK_REALTIME);
	{
		char pid[16], eid[16];

		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		snprintf(eid, sizeof(eid), "%u", c->enterprise_id);
		bh_alog(&a->log, BH_LOG_INFO, "agent started", "version", a->version, "pid", pid,
			"node", a->node, "state_dir", bh_ctx_state_dir(a->ctx), "bpffs",
			bh_ctx_bpffs(a->ctx), "log_level", bh_log_level_name(c->log_level), NULL);
		bh_alog(&a->log, BH_LOG_INFO, "config", "syslog",
			c->syslog_target[0] ? c->syslog_target : "off", "syslog_format",
			bh_export_format_name(c->syslog_format), "enterprise_id", eid, "jsonl",
			c->jsonl[0] ? c->jsonl : "off", "metrics",
			c->metrics_listen[0] ? c->metrics_listen : "off", NULL);
	}
	return 0;
}

static void teardown(struct agent *a)
{
	sigset_t mask;

	bh_k8s_stop(a->k8s);
	bh_recount_stop(a->recount);
	if (a->agg && a->fs)
		flush(a);	/* a clean stop loses nothing */
	if (a->db && a->agg)
		save_state(a);
	if (a->x.syslog) {
		/* give the collector what it takes now, without waiting */
		bh_syslog_watch_pump(&a->sw, a->x.syslog);
		bh_syslog_watch_fini(&a->sw, a->x.syslog);
		bh_syslog_close(a->x.syslog);
	}
	bh_docker_watch_close(a->docker);
	bh_procflow_close(a->pf);
	bh_nflog_close(a->nflog);
	free(a->nf_if);
	bh_jsonl_close(a->x.jsonl);
	bh_metrics_server_close(a->metrics);
	bh_flowstream_close(a->stream);
	ring_close(a);
	for (int i = 0; i < BH_MAX_WORKLOADS; i++) {
		if (a->slots[i]) {
			bh_baseline_free(&a->slots[i]->bl);
			free(a->slots[i]);
		}
	}
	bh_detect_free(a->det);
	bh_flowrec_free(a->fr);
	bh_flowagg_free(a->agg);
	bh_flowstore_close(a->fs);
	if (a->timerfd >= 0)
		close(a->timerfd);
	if (a->sigfd >= 0)
		close(a->sigfd);
	if (a->epfd >= 0)
		close(a->epfd);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
}

int bh_agent_run(struct bh_ctx *ctx, const struct bh_agent_config *cfg,
		 const struct bh_agent_hooks *hooks, char *msg, size_t len)
{
	struct agent *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return -ENOMEM;
	a->ctx = ctx;
	a->cfg = cfg;
	a->epfd = a->sigfd = a->timerfd = a->flows_fd = a->counters_fd = -1;
	a->sw.fd = -1;
	a->version = hooks && hooks->version ? hooks->version : "unknown";
	a->log = (struct bh_agent_log){ .level = cfg->log_level,
					.write = hooks ? hooks->log : NULL,
					.arg = hooks ? hooks->log_arg : NULL };
	err = setup(a);
	if (!err)
		err = nflog_open(a);
	if (!err) {
		ring_check(a);
		check_lost(a);
	}
	while (!err && !a->stop) {
		struct epoll_event evs[8];
		/* the timerfd ticks at least every 100 ms; a syslog reconnect
		 * that is due sooner wakes us itself */
		int n = epoll_wait(a->epfd, evs, 8,
				   a->x.syslog ? bh_syslog_watch_timeout(a->x.syslog, 1000) : 1000);

		if (n < 0 && errno != EINTR) {
			err = fail(a, -errno, "epoll_wait%s: %s", "");
			break;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case TAG_RING:
			case TAG_NFLOG:
				pump_records(a);
				break;
			case TAG_SIGNAL:
				on_signal(a);
				break;
			case TAG_TIMER:
				tick(a);
				break;
			case TAG_METRICS:
				bh_metrics_handle(a->metrics);
				break;
			case TAG_STREAM:
				bh_flowstream_handle(a->stream);
				break;
			case TAG_DOCKER:
				bh_docker_watch_handle(a->docker);
				break;
			case TAG_PROC:
				proc_poll(a);
				break;
			default:
				break;	/* syslog: pumped below */
			}
		}
		syslog_poll(a);
	}
	{
		char r[24], w[24];

		snprintf(r, sizeof(r), "%" PRIu64, a->records);
		snprintf(w, sizeof(w), "%" PRIu64, a->flows_written);
		/* a failure at start is the command's one message (stderr);
		 * one that ends a running agent is logged as well */
		if (err && a->start_ms)
			bh_alog(&a->log, BH_LOG_ERROR, "agent failed", "error", a->msg, NULL);
		else if (!err)
			bh_alog(&a->log, BH_LOG_INFO, "agent stopped", "records", r,
				"flows_written", w, NULL);
	}
	teardown(a);
	snprintf(msg, len, "%s", a->msg);
	free(a);
	return err;
}
