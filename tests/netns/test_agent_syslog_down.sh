#!/usr/bin/env bash
# Collector down: a real rsyslogd on loopback TCP receives the agent's flow
# records (RFC 5424, structured data flow@32473); it is stopped while
# traffic goes on: the agent keeps consuming and committing flows, counts
# the syslog records it drops (bounded queue), and when rsyslogd comes back
# it reconnects and delivers again.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/rsyslog_conf.sh"
bh_test_init agsd
[ -x "$BH" ] || bh_skip "$BH not built"
command -v rsyslogd >/dev/null || bh_skip "rsyslogd not installed"
command -v nc >/dev/null || bh_skip "nc (netcat-openbsd) not installed"
command -v sqlite3 >/dev/null || bh_skip "sqlite3 CLI not installed"

W=$BULKHEAD_STATE_DIR/rsyslog
mkdir -p "$W"
PORT=$((20000 + (RANDOM % 20000)))
RAW=$W/raw.log
bh_rsyslog_conf "$W/rsyslog.conf" "$W" "$W/log.sock" "$PORT" "$RAW" "$W/parsed.log"
start_rsyslog() {
	rsyslogd -n -f "$W/rsyslog.conf" -i "$W/rsyslogd.pid" >>"$W/rsyslogd.out" 2>&1 &
	RSYSLOG=$!
	bh_wait 50 bash -c "ss -ltn | grep -q '127.0.0.1:$PORT '"
}
start_rsyslog || bh_skip "rsyslogd did not start (see $W/rsyslogd.out)"
bh_on_exit "kill \$RSYSLOG"

A=sda-$BH_TAG B=sdb-$BH_TAG
bh_mk_workload "$A" "sa$BH_TAG" 10.81.0.2/24 10.81.0.1
bh_mk_workload "$B" "sb$BH_TAG" 10.81.1.2/24 10.81.1.1
$BH attach "sa$BH_TAG" --workload shop/web --ip 10.81.0.2 --label app=web >/dev/null
$BH attach "sb$BH_TAG" --workload shop/db --ip 10.81.1.2 --label app=db >/dev/null
for p in 5432 5435; do
	ip netns exec "$B" timeout 55 nc -lk "$p" >/dev/null 2>&1 &
	bh_on_exit "kill $!"
	bh_wait_listen "$B" tcp "$p"
done
cat >"$BULKHEAD_STATE_DIR/agent.yaml" <<YAML
syslog: {target: "tcp://127.0.0.1:$PORT", format: rfc5424, queue: 32}
YAML
T0=$(bh_now_ms)
$BH agent --config "$BULKHEAD_STATE_DIR/agent.yaml" >"$BULKHEAD_STATE_DIR/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT"
bh_wait_agent "$T0"
DB=$BULKHEAD_STATE_DIR/state.db
q() { sqlite3 -cmd '.timeout 2000' "$DB" "$1"; }
state() { q "SELECT value FROM agent_state WHERE key='$1'"; }

for i in 1 2 3; do ip netns exec "$A" nc -z -w 1 10.81.1.2 5432; done
arrived() { grep -q "$1" "$RAW"; }
expect_ok "flow records reach rsyslog" bh_wait 50 arrived 'flow@32473'
expect_ok "RFC 5424 with the flow's fields" \
	bash -c "grep 'flow@32473' '$RAW' | grep -q 'dport=\"5432\"'"

kill "$RSYSLOG"; wait "$RSYSLOG" 2>/dev/null
ROWS=$(q "SELECT COUNT(*) FROM flows")
for i in $(seq 40); do ip netns exec "$A" nc -z -w 1 10.81.1.2 5432; done
consumed() { [ "$(q 'SELECT COUNT(*) FROM flows')" -ge $((ROWS + 40)) ]; }
expect_ok "collector down: flows still consumed and committed" bh_wait 50 consumed
dropped() { [ "$(state syslog_dropped)" -gt 0 ]; }
expect_ok "collector down: dropped syslog records are counted" bh_wait 50 dropped
expect_ok "agent alive" kill -0 $AGENT

start_rsyslog
expect_ok "rsyslog back" test $? -eq 0
for i in $(seq 30); do
	ip netns exec "$A" nc -z -w 1 10.81.1.2 5435
	grep -q 'dport="5435"' "$RAW" && break
	sleep 0.5
done
expect_ok "agent reconnected: new records arrive" bh_wait 100 arrived 'dport="5435"'
connected() { [ "$(state syslog_connected)" = 1 ]; }
expect_ok "agent state shows syslog connected again" bh_wait 50 connected
echo "syslog dropped: $(state syslog_dropped), sent: $(state syslog_sent)"
