#!/usr/bin/env bash
# Upgrade without a gap, from the previous commit's build to this one.
# The previous commit (BH_UPGRADE_FROM, default HEAD~1) is exported with
# git archive and its bulkhead built in a temp dir; that build loads the
# programs, attaches three workloads, applies a policy and quarantines
# one. Under traffic -- one established connection doing a round trip
# every 50 ms, new allowed connections in a loop, new connections to a
# denied port in a loop, new connections from the quarantined workload in
# a loop -- this build's `bulkhead upgrade` replaces the programs, three
# times. Then: the hooks run this build's programs and the pins name
# them; no allowed connection failed; the established one never missed a
# round trip; not one denied or quarantined connection got through; the
# quarantine, the policy and the counters are still there.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init upgrade
T=bu$BH_TAG
W=$BULKHEAD_STATE_DIR/old
FROM=${BH_UPGRADE_FROM:-HEAD~1}

rev=$(git -C "$BH_ROOT" rev-parse --verify -q "$FROM^{commit}") ||
	bh_skip "no commit $FROM in this clone (a shallow clone?); cannot build the previous version"
mkdir -p "$W/src"
git -C "$BH_ROOT" archive "$rev" | tar -x -C "$W/src"
echo "building $FROM ($rev) in $W/src"
make -s -C "$W/src" -j2 BUILD="$W/build" "$W/build/bulkhead" >"$W/build.log" 2>&1 ||
	{ tail -20 "$W/build.log"; fail "the previous commit builds"; exit 1; }
OLD=$W/build/bulkhead
ok "the previous commit ($(git -C "$BH_ROOT" log -1 --format=%h "$rev")) builds"

bh_mk_workload $T-a "$T"a 10.107.4.10/32 10.107.4.1   # client
bh_mk_workload $T-b "$T"b 10.107.4.20/32 10.107.4.1   # server
bh_mk_workload $T-c "$T"c 10.107.4.30/32 10.107.4.1   # client, quarantined
bh_serve $T-b tcp 80; bh_serve $T-b tcp 81
expect_ok "old: attach a" $OLD attach "$T"a --workload up/a --ip 10.107.4.10 --label app=client
expect_ok "old: attach b" $OLD attach "$T"b --workload up/b --ip 10.107.4.20 --label app=server
expect_ok "old: attach c" $OLD attach "$T"c --workload up/c --ip 10.107.4.30 --label app=client
printf '%s\n' "apiVersion: networking.k8s.io/v1" "kind: NetworkPolicy" \
	"metadata: {name: server, namespace: up}" "spec:" "  podSelector: {matchLabels: {app: server}}" \
	"  ingress:" "  - from: [{podSelector: {matchLabels: {app: client}}}]" \
	"    ports: [{protocol: TCP, port: 80}]" >"$BULKHEAD_STATE_DIR/p.yaml"
expect_ok "old: policy" $OLD policy apply -f "$BULKHEAD_STATE_DIR/p.yaml"
expect_ok "old: quarantine c" $OLD quarantine up/c --reason test
expect_ok "before: a -> b:80 allowed" bh_wait 30 bh_tcp $T-a 10.107.4.20 80
expect_fail "before: a -> b:81 denied" bh_tcp $T-a 10.107.4.20 81
expect_fail "before: c -> b:80 quarantined" bh_tcp $T-c 10.107.4.20 80
old_ids=$($BH --json debug hooks "$T"a | jq -c '[.tcx_ingress[].id, .tcx_egress[].id]')

# ---- traffic
S=$BULKHEAD_STATE_DIR/stop
ip netns exec $T-a python3 "$TRAFFIC" hold 10.107.4.20 80 60 "$W/hold" &
HOLD=$!
bh_on_exit "kill $HOLD 2>/dev/null"
loop() { # NETNS PORT NAME
	ip netns exec "$1" python3 "$TRAFFIC" loop 10.107.4.20 "$2" 100000 "$S" "$W/$3.progress" >"$W/$3.out" 2>&1 &
	bh_on_exit "kill $! 2>/dev/null"
	eval "PID_$3=$!"
}
loop $T-a 80 allowed
loop $T-a 81 denied
loop $T-c 80 quarantined
lines() { cat "$W/$1" 2>/dev/null | wc -l; }
grown() { [ "$(lines "$1")" -ge "$2" ]; }
expect_ok "traffic flows before the upgrade" bh_wait 150 bash -c \
	"[ \$(cat $W/hold 2>/dev/null | wc -l) -ge 20 ] && [ \$(cat $W/allowed.progress 2>/dev/null | wc -l) -ge 20 ] && [ \$(cat $W/denied.progress 2>/dev/null | wc -l) -ge 2 ]"

for round in 1 2 3; do
	h=$(lines hold) a=$(lines allowed.progress) d=$(lines denied.progress) q=$(lines quarantined.progress)
	expect_ok "upgrade $round under traffic" $BH upgrade
	# traffic ran on the new programs: every loop made progress after the switch
	expect_ok "upgrade $round: traffic after the switch" bh_wait 200 bash -c \
		"[ \$(cat $W/hold | wc -l) -ge $((h + 20)) ] && [ \$(cat $W/allowed.progress | wc -l) -ge $((a + 20)) ] && \
		 [ \$(cat $W/denied.progress | wc -l) -ge $((d + 2)) ] && [ \$(cat $W/quarantined.progress | wc -l) -ge $((q + 2)) ]"
done
touch "$S"
wait $PID_allowed $PID_denied $PID_quarantined 2>/dev/null
kill $HOLD 2>/dev/null; wait $HOLD 2>/dev/null

new_ids=$($BH --json debug hooks "$T"a | jq -c '[.tcx_ingress[].id, .tcx_egress[].id]')
expect_ok "the hooks run other programs than before ($old_ids -> $new_ids)" test "$old_ids" != "$new_ids"
expect_eq "a: one program per tcx hook, ours" "1 1 true true" \
	"$($BH --json debug hooks "$T"a | jq -r '"\(.tcx_ingress | length) \(.tcx_egress | length) \(.tcx_ingress[0].ours) \(.tcx_egress[0].ours)"')"
expect_eq "no staged pin left" "" "$(ls "$BULKHEAD_BPFFS" | grep _new || true)"
echo "allowed: $(cat "$W/allowed.out")  denied: $(cat "$W/denied.out")  quarantined: $(cat "$W/quarantined.out")"
echo "hold: $(grep -c '^ok' "$W/hold") ok, $(grep -vc '^ok' "$W/hold") not"
expect_eq "no allowed connection failed" 0 "$(grep -c fail "$W/allowed.progress")"
expect_eq "the established connection never missed a round trip" 0 "$(grep -vc '^ok$' "$W/hold")"
expect_eq "no connection to the denied port got through" 0 "$(grep -c '^ok' "$W/denied.progress")"
expect_eq "no connection from the quarantined workload got through" 0 "$(grep -c '^ok' "$W/quarantined.progress")"
expect_ok "quarantine kept (store)" bash -c "$BH workload list | grep -E '^up/c ' | grep -q yes"
expect_fail "after: c -> b:80 still quarantined" bh_tcp $T-c 10.107.4.20 80
expect_ok "after: a -> b:80 allowed" bh_tcp $T-a 10.107.4.20 80
expect_fail "after: a -> b:81 denied" bh_tcp $T-a 10.107.4.20 81
expect_ok "the old build still reads the instance" $OLD workload list
