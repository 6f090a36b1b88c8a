#!/usr/bin/env bash
# Frames whose headers are not in the skb's linear part: trafgen sends
# through a packet socket's ring, and such an skb holds only the Ethernet
# header there. The data path pulls the IP and UDP headers in before it
# reads them (lib/bpf/ctx.h); judged through that pull, a UDP flow to the
# allowed port arrives and one to a port the policy does not allow does
# not, in both the client's egress and the server's ingress. Then TCP, whose
# payload sits in page fragments behind its headers (never pulled in):
# data both ways through the same programs. Checked by what the receiving
# sockets log; the "did not arrive" is judged after the allowed frames,
# sent later on the same path, arrived.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init nonlinear
command -v trafgen >/dev/null || fail "trafgen (netsniff-ng) is missing"
T=bh$BH_TAG
A=10.127.1.10 B=10.127.1.20 GW=10.127.1.1

bh_mk_workload $T-a "$T"a $A/32 $GW
bh_mk_workload $T-b "$T"b $B/32 $GW
expect_ok "attach a" $BH attach "$T"a --workload nl/a --ip $A --label app=a
expect_ok "attach b" $BH attach "$T"b --workload nl/b --ip $B --label app=b
P=$BULKHEAD_STATE_DIR/p.yaml
cat >$P <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: nl}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{protocol: UDP, port: 23411}, {protocol: TCP, port: 23413}]
YAML
expect_ok "apply the policy" $BH policy apply -f $P

L=$BULKHEAD_STATE_DIR
bh_log_udp $T-b $B 23411 $L/allowed
bh_log_udp $T-b $B 23412 $L/denied

HMAC=$(ip -br link show "$T"a | awk '{print $3}')
AMAC=$(ip -n $T-a -br link show eth0 | awk '{print $3}')
# trafgen CONF PORT PAYLOAD: 20 frames from A to B:PORT
frames() {
	cat >"$L/$1.cfg" <<EOF
{
  eth(da=$HMAC, sa=$AMAC),
  ipv4(saddr=$A, daddr=$B, ttl=64),
  udp(sport=40000, dport=$2),
  "$3"
}
EOF
	ip netns exec $T-a timeout 20 trafgen --dev eth0 --conf "$L/$1.cfg" -n 20 -q >/dev/null 2>&1
}
expect_ok "trafgen sends to the denied port" frames denied 23412 nl-denied
expect_ok "trafgen sends to the allowed port" frames allowed 23411 nl-allowed
expect_ok "frames from the ring to the allowed port arrive" bh_wait 100 grep -q nl-allowed $L/allowed
expect_eq "frames from the ring to the other port do not" 0 "$(grep -c . $L/denied)"
expect_ok "the denials are counted" test "$($BH stats --workload nl/b --json |
	jq -r '[.. | objects | select(.reason? == "default-deny") | .packets] | add // 0')" -ge 20

# TCP: a request and its answer, each a data segment with its payload in
# page fragments, through both hosts' programs
bh_serve $T-b tcp 23413
expect_ok "TCP data both ways" ip netns exec $T-a python3 "$TRAFFIC" connect $B 23413

[ $BH_FAILS -eq 0 ]
