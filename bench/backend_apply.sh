#!/usr/bin/env bash
# Control plane of both backends in one run: CLI wall time of `policy
# apply` (a policy of N rules, one /32 peer and one TCP port each, two
# variants applied in turn so each apply changes every rule) and of
# `quarantine`, for backend = bpf and backend = nftables, at N = 10, 1000
# and 10000. One workload on a veth in a netns of its own, no traffic;
# everything is removed on exit. Prints one line per (backend, N) and one
# JSON line.
# Env: BUILD, RUNS (5 applies, 2x RUNS quarantines), SIZES ("10 1000 10000"),
# BENCH_IP (the workload's address, only inside its netns; 10.116.250.2),
# BACKENDS ("bpf nftables").
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
RUNS=${RUNS:-5}
SIZES=${SIZES:-10 1000 10000}
BACKENDS=${BACKENDS:-bpf nftables}
BH=$BUILD/bulkhead
[ -x "$BH" ] || { echo "backend_apply: $BH is not built" >&2; exit 2; }

BENCH_NAME=backend BENCH_IP=${BENCH_IP:-10.116.250.2}
source bench/one_workload.sh

gen() {	# N PORT_BASE
	python3 bench/gen_rules.py "$1" 10.116 "$2" 1000
}
ms() { echo $(( ($2 - $1) / 1000 )); }	# microseconds between two date +%s%N
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

json="{"
for be in $BACKENDS; do
	for n in $SIZES; do
		gen "$n" 2000 >"$WORK/a.yaml"
		gen "$n" 4000 >"$WORK/b.yaml"
		"$BH" reset --yes >/dev/null 2>&1
		mkdir -p "$BULKHEAD_STATE_DIR"
		echo "backend = $be" >"$BULKHEAD_STATE_DIR/config"
		"$BH" attach "$HOSTIF" --workload bhbench/srv --ip "$IP" --label app=srv >/dev/null ||
			{ echo "backend_apply: attach failed ($be)" >&2; exit 1; }
		"$BH" policy apply -f "$WORK/a.yaml" >/dev/null || exit 1	# the first, not timed
		a=() q=()
		for ((i = 0; i < RUNS; i++)); do
			f=$WORK/b.yaml; [ $((i % 2)) -eq 1 ] && f=$WORK/a.yaml
			t0=$(date +%s%N); "$BH" policy apply -f "$f" >/dev/null || exit 1; t1=$(date +%s%N)
			a+=($(ms $t0 $t1))
		done
		for ((i = 0; i < 2 * RUNS; i++)); do
			t0=$(date +%s%N); "$BH" quarantine bhbench/srv --reason bench >/dev/null || exit 1
			t1=$(date +%s%N)
			q+=($(ms $t0 $t1))
			"$BH" release bhbench/srv >/dev/null || exit 1
		done
		am=$(median "${a[@]}") qm=$(median "${q[@]}")
		am=$(awk "BEGIN {printf \"%.1f\", $am / 1000}") qm=$(awk "BEGIN {printf \"%.2f\", $qm / 1000}")
		printf '%-9s %6d rules: policy apply %8s ms, quarantine %7s ms (CLI wall, medians of %d/%d)\n' \
			"$be" "$n" "$am" "$qm" "$RUNS" $((2 * RUNS))
		json+="\"apply_${n}_${be}_ms\": $am, \"quarantine_${n}_${be}_ms\": $qm, "
	done
done
echo "${json%, }}"
