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
#   loaded   DETECT_LOAD_RATE (default 60000) new flows/s, each a flow
#            record, from many load workloads, each within the data path's
#            fair share (lib/bpf/share.h): a workload's records are
#            budgeted at 1,000/s (over it they are lost once the ring is
#            half full) and its conntrack entries at 65,536 (UDP entries
#            live 60 s, so about 1,000 new flows/s). So the load is
#            ceil(rate / DETECT_LOAD_PER_WORKLOAD) workloads (default 900
#            flows/s each; at most 950), one netns each, all driven by one
#            bench/flowgen process. The load workloads first learn their
#            traffic (UDP to 16 ports of a blackholed /24; the agent widens
#            peers to /24) and then run in enforce mode: their flows are
#            allowed and in their baselines, so the rules see them and
#            count none (the usual case on a node).
# During the loaded trials the script prints the agent's ingest rate, the
# records lost (ring full or over budget), the records the data path
# refused by budget (records_limited) and the flows it refused for the
# conntrack share (ct_refused), summed over every workload from the pinned
# bh_share_v1; the last line is the JSON for bench/run.sh.
#
#   DETECT_TRIALS (default 100 per phase), DETECT_SECS (default 520: the
#   whole script's wall-clock budget; trials stop when their phase's part of
#   it is spent, so a slow machine yields fewer trials, reported as such,
#   rather than no figure at all), DETECT_LOAD_RATE,
#   DETECT_LOAD_PER_WORKLOAD, BUILD
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
BUDGET=${DETECT_SECS:-520}
LOAD_RATE=${DETECT_LOAD_RATE:-60000}
PER_WL=${DETECT_LOAD_PER_WORKLOAD:-900}
PORTS=16	# learned ports per load workload (16 baseline entries)
SOCKS=16	# source ports per load workload: 250 x 16 x 16 = 64,000
		# distinct flows, more than 60 s of UDP conntrack at 950/s
[ -x "$BH" ] && [ -x "$FLOWGEN" ] || { echo "bench_detect: build first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench_detect: needs root" >&2; exit 2; }
case "$LOAD_RATE$PER_WL$TRIALS$BUDGET" in *[!0-9]*)
	echo "bench_detect: DETECT_TRIALS, DETECT_SECS and the rates are whole numbers" >&2; exit 2 ;;
esac
[ "$PER_WL" -ge 1 ] && [ "$PER_WL" -le 950 ] ||
	{ echo "bench_detect: DETECT_LOAD_PER_WORKLOAD must be 1..950 (record budget 1,000/s)" >&2; exit 2; }
NWL=$(( (LOAD_RATE + PER_WL - 1) / PER_WL ))
[ "$NWL" -ge 1 ] && [ "$NWL" -le 120 ] ||
	{ echo "bench_detect: $NWL load workloads (1..120): lower DETECT_LOAD_RATE" >&2; exit 2; }

TAG=$(printf '%03x' $(( ($$ + RANDOM) % 4096 )))
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-bench-detect-$TAG
export BULKHEAD_STATE_DIR=/tmp/bh-bench-detect-$TAG
D=$BULKHEAD_STATE_DIR
BLACKHOLE=10.118.200	# .0/24: the load's destinations
mkdir -p "$D"
PIDS=()
LOADNS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$BH" reset >/dev/null 2>&1
	for n in "bt-$TAG" "ba-$TAG" "${LOADNS[@]}"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	ip link del "bt$TAG" 2>/dev/null
	ip link del "ba$TAG" 2>/dev/null
	for ((i = 0; i < NWL; i++)); do ip link del "bl$TAG$i" 2>/dev/null; done
	ip route del blackhole "$BLACKHOLE.0/24" 2>/dev/null
	rm -rf "$BULKHEAD_BPFFS" "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# mk NETNS HOSTIF ADDR GW
mk() {
	ip netns add "$1" &&
	ip link add "$2" type veth peer name eth0 netns "$1" &&
	ip -n "$1" addr add "$3/24" dev eth0 &&
	ip -n "$1" link set lo up &&
	ip -n "$1" link set eth0 up &&
	ip link set "$2" up &&
	ip addr add "$4/32" dev "$2" &&
	ip route replace "$3/32" dev "$2" &&
	ip -n "$1" route add "$4/32" dev eth0 &&
	ip -n "$1" route add default via "$4" dev eth0 &&
	sysctl -qw "net.ipv4.conf.$2.proxy_arp=1"
}
sysctl -qw net.ipv4.ip_forward=1
mk "bt-$TAG" "bt$TAG" 10.118.12.2 10.118.12.1 || exit 2	# the swept peer (not a workload)
mk "ba-$TAG" "ba$TAG" 10.118.10.2 10.118.10.1 || exit 2	# attacker
ip route replace blackhole "$BLACKHOLE.0/24"
"$BH" attach "ba$TAG" --workload bench/attacker --ip 10.118.10.2 >/dev/null || exit 2
for ((i = 0; i < NWL; i++)); do	# load workloads, learning first
	LOADNS+=("bl-$TAG-$i")
	mk "bl-$TAG-$i" "bl$TAG$i" "10.118.$((64 + i)).2" "10.118.$((64 + i)).1" || exit 2
	"$BH" attach "bl$TAG$i" --workload "bench/load$i" --ip "10.118.$((64 + i)).2" \
		--mode learn >/dev/null || exit 2
done

$DT syslog-sink "$D/syslog.sock" "$D/syslog.txt" 900 >/dev/null 2>&1 &
PIDS+=($!)
cat >"$D/agent.yaml" <<YAML
syslog: {target: "unix:$D/syslog.sock", flows: false}
baseline: {cidr_prefix_v4: 24}
quarantine:
  scan: {distinct_ports: 20, seconds: 10, action: quarantine}
YAML
"$BH" agent --config "$D/agent.yaml" >"$D/agent.log" 2>&1 &
AGENT=$!
PIDS+=($AGENT)

sql() {	# one value of a query on the agent's store (0 when none)
	python3 - "$D/state.db" "$1" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
try:
    r = c.execute(sys.argv[2]).fetchone()
except sqlite3.OperationalError:
    r = None		# table not created yet
print(r[0] if r and r[0] is not None else 0)
EOF
}
state() { sql "SELECT value FROM agent_state WHERE key='$1'"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }	# user + system
share() {	# the data path's share refusals of every slot: records ct
	bpftool -j map dump pinned "$BULKHEAD_BPFFS/bh_share_v1" | python3 -c '
import json, sys
rec = ct = 0
for e in json.load(sys.stdin):
    v = e.get("formatted", e)["value"]
    rec += int(v["records_limited"]); ct += int(v["ct_refused"])
print(rec, ct)'
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

# trials NAME STOP: one quarantine each, until TRIALS or the script's
# clock ($SECONDS) reaches STOP; latencies (ms) to $D/NAME.ms, the count of
# trials without a decision to $D/NAME.missed
trials() {
	local name=$1 stop=$2 i got=0 missed=0 before
	: >"$D/$name.ms"
	for ((i = 0; i < TRIALS; i++)); do
		if [ "$SECONDS" -ge "$stop" ]; then
			echo "$name: stopped after $i of $TRIALS trials: its part of DETECT_SECS=$BUDGET ran out"
			break
		fi
		before=$(events)
		# a release can meet the store busy: retry (bounded)
		for _ in 1 2 3 4 5; do
			quarantined || break
			"$BH" release bench/attacker >/dev/null 2>&1
		done
		ip netns exec "ba-$TAG" $DT sweep 10.118.12.2 2000-2024 >/dev/null
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
	echo "$missed" >"$D/$name.missed"
	echo "$name: $got decisions, $missed trials without one"
}

load_quarantined() {
	"$BH" workload list --json |
		jq '[.[] | select((.workload | startswith("bench/load")) and .quarantined)] | length'
}
wait_for 250 test -S "$D/syslog.sock" || { echo "bench_detect: no syslog sink" >&2; exit 2; }
wait_for 250 test "$(state pid)" -gt 0 || { echo "bench_detect: agent did not start" >&2; exit 2; }

# the load workloads learn their traffic: each sends one datagram to each
# of its ports (the agent widens the peer to the /24), then enforces
"$FLOWGEN" -n "$BLACKHOLE" -r 20000 -t 30 -p "$PORTS" -s 1 -c "$PORTS" "${LOADNS[@]}" \
	>"$D/learn.log" 2>&1 || { cat "$D/learn.log" >&2; exit 2; }
learned() {
	[ "$(sql "SELECT count(*) FROM baselines WHERE ns='bench' AND name LIKE 'load%'")" -ge \
		$((NWL * PORTS)) ]
}
wait_for 500 learned || { echo "bench_detect: the load workloads did not learn their ports" >&2; exit 2; }
for ((i = 0; i < NWL; i++)); do
	"$BH" mode "bench/load$i" enforce >/dev/null || exit 2
done
echo "bench_detect: $NWL load workloads, $PORTS learned ports each, now enforcing ($SECONDS s)"

# the budget left, less 30 s for the end (the ring's rest, the summary,
# the cleanup): a third for the idle trials, the rest for the loaded ones,
# which are slower (each waits for the agent through the load)
left=$((BUDGET - SECONDS - 30))
[ "$left" -gt 0 ] || { echo "bench_detect: setup used all of DETECT_SECS=$BUDGET" >&2; exit 2; }
trials idle $((SECONDS + left / 3))
echo "bench_detect: idle trials done ($SECONDS s)"

# loaded: flowgen for as long as the trials take (bounded: 600 s, flowgen's limit)
read -r s_rec0 s_ct0 <<<"$(share)"
l0=$(state records_lost_reported)
"$FLOWGEN" -n "$BLACKHOLE" -r "$LOAD_RATE" -t 600 -p "$PORTS" -s "$SOCKS" "${LOADNS[@]}" \
	>"$D/flowgen.log" 2>&1 &
GEN=$!
PIDS+=($GEN)
sleep 3	# let the load reach its rate before measuring
r0=$(state records)
fw0=$(state flows_written)
h0=$(state heartbeat_ms)
a0=$(cpu_ticks "$AGENT") g0=$(cpu_ticks "$GEN") w0=$SECONDS
trials loaded $((BUDGET - 30))
r1=$(state records)	# agent_state is refreshed every second: the
fw1=$(state flows_written) fu1=$(state flows_unstored)
h1=$(state heartbeat_ms)	# rate is over the refreshes the load spanned
a1=$(cpu_ticks "$AGENT") g1=$(cpu_ticks "$GEN") w1=$SECONDS
hz=$(getconf CLK_TCK)
echo "bench_detect: loaded: over $((w1 - w0)) s the agent used" \
	"$(( (a1 - a0) * 100 / hz / (w1 - w0 > 0 ? w1 - w0 : 1) )) % of a core," \
	"flowgen (and the kernel's work in its sends) $(( (g1 - g0) * 100 / hz / (w1 - w0 > 0 ? w1 - w0 : 1) )) %;" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$GEN" 2>/dev/null
wait "$GEN" 2>/dev/null
sleep 1.5	# the agent reads what is left in the ring
l1=$(state records_lost_reported)
read -r s_rec1 s_ct1 <<<"$(share)"
cat "$D/flowgen.log"
echo "bench_detect: load workloads quarantined: $(load_quarantined);" \
	"would-quarantine or deviation events: $(grep -c 'would-quarantine\|deviation' "$D/syslog.txt")"

python3 - "$D/idle.ms" "$D/loaded.ms" "$D/loaded.decided.ms" "$(cat "$D/idle.missed")" \
	"$(cat "$D/loaded.missed")" "$r0" "$r1" "$h0" "$h1" "$l0" "$l1" \
	"$LOAD_RATE" "$NWL" "$s_rec0" "$s_rec1" "$s_ct0" "$s_ct1" "$fw0" "$fw1" "$fu1" <<'EOF'
import json, math, sys
def load(p):
    return sorted(float(x) for x in open(p) if x.strip())
def pct(v, q):  # nearest rank: of 100 values, p99 is the 99th
    if not v:
        return None
    k = min(len(v) - 1, max(0, math.ceil(q / 100.0 * len(v)) - 1))
    return round(v[k], 3)
idle, loaded, decided = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
idle_missed, loaded_missed = int(sys.argv[4]), int(sys.argv[5])
# a trial without a decision waited 5 s for it: it counts as 5,000 ms, a
# lower bound, so that misses raise the percentiles instead of vanishing
WAITED_MS = 5000.0
idle = sorted(idle + [WAITED_MS] * idle_missed)
loaded = sorted(loaded + [WAITED_MS] * loaded_missed)
r0, r1, h0, h1, l0, l1, asked, nwl, b0, b1, c0, c1, fw0, fw1, fu1 = (int(x) for x in sys.argv[6:21])
rate = (r1 - r0) * 1000.0 / (h1 - h0) if h1 > h0 else 0
stored = (fw1 - fw0) * 1000.0 / (h1 - h0) if h1 > h0 else 0
lost, budget, ct = l1 - l0, b1 - b0, c1 - c0
for name, v, missed in (("idle", idle, idle_missed), ("loaded", loaded, loaded_missed)):
    print("bench_detect: %s: %d trials, p50=%s p99=%s max=%s ms; %d without a decision" %
          (name, len(v), pct(v, 50), pct(v, 99), v[-1] if v else None, missed))
print("bench_detect: loaded: rule fired p50=%s p99=%s ms after the record" % (pct(decided, 50),
      pct(decided, 99)))
print("bench_detect: loaded: agent ingested %.0f records/s over %.1f s (load asked %d flows/s from"
      " %d workloads, %.0f each); records lost %d, of them refused by budget %d;"
      " flows refused for the conntrack share %d" % (rate, (h1 - h0) / 1000.0, asked, nwl,
      asked / float(nwl), lost, budget, ct))
print("bench_detect: loaded: the store took %.0f flows/s; flows not yet stored at the end of the"
      " load %d (the store's backlog: reading and detection go first)" % (stored, fu1))
if rate < 0.95 * asked or lost or budget or ct:
    print("bench_detect: loaded: NOT at the asked load (ingest below 95 % of it, or records lost)")
print(json.dumps({
    "detect_decision_p99_ms": pct(loaded, 99), "detect_decision_p50_ms": pct(loaded, 50),
    "detect_decision_max_ms": loaded[-1] if loaded else None,
    "detect_decision_idle_p99_ms": pct(idle, 99), "detect_decision_trials": len(loaded),
    "detect_decision_missed": loaded_missed, "detect_decision_idle_missed": idle_missed,
    "detect_decided_p99_ms": pct(decided, 99),
    "detect_load_records_per_s": round(rate), "detect_load_records_lost": lost,
    "detect_load_records_over_budget": budget, "detect_load_ct_refused": ct,
    "detect_load_workloads": nwl, "detect_load_flows_stored_per_s": round(stored),
    "detect_load_flows_unstored": fu1,
}))
EOF
