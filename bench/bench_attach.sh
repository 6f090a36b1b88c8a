#!/usr/bin/env bash
# Attach (CNI ADD) time against the number of workloads already on the node:
# for each N in $SIZES, register N-1 workloads on veths, then time attaching
# one more R times (attach + detach of the Nth). Prints medians and one JSON
# line. The incremental sync should make the time flat in N.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
BH=$BUILD/bulkhead
SIZES=${SIZES:-"1 50"}
R=${R:-10}
TAG=$(printf '%03x' $(( (RANDOM + $$) % 4096 )))
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-benchatt-$TAG BULKHEAD_STATE_DIR=/tmp/bh-benchatt-$TAG
MAXN=0
for n in $SIZES; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done

cleanup() {
	"$BH" reset --yes >/dev/null 2>&1
	for i in $(seq 0 "$MAXN"); do ip link del "ba$TAG$i" 2>/dev/null; done
	rm -rf "$BULKHEAD_STATE_DIR" "$BULKHEAD_BPFFS"
}
trap cleanup EXIT

run_size() { # N: prints the median attach time in ms
	local n=$1 i app t0 t1 times=()
	cleanup
	mkdir -p "$BULKHEAD_STATE_DIR"
	cat >"$BULKHEAD_STATE_DIR/p.yaml" <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{protocol: TCP, port: 5432}]
    - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.9.0.0/16]}}]
      ports: [{protocol: UDP, port: 53}]
Y
	"$BH" policy apply -f "$BULKHEAD_STATE_DIR/p.yaml" >/dev/null || return 1
	for i in $(seq 0 "$((n - 1))"); do
		ip link add "ba$TAG$i" type veth peer name "bp$TAG$i" || return 1
		ip link set "ba$TAG$i" up
	done
	for i in $(seq 1 "$((n - 1))"); do
		app=web; [ $((i % 2)) = 0 ] && app=db
		"$BH" attach "ba$TAG$i" --workload "shop/w$i" --ip "10.1.$((i / 250)).$((i % 250 + 1))" \
			--label app=$app >/dev/null || return 1
	done
	for i in $(seq 1 "$R"); do
		t0=$(date +%s%N)
		"$BH" attach "ba${TAG}0" --workload shop/new --ip 10.2.0.1 --label app=db >/dev/null || return 1
		t1=$(date +%s%N)
		times+=($(( (t1 - t0) / 1000 )))
		"$BH" detach "ba${TAG}0" >/dev/null || return 1
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f\n", a[int((NR+1)/2)]/1000}'
}

json="{"
for n in $SIZES; do
	ms=$(run_size "$n") || { echo "bench_attach: N=$n failed" >&2; exit 1; }
	echo "  attach with $((n - 1)) other workloads on the node: median ${ms} ms over $R attaches"
	json="$json\"attach_ms_with_${n}_workloads\": $ms, "
done
echo "${json%, }}"
