#!/usr/bin/env bash
# Flows that passed only because of monitor mode or an audit policy are
# cut when enforcement takes over: switching the workload to enforce, or
# applying the audit policy as enforced. Flows the policy allows survive.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init cutflows
T=bc$BH_TAG

bh_mk_workload $T-a "$T"a 10.77.7.10/32 10.77.7.1     # cut/client
bh_mk_workload $T-b "$T"b 10.77.7.20/32 10.77.7.1     # cut/db
bh_serve $T-b tcp 80
bh_serve $T-b tcp 5432
expect_ok "attach client" $BH attach "$T"a --workload cut/client --ip 10.77.7.10 --label app=client
expect_ok "attach db (monitor)" $BH attach "$T"b --workload cut/db --ip 10.77.7.20 --label app=db \
	--mode monitor

P=$BULKHEAD_STATE_DIR/p.yaml
cat >$P <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: cut}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: client}}}]
      ports: [{protocol: TCP, port: 5432}]
YAML
expect_ok "apply: db ingress only 5432" $BH policy apply -f $P

# hold LOG PORT: a long-lived connection client -> db:PORT, a round trip every 50 ms
hold() {
	ip netns exec $T-a python3 "$TRAFFIC" hold 10.77.7.20 "$2" 90 "$1" &
	bh_on_exit "kill $! 2>/dev/null"
}
oks_since() { tail -n +$(($2 + 1)) "$1" | grep -c '^ok'; }
DENIED=$BULKHEAD_STATE_DIR/denied.log ALLOWED=$BULKHEAD_STATE_DIR/allowed.log
hold $DENIED 80
hold $ALLOWED 5432
# python starts slowly on a loaded 2-core machine: wait for the round trips
oks_over() { [ "$(grep -c '^ok' "$1" 2>/dev/null)" -gt "$2" ]; }
bh_wait 100 oks_over $DENIED 5
bh_wait 100 oks_over $ALLOWED 5
n=$(grep -c '^ok' $DENIED)
[ "$n" -gt 5 ] && ok "monitor: denied connection to :80 passes ($n round trips)" \
	|| fail "monitor: denied connection does not pass ($n)"
expect_ok "monitor: stats count the default-deny reason" bash -c "$BH stats | grep -q default-deny"

$BH stats   # for the log
# per-rule counters: the allowed connection was decided by db's first ingress rule
expect_ok "stats name the deciding rule" bash -c "$BH stats | grep -q 'cut/db ingress\[0\]'"
st=$($BH --json stats)
expect_ok "stats --json: the rule counted packets" python3 -c '
import json,sys
r=[x for x in json.loads(sys.argv[1])["rules"] if x["rule"]=="cut/db ingress[0]"]
assert r and r[0]["packets"]>0 and r[0]["bytes"]>0 and r[0]["rule_id"]>0, r' "$st"

expect_ok "mode enforce" $BH mode cut/db enforce
ma=$(wc -l <$ALLOWED)
bh_cut_window $DENIED 5
expect_eq "enforce: the held denied connection is cut (5 tries)" 0 "$BH_CUT_OKS"
bh_wait 200 bh_at_least bh_oks_since $ALLOWED "$ma" 6
n=$(oks_since $ALLOWED $ma)
[ "$n" -gt 5 ] && ok "enforce: the held allowed connection survives ($n round trips)" \
	|| fail "enforce: the allowed connection was cut ($n)"
expect_fail "enforce: a new connection to :80 is denied" bh_tcp $T-a 10.77.7.20 80

# An audit policy that denies :5432 lets it pass as would-deny in enforce
# mode; applying the same policy enforced cuts the held connection.
A=$BULKHEAD_STATE_DIR/audit.yaml
audit_policy() {
	cat >$A <<YAML
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: no-pg, namespace: cut}
spec:
  selector: {matchLabels: {app: db}}
  audit: $1
  ingress:
    - action: deny
      from: [{podSelector: {matchLabels: {app: client}}}]
      ports: [{port: 5432}]
YAML
}
audit_policy true
expect_ok "apply audit deny of :5432" $BH policy apply -f $A
AUDIT=$BULKHEAD_STATE_DIR/audit.log
hold $AUDIT 5432
bh_wait 100 oks_over $AUDIT 5
n=$(grep -c '^ok' $AUDIT)
[ "$n" -gt 5 ] && ok "audit: connection to :5432 passes as would-deny ($n)" \
	|| fail "audit: connection to :5432 does not pass ($n)"
audit_policy false
expect_ok "apply the deny enforced" $BH policy apply -f $A
bh_cut_window $AUDIT 5
expect_eq "promoted audit policy cuts the held connection (5 tries)" 0 "$BH_CUT_OKS"
expect_fail "a new connection to :5432 is denied" bh_tcp $T-a 10.77.7.20 5432
