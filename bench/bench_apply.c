// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Control-plane latency through the real library paths:
 *   apply   bh_policy_apply_file() of a big policy (parse, store, compile,
 *           build the new inner maps, swap), alternating two files that
 *           differ so that every apply changes the maps; the slot's inner
 *           map id is checked to have changed (maps swapped).
 *   quarantine  from the call of bh_workload_quarantine() to the moment the
 *           workload's slot points at the deny-all map, as seen by a second
 *           thread polling the outer map (what the data path sees); the
 *           call's own duration (store, events, bookkeeping after the swap)
 *           is reported apart. Then release (not timed).
 * The workload is attached to IFNAME (a veth the caller made). Runs in the
 * instance of BULKHEAD_BPFFS / BULKHEAD_STATE_DIR.
 *
 *   bench_apply IFNAME IP POLICY_A POLICY_B [APPLY_RUNS [QUARANTINE_RUNS]]
 * Prints human lines, then one JSON line.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bulkhead.h"
#include "maps.h"
#include "median.h"
#include "sync.h"

#define WL_NS	"bhbench"
#define WL_NAME	"srv"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Polls the slot and notes when the deny-all map becomes visible. */
struct watch {
	struct bh_ctx *ctx;
	__u32 slot, deny_id;
	atomic_int armed, stop;
	_Atomic double seen_us;
};

static void *watcher(void *arg)
{
	struct watch *w = arg;

	while (!atomic_load(&w->stop)) {
		if (!atomic_load(&w->armed)) {
			usleep(50);
			continue;
		}
		if (bh_maps_slot_map_id(w->ctx, w->slot) == w->deny_id) {
			atomic_store(&w->seen_us, now_us());
			atomic_store(&w->armed, 0);
		}
	}
	return NULL;
}

static int fail(struct bh_ctx *ctx, const char *what, int err)
{
	const char *m = ctx ? bh_ctx_error(ctx) : "";

	fprintf(stderr, "bench_apply: %s: %s\n", what, *m ? m : strerror(-err));
	return 2;
}

int main(int argc, char **argv)
{
	struct bh_attach_opts ao = { 0 };
	struct bh_workload_info wi;
	struct bh_ctx *ctx = NULL;
	int apply_runs = argc > 5 ? atoi(argv[5]) : 5;
	int q_runs = argc > 6 ? atoi(argv[6]) : 20;
	double *ta = NULL, *tq = NULL, *tc = NULL, first_ms = 0;
	struct watch w = { 0 };
	pthread_t th;
	bool th_started = false;
	int err, rc = 2, swapped = 0, q_ok = 0;
	__u32 deny_id;

	if (argc < 5 || apply_runs < 1 || q_runs < 1) {
		fprintf(stderr, "usage: bench_apply IFNAME IP POLICY_A POLICY_B [APPLY_RUNS [Q_RUNS]]\n");
		return 1;
	}
	ta = calloc(apply_runs, sizeof(*ta));
	tq = calloc(q_runs, sizeof(*tq));
	tc = calloc(q_runs, sizeof(*tc));
	if (!ta || !tq || !tc)
		goto out;
	err = bh_ctx_open(NULL, &ctx);
	if (err) {
		rc = fail(ctx, "open", err);
		goto out;
	}
	ao.ifname = argv[1];
	ao.ns = WL_NS;
	ao.name = WL_NAME;
	ao.nr_ips = 1;
	ao.hook = BH_HOOK_TC;
	ao.mode = BH_MODE_ENFORCE;
	ao.nr_labels = 1;
	if (bh_ip_parse(argv[2], &ao.ips[0]) || bh_label_parse("app=srv", &ao.labels[0])) {
		fprintf(stderr, "bench_apply: bad address %s\n", argv[2]);
		rc = 1;
		goto out;
	}
	err = bh_workload_attach(ctx, &ao);
	if (err) {
		rc = fail(ctx, "attach", err);
		goto out;
	}
	err = bh_workload_get(ctx, WL_NS, WL_NAME, &wi);
	if (err) {
		rc = fail(ctx, "workload get", err);
		goto out;
	}

	/* the first apply also fills the ipcache from empty: reported apart */
	for (int i = -1; i < apply_runs; i++) {
		struct bh_apply_result res = { 0 };
		__u32 before = bh_maps_slot_map_id(ctx, wi.slot), after;
		double t0 = now_us(), t;

		err = bh_policy_apply_file(ctx, argv[3 + (i + 2) % 2], &res);
		t = now_us() - t0;
		bh_apply_result_free(&res);
		if (err) {
			rc = fail(ctx, "policy apply", err);
			goto out;
		}
		after = bh_maps_slot_map_id(ctx, wi.slot);
		if (i < 0) {
			first_ms = t / 1e3;
			continue;
		}
		ta[i] = t / 1e3;
		swapped += after && after != before;
	}

	deny_id = bh_maps_map_id(bh_map_fd(ctx, BH_PIN_DENY_ALL));
	w.ctx = ctx;
	w.slot = wi.slot;
	w.deny_id = deny_id;
	if (pthread_create(&th, NULL, watcher, &w)) {
		rc = fail(ctx, "thread", -EAGAIN);
		goto out;
	}
	th_started = true;
	for (int i = 0; i < q_runs; i++) {
		double t0;

		atomic_store(&w.seen_us, 0.0);
		atomic_store(&w.armed, 1);
		t0 = now_us();
		err = bh_workload_quarantine(ctx, WL_NS, WL_NAME, "bench");
		tc[i] = now_us() - t0;
		if (err) {
			rc = fail(ctx, "quarantine", err);
			goto out;
		}
		/* the watcher may not have run since the swap: give it 100 ms */
		for (int k = 0; k < 2000 && atomic_load(&w.armed); k++)
			usleep(50);
		atomic_store(&w.armed, 0);
		tq[i] = atomic_load(&w.seen_us) > 0 ? atomic_load(&w.seen_us) - t0 : tc[i];
		q_ok += deny_id && bh_maps_slot_map_id(ctx, wi.slot) == deny_id;
		err = bh_workload_release(ctx, WL_NS, WL_NAME);
		if (err) {
			rc = fail(ctx, "release", err);
			goto out;
		}
	}
	double am = bh_median(ta, apply_runs), qm = bh_median(tq, q_runs), qc = bh_median(tc, q_runs);

	printf("control plane (library calls, %s):\n", argv[3]);
	printf("  policy apply: first %.1f ms, then median %.1f ms over %d applies "
	       "(maps swapped in %d of %d)\n", first_ms, am, apply_runs, swapped, apply_runs);
	printf("  quarantine: call start -> slot on the deny-all map: median %.0f us; whole call "
	       "%.0f us (%d calls; swapped after %d of %d)\n", qm, qc, q_runs, q_ok, q_runs);
	printf("{\"apply_10k_rules_ms\": %.1f, \"apply_10k_rules_first_ms\": %.1f, "
	       "\"apply_maps_swapped\": %d, \"quarantine_swap_us\": %.0f, "
	       "\"quarantine_call_us\": %.0f, \"quarantine_checked\": %d}\n",
	       am, first_ms, swapped == apply_runs, qm, qc, q_ok == q_runs);
	rc = swapped == apply_runs && q_ok == q_runs ? 0 : 3;
out:
	if (th_started) {
		atomic_store(&w.stop, 1);
		pthread_join(th, NULL);
	}
	free(ta);
	free(tq);
	free(tc);
	bh_ctx_close(ctx);
	return rc;
}
