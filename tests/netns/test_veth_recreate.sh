#!/usr/bin/env bash
# A veth deleted and recreated under the same name gets a new ifindex:
# attaching again refreshes the registration (the stale one is removed),
# the policy is enforced on the new interface, detach by name works on it.
# reset removes its lock and the state dir when nothing else is left there.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init vethre
T=bv$BH_TAG

bh_mk_workload $T-a "$T"a 10.77.9.10/32 10.77.9.1
bh_mk_workload $T-b "$T"b 10.77.9.20/32 10.77.9.1
bh_serve $T-b tcp 80
bh_serve $T-b tcp 81
expect_ok "attach a" $BH attach "$T"a --workload r/a --ip 10.77.9.10 --label app=a
expect_ok "attach b" $BH attach "$T"b --workload r/b --ip 10.77.9.20 --label app=b
printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b, namespace: r}\nspec:\n  podSelector: {matchLabels: {app: b}}\n  ingress:\n    - ports: [{protocol: TCP, port: 80}]\n' >$BULKHEAD_STATE_DIR/p.yaml
expect_ok "apply: b ingress only :80" $BH policy apply -f $BULKHEAD_STATE_DIR/p.yaml
expect_fail "a -> b:81 denied" bh_tcp $T-a 10.77.9.20 81

ifindex_of() { $BH --json workload list | python3 -c '
import json,sys; print([w["ifindex"] for w in json.load(sys.stdin) if w["workload"]==sys.argv[1]][0])' "$1"; }
old=$(ifindex_of r/b)
# conntrack entries keyed by an ifindex: IPv6 in bh_ct_v3 (bh_ct_key.ifindex:
# bytes 40-43), IPv4 in bh_ct4_v2 (bh_ct4_key.ifindex: bytes 16-19)
ct_on() {
	local n=0 m off
	for m in bh_ct_v3:40 bh_ct4_v2:16; do
		off=${m#*:}
		n=$(( n + $(bpftool -j map dump pinned "$BULKHEAD_BPFFS/${m%:*}" | python3 -c '
import json,sys
n=int(sys.argv[1]); o=int(sys.argv[2]); d=json.load(sys.stdin)
print(sum(1 for e in d if int.from_bytes(bytes(int(b,16) for b in e["key"][o:o+4]),"little")==n))' "$1" "$off") ))
	done
	echo $n
}
expect_ok "a -> b:80 allowed before the recreation" bh_tcp $T-a 10.77.9.20 80
expect_ok "b's veth has conntrack entries" test "$(ct_on $old)" -gt 0

# recreate b's host veth under the same name (the container keeps its netns)
recreate_b() {
	ip link del "$T"b
	ip link add "$T"b type veth peer name eth0 netns $T-b
	ip -n $T-b addr add 10.77.9.20/32 dev eth0
	ip -n $T-b link set eth0 up
	ip link set "$T"b up
	ip addr add 10.77.9.1/32 dev "$T"b 2>/dev/null || true
	ip route replace 10.77.9.20/32 dev "$T"b
	ip -n $T-b route add 10.77.9.1/32 dev eth0
	ip -n $T-b route add default via 10.77.9.1 dev eth0
	sysctl -qw "net.ipv4.conf.${T}b.proxy_arp=1"
}
recreate_b
new=$(cat /sys/class/net/"$T"b/ifindex)
[ "$new" != "$old" ] && ok "the recreated veth has a new ifindex ($old -> $new)" \
	|| fail "ifindex did not change ($old)"
expect_ok "attach again on the recreated veth" \
	$BH attach "$T"b --workload r/b --ip 10.77.9.20 --label app=b
expect_eq "registration refreshed to the new ifindex" "$new" "$(ifindex_of r/b)"
expect_eq "one workload r/b" 1 "$($BH --json workload list | python3 -c '
import json,sys; print(len([w for w in json.load(sys.stdin) if w["workload"]=="r/b"]))')"
expect_fail "policy enforced on the new veth: a -> b:81 denied" bh_tcp $T-a 10.77.9.20 81
expect_ok "a -> b:80 allowed" bh_tcp $T-a 10.77.9.20 80
expect_eq "no conntrack entry of the old veth is left" 0 "$(ct_on $old)"
expect_ok "the new veth has its own entries" test "$(ct_on $new)" -gt 0
expect_ok "timeline says why the old registration went" \
	bash -c "$BH timeline r/b | grep -q 'recreated'"
out=$($BH attach "$T"b --workload r/b --ip 10.77.9.20 2>&1); rc=$?
expect_eq "attaching a live registration again is still refused" 1 $rc

# detach by name after another recreation: it works on the current veth
recreate_b
expect_ok "detach by name after the veth was recreated" $BH detach "$T"b
expect_eq "detach left no conntrack entry of b's veths" 0 \
	"$(( $(ct_on $new) + $(ct_on $(cat /sys/class/net/"$T"b/ifindex)) ))"
expect_ok "no workload r/b left" bash -c "! $BH workload list | grep -q 'r/b'"
h=$($BH --json debug hooks "$T"b)
expect_ok "no program of ours on the current veth" python3 -c '
import json,sys; h=json.loads(sys.argv[1])
assert not [p for k in ("xdp","tcx_ingress","tcx_egress") for p in h[k] if p["ours"]], h' "$h"

# reset: the lock and an otherwise empty state dir go; a dir with other files stays
S2=$BULKHEAD_STATE_DIR/inner
mkdir -p "$S2"
bh_on_exit "BULKHEAD_STATE_DIR=$S2 BULKHEAD_BPFFS=$BULKHEAD_BPFFS-2 $BH reset --yes; rm -rf '$BULKHEAD_BPFFS-2'"
BULKHEAD_STATE_DIR=$S2 BULKHEAD_BPFFS=$BULKHEAD_BPFFS-2 $BH attach "$T"b --workload r/b --ip 10.77.9.20 >/dev/null
expect_ok "second instance has a lock file" test -e "$S2/lock"
expect_ok "reset the second instance" env BULKHEAD_STATE_DIR=$S2 BULKHEAD_BPFFS=$BULKHEAD_BPFFS-2 $BH reset --yes
expect_fail "reset removed the empty state dir" test -e "$S2"
mkdir -p "$S2"; echo "# operator notes" >"$S2/config"
BULKHEAD_STATE_DIR=$S2 BULKHEAD_BPFFS=$BULKHEAD_BPFFS-2 $BH attach "$T"b --workload r/b --ip 10.77.9.20 >/dev/null
expect_ok "reset again" env BULKHEAD_STATE_DIR=$S2 BULKHEAD_BPFFS=$BULKHEAD_BPFFS-2 $BH reset --yes
expect_eq "only the operator's file is left" "config" "$(ls -A "$S2")"
