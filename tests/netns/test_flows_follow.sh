#!/usr/bin/env bash
# Flows as people query them, on real traffic: `flows -w` streams records
# from the agent's unix socket (they arrive while the store has not
# committed them yet: store.flush_ms is 10 s), filtered like the stored
# ones, and follows the agent across a restart; filters (--verdict,
# --reason, --proto, --port, --from/--to as NS/NAME, selector and CIDR,
# -n, --since/--until, --rule) on the stored flows; ICMP shown by type
# name; the agent's logfmt lines; the Prometheus metrics with namespace,
# workload and direction labels, conntrack occupancy, policy sync and CNI
# counters, build_info and no bulkhead_agent_up.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init flwf
PY=/usr/bin/python3
[ -x $PY ] || bh_skip "Debian's python3 not installed"
command -v sqlite3 >/dev/null || bh_skip "sqlite3 CLI not installed"
T=ff$BH_TAG
S=$BULKHEAD_STATE_DIR
W=$S/work
mkdir -p "$W"
MPORT=21321

bh_mk_workload "$T-w" "${T}w" 10.104.4.2/24 10.104.4.1
bh_mk_workload "$T-d" "${T}d" 10.104.5.2/24 10.104.5.1
bh_mk_workload "$T-c" "${T}c" 10.104.6.2/24 10.104.6.1
$BH attach "${T}w" --workload shop/web --ip 10.104.4.2 -l app=web >/dev/null
$BH attach "${T}d" --workload shop/db --ip 10.104.5.2 -l app=db >/dev/null
$BH attach "${T}c" --workload ops/cli --ip 10.104.6.2 -l role=tool >/dev/null
$BH policy apply -f - >/dev/null <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{protocol: TCP, port: 5432}]
EOF
bh_serve "$T-d" tcp 5432
bh_serve "$T-c" udp 53

cat >"$W/agent.yaml" <<EOF
store: {flush_ms: 10000, flush_records: 100000}
metrics: {listen: "127.0.0.1:$MPORT"}
log: {level: debug}
node: flows-node
EOF
AGENT=
start_agent() {
	$BH agent --config "$W/agent.yaml" 2>>"$W/agent.log" &
	AGENT=$!
	bh_wait 50 bash -c "ss -ltn | grep -q '127.0.0.1:$MPORT '"
}
stop_agent() { [ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null; AGENT=; }
bh_on_exit "stop_agent"
scrape() { $PY -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$MPORT/metrics').read().decode())"; }
metric() { scrape | awk -v n="$1" '$1 == n { print $2 }'; }
start_agent
expect_ok "agent running" kill -0 "$AGENT"

# -------------------------------------------------- follow from the agent
$BH flows -w -o json --to app=db >"$W/follow.json" 2>"$W/follow.err" &
FOLLOW=$!
bh_on_exit "kill $FOLLOW 2>/dev/null"
clients() { [ "$(metric bulkhead_flow_stream_clients)" = "$1" ]; }
expect_ok "flows -w connects to the agent's socket" bh_wait 50 clients 1

bh_tcp "$T-w" 10.104.5.2 5432				# allowed
bh_tcp "$T-c" 10.104.5.2 5432 && fail "ops/cli reached shop/db:5432"	# denied
bh_ping "$T-c" 10.104.5.2				# ICMP to db: denied
bh_udp "$T-w" 10.104.6.2 53 || true			# not towards app=db
seen() { grep -q "$1" "$W/follow.json"; }
expect_ok "stream: web -> db allowed" bh_wait 50 seen '"workload":"shop/web".*"dport":5432.*"verdict":"allow"'
expect_ok "stream: cli -> db denied at db" bh_wait 50 seen '"workload":"shop/db".*"src":"10.104.6.2".*"dport":5432.*"verdict":"deny"'
expect_ok "stream: the ping, by ICMP type name" bh_wait 50 seen '"icmp":"echo-request"'
# records from the stream are the agent's decoded records (type, event),
# not store rows (id, first_seen): nothing here came from SQLite
expect_eq "stream: every line is a record of the agent, none a stored row" "0" \
	"$(grep -vc '^{"type":"flow","event":"\(new\|deny\|end\)",' "$W/follow.json")"
expect_eq "stream: the filter --to app=db holds (no flow to ops/cli)" 0 \
	"$(grep -c '"dport":53' "$W/follow.json")"
expect_ok "stream: every line is a JSON object with the shared fields" $PY - "$W/follow.json" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines
for l in lines:
    d = json.loads(l)
    assert d["node"] == "flows-node" and d["peer_labels"] == {"app": "db"} or d["dir"] == "ingress", d
    assert d["namespace"] and d["name"] and "labels" in d and d["time"].endswith("Z"), d
    if d["proto"] == "icmp":
        assert d["sport"] is None and d["dport"] is None and d["icmp_type"] == 8, d
EOF

# ---------------------------------------------------------------- metrics
scrape >"$W/metrics.txt"
expect_ok "metrics: flows by namespace, workload, direction and verdict" grep -q \
	'^bulkhead_flows_total{namespace="shop",workload="web",direction="egress",verdict="allow"} [1-9]' \
	"$W/metrics.txt"
expect_ok "metrics: verdict counters with namespace, workload and direction labels" grep -q \
	'^bulkhead_verdict_packets_total{namespace="shop",workload="db",direction="ingress",reason="default-deny"} [1-9]' \
	"$W/metrics.txt"
expect_ok "metrics: conntrack occupancy" grep -q '^bulkhead_conntrack_entries [1-9]' "$W/metrics.txt"
expect_ok "metrics: conntrack capacity" grep -Eq '^bulkhead_conntrack_capacity_entries (262144|524288)$' \
	"$W/metrics.txt"
expect_ok "metrics: ring loss" grep -q '^bulkhead_flow_records_lost_total 0$' "$W/metrics.txt"
expect_ok "metrics: policy syncs counted" grep -q '^bulkhead_policy_syncs_total{result="ok"} [1-9]' \
	"$W/metrics.txt"
expect_ok "metrics: policies" grep -q '^bulkhead_policies 1$' "$W/metrics.txt"
expect_ok "metrics: build_info" grep -q '^bulkhead_build_info{version="[^"]\+",libbpf="v1' \
	"$W/metrics.txt"
expect_fail "metrics: no bulkhead_agent_up" grep -q 'bulkhead_agent_up' "$W/metrics.txt"
# a CNI operation on this instance is counted
printf '{"cniVersion":"1.0.0","name":"flwf","type":"bulkhead-cni","stateDir":"%s","bpffs":"%s"}' \
	"$S" "$BULKHEAD_BPFFS" | CNI_COMMAND=DEL CNI_CONTAINERID=c0ffee CNI_IFNAME=eth0 CNI_PATH=/ \
	$BH_CNI >/dev/null
expect_eq "bulkhead-cni DEL ran" 0 $?
expect_eq "metrics: CNI operations by command and result" 1 \
	"$(scrape | awk '$1 == "bulkhead_cni_operations_total{command=\"DEL\",result=\"ok\"}" { print $2 }')"

# ----------------------------------------------- the agent restarts: follow on
stop_agent
start_agent
expect_ok "flows -w reconnects to the new agent" bh_wait 100 clients 1
n=$(wc -l <"$W/follow.json")
bh_tcp "$T-w" 10.104.5.2 5432
more() { [ "$(wc -l <"$W/follow.json")" -gt "$n" ]; }
expect_ok "stream: records from the restarted agent" bh_wait 50 more
kill -INT "$FOLLOW"
wait "$FOLLOW"
expect_eq "flows -w: SIGINT ends it with 0" 0 $?
stop_agent	# SIGTERM commits the batch

# -------------------------------------------------------- the agent's log
expect_ok "agent log: every line is logfmt with time, level, msg" \
	bash -c "! grep -vE '^time=[0-9-]+T[0-9:.]+Z level=(error|warning|info|debug) msg=' '$W/agent.log'"
expect_ok "agent log: workloads seen" grep -q 'msg="workload seen" workload=shop/web' "$W/agent.log"
expect_ok "agent log: flow records at debug level" \
	grep -q 'level=debug msg="flow record" workload=ops/cli' "$W/agent.log"
expect_ok "agent log: stop" grep -q 'msg="agent stopped"' "$W/agent.log"
cp "$W/agent.yaml" "$W/agent-info.yaml"
sed -i 's/level: debug/level: warning/' "$W/agent-info.yaml"
timeout -s INT 2 $BH agent --config "$W/agent-info.yaml" 2>"$W/agent-warn.log"
expect_eq "log.level warning: no info lines" 0 "$(grep -c 'level=info' "$W/agent-warn.log")"

# ------------------------------------------------- filters on stored flows
ids() { $PY -c '
import json, sys
print(" ".join(sorted(set("%s>%s:%s" % (f["workload"], f["dst"], f["dport"] if f["dport"] is not None else f["icmp"]) for f in json.load(sys.stdin)))))'; }
expect_eq "--verdict deny" "shop/db>10.104.5.2:5432 shop/db>10.104.5.2:echo-request" \
	"$($BH flows --verdict deny -o json | ids)"
expect_eq "--verdict deny --from ops/cli --proto tcp" "shop/db>10.104.5.2:5432" \
	"$($BH flows --verdict deny --from ops/cli --proto tcp -o json | ids)"
expect_eq "-n ops --proto icmp" "ops/cli>10.104.5.2:echo-request" \
	"$($BH flows -n ops --proto icmp -o json | ids)"
expect_eq "--from app=web --port 5432 --verdict allow" "shop/db>10.104.5.2:5432 shop/web>10.104.5.2:5432" \
	"$($BH flows --from app=web --port 5432 --verdict allow -o json | ids)"
expect_eq "--to 10.104.6.0/24" "ops/cli>10.104.6.2:53 shop/web>10.104.6.2:53" \
	"$($BH flows --to 10.104.6.0/24 -o json | ids)"
expect_eq "--rule shop/db-in" "shop/db>10.104.5.2:5432" "$($BH flows --rule shop/db-in -o json | ids)"
expect_eq "--reason default-deny -n shop" "shop/db>10.104.5.2:5432 shop/db>10.104.5.2:echo-request" \
	"$($BH flows --reason default-deny -n shop -o json | ids)"
expect_eq "--since 10m keeps them" "$($BH flows -o json | ids)" "$($BH flows --since 10m -o json | ids)"
expect_eq "--until an hour ago: none" "" "$($BH flows --until "$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)" -o json | ids)"
expect_eq "--limit 1: the newest" 1 "$($BH flows --limit 1 -o json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')"
run=$($BH flows -n ops --proto icmp)
expect_ok "text: ICMP by type name in the DPORT/TYPE column" grep -q 'icmp .* echo-request ' <<<"$run"
$BH flows --verdict bogus >/dev/null 2>"$W/e"
expect_eq "--verdict bogus: exit 1" 1 $?
expect_ok "... naming the value and the known ones" grep -q "unknown verdict 'bogus' (known: allow" "$W/e"
$BH flows --from 'app in (web' >/dev/null 2>"$W/e"
expect_eq "--from with a broken selector: exit 1" 1 $?
