#!/usr/bin/env bash
# kill -9 of the agent during traffic: enforcement is unchanged while it is
# down, every flow committed before the kill is still in the store, and a
# restarted agent resumes consuming the ring buffer where the dead one
# stopped (a flow made while it was down is recorded after the restart).
. "$(dirname "$0")/../lib/common.sh"
bh_test_init agrs
[ -x "$BH" ] || bh_skip "$BH not built"
command -v nc >/dev/null || bh_skip "nc (netcat-openbsd) not installed"
command -v sqlite3 >/dev/null || bh_skip "sqlite3 CLI not installed"

A=rsa-$BH_TAG B=rsb-$BH_TAG
bh_mk_workload "$A" "ra$BH_TAG" 10.80.0.2/24 10.80.0.1
bh_mk_workload "$B" "rb$BH_TAG" 10.80.1.2/24 10.80.1.1
$BH attach "ra$BH_TAG" --workload shop/web --ip 10.80.0.2 --label app=web >/dev/null
$BH attach "rb$BH_TAG" --workload shop/db --ip 10.80.1.2 --label app=db >/dev/null
cat >"$BULKHEAD_STATE_DIR/p.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: db}}}]
      ports: [{protocol: TCP, port: 5432}, {protocol: TCP, port: 5434}]
YAML
expect_ok "policy applied" $BH policy apply -f "$BULKHEAD_STATE_DIR/p.yaml"
for p in 5432 5433 5434; do
	ip netns exec "$B" timeout 55 nc -lk "$p" >/dev/null 2>&1 &
	bh_on_exit "kill $!"
	bh_wait_listen "$B" tcp "$p"
done
DB=$BULKHEAD_STATE_DIR/state.db
q() { sqlite3 -cmd '.timeout 2000' "$DB" "$1"; }

T0=$(bh_now_ms)
$BH agent >"$BULKHEAD_STATE_DIR/agent1.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT 2>/dev/null"
bh_wait_agent "$T0"
# traffic in the background for the whole test
( for i in $(seq 150); do ip netns exec "$A" nc -z -w 1 10.80.1.2 5432; sleep 0.1; done ) \
	>/dev/null 2>&1 &
TRAFFIC=$!
bh_on_exit "kill $TRAFFIC 2>/dev/null"

have_flows() { [ "$(q 'SELECT COUNT(*) FROM flows' 2>/dev/null || echo 0)" -ge "$1" ]; }
expect_ok "flows are being committed" bh_wait 100 have_flows 20
BEFORE=$(q "SELECT group_concat(id) FROM (SELECT id FROM flows ORDER BY id)")
MAXID=$(q "SELECT MAX(id) FROM flows")
kill -9 $AGENT
wait $AGENT 2>/dev/null

# down: the kernel keeps enforcing
expect_ok "down: allowed port passes" ip netns exec "$A" nc -z -w 1 10.80.1.2 5432
expect_fail "down: denied port still denied" ip netns exec "$A" nc -z -w 1 10.80.1.2 5433
expect_ok "down: a flow to 5434 (recorded in the ring only)" \
	ip netns exec "$A" nc -z -w 1 10.80.1.2 5434
AFTER=$(q "SELECT group_concat(id) FROM (SELECT id FROM flows WHERE id <= $MAXID ORDER BY id)")
expect_eq "every committed flow survived kill -9" "$BEFORE" "$AFTER"
expect_eq "the 5434 flow is not stored yet" 0 "$(q 'SELECT COUNT(*) FROM flows WHERE dport=5434')"

$BH agent >"$BULKHEAD_STATE_DIR/agent2.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT 2>/dev/null"
resumed() { [ "$(q "SELECT COUNT(*) FROM flows WHERE dport=5434 AND ns='shop' AND name='web'")" -ge 1 ]; }
expect_ok "restart: records made while down are consumed" bh_wait 100 resumed
more() { [ "$(q 'SELECT MAX(id) FROM flows')" -gt "$MAXID" ]; }
expect_ok "restart: new flows committed" bh_wait 50 more
expect_ok "restart: the denied flow is recorded as deny" \
	bash -c "$BH flows --workload shop/web --limit 0 --json | grep -A12 '\"dport\":5433' | grep -q '\"verdict\":\"deny\"'"
AFTER=$(q "SELECT group_concat(id) FROM (SELECT id FROM flows WHERE id <= $MAXID ORDER BY id)")
expect_eq "committed flows still there after restart" "$BEFORE" "$AFTER"
heartbeat() { [ "$(q "SELECT value FROM agent_state WHERE key='pid'")" = "$AGENT" ]; }
expect_ok "agent state heartbeat" bh_wait 50 heartbeat
