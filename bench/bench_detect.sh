#!/usr/bin/env bash
# Decision latency of the automatic quarantine: from the flow record that
# crosses a rule's threshold (its time stamp, written by the data path) to
# the quarantine map update (the agent's clock right after it). The agent
# measures both ends on CLOCK_MONOTONIC and says the difference in its
# syslog quarantine event ("decided X ms and quarantine map updated Y ms
# after the flow's record"); this script collects them. "Updated" is when
# the map update syscall returned: it waits for an RCU grace period, after
# which no CPU judges by the old policy any more (the slot already points
# at the deny-all map some 0.2 ms into the call: quarantine_swap_us of
# bench_apply). "Decided" is when the rule fired.
#
# A real agent, real veths: an attacker workload (enforce, no baseline, so
# its flows are outside the baseline) sweeps 25 closed ports of a peer;
# scan.distinct_ports 20 with action quarantine quarantines it; the script
# waits for the quarantine, releases, and goes again. Trials run twice:
#   idle     nothing else happening
#   loaded   a second workload opening new flows (bench/flowgen, UDP to a
#            blackholed /24) at the rate the agent keeps up with
#            (DETECT_LOAD_RATE, default 60000 flows/s), each a flow record
# The agent's ingest rate during the loaded trials and any record lost
# (ring full) are printed; the last line is the JSON for bench/run.sh.
#
#   DETECT_TRIALS (default 100 per phase), DETECT_LOAD_RATE, BUILD
# Needs root. Run under flock -o /run/lock/bulkhead-traffic.lock when
# other tests may run (bench/run.sh does).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ABS_BUILD=$BUILD ;; *) ABS_BUILD=$PWD/$BUILD ;; esac
BH=$ABS_BUILD/bulkhead
FLOWGEN=$ABS_BUILD/bench/flowgen
DT="python3 $PWD/tests/lib/detect_traffic.py"
TRIALS=${DETECT_TRIALS:-100}
LOAD_RATE=${DETECT_LOAD_RATE:-60000}
[ -x "$BH" ] && [ -x "$FLOWGEN" ] || { echo "bench_detect: build first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench_detect: needs root" >&2; exit 2; }

TAG=$(printf '%03x' $(( ($$ + RANDOM) % 4096 )))
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-bench-detect-$TAG
export BULKHEAD_STATE_DIR=/tmp/bh-bench-detect-$TAG
D=$BULKHEAD_STATE_DIR
mkdir -p "$D"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$BH" reset >/dev/null 2>&1
	for n in "bt-$TAG" "ba-$TAG" "bg-$TAG"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	ip link del "bt$TAG" 2>/dev/null
	ip link del "ba$TAG" 2>/dev/null
	ip link del "bg$TAG" 2>/dev/null
	ip route del blackhole 10.103.200.0/24 2>/dev/null
	rm -rf "$BULKHEAD_BPFFS" "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# mk NETNS HOSTIF ADDR GW
mk() {
	ip netns add "$1"
	ip link add "$2" type veth peer name eth0 netns "$1"
	ip -n "$1" addr add "$3/24" dev eth0
	ip -n "$1" link set lo up
	ip -n "$1" link set eth0 up
	ip link set "$2" up
	ip addr add "$4/32" dev "$2"
	ip route replace "$3/32" dev "$2"
	ip -n "$1" route add "$4/32" dev eth0
	ip -n "$1" route add default via "$4" dev eth0
	sysctl -qw net.ipv4.ip_forward=1
	sysctl -qw "net.ipv4.conf.$2.proxy_arp=1"
}
mk "bt-$TAG" "bt$TAG" 10.103.12.2 10.103.12.1	# the swept peer (not a workload)
mk "ba-$TAG" "ba$TAG" 10.103.10.2 10.103.10.1	# attacker
mk "bg-$TAG" "bg$TAG" 10.103.11.2 10.103.11.1	# load
ip route replace blackhole 10.103.200.0/24
"$BH" attach "ba$TAG" --workload bench/attacker --ip 10.103.10.2 >/dev/null || exit 2
"$BH" attach "bg$TAG" --workload bench/load --ip 10.103.11.2 >/dev/null || exit 2

$DT syslog-sink "$D/syslog.sock" "$D/syslog.txt" 590 >/dev/null 2>&1 &
PIDS+=($!)
cat >"$D/agent.yaml" <<YAML
syslog: {target: "unix:$D/syslog.sock", flows: false}
quarantine:
  scan: {distinct_ports: 20, seconds: 10, action: quarantine}
YAML
"$BH" agent --config "$D/agent.yaml" >"$D/agent.log" 2>&1 &
AGENT=$!
PIDS+=($AGENT)

state() {	# agent_state value
	python3 - "$D/state.db" "$1" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
r = c.execute("SELECT value FROM agent_state WHERE key=?", (sys.argv[2],)).fetchone()
print(r[0] if r else 0)
EOF
}
quarantined() {
	"$BH" workload list --json | jq -e '.[] | select(.workload == "bench/attacker") | .quarantined' >/dev/null
}
wait_for() {	# up to N polls, 20 ms apart
	local n=$1; shift
	while ! "$@"; do n=$((n - 1)); [ $n -le 0 ] && return 1; sleep 0.02; done
}
events() { grep -c "quarantine map updated" "$D/syslog.txt" 2>/dev/null || true; }
more_events() { [ "$(events)" -gt "$1" ]; }

# trials NAME: one quarantine each; latencies (ms) appended to $D/NAME.ms
trials() {
	local name=$1 i got=0 missed=0 before
	: >"$D/$name.ms"
	for ((i = 0; i < TRIALS; i++)); do
		before=$(events)
		# a release can meet the store busy: retry (bounded)
		for _ in 1 2 3 4 5; do
			quarantined || break
			"$BH" release bench/attacker >/dev/null 2>&1
		done
		ip netns exec "ba-$TAG" $DT sweep 10.103.12.2 2000-2024 >/dev/null
		if wait_for 250 quarantined && wait_for 250 more_events "$before"; then
			got=$((got + 1))
		else
			missed=$((missed + 1))
			if [ -n "${DETECT_DEBUG:-}" ]; then
				echo "miss $i: quarantined=$(quarantined && echo yes || echo no) events=$(events) before=$before"
				"$BH" timeline bench/attacker | tail -n 3
				"$BH" flows --workload bench/attacker --limit 30 | tail -n 5
			fi
		fi
	done
	sed -n 's/.*quarantine map updated \([0-9.]*\) ms.*/\1/p' "$D/syslog.txt" |
		tail -n "$got" >"$D/$name.ms"
	sed -n 's/.*; decided \([0-9.]*\) ms and quarantine map updated.*/\1/p' "$D/syslog.txt" |
		tail -n "$got" >"$D/$name.decided.ms"
	echo "$name: $got decisions, $missed trials without one"
}

wait_for 250 test -S "$D/syslog.sock" || { echo "bench_detect: no syslog sink" >&2; exit 2; }
wait_for 250 test "$(state pid)" -gt 0 || { echo "bench_detect: agent did not start" >&2; exit 2; }
trials idle

# loaded: flowgen for as long as the trials take (bounded: 300 s)
r0=$(state records)
l0=$(state records_lost_reported)
t0=$(date +%s.%N)
ip netns exec "bg-$TAG" "$FLOWGEN" -n 10.103.200 -r "$LOAD_RATE" -t 300 >"$D/flowgen.log" 2>&1 &
GEN=$!
PIDS+=($GEN)
sleep 2	# let the load reach its rate before measuring
trials loaded
kill "$GEN" 2>/dev/null
wait "$GEN" 2>/dev/null
t1=$(date +%s.%N)
sleep 1.5	# agent_state is refreshed every second
r1=$(state records)
l1=$(state records_lost_reported)
cat "$D/flowgen.log"

python3 - "$D/idle.ms" "$D/loaded.ms" "$r0" "$r1" "$t0" "$t1" "$l0" "$l1" "$LOAD_RATE" \
	"$D/loaded.decided.ms" <<'EOF'
import json, math, sys
def load(p):
    return sorted(float(x) for x in open(p) if x.strip())
def pct(v, q):  # nearest rank: of 100 values, p99 is the 99th
    if not v:
        return None
    k = min(len(v) - 1, max(0, math.ceil(q / 100.0 * len(v)) - 1))
    return round(v[k], 3)
idle, loaded, decided = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[10])
r0, r1, t0, t1 = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
lost = int(sys.argv[8]) - int(sys.argv[7])
rate = (r1 - r0) / (t1 - t0) if t1 > t0 else 0
for name, v in (("idle", idle), ("loaded", loaded)):
    print("bench_detect: %s: n=%d p50=%s p99=%s max=%s ms" % (name, len(v), pct(v, 50), pct(v, 99),
          v[-1] if v else None))
print("bench_detect: loaded: rule fired p50=%s p99=%s ms after the record" % (pct(decided, 50),
      pct(decided, 99)))
print("bench_detect: loaded: agent ingested %.0f records/s (load asked %s flows/s), %d records lost"
      % (rate, sys.argv[9], lost))
print(json.dumps({
    "detect_decision_p99_ms": pct(loaded, 99), "detect_decision_p50_ms": pct(loaded, 50),
    "detect_decision_max_ms": loaded[-1] if loaded else None,
    "detect_decision_idle_p99_ms": pct(idle, 99), "detect_decision_trials": len(loaded),
    "detect_decided_p99_ms": pct(decided, 99),
    "detect_load_records_per_s": round(rate), "detect_load_records_lost": lost,
}))
EOF
