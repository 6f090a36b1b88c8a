#!/usr/bin/env bash
# A workload attached with no MAC bound (its interface is a tap: no veth
# peer to read, no --mac) behaves as docs/cli.md and docs/datapath.md say:
# the checks that need the MAC are off, every other layer 2 and address
# check stays. The "container" is the tap's file descriptor
# (tests/lib/tap_peer.py, Debian's scapy); what it sends is checked on the
# server's socket, what reaches it is read from the tap:
# - frames from any source MAC pass (no MAC to compare), a spoofed source
#   address does not;
# - an ARP request whose sender MAC is not the frame's is dropped (the host
#   never answers it), a consistent one is answered;
# - to the container: a datagram for its address passes whatever the
#   destination MAC, one for an address it does not hold does not.
# Every "did not arrive" is judged after a later marker on the same path
# arrived: the readers wait for a frame, never a time.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init l2_unbound
PY=/usr/bin/python3	# Debian's python, which has python3-scapy
TP=$BH_ROOT/tests/lib/tap_peer.py
$PY -c 'import scapy.all' 2>/dev/null || bh_skip "python3-scapy is not installed (Debian's, for /usr/bin/python3)"
[ -c /dev/net/tun ] || bh_skip_unfixable kernel "no /dev/net/tun"

TAP=bhu${BH_TAG}t NS=bhu-$BH_TAG-s SIF=bhu${BH_TAG}s
A=10.111.1.2 NOTA=10.111.1.77 SPOOF=10.111.1.99 S=10.111.2.2
GW=10.111.0.1 GW2=10.111.0.3
M1=02:11:00:00:00:02 M3=02:11:00:00:00:33

bh_mk_workload "$NS" "$SIF" $S/32 $GW
ip tuntap add dev "$TAP" mode tap
bh_on_exit "ip link del '$TAP'"
ip link set "$TAP" up
ip addr add $GW/32 dev "$TAP"
ip addr add $GW2/32 dev "$TAP"
sysctl -qw "net.ipv4.conf.$TAP.rp_filter=0"
# A, and the two addresses it must not use, are all routed to the tap (so
# that no host check but bulkhead's stops them); neighbours fixed, as the
# "container" answers no ARP
for a in $A $NOTA $SPOOF; do ip route replace $a/32 dev "$TAP"; done
ip neigh replace $A lladdr $M1 dev "$TAP" nud permanent
ip neigh replace $NOTA lladdr $M1 dev "$TAP" nud permanent
GW_MAC=$(cat /sys/class/net/"$TAP"/address)

expect_ok "attach the tap (no veth peer, no --mac)" \
	$BH attach "$TAP" --workload l2u/tap --ip $A --label app=tap
expect_ok "attach the server" $BH attach "$SIF" --workload l2u/srv --ip $S --label app=srv
expect_eq "no MAC bound to the tap's workload" "null" \
	"$($BH workload list --json | jq -r '.[] | select(.workload == "l2u/tap" or .name == "tap") | .mac' | head -n1)"
expect_eq "the server's veth peer MAC is bound" \
	"$(ip -n "$NS" -br link show eth0 | awk '{print $3}')" \
	"$($BH workload list --json | jq -r '.[] | select(.workload == "l2u/srv" or .name == "srv") | .mac' | head -n1)"

reason() { # WORKLOAD REASON: packets counted
	$BH stats --workload "l2u/$1" --json |
		jq -r --arg r "$2" '[.. | objects | select(.reason? == $r) | .packets] | add // 0'
}

# ---- from the container
RX=$BULKHEAD_STATE_DIR/rx READY=$BULKHEAD_STATE_DIR/rx.ready
ip netns exec "$NS" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 21101))
s.settimeout(10)
open(sys.argv[1], "w").close()
while True:
    d, a = s.recvfrom(100)
    print(d.decode(), a[0], flush=True)
    if d == b"mark":
        break' "$READY" >"$RX" 2>/dev/null &
RXPID=$!
bh_on_exit "kill $RXPID 2>/dev/null"
bh_wait 50 test -e "$READY" || fail "the server's receiver did not start"
ARPS=$BULKHEAD_STATE_DIR/arps
GW_MAC=$GW_MAC ARP_FORGED=$GW2 ARP_GOOD=$GW $PY "$TP" egress "$TAP" $M1 $A $S 21101 >"$ARPS"
expect_ok "tap_peer: the consistent ARP request was answered" grep -qx "arp-reply $GW" "$ARPS"
expect_eq "no answer to the ARP request whose sender MAC is not the frame's" 0 \
	"$(grep -c "arp-reply $GW2" "$ARPS")"
wait $RXPID
expect_ok "the marker datagram arrived" grep -qx "mark $A" "$RX"
expect_ok "a datagram from the MAC the host knows arrived" grep -qx "m1 $A" "$RX"
expect_ok "a datagram from another source MAC arrived (no MAC bound: not checked)" \
	grep -qx "m2 $A" "$RX"
expect_eq "the datagram with a spoofed source address did not arrive" 0 "$(grep -c '^spoof' "$RX")"
expect_ok "counted: spoof-ip" test "$(reason tap spoof-ip)" -ge 1
expect_ok "counted: spoof-arp" test "$(reason tap spoof-arp)" -ge 1
expect_eq "counted: no spoof-mac (no MAC bound)" 0 "$(reason tap spoof-mac)"

# ---- to the container
TX=$BULKHEAD_STATE_DIR/tx READY2=$BULKHEAD_STATE_DIR/tx.ready
$PY "$TP" ingress "$TAP" "$READY2" mark >"$TX" 2>/dev/null &
TXPID=$!
bh_on_exit "kill $TXPID 2>/dev/null"
bh_wait 50 test -e "$READY2" || fail "the tap reader did not start"
send() { ip netns exec "$NS" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(sys.argv[2].encode(), (sys.argv[1], 21102))' "$1" "$2"; }
send $A in1
send $NOTA in2
# another destination MAC for A: a bound MAC would refuse it
ip neigh replace $A lladdr $M3 dev "$TAP" nud permanent
send $A in4
send $A mark
wait $TXPID
expect_ok "the marker reached the container" grep -qx "udp mark $A" "$TX"
expect_ok "a datagram for its address reached it" grep -qx "udp in1 $A" "$TX"
expect_ok "a datagram for its address to another MAC reached it (no MAC bound: not checked)" \
	grep -qx "udp in4 $A" "$TX"
expect_eq "a datagram for an address it does not hold did not" 0 "$(grep -c ' in2 ' "$TX")"
expect_ok "counted: not-ours" test "$(reason tap not-ours)" -ge 1

[ $BH_FAILS -eq 0 ]
