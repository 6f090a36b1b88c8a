#!/usr/bin/env bash
# Each automatic quarantine rule triggers on a scripted attack and not on
# normal traffic: a port scan (nc -z over ports), a burst of denied
# connections, a flow to a deny-listed CIDR (a test netns owns the
# address); an exempt workload that scans is left alone. A quarantine cuts
# the workload off, records its reason, and is never released by the agent.
. "$(dirname "$0")/../lib/common.sh"
bh_test_init agq
[ -x "$BH" ] || bh_skip "$BH not built"
command -v nc >/dev/null || bh_skip "nc (netcat-openbsd) not installed"

T=$BH_TAG
bh_mk_workload "qt-$T" "qt$T" 10.79.1.2/24 10.79.1.1     # target
bh_mk_workload "qs-$T" "qs$T" 10.79.2.2/24 10.79.2.1     # port scanner
bh_mk_workload "qb-$T" "qb$T" 10.79.3.2/24 10.79.3.1     # denied burst
bh_mk_workload "qx-$T" "qx$T" 10.79.4.2/24 10.79.4.1     # exfiltration
bh_mk_workload "qn-$T" "qn$T" 10.79.5.2/24 10.79.5.1     # normal
bh_mk_workload "qe-$T" "qe$T" 10.79.6.2/24 10.79.6.1     # exempt scanner
# not a workload: a netns owning the deny-listed address 192.0.2.5
bh_mk_workload "qd-$T" "qd$T" 192.0.2.5/24 10.79.9.1

$BH attach "qt$T" --workload shop/target --ip 10.79.1.2 --label app=target >/dev/null
$BH attach "qs$T" --workload shop/scanner --ip 10.79.2.2 --label app=scanner >/dev/null
$BH attach "qb$T" --workload shop/burst --ip 10.79.3.2 --label app=burst >/dev/null
$BH attach "qx$T" --workload shop/exfil --ip 10.79.4.2 --label app=exfil >/dev/null
$BH attach "qn$T" --workload shop/normal --ip 10.79.5.2 --label app=normal >/dev/null
$BH attach "qe$T" --workload ops/noisy --ip 10.79.6.2 --label app=noisy >/dev/null
expect_ok "six workloads attached" test "$($BH workload list --json | grep -c '"workload":')" -ge 6

# burst may only talk to the target on port 80
cat >"$BULKHEAD_STATE_DIR/burst.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: burst-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: burst}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: target}}}]
      ports: [{protocol: TCP, port: 80}]
YAML
expect_ok "policy for burst" $BH policy apply -f "$BULKHEAD_STATE_DIR/burst.yaml"

# scan's action defaults to alert; this test wants it to act. The scanner
# has no policy and no baseline: none of its flows is explained.
cat >"$BULKHEAD_STATE_DIR/agent.yaml" <<'YAML'
quarantine:
  denied_flows: {count: 10, seconds: 10}
  scan: {distinct_ports: 15, distinct_peers: 15, seconds: 10, action: quarantine}
  deny_cidrs: [192.0.2.0/24]
  exempt: ["ops/*"]
YAML
T0=$(bh_now_ms)
$BH agent --config "$BULKHEAD_STATE_DIR/agent.yaml" >"$BULKHEAD_STATE_DIR/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT; wait $AGENT"
ip netns exec "qt-$T" timeout 55 nc -lk 80 >/dev/null 2>&1 &
bh_on_exit "kill $!"
ip netns exec "qd-$T" timeout 55 nc -lk 443 >/dev/null 2>&1 &
bh_on_exit "kill $!"
bh_wait_listen "qt-$T" tcp 80
bh_wait_listen "qd-$T" tcp 443
bh_wait_agent "$T0"

quarantined() { $BH timeline "$1" | awk '$2 == "quarantine"' | grep -q "$2"; }
not_quarantined() { ! $BH timeline "$1" | awk '$2 == "quarantine"' | grep -q .; }

# normal traffic first: 20 connections to one port, spread out
for i in $(seq 20); do ip netns exec "qn-$T" nc -z -w 1 10.79.1.2 80; done
expect_ok "normal: target reachable" ip netns exec "qn-$T" nc -z -w 1 10.79.1.2 80
expect_ok "burst's allowed traffic passes" ip netns exec "qb-$T" nc -z -w 1 10.79.1.2 80

# port scan: 40 ports in a second or two
timeout 15 ip netns exec "qs-$T" nc -z -w 1 10.79.1.2 1000-1040 >/dev/null 2>&1
expect_ok "port scan -> quarantine" bh_wait 30 quarantined shop/scanner "port scan"
expect_fail "scanner cut off" ip netns exec "qs-$T" nc -z -w 1 10.79.1.2 80

# exempt: the same scan from ops/noisy
timeout 15 ip netns exec "qe-$T" nc -z -w 1 10.79.1.2 1000-1040 >/dev/null 2>&1

# denied burst: 14 connections the policy denies, in parallel
pids=()
for i in $(seq 14); do ip netns exec "qb-$T" nc -z -w 1 10.79.1.2 8080 & pids+=($!); done
wait "${pids[@]}" 2>/dev/null
expect_ok "denied burst -> quarantine" bh_wait 30 quarantined shop/burst "denied flows"
expect_fail "burst cut off (even its allowed port)" ip netns exec "qb-$T" nc -z -w 1 10.79.1.2 80

# one flow to the deny-listed CIDR
ip netns exec "qx-$T" nc -z -w 1 192.0.2.5 443
expect_ok "deny-listed CIDR -> quarantine" bh_wait 30 quarantined shop/exfil "192.0.2.0/24"

# The agent judges records in the order the ring holds them: once it has
# stored a marker flow sent now, it has judged everything sent before it.
stored() { $BH flows --workload "$1" --limit 0 --json | jq -e "any(.[]; .sport == $2)" >/dev/null; }
marker() { # marker NETNS WORKLOAD SPORT: one flow to the target, then wait until it is stored
	ip netns exec "$1" nc -z -w 1 -p "$3" 10.79.1.2 80
	bh_wait 100 stored "$2" "$3" || fail "agent never stored the marker flow of $2"
}
marker "qn-$T" shop/normal 40001
expect_ok "normal traffic: no quarantine" not_quarantined shop/normal
expect_ok "exempt workload: no quarantine" not_quarantined ops/noisy
expect_ok "target (the victim): no quarantine" not_quarantined shop/target
expect_ok "exempt still reachable" ip netns exec "qe-$T" nc -z -w 1 10.79.1.2 80
expect_ok "quarantine reason stored on the workload" \
	bash -c "$BH workload list --json | grep -q 'auto: port scan'"

# release is manual, and the agent does not undo it nor re-quarantine at once
expect_ok "release scanner" $BH release shop/scanner
marker "qs-$T" shop/scanner 40002
expect_ok "released scanner reachable again" ip netns exec "qs-$T" nc -z -w 1 10.79.1.2 80
expect_eq "one quarantine per attack in the timeline" 1 \
	"$($BH timeline shop/scanner | awk '$2 == "quarantine"' | wc -l)"
expect_ok "agent still running" kill -0 $AGENT
if [ "$BH_FAILS" -gt 0 ]; then
	for w in shop/scanner shop/burst shop/exfil shop/normal ops/noisy; do
		echo "--- timeline $w"; $BH timeline "$w"
	done
	cat "$BULKHEAD_STATE_DIR/agent.log"
fi
