#!/usr/bin/env bash
# learn -> baseline export -> apply -> enforce, with real traffic: the
# baseline's traffic still passes, new traffic is denied and shows up as a
# deviation in the timeline. Both export formats.
. "$(dirname "$0")/../lib/common.sh"
bh_test_init agbl
[ -x "$BH" ] || bh_skip "$BH not built"
command -v nc >/dev/null || bh_skip "nc (netcat-openbsd) not installed"

A=bla-$BH_TAG B=blb-$BH_TAG
bh_mk_workload "$A" "ba$BH_TAG" 10.78.0.2/24 10.78.0.1
bh_mk_workload "$B" "bb$BH_TAG" 10.78.1.2/24 10.78.1.1
expect_ok "attach web" $BH attach "ba$BH_TAG" --workload shop/web --ip 10.78.0.2 --label app=web
expect_ok "attach db" $BH attach "bb$BH_TAG" --workload shop/db --ip 10.78.1.2 --label app=db
expect_ok "web in learn mode" $BH mode shop/web learn

T0=$(bh_now_ms)
$BH agent >"$BULKHEAD_STATE_DIR/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT; wait $AGENT"
for p in 5432 5433; do
	ip netns exec "$B" timeout 50 nc -lk "$p" >/dev/null 2>&1 &
	bh_on_exit "kill $!"
	bh_wait_listen "$B" tcp "$p"
done
bh_wait_agent "$T0"

connect() { ip netns exec "$A" nc -z -w 2 10.78.1.2 "$1"; }
# learn: three connections to 5432
for i in 1 2 3; do connect 5432; done
learned() { $BH baseline show shop/web --json | grep -q '"port":5432'; }
expect_ok "baseline learned web -> db:5432" bh_wait 50 learned
expect_ok "baseline names the peer by its labels" \
	bash -c "$BH baseline show shop/web | grep -q 'shop/{app=db}'"
expect_eq "nothing else learned" 1 "$($BH baseline show shop/web --json | grep -c '"port"')"

for fmt in k8s native; do
	$BH baseline export shop/web --format $fmt >"$BULKHEAD_STATE_DIR/bl-$fmt.yaml"
	expect_eq "export $fmt exits 0" 0 $?
done
expect_ok "k8s export is a NetworkPolicy" grep -q 'kind: NetworkPolicy' "$BULKHEAD_STATE_DIR/bl-k8s.yaml"
expect_ok "native export is a bulkhead Policy" grep -q 'kind: Policy' "$BULKHEAD_STATE_DIR/bl-native.yaml"

$BH policy test -f "$BULKHEAD_STATE_DIR/bl-k8s.yaml" --json >"$BULKHEAD_STATE_DIR/pt1.json"
expect_eq "policy test exits 0" 0 $?
expect_ok "policy test: the learned flows would all pass" \
	bash -c "grep -A3 '\"workload\":\"shop/web\"' '$BULKHEAD_STATE_DIR/pt1.json' | grep -q '\"would_deny\":0'"
expect_ok "policy test: every rule of the export matched" \
	bash -c "tr -d ' \n' <'$BULKHEAD_STATE_DIR/pt1.json' | grep -q '\"unused_rules\":\[\]'"

for fmt in k8s native; do
	expect_ok "apply $fmt export" $BH policy apply -f "$BULKHEAD_STATE_DIR/bl-$fmt.yaml"
	expect_ok "enforce" $BH mode shop/web enforce
	expect_ok "$fmt: baseline traffic passes" connect 5432
	expect_fail "$fmt: new port denied" connect 5433
	expect_fail "$fmt: new traffic into web denied" \
		ip netns exec "$B" nc -z -w 2 10.78.0.2 80
	$BH policy delete shop/baseline-web >/dev/null
	$BH mode shop/web learn >/dev/null
done

deviation() { $BH timeline shop/web | grep deviation | grep -q ':5433'; }
expect_ok "new traffic reported as a deviation in the timeline" bh_wait 30 deviation
expect_ok "deviation severity is warning" \
	bash -c "$BH timeline shop/web --json | grep -A2 '\"kind\":\"deviation\"' | grep -q warning"
expect_ok "denied flow recorded" \
	bash -c "$BH flows --workload shop/web --json | grep -A12 '\"dport\":5433' | grep -q '\"verdict\":\"deny\"'"
expect_ok "timeline in order: attach, mode, policy, deviation" \
	bash -c "$BH timeline shop/web | awk '{print \$2}' | tr '\n' ' ' | grep -Eq 'attach.*mode.*deviation'"
$BH policy test -f "$BULKHEAD_STATE_DIR/bl-k8s.yaml" --json >"$BULKHEAD_STATE_DIR/pt2.json"
expect_ok "policy test: the 5433 flows would be denied" \
	bash -c "tr -d ' \n' <'$BULKHEAD_STATE_DIR/pt2.json' | grep -q '\"port\":5433,\"flows\":[0-9]*,\"why\":\"notallowed\"'"
expect_ok "agent still running" kill -0 $AGENT
