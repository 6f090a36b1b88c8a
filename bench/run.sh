#!/usr/bin/env bash
# `make bench`: every benchmark in one run. Each part prints its own
# human-readable lines and ends with a JSON line; this script shows the
# lines, checks the targets, and ends with ONE line holding one
# JSON object of every figure. Figures, not assertions: nothing here fails
# because a figure is slow; a part that cannot run is reported and skipped.
#
#   bench_prog      per-packet cost, BPF_PROG_TEST_RUN (bench/bench_prog.c)
#   bench_helpers   what a hash lookup, an array lookup and a global call
#                   cost here (bench/bpf/helpers.bpf.c)
#   bench_where     where a new flow's and a denied packet's time goes
#                   (perf sampling beside bench_prog --profile)
#   veth_path       TCP 1/4 streams, 64-byte UDP, conn/s on real veths,
#                   no filter / empty TC program (the floor) / bulkhead tc /
#                   bulkhead xdp / nftables sets; with WHERE=1 also where
#                   each UDP packet's time goes
#   bench_apply     10k-rule apply and quarantine latency
#   bench_ingest    agent ingest rate and memory (if built), detection off/on
#   bench_detect    automatic quarantine: threshold-crossing flow record to
#                   quarantine map update, idle and under new-flow load
#   bench_cni       CNI ADD time (if present)
#   bench_k8s       Kubernetes watch: pod label change in the API until the
#                   ipcache holds it (5,000 pods, 500 policies), API requests
#                   in steady state
#   bench_birth     pods closed at birth: a pending pod put into the API until
#                   it is open
#   bench_svc       Services: conn/s and a stream through a ClusterIP, the
#                   post-NAT hook on against off
# Env: BUILD (build), QUICK=1 (small counts: a smoke run of a minute or two),
#      and each part's own knobs (see the part).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
case $BUILD in /*) ABS_BUILD=$BUILD ;; *) ABS_BUILD=$PWD/$BUILD ;; esac
LOGS=$ABS_BUILD/bench-logs
mkdir -p "$LOGS"
: >"$LOGS/figures.jsonl"
[ "$(id -u)" = 0 ] || { echo "bench: needs root (BPF, netns, veth, nftables)" >&2; exit 2; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

if [ -n "${QUICK:-}" ]; then
	PROG_ARGS=(--runs 3 --repeat 1000000 --new-flows 20000 --quick)
	export ROUNDS=${ROUNDS:-1} TCP_SECS=${TCP_SECS:-2} UDP_SECS=${UDP_SECS:-2} CRR_SECS=${CRR_SECS:-2}
	export APPLY_RUNS=${APPLY_RUNS:-2} Q_RUNS=${Q_RUNS:-5} CLI_RUNS=${CLI_RUNS:-2}
	export DETECT_TRIALS=${DETECT_TRIALS:-20}
	export WHERE_FLOWS=${WHERE_FLOWS:-50000}
else
	PROG_ARGS=(--runs 5 --repeat 1000000 --new-flows 200000)
fi

START=$SECONDS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bulkhead benchmarks on $(nproc) cores, kernel $(uname -r), load average $LOAD_START"
echo "(other processes share this machine: absolute figures move by tens of percent between"
echo " runs; ratios to peers measured in the same run are what to read)"

# part NAME TIMEOUT CMD...: run, show its lines, keep its JSON line
part() {
	local name=$1 limit=$2 log=$LOGS/$1.log rc json
	shift 2
	echo
	echo "== $name"
	local t0=$SECONDS
	timeout --kill-after=20 "$limit" "$@" >"$log" 2>&1
	rc=$?
	grep -v '^{' "$log" | sed 's/^/  /'
	json=$(grep '^{' "$log" | tail -n 1)
	if [ -n "$json" ]; then
		echo "$json" >>"$LOGS/figures.jsonl"
	fi
	echo "  ($name: exit $rc, $((SECONDS - t0)) s${json:+, figures kept}; log $log)"
}

part bench_prog 420 "$ABS_BUILD/bench/bench_prog" "${PROG_ARGS[@]}"
part bench_helpers 120 bash bench/bench_helpers.sh
part bench_where 300 bash bench/bench_where.sh
part veth_path 600 bash bench/veth_path.sh
part bench_apply 240 bash bench/bench_apply.sh
part bench_attach 240 bash bench/bench_attach.sh
if [ -x "$ABS_BUILD/bench/bench_ingest" ]; then
	part bench_ingest 240 "$ABS_BUILD/bench/bench_ingest"
else
	echo; echo "== bench_ingest: not built ($ABS_BUILD/bench/bench_ingest), skipped"
fi
part bench_detect 600 bash bench/bench_detect.sh
part bench_sockproc 120 "$ABS_BUILD/bench/bench_sockproc" 300 201
if [ -f bench/bench_cni.sh ]; then
	part bench_cni 300 bash bench/bench_cni.sh
else
	echo; echo "== bench_cni: bench/bench_cni.sh absent, skipped"
fi

part bench_deliver 300 bash bench/bench_deliver.sh
part bench_k8s 420 bash bench/bench_k8s.sh
part bench_birth 180 bash bench/bench_birth.sh
part bench_svc 300 bash bench/bench_svc.sh

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
echo
python3 - "$LOGS/figures.jsonl" "$((SECONDS - START))" "$LOAD_START" "$LOAD_END" <<'EOF'
import json, sys
figs = {}
for line in open(sys.argv[1]):
    try:
        obj = json.loads(line)
    except ValueError:
        continue
    if isinstance(obj, dict):
        figs.update(obj)
figs["bench_seconds"] = int(sys.argv[2])
figs["loadavg_start"] = sys.argv[3]
figs["loadavg_end"] = sys.argv[4]
# the targets: (key, comparison, bound)
targets = [
    ("established_over_xdp_filter", "<=", 0.6),
    ("scaling_established_1m_over_10", "<=", 1.2),
    ("scaling_new_flow_1m_over_10", "<=", 2.0),
    ("tcp1_over_nofilter", ">=", 0.9),
    ("tcp1_over_nft_sets", ">=", 1.0),
    ("detect_decision_p99_ms", "<=", 100),
    ("ingest_detect_on_over_off", ">=", 0.9),
    ("image_bytes", "<=", 30000000),
    ("cni_add_added_ms", "<=", 20),
    ("upgrade_denied_passed", "<=", 0),
    ("k8s_event_to_map_p99_ms", "<=", 100),
    ("scaling_established_100k_identities_over_10", "<=", 1.2),
    ("victim_ct_survival", ">=", 1.0),      # issue 8: fair shares
    # issue 8: the new-flow path
    ("udp64_over_nofilter", ">=", 0.85),
    ("udp64_over_nft_sets", ">=", 1.2),
    ("crr_over_nofilter", ">=", 0.95),
    ("xdp_new_flow_over_empty", "<=", 40),
]
if isinstance(figs.get("xdp_new_flow_ns"), (int, float)) and figs.get("xdp_empty_ns"):
    figs["xdp_new_flow_over_empty"] = round(figs["xdp_new_flow_ns"] / figs["xdp_empty_ns"], 2)
print("== targets")
for key, op, bound in targets:
    v = figs.get(key)
    if not isinstance(v, (int, float)):
        state = "NOT MEASURED"
        shown = "-"
    else:
        ok = v <= bound if op == "<=" else v >= bound
        state = "met" if ok else "MISSED"
        shown = "%.3f" % v
    print("  %-32s %8s  (target %s %s)  %s" % (key, shown, op, bound, state))
for key in ("xdp_empty_ns", "tc_empty_ns", "xdp_established_ns", "tc_established_ns",
            "xdp_new_flow_ns", "xdp_denied_ns", "apply_10k_rules_ms", "quarantine_swap_us",
            "denied_flood_pps_ratio"):
    if key not in figs:
        print("  %-32s missing" % key)
print(json.dumps(figs, sort_keys=True))
EOF
