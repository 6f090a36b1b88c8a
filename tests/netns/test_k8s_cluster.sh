#!/usr/bin/env bash
# Two "nodes", each with its own bulkhead instance (own BULKHEAD_BPFFS and
# BULKHEAD_STATE_DIR) and its own agent watching the same stand-in API
# server (tests/lib/k8s_apiserver.py, a test double). node-1 is the root
# network namespace, node-2 a network namespace routed to it; pods are
# network namespaces behind veths on their node. The upstream model:
# namespaces x, y, z, pods a, b, c in each (label pod=a|b|c), TCP and UDP
# ports 80 and 81, spread over both nodes:
#     node-1: x/a x/c y/b z/c        node-2: x/b y/a y/c z/a z/b
# Checks that a policy selecting peers by labels behaves the same whether
# the peer is local or remote, on both ingress and egress, over IPv4 and
# IPv6; that a remote pod's label change is followed; that a deleted
# pod's address loses its identity at once; and that a named port
# (`port: web`, each pod's spec.containers[].ports[], 80 on some pods and
# 81 on others) resolves per pod, against the selected pod on ingress and
# against each peer pod, local or remote, on egress.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/k8s_standin.sh"
bh_test_init k8sc
T=kc$BH_TAG
D=$BULKHEAD_STATE_DIR
API=$BH_ROOT/tests/lib/k8s_apiserver.py
SRV=$BH_ROOT/tests/lib/pod_server.py
PORT=21403 CPORT=21404
N2=$T-n2
# node-2's instance: bpffs pins under the same bpffs, its own directories
S2=$D/node2
B2=$BULKHEAD_BPFFS-n2
mkdir -p "$S2"
bh_on_exit "BULKHEAD_BPFFS=$B2 BULKHEAD_STATE_DIR=$S2 $BH reset >/dev/null 2>&1; rm -rf '$B2'"
on2() { nsenter --net=/run/netns/$N2 env BULKHEAD_BPFFS="$B2" BULKHEAD_STATE_DIR="$S2" "$@"; }
command -v nsenter >/dev/null || bh_skip "nsenter not installed"

# ---------------------------------------------------------------- nodes
ip netns add $N2
bh_on_exit "bh_del_netns $N2"
ip link add "$T"n type veth peer name uplink netns $N2
bh_on_exit "ip link del ${T}n"
ip addr add 10.105.0.1/30 dev "$T"n
ip -6 addr add fd0a:105::1/64 dev "$T"n nodad
ip link set "$T"n up
ip -n $N2 addr add 10.105.0.2/30 dev uplink
ip -n $N2 -6 addr add fd0a:105::2/64 dev uplink nodad
ip -n $N2 link set uplink up
ip -n $N2 link set lo up
ip route replace 10.105.2.0/24 via 10.105.0.2
ip -6 route replace fd0a:105:2::/64 via fd0a:105::2
bh_on_exit "ip route del 10.105.2.0/24; ip -6 route del fd0a:105:2::/64"
ip -n $N2 route add default via 10.105.0.1
ip -n $N2 -6 route add default via fd0a:105::1
sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip netns exec $N2 sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
if ! bh_wait 50 ip netns exec $N2 ping -c1 -W1 10.105.0.1; then
	fail "node-2 reaches node-1 over its uplink"
	# what the routing looked like: an address or route of the host in
	# the way shows here
	ip -4 addr; ip route; ip route get 10.105.0.2; ip -n $N2 route
	exit 1
fi
ok "node-2 reaches node-1 over its uplink"

# pod NODE NS NAME N: a pod netns with 10.105.NODE.N and fd0a:105:NODE::N,
# its host veth on that node, its servers on 80 and 81 (TCP and UDP).
pod() {
	local node=$1 ns=$2 name=$3 n=$4 p=$T-$2$3 h=${T}$2$3
	local v4=10.105.$node.$n v6=fd0a:105:$node::$n gw=10.105.$node.1 run=()
	[ "$node" = 2 ] && run=(ip netns exec $N2)
	ip netns add "$p"
	bh_on_exit "bh_del_netns $p"
	"${run[@]}" ip link add "$h" type veth peer name eth0 netns "$p"
	ip -n "$p" addr add $v4/32 dev eth0
	ip -n "$p" -6 addr add $v6/128 dev eth0 nodad
	ip -n "$p" link set lo up
	ip -n "$p" link set eth0 up
	ip -n "$p" route add $gw dev eth0
	ip -n "$p" route add default via $gw dev eth0
	ip -n "$p" -6 route add fe80::1 dev eth0
	ip -n "$p" -6 route add default via fe80::1 dev eth0
	"${run[@]}" ip link set "$h" up
	"${run[@]}" ip addr add $gw/32 dev "$h" 2>/dev/null
	"${run[@]}" ip -6 addr add fe80::1/64 dev "$h" nodad 2>/dev/null
	"${run[@]}" ip route replace $v4/32 dev "$h"
	"${run[@]}" ip -6 route replace $v6/128 dev "$h"
	"${run[@]}" sysctl -qw "net.ipv4.conf.$h.proxy_arp=1" "net.ipv6.conf.$h.proxy_ndp=1"
	"${run[@]}" ip -6 neigh add proxy $v6 dev "$h" 2>/dev/null
	ip netns exec "$p" python3 "$SRV" 300 80 81 >/dev/null 2>&1 &
	bh_on_exit "kill $!"
	if [ "$node" = 2 ]; then
		on2 $BH attach "$h" --workload $ns/$name --ip $v4 --ip $v6 >/dev/null
	else
		$BH attach "$h" --workload $ns/$name --ip $v4 --ip $v6 >/dev/null
	fi || fail "attach $ns/$name on node-$node"
	put pods "{\"metadata\": {\"name\": \"$name\", \"namespace\": \"$ns\", \"labels\": {\"pod\": \"$name\"}},
		\"spec\": {\"nodeName\": \"node-$node\", \"containers\": [{\"name\": \"srv\",
			\"ports\": [{\"name\": \"web\", \"containerPort\": $(web_of $ns/$name)}, {\"containerPort\": 8080}]}]},
		\"status\": {\"phase\": \"Running\", \"podIP\": \"$v4\", \"podIPs\": [{\"ip\": \"$v4\"}, {\"ip\": \"$v6\"}]}}"
}
# the container port named "web": 81 on x/c and y/b, 80 elsewhere
web_of() { case $1 in x/c|y/b) echo 81;; *) echo 80;; esac; }

ctl() { python3 "$API" ctl "http://127.0.0.1:$CPORT" "$@"; }
put() { ctl put "{\"resource\": \"$1\", \"object\": $2}" >/dev/null; }

python3 "$API" serve --listen 10.105.0.1:$PORT --control 127.0.0.1:$CPORT --token t0k \
	--bookmark-seconds 0.5 >"$D/api.log" 2>&1 &
bh_on_exit "kill $!"
bh_wait 50 ctl stats
for ns in x y z; do
	put namespaces "{\"metadata\": {\"name\": \"$ns\", \"labels\": {\"kubernetes.io/metadata.name\": \"$ns\", \"ns\": \"$ns\"}}}"
done
# node-1: x/a x/c y/b z/c; node-2: x/b y/a y/c z/a z/b
pod 1 x a 11; pod 1 x c 13; pod 1 y b 22; pod 1 z c 33
pod 2 x b 12; pod 2 y a 21; pod 2 y c 23; pod 2 z a 31; pod 2 z b 32
# a host-network pod: the node's address, never a pod identity
put pods '{"metadata": {"name": "hostnet", "namespace": "z", "labels": {"pod": "b"}},
	"spec": {"nodeName": "node-2", "hostNetwork": true},
	"status": {"phase": "Running", "podIP": "10.105.0.2", "podIPs": [{"ip": "10.105.0.2"}]}}'

# a pod whose status carries a bad address: skipped, never holds back the others
put pods '{"metadata": {"name": "odd", "namespace": "z", "labels": {"pod": "b"}},
	"spec": {"nodeName": "node-2"},
	"status": {"phase": "Running", "podIPs": [{"ip": "999.1.1.1"}, {"ip": "$(touch /tmp/bh-k8s-cluster-pwned)"}]}}'

standin_kubeconfig "http://10.105.0.1:$PORT" t0k >"$D/kubeconfig"
bh_show_on_fail "$D/agent1.log" "$D/agent2.log" "$D/api.log"
printf 'kubernetes: {kubeconfig: %s, node: node-1}\n' "$D/kubeconfig" >"$D/agent1.yaml"
printf 'kubernetes: {kubeconfig: %s, node: node-2}\n' "$D/kubeconfig" >"$D/agent2.yaml"
$BH agent --config "$D/agent1.yaml" >"$D/agent1.log" 2>&1 &
bh_on_exit "kill $!"
on2 $BH agent --config "$D/agent2.yaml" >"$D/agent2.log" 2>&1 &
bh_on_exit "kill $!"

labels_on() { "$@" --json workload list | python3 -c '
import json,sys; print(" ".join(sorted(w["workload"]+":"+w["labels"].get("pod","-") for w in json.load(sys.stdin))))'; }
expect_ok "node-1 workloads get their pods' labels" bh_wait 100 bash -c \
	"[ \"\$($BH --json workload list | python3 -c 'import json,sys; print(sum(1 for w in json.load(sys.stdin) if w[\"labels\"]))')\" = 4 ]"
expect_ok "node-2 workloads get their pods' labels" bh_wait 100 bash -c \
	"[ \"\$(nsenter --net=/run/netns/$N2 env BULKHEAD_BPFFS=$B2 BULKHEAD_STATE_DIR=$S2 $BH --json workload list | python3 -c 'import json,sys; print(sum(1 for w in json.load(sys.stdin) if w[\"labels\"]))')\" = 5 ]"

from() { local p=$T-$1; shift; ip netns exec "$p" python3 "$BH_ROOT/tests/lib/traffic.py" "$@"; }
# tcp/udp probes: from POD to NS/NAME on node N (address 10.105.N.M)
ip_of() { case $1 in x/a) echo 11;; x/c) echo 13;; y/b) echo 22;; z/c) echo 33;;
	x/b) echo 12;; y/a) echo 21;; y/c) echo 23;; z/a) echo 31;; z/b) echo 32;; esac; }
node_of() { case $1 in x/a|x/c|y/b|z/c) echo 1;; *) echo 2;; esac; }
v4() { echo 10.105.$(node_of $1).$(ip_of $1); }
v6() { echo fd0a:105:$(node_of $1)::$(ip_of $1); }

# Before any policy: everything reaches everything (cross-node routing works)
expect_ok "no policy: x/b (node-2) -> x/a (node-1) tcp/80" from xb connect $(v4 x/a) 80
expect_ok "no policy: x/a (node-1) -> y/a (node-2) udp/81" from xa udp $(v4 y/a) 81
expect_ok "no policy: x/b -> x/a over IPv6" from xb connect $(v6 x/a) 80

# Ingress to x/a: from pod=b in any namespace, TCP 80 only.
put networkpolicies '{"metadata": {"name": "a-in", "namespace": "x"}, "spec": {
	"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Ingress"],
	"ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"pod": "b"}}}],
	             "ports": [{"protocol": "TCP", "port": 80}]}]}}'
# Egress from y/a (node-2): to pod=c in namespace x, TCP and UDP 80.
put networkpolicies '{"metadata": {"name": "a-out", "namespace": "y"}, "spec": {
	"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"],
	"egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "x"}}, "podSelector": {"matchLabels": {"pod": "c"}}}],
	            "ports": [{"protocol": "TCP", "port": 80}, {"protocol": "UDP", "port": 80}]}]}}'
have_pol() { "$@" --json policy list | grep -q a-out; }
expect_ok "node-1 has the policies" bh_wait 100 have_pol $BH
expect_ok "node-2 has the policies" bh_wait 100 have_pol on2 $BH
wait_denied() { bh_wait 30 bash -c "! ip netns exec $T-$1 python3 $BH_ROOT/tests/lib/traffic.py connect $2 $3"; }
wait_denied yb $(v4 x/a) 81

# ingress, x/a on node-1: pod=b sources, local (y/b) and remote (x/b, z/b)
expect_ok "ingress: y/b (local, pod=b) -> x/a tcp/80 allowed" from yb connect $(v4 x/a) 80
expect_ok "ingress: x/b (remote, pod=b) -> x/a tcp/80 allowed" from xb connect $(v4 x/a) 80
expect_ok "ingress: z/b (remote, pod=b) -> x/a tcp/80 allowed" from zb connect $(v4 x/a) 80
expect_ok "ingress: x/b (remote) -> x/a tcp/80 over IPv6 allowed" from xb connect $(v6 x/a) 80
expect_fail "ingress: z/c (local, pod=c) -> x/a tcp/80 denied" from zc connect $(v4 x/a) 80
expect_fail "ingress: y/a (remote, pod=a) -> x/a tcp/80 denied" from ya connect $(v4 x/a) 80
expect_fail "ingress: y/c (remote, pod=c) -> x/a tcp/80 over IPv6 denied" from yc connect $(v6 x/a) 80
expect_fail "ingress: x/b (remote, pod=b) -> x/a tcp/81 denied" from xb connect $(v4 x/a) 81
expect_fail "ingress: x/b (remote, pod=b) -> x/a udp/80 denied" from xb udp $(v4 x/a) 80
expect_fail "ingress: the host-network pod's address (node-2) -> x/a denied" \
	ip netns exec $N2 python3 "$BH_ROOT/tests/lib/traffic.py" connect $(v4 x/a) 80
# egress, y/a on node-2: to x/c (remote, pod=c) allowed; others denied
expect_ok "egress: y/a -> x/c (remote) tcp/80 allowed" from ya connect $(v4 x/c) 80
expect_ok "egress: y/a -> x/c (remote) udp/80 allowed" from ya udp $(v4 x/c) 80
expect_ok "egress: y/a -> x/c (remote) tcp/80 over IPv6 allowed" from ya connect $(v6 x/c) 80
expect_fail "egress: y/a -> x/c tcp/81 denied" from ya connect $(v4 x/c) 81
expect_fail "egress: y/a -> z/c (remote, ns z) tcp/80 denied" from ya connect $(v4 z/c) 80
expect_fail "egress: y/a -> x/b (local, pod=b) tcp/80 denied" from ya connect $(v4 x/b) 80
expect_fail "egress: y/a -> y/c (local, ns y) udp/80 denied" from ya udp $(v4 y/c) 80
expect_ok "unselected pods stay open: z/a (node-2) -> z/c (node-1) udp/81" from za udp $(v4 z/c) 81

# a remote pod's label change: z/b becomes pod=d, node-1 follows
put pods "{\"metadata\": {\"name\": \"b\", \"namespace\": \"z\", \"labels\": {\"pod\": \"d\"}},
	\"spec\": {\"nodeName\": \"node-2\"},
	\"status\": {\"phase\": \"Running\", \"podIPs\": [{\"ip\": \"$(v4 z/b)\"}, {\"ip\": \"$(v6 z/b)\"}]}}"
expect_ok "remote label change: z/b (now pod=d) -> x/a denied" wait_denied zb $(v4 x/a) 80
# a deleted pod's address loses its identity at once
ctl delete '{"resource": "pods", "namespace": "x", "name": "b"}' >/dev/null
expect_ok "deleted pod: x/b's address is no longer pod=b -> x/a denied" wait_denied xb $(v4 x/a) 80
expect_ok "y/b (still pod=b) -> x/a allowed" from yb connect $(v4 x/a) 80
ipc_has() { "$@" --json workload list >/dev/null; bpftool map dump pinned "$BULKHEAD_BPFFS/bh_ipcache_v1" 2>/dev/null | grep -c "0a 69 02 0c" ; }
expect_eq "node-1 ipcache: no entry for x/b's address any more" 0 "$(ipc_has $BH)"
expect_ok "node-1 agent logged no identity failure (the bad address was skipped)" \
	bash -c "! grep -q 'pod identities not updated' '$D/agent1.log'"
expect_ok "nothing from the API was executed" test ! -e /tmp/bh-k8s-cluster-pwned

# Named ports. Ingress: x/c (node-1, web=81) and y/c (node-2, web=80)
# admit `port: web` from pod=a in any namespace, each on its own number.
for ns in x y; do
	put networkpolicies "{\"metadata\": {\"name\": \"web-in\", \"namespace\": \"$ns\"}, \"spec\": {
		\"podSelector\": {\"matchLabels\": {\"pod\": \"c\"}}, \"policyTypes\": [\"Ingress\"],
		\"ingress\": [{\"from\": [{\"namespaceSelector\": {}, \"podSelector\": {\"matchLabels\": {\"pod\": \"a\"}}}],
		             \"ports\": [{\"port\": \"web\"}]}]}}"
done
expect_ok "web-in reaches node-1: z/a -> x/c tcp/80 (not its web) denied" wait_denied za $(v4 x/c) 80
expect_ok "web-in reaches node-2: x/a -> y/c tcp/81 (not its web) denied" wait_denied xa $(v4 y/c) 81
expect_ok "named ingress: z/a (remote) -> x/c tcp/81 (x/c's web) allowed" from za connect $(v4 x/c) 81
expect_ok "named ingress: z/a (remote) -> x/c tcp/81 over IPv6 allowed" from za connect $(v6 x/c) 81
expect_ok "named ingress: x/a (remote) -> y/c tcp/80 (y/c's web) allowed" from xa connect $(v4 y/c) 80
expect_ok "named ingress: z/a (local) -> y/c tcp/80 allowed" from za connect $(v4 y/c) 80
expect_fail "named ingress: z/a (local) -> y/c tcp/81 denied" from za connect $(v4 y/c) 81
expect_fail "named ingress: z/c (pod=c, not a) -> x/c tcp/81 denied" from zc connect $(v4 x/c) 81
expect_fail "named ingress: web is TCP: z/a -> x/c udp/81 denied" from za udp $(v4 x/c) 81

# Egress: z/a (node-2) may reach `port: web` of pod=c anywhere, each peer
# on its own number: x/c 81 and z/c 80 (node-1), y/c 80 (node-2).
put networkpolicies '{"metadata": {"name": "web-out", "namespace": "z"}, "spec": {
	"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"],
	"egress": [{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"pod": "c"}}}],
	            "ports": [{"port": "web"}]}]}}'
expect_ok "web-out reaches node-2: z/a -> z/c tcp/81 (not its web) denied" wait_denied za $(v4 z/c) 81
expect_ok "named egress: z/a -> z/c (remote) tcp/80 (z/c's web) allowed" from za connect $(v4 z/c) 80
expect_ok "named egress: z/a -> x/c (remote) tcp/81 (x/c's web) allowed" from za connect $(v4 x/c) 81
expect_ok "named egress: z/a -> y/c (local) tcp/80 (y/c's web) allowed" from za connect $(v4 y/c) 80
expect_fail "named egress: z/a -> x/c tcp/80 denied" from za connect $(v4 x/c) 80
expect_fail "named egress: z/a -> y/b (pod=b) tcp/81 (its web) denied" from za connect $(v4 y/b) 81
expect_ok "node-1 agent applied the named-port policies" \
	bash -c "! grep -q 'web-in not enforced' '$D/agent1.log'"
