#!/usr/bin/env bash
# Services: what judging egress to a ClusterIP after kube-proxy's DNAT
# costs, against judging it on the ClusterIP (the host veth alone, as
# before). One node network namespace with kube-proxy's iptables DNAT for
# one ClusterIP (10.113.200.10:5432) to one backend pod; a client pod; both
# attached, no policy (every flow passes either way, so only the path
# differs). Alternating rounds, hook on (bench/svc_hook.c: the post-NAT
# program attached, the frontend set) and off (no frontend, the program
# detached):
#   svc_crr_on_over_off      TCP connect/request/response rate through the
#                            ClusterIP (bench/crr.c), on / off
#   svc_stream_on_over_off   one TCP stream's throughput through the
#                            ClusterIP (iperf3), on / off
# The agent runs (it recounts the conntrack shares). Env: BUILD, ROUNDS (3),
# SECS (5), SVC_HOOK (auto; tc: the hook's tc form, service_hook = tc).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
BH=$BUILD/bulkhead HOOK=$BUILD/bench/svc_hook CRR=$BUILD/bench/crr
ROUNDS=${ROUNDS:-3} SECS=${SECS:-5}
TAG=$(printf '%03x' $(($$ % 4096)))
T=bs$TAG N=bs$TAG-node
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-bench-svc-$TAG BULKHEAD_STATE_DIR=/tmp/bh-bench-svc-$TAG
mkdir -p "$BULKHEAD_STATE_DIR"
[ -n "${SVC_HOOK:-}" ] && echo "service_hook = $SVC_HOOK" >"$BULKHEAD_STATE_DIR/config"
onn() { nsenter --net=/run/netns/$N "$@"; }
AGENT=
cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	onn $BH reset --yes >/dev/null 2>&1
	for p in $N $T-cl $T-be; do
		ip netns pids $p 2>/dev/null | xargs -r kill 2>/dev/null
		sleep 0.1
		ip netns del $p 2>/dev/null
	done
	rm -rf "$BULKHEAD_BPFFS" "$BULKHEAD_STATE_DIR"
}
trap cleanup EXIT
ip netns add $N
ip -n $N link set lo up
ip netns exec $N sysctl -qw net.ipv4.ip_forward=1
pod() {	# NAME N
	local p=$T-$1 h=$T$1
	ip netns add $p
	ip -n $N link add $h type veth peer name eth0 netns $p
	ip -n $p addr add 10.113.1.$2/32 dev eth0
	ip -n $p link set lo up
	ip -n $p link set eth0 up
	ip -n $p route add 10.113.1.1 dev eth0
	ip -n $p route add default via 10.113.1.1 dev eth0
	ip -n $N link set $h up
	ip -n $N addr add 10.113.1.1/32 dev $h 2>/dev/null
	ip -n $N route replace 10.113.1.$2/32 dev $h
	ip netns exec $N sysctl -qw net.ipv4.conf.$h.proxy_arp=1
	onn $BH attach $h --workload x/$1 --ip 10.113.1.$2 >/dev/null || exit 2
}
pod cl 10
pod be 21
IPT="onn iptables -w -t nat"
$IPT -N KUBE-SERVICES
$IPT -N KUBE-SVC-BENCH5432AAAAAA
$IPT -N KUBE-SEP-BENCH5432AAAAAA
$IPT -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
$IPT -A KUBE-SERVICES -d 10.113.200.10/32 -p tcp -m tcp --dport 5432 -j KUBE-SVC-BENCH5432AAAAAA
$IPT -A KUBE-SVC-BENCH5432AAAAAA -j KUBE-SEP-BENCH5432AAAAAA
$IPT -A KUBE-SEP-BENCH5432AAAAAA -p tcp -m tcp -j DNAT --to-destination 10.113.1.21:5432
ip netns exec $T-be $CRR -s 5432 -t 600 >/dev/null 2>&1 &
ip netns exec $T-be iperf3 -s -p 5433 -D >/dev/null 2>&1
$IPT -A KUBE-SERVICES -d 10.113.200.10/32 -p tcp -m tcp --dport 5433 -j DNAT --to-destination 10.113.1.21:5433
# the agent recounts each workload's conntrack share (lib/bpf/share.h)
# every 5 s; without it, 65,536 connections would use the share up
onn $BH agent >"$BULKHEAD_STATE_DIR/agent.log" 2>&1 &
AGENT=$!
sleep 1

crr() { ip netns exec $T-cl $CRR -c 10.113.200.10 5432 -t "$SECS" | tail -1; }
stream() { ip netns exec $T-cl iperf3 -c 10.113.200.10 -p 5433 -t "$SECS" -J |
	jq '.end.sum_received.bits_per_second / 1e9'; }
declare -a c_on c_off s_on s_off
for r in $(seq "$ROUNDS"); do
	onn $HOOK off || exit 2
	c_off+=("$(crr)")
	onn $HOOK on 10.113.200.10 5432 tcp || exit 2
	c_on+=("$(crr)")
	onn $HOOK off || exit 2
	s_off+=("$(stream)")
	onn $HOOK on 10.113.200.10 5433 tcp || exit 2
	s_on+=("$(stream)")
done
med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "crr per s, hook off: ${c_off[*]}"
echo "crr per s, hook on:  ${c_on[*]}"
echo "stream Gbit/s, hook off: ${s_off[*]}"
echo "stream Gbit/s, hook on:  ${s_on[*]}"
echo "svc_crr_on_over_off $(awk -v a="$(med "${c_on[@]}")" -v b="$(med "${c_off[@]}")" 'BEGIN { printf "%.3f", a / b }')"
echo "svc_stream_on_over_off $(awk -v a="$(med "${s_on[@]}")" -v b="$(med "${s_off[@]}")" 'BEGIN { printf "%.3f", a / b }')"
printf '{"svc_crr_on_over_off": %s, "svc_stream_on_over_off": %s}\n' \
	"$(awk -v a="$(med "${c_on[@]}")" -v b="$(med "${c_off[@]}")" 'BEGIN { printf "%.3f", a / b }')" \
	"$(awk -v a="$(med "${s_on[@]}")" -v b="$(med "${s_off[@]}")" 'BEGIN { printf "%.3f", a / b }')"
