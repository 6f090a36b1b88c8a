#!/usr/bin/env bash
# End to end with real podman 4.3.1 containers on a CNI network whose
# conflist chains bridge + host-local + bulkhead-cni: web, db and client
# containers; a NetworkPolicy applied with `bulkhead policy apply` holds
# between them; quarantine isolates a container; removing a container
# leaves nothing behind; 20 containers started and removed leak nothing.
#
# podman runs isolated from the system's configuration (own root, runroot,
# tmpdir, containers.conf and network config dir; see shared notes):
# nothing outside this test's directories changes except libcni's cache
# under /var/lib/cni/results, whose files for this network are removed.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rootfs.sh"
bh_test_init podman

[ -x "$BH_CNI" ] || { echo "FAIL - $BH_CNI is not built"; exit 1; }
[ -x "$BH" ] || { echo "FAIL - $BH is not built"; exit 1; }
command -v podman >/dev/null || bh_skip "podman is not installed"
command -v runc >/dev/null || bh_skip "runc is not installed"
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] ||
	bh_skip "containernetworking-plugins (bridge, host-local) missing"
BB=$(command -v busybox) || bh_skip "busybox-static is not installed"
file -L "$BB" 2>/dev/null | grep -q 'statically linked' || [ -x /bin/busybox ] ||
	bh_skip "no static busybox for the image"

T=$BH_TAG
R=/tmp/bh-pm-$T
NET=bhpm-$T
BR=bhp${T}br
SUBNET_PFX=10.196.$((16#$T % 250))
CACHE=/var/lib/cni/results
mkdir -p "$R"/{bin,net.d,ipam,root,runroot,tmp}
ln -s "$BH_CNI" "$R/bin/bulkhead-cni"

cat >"$R/net.d/$NET.conflist" <<EOF
{"cniVersion":"1.0.0","name":"$NET","plugins":[
 {"type":"bridge","bridge":"$BR","isGateway":true,"ipMasq":false,
  "ipam":{"type":"host-local","dataDir":"$R/ipam","ranges":[[{"subnet":"$SUBNET_PFX.0/24"}]]}},
 {"type":"bulkhead-cni","namespace":"shop","mode":"enforce",
  "stateDir":"$BULKHEAD_STATE_DIR","bpffs":"$BULKHEAD_BPFFS"}]}
EOF
printf '[network]\ncni_plugin_dirs = ["%s/bin", "/usr/lib/cni"]\n[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=1000:1000"]\n[engine]\nevents_logger = "file"\n' \
	"$R" >"$R/containers.conf"
bh_rootfs "$R/rootfs" HOSTNAME
tar -C "$R/rootfs" -cf "$R/bb.tar" .

export CONTAINERS_CONF=$R/containers.conf
P=(podman --root "$R/root" --runroot "$R/runroot" --tmpdir "$R/tmp" --storage-driver vfs
   --network-backend cni --runtime runc --cgroup-manager cgroupfs
   --network-config-dir "$R/net.d" --log-level error)
RUN_OPTS=(--network "$NET" --stop-timeout 1 --ulimit nofile=20000:20000 --ulimit nproc=1000:1000)
IMG=localhost/bh-bb-$T:latest

# Cleanup (reverse order): containers, image, bridge, cache files, mounts, dirs.
bh_on_exit "rm -rf '$R'"
bh_on_exit "grep -o ' $R[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"
bh_on_exit "rm -f $CACHE/$NET-*"
bh_on_exit "ip link del '$BR'"
bh_on_exit "${P[*]} rmi -f $IMG"
bh_on_exit "${P[*]} rm -af -t 0"

"${P[@]}" import "$R/bb.tar" "$IMG" >/dev/null 2>"$R/import.err" ||
	bh_skip "podman cannot import an image here: $(tail -n 1 "$R/import.err")"

# run NAME LABELS CMD...: a container; labels through podman's CNI_ARGS.
run() {
	local name=$1 labels=$2; shift 2
	CNI_ARGS="BH_LABELS=$labels" "${P[@]}" run -d --name "$name" "${RUN_OPTS[@]}" "$IMG" "$@" \
		>/dev/null 2>>"$R/run.err"
}
ip_of() { "${P[@]}" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
cid_of() { "${P[@]}" inspect -f '{{.Id}}' "$1"; }
# reach FROM IP PORT: a hand-written HTTP request (busybox wget segfaults here).
reach() {
	"${P[@]}" exec "$1" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 nc -w 2 $2 $3" 2>/dev/null |
		grep -q 'hello from web'
}

run "web-$T" app:web httpd -f -p 8080 -h /www
if [ $? -ne 0 ]; then
	bh_skip "podman cannot run a container here: $(tail -n 2 "$R/run.err" | tr '\n' ' ')"
fi
run "db-$T" app:db httpd -f -p 5432 -h /www || { fail "start db: $(tail -n 2 "$R/run.err")"; exit 1; }
run "client-$T" app:client sleep 600 || { fail "start client: $(tail -n 2 "$R/run.err")"; exit 1; }
WEB=$(ip_of "web-$T") DB=$(ip_of "db-$T")
expect_ok "web ($WEB) and db ($DB) have addresses" test -n "$WEB" -a -n "$DB"

# Workloads as bulkhead sees them: "ns/name ifname label,label".
wl() {
	"$BH" workload list --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("workloads", []) if isinstance(d, dict) else d
for w in d:
    labels = w.get("labels", {})
    if isinstance(labels, list):
        labels = {l["key"]: l["value"] for l in labels}
    print("%s/%s" % (w.get("ns", w.get("namespace")), w["name"]), w.get("ifname"),
          ",".join("%s=%s" % kv for kv in sorted(labels.items())))'
}
expect_eq "web registered by bulkhead-cni with its CNI_ARGS labels" "shop/web-$T app=web" \
	"$(wl | awk -v n="shop/web-$T" '$1 == n { print $1, $3 }')"
expect_eq "three workloads" 3 "$(wl | grep -c -- "-$T ")"

expect_ok "client -> web:8080 before any policy" reach "client-$T" "$WEB" 8080
expect_ok "client -> db:5432 before any policy" reach "client-$T" "$DB" 5432

cat >"$R/policy.yaml" <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-client, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{protocol: TCP, port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{protocol: TCP, port: 5432}]
EOF
expect_ok "bulkhead policy apply" "$BH" policy apply -f "$R/policy.yaml"
expect_ok "client -> web:8080 allowed by policy" reach "client-$T" "$WEB" 8080
expect_fail "client -> db:5432 denied by policy" reach "client-$T" "$DB" 5432
expect_ok "web -> db:5432 allowed by policy" reach "web-$T" "$DB" 5432

expect_ok "quarantine web" "$BH" quarantine "shop/web-$T" --reason e2e
expect_fail "client -> web:8080 while web is quarantined" reach "client-$T" "$WEB" 8080
expect_fail "web -> db:5432 while web is quarantined" reach "web-$T" "$DB" 5432
expect_ok "release web" "$BH" release "shop/web-$T"
expect_ok "client -> web:8080 after release" reach "client-$T" "$WEB" 8080

# ----------------------------------------------------------- leftovers
map_entries() { # pinned map NAME: number of entries
	bpftool map dump pinned "$BULKHEAD_BPFFS/$1" -j 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
records() {
	python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
	"SELECT count(*) FROM cni_attachments WHERE network=?", [sys.argv[2]]).fetchone()[0])' \
		"$BULKHEAD_STATE_DIR/state.db" "$NET"
}
# Interfaces carrying this instance's programs, sorted; must be exactly
# the live workloads' veths.
ours_ids() {
	for p in prog_tc_from_container prog_tc_to_container prog_xdp_egress; do
		bpftool prog show pinned "$BULKHEAD_BPFFS/$p" -j 2>/dev/null |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
	done
}
links_with_ours() {
	local ids
	ids=" $(ours_ids | tr '\n' ' ') "
	for dev in $(ip -o link show type veth | awk -F': ' '{ split($2, a, "@"); print a[1] }'); do
		python3 "$BH_ROOT/tests/lib/cni_driver.py" hooks "$dev" 2>/dev/null |
			python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(map(str, d["tcx_ingress"] + d["tcx_egress"] + d["clsact_ingress"] + d["clsact_egress"])))' |
			tr ' ' '\n' | while read -r id; do
				[ -n "$id" ] && [[ $ids == *" $id "* ]] && { echo "$dev"; break; }
			done
	done | sort -u | tr '\n' ' '
}
counts() {
	echo "workloads=$(wl | wc -l) map_workloads=$(map_entries bh_workloads_v1)" \
		"ipcache=$(map_entries bh_ipcache_v1) records=$(records)" \
		"results=$(ls "$CACHE" 2>/dev/null | grep -c "^$NET-")" \
		"veths=$(ip -o link show master "$BR" 2>/dev/null | wc -l)" \
		"leases=$(ls "$R/ipam/$NET" 2>/dev/null | grep -vc -e last_reserved_ip -e lock)" \
		"netns=$(ls /run/netns 2>/dev/null | grep -c '^netns-')"
}

expect_eq "programs exactly on the live workloads' veths" \
	"$(wl | grep -- "-$T " | awk '{ print $2 }' | sort | tr '\n' ' ')" "$(links_with_ours)"
DB_CID=$(cid_of "db-$T")
DB_VETH=$(wl | awk -v n="shop/db-$T" '$1 == n { print $2 }')
"${P[@]}" rm -f -t 1 "db-$T" >/dev/null 2>&1
expect_eq "db unregistered after podman rm" "" "$(wl | awk -v n="shop/db-$T" '$1 == n')"
expect_fail "db's veth $DB_VETH is gone" ip link show "$DB_VETH"
expect_eq "no record for db" 0 "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
	"SELECT count(*) FROM cni_attachments WHERE container_id=?", [sys.argv[2]]).fetchone()[0])' \
	"$BULKHEAD_STATE_DIR/state.db" "$DB_CID")"
expect_eq "no libcni cache file for db" "" "$(ls "$CACHE" 2>/dev/null | grep -- "-$DB_CID-")"
expect_eq "map entries: 2 workloads" 2 "$(map_entries bh_workloads_v1)"
expect_eq "db's address left the ipcache" 0 "$(bpftool map dump pinned "$BULKHEAD_BPFFS/bh_ipcache_v1" -j |
	python3 -c 'import json,sys,ipaddress
want = list(ipaddress.ip_address(sys.argv[1]).packed)
print(sum(1 for e in json.load(sys.stdin)
          if [int(b, 16) for b in e["key"][4:20]][12:] == want))' "$DB")"
expect_eq "programs exactly on the remaining workloads' veths" \
	"$(wl | grep -- "-$T " | awk '{ print $2 }' | sort | tr '\n' ' ')" "$(links_with_ours)"

# 20 containers in a row, each started and removed: nothing may leak.
BEFORE=$(counts)
started=0
for i in $(seq 1 20); do
	run "loop$i-$T" app:loop sleep 60 || fail "start loop$i: $(tail -n 1 "$R/run.err")"
	[ "$(wl | grep -c "^shop/loop$i-$T ")" = 1 ] && started=$((started + 1))
	"${P[@]}" rm -f -t 0 "loop$i-$T" >/dev/null 2>&1 || fail "rm loop$i"
done
expect_eq "each of the 20 was a registered workload while it ran" 20 "$started"
bh_wait 50 test "$(counts)" == "$BEFORE"
expect_eq "20 containers started and removed leak nothing" "$BEFORE" "$(counts)"
expect_eq "programs still exactly on the live workloads' veths" \
	"$(wl | grep -- "-$T " | awk '{ print $2 }' | sort | tr '\n' ' ')" "$(links_with_ours)"
