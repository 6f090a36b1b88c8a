#!/usr/bin/env bash
# Detection a team can leave on (docs/agent.md "Automatic quarantine").
#
# Four workloads learn a benign set -- a scraper polling 25 peers on one
# port, a client spreading requests over 10 replicas, a job opening 50
# connections to its database within a second, DNS to two resolvers --
# then their baselines are exported, applied and they switch to enforce.
#   1. the benign set at three times the volume: every exchange answered,
#      no quarantine, no would-quarantine, no alert, no flow marked.
#   2. the attack set, enforce, action quarantine: a port sweep of one
#      peer (client), the database port swept over 25 peers (job), a burst
#      of denied flows (scraper), a connection to a deny-listed CIDR (web).
#      Each workload's learned traffic is answered right before its attack;
#      the attack quarantines it by the expected rule, the quarantine
#      event explains itself (rule, window, counted flows, first/last, why)
#      in the timeline and syslog, exactly the counted flows are marked in
#      `flows` (all attack flows, none learned), and it is cut off.
#   3. the same attacks with quarantine.dry_run and 4. in learn mode
#      (5. one of them in monitor mode): exactly one would-quarantine event
#      each (timeline, syslog, metrics), no quarantine, learned traffic
#      still answered.
#   6. action alert on the denied-flow and scan rules, enforce: each rule
#      an attack crosses reports one alert event (timeline, syslog,
#      metrics), nothing more, and no quarantine.
# One netns holds every peer (many addresses); the agent's progress is
# awaited with marker flows, never with sleeps.
. "$(dirname "$0")/../lib/common.sh"
bh_test_init agd
[ -x "$BH" ] || bh_skip "$BH not built"
command -v jq >/dev/null || bh_skip "jq not installed"

T=$BH_TAG
D=$BULKHEAD_STATE_DIR
DT="python3 $BH_ROOT/tests/lib/detect_traffic.py"
PEERS=10.103.0.11-35		# scrape targets (and the job's sweep)
REPLICAS=10.103.0.41-50
DB=10.103.0.60
DNS=10.103.0.53,10.103.0.54
BAD=10.103.250.5		# in the deny-listed 10.103.250.0/24
METRICS=127.0.0.1:21201

# --- the peers: one netns, every address on one veth ---------------------
ip netns add "dp-$T"
bh_on_exit "bh_del_netns 'dp-$T'"
ip link add "dp$T" type veth peer name eth0 netns "dp-$T"
bh_on_exit "ip link del 'dp$T'"
ip -n "dp-$T" link set lo up
ip -n "dp-$T" link set eth0 up
ip link set "dp$T" up
for a in $(python3 -c "import sys; sys.path.insert(0, '$BH_ROOT/tests/lib');
import detect_traffic as d; print(' '.join(d.expand('$PEERS,$REPLICAS,$DB,$DNS,$BAD')))"); do
	ip -n "dp-$T" addr add "$a/32" dev eth0
done
ip addr add 10.103.0.1/32 dev "dp$T"
ip route replace 10.103.0.0/24 dev "dp$T"
ip route replace 10.103.250.0/24 dev "dp$T"
ip -n "dp-$T" route add 10.103.0.1/32 dev eth0
ip -n "dp-$T" route add default via 10.103.0.1 dev eth0
sysctl -qw "net.ipv4.conf.dp$T.proxy_arp=1"
ip netns exec "dp-$T" $DT serve 400 9100,8080,5432,443 "$DNS" >/dev/null 2>&1 &
bh_on_exit "kill $!"
for p in 9100 8080 5432 443; do bh_wait_listen "dp-$T" tcp $p; done
bh_wait_listen "dp-$T" udp 53

# --- the workloads ------------------------------------------------------
bh_mk_workload "ds-$T" "ds$T" 10.103.1.2/24 10.103.1.1	# scraper
bh_mk_workload "dc-$T" "dc$T" 10.103.2.2/24 10.103.2.1	# client
bh_mk_workload "dj-$T" "dj$T" 10.103.3.2/24 10.103.3.1	# job
bh_mk_workload "dw-$T" "dw$T" 10.103.4.2/24 10.103.4.1	# web
declare -A NSOF=([scraper]="ds-$T" [client]="dc-$T" [job]="dj-$T" [web]="dw-$T")
declare -A IFOF=([scraper]="ds$T" [client]="dc$T" [job]="dj$T" [web]="dw$T")
declare -A IPOF=([scraper]=10.103.1.2 [client]=10.103.2.2 [job]=10.103.3.2 [web]=10.103.4.2)
for w in scraper client job web; do
	$BH attach "${IFOF[$w]}" --workload "shop/$w" --ip "${IPOF[$w]}" --label "app=$w" \
		--mode learn >/dev/null || fail "attach shop/$w"
done
expect_eq "four workloads attached" 4 "$($BH workload list --json | jq '[.[] | select(.workload | startswith("shop/"))] | length')"

# --- the agent -------------------------------------------------------------
$DT syslog-sink "$D/syslog.sock" "$D/syslog.txt" 400 >/dev/null 2>&1 &
bh_on_exit "kill $!"
bh_wait 100 test -S "$D/syslog.sock" || fail "the syslog sink did not start"
AGENT=
bh_on_exit 'kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null'
start_agent() {	# $1: more quarantine keys; $2: action of denied_flows and scan
	cat >"$D/agent.yaml" <<YAML
syslog: {target: "unix:$D/syslog.sock", flows: false}
metrics: {listen: "$METRICS"}
quarantine:
  denied_flows: {count: 30, seconds: 10${2:+, action: $2}}
  scan: {distinct_ports: 20, distinct_peers: 20, seconds: 10, action: ${2:-quarantine}}
  deny_cidrs: [10.103.250.0/24]
$1
YAML
	local t0
	t0=$(bh_now_ms)
	$BH agent --config "$D/agent.yaml" >>"$D/agent.log" 2>&1 &
	AGENT=$!
	bh_wait_agent "$t0"
}
stop_agent() { kill "$AGENT"; wait "$AGENT" 2>/dev/null; AGENT=; }
start_agent ""

# --- helpers ---------------------------------------------------------------
run() { local w=$1; shift; ip netns exec "${NSOF[$w]}" $DT "$@"; }
# the benign set, K times
learned() {
	local w=$1 k=${2:-1}
	case $w in
	scraper) run scraper scrape "$PEERS" 9100 "$k" ;;
	client) run client spread "$REPLICAS" 8080 $((10 * k)) ;;
	job) run job pool "$DB" 5432 50 "$k" ;;
	web) run web spread 10.103.0.41 8080 $((3 * k)) ;;
	esac >/dev/null && run "$w" dns "$DNS" "$k" >/dev/null
}
# one request on the workload's usual path (answered, or 2 s timeout)
declare -A USUAL=([scraper]="10.103.0.11 9100" [client]="10.103.0.41 8080" [job]="$DB 5432"
	[web]="10.103.0.41 8080")
usual() { run "$1" spread ${USUAL[$1]} 1 >/dev/null; }
attack() {
	case $1 in
	scraper) run scraper sweep 10.103.0.11 22 40 ;;	# 40 denied flows at once
	client) run client sweep 10.103.0.41 1000-1039 ;;	# 40 ports of one peer
	job) run job sweep "$PEERS" 5432 ;;			# the DB port on 25 peers
	web) run web sweep "$BAD" 443 ;;			# a deny-listed address
	esac >/dev/null
}
declare -A RULE=([scraper]=denied-flows [client]=port-scan [job]=host-scan [web]=deny-cidr)
declare -A KEY=([scraper]=quarantine.denied_flows [client]=quarantine.scan.distinct_ports
	[job]=quarantine.scan.distinct_peers [web]=quarantine.deny_cidrs)
declare -A REASON=([scraper]="auto: 30 denied flows in 10s"
	[client]="auto: port scan, 20 distinct ports in 10s"
	[job]="auto: host scan, 20 distinct peers in 10s"
	[web]="auto: flow to deny-listed 10.103.250.0/24 (proto 6 port 443)")
declare -A COUNTED=([scraper]=30 [client]=20 [job]=20 [web]=1)
# which flows an attack makes (jq condition on a flow)
declare -A ATTACK_FLOW=([scraper]='.dst == "10.103.0.11" and .dport == 22'
	[client]='.dst == "10.103.0.41" and .dport >= 1000 and .dport <= 1039'
	[job]='.dport == 5432 and .dst != "10.103.0.60"'
	[web]='.dst == "10.103.250.5"')

events() { $BH timeline "shop/$1" --json | jq "[.[] | select(.kind == \"$2\")] | length"; }
event_detail() { $BH timeline "shop/$1" --json | jq -r "[.[] | select(.kind == \"$2\")] | last | .detail"; }
quarantined() { $BH workload list --json | jq -e ".[] | select(.workload == \"shop/$1\") | .quarantined" >/dev/null; }
flows_json() { $BH flows --workload "shop/$1" --limit 0 --json; }
# Wait until the agent has stored a marker flow sent now: every record
# written before it (same ring, in order) has been judged by the rules.
MK=21200
has_marker() { flows_json "$1" | jq -e "any(.[]; .sport == $2)" >/dev/null; }
sync_agent() {
	MK=$((MK + 1))
	run "$1" marker 10.103.0.53 53 $MK
	bh_wait 100 has_marker "$1" $MK || fail "agent never stored marker $MK of shop/$1"
}
metric() {
	exec 3<>"/dev/tcp/${METRICS%:*}/${METRICS#*:}" || return 1
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
	awk -v m="$1" 'index($0, m) == 1 { print $NF }' <&3
	exec 3>&-
}

# --- 1. learn, export, enforce, replay x3 -----------------------------------
for w in scraper client job web; do
	expect_ok "learn: $w's traffic answered" learned $w
done
declare -A ENTRIES=([scraper]=27 [client]=12 [job]=3 [web]=3)
bl_size() { [ "$($BH baseline show "shop/$1" --json | jq length)" -ge "$2" ]; }
for w in scraper client job web; do
	expect_ok "baseline of $w has ${ENTRIES[$w]} entries" bh_wait 100 bl_size $w "${ENTRIES[$w]}"
	$BH baseline export "shop/$w" --format native >"$D/$w.yaml"
	expect_ok "baseline of $w applied as its policy" $BH policy apply -f "$D/$w.yaml"
	expect_ok "$w to enforce" $BH mode "shop/$w" enforce
done
for w in scraper client job web; do
	expect_ok "enforce, 3x volume: $w's traffic all answered" learned $w 3
done
for w in scraper client job web; do
	sync_agent $w
	for k in quarantine would-quarantine alert; do
		expect_eq "benign $w: no $k event" 0 "$(events $w $k)"
	done
	expect_eq "benign $w: no flow counted" 0 "$(flows_json $w | jq '[.[] | select(.counted != "")] | length')"
done
expect_eq "benign: metrics, no would-quarantine" 0 "$(metric bulkhead_would_quarantines_total)"

echo "     ($SECONDS s: benign set done)"
# --- 2. attacks under enforce ------------------------------------------------
for w in scraper client job web; do
	expect_ok "$w: learned traffic answered before its attack" learned $w
	attack $w
	expect_ok "$w: quarantined by ${RULE[$w]}" bh_wait 100 quarantined $w
	sync_agent $w
	expect_eq "$w: one quarantine event" 1 "$(events $w quarantine)"
	det=$(event_detail $w quarantine)
	echo "     $w: $det"
	expect_ok "$w: event names the reason" grep -qF "${REASON[$w]}" <<<"$det"
	expect_ok "$w: event names the rule" grep -qF "rule ${KEY[$w]}" <<<"$det"
	expect_ok "$w: event counts the flows" grep -qE "${COUNTED[$w]} flows? counted over" <<<"$det"
	case $w in
	web) expect_ok "$w: event names the flow" grep -qE "flow tcp 10\.103\.4\.2:[0-9]+ -> 10\.103\.250\.5:443 " <<<"$det" ;;
	*) expect_ok "$w: event names first and last" grep -qE "first tcp .*last \(crossed the threshold\) tcp" <<<"$det"
	   expect_ok "$w: event says why they counted" grep -q "denied by policy" <<<"$det" ;;
	esac
	fj=$(flows_json $w)
	expect_eq "$w: flows marked ${RULE[$w]}" "${COUNTED[$w]}" \
		"$(jq "[.[] | select(.counted | startswith(\"${RULE[$w]}:\"))] | length" <<<"$fj")"
	expect_eq "$w: every marked flow is an attack flow" 0 \
		"$(jq "[.[] | select(.counted != \"\" and (${ATTACK_FLOW[$w]} | not))] | length" <<<"$fj")"
	expect_ok "$w: learned flows passed (allow) before" \
		jq -e '[.[] | select(.verdict == "allow" and .counted == "")] | length > 0' >/dev/null <<<"$fj"
	expect_fail "$w: cut off" usual $w
	sl=$(grep -F "${REASON[$w]}" "$D/syslog.txt" | grep "quarantine map updated" | head -n 1)
	expect_ok "$w: a quarantine event in syslog" test -n "$sl"
	# syslog carries the same explanation as the timeline
	expect_ok "$w: syslog names the rule" grep -qF "rule ${KEY[$w]}" <<<"$sl"
	expect_ok "$w: syslog counts the flows" grep -qE "${COUNTED[$w]} flows? counted over" <<<"$sl"
	case $w in
	web) expect_ok "$w: syslog names the flow" grep -qE "flow tcp 10\.103\.4\.2:[0-9]+ -> 10\.103\.250\.5:443 " <<<"$sl" ;;
	*) expect_ok "$w: syslog names first and last" grep -qE "first tcp .*last \(crossed the threshold\) tcp" <<<"$sl" ;;
	esac
	sed -n "s/.*\(${REASON[$w]//\//\\/}\).*quarantine map updated \([0-9.]*\) ms.*/     $w: quarantine map updated \2 ms after the crossing flow's record/p" \
		"$D/syslog.txt" | head -n 1
done
expect_eq "metrics: 4 quarantines" 4 "$(metric bulkhead_quarantines_total)"
expect_eq "metrics: port-scan quarantine of shop/client" 1 \
	"$(metric 'bulkhead_detections_total{namespace="shop",workload="client",rule="port-scan",action="quarantine"}')"

echo "     ($SECONDS s: attacks under enforce done)"
# --- 3. dry_run, 4. learn mode: one would-quarantine each, nothing done -------
would_phase() {	# $1: label, $2: expected would-quarantine events so far, $3: text
	local w
	for w in scraper client job web; do
		expect_ok "$1 $w: learned traffic answered before" learned $w
		attack $w
		sync_agent $w
		expect_eq "$1 $w: would-quarantine events" "$2" "$(events $w would-quarantine)"
		expect_ok "$1 $w: it names ${RULE[$w]} and why" \
			grep -qF "${REASON[$w]}; rule ${KEY[$w]}" <<<"$(event_detail $w would-quarantine)"
		expect_ok "$1 $w: it says why nothing was done" \
			grep -qF "not quarantined ($3)" <<<"$(event_detail $w would-quarantine)"
		expect_eq "$1 $w: still only the enforce quarantine" 1 "$(events $w quarantine)"
		expect_fail "$1 $w: not quarantined" quarantined $w
		expect_ok "$1 $w: learned traffic still answered" learned $w
	done
	expect_eq "$1 metrics, 4 would-quarantines" 4 "$(metric bulkhead_would_quarantines_total)"
	expect_eq "$1 metrics, no quarantine" 0 "$(metric bulkhead_quarantines_total)"
	expect_eq "$1 syslog has them" "$(( $2 * 4 ))" "$(grep -c ' would-quarantine ' "$D/syslog.txt")"
}

stop_agent
start_agent "  dry_run: true"
for w in scraper client job web; do
	expect_ok "release $w" $BH release "shop/$w"
done
would_phase "dry_run:" 1 quarantine.dry_run
echo "     ($SECONDS s: dry_run done)"

stop_agent
start_agent ""
for w in scraper client job web; do
	$BH mode "shop/$w" learn >/dev/null || fail "$w to learn"
done
would_phase "learn:" 2 "learn mode"
echo "     ($SECONDS s: learn mode done)"

# --- 5. monitor mode: the same (one workload is enough) -----------------------
expect_ok "client to monitor" $BH mode shop/client monitor
expect_ok "monitor: client's learned traffic answered before" learned client
attack client
sync_agent client
expect_eq "monitor: client, one more would-quarantine" 3 "$(events client would-quarantine)"
expect_ok "monitor: it says monitor mode" \
	grep -qF "not quarantined (monitor mode)" <<<"$(event_detail client would-quarantine)"
expect_fail "monitor: client not quarantined" quarantined client
expect_ok "monitor: client's traffic still answered" learned client

echo "     ($SECONDS s: monitor mode done)"
# --- 6. action alert: reported once, nothing done ------------------------------
stop_agent
start_agent "" alert
for w in scraper client job; do
	expect_ok "alert: $w to enforce" $BH mode "shop/$w" enforce
done
# the client's 40 swept ports are also 40 denied flows: its port-scan alert
# comes at the 20th, the denied-flows alert at the 30th (each rule alerts
# on its own)
declare -A ALERTS=([scraper]=1 [client]=2 [job]=1)
alert_has() {
	$BH timeline "shop/$1" --json |
		jq -e --arg r "$2" '[.[] | select(.kind == "alert") | .detail | contains($r)] | any' >/dev/null
}
for w in scraper client job; do
	expect_ok "alert $w: learned traffic answered before" learned $w
	attack $w
	sync_agent $w
	expect_eq "alert $w: alert events" "${ALERTS[$w]}" "$(events $w alert)"
	expect_ok "alert $w: one names ${RULE[$w]}" alert_has $w "${REASON[$w]}; rule ${KEY[$w]}"
	expect_ok "alert $w: it says it only reports" alert_has $w "action alert: reported only"
	expect_eq "alert $w: still only the enforce quarantine" 1 "$(events $w quarantine)"
	expect_fail "alert $w: not quarantined" quarantined $w
	expect_ok "alert $w: learned traffic still answered" learned $w
done
expect_ok "alert client: the denied-flows alert too" alert_has client "${REASON[scraper]}"
expect_eq "alert: metrics, 4 alerts" 4 "$(metric bulkhead_detect_alerts_total)"
expect_eq "alert: metrics, no quarantine" 0 "$(metric bulkhead_quarantines_total)"
expect_eq "alert: syslog has them" 4 "$(grep -c ' alert ' "$D/syslog.txt")"

expect_ok "agent still running" kill -0 "$AGENT"
if [ "$BH_FAILS" -gt 0 ]; then
	for w in scraper client job web; do echo "--- timeline $w"; $BH timeline "shop/$w"; done
	tail -n 30 "$D/agent.log"
fi
