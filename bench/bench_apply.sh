#!/usr/bin/env bash
# Control-plane figures: a 10k-rule policy applied (maps built and
# swapped) and quarantine (command start -> slot on the deny-all map),
# through the library (bench/bench_apply.c, clock around the call) and
# through the CLI (wall time of the whole process). One workload on a veth
# in a netns of its own; everything is removed on exit.
# Prints human lines, then one JSON line.
# Env: BUILD, APPLY_RUNS (5), Q_RUNS (20), CLI_RUNS (5), NRULES (10000).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
APPLY_RUNS=${APPLY_RUNS:-5}
Q_RUNS=${Q_RUNS:-20}
CLI_RUNS=${CLI_RUNS:-5}
NRULES=${NRULES:-10000}
BH=$BUILD/bulkhead
BA=$BUILD/bench/bench_apply
for b in "$BH" "$BA"; do
	[ -x "$b" ] || { echo "bench_apply: $b is not built" >&2; exit 2; }
done

BENCH_NAME=apply BENCH_IP=10.233.0.2
source bench/one_workload.sh

# Two 10k-rule policies (one /32 peer and one TCP port each) that differ in
# every port, so each apply rebuilds and swaps the workload's map.
gen() {	# PORT_BASE
	python3 bench/gen_rules.py "$NRULES" 10.234 "$1" 1000
}
gen 2000 >"$WORK/a.yaml"
gen 4000 >"$WORK/b.yaml"

out=$("$BA" "$HOSTIF" "$IP" "$WORK/a.yaml" "$WORK/b.yaml" "$APPLY_RUNS" "$Q_RUNS")
rc=$?
echo "$out" | sed '$d'
lib_json=$(echo "$out" | tail -n 1)
[ $rc -eq 0 ] || echo "bench_apply: library run exited $rc (a check failed)" >&2

# CLI wall time: the whole process (exec, open store, lock, compile, swap).
cli_apply=() cli_q=()
for ((i = 0; i < CLI_RUNS; i++)); do
	f=$WORK/a.yaml; [ $((i % 2)) -eq 0 ] && f=$WORK/b.yaml
	t0=$(date +%s%N)
	"$BH" policy apply -f "$f" >/dev/null || echo "bench_apply: CLI apply failed" >&2
	t1=$(date +%s%N)
	cli_apply+=($(( (t1 - t0) / 1000 )))
done
for ((i = 0; i < CLI_RUNS * 2; i++)); do
	t0=$(date +%s%N)
	"$BH" quarantine bhbench/srv --reason bench >/dev/null || echo "bench_apply: CLI quarantine failed" >&2
	t1=$(date +%s%N)
	cli_q+=($(( (t1 - t0) / 1000 )))
	"$BH" release bhbench/srv >/dev/null
done
python3 - "$lib_json" "${cli_apply[*]}" "${cli_q[*]}" <<'EOF'
import json, statistics, sys
try:
    out = json.loads(sys.argv[1])
except ValueError:
    out = {}
a = [int(x) for x in sys.argv[2].split()]
q = [int(x) for x in sys.argv[3].split()]
if a:
    out["apply_10k_rules_cli_ms"] = round(statistics.median(a) / 1e3, 1)
if q:
    out["quarantine_cli_ms"] = round(statistics.median(q) / 1e3, 2)
print("  CLI wall time: policy apply %s ms (median of %d), quarantine %s ms (median of %d)" % (
    out.get("apply_10k_rules_cli_ms"), len(a), out.get("quarantine_cli_ms"), len(q)))
print(json.dumps(out))
EOF
