#!/usr/bin/env bash
# Pods closed at birth (docs/kubernetes.md): N pods are attached by
# bulkhead-cni while the API does not have them yet (unknown_pod: deny,
# the default), so each starts closed. Then, one at a time, the pod is put
# into the stand-in API server (tests/lib/k8s_apiserver.py) and probed
# from the host until a TCP connection to it succeeds:
#   k8s_birth_open_p50_ms / _p99_ms / _max_ms   pod in the API until it is
#       open (watch event, agent reconcile, one policy sync, first SYN
#       through), 5 ms probe period
# Env: BUILD, BIRTH_PODS (20).
set -u
cd "$(dirname "$0")/.."
source tests/lib/k8s_standin.sh
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
BH=$BUILD/bulkhead BH_CNI=$BUILD/bulkhead-cni
N=${BIRTH_PODS:-20}
PORT=22210 CPORT=22211
TAG=$$
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-bench-birth-$TAG BULKHEAD_STATE_DIR=/tmp/bh-bench-birth-$TAG
D=$BULKHEAD_STATE_DIR
mkdir -p "$D"
SERVER= AGENT= PIDS=()
cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	$BH reset --yes >/dev/null 2>&1 || $BH reset >/dev/null 2>&1
	for i in $(seq "$N"); do
		ip link del bb$TAG-$i 2>/dev/null
		ip netns del bb$TAG-$i 2>/dev/null
		ip route del 10.112.3.$((10 + i))/32 2>/dev/null
	done
	rm -rf "$BULKHEAD_BPFFS" "$D"
}
trap cleanup EXIT
standin_serve 127.0.0.1:$PORT 127.0.0.1:$CPORT "$D/api.log" --bookmark-seconds 60 || exit 2
SERVER=$STANDIN_PID
standin_kubeconfig "http://127.0.0.1:$PORT" t >"$D/kubeconfig"
printf 'kubernetes: {kubeconfig: %s, node: node-1}\n' "$D/kubeconfig" >"$D/agent.yaml"
$BH agent --config "$D/agent.yaml" >"$D/agent.log" 2>&1 &
AGENT=$!
for i in $(seq 100); do [ -S "$D/agent.sock" ] && break; sleep 0.1; done

ARGS=()
for i in $(seq "$N"); do
	ns=bb$TAG-$i h=bb$TAG-$i ip=10.112.3.$((10 + i))
	ip netns add "$ns"
	ip link add "$h" type veth peer name eth0 netns "$ns"
	ip -n "$ns" addr add $ip/32 dev eth0
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip link set "$h" up
	ip addr add 10.112.3.1/32 dev "$h" 2>/dev/null
	ip route replace $ip/32 dev "$h"
	ip -n "$ns" route add 10.112.3.1/32 dev eth0
	ip -n "$ns" route add default via 10.112.3.1 dev eth0
	sysctl -qw "net.ipv4.conf.$h.proxy_arp=1"
	ip netns exec "$ns" python3 tests/lib/traffic.py serve tcp 80 300 >/dev/null 2>&1 &
	PIDS+=($!)
	printf '%s' "{\"cniVersion\": \"1.0.0\", \"name\": \"birth\", \"type\": \"bulkhead-cni\",
	  \"stateDir\": \"$D\", \"bpffs\": \"$BULKHEAD_BPFFS\",
	  \"prevResult\": {\"cniVersion\": \"1.0.0\",
	    \"interfaces\": [{\"name\": \"$h\"}, {\"name\": \"eth0\", \"sandbox\": \"/run/netns/$ns\"}],
	    \"ips\": [{\"address\": \"$ip/32\", \"interface\": 1}]}}" |
	env CNI_COMMAND=ADD CNI_CONTAINERID="cid-$i" CNI_NETNS="/run/netns/$ns" CNI_IFNAME=eth0 \
		CNI_PATH=/nonexistent CNI_ARGS="K8S_POD_NAMESPACE=x;K8S_POD_NAME=p$i" \
		"$BH_CNI" >/dev/null || { echo "CNI ADD of x/p$i failed"; exit 1; }
	ARGS+=("$ip|{\"metadata\": {\"name\": \"p$i\", \"namespace\": \"x\", \"labels\": {\"app\": \"p\"}},
	  \"spec\": {\"nodeName\": \"node-1\"}, \"status\": {\"phase\": \"Running\", \"podIPs\": [{\"ip\": \"$ip\"}]}}")
done
pending=$($BH --json workload list | python3 -c 'import json,sys; print(sum(w["pending"] for w in json.load(sys.stdin)))')
echo "$pending of $N pods attached pending (closed)"
[ "$pending" = "$N" ] || exit 1
for i in $(seq 50); do   # each server listening (the probe measures the policy, not a late server)
	n=0
	for j in $(seq "$N"); do ip netns exec bb$TAG-$j ss -ltn 2>/dev/null | grep -q ':80 ' && n=$((n + 1)); done
	[ "$n" = "$N" ] && break
	sleep 0.1
done
python3 bench/birth_probe.py http://127.0.0.1:$CPORT "${ARGS[@]}"
