#!/usr/bin/env bash
# Label changes follow a Kubernetes sync script: `workload label` and
# `namespace label` set and remove labels, and verdicts follow at once
# (the sync recompiles and swaps only what changed).
source "$(dirname "$0")/../lib/common.sh"
bh_test_init labels
T=bl$BH_TAG

bh_mk_workload $T-a "$T"a 10.77.8.10/32 10.77.8.1     # front/client
bh_mk_workload $T-b "$T"b 10.77.8.20/32 10.77.8.1     # shop/db
bh_serve $T-b tcp 5432
bh_serve $T-b tcp 6379
expect_ok "attach client" $BH attach "$T"a --workload front/client --ip 10.77.8.10 --label app=client
expect_ok "attach db" $BH attach "$T"b --workload shop/db --ip 10.77.8.20 --label app=db

P=$BULKHEAD_STATE_DIR/p.yaml
cat >$P <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{namespaceSelector: {}, podSelector: {matchLabels: {role: web}}}]
      ports: [{protocol: TCP, port: 5432}]
    - from: [{namespaceSelector: {matchLabels: {team: blue}}}]
      ports: [{protocol: TCP, port: 6379}]
YAML
expect_ok "apply" $BH policy apply -f $P
expect_fail "client (no role) -> db:5432 denied" bh_tcp $T-a 10.77.8.20 5432
expect_fail "client (ns without team) -> db:6379 denied" bh_tcp $T-a 10.77.8.20 6379

# workload labels
expect_ok "workload label role=web" $BH workload label front/client role=web
expect_ok "client (role=web) -> db:5432 allowed" bh_tcp $T-a 10.77.8.20 5432
expect_ok "workload list shows the new label" bash -c "$BH workload list | grep -q 'role=web'"
expect_ok "workload label --remove role" $BH workload label front/client --remove role
expect_fail "client (role removed) -> db:5432 denied again" bh_tcp $T-a 10.77.8.20 5432
expect_ok "label set and remove in one call" \
	$BH workload label front/client role=web tier=1 --remove app
lbl=$($BH --json workload list)
expect_ok "labels are role=web,tier=1 without app" python3 -c '
import json,sys
w=[x for x in json.loads(sys.argv[1]) if x["workload"]=="front/client"][0]
assert w["labels"]=={"role":"web","tier":"1"}, w["labels"]' "$lbl"
expect_ok "allowed again after the combined change" bh_tcp $T-a 10.77.8.20 5432
# the policy selects db by app=db: removing it un-isolates db
expect_ok "db --remove app" $BH workload label shop/db --remove app
expect_ok "db no longer selected: :6379 open" bh_tcp $T-a 10.77.8.20 6379
expect_ok "db app=db again" $BH workload label shop/db app=db
expect_fail "db selected again: :6379 denied" bh_tcp $T-a 10.77.8.20 6379

# namespace labels
expect_ok "namespace label team=blue" $BH namespace label front team=blue
expect_ok "client (ns team=blue) -> db:6379 allowed" bh_tcp $T-a 10.77.8.20 6379
expect_ok "namespace list shows team=blue" bash -c "$BH namespace list | grep -q 'team=blue'"
expect_ok "namespace label --remove team" $BH namespace label front --remove team
expect_fail "client (team removed) -> db:6379 denied again" bh_tcp $T-a 10.77.8.20 6379

# bad input: exit 1, nothing changes
$BH workload label front/client 'bad key=x' >/dev/null 2>&1; expect_eq "bad label exits 1" 1 $?
$BH workload label front/nobody a=b >/dev/null 2>&1; expect_eq "unknown workload exits 1" 1 $?
$BH namespace label front --remove kubernetes.io/metadata.name >/dev/null 2>&1
expect_eq "metadata.name cannot be removed" 1 $?
# As in the Kubernetes API: setting it to the namespace's own name is
# accepted (nothing changes), another value is refused.
expect_ok "namespace label front kubernetes.io/metadata.name=front accepted" \
	$BH namespace label front kubernetes.io/metadata.name=front team=green
expect_ok "metadata.name still front, team=green set" bash -c \
	"$BH --json namespace list | grep -q '\"kubernetes.io/metadata.name\": *\"front\"' &&
	 $BH namespace list | grep -q 'team=green'"
$BH namespace label front kubernetes.io/metadata.name=back team=red >/dev/null 2>&1
expect_eq "metadata.name=another value exits 1" 1 $?
expect_ok "refused call changed nothing (team=green kept)" bash -c \
	"$BH namespace list | grep -q 'team=green' && ! $BH namespace list | grep -q 'team=red'"
expect_ok "namespace label --remove team (green)" $BH namespace label front --remove team
$BH workload label front/client >/dev/null 2>&1; expect_eq "nothing to do exits 1" 1 $?
expect_ok "verdicts unchanged after bad input" bh_tcp $T-a 10.77.8.20 5432
expect_ok "timeline records the label change" bash -c "$BH timeline front/client | grep -q 'role'"
