#!/usr/bin/env bash
# The Kubernetes watch at scale, against the stand-in API server
# (tests/lib/k8s_apiserver.py): 5,000 pods (remote: node-2) in 50
# namespaces, 500 NetworkPolicies, one local workload on a veth pair.
#   k8s_event_to_map_p50_ms / _p99_ms   a remote pod's label change in the
#       API until its address has the new identity in the pinned ipcache
#       (bench/k8s_event.py; 40 changes)
#   k8s_api_requests_per_node_per_min   the agent's API requests in 30 s of
#       steady state, scaled to a minute (watches only: no list)
#   k8s_initial_sync_s                  agent start until all 500 policies
#       are applied
# Env: BUILD, K8S_PODS (5000), K8S_POLICIES (500), K8S_CHANGES (40).
set -u
cd "$(dirname "$0")/.."
source tests/lib/k8s_standin.sh
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
BH=$BUILD/bulkhead
PODS=${K8S_PODS:-5000} POLICIES=${K8S_POLICIES:-500} CHANGES=${K8S_CHANGES:-40}
PORT=21410 CPORT=21411
TAG=$$
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-bench-k8s-$TAG BULKHEAD_STATE_DIR=/tmp/bh-bench-k8s-$TAG
mkdir -p "$BULKHEAD_STATE_DIR"
D=$BULKHEAD_STATE_DIR
SERVER= AGENT=
cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
	$BH reset --yes >/dev/null 2>&1 || $BH reset >/dev/null 2>&1
	ip link del bkk$TAG 2>/dev/null
	rm -rf "$BULKHEAD_BPFFS" "$D"
}
trap cleanup EXIT
standin_serve 127.0.0.1:$PORT 127.0.0.1:$CPORT "$D/api.log" --bookmark-seconds 60 || exit 2
SERVER=$STANDIN_PID
t0=$SECONDS
python3 bench/k8s_event.py populate http://127.0.0.1:$CPORT "$PODS" "$POLICIES" || exit 2
python3 tests/lib/k8s_apiserver.py ctl http://127.0.0.1:$CPORT put \
	'{"resource": "pods", "object": {"metadata": {"name": "w0", "namespace": "ns0", "labels": {"app": "app0"}}, "spec": {"nodeName": "node-1"}, "status": {"podIPs": [{"ip": "10.106.250.1"}]}}}' >/dev/null
echo "populated $PODS pods and $POLICIES NetworkPolicies in $((SECONDS - t0)) s"
ip link add bkk$TAG type veth peer name bkl$TAG
ip link set bkk$TAG up
ip link set bkl$TAG up
$BH attach bkk$TAG --workload ns0/w0 --ip 10.106.250.1 >/dev/null || exit 2
standin_kubeconfig "http://127.0.0.1:$PORT" t >"$D/kubeconfig"
printf 'kubernetes: {kubeconfig: %s, node: node-1}\n' "$D/kubeconfig" >"$D/agent.yaml"
t1=$(date +%s.%N)
$BH agent --config "$D/agent.yaml" >"$D/agent.log" 2>&1 &
AGENT=$!
for i in $(seq 3000); do
	n=$($BH --json policy list 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)
	[ "${n:-0}" -ge "$POLICIES" ] && break
	sleep 0.2
done
t2=$(date +%s.%N)
sync_s=$(python3 -c "print(round($t2 - $t1, 1))")
echo "agent start until $n policies applied: $sync_s s"
if [ -n "${PERF_OUT:-}" ]; then	# profile the agent while it follows the changes
	perf record -F 999 -g -p "$AGENT" -o "$PERF_OUT" >/dev/null 2>&1 &
	PERF=$!
fi
m=$(python3 bench/k8s_event.py measure http://127.0.0.1:$CPORT "$BULKHEAD_BPFFS/bh_ipcache_v1" "$CHANGES")
echo "$m" | grep -v '^{'
[ -n "${PERF_OUT:-}" ] && kill -INT "$PERF" && wait "$PERF"
s=$(python3 bench/k8s_event.py steady http://127.0.0.1:$CPORT 30)
echo "$s" | grep -v '^{'
grep -c "not enforced\|cannot" "$D/agent.log" | sed 's/^/agent log errors: /'
python3 - "$(echo "$m" | grep '^{')" "$(echo "$s" | grep '^{')" "$sync_s" <<'PY'
import json, sys
d = {}
for a in sys.argv[1:3]:
    if a:
        d.update(json.loads(a))
d["k8s_initial_sync_s"] = float(sys.argv[3])
print(json.dumps(d, sort_keys=True))
PY
