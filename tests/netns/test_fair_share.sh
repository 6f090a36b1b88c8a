#!/usr/bin/env bash
# Fair shares of the shared tables (lib/bpf/share.h), with real traffic.
# Workload fair/flood floods, workload fair/victim must keep its state and
# records. S is a plain namespace (no bulkhead) both talk to; S2 another.
#   (in this order: first fragments, conntrack, records)
#   conntrack: the victim opens 50 UDP flows to S and keeps no way in but
#     conntrack (ingress isolated). The flooder opens 300000 allowed UDP
#     flows, more than conntrack holds (262144): its share (65536) fills
#     and the rest is dropped as ct-share, so none of the victim's entries
#     is evicted: S then sends on each of the 50 flows and all 50 arrive.
#   first fragments: the victim sends the first fragment of a datagram,
#     the flooder then sends 9000 allowed first fragments (more than the
#     8192-entry table), then the victim sends the rest: S reassembles the
#     whole datagram (the flooder's inserts stop at its budget).
#   records: the flooder also floods 30000 new denied flows (one deny rate
#     limit entry and record each). With no agent running the ring fills
#     past half: from then on the flooder's records are budgeted and the
#     victim's 20 new flows still get theirs, which the agent then reads.
#   the agent's recount: once the flooder's flows expired its share is
#     free again, with no one's help.
. "$(dirname "$0")/../lib/common.sh"
bh_test_init fair
[ -x "$BH" ] || bh_skip "$BH not built"
/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || bh_skip "python3-scapy missing"
command -v jq >/dev/null || bh_skip "jq not installed"

T=$BH_TAG
F=ff-$T V=fv-$T S=fs-$T S2=fz-$T
W=$BULKHEAD_STATE_DIR
bh_mk_workload "$F" "ff$T" 10.102.2.2/24 10.102.2.1
bh_mk_workload "$V" "fv$T" 10.102.3.2/24 10.102.3.1
bh_mk_workload "$S" "fs$T" 10.102.4.2/24 10.102.4.1
# the flooder's fragments go to S2: their incomplete datagrams fill S2's
# reassembly memory, not S's (the kernel's own limit, not bulkhead's)
bh_mk_workload "$S2" "fz$T" 10.102.5.2/24 10.102.5.1
ip -n "$S" addr add 10.102.4.3/24 dev eth0
ip route replace 10.102.4.3/32 dev "fs$T"
$BH attach "ff$T" --workload fair/flood --ip 10.102.2.2 --label app=flood >/dev/null
$BH attach "fv$T" --workload fair/victim --ip 10.102.3.2 --label app=victim >/dev/null
cat >"$W/pol.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: victim-in, namespace: fair}
spec:
  podSelector: {matchLabels: {app: victim}}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: flood-out, namespace: fair}
spec:
  podSelector: {matchLabels: {app: flood}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.102.4.2/32}}, {ipBlock: {cidr: 10.102.5.2/32}}]
    ports: [{protocol: UDP}]
YAML
expect_ok "policies applied" $BH policy apply -f "$W/pol.yaml"
counter() { $BH stats --json | jq -r ".counters[\"$1\"]"; }
share() { # WORKLOAD FIELD: the workload's bh_share_v1 field (lib/bpf/share.h)
	local slot
	slot=$($BH workload list --json | jq -r --arg w "$1" '[.. | objects | select(.workload? == $w) | .slot][0]')
	bpftool map lookup pinned "$BULKHEAD_BPFFS/bh_share_v1" key $((slot & 255)) $((slot >> 8)) 0 0 -j |
		jq -r --arg f "$2" '(.formatted.value // .value)[$f]'
}
reason() { $BH stats --workload "$1" --json |
	jq -r --arg r "$2" '[.. | objects | select(.reason? == $r) | .packets] | add // 0'; }

# ----------------------------------------------------- first fragments
ip netns exec "$S" timeout 60 python3 - "$W" <<'PY' >"$W/frag.out" &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.102.4.2", 21151))
s.settimeout(50)
open(sys.argv[1] + "/s2.ready", "w").close()
try:
    d, p = s.recvfrom(10000)
    print("received", len(d), p[0])
except socket.timeout:
    print("received nothing")
PY
SPID=$!
expect_ok "S listens for the datagram" bh_wait 100 test -e "$W/s2.ready"
ip netns exec "$V" timeout 60 /usr/bin/python3 - "$W" <<'PY' &
import os, sys, time
from scapy.all import IP, UDP, Raw, fragment, send, conf
conf.verb = 0
w = sys.argv[1]
frags = fragment(IP(src="10.102.3.2", dst="10.102.4.2", id=4242) / UDP(sport=21101, dport=21151) /
                 Raw(b"v" * 4000), fragsize=1400)
send(frags[0])
open(w + "/first.sent", "w").close()
deadline = time.time() + 50
while not os.path.exists(w + "/flooded") and time.time() < deadline:
    time.sleep(0.05)
send(frags[1:])
PY
VPID=$!
expect_ok "the victim's first fragment is out" bh_wait 150 test -e "$W/first.sent"
ip netns exec "$F" timeout 60 python3 - <<'PY'
# 9000 first fragments (more fragments follow) of allowed datagrams, raw:
# fast, so the flood is over long before the budget refills much
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
src, dst = socket.inet_aton("10.102.2.2"), socket.inet_aton("10.102.5.2")
udp = struct.pack("!HHHH", 21181, 21152, 8 + 64, 0) + b"f" * 32
for i in range(1, 9001):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0x2000, 64, 17, 0, src, dst)
    s.sendto(ip + udp, ("10.102.5.2", 0))
PY
touch "$W/flooded"
wait "$VPID"
wait "$SPID"
expect_eq "S reassembled the victim's whole datagram" "received 4000 10.102.3.2" "$(cat "$W/frag.out")"
echo "victim: fragment drops $(reason fair/victim fragment); flooder: first fragments not" \
	"remembered (over budget) $(share fair/flood frags_limited)"
expect_ok "the flooder's first fragments went over its budget" \
	test "$(share fair/flood frags_limited)" -gt 0

# ----------------------------------------------------------- conntrack
# S: answers each hello, and once $W/push exists sends "pushed" to every
# client it answered (bounded: 60 s).
ip netns exec "$S" timeout 60 python3 - "$W" <<'PY' &
import os, socket, sys, time
w = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.102.4.2", 21150))
s.settimeout(0.1)
peers = set()
open(w + "/s.ready", "w").close()
deadline = time.time() + 55
while time.time() < deadline and not os.path.exists(w + "/push"):
    try:
        d, p = s.recvfrom(100)
    except socket.timeout:
        continue
    if d == b"hello":
        peers.add(p)
        s.sendto(b"hello-back", p)
for p in peers:
    s.sendto(b"pushed", p)
PY
SPID=$!
expect_ok "S listens" bh_wait 100 test -e "$W/s.ready"
# the victim: 50 flows; "ready" once all were answered; then counts the
# pushes that arrive (bounded: 50 s)
ip netns exec "$V" timeout 60 python3 - "$W" <<'PY' >"$W/victim.out" &
import os, select, socket, sys, time
w = sys.argv[1]
socks = []
for i in range(50):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.102.3.2", 21100 + i))
    s.setblocking(False)
    s.sendto(b"hello", ("10.102.4.2", 21150))
    socks.append(s)
def collect(want, seconds):
    got, deadline = set(), time.time() + seconds
    while len(got) < len(socks) and time.time() < deadline:
        r, _, _ = select.select(socks, [], [], 0.2)
        for s in r:
            if s.recv(100) == want:
                got.add(s.fileno())
    return len(got)
print("answered", collect(b"hello-back", 10), flush=True)
open(w + "/v.ready", "w").close()
print("pushed", collect(b"pushed", 45), flush=True)
PY
VPID=$!
expect_ok "the victim's 50 flows are open" bh_wait 150 test -e "$W/v.ready"
expect_eq "all 50 answered" "answered 50" "$(head -n 1 "$W/victim.out")"

# the flooder: 300000 new allowed UDP flows (6 source ports x 50000 ports)
ip netns exec "$F" timeout 120 python3 - <<'PY'
import socket
for sp in range(6):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.102.2.2", 21180 + sp))
    for dp in range(10000, 60000):      # bounded: 50000 datagrams a socket
        try:
            s.sendto(b"f", ("10.102.4.2", dp))
        except OSError:
            pass
PY
CT_SHARE=$(reason fair/flood ct-share)
ADMITTED=$(reason fair/flood policy-allow)
echo "flooder: $ADMITTED new flows admitted, $CT_SHARE dropped as ct-share"
expect_ok "the flooder's share filled: many of its flows dropped as ct-share" \
	test "$CT_SHARE" -ge 100000
expect_ok "the flooder never held more than its share (65536)" test "$ADMITTED" -le 65536
touch "$W/push"
wait "$SPID"
wait "$VPID"
expect_eq "all 50 of the victim's flows still pass into it" "pushed 50" "$(tail -n 1 "$W/victim.out")"
expect_eq "the victim lost no new flow to a share" 0 "$(reason fair/victim ct-share)"

# -------------------------------------------------------------- records
ip netns exec "$F" timeout 120 python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for dp in range(20000, 50000):          # bounded: 30000 denied flows
    try:
        s.sendto(b"d", ("10.102.4.3", dp))
    except OSError:
        pass
PY
LOST=$(counter records-lost)
echo "records written $(counter records), lost or over budget $LOST"
expect_ok "the flooder's records went over its budget" test "$LOST" -gt 0
# the victim: 20 new flows, each its record
ip netns exec "$V" timeout 30 python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for dp in range(21160, 21180):
    s.sendto(b"v", ("10.102.4.2", dp))
PY
cat >"$W/agent.yaml" <<YAML
store: {flush_ms: 100}
YAML
$BH agent --config "$W/agent.yaml" >"$W/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT; wait $AGENT"
victim_flows() {
	[ "$($BH flows --workload fair/victim --limit 0 --json |
		jq '[.. | objects | select(.dport? >= 21160 and .dport? < 21180) | .dport] | unique | length')" = 20 ]
}
expect_ok "every one of the victim's 20 flow records reached the agent" bh_wait 300 victim_flows

# the share comes back by itself: the agent recounts every 5 s, and once
# the flooder's flows expired (UDP: 60 s after their packet) a new flow
# of the flooder is admitted again (each try is a new flow: a new port)
ADMITTED=$(reason fair/flood policy-allow)
readmitted() {
	ip netns exec "$F" bash -c 'echo x >/dev/udp/10.102.4.2/21199' 2>/dev/null
	[ "$(reason fair/flood policy-allow)" -gt "$ADMITTED" ]
}
expect_ok "the flooder's share is free again once its flows expired" bh_wait 1000 readmitted

[ "$BH_FAILS" -eq 0 ]
