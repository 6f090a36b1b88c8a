#!/usr/bin/env bash
# Layer 2 identity on a bridge, the shipped docs/examples/bridge-bulkhead.conflist
# case: three containers (netns) on one Linux bridge, each attached by
# bulkhead-cni chained after Debian's bridge and host-local plugins (driven
# as libcni does, tests/lib/cni_driver.py), no policy (everything allowed,
# so only the layer 2 checks stand in the way). Container A crafts frames
# with scapy (Debian's python3-scapy) on its eth0:
#   - ARP with its own address but B's MAC as sender, and with B's MAC as
#     Ethernet source too; an ARP frame padded to 200 bytes;
#   - a UDP datagram with B's MAC as Ethernet source;
#   - a router advertisement; a neighbour advertisement for B's link-local;
#   - a frame to B's MAC whose destination address is C's;
# and the legitimate forms of the same. Scapy sniffs on the receivers'
# eth0: what must not arrive does not, what must arrives, and each drop is
# counted under its reason. Each sniffer stops at a control frame sent
# after the attack frames on the same path (bounded by a timeout too).
. "$(dirname "$0")/../lib/common.sh"
bh_test_init l2br

[ -x "$BH_CNI" ] || { echo "FAIL - $BH_CNI is not built"; exit 1; }
[ -x "$BH" ] || { echo "FAIL - $BH is not built"; exit 1; }
for p in bridge host-local; do
	[ -x /usr/lib/cni/$p ] || bh_skip "/usr/lib/cni/$p missing (containernetworking-plugins)"
done
/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || bh_skip "python3-scapy missing"
command -v jq >/dev/null || bh_skip "jq missing"

DRIVER=$BH_ROOT/tests/lib/cni_driver.py
W=/tmp/bh-l2-$BH_TAG
BR=bhl${BH_TAG}br
mkdir -p "$W/bin" "$W/ipam" "$W/cache"
ln -s "$BH_CNI" "$W/bin/bulkhead-cni"
bh_on_exit "rm -rf '$W'"
bh_on_exit "ip link del '$BR'"

# The shipped example, with this test's bridge, subnet and instance.
jq --arg br "$BR" --arg ipam "$W/ipam" --arg st "$BULKHEAD_STATE_DIR" --arg fs "$BULKHEAD_BPFFS" '
	.name = "bhl2" |
	.plugins[0].bridge = $br | .plugins[0].ipMasq = false |
	.plugins[0].ipam.dataDir = $ipam |
	.plugins[0].ipam.ranges = [[{subnet: "10.102.1.0/24", gateway: "10.102.1.1"}]] |
	.plugins[1].namespace = "l2" | .plugins[1].stateDir = $st | .plugins[1].bpffs = $fs' \
	"$BH_ROOT/docs/examples/bridge-bulkhead.conflist" >"$W/net.conflist" ||
	{ echo "FAIL - cannot derive the conflist"; exit 1; }

# K8S_POD_NAME but no API server: the pods must not wait for an identity
# that never arrives (unknown_pod, docs/kubernetes.md)
echo "unknown_pod = allow" >"$BULKHEAD_STATE_DIR/config"
declare -A IP MAC
for c in a b c; do
	ns=bhl-$BH_TAG-$c
	ip netns add "$ns"
	bh_on_exit "bh_del_netns '$ns'"
	bh_on_exit "python3 '$DRIVER' del --conflist '$W/net.conflist' --cache-dir '$W/cache' --cni-path '$W/bin:/usr/lib/cni' --cid cid-$c --netns /run/netns/$ns"
	python3 "$DRIVER" add --conflist "$W/net.conflist" --cache-dir "$W/cache" \
		--cni-path "$W/bin:/usr/lib/cni" --cid "cid-$c" --netns "/run/netns/$ns" \
		--args "IgnoreUnknown=1;K8S_POD_NAMESPACE=l2;K8S_POD_NAME=$c" >"$W/add-$c.json"
	expect_eq "CNI ADD of container $c" 0 "$?"
	IP[$c]=$(ip -n "$ns" -4 -o addr show dev eth0 | awk '{ split($4, a, "/"); print a[1] }')
	MAC[$c]=$(ip netns exec "$ns" cat /sys/class/net/eth0/address)
	ip -n "$ns" link set lo up
done
NA=bhl-$BH_TAG-a NB=bhl-$BH_TAG-b NC=bhl-$BH_TAG-c
echo "a ${IP[a]} ${MAC[a]}, b ${IP[b]} ${MAC[b]}, c ${IP[c]} ${MAC[c]}"

# The workload is bound to the MAC the bridge plugin reported for eth0.
for c in a b c; do
	expect_ok "workload l2/$c bound to its eth0 MAC ${MAC[$c]}" \
		sh -c "$BH timeline l2/$c --json | grep -q 'mac ${MAC[$c]}'"
done

# Neighbours known both ways (legitimate ARP passes on the bridge).
expect_ok "c reaches a (ping)" bh_wait 50 bh_ping "$NC" "${IP[a]}"
expect_ok "a reaches b (ping)" bh_wait 50 bh_ping "$NA" "${IP[b]}"

reason() { # WORKLOAD REASON: packets counted
	$BH stats --workload "l2/$1" --json |
		jq -r --arg r "$2" '[.. | objects | select(.reason? == $r) | .packets] | add // 0'
}

# sniff NETNS OUT: scapy on eth0 until the control frame (UDP to port
# 21199) arrives or 20 s pass; every frame as one JSON line. Ready when
# the file appears.
sniff() {
	ip netns exec "$1" timeout 30 /usr/bin/python3 - "$2" <<'PY' &
import json, os, sys
from scapy.all import AsyncSniffer, Ether, ARP, IP, UDP, IPv6, ICMPv6ND_RA, ICMPv6ND_NA
out = sys.argv[1]
def rec(p):
    d = {"src": p[Ether].src, "dst": p[Ether].dst, "len": len(p)}
    if ARP in p:
        d.update(kind="arp", hwsrc=p[ARP].hwsrc, psrc=p[ARP].psrc)
    elif ICMPv6ND_RA in p:
        d.update(kind="ra")
    elif ICMPv6ND_NA in p:
        d.update(kind="na", tgt=p[ICMPv6ND_NA].tgt)
    elif UDP in p and IP in p:
        d.update(kind="udp", ipdst=p[IP].dst, dport=p[UDP].dport)
    return d
stop = lambda p: UDP in p and p[UDP].dport == 21199
s = AsyncSniffer(iface="eth0", store=True, stop_filter=stop)
s.start()
open(out + ".ready", "w").close()
s.join(timeout=20)
if s.running:
    s.stop()
with open(out, "w") as f:
    for p in s.results or []:
        if Ether in p:
            f.write(json.dumps(rec(p)) + "\n")
PY
	SNIFF_PID=$!
	bh_wait 100 test -e "$2.ready" || fail "sniffer in $1 did not start"
}

# send NETNS: scapy frames from stdin's Python list expression `frames`
send() {
	ip netns exec "$1" timeout 30 /usr/bin/python3 - "${@:2}" <<PY
from scapy.all import *
import sys
conf.verb = 0
a = dict(ip="${IP[a]}", mac="${MAC[a]}")
b = dict(ip="${IP[b]}", mac="${MAC[b]}")
c = dict(ip="${IP[c]}", mac="${MAC[c]}")
def ll(mac):  # EUI-64 link-local
    m = [int(x, 16) for x in mac.split(":")]
    m[0] ^= 2
    return "fe80::%02x%02x:%02xff:fe%02x:%02x%02x" % tuple(m)
$(cat)
for f in frames:
    sendp(f, iface="eth0")
PY
}
count() { # FILE JQ-FILTER: matching frames
	jq -s "[.[] | select($2)] | length" "$1"
}

# ------------------------------------------------ from A to C (and B)
sniff "$NC" "$W/c.jsonl"
SC=$SNIFF_PID
sniff "$NB" "$W/b.jsonl"
SB=$SNIFF_PID
send "$NA" <<'EOF'
frames = [
  # ARP: own address, B's MAC as sender (Ethernet source A)
  Ether(src=a["mac"], dst=c["mac"]) / ARP(op=2, hwsrc=b["mac"], psrc=a["ip"], hwdst=c["mac"], pdst=c["ip"]),
  # ARP: B's MAC as Ethernet source and as sender
  Ether(src=b["mac"], dst=c["mac"]) / ARP(op=2, hwsrc=b["mac"], psrc=a["ip"], hwdst=c["mac"], pdst=c["ip"]),
  # ARP padded to 200 bytes
  Ether(src=a["mac"], dst=c["mac"]) / ARP(op=2, hwsrc=a["mac"], psrc=a["ip"], hwdst=c["mac"], pdst=c["ip"]) / Raw(b"x" * 158),
  # UDP with B's MAC as Ethernet source
  Ether(src=b["mac"], dst=c["mac"]) / IP(src=a["ip"], dst=c["ip"]) / UDP(sport=21100, dport=21101) / b"forged-src",
  # router advertisement
  Ether(src=a["mac"], dst="33:33:00:00:00:01") / IPv6(src=ll(a["mac"]), dst="ff02::1", hlim=255) / ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr(lladdr=a["mac"]),
  # neighbour advertisement for B's link-local address
  Ether(src=a["mac"], dst="33:33:00:00:00:01") / IPv6(src=ll(a["mac"]), dst="ff02::1", hlim=255) / ICMPv6ND_NA(tgt=ll(b["mac"]), R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=a["mac"]),
  # to B's MAC, but to C's address (policy judged it for C)
  Ether(src=a["mac"], dst=b["mac"]) / IP(src=a["ip"], dst=c["ip"]) / UDP(sport=21100, dport=21102) / b"wrong-dst",
  # the legitimate forms
  Ether(src=a["mac"], dst=c["mac"]) / ARP(op=2, hwsrc=a["mac"], psrc=a["ip"], hwdst=c["mac"], pdst=c["ip"]),
  Ether(src=a["mac"], dst=c["mac"]) / IP(src=a["ip"], dst=c["ip"]) / UDP(sport=21100, dport=21103) / b"legit",
  Ether(src=a["mac"], dst="33:33:00:00:00:01") / IPv6(src=ll(a["mac"]), dst="ff02::1", hlim=255) / ICMPv6ND_NA(tgt=ll(a["mac"]), R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=a["mac"]),
  Ether(src=a["mac"], dst=b["mac"]) / IP(src=a["ip"], dst=b["ip"]) / UDP(sport=21100, dport=21104) / b"to-b",
  # control frames: the sniffers stop here
  Ether(src=a["mac"], dst=b["mac"]) / IP(src=a["ip"], dst=b["ip"]) / UDP(sport=21100, dport=21199),
  Ether(src=a["mac"], dst=c["mac"]) / IP(src=a["ip"], dst=c["ip"]) / UDP(sport=21100, dport=21199),
]
EOF
expect_eq "scapy sent the frames from a" 0 "$?"
wait "$SC" "$SB"

C=$W/c.jsonl B=$W/b.jsonl
expect_eq "c: the control frame arrived" 1 "$(count "$C" '.kind == "udp" and .dport == 21199')"
expect_eq "b: the control frame arrived" 1 "$(count "$B" '.kind == "udp" and .dport == 21199')"
expect_eq "c: no ARP naming b's MAC as sender" 0 "$(count "$C" '.kind == "arp" and .hwsrc == "'"${MAC[b]}"'"')"
# (b's own frames, its ND/MLD say, carry its MAC rightly: only a's forgeries count)
FORGED='.src == "'"${MAC[b]}"'" and ((.kind == "arp" and .psrc == "'"${IP[a]}"'") or (.kind == "udp" and .dport == 21101))'
expect_eq "c: no frame of a's with b's MAC as source" 0 "$(count "$C" "$FORGED")"
expect_eq "c: no oversized ARP" 0 "$(count "$C" '.kind == "arp" and .len > 60')"
expect_eq "c: no router advertisement" 0 "$(count "$C" '.kind == "ra"')"
expect_eq "c: no NA for b's link-local" 0 "$(count "$C" '.kind == "na" and .tgt != "'"$(ip netns exec "$NA" ip -6 -o addr show dev eth0 scope link | awk '{ split($4, x, "/"); print x[1] }')"'"')"
expect_eq "b: nothing for c's address" 0 "$(count "$B" '.kind == "udp" and .ipdst == "'"${IP[c]}"'"')"
expect_eq "c: a's legitimate ARP arrived" 1 "$(count "$C" '.kind == "arp" and .hwsrc == "'"${MAC[a]}"'" and .len <= 60')"
expect_eq "c: a's legitimate datagram arrived" 1 "$(count "$C" '.kind == "udp" and .dport == 21103')"
expect_eq "c: a's NA for its own link-local arrived" 1 "$(count "$C" '.kind == "na"')"
expect_eq "b: a's datagram to b arrived" 1 "$(count "$B" '.kind == "udp" and .dport == 21104')"

expect_ok "a: spoof-arp counted" test "$(reason a spoof-arp)" -ge 1
expect_ok "a: spoof-mac counted" test "$(reason a spoof-mac)" -ge 2
expect_ok "a: router-msg counted" test "$(reason a router-msg)" -ge 1
expect_ok "a: oversized ARP counted as malformed" test "$(reason a malformed)" -ge 1
expect_ok "b: the frame for c's address counted as not-ours" test "$(reason b not-ours)" -ge 1

# ------------------------------------------- a router may advertise
$BH detach "$(ip -o link show | awk -F': ' -v i="$(ip netns exec "$NA" cat /sys/class/net/eth0/iflink)" '$1 == i { split($2, x, "@"); print x[1] }')" >/dev/null
VA=$(ip -o link show | awk -F': ' -v i="$(ip netns exec "$NA" cat /sys/class/net/eth0/iflink)" '$1 == i { split($2, x, "@"); print x[1] }')
OUT=$($BH --json attach "$VA" --workload l2/a-router --ip "${IP[a]}" --mac "${MAC[a]}" --router)
expect_eq "attach --mac --router" 0 "$?"
expect_eq "attach --json shows the MAC and the router mark" "${MAC[a]} true" \
	"$(echo "$OUT" | jq -r '"\(.mac) \(.router)"')"
sniff "$NC" "$W/c2.jsonl"
SC=$SNIFF_PID
send "$NA" <<'EOF'
frames = [
  Ether(src=a["mac"], dst="33:33:00:00:00:01") / IPv6(src=ll(a["mac"]), dst="ff02::1", hlim=255) / ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr(lladdr=a["mac"]),
  Ether(src=b["mac"], dst=c["mac"]) / IP(src=a["ip"], dst=c["ip"]) / UDP(sport=21100, dport=21101) / b"forged-src",
  Ether(src=a["mac"], dst=c["mac"]) / IP(src=a["ip"], dst=c["ip"]) / UDP(sport=21100, dport=21199),
]
EOF
wait "$SC"
expect_eq "c: the router's RA arrived" 1 "$(count "$W/c2.jsonl" '.kind == "ra"')"
expect_eq "c: a router's forged MAC still does not" 0 "$(count "$W/c2.jsonl" "$FORGED")"
expect_eq "bad --mac is a user error" 1 "$($BH attach "$VA" --workload l2/x --ip 10.102.1.250 --mac 01:00:5e:00:00:01 >/dev/null 2>&1; echo $?)"

[ "$BH_FAILS" -eq 0 ]
