#!/usr/bin/env bash
# End to end with real Docker Engine (Debian's docker.io, no CNI): the
# agent follows Docker through its API socket (config section docker:).
#   - a container running before the agent starts is attached at start
#   - containers on a user-defined bridge network are attached with their
#     IPs and Docker labels; bulkhead.io/workload names the workload
#   - a policy selecting Docker labels holds from the container's first
#     packet: a container whose first command is a connection the policy
#     denies never reaches the server, not even once
#   - docker restart moves the workload to the new veth; removal and
#     restart leave no workload, record, program or gate member behind
#   - events missed while the agent was down are reconciled at its start
#
# dockerd and containerd run isolated: own config file, data-root,
# exec-root, sockets and containerd namespace under a directory this test
# makes; --iptables=false --bridge=none --storage-driver vfs; the image is
# a busybox tarball imported with `docker import`.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/containerd.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
bh_test_init docker

[ -x "$BH" ] || { echo "FAIL - $BH is not built"; exit 1; }
command -v dockerd >/dev/null || bh_skip "dockerd (docker.io) is not installed"
command -v containerd >/dev/null || bh_skip "containerd is not installed"
command -v runc >/dev/null || bh_skip "runc is not installed"
command -v nft >/dev/null || bh_skip "nft is not installed (used to inspect the gate)"
command -v jq >/dev/null || bh_skip "jq is not installed"
BB=/bin/busybox
[ -x "$BB" ] || bh_skip "busybox-static is not installed"
DOCKER_CLI=/usr/bin/docker
[ -x "$DOCKER_CLI" ] || DOCKER_CLI=$(command -v docker) || bh_skip "no docker client"

T=$BH_TAG
R=$(mktemp -d /tmp/bh-dk-XXXXXX)	# short: unix socket paths
SUB=10.109.$((16#$T % 250))
NETNAME=bhdk-$T
IMG=bhdk-bb-$T:1
bh_on_exit "rm -rf '$R'"
bh_on_exit "bh_umount_under '$R'"

mkdir -p "$R/hits"
bh_rootfs "$R/rootfs" HOSTNAME
tar -C "$R/rootfs" -cf "$R/bb.tar" .

bh_containerd_start "$R" || bh_skip "containerd does not start here: $(tail -n 1 "$R/ctd.log")"
echo '{}' >"$R/daemon.json"
dockerd --config-file "$R/daemon.json" --containerd "$R/ctd.sock" \
	--containerd-namespace "bh-$T" --containerd-plugins-namespace "bh-$T-p" \
	--data-root "$R/data" --exec-root "$R/exec" --pidfile "$R/docker.pid" \
	-H "unix://$R/docker.sock" --iptables=false --ip6tables=false --bridge=none \
	--ip-forward=false --ip-masq=false --userland-proxy=false --storage-driver vfs \
	--exec-opt native.cgroupdriver=cgroupfs >"$R/dockerd.log" 2>&1 &
DOCKERD=$!
bh_on_exit "bh_stop_pid $DOCKERD"
D=("$DOCKER_CLI" -H "unix://$R/docker.sock")
bh_wait 200 "${D[@]}" version || bh_skip "dockerd does not start here: $(tail -n 2 "$R/dockerd.log")"
bh_on_exit "${D[*]} rm -f \$(${D[*]} ps -aq)"

"${D[@]}" import "$R/bb.tar" "$IMG" >/dev/null || { fail "docker import"; exit 1; }
"${D[@]}" network create --driver bridge --subnet "$SUB.0/24" "$NETNAME" >/dev/null ||
	{ fail "docker network create"; exit 1; }
NETID=$("${D[@]}" network inspect -f '{{.Id}}' "$NETNAME")
BR=br-${NETID:0:12}
bh_on_exit "${D[*]} network rm $NETNAME"
expect_ok "Docker made bridge $BR for network $NETNAME" ip link show "$BR"

# dk NAME IP LABELS... -- CMD...: a container on the network, fixed address
dk() {
	local name=$1 ip=$2; shift 2
	local args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=(--label "$1"); shift; done
	shift
	"${D[@]}" run -d --name "$name" --hostname "$name" --network "$NETNAME" --ip "$ip" \
		-v "$R/hits:/hits" -e SRV="$name" "${args[@]}" "$IMG" "$@" >/dev/null
}
wl_json() { "$BH" workload list --json 2>/dev/null; }
# wl_field NS/NAME FIELD: a field of one workload ("" if none)
wl_field() { wl_json | jq -r --arg w "$1" --arg f "$2" '.[] | select(.workload == $w) | .[$f] // empty | tostring'; }
wl_count() { wl_json | jq --arg p "$1" '[.[] | select(.workload | startswith($p))] | length'; }
host_veth() { # the host side of a container's eth0, from the container's netns
	local pid peer
	pid=$("${D[@]}" inspect -f '{{.State.Pid}}' "$1") || return 1
	peer=$(nsenter -t "$pid" -n ip -o link show eth0 | sed -n 's/^[0-9]*: eth0@if\([0-9]*\):.*/\1/p')
	[ -n "$peer" ] || return 1
	ip -o link show | awk -F': ' -v i="$peer" '$1 == i { split($2, a, "@"); print a[1] }'
}
rows() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
	"SELECT count(*) FROM docker_attachments").fetchone()[0])' "$BULKHEAD_STATE_DIR/state.db" 2>/dev/null; }
GATE=bulkhead_gate_$(python3 -c 'import sys
h = 2166136261
for b in sys.argv[1].encode(): h = ((h ^ b) * 16777619) & 0xffffffff
print("%08x" % h)' "$BULKHEAD_STATE_DIR")
pending() { # ports the gate blocks (interface names), sorted, space separated
	# elements are host-order ifindexes; nft without its own userdata
	# prints them as signed big-endian numbers (negative when the low
	# byte of the ifindex is 128 or more)
	nft -j list set bridge "$GATE" pending 2>/dev/null | python3 -c '
import json, os, sys
names = {}
for n in os.listdir("/sys/class/net"):
    try: names[int(open("/sys/class/net/%s/ifindex" % n).read())] = n
    except OSError: pass
out = []
for o in json.load(sys.stdin).get("nftables", []):
    for e in o.get("set", {}).get("elem", []):
        i = int.from_bytes((int(e) & 0xffffffff).to_bytes(4, "big"), sys.byteorder)
        out.append(names.get(i, str(i)))
print(" ".join(sorted(out)))'
}
ifindex_of() { cat "/sys/class/net/$1/ifindex"; }
hits() { cat "$R/hits/$1" 2>/dev/null | grep -c "^$2\$"; }
reach() { # reach CONTAINER IP PORT: one request answered
	"${D[@]}" exec "$1" sh -c "echo $1 | nc -w 2 $2 $3" 2>/dev/null | grep -q hello
}

# ------------------------------------------------ before the agent runs
dk "pre-$T" "$SUB.20" app=pre -- sleep 600 || { fail "docker run pre"; exit 1; }
cat >"$R/agent.yaml" <<EOF
docker:
  socket: $R/docker.sock
  namespace: dock
  mode: enforce
EOF
bh_show_on_fail "$R/agent.log"
start_agent() {
	"$BH" agent --config "$R/agent.yaml" >>"$R/agent.log" 2>&1 &
	AGENT=$!
	bh_on_exit "bh_stop_pid $AGENT"
}
start_agent
pre_attached() { [ -n "$(wl_field "dock/pre-$T" ifname)" ]; }
expect_ok "a container running before the agent is attached at its start" bh_wait 100 pre_attached
expect_eq "... on its host veth" "$(host_veth "pre-$T")" "$(wl_field "dock/pre-$T" ifname)"
expect_eq "... with its Docker label and its address" "{\"app\":\"pre\"} [\"$SUB.20\"]" \
	"$(wl_json | jq -c --arg w "dock/pre-$T" '.[] | select(.workload == $w) | .labels, .ips' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "... in the configured mode" enforce "$(wl_field "dock/pre-$T" mode)"
expect_ok "the gate table exists" nft list table bridge "$GATE"
expect_eq "the gate blocks nothing: every port is attached" "" "$(pending)"

# The gate itself: a veth plugged into the network's bridge by hand is
# blocked as soon as it is enslaved, and its traffic dropped.
ip netns add "bhdk-$T"
bh_on_exit "bh_del_netns bhdk-$T"
ip link add "bhg$T" type veth peer name eth0 netns "bhdk-$T"
bh_on_exit "ip link del bhg$T"
ip -n "bhdk-$T" addr add "$SUB.99/24" dev eth0
ip -n "bhdk-$T" link set eth0 up
ip link set "bhg$T" up
ip link set "bhg$T" master "$BR"
is_pending() { [[ " $(pending) " == *" $1 "* ]]; }
expect_ok "a port enslaved to a followed bridge is blocked at once" bh_wait 50 is_pending "bhg$T"
expect_fail "... and its frames are dropped (no ARP answer from pre)" \
	ip netns exec "bhdk-$T" ping -c 2 -W 1 "$SUB.20"
expect_ok "... counted by the gate" sh -c "nft list chain bridge $GATE prerouting | grep -q 'packets [1-9]'"
ip link del "bhg$T"
not_pending() { ! is_pending "$1"; }
expect_ok "a deleted port leaves the gate" bh_wait 50 not_pending "bhg$T"

# ------------------------------------------- servers and the policy
dk "srv-$T" "$SUB.10" app=srv -- nc -ll -p 8080 -e /bin/hit || fail "docker run srv"
dk "srv2-$T" "$SUB.11" app=srv2 -- nc -ll -p 8080 -e /bin/hit || fail "docker run srv2"
two_srv() { [ "$(wl_count "dock/srv")" = 2 ]; }
expect_ok "both servers attached" bh_wait 100 two_srv
cat >"$R/policy.yaml" <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: probes-to-srv-only, namespace: dock}
spec:
  podSelector: {matchLabels: {tier: probe}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: srv}}}]
    ports: [{protocol: TCP, port: 8080}]
EOF
expect_ok "bulkhead policy apply (selects the Docker label tier=probe)" "$BH" policy apply -f "$R/policy.yaml"
expect_ok "pre reaches srv2 (no policy selects pre)" reach "pre-$T" "$SUB.11" 8080

# --------------------------------------- enforced from the first packet
# Both containers connect to srv and srv2 from their first instant. The
# control (no tier label) must get through to srv2 once attached, which
# shows a leak would be seen; the probe must never reach srv2.
probe_done() { ! "${D[@]}" top "$1" -o pid,args 2>/dev/null | grep -q -e 'seq 1 30' -e 'nc -w 1'; }
dk "ctl-$T" "$SUB.30" app=ctl -- probe "$SUB.10:8080" "$SUB.11:8080" || fail "docker run ctl"
dk "probe-$T" "$SUB.31" tier=probe -- probe "$SUB.10:8080" "$SUB.11:8080" || fail "docker run probe"
hits_gt() { [ "$(hits "$1" "$2")" -gt "$3" ]; }
expect_ok "the probe reaches srv (allowed by the policy)" bh_wait 100 hits_gt "srv-$T" "probe-$T" 0
expect_ok "the control reaches srv2 (no policy selects it)" bh_wait 100 hits_gt "srv2-$T" "ctl-$T" 0
expect_ok "the probe's 30 rounds are over" bh_wait 100 probe_done "probe-$T"
expect_eq "the probe never reached srv2, not even its first packet" 0 "$(hits "srv2-$T" "probe-$T")"
expect_eq "probe attached with label tier=probe" '{"tier":"probe"}' \
	"$(wl_json | jq -c --arg w "dock/probe-$T" '.[] | select(.workload == $w) | .labels')"

# ------------------------------------------------------------- restart
OLD_VETH=$(wl_field "dock/probe-$T" ifname)
OLD_HITS=$(hits "srv-$T" "probe-$T")
"${D[@]}" restart -t 1 "probe-$T" >/dev/null || fail "docker restart probe"
moved() { local v; v=$(wl_field "dock/probe-$T" ifname); [ -n "$v" ] && [ "$v" != "$OLD_VETH" ]; }
expect_ok "after restart the workload is on a new veth" bh_wait 100 moved
expect_eq "... which is the container's veth" "$(host_veth "probe-$T")" "$(wl_field "dock/probe-$T" ifname)"
expect_fail "the old veth $OLD_VETH is gone" ip link show "$OLD_VETH"
expect_eq "one workload for the probe" 1 "$(wl_count "dock/probe-$T")"
expect_ok "the restarted probe reaches srv again" bh_wait 100 hits_gt "srv-$T" "probe-$T" "$OLD_HITS"
expect_ok "the restarted probe's rounds are over" bh_wait 100 probe_done "probe-$T"
expect_eq "the restarted probe never reached srv2" 0 "$(hits "srv2-$T" "probe-$T")"
expect_eq "records: pre srv srv2 ctl probe" 5 "$(rows)"
expect_eq "the gate blocks no attached veth" "" "$(pending)"

# -------------------------------------------------- agent down: missed events
bh_stop_pid "$AGENT"
"${D[@]}" rm -f "pre-$T" >/dev/null
dk "late-$T" "$SUB.40" app=late bulkhead.io/workload=team-x/late-svc -- sleep 600 || fail "docker run late"
LATE_VETH=$(host_veth "late-$T")
start_agent
pre_gone() { [ "$(wl_count "dock/pre-$T")" = 0 ]; }
late_attached() { [ "$(wl_field team-x/late-svc ifname)" = "$LATE_VETH" ]; }
expect_ok "a container removed while the agent was down is detached at its start" bh_wait 100 pre_gone
expect_ok "a container started while it was down is attached, named by bulkhead.io/workload" \
	bh_wait 100 late_attached
expect_ok "... and reaches srv2" bh_wait 50 reach "late-$T" "$SUB.11" 8080
expect_eq "the gate blocks no attached veth" "" "$(pending)"

# ------------------------------------------------------------- removal
"${D[@]}" rm -f "probe-$T" "ctl-$T" "late-$T" "srv-$T" "srv2-$T" >/dev/null
none_left() { [ "$(wl_json | jq length)" = 0 ]; }
expect_ok "every workload is detached after docker rm" bh_wait 100 none_left
expect_eq "no record left" 0 "$(rows)"
expect_eq "no gate member left" "" "$(pending)"
expect_eq "no veth left on the bridge" 0 "$(ip -o link show master "$BR" | wc -l)"
ours_ids() {
	for p in prog_tc_from_container prog_tc_to_container prog_xdp_egress; do
		bpftool prog show pinned "$BULKHEAD_BPFFS/$p" -j 2>/dev/null | jq -r .id
	done | tr '\n' ' '
}
links_with_ours() { # interfaces carrying one of this instance's programs
	local ids=" $(ours_ids) " dev id
	for dev in $(ip -o link show | awk -F': ' '{ split($2, a, "@"); print a[1] }'); do
		for id in $(python3 "$BH_ROOT/tests/lib/cni_driver.py" hooks "$dev" 2>/dev/null |
			jq -r '(.tcx_ingress + .tcx_egress + .clsact_ingress + .clsact_egress)[]'); do
			[[ $ids == *" $id "* ]] && { echo "$dev"; break; }
		done
	done | tr '\n' ' '
}
expect_eq "no program of ours left on any interface" "" "$(links_with_ours)"
bh_stop_pid "$AGENT"
echo "--- the agent's docker events"
python3 -c 'import sqlite3,sys
for r in sqlite3.connect(sys.argv[1]).execute("SELECT severity, ns, name, detail FROM events WHERE kind = ? ORDER BY id", ["docker"]): print(*r)' "$BULKHEAD_STATE_DIR/state.db"
expect_ok "bulkhead reset" sh -c "'$BH' reset --yes </dev/null"
expect_fail "reset removed the gate" nft list table bridge "$GATE"
