#!/usr/bin/env bash
# bulkhead-cni driven exactly as a runtime drives it (tests/lib/cni_driver.py
# does what libcni v1.1.2 does), chained after Debian's real `bridge` and
# `host-local` plugins: ADD, CHECK, DEL, DEL twice, DEL without ADD, DEL
# after the netns is gone, a failed ADD and the runtime's DEL after it,
# bad config, bad prevResult, bad JSON, unknown cniVersion, missing env,
# VERSION, GC and STATUS.
. "$(dirname "$0")/../lib/common.sh"
bh_test_init cniproto

[ -x "$BH_CNI" ] || { echo "FAIL - $BH_CNI is not built"; exit 1; }
[ -x "$BH" ] || { echo "FAIL - $BH is not built"; exit 1; }
for p in bridge host-local; do
	[ -x /usr/lib/cni/$p ] || bh_skip "/usr/lib/cni/$p missing (containernetworking-plugins)"
done
command -v python3 >/dev/null || bh_skip "python3 missing"

DRIVER=$BH_ROOT/tests/lib/cni_driver.py
W=/tmp/bh-cni-$BH_TAG
BR=bhc${BH_TAG}br
NET=bhnet-$BH_TAG
SUBNET=10.197.$((16#$BH_TAG % 250)).0/24
mkdir -p "$W/bin" "$W/ipam" "$W/cache" "$W/trace"
ln -s "$BH_CNI" "$W/bin/bulkhead-cni"
bh_on_exit "rm -rf '$W'"
bh_on_exit "ip link del '$BR'"
NSS=()
mk_netns() { ip netns add "$1"; NSS+=("$1"); bh_on_exit "ip netns del '$1'"; }

# The network: bridge + host-local, then bulkhead-cni. stateDir/bpffs in
# the config point at this test's instance (podman's cleanup DELs come
# with almost no environment).
bh_conf() { # extra JSON members for the bulkhead-cni entry
	cat <<EOF
{"cniVersion":"1.0.0","name":"$NET","plugins":[
 {"type":"bridge","bridge":"$BR","isGateway":true,"ipMasq":false,
  "ipam":{"type":"host-local","dataDir":"$W/ipam","ranges":[[{"subnet":"$SUBNET"}]]}},
 {"type":"bulkhead-cni","namespace":"proto","labels":{"app":"web","env":"test"},
  "args":{"cni":{"labels":[{"key":"tier","value":"front"}]}},
  "stateDir":"$BULKHEAD_STATE_DIR","bpffs":"$BULKHEAD_BPFFS"$1}]}
EOF
}
bh_conf "" >"$W/net.conflist"

drv() { # CMD [driver args...]: runs the chain; stdout in OUT, status in RC
	local cmd=$1; shift
	OUT=$(python3 "$DRIVER" "$cmd" --conflist "${CONF:-$W/net.conflist}" --cache-dir "$W/cache" \
		--cni-path "$W/bin:/usr/lib/cni" --trace "$W/trace" "$@")
	RC=$?
}

# The plugin alone, as libcni execs it: CMD STDIN [VAR=VAL...]
direct() {
	local cmd=$1 in=$2; shift 2
	OUT=$(printf '%s' "$in" | env -u BULKHEAD_STATE_DIR -u BULKHEAD_BPFFS CNI_COMMAND="$cmd" \
		CNI_CONTAINERID=direct1 CNI_NETNS=/run/netns/none CNI_IFNAME=eth0 \
		CNI_PATH="$W/bin" "$@" "$BH_CNI")
	RC=$?
}

jq_py() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1" 2>/dev/null; }
code_of() { jq_py "$1" 'd.get("code")'; }

# The last trace file of plugin TYPE for command CMD.
trace_of() { ls "$W/trace"/*-"$1"-"$2".out | tail -n 1; }

# Host veth of a container: the peer of its eth0.
host_veth() {
	local idx
	idx=$(ip netns exec "$1" cat /sys/class/net/eth0/iflink) || return 1
	ip -o link show | awk -F': ' -v i="$idx" '$1 == i { split($2, a, "@"); print a[1] }'
}

prog_ids_on() { python3 "$DRIVER" hooks "$1" 2>/dev/null; }
ours_ids() { # this instance's pinned TC program ids, sorted
	echo $(for p in prog_tc_from_container prog_tc_to_container; do
		bpftool prog show pinned "$BULKHEAD_BPFFS/$p" -j 2>/dev/null |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
	done | sort -n)
}
hook_ids() { # sorted ids on the tcx hooks and clsact filters of IF
	echo $(prog_ids_on "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin)
print(" ".join(str(i) for i in sorted(d["tcx_ingress"] + d["tcx_egress"] + d["clsact_ingress"] + d["clsact_egress"])))')
}

# One workload from `bulkhead workload list --json`, normalised:
# "ns/name ifname ip,ip k=v,k=v" (sorted), or "" if absent.
workload_line() {
	"$BH" workload list --json 2>/dev/null | python3 -c '
import json, sys
want = sys.argv[1]
d = json.load(sys.stdin)
if isinstance(d, dict):
    d = d.get("workloads", [])
for w in d:
    key = "%s/%s" % (w.get("ns", w.get("namespace")), w.get("name"))
    if key != want:
        continue
    labels = w.get("labels", {})
    if isinstance(labels, list):
        labels = {l["key"]: l["value"] for l in labels}
    ips = sorted(w.get("ips", []))
    print(want, w.get("ifname", w.get("interface")), ",".join(ips),
          ",".join(f"{k}={v}" for k, v in sorted(labels.items())))
' "$1"
}
nr_records() { python3 - "$BULKHEAD_STATE_DIR/state.db" "$@" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q, args = "SELECT count(*) FROM cni_attachments", []
if len(sys.argv) > 2:
    q += " WHERE container_id = ?"; args = [sys.argv[2]]
print(db.execute(q, args).fetchone()[0])
EOF
}

# ------------------------------------------------------------ VERSION
drv version
expect_eq "VERSION through the chain (libcni ValidateNetworkList)" 0 "$RC"
expect_eq "VERSION lists 0.3.0-1.1.0" '["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]' \
	"$(jq_py "$OUT" 'json.dumps([p for p in d if p["plugin"] == "bulkhead-cni"][0]["supportedVersions"])')"
direct VERSION '{"cniVersion":"0.4.0"}' CNI_NETNS=dummy CNI_IFNAME=dummy CNI_PATH=dummy CNI_CONTAINERID=
expect_eq "VERSION echoes the input version" "0 0.4.0" "$RC $(jq_py "$OUT" 'd["cniVersion"]')"

# ----------------------------------------------------------------- ADD
A=bhc-$BH_TAG-a
mk_netns "$A"
drv add --cid cid-a-0123456789 --netns "/run/netns/$A" \
	--args "IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web-0;BH_LABELS=role:api,env:prod"
expect_eq "ADD bridge+host-local+bulkhead-cni" 0 "$RC"
VA=$(host_veth "$A")
expect_ok "container a has a host veth ($VA)" test -n "$VA"
BR_OUT=$(trace_of bridge ADD)
BH_OUT=$(trace_of bulkhead-cni ADD)
expect_ok "bulkhead-cni printed prevResult unchanged" python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(0 if a == b else 1)' "$BR_OUT" "$BH_OUT"
IP_A=$(jq_py "$(cat "$BH_OUT")" 'd["ips"][0]["address"].split("/")[0]')
expect_eq "programs of this instance on $VA's hooks (clsact at birth)" "$(ours_ids)" "$(hook_ids "$VA")"
expect_eq "workload team-a/web-0 registered" \
	"team-a/web-0 $VA $IP_A app=web,env=prod,role=api,tier=front" "$(workload_line team-a/web-0)"
expect_eq "attachment recorded" 1 "$(nr_records cid-a-0123456789)"

# A container without K8S_* args: config namespace + container id[:12].
B=bhc-$BH_TAG-b
mk_netns "$B"
drv add --cid 0123456789abcdef0123 --netns "/run/netns/$B" --args "IgnoreUnknown=1"
expect_eq "ADD without K8S_* args" 0 "$RC"
VB=$(host_veth "$B")
IP_B=$(jq_py "$(cat "$(trace_of bulkhead-cni ADD)")" 'd["ips"][0]["address"].split("/")[0]')
expect_eq "workload proto/<id[:12]> with config labels" \
	"proto/0123456789ab $VB $IP_B app=web,env=test,tier=front" "$(workload_line proto/0123456789ab)"

# --------------------------------------------------------------- CHECK
drv check --cid cid-a-0123456789 --netns "/run/netns/$A" --args "IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web-0"
expect_eq "CHECK a" 0 "$RC"
# Detached behind the plugin's back (the CLI): CHECK must say so.
"$BH" detach "$VB" >/dev/null 2>&1
drv check --cid 0123456789abcdef0123 --netns "/run/netns/$B" --args "IgnoreUnknown=1"
expect_eq "CHECK b after \`bulkhead detach\`: error 103 from bulkhead-cni" "1 103 bulkhead-cni" \
	"$RC $(code_of "$OUT") $(jq_py "$OUT" 'd["plugin"]')"
expect_eq "no programs left on $VB" "" "$(hook_ids "$VB")"

# -------------------------------------------------------- failed ADD
# Same pod name as a: registration fails; nothing may stay behind, and
# the runtime's DEL of the whole chain (no prevResult) must not touch a.
C=bhc-$BH_TAG-c
mk_netns "$C"
drv add --cid cid-c --netns "/run/netns/$C" \
	--args "IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web-0"
expect_eq "ADD with a taken workload name fails in bulkhead-cni (code 100)" "1 100 bulkhead-cni" \
	"$RC $(code_of "$OUT") $(jq_py "$OUT" 'd["plugin"]')"
VC=$(host_veth "$C")
expect_eq "failed ADD: no programs on $VC" "" "$(hook_ids "$VC")"
expect_eq "failed ADD: no record" 0 "$(nr_records cid-c)"
drv del --cid cid-c --netns "/run/netns/$C" --args "IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web-0"
expect_eq "runtime DEL after the failed ADD (no prevResult)" 0 "$RC"
expect_eq "a untouched by c's DEL" "team-a/web-0 $VA $IP_A app=web,env=prod,role=api,tier=front" \
	"$(workload_line team-a/web-0)"
expect_eq "a's programs still on $VA" "$(ours_ids)" "$(hook_ids "$VA")"

# ----------------------------------------------------------------- DEL
# bulkhead-cni alone first, with the cached result and an almost empty
# environment (podman's cleanup process): the veth is still there, so
# the programs must be gone from it.
CACHED=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["result"]))' \
	"$W/cache/$NET-cid-a-0123456789-eth0")
STDIN=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); p=c["plugins"][1]
p.update(name=c["name"], cniVersion=c["cniVersion"], prevResult=json.loads(sys.argv[2])); print(json.dumps(p))' \
	"$W/net.conflist" "$CACHED")
OUT=$(printf '%s' "$STDIN" | env -i PATH=/usr/bin:/bin CNI_COMMAND=DEL CNI_CONTAINERID=cid-a-0123456789 \
	CNI_NETNS="/run/netns/$A" CNI_IFNAME=eth0 CNI_ARGS="IgnoreUnknown=1" CNI_PATH="$W/bin" "$BH_CNI")
expect_eq "DEL with an empty environment (config stateDir/bpffs)" "0 " "$? $OUT"
expect_eq "DEL: no programs left on $VA" "" "$(hook_ids "$VA")"
expect_eq "DEL: workload unregistered" "" "$(workload_line team-a/web-0)"
expect_eq "DEL: record gone" 0 "$(nr_records cid-a-0123456789)"
drv del --cid cid-a-0123456789 --netns "/run/netns/$A" --args "IgnoreUnknown=1"
expect_eq "DEL of the whole chain" 0 "$RC"
expect_fail "bridge removed $VA" ip link show "$VA"
drv del --cid cid-a-0123456789 --netns "/run/netns/$A" --args "IgnoreUnknown=1"
expect_eq "DEL twice" 0 "$RC"
drv del --cid never-added --netns "/run/netns/$A" --args "IgnoreUnknown=1"
expect_eq "DEL without ADD" 0 "$RC"
direct DEL "{\"cniVersion\":\"1.0.0\",\"name\":\"$NET\",\"type\":\"bulkhead-cni\",\"stateDir\":\"$BULKHEAD_STATE_DIR\",\"bpffs\":\"$BULKHEAD_BPFFS\"}" \
	CNI_NETNS= CNI_CONTAINERID=other
expect_eq "DEL without netns and prevResult" "0 " "$RC $OUT"
drv del --cid 0123456789abcdef0123 --netns "/run/netns/$B" --args "IgnoreUnknown=1"
expect_eq "DEL of b (already detached by the CLI)" 0 "$RC"
expect_eq "b's record gone" 0 "$(nr_records 0123456789abcdef0123)"

# DEL after the netns is deleted: the veth goes with it.
D=bhc-$BH_TAG-d
mk_netns "$D"
drv add --cid cid-d --netns "/run/netns/$D" --args "IgnoreUnknown=1;K8S_POD_NAME=db-0"
expect_eq "ADD d" 0 "$RC"
VD=$(host_veth "$D")
ip netns del "$D"
bh_wait 50 bash -c "! ip link show '$VD'"
expect_fail "$VD gone with its netns" ip link show "$VD"
drv del --cid cid-d --netns "/run/netns/$D" --args "IgnoreUnknown=1;K8S_POD_NAME=db-0"
expect_eq "DEL after the netns is deleted" 0 "$RC"
expect_eq "d unregistered" "" "$(workload_line proto/db-0)"
expect_eq "d's record gone" 0 "$(nr_records cid-d)"

# ptp + host-local: prevResult lists [veth, eth0] without a bridge.
cat >"$W/ptp.conflist" <<EOF
{"cniVersion":"0.4.0","name":"$NET-ptp","plugins":[
 {"type":"ptp","ipMasq":false,
  "ipam":{"type":"host-local","dataDir":"$W/ipam","ranges":[[{"subnet":"10.194.$((16#$BH_TAG % 250)).0/24"}]]}},
 {"type":"bulkhead-cni","namespace":"ptp","labels":{"net":"ptp"},
  "stateDir":"$BULKHEAD_STATE_DIR","bpffs":"$BULKHEAD_BPFFS"}]}
EOF
H=bhc-$BH_TAG-h
mk_netns "$H"
CONF=$W/ptp.conflist drv add --cid cid-h --netns "/run/netns/$H" --args "IgnoreUnknown=1;K8S_POD_NAME=h"
expect_eq "ptp: ADD (0.4.0)" 0 "$RC"
VH=$(host_veth "$H")
IP_H=$(jq_py "$OUT" 'd["ips"][0]["address"].split("/")[0]')
expect_eq "ptp: workload on the ptp veth" "ptp/h $VH $IP_H net=ptp" "$(workload_line ptp/h)"
expect_eq "ptp: programs on $VH" "$(ours_ids)" "$(hook_ids "$VH")"
CONF=$W/ptp.conflist drv check --cid cid-h --netns "/run/netns/$H" --args "IgnoreUnknown=1;K8S_POD_NAME=h"
expect_eq "ptp: CHECK" 0 "$RC"
CONF=$W/ptp.conflist drv del --cid cid-h --netns "/run/netns/$H" --args "IgnoreUnknown=1;K8S_POD_NAME=h"
expect_eq "ptp: DEL" "0 " "$RC $(workload_line ptp/h)"
expect_fail "ptp: $VH removed" ip link show "$VH"

# No "hook" in the conflist: the instance's default applies, as for
# `bulkhead attach` (state dir config `hook = xdp`).
echo "hook = xdp" >"$BULKHEAD_STATE_DIR/config"
X=bhc-$BH_TAG-x
mk_netns "$X"
CONF=$W/ptp.conflist drv add --cid cid-x --netns "/run/netns/$X" --args "IgnoreUnknown=1;K8S_POD_NAME=x"
expect_eq "config hook = xdp: ADD" 0 "$RC"
VX=$(host_veth "$X")
xdp_on() { "$BH" debug hooks "$1" --json | python3 -c 'import json,sys; print(sum(p["ours"] for p in json.load(sys.stdin)["xdp"]))'; }
expect_eq "config hook = xdp: XDP program on $VX" 1 "$(xdp_on "$VX")"
CONF=$W/ptp.conflist drv del --cid cid-x --netns "/run/netns/$X" --args "IgnoreUnknown=1;K8S_POD_NAME=x"
expect_eq "config hook = xdp: DEL" "0 " "$RC $(workload_line ptp/x)"
rm -f "$BULKHEAD_STATE_DIR/config"

# ------------------------------------------------------------ errors
GOOD="\"cniVersion\":\"1.0.0\",\"name\":\"$NET\",\"type\":\"bulkhead-cni\",\"stateDir\":\"$BULKHEAD_STATE_DIR\",\"bpffs\":\"$BULKHEAD_BPFFS\""
direct ADD "{$GOOD,\"mode\":\"block\",\"prevResult\":{}}"
expect_eq "bad config (mode): code 7" "1 7" "$RC $(code_of "$OUT")"
direct ADD "{$GOOD,\"labels\":{\"app\":\"a b\"},\"prevResult\":{}}"
expect_eq "bad config (label): code 7" "1 7" "$RC $(code_of "$OUT")"
direct ADD "{$GOOD,\"prevResult\":{\"interfaces\":[{\"name\":\"x\"}],\"ips\":[{\"address\":\"nonsense\"}]}}"
expect_eq "bad prevResult: code 7" "1 7" "$RC $(code_of "$OUT")"
direct ADD "{$GOOD}"
expect_eq "ADD without prevResult (not chained): code 7" "1 7" "$RC $(code_of "$OUT")"
direct ADD "{$GOOD,"
expect_eq "bad JSON: code 6" "1 6" "$RC $(code_of "$OUT")"
direct ADD "{\"cniVersion\":\"0.2.0\",\"name\":\"$NET\",\"prevResult\":{}}"
expect_eq "unknown cniVersion: code 1" "1 1" "$RC $(code_of "$OUT")"
direct ADD "{$GOOD,\"prevResult\":{}}" CNI_NETNS=
expect_eq "ADD without CNI_NETNS: code 4" "1 4" "$RC $(code_of "$OUT")"
direct FROB "{$GOOD}"
expect_eq "unknown CNI_COMMAND: code 4" "1 4" "$RC $(code_of "$OUT")"
expect_eq "error JSON has msg and cniVersion" "True 1.0.0" \
	"$(jq_py "$OUT" 'bool(d["msg"])') $(jq_py "$OUT" 'd["cniVersion"]')"
# Through the chain: the config error stops ADD at bulkhead-cni; the
# runtime's DEL then cleans the bridge side up.
bh_conf ',"mode":"block"' >"$W/bad.conflist"
E=bhc-$BH_TAG-e
mk_netns "$E"
CONF=$W/bad.conflist drv add --cid cid-e --netns "/run/netns/$E" --args "IgnoreUnknown=1"
expect_eq "chain ADD with a bad bulkhead-cni config fails with code 7" "1 7" "$RC $(code_of "$OUT")"
CONF=$W/bad.conflist drv del --cid cid-e --netns "/run/netns/$E" --args "IgnoreUnknown=1"
expect_eq "runtime DEL after it" 0 "$RC"
expect_eq "no record for e" 0 "$(nr_records cid-e)"

# ------------------------------------------------------------ concurrency
# Four ADDs at once while the CLI applies policies: the shared lock keeps
# store and maps consistent; every ADD and apply must succeed.
cat >"$W/pol.yaml" <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: par, namespace: proto}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
EOF
pids=()
for i in 1 2 3 4; do
	mk_netns "bhc-$BH_TAG-p$i"
	( drv add --cid "cid-par-$i" --netns "/run/netns/bhc-$BH_TAG-p$i" --args "IgnoreUnknown=1;K8S_POD_NAME=par-$i"
	  exit $RC ) >/dev/null &
	pids+=($!)
done
( for j in 1 2 3; do "$BH" policy apply -f "$W/pol.yaml" || exit 1; done ) >/dev/null 2>&1 &
pids+=($!)
nok=0
for p in "${pids[@]}"; do wait "$p" && nok=$((nok + 1)); done
expect_eq "4 parallel ADDs and 3 policy applies succeed" 5 "$nok"
expect_eq "the 4 are registered and recorded" "4 4" \
	"$(for i in 1 2 3 4; do workload_line proto/par-$i; done | grep -c par) $(nr_records | tr -d ' ')"
for i in 1 2 3 4; do
	drv del --cid "cid-par-$i" --netns "/run/netns/bhc-$BH_TAG-p$i" --args "IgnoreUnknown=1;K8S_POD_NAME=par-$i"
done
"$BH" policy delete proto/par >/dev/null 2>&1
expect_eq "parallel ones removed" 0 "$(nr_records)"

# ------------------------------------------------------------ GC, STATUS
# Bridge 1.1.1 knows neither GC nor 1.1.0: a bulkhead-cni-only list of
# the same network name stands for the 1.1.0 runtime.
cat >"$W/gc.conflist" <<EOF
{"cniVersion":"1.1.0","name":"$NET","plugins":[{"type":"bulkhead-cni","namespace":"proto",
 "stateDir":"$BULKHEAD_STATE_DIR","bpffs":"$BULKHEAD_BPFFS"}]}
EOF
F=bhc-$BH_TAG-f G=bhc-$BH_TAG-g
mk_netns "$F"; mk_netns "$G"
drv add --cid cid-f --netns "/run/netns/$F" --args "IgnoreUnknown=1;K8S_POD_NAME=f"
drv add --cid cid-g --netns "/run/netns/$G" --args "IgnoreUnknown=1;K8S_POD_NAME=g"
VF=$(host_veth "$F")
expect_eq "f and g recorded" "1 1" "$(nr_records cid-f) $(nr_records cid-g)"
CONF=$W/gc.conflist drv gc --valid cid-g:eth0 --no-cached-del
expect_eq "GC keeping only g" 0 "$RC"
expect_eq "GC dropped f's record and workload" "0 " "$(nr_records cid-f) $(workload_line proto/f)"
expect_eq "GC left no programs on $VF" "" "$(hook_ids "$VF")"
expect_eq "GC kept g" "1 proto/g" "$(nr_records cid-g) $(workload_line proto/g | cut -d' ' -f1)"
drv del --cid cid-f --netns "/run/netns/$F" --args "IgnoreUnknown=1;K8S_POD_NAME=f"
drv del --cid cid-g --netns "/run/netns/$G" --args "IgnoreUnknown=1;K8S_POD_NAME=g"
expect_eq "all records gone" 0 "$(nr_records)"
CONF=$W/gc.conflist drv status
expect_eq "STATUS ready" 0 "$RC"
sed "s|\"bpffs\":\"$BULKHEAD_BPFFS\"|\"bpffs\":\"$W/not-bpffs\"|" "$W/gc.conflist" >"$W/nr.conflist"
CONF=$W/nr.conflist drv status
expect_eq "STATUS with a bpffs path that is no bpffs: code 50" "1 50" "$RC $(code_of "$OUT")"

# ------------------------------------------------------------ leftovers
expect_eq "no workloads left" "" "$("$BH" workload list --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("workloads", []) if isinstance(d, dict) else d
print(" ".join(w["name"] for w in d))')"
expect_eq "no leases left in host-local" "" \
	"$(ls "$W/ipam/$NET" 2>/dev/null | grep -v -e last_reserved_ip -e lock)"
expect_eq "no cache files left" "" "$(ls "$W/cache")"
