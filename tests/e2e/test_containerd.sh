#!/usr/bin/env bash
# End to end with real containerd (Debian's containerd 1.6) running
# containers through the CNI chain: `ctr run --cni` with bridge +
# host-local + bulkhead-cni. The same checks as the podman test: a policy
# holds from a container's first packet (enforce at birth), quarantine
# isolates a container, the CNI DEL that follows a container's end leaves
# nothing behind, 20 containers in a row leak nothing.
#
# Isolation: containerd runs with its own config, root, state and socket
# (tests/lib/containerd.sh). `ctr run --cni` reads its networks from
# /etc/cni/net.d and its plugins from /opt/cni/bin, with no option to
# change either, and keeps libcni's cache in /var/lib/cni: each ctr runs
# in a private mount namespace where those three paths are bind mounts of
# this test's directories, so nothing of the system's changes. ctr passes
# no per-container labels to CNI; each container gets its own conflist
# (the same network, bridge and address pool) whose bulkhead-cni entry
# carries the container's labels.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/containerd.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
bh_test_init containerd

[ -x "$BH_CNI" ] || { echo "FAIL - $BH_CNI is not built"; exit 1; }
[ -x "$BH" ] || { echo "FAIL - $BH is not built"; exit 1; }
command -v containerd >/dev/null || bh_skip "containerd is not installed"
command -v ctr >/dev/null || bh_skip "ctr (containerd) is not installed"
command -v runc >/dev/null || bh_skip "runc is not installed"
command -v unshare >/dev/null || bh_skip "unshare (util-linux) is not installed"
command -v jq >/dev/null || bh_skip "jq is not installed"
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] ||
	bh_skip "containernetworking-plugins (bridge, host-local) missing"
BB=/bin/busybox
[ -x "$BB" ] || bh_skip "busybox-static is not installed"

T=$BH_TAG
R=$(mktemp -d /tmp/bh-ctd-XXXXXX)
NET=bhctd-$T
BR=bhc${T}br
SUB=10.110.$((16#$T % 250))
CNS=b$T			# containerd namespace
# ctr names the CNI container id NS-NAME; without K8S_POD_NAME,
# bulkhead-cni names the workload after its first 12 characters
W() { echo "ctd/$CNS-$1"; }
bh_on_exit "rm -rf '$R'"
bh_on_exit "bh_umount_under '$R'"
bh_on_exit "ip link del '$BR'"

mkdir -p "$R"/{opt/cni/bin,varcni,ipam,hits}
for p in bridge host-local loopback; do ln -s "/usr/lib/cni/$p" "$R/opt/cni/bin/$p"; done
ln -s "$BH_CNI" "$R/opt/cni/bin/bulkhead-cni"
bh_rootfs "$R/rootfs" WHO

bh_containerd_start "$R" || bh_skip "containerd does not start here: $(tail -n 1 "$R/ctd.log")"
CTR=(ctr --address "$R/ctd.sock" -n "$CNS")
bh_on_exit "for c in \$(${CTR[*]} task ls -q 2>/dev/null); do ${CTR[*]} task kill -s SIGKILL \$c; done; sleep 1; for c in \$(${CTR[*]} c ls -q 2>/dev/null); do ${CTR[*]} task rm -f \$c; ${CTR[*]} c rm \$c; done"

# conflist NAME LABELS_JSON: this container's network config
conflist() {
	mkdir -p "$R/nd-$1"
	cat >"$R/nd-$1/00-$NET.conflist" <<EOF
{"cniVersion":"1.0.0","name":"$NET","plugins":[
 {"type":"bridge","bridge":"$BR","isGateway":true,"ipMasq":false,
  "ipam":{"type":"host-local","dataDir":"$R/ipam","ranges":[[{"subnet":"$SUB.0/24"}]]}},
 {"type":"bulkhead-cni","namespace":"ctd","mode":"enforce","labels":$2,
  "stateDir":"$BULKHEAD_STATE_DIR","bpffs":"$BULKHEAD_BPFFS"}]}
EOF
}
declare -A CTR_PID
# run NAME LABELS_JSON CMD...: `ctr run --rm --cni` in the foreground of a
# background job (it sends the CNI DEL when the task ends)
run() {
	local name=$1 labels=$2; shift 2
	conflist "$name" "$labels"
	unshare -m --propagation private sh -c '
		mount --bind "$1/nd-$2" /etc/cni/net.d && mount --bind "$1/opt" /opt &&
		mount --bind "$1/varcni" /var/lib/cni && shift 2 && exec "$@"' sh "$R" "$name" \
		"${CTR[@]}" run --rm --cni --rootfs --env PATH=/bin --env "SRV=$name" --env "WHO=$name" \
		--mount "type=bind,src=$R/hits,dst=/hits,options=rbind:rw" \
		"$R/rootfs" "$name" "$@" >>"$R/run-$name.log" 2>&1 &
	CTR_PID[$name]=$!
}
# stop NAME: kill the task; the ctr in front of it sends DEL and exits
stop() {
	"${CTR[@]}" task kill -s SIGKILL "$1" >/dev/null 2>&1
	local pid=${CTR_PID[$1]} n=100
	while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	! kill -0 "$pid" 2>/dev/null
}
[ -d /var/lib/cni ] || mkdir -p /var/lib/cni	# a mount point (empty) if absent
wl_json() { "$BH" workload list --json 2>/dev/null; }
wl_field() { wl_json | jq -r --arg w "$1" --arg f "$2" '.[] | select(.workload == $w) | .[$f] // empty | tostring'; }
wl_ip() { wl_json | jq -r --arg w "$1" '.[] | select(.workload == $w) | .ips[0] // empty'; }
registered() { [ -n "$(wl_field "$(W "$1")" ifname)" ]; }
exec_in() { local c=$1; shift; "${CTR[@]}" task exec --exec-id "e$RANDOM$RANDOM" "$c" "$@"; }
reach() { # reach FROM IP PORT: an HTTP answer from busybox httpd
	exec_in "$1" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 nc -w 2 $2 $3" 2>/dev/null |
		grep -q 'hello from web'
}
hits() { cat "$R/hits/$1" 2>/dev/null | grep -c "^$2\$"; }
hits_gt() { [ "$(hits "$1" "$2")" -gt "$3" ]; }

run web '{"app":"web"}' httpd -f -p 8080 -h /www
if ! bh_wait 100 registered web; then
	bh_skip "ctr run --cni does not start a container here: $(tail -n 2 "$R/run-web.log" | tr '\n' ' ')"
fi
run db '{"app":"db"}' nc -ll -p 5432 -e /bin/hit
run client '{"app":"client"}' sleep 600
expect_ok "db registered" bh_wait 100 registered db
expect_ok "client registered" bh_wait 100 registered client
WEB=$(wl_ip "$(W web)") DB=$(wl_ip "$(W db)")
expect_ok "web ($WEB) and db ($DB) have addresses" test -n "$WEB" -a -n "$DB"
expect_eq "web's labels from its conflist" '{"app":"web"}' \
	"$(wl_json | jq -c --arg w "$(W web)" '.[] | select(.workload == $w) | .labels')"
expect_ok "client -> web:8080 before any policy" reach client "$WEB" 8080

cat >"$R/policy.yaml" <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-client, namespace: ctd}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}, {podSelector: {matchLabels: {tier: probe}}}]
    ports: [{protocol: TCP, port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: probes-to-web-only, namespace: ctd}
spec:
  podSelector: {matchLabels: {tier: probe}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{protocol: TCP, port: 8080}]
EOF
expect_ok "bulkhead policy apply" "$BH" policy apply -f "$R/policy.yaml"
expect_ok "client -> web:8080 allowed by policy" reach client "$WEB" 8080
expect_fail "db -> web:8080 denied by policy" reach db "$WEB" 8080

# ------------------------------------------------------ enforce at birth
# A container whose first command connects to db every 100 ms for 3 s:
# its policy lets it reach web only. A control without the tier label
# reaches db, so a leak would be seen.
probe_done() { ! "${CTR[@]}" task ps "$1" 2>/dev/null | awk 'NR > 1 { print $1 }' |
	xargs -r -I{} cat /proc/{}/cmdline 2>/dev/null | tr '\0' ' ' | grep -q 'nc -w 1'; }
run ctl '{"app":"ctl"}' probe "$DB:5432"
run probe '{"tier":"probe"}' probe "$DB:5432"
expect_ok "the control reaches db" bh_wait 100 hits_gt db ctl 0
expect_ok "the probe's rounds are over" bh_wait 100 probe_done probe
expect_eq "the probe never reached db, not even with its first packet" 0 "$(hits db probe)"
expect_ok "the probe reaches web (allowed)" reach probe "$WEB" 8080

# ------------------------------------------------------------ quarantine
expect_ok "quarantine web" "$BH" quarantine "$(W web)" --reason e2e
expect_fail "client -> web:8080 while web is quarantined" reach client "$WEB" 8080
expect_ok "release web" "$BH" release "$(W web)"
expect_ok "client -> web:8080 after release" reach client "$WEB" 8080

# ------------------------------------------------------------ DEL cleanup
map_entries() {
	bpftool map dump pinned "$BULKHEAD_BPFFS/$1" -j 2>/dev/null | jq length
}
records() {
	python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
	"SELECT count(*) FROM cni_attachments WHERE network=?", [sys.argv[2]]).fetchone()[0])' \
		"$BULKHEAD_STATE_DIR/state.db" "$NET"
}
counts() {
	echo "workloads=$(wl_json | jq length) map_workloads=$(map_entries bh_workloads_v1)" \
		"ipcache=$(map_entries bh_ipcache_v1) records=$(records)" \
		"veths=$(ip -o link show master "$BR" 2>/dev/null | wc -l)" \
		"leases=$(ls "$R/ipam/$NET" 2>/dev/null | grep -vc -e last_reserved_ip -e lock)" \
		"cache=$(ls "$R/varcni/results" 2>/dev/null | wc -l)" \
		"containers=$("${CTR[@]}" c ls -q | wc -l)"
}
DB_VETH=$(wl_field "$(W db)" ifname)
expect_ok "db stopped; its ctr sent DEL and exited" stop db
expect_eq "db unregistered after DEL" "" "$(wl_field "$(W db)" ifname)"
expect_fail "db's veth $DB_VETH is gone" ip link show "$DB_VETH"
expect_eq "db's address left the ipcache" 0 "$(bpftool map dump pinned "$BULKHEAD_BPFFS/bh_ipcache_v1" -j |
	python3 -c 'import json,sys,ipaddress
want = list(ipaddress.ip_address(sys.argv[1]).packed)
print(sum(1 for e in json.load(sys.stdin)
          if [int(b, 16) for b in e["key"][4:20]][12:] == want))' "$DB")"
expect_eq "no lease left for db" "" "$(grep -l "db" "$R/ipam/$NET/"* 2>/dev/null | grep -v last_reserved)"
expect_eq "records: web, client, ctl, probe" 4 "$(records)"

# ---------------------------------------------- 20 containers in a row
BEFORE=$(counts)
started=0
for i in $(seq 1 20); do
	run "loop$i" '{"app":"loop"}' sleep 60
	bh_wait 100 registered "loop$i" && started=$((started + 1))
	stop "loop$i" || fail "loop$i: ctr did not exit"
done
expect_eq "each of the 20 was a registered workload while it ran" 20 "$started"
same() { [ "$(counts)" == "$BEFORE" ]; }
bh_wait 50 same
expect_eq "20 containers started and removed leak nothing" "$BEFORE" "$(counts)"

for c in web client ctl probe; do stop "$c" || fail "$c: ctr did not exit"; done
expect_eq "all gone: no workload, record, veth, lease, cache file or container" \
	"workloads=0 map_workloads=0 ipcache=0 records=0 veths=0 leases=0 cache=0 containers=0" "$(counts)"
