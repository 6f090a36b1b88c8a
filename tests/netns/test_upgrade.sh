#!/usr/bin/env bash
# Upgrade without a gap across a map layout change. An older release
# (BH_UPGRADE_FROM, default the fixed commit below: conntrack value 64
# bytes in bh_ct_v2/bh_ct4_v1, 18 reasons in bh_stats_v1) is exported with
# git archive and built in a temp dir; that build loads its programs,
# attaches four workloads, applies a policy (the clients' ingress is
# isolated: the server's replies pass only through conntrack) and
# quarantines one. Under traffic -- one established connection doing a
# round trip every 50 ms, new allowed connections in a loop, new
# connections to a denied port in a loop, new connections from the
# quarantined workload in a loop -- this build's `bulkhead upgrade`
# replaces the programs, three times (the first crosses the layouts).
# Then: the hooks run this build's programs and the pins name them; the
# old maps' pins are gone; conntrack was carried (the established
# connection, whose replies only conntrack lets in, never missed a round
# trip); the stats of a workload with no traffic since are the old
# build's, to the packet; no allowed connection failed; not one denied or
# quarantined connection got through; quarantine and policy held.
# test_upgrade_clsact.sh runs it with the TC programs on clsact.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init upgrade
T=bu$BH_TAG
W=$BULKHEAD_STATE_DIR/old
# main before issue 8's layouts (bh_ct_v3, bh_ct4_v2, bh_stats_v2): a
# fixed commit, so the test keeps crossing a layout change as main moves
FROM=${BH_UPGRADE_FROM:-4436775}
KIND=${BH_TC_ATTACH:-tcx}

rev=$(git -C "$BH_ROOT" rev-parse --verify -q "$FROM^{commit}") ||
	bh_skip "no commit $FROM in this clone (a shallow clone?); cannot build the older release"
mkdir -p "$W/src"
git -C "$BH_ROOT" archive "$rev" | tar -x -C "$W/src"
echo "building $FROM ($rev) in $W/src"
make -s -C "$W/src" -j2 BUILD="$W/build" "$W/build/bulkhead" >"$W/build.log" 2>&1 ||
	{ tail -20 "$W/build.log"; fail "the older release builds"; exit 1; }
OLD=$W/build/bulkhead
ok "the older release ($(git -C "$BH_ROOT" log -1 --format=%h "$rev")) builds"

bh_mk_workload $T-a "$T"a 10.114.4.10/32 10.114.4.1   # client
bh_mk_workload $T-b "$T"b 10.114.4.20/32 10.114.4.1   # server
bh_mk_workload $T-c "$T"c 10.114.4.30/32 10.114.4.1   # client, quarantined
bh_mk_workload $T-d "$T"d 10.114.4.40/32 10.114.4.1   # quiet after its first connections
# no IPv6 on d: router solicitations and MLD reports would keep counting
ip netns exec $T-d sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.eth0.disable_ipv6=1
bh_serve $T-b tcp 80; bh_serve $T-b tcp 81
expect_ok "old: attach a" $OLD attach "$T"a --workload up/a --ip 10.114.4.10 --label app=client
expect_ok "old: attach b" $OLD attach "$T"b --workload up/b --ip 10.114.4.20 --label app=server
expect_ok "old: attach c" $OLD attach "$T"c --workload up/c --ip 10.114.4.30 --label app=client
expect_ok "old: attach d" $OLD attach "$T"d --workload up/d --ip 10.114.4.40 --label app=quiet
printf '%s\n' "apiVersion: networking.k8s.io/v1" "kind: NetworkPolicy" \
	"metadata: {name: server, namespace: up}" "spec:" "  podSelector: {matchLabels: {app: server}}" \
	"  ingress:" "  - from: [{podSelector: {matchLabels: {app: client}}}]" \
	"    ports: [{protocol: TCP, port: 80}]" "---" \
	"apiVersion: networking.k8s.io/v1" "kind: NetworkPolicy" \
	"metadata: {name: clients, namespace: up}" "spec:" "  podSelector: {matchLabels: {app: client}}" \
	"  policyTypes: [Ingress]" >"$BULKHEAD_STATE_DIR/p.yaml"
expect_ok "old: policy" $OLD policy apply -f "$BULKHEAD_STATE_DIR/p.yaml"
expect_ok "old: quarantine c" $OLD quarantine up/c --reason test
expect_ok "before: a -> b:80 allowed" bh_wait 30 bh_tcp $T-a 10.114.4.20 80
expect_fail "before: a -> b:81 denied" bh_tcp $T-a 10.114.4.20 81
expect_fail "before: c -> b:80 quarantined" bh_tcp $T-c 10.114.4.20 80
expect_fail "before: d -> b:80 denied" bh_tcp $T-d 10.114.4.20 80
expect_fail "before: d -> b:81 denied" bh_tcp $T-d 10.114.4.20 81
# d's verdict counters, without ARP/ND (the neighbour cache may still talk)
quiet_stats() { # BULKHEAD
	"$1" --json stats --workload up/d | jq -c '[.workloads[] | select(.reason != "arp" and .reason != "nd")]
		| group_by(.reason) | map({reason: .[0].reason, packets: (map(.packets) | add)})'
}
d_old=$(quiet_stats $OLD)
expect_ok "old: d has counters ($d_old)" test "$(jq length <<<"$d_old")" -gt 0
old_pins=$(ls "$BULKHEAD_BPFFS" | grep -E '^(bh_ct_v2|bh_ct4_v1|bh_stats_v1)$' | sort | tr '\n' ' ')
expect_eq "the older release pinned its own layouts" "bh_ct4_v1 bh_ct_v2 bh_stats_v1 " "$old_pins"
# (read with the old build first: this build's first command migrates the
# store's schema, which the older release then refuses to open)
ids() { $BH --json debug hooks "$1" | jq -c '[.tcx_ingress[].id, .tcx_egress[].id, .clsact_ingress[].id, .clsact_egress[].id]'; }
old_ids=$(ids "$T"a)

# ---- traffic
S=$BULKHEAD_STATE_DIR/stop
ip netns exec $T-a python3 "$TRAFFIC" hold 10.114.4.20 80 60 "$W/hold" &
HOLD=$!
bh_on_exit "kill $HOLD 2>/dev/null"
loop() { # NETNS PORT NAME
	ip netns exec "$1" python3 "$TRAFFIC" loop 10.114.4.20 "$2" 100000 "$S" "$W/$3.progress" >"$W/$3.out" 2>&1 &
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
	expect_ok "upgrade $round under traffic" bash -c "$BH --json upgrade >$W/upgrade$round.json"
	cat "$W/upgrade$round.json"; echo
	# traffic ran on the new programs: every loop made progress after the switch
	expect_ok "upgrade $round: traffic after the switch" bh_wait 200 bash -c \
		"[ \$(cat $W/hold | wc -l) -ge $((h + 20)) ] && [ \$(cat $W/allowed.progress | wc -l) -ge $((a + 20)) ] && \
		 [ \$(cat $W/denied.progress | wc -l) -ge $((d + 2)) ] && [ \$(cat $W/quarantined.progress | wc -l) -ge $((q + 2)) ]"
done
touch "$S"
wait $PID_allowed $PID_denied $PID_quarantined 2>/dev/null
kill $HOLD 2>/dev/null; wait $HOLD 2>/dev/null

U=$W/upgrade1.json
expect_eq "upgrade 1 found the three maps of older layouts" 3 "$(jq .old_maps "$U")"
expect_eq "upgrade 1 carried all three" 3 "$(jq .old_maps_carried "$U")"
expect_eq "upgrade 1 removed their pins" 3 "$(jq .old_pins_removed "$U")"
expect_ok "upgrade 1 carried conntrack entries ($(jq .ct_copied "$U") copied)" test "$(jq .ct_copied "$U")" -ge 2
expect_eq "upgrade 1 carried every conntrack entry" 0 "$(jq .ct_skipped "$U")"
expect_ok "upgrade 1 carried stats rows ($(jq .stats_rows_carried "$U"))" test "$(jq .stats_rows_carried "$U")" -ge 1
expect_eq "upgrades 2 and 3 found no older layout" "0 0" "$(jq .old_maps "$W/upgrade2.json") $(jq .old_maps "$W/upgrade3.json")"
expect_eq "no pin of an older layout left" "" "$(ls "$BULKHEAD_BPFFS" | grep -E '^(bh_ct_v2|bh_ct4_v1|bh_stats_v1)$' || true)"
new_names=$(grep -oE 'define BH_MAP_(CT|CT4|STATS)[[:space:]]+"[^"]+"' "$BH_ROOT/lib/bulkhead_abi.h" | cut -d'"' -f2 | sort | tr '\n' ' ')
expect_eq "this build's layouts are pinned ($new_names)" "$new_names" \
	"$(for n in $new_names; do [ -e "$BULKHEAD_BPFFS/$n" ] && printf '%s ' "$n"; done)"
expect_eq "d's counters carried to the packet" "$d_old" "$(quiet_stats $BH)"
new_ids=$(ids "$T"a)
expect_ok "the hooks run other programs than before ($old_ids -> $new_ids)" test "$old_ids" != "$new_ids"
expect_eq "a: one program per $KIND hook, ours" "1 1 true true" \
	"$($BH --json debug hooks "$T"a | jq -r --arg k "$KIND" '"\(.[$k + "_ingress"] | length) \(.[$k + "_egress"] | length) \(.[$k + "_ingress"][0].ours) \(.[$k + "_egress"][0].ours)"')"
expect_eq "no staged pin left" "" "$(ls "$BULKHEAD_BPFFS" | grep _new || true)"
echo "allowed: $(cat "$W/allowed.out")  denied: $(cat "$W/denied.out")  quarantined: $(cat "$W/quarantined.out")"
echo "hold: $(grep -c '^ok' "$W/hold") ok, $(grep -vc '^ok' "$W/hold") not"
expect_eq "no allowed connection failed" 0 "$(grep -c fail "$W/allowed.progress")"
expect_eq "the established connection never missed a round trip" 0 "$(grep -vc '^ok$' "$W/hold")"
expect_eq "no connection to the denied port got through" 0 "$(grep -c '^ok' "$W/denied.progress")"
expect_eq "no connection from the quarantined workload got through" 0 "$(grep -c '^ok' "$W/quarantined.progress")"
expect_ok "quarantine kept (store)" bash -c "$BH workload list | grep -E '^up/c ' | grep -q yes"
expect_fail "after: c -> b:80 still quarantined" bh_tcp $T-c 10.114.4.20 80
expect_ok "after: a -> b:80 allowed" bh_tcp $T-a 10.114.4.20 80
expect_fail "after: a -> b:81 denied" bh_tcp $T-a 10.114.4.20 81
expect_eq "this build reads the instance: four workloads" "up/a up/b up/c up/d" \
	"$($BH --json workload list | jq -r '[.[].workload] | sort | join(" ")')"
