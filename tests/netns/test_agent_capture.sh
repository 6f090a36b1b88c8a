#!/usr/bin/env bash
# Capture on quarantine: with quarantine.capture in the agent's config, an
# automatic quarantine (a flow to a deny-listed CIDR) starts a capture of
# the workload's veth. The file appears under $BULKHEAD_STATE_DIR/captures,
# is a valid pcap that never passes max_bytes, the capture ends by itself
# (seconds), and the timeline holds exactly one capture event.
. "$(dirname "$0")/../lib/common.sh"
bh_test_init agc
[ -x "$BH" ] || bh_skip "$BH not built"
command -v nc >/dev/null || bh_skip "nc (netcat-openbsd) not installed"
command -v jq >/dev/null || bh_skip "jq not installed"
command -v tcpdump >/dev/null || bh_skip "tcpdump not installed"

T=$BH_TAG
MAX=4096
bh_mk_workload "ca-$T" "ca$T" 10.84.0.2/24 10.84.0.1
bh_mk_workload "cd-$T" "cd$T" 192.0.2.7/24 10.84.9.1	# owns a deny-listed address
$BH attach "ca$T" --workload cap/app --ip 10.84.0.2 >/dev/null
cat >"$BULKHEAD_STATE_DIR/agent.yaml" <<YAML
quarantine:
  deny_cidrs: [192.0.2.0/24]
  capture: {seconds: 3, max_bytes: $MAX}
YAML
T0=$(bh_now_ms)
$BH agent --config "$BULKHEAD_STATE_DIR/agent.yaml" >"$BULKHEAD_STATE_DIR/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT; wait $AGENT"
ip netns exec "cd-$T" timeout 30 nc -lk 443 >/dev/null 2>&1 &
bh_on_exit "kill $!"
bh_wait_listen "cd-$T" tcp 443
bh_wait_agent "$T0"

ip netns exec "ca-$T" nc -z -w 1 192.0.2.7 443
quarantined() { $BH timeline cap/app --json | jq -e '[.[] | select(.kind == "quarantine")] | length == 1'; }
expect_ok "flow to a deny-listed CIDR -> quarantine" bh_wait 50 quarantined
captured() { $BH timeline cap/app --json | jq -e '[.[] | select(.kind == "capture")] | length >= 1'; }
expect_ok "a capture event" bh_wait 50 captured
# traffic while it captures (dropped by the quarantine, seen on the veth):
# more than MAX bytes of it, bounded in count and time
ip netns exec "ca-$T" ping -q -c 20 -i 0.1 -s 600 -W 1 192.0.2.7 >/dev/null 2>&1
CAPS=$BULKHEAD_STATE_DIR/captures
FILE=$(ls "$CAPS"/*.pcap 2>/dev/null | head -n 1)
expect_ok "capture file under \$BULKHEAD_STATE_DIR/captures" test -f "$FILE"
EV=$($BH timeline cap/app --json | jq -r '[.[] | select(.kind == "capture")][0].detail')
expect_ok "the event names the file" bash -c "[[ '$EV' == *'$FILE'* ]]"
PID=$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' <<<"$EV")
expect_ok "the event names the capturing process" test -n "$PID"
gone() { ! kill -0 "$PID" 2>/dev/null; }
expect_ok "the capture ends by itself (seconds: 3)" bh_wait 150 gone
SIZE=$(stat -c %s "$FILE")
echo "capture: $FILE, $SIZE bytes"
expect_ok "within max_bytes ($SIZE <= $MAX)" test "$SIZE" -le "$MAX"
MAGIC=$(od -An -tx4 -N4 "$FILE" | tr -d ' ')
expect_ok "pcap magic ($MAGIC)" bash -c "[[ '$MAGIC' =~ ^(a1b2c3d4|d4c3b2a1|a1b23c4d|4d3cb2a1)$ ]]"
expect_ok "tcpdump reads it whole" tcpdump -r "$FILE" -nn -c 1000
PKTS=$(tcpdump -r "$FILE" -nn 2>/dev/null | wc -l)
expect_ok "packets were captured ($PKTS)" test "$PKTS" -gt 0
expect_eq "exactly one capture event in the timeline" 1 \
	"$($BH timeline cap/app --json | jq '[.[] | select(.kind == "capture")] | length')"
expect_eq "one capture file" 1 "$(ls "$CAPS" | wc -l)"
