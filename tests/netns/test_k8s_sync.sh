#!/usr/bin/env bash
# The Kubernetes sync loop (docs/deploy/policy-sync.sh), one round at a
# time, against a stub kubectl (tests/lib/fake_kubectl) serving the JSON
# fixtures of tests/lib/k8s, and a real bulkhead instance with workloads on
# real veths. Round 1: namespace labels, this node's pod labels and the
# NetworkPolicies reach bulkhead and traffic follows. Round 2: a pod label,
# a namespace label and a policy are gone from the API, and bulkhead
# follows: labels removed, policy deleted, verdicts flip. Also: label values
# from the API are data (shell syntax and a smuggled newline stay inert), a
# policy bulkhead refuses does not hold back the others, an unchanged round
# changes nothing, and an API error removes nothing.
# Not a cluster: no API server, kubelet or runtime is involved.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init k8s_sync
T=bk$BH_TAG
command -v jq >/dev/null || bh_skip "jq is not installed (policy-sync.sh needs it)"

SYNC=$BH_ROOT/docs/deploy/policy-sync.sh
FIX=$BH_ROOT/tests/lib/k8s
D=$BULKHEAD_STATE_DIR
API=$D/api          # what the stub kubectl serves
BIN=$D/bin          # kubectl (the stub) and a bulkhead that logs its argv
mkdir -p "$API" "$BIN" "$D/cwd"
ln -s "$BH_ROOT/tests/lib/fake_kubectl" "$BIN/kubectl"
# One line per bulkhead call, argv elements separated by '|'.
printf '#!/bin/sh\n(IFS="|"; printf "%%s\\n" "$*") >>"%s"\nexec "%s" "$@"\n' \
	"$D/bh-calls" "$BH" >"$BIN/bulkhead"
chmod +x "$BIN/bulkhead"

# serve SUFFIX: the fixtures of a round ("" or "-2")
serve() {
	local f
	for f in namespaces pods networkpolicies; do cp "$FIX/$f$1.json" "$API/$f.json"; done
}
# sync_once: one round of the sync script as the DaemonSet runs it (sh =
# dash here), on node-a; stderr in $D/sync.err, exit status in $RC.
sync_once() {
	: >"$D/bh-calls"
	: >"$API/calls"
	(cd "$D/cwd" && PATH=$BIN:$PATH NODE_NAME=node-a FAKE_KUBECTL_DIR=$API TMPDIR=$D \
		SYNC_ONCE=1 sh "$SYNC") >"$D/sync.out" 2>"$D/sync.err"
	RC=$?
	sed 's/^/     sync: /' "$D/sync.err"
}
labels_of() { $BH --json workload list | jq -cS --arg w "$1" '.[] | select(.workload == $w) | .labels'; }
ns_labels() { $BH --json namespace list | jq -cS --arg n "$1" '.[] | select(.namespace == $n) | .labels'; }
policies() { $BH --json policy list | jq -r '[.[] | "\(.kind):\(.namespace)/\(.name)"] | sort | join(" ")'; }
err_has() { grep -qF -- "$1" "$D/sync.err"; }

bh_mk_workload $T-w "$T"w 10.77.41.10/32 10.77.41.1   # pod front/web-1
bh_mk_workload $T-d "$T"d 10.77.41.20/32 10.77.41.1   # pod shop/db-0
bh_mk_workload $T-h "$T"h 10.77.41.30/32 10.77.41.1   # front/hand-made, attached by hand
for p in 5432 6379 9100 8080 7000; do bh_serve $T-d tcp $p; done
# As the CNI plugin registers pods (K8S_POD_NAMESPACE/K8S_POD_NAME); db-0
# carries a label its pod does not have.
expect_ok "attach front/web-1" $BH attach "$T"w --workload front/web-1 --ip 10.77.41.10 --label app=web
expect_ok "attach shop/db-0" $BH attach "$T"d --workload shop/db-0 --ip 10.77.41.20 \
	--label app=db --label stale=yes
expect_ok "attach front/hand-made" $BH attach "$T"h --workload front/hand-made --ip 10.77.41.30 \
	--label app=tool
# A native policy applied by hand (selects nobody): the sync must leave it.
cat >"$D/native.yaml" <<'YAML'
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: hand-made, namespace: shop}
spec:
  selector: {matchLabels: {app: nothing-here}}
  ingress: [{from: [{ipBlock: {cidr: 192.0.2.0/24}}], ports: [{port: 22}]}]
YAML
expect_ok "native policy applied by hand" $BH policy apply -f "$D/native.yaml"

# The configmap carries the same script the test runs.
expect_ok "scripts-configmap.yaml embeds docs/deploy/policy-sync.sh verbatim" python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
assert len(docs) == 1 and docs[0]["kind"] == "ConfigMap", docs
assert docs[0]["data"]["policy-sync.sh"] == open(sys.argv[2]).read(), "embedded copy differs"
' "$BH_ROOT/docs/deploy/scripts-configmap.yaml" "$SYNC"

# The configmap's install-cni.sh chains bulkhead-cni after the node's
# primary conflist (here a flannel-like one), twice without duplicating it.
mkdir -p "$D/cni/bin" "$D/cni/net.d"
python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["install-cni.sh"], end="")' \
	"$BH_ROOT/docs/deploy/scripts-configmap.yaml" >"$D/install-cni.sh"
echo '{"cniVersion": "1.0.0", "name": "cbr0", "plugins": [{"type": "bridge", "bridge": "cni0",
 "ipam": {"type": "host-local", "subnet": "10.244.0.0/24"}}, {"type": "portmap"}]}' \
	>"$D/cni/net.d/10-flannel.conflist"
for i in 1 2; do
	CNI_BIN_DIR=$D/cni/bin CNI_NET_DIR=$D/cni/net.d BULKHEAD_CNI=$BH_CNI BULKHEAD_MODE=monitor \
		sh "$D/install-cni.sh" >/dev/null 2>&1
	expect_eq "install-cni.sh run $i exits 0" 0 $?
done
expect_ok "install-cni.sh installed bulkhead-cni" cmp -s "$BH_CNI" "$D/cni/bin/bulkhead-cni"
expect_eq "00-bulkhead.conflist = primary + bulkhead-cni, once" \
	'cbr0 bridge,portmap,bulkhead-cni monitor /var/lib/bulkhead /sys/fs/bpf/bulkhead' \
	"$(jq -r '"\(.name) \([.plugins[].type] | join(",")) \(.plugins[-1] | "\(.mode) \(.stateDir) \(.bpffs)")"' \
		"$D/cni/net.d/00-bulkhead.conflist")"

# ---------------------------------------------------------------- round 1
serve ""
sync_once
expect_eq "round 1 exits 1 (one policy refused)" 1 "$RC"
expect_ok "the refused policy is named in the log" err_has 'NetworkPolicy "shop/db-named-port" refused'
expect_eq "nothing else failed" 1 "$(grep -cE 'refused|failed|cannot' "$D/sync.err")"
expect_ok "kubectl asked for this node's pods only" \
	grep -qx -- 'get pods -A --field-selector spec.nodeName=node-a -o json' "$API/calls"
expect_eq "NetworkPolicies applied, native policy kept" \
	"NetworkPolicy:shop/db-from-frontend NetworkPolicy:shop/db-from-prod-web NetworkPolicy:shop/db-from-team-blue NetworkPolicy:shop/db-metrics Policy:shop/hand-made" \
	"$(policies)"
expect_eq "namespace front labels" \
	'{"env":"prod","kubernetes.io/metadata.name":"front","team":"blue"}' "$(ns_labels front)"
expect_eq "namespace shop labels" '{"kubernetes.io/metadata.name":"shop","tier":"data"}' "$(ns_labels shop)"
expect_eq "web-1 labels = its pod's valid labels" \
	'{"app":"web","pod-template-hash":"7c9f8d","role":"frontend","tier":"1"}' "$(labels_of front/web-1)"
expect_eq "db-0 labels = its pod's, stale=yes removed" \
	'{"app":"db","controller-revision-hash":"db-6d4cf56db6","statefulset.kubernetes.io/pod-name":"db-0"}' \
	"$(labels_of shop/db-0)"
expect_eq "hand-made (its namesake pod is on node-b) untouched" '{"app":"tool"}' "$(labels_of front/hand-made)"
expect_ok "label value with shell syntax skipped and logged" \
	err_has 'front/web-1: label "note"="$(touch pwned) `touch pwned`" skipped'
expect_ok "label key with a blank skipped and logged" err_has 'front/web-1: label "bad key"="x" skipped'
expect_fail "no command ran from a label value" test -e "$D/cwd/pwned"
# The stub bulkhead joins argv with '|': each label is one element, only
# the differences are sent.
expect_ok "web-1: set role, tier, pod-template-hash (one argv element each)" grep -qxF \
	'workload|label|front/web-1|role=frontend|tier=1|pod-template-hash=7c9f8d' "$D/bh-calls"
expect_ok "db-0: set two labels, --remove stale" grep -qxF \
	'workload|label|shop/db-0|statefulset.kubernetes.io/pod-name=db-0|controller-revision-hash=db-6d4cf56db6|--remove|stale' \
	"$D/bh-calls"
expect_ok "web (role=frontend) -> db:5432 allowed (podSelector)" bh_tcp $T-w 10.77.41.20 5432
expect_ok "web (ns team=blue) -> db:6379 allowed (namespaceSelector)" bh_tcp $T-w 10.77.41.20 6379
expect_ok "web (ns front) -> db:9100 allowed (db-metrics)" bh_tcp $T-w 10.77.41.20 9100
expect_ok "web (app=web in ns env=prod) -> db:8080 allowed" bh_tcp $T-w 10.77.41.20 8080
expect_fail "web -> db:7000 denied (db isolated, no policy)" bh_tcp $T-w 10.77.41.20 7000

# ------------------------------------------- round 1 again: nothing to do
sync_once
expect_eq "unchanged round: still only the refused policy fails" 1 "$RC"
expect_eq "unchanged round: no label calls" 0 "$(grep -c '|label|' "$D/bh-calls")"
expect_eq "unchanged round: no policy deleted" 0 "$(grep -c '^policy|delete' "$D/bh-calls")"

# ---------------------------------------------------------------- round 2
serve "-2"
sync_once
expect_eq "round 2 exits 0" 0 "$RC"
expect_eq "db-metrics deleted, the rest kept" \
	"NetworkPolicy:shop/db-from-frontend NetworkPolicy:shop/db-from-prod-web NetworkPolicy:shop/db-from-team-blue Policy:shop/hand-made" \
	"$(policies)"
expect_eq "namespace front: team removed, env kept" \
	'{"env":"prod","kubernetes.io/metadata.name":"front"}' "$(ns_labels front)"
expect_eq "web-1: role removed, tier changed to 2" \
	'{"app":"web","pod-template-hash":"7c9f8d","tier":"2"}' "$(labels_of front/web-1)"
expect_ok "newline-smuggling value skipped and logged" err_has 'label "evil"="a\nS role=frontend" skipped'
expect_fail "web (role removed) -> db:5432 denied" bh_tcp $T-w 10.77.41.20 5432
expect_fail "web (team removed) -> db:6379 denied" bh_tcp $T-w 10.77.41.20 6379
expect_fail "web -> db:9100 denied (policy deleted)" bh_tcp $T-w 10.77.41.20 9100
expect_ok "web -> db:8080 still allowed" bh_tcp $T-w 10.77.41.20 8080

# ------------------------------------- API errors: nothing is removed
rm -f "$API/pods.json" "$API/networkpolicies.json"
jq '.items = []' "$FIX/pods.json" >"$API/pods-empty.json"
sync_once
expect_eq "API error round exits 1" 1 "$RC"
expect_ok "the pod listing error is logged" err_has "cannot list the pods of node node-a"
expect_ok "the NetworkPolicy listing error is logged" err_has "cannot list NetworkPolicies"
expect_eq "no label or policy change on API errors" 0 "$(grep -cE '\|label\||^policy\|delete' "$D/bh-calls")"
expect_eq "policies kept on API errors" \
	"NetworkPolicy:shop/db-from-frontend NetworkPolicy:shop/db-from-prod-web NetworkPolicy:shop/db-from-team-blue Policy:shop/hand-made" \
	"$(policies)"
expect_eq "web-1 labels kept on API errors" \
	'{"app":"web","pod-template-hash":"7c9f8d","tier":"2"}' "$(labels_of front/web-1)"
# An empty but valid answer is the API's word: the policies go.
mv "$API/pods-empty.json" "$API/pods.json"
jq '.items = []' "$FIX/networkpolicies.json" >"$API/networkpolicies.json"
sync_once
expect_eq "empty NetworkPolicy list: all NetworkPolicies deleted, native kept" \
	"Policy:shop/hand-made" "$(policies)"
expect_eq "a registered workload without a pod keeps its labels" \
	'{"app":"web","pod-template-hash":"7c9f8d","tier":"2"}' "$(labels_of front/web-1)"
expect_ok "web -> db:7000 allowed once no NetworkPolicy selects db" bh_tcp $T-w 10.77.41.20 7000
expect_ok "no temporary files left" bash -c "! ls -d '$D'/policy-sync.* 2>/dev/null"
