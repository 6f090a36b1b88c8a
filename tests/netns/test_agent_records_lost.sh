#!/usr/bin/env bash
# Lost flow records, end to end. With no agent running, a workload opens
# more new flows (UDP datagrams to distinct ports) than the 4 MiB ring
# buffer holds (4 MiB / 96 bytes a record = 43690 records); each flow is a
# record at the sender's egress and another at the receiver's ingress. The
# data path counts what it could not write: records that did not fit, and,
# once the ring is half full, each workload's records over its budget
# (lib/bpf/share.h: 4096, then 1000 a second), so one workload cannot fill
# the ring on its own any more: at least half of it (21845 records) is
# written. Then the agent starts: it
# consumes everything that was kept, reports the loss with its count in the
# node's timeline (`timeline --node`), in JSONL/syslog and in agent_state,
# and consumed + lost == what the data path generated (written + lost).
. "$(dirname "$0")/../lib/common.sh"
bh_test_init agl
[ -x "$BH" ] || bh_skip "$BH not built"
command -v python3 >/dev/null || bh_skip "python3 not installed"
command -v jq >/dev/null || bh_skip "jq not installed"
command -v sqlite3 >/dev/null || bh_skip "sqlite3 CLI not installed"

T=$BH_TAG
A=la-$T B=lb-$T
bh_mk_workload "$A" "la$T" 10.83.0.2/24 10.83.0.1
bh_mk_workload "$B" "lb$T" 10.83.1.2/24 10.83.1.1
$BH attach "la$T" --workload lost/sender --ip 10.83.0.2 >/dev/null
$BH attach "lb$T" --workload lost/receiver --ip 10.83.1.2 >/dev/null
counter() { $BH stats --json | jq -r ".counters[\"$1\"]"; }
expect_eq "no records before the traffic" 0 "$(counter records-lost)"

# 40000 flows from the sender: ~80000 records, about twice the ring
N=40000
ip netns exec "$A" timeout 60 python3 - "$N" <<'PY'
import socket, sys
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):                      # bounded: n datagrams, one per port
    port = 1024 + i
    try:
        s.sendto(b"x", ("10.83.1.2", port))
    except OSError:
        pass
PY
WRITTEN=$(counter records)
LOST=$(counter records-lost)
echo "data path: $WRITTEN records written, $LOST lost"
expect_ok "the ring overflowed: records lost" test "$LOST" -gt 0
expect_ok "the ring filled past half: at least 21845 records kept" test "$WRITTEN" -ge 21845
GENERATED=$((WRITTEN + LOST))
expect_ok "the data path saw the sender's flows" test "$GENERATED" -ge "$N"

cat >"$BULKHEAD_STATE_DIR/agent.yaml" <<YAML
jsonl: $BULKHEAD_STATE_DIR/flows.jsonl
store: {flush_ms: 100}
YAML
$BH agent --config "$BULKHEAD_STATE_DIR/agent.yaml" >"$BULKHEAD_STATE_DIR/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT; wait $AGENT"
DB=$BULKHEAD_STATE_DIR/state.db
state() { sqlite3 -cmd '.timeout 2000' "$DB" "SELECT value FROM agent_state WHERE key='$1'"; }
all_read() { [ "$(state records)" = "$WRITTEN" ]; }
expect_ok "agent consumed every record the ring kept" bh_wait 300 all_read
reported() { [ "$(state records_lost_reported)" = "$LOST" ]; }
expect_ok "agent_state: the loss is reported" bh_wait 50 reported
node_event() { $BH timeline --node --json | jq -e --arg n "$LOST" \
	'[.[] | select(.kind == "records-lost" and (.detail | startswith($n + " flow records lost")))] | length == 1'; }
expect_ok "timeline --node: one records-lost event naming the count" bh_wait 50 node_event
expect_ok "JSONL: the records-lost event" \
	grep -q "\"kind\": *\"records-lost\".*\"detail\": *\"$LOST flow records lost" "$BULKHEAD_STATE_DIR/flows.jsonl"
expect_eq "nothing silent: consumed + lost == generated" "$GENERATED" \
	"$(( $(state records) + $(state records_lost_reported) ))"
expect_eq "no bad records" 0 "$(state bad_records)"
# not in a workload's timeline: node events stay apart
expect_fail "workload timeline has no node event" \
	bash -c "$BH timeline lost/sender | grep -q records-lost"
expect_ok "agent alive" kill -0 "$AGENT"
