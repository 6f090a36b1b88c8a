#!/usr/bin/env bash
# Replacing the policy under traffic never fails a single allowed
# connection: maps are built whole, then swapped in one update.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init replace
T=br$BH_TAG

bh_mk_workload $T-a "$T"a 10.77.3.10/32 10.77.3.1
bh_mk_workload $T-b "$T"b 10.77.3.20/32 10.77.3.1
bh_serve $T-b tcp 8080
expect_ok "attach client" $BH attach "$T"a --workload r/client --ip 10.77.3.10 --label app=client
expect_ok "attach server" $BH attach "$T"b --workload r/server --ip 10.77.3.20 --label app=server

gen() { # gen N: a policy allowing 8080 from the client plus N other rules
	echo "apiVersion: networking.k8s.io/v1"
	echo "kind: NetworkPolicy"
	echo "metadata: {name: server, namespace: r}"
	echo "spec:"
	echo "  podSelector: {matchLabels: {app: server}}"
	echo "  ingress:"
	echo "    - from: [{podSelector: {matchLabels: {app: client}}}]"
	echo "      ports: [{protocol: TCP, port: 8080}]"
	local i
	for ((i = 0; i < $1; i++)); do
		echo "    - from: [{ipBlock: {cidr: 10.$((100 + i / 250)).$((i % 250)).0/24}}]"
		echo "      ports: [{protocol: TCP, port: $((1000 + i))}]"
	done
}
gen 10 >$BULKHEAD_STATE_DIR/p0.yaml
expect_ok "initial apply" $BH policy apply -f $BULKHEAD_STATE_DIR/p0.yaml
for i in 1 2 3 4 5 6; do gen $((i * 150)) >$BULKHEAD_STATE_DIR/p$i.yaml; done

OUT=$BULKHEAD_STATE_DIR/loop.out
STOP=$BULKHEAD_STATE_DIR/stop
PROGRESS=$BULKHEAD_STATE_DIR/loop.progress
: >"$PROGRESS"
made() { wc -l <"$PROGRESS"; }
flowing() { [ "$(made)" -ge 5 ]; }
ip netns exec $T-a python3 "$TRAFFIC" loop 10.77.3.20 8080 20000 "$STOP" "$PROGRESS" >"$OUT" &
LOOP=$!
bh_on_exit "kill $LOOP"
# The replacements must happen under traffic: start them only once the
# client is connecting, and keep replacing until enough connections were
# made while the policy changed (bounded by count and time).
expect_ok "traffic flows before the replacements" bh_wait 100 flowing
before=$(made)
applied=0 failed_applies=0 rounds=0
deadline=$((SECONDS + 60))
while :; do
	for i in 1 2 3 4 5 6 1 2 3; do
		if $BH policy apply -f $BULKHEAD_STATE_DIR/p$i.yaml; then
			applied=$((applied + 1))
		else
			failed_applies=$((failed_applies + 1))
		fi
	done
	rounds=$((rounds + 1))
	[ $(($(made) - before)) -ge 20 ] && break
	[ $rounds -ge 50 ] || [ $SECONDS -ge $deadline ] && break
done
during=$(($(made) - before))
expect_eq "every replacement applied" 0 $failed_applies
[ $applied -ge 9 ] && ok "$applied replacements in $rounds round(s)" || fail "only $applied replacements"
touch "$STOP"
wait $LOOP; rc=$?
cat "$OUT"
expect_eq "no allowed connection failed during replacement" 0 $rc
[ "$during" -ge 20 ] && ok "connections ran across the replacements ($during)" \
	|| fail "too few connections during the replacements ($during)"
expect_fail "a port the policy does not allow is still denied" bh_tcp $T-a 10.77.3.20 9
