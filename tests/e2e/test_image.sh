#!/usr/bin/env bash
# The image and the DaemonSet: `make image`'s build (docs/deploy/mkimage.sh)
# into a private podman store, pulling nothing; then the
# DaemonSet's pod template run with podman (tests/lib/ds_to_podman.py
# turns each container into `podman run` with its command, env, privilege,
# host network and mounts; hostPath volumes are directories of this test
# and the pin dir is this test's, so nothing of the host's is touched):
# the init container chains bulkhead-cni after a bridge conflist, the
# agent loads the programs with its config from the ConfigMap and no
# syslog; /healthz and /metrics answer; "pods" created through the chain
# (libcni's steps, tests/lib/cni_driver.py, real netns) are enforced by a
# policy applied inside the agent's container.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init image
W=$BULKHEAD_STATE_DIR/w
mkdir -p "$W"/{proot,prun,ptmp,cnibin,netd,config,ipam,cache,state}
# Pods come with K8S_POD_NAME but no API server watches them here: without
# `unknown_pod = allow` they would stay closed (docs/kubernetes.md).
echo "unknown_pod = allow" >"$W/state/config"
PORT=21530
T=bi$BH_TAG
NS_A=$T-a NS_B=$T-b NS_C=$T-c
P=(podman --root "$W/proot" --runroot "$W/prun" --tmpdir "$W/ptmp" --storage-driver vfs
   --network-backend cni --runtime runc --cgroup-manager cgroupfs)
RUN=(run --ulimit nofile=20000:20000 --ulimit nproc=1000:1000)
bh_on_exit "${P[*]} rm -af >/dev/null 2>&1; ${P[*]} rmi -af >/dev/null 2>&1; umount -R '$W/prun' 2>/dev/null; rm -rf '$W/proot' 2>/dev/null"

# ---- the image
out=$(PODMAN="${P[*]}" BUILD=$BUILD "$BH_ROOT/docs/deploy/mkimage.sh" 2>&1); rc=$?
echo "$out"
expect_eq "image builds" 0 "$rc"
size=$("${P[@]}" image inspect --format '{{.Size}}' localhost/bulkhead:latest)
ver=$(cat "$BH_ROOT/ctl/VERSION")
expect_eq "tagged :$ver and :latest, same image" \
	"$("${P[@]}" image inspect --format '{{.Id}}' localhost/bulkhead:$ver)" \
	"$("${P[@]}" image inspect --format '{{.Id}}' localhost/bulkhead:latest)"
# its size is a figure with a target (image_bytes in bench/bench_deliver.sh,
# make bench), not a pass/fail of this test
expect_eq "one layer, no base image" 1 "$("${P[@]}" image inspect --format '{{len .RootFS.Layers}}' localhost/bulkhead:latest)"
expect_ok "make image prints the size" grep -q "localhost/bulkhead:$ver (also :latest): $size bytes" <<<"$out"
# no shell in the image (the init container runs bulkhead-cni install)
sh_rc=0
sh_out=$("${P[@]}" "${RUN[@]}" --rm --network none --entrypoint /bin/sh localhost/bulkhead:latest -c true 2>&1) || sh_rc=$?
expect_ok "no shell in the image: /bin/sh does not start (exit $sh_rc)" test "$sh_rc" -ne 0
expect_ok "... because it is not there ($sh_out)" grep -Eqi '/bin/sh.*(not found|no such file)' <<<"$sh_out"

# ---- the manifests' files: ConfigMaps as directories
/usr/bin/python3 - "$BH_ROOT/docs/deploy" "$W" "$PORT" <<'PY'
import sys, yaml
d, w, port = sys.argv[1:]
a = yaml.safe_load(open(f"{d}/configmap.yaml"))["data"]["agent.yaml"]
assert "0.0.0.0:9109" in a
# no API server here: the image runs without the API watch, which
# tests/netns/test_k8s_watch.sh and test_k8s_cluster.sh drive against the
# stand-in API server
assert "kubernetes: {}" in a
a = "\n".join(l for l in a.split("\n") if l.strip() != "kubernetes: {}")
# the test's port in the test range, on loopback
open(f"{w}/config/agent.yaml", "w").write(a.replace("0.0.0.0:9109", f"127.0.0.1:{port}"))
PY
printf '%s\n' "bpffs=/sys/fs/bpf" "state=$W/state" "cni-bin=$W/cnibin" "cni-conf=$W/netd" \
	"config=$W/config" "env:BULKHEAD_BPFFS=$BULKHEAD_BPFFS" \
	"env:HOST_STATE_DIR=$W/state" "env:HOST_BPFFS=$BULKHEAD_BPFFS" >"$W/map"
DS=$BH_ROOT/docs/deploy/daemonset.yaml
mapfile -t INIT < <(/usr/bin/python3 "$BH_ROOT/tests/lib/ds_to_podman.py" "$DS" install-cni "$W/map")
mapfile -t AGENT < <(/usr/bin/python3 "$BH_ROOT/tests/lib/ds_to_podman.py" "$DS" agent "$W/map")
expect_ok "agent container: privileged" grep -qx -- --privileged <(printf '%s\n' "${AGENT[@]}")
expect_ok "agent container: host network" grep -qx -- host <(printf '%s\n' "${AGENT[@]}")

# the node's primary network: a bridge conflist, as flannel or kindnet write one
printf '%s\n' "{\"cniVersion\":\"1.0.0\",\"name\":\"bi$BH_TAG\",\"plugins\":[{\"type\":\"bridge\"," \
	"\"bridge\":\"bib$BH_TAG\",\"isGateway\":true,\"ipMasq\":false,\"ipam\":{\"type\":\"host-local\"," \
	"\"dataDir\":\"$W/ipam\",\"ranges\":[[{\"subnet\":\"10.107.3.0/24\"}]]}}]}" >"$W/netd/10-bridge.conflist"
bh_on_exit "ip link del bib$BH_TAG"
expect_ok "init container (bulkhead-cni install) runs" "${P[@]}" "${RUN[@]}" --rm "${INIT[@]}"
expect_ok "bulkhead-cni from the image is on the host" test -x "$W/cnibin/bulkhead-cni"
expect_eq "the chain: bridge then bulkhead-cni" "bridge,bulkhead-cni" \
	"$(jq -r '[.plugins[].type] | join(",")' "$W/netd/00-bulkhead.conflist")"

# ---- the agent
"${P[@]}" "${RUN[@]}" -d --name bh-agent-$BH_TAG "${AGENT[@]}" >/dev/null
expect_eq "agent container started" 0 $?
bh_on_exit "${P[*]} rm -f -t 1 bh-agent-$BH_TAG"
H="curl -sS --max-time 3 http://127.0.0.1:$PORT"
bh_wait 150 $H/healthz -f || "${P[@]}" logs bh-agent-$BH_TAG 2>&1 | tail -20
expect_eq "/healthz: ready" "ok: programs loaded, flow ring read" "$($H/healthz)"
expect_eq "/readyz without the API watch: the same" "ok: programs loaded, flow ring read" "$($H/readyz)"
expect_ok "/metrics answers with bulkhead's metrics" bash -c "$H/metrics | grep -q '^bulkhead_'"
expect_ok "the agent runs without syslog" grep -qx "bh-agent-$BH_TAG" <("${P[@]}" ps --format '{{.Names}}')
expect_ok "the programs are pinned where the DaemonSet says" test -e "$BULKHEAD_BPFFS/bh_flows_v1"

# ---- pods through the chain
DRV=(/usr/bin/python3 "$BH_ROOT/tests/lib/cni_driver.py")
COMMON=(--conflist "$W/netd/00-bulkhead.conflist" --cache-dir "$W/cache" --cni-path "$W/cnibin:/usr/lib/cni")
pod() { # NETNS LABELS
	ip netns add "$1"; bh_on_exit "bh_del_netns $1"
	ip -n "$1" link set lo up
	expect_ok "CNI ADD of pod $1 ($2)" "${DRV[@]}" add "${COMMON[@]}" --cid "cid-$1" --netns "/run/netns/$1" \
		--args "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$1;BH_LABELS=$2"
	bh_on_exit "${DRV[*]} del ${COMMON[*]} --cid cid-$1 --netns /run/netns/$1"
}
pod $NS_A app:web
pod $NS_B app:db
pod $NS_C app:other
DB=$(ip -n $NS_B -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
bh_serve $NS_B tcp 5432; bh_serve $NS_B tcp 80
expect_ok "the pods are workloads of the agent's instance" grep -q "default/$NS_B" \
	<("${P[@]}" exec bh-agent-$BH_TAG bulkhead workload list)
expect_ok "no policy: web -> db:80" bh_wait 30 bh_tcp $NS_A "$DB" 80
printf '%s\n' "apiVersion: networking.k8s.io/v1" "kind: NetworkPolicy" \
	"metadata: {name: db, namespace: default}" "spec:" "  podSelector: {matchLabels: {app: db}}" \
	"  ingress:" "  - from: [{podSelector: {matchLabels: {app: web}}}]" \
	"    ports: [{protocol: TCP, port: 5432}]" >"$W/state/p.yaml"
expect_ok "policy applied inside the agent's container" \
	"${P[@]}" exec bh-agent-$BH_TAG bulkhead policy apply -f /var/lib/bulkhead/p.yaml
expect_ok "web -> db:5432 allowed" bh_tcp $NS_A "$DB" 5432
expect_fail "web -> db:80 denied" bh_tcp $NS_A "$DB" 80
expect_fail "other -> db:5432 denied" bh_tcp $NS_C "$DB" 5432
