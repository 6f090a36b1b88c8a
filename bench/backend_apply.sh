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

TAG=$(printf '%03x' $(( (RANDOM + $$) % 4096 )))
NS=bhb-$TAG HOSTIF=hbb$TAG IP=${BENCH_IP:-10.116.250.2}
WORK=$(mktemp -d /tmp/bh-bench-backend.XXXXXX)
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-bench-b-$TAG
export BULKHEAD_STATE_DIR=$WORK/state
cleanup() {
	"$BH" reset --yes >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	ip link del "$HOSTIF" 2>/dev/null
	rm -rf "$BULKHEAD_BPFFS" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip netns add "$NS" || exit 2
ip link add "$HOSTIF" type veth peer name eth0 netns "$NS" || exit 2
ip -n "$NS" addr add "$IP/32" dev eth0
ip -n "$NS" link set eth0 up
ip link set "$HOSTIF" up

gen() {	# N PORT_BASE
	python3 - "$1" "$2" <<'PY'
import sys
n, base = int(sys.argv[1]), int(sys.argv[2])
print("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
      "metadata: {name: big, namespace: bhbench}\n"
      "spec:\n  podSelector: {matchLabels: {app: srv}}\n  policyTypes: [Ingress]\n  ingress:")
for i in range(n):
    print(f"  - from: [{{ipBlock: {{cidr: 10.116.{100 + i // 250}.{i % 250 + 1}/32}}}}]\n"
          f"    ports: [{{protocol: TCP, port: {base + i % 1000}}}]")
PY
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
