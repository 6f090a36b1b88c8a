#!/usr/bin/env bash
# Crafted frames from a container (python3-scapy) against the data-path
# security rules of docs/security.md, checked by what arrives on the other
# side (tcpdump there), not by counters:
# - tunnels (GRE, IP-in-IP, IPv6-in-IPv4) do not pass a rule without ports;
# - IPv4 source routes (LSRR, SSRR) are refused, other options pass;
# - an allowed ICMP timestamp flow does not let echo with the same
#   identifier bytes through;
# - a bare TCP ACK creates no state: the peer's answer does not come back,
#   while the answer to a SYN does.
# Every "did not arrive" is judged after a later marker frame, sent on the
# same path, did arrive: the capture waits for a condition, never a time.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init crafted
T=bx$BH_TAG
PY=/usr/bin/python3	# Debian's python, which has python3-scapy
CR=$BH_ROOT/tests/lib/crafted.py
$PY -c 'import scapy.all' 2>/dev/null || bh_skip "python3-scapy is not installed (Debian's, for /usr/bin/python3)"
command -v tcpdump >/dev/null || bh_skip "tcpdump is not installed"

A=10.101.1.10 B=10.101.1.20 C=10.101.1.30 GW=10.101.1.1
bh_mk_workload $T-a "$T"a $A/32 $GW
bh_mk_workload $T-b "$T"b $B/32 $GW
bh_mk_workload $T-c "$T"c $C/32 $GW
for ns in a b c; do
	ip netns exec $T-$ns sysctl -qw net.ipv4.icmp_echo_ignore_all=0
done
AMAC=$(cat /sys/class/net/"$T"a/address)	# A's gateway: its host veth

expect_ok "attach a" $BH attach "$T"a --workload sec/a --ip $A --label app=a
expect_ok "attach b" $BH attach "$T"b --workload sec/b --ip $B --label app=b
expect_ok "attach c" $BH attach "$T"c --workload sec/c --ip $C --label app=c

P=$BULKHEAD_STATE_DIR/p.yaml
cat >$P <<'YAML'
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: a, namespace: sec}
spec:
  selector: {matchLabels: {app: a}}
  egress:
  - to: [{podSelector: {matchExpressions: [{key: app, operator: In, values: [b, c]}]}}]
  ingress:                        # isolated: nothing of b's or c's comes in unasked
  - from: [{ipBlock: {cidr: 192.0.2.1/32}}]
    ports: [{protocol: UDP, port: 9}]
---
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: b, namespace: sec}
spec:
  selector: {matchLabels: {app: b}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]      # every protocol and port
---
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: c, namespace: sec}
spec:
  selector: {matchLabels: {app: c}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{protocol: TCP, port: 80}, {protocol: UDP, port: 21000}]
    icmp: [{type: 13}]
YAML
expect_ok "apply policies" $BH policy apply -f $P

# capture NS: tcpdump on the namespace's eth0 into $BULKHEAD_STATE_DIR/NS.pcap
# until the test ends; returns once tcpdump listens
capture() {
	local ns=$1 f=$BULKHEAD_STATE_DIR/$1.pcap log=$BULKHEAD_STATE_DIR/$1.tcpdump
	ip netns exec $T-$ns tcpdump -i eth0 -U -n -w "$f" 'ip' >/dev/null 2>"$log" &
	bh_on_exit "kill $! 2>/dev/null"
	bh_wait 50 grep -q "listening on" "$log"
}
count() { $PY "$CR" count "$BULKHEAD_STATE_DIR/$1.pcap" "${@:2}" 2>/dev/null || echo 0; }
send() { ip netns exec $T-a $PY "$CR" send eth0 "$AMAC" $A "$@"; }
# arrived NS N SRC DST KIND...: wait (5 s at most) until NS captured at
# least N such packets
arrived() { local ns=$1; shift; $PY "$CR" wait "$BULKHEAD_STATE_DIR/$ns.pcap" "$@" 2>/dev/null; }
# marker NS DST N: send the N-th marker UDP frame to DST and wait for it in NS
marker() { send "$2" udp dport=21000 && arrived "$1" "$3" $A "$2" udp dport=21000; }

expect_ok "capture on b" capture b
expect_ok "capture on c" capture c
expect_ok "capture on a" capture a
expect_ok "marker udp a -> b arrives" marker b $B 1

# Tunnels to b, whose every protocol a's and b's rules allow without naming one.
send $B gre; send $B ipip; send $B ip6in4
# Source routes, and an ordinary option for contrast.
send $B lsrr; send $B ssrr; send $B rr
expect_ok "marker after the tunnels and options arrives" marker b $B 2
expect_eq "GRE did not arrive" 0 "$(count b $A $B gre)"
expect_eq "IP-in-IP did not arrive" 0 "$(count b $A $B ipip)"
expect_eq "IPv6-in-IPv4 did not arrive" 0 "$(count b $A $B ip6in4)"
expect_eq "loose source route did not arrive" 0 "$(count b $A $B lsrr)"
expect_eq "strict source route did not arrive" 0 "$(count b $A $B ssrr)"
expect_eq "record-route option arrived" 1 "$(count b $A $B rr)"

# ICMP kinds: c allows a's timestamp requests (13). The old keys put a
# timestamp request (type/code 0x0d00) and echo with id 0x0d00 in one entry.
send $C icmp type=13 id=0x0d00
expect_ok "timestamp request arrives at c" arrived c 1 $A $C icmp type=13 id=0x0d00
send $C icmp type=8 id=0x0d00; send $C icmp type=0 id=0x0d00; send $C icmp type=8 id=0
send $C icmp type=13 id=0x0001
expect_ok "a second timestamp request (marker) arrives at c" arrived c 1 $A $C icmp type=13 id=0x0001
expect_eq "echo request with the timestamp's id bytes did not arrive" 0 "$(count c $A $C icmp type=8)"
expect_eq "echo reply with the timestamp's id bytes did not arrive" 0 "$(count c $A $C icmp type=0)"
expect_ok "c's timestamp reply reaches a (its flow's reply)" arrived a 1 $C $A icmp type=14 id=0x0d00

# TCP: a bare ACK that c's policy allows reaches c, whose stack answers
# with a RST; a is isolated for ingress and the ACK made no state, so the
# RST must not reach a. A SYN does make state: c's RST to it comes back.
send $C tcp sport=21010 dport=80 flags=A
expect_ok "bare ACK arrives at c" arrived c 1 $A $C tcp sport=21010 dport=80 flags=A
expect_ok "c answers the bare ACK with a RST" arrived c 1 $C $A tcp sport=80 dport=21010 flags=R
send $C tcp sport=21011 dport=80 flags=S
expect_ok "the RST answering a SYN reaches a" arrived a 1 $C $A tcp sport=80 dport=21011 flags=R
expect_eq "the RST answering the bare ACK did not reach a" 0 \
	"$(count a $C $A tcp sport=80 dport=21010)"

# A rule naming the protocol (ipProtocols, native format) lets GRE pass,
# on both ends; IP-in-IP stays out.
G=$BULKHEAD_STATE_DIR/g.yaml
cat >$G <<'YAML'
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: a-gre, namespace: sec}
spec:
  selector: {matchLabels: {app: a}}
  egress:
  - to: [{podSelector: {matchLabels: {app: b}}}]
    ipProtocols: [GRE]
---
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: b-gre, namespace: sec}
spec:
  selector: {matchLabels: {app: b}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ipProtocols: [47]
YAML
expect_ok "apply ipProtocols policies" $BH policy apply -f $G
send $B gre; send $B ipip
expect_ok "GRE named by both ends arrives" arrived b 1 $A $B gre
expect_ok "marker after GRE and IP-in-IP arrives" marker b $B 3
expect_eq "IP-in-IP, named by no rule, still did not arrive" 0 "$(count b $A $B ipip)"
