#!/usr/bin/env bash
# The `host` peer class (native `host: {}`, docs/policy.md) with real
# traffic: a workload whose egress allows only the host (and one UDP port
# of a neighbour) reaches the node's own address and a link-local address
# of the node, not the metadata address 169.254.169.254 even where the
# node holds it, and not the neighbour's other ports. Checked by what the
# receiving sockets log; every "did not arrive" is judged after a marker
# sent later on the same path arrived.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init host_class
T=bh$BH_TAG
A=10.111.3.10 B=10.111.3.20 GW=10.111.3.1 LL=169.254.111.1 META=169.254.169.254

bh_mk_workload $T-a "$T"a $A/32 $GW
bh_mk_workload $T-b "$T"b $B/32 $GW
# the node's link-local address and the metadata address, on A's host veth
# (gone with it): both are the node's own addresses
ip addr add $LL/32 dev "$T"a
ip addr add $META/32 dev "$T"a

expect_ok "attach a" $BH attach "$T"a --workload hc/a --ip $A --label app=a
expect_ok "attach b" $BH attach "$T"b --workload hc/b --ip $B --label app=b
P=$BULKHEAD_STATE_DIR/p.yaml
cat >$P <<'YAML'
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: a, namespace: hc}
spec:
  selector: {matchLabels: {app: a}}
  egress:
  - to: [{host: {}}]
  - to: [{podSelector: {matchLabels: {app: b}}}]
    ports: [{protocol: UDP, port: 22102}]
YAML
expect_ok "apply the policy (after the node's addresses are up)" $BH policy apply -f $P

L=$BULKHEAD_STATE_DIR
bh_log_udp - $GW 22101 $L/gw
bh_log_udp - $LL 22101 $L/ll
bh_log_udp - $META 22101 $L/meta
bh_log_udp $T-b $B 22101 $L/b1
bh_log_udp $T-b $B 22102 $L/b2
send() { ip netns exec $T-a python3 -c '
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))' "$@"; }
got() { grep -qx "$2" "$L/$1"; }

send $GW 22101 node
expect_ok "the node's address is reached (host)" bh_wait 50 got gw node
send $LL 22101 linklocal
expect_ok "the node's link-local address is reached (host)" bh_wait 50 got ll linklocal
send $META 22101 metadata
send $GW 22101 mark1
expect_ok "marker after the metadata datagram arrived" bh_wait 50 got gw mark1
expect_eq "the metadata address is not in the host class, even on the node" 0 \
	"$(grep -c . $L/meta)"
send $B 22101 neighbour
send $B 22102 mark2
expect_ok "marker to the neighbour's allowed port arrived" bh_wait 50 got b2 mark2
expect_eq "the neighbour's other port is not reached" 0 "$(grep -c . $L/b1)"
expect_ok "the denials are counted as default-deny" test "$($BH stats --workload hc/a --json |
	jq -r '[.. | objects | select(.reason? == "default-deny") | .packets] | add // 0')" -ge 2

[ $BH_FAILS -eq 0 ]
