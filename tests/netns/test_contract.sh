#!/usr/bin/env bash
# The CLI contract of docs/cli.md, run as a user would type it, on
# real veths: every command with its flags, argument order and NS/NAME
# forms; --json on every listing (parsed and checked); exit statuses 0/1/2
# with one "bulkhead: ..." line on stderr; the agent's --syslog targets
# (unix, udp, tcp: a record arrives) and --config with the exact YAML of
# docs/agent.md; capture, map, policy test, baseline export; the
# state dir config (`hook`, forensics exception with real traffic); reset
# leaving nothing behind.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init contract
command -v python3 >/dev/null || bh_skip "python3 not installed"
# YAML checks use Debian's python3 and its python3-yaml (DEB_PKGS), not
# whichever python3 comes first on PATH.
PYYAML=/usr/bin/python3
command -v dot >/dev/null || bh_skip "graphviz (dot) not installed"
T=bc$BH_TAG
S=$BULKHEAD_STATE_DIR
W=$S/work			# scratch files (reset must not need to remove them)
mkdir -p "$W"
bh_on_exit "rm -rf '$W'"

# ------------------------------------------------------------------ helpers
# run CMD...: sets RC, OUT, ERR
run() {
	"$@" >"$W/out" 2>"$W/err"
	RC=$?
	OUT=$(cat "$W/out")
	ERR=$(cat "$W/err")
}

# expect_status DESC WANT CMD... : exit status WANT; on failure exactly one
# line "bulkhead: ..." on stderr and nothing on stdout
expect_status() {
	local d=$1 want=$2
	shift 2
	run "$@"
	if [ "$RC" != "$want" ]; then
		fail "$d (want exit $want, got $RC: $* / $ERR)"
		return 1
	fi
	if [ "$want" != 0 ]; then
		if [ "$(wc -l <"$W/err")" != 1 ] || [[ $ERR != "bulkhead: "* ]]; then
			fail "$d: stderr must be one 'bulkhead:' line, got: $ERR"
			return 1
		fi
		if [ -s "$W/out" ]; then
			fail "$d: stdout must be empty on failure, got: $OUT"
			return 1
		fi
	fi
	ok "$d (exit $want${ERR:+: $ERR})"
}

# expect_json DESC PYEXPR CMD... : CMD exits 0, prints JSON d with PYEXPR true
expect_json() {
	local d=$1 expr=$2
	shift 2
	run "$@"
	if [ "$RC" != 0 ]; then
		fail "$d (exit $RC: $* / $ERR)"
		return 1
	fi
	if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + "\n)") else 3)' "$W/out" "$expr" 2>"$W/pyerr"; then
		ok "$d"
	else
		fail "$d: JSON check '$expr' failed on: $(head -c 600 "$W/out") $(cat "$W/pyerr")"
		return 1
	fi
}

# jcount CMD... : number of elements of the JSON array CMD prints
jcount() { "$@" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# hook_progs IFNAME KEY : how many of our programs sit on hook KEY
hook_progs() {
	$BH debug hooks "$1" --json |
		python3 -c 'import json,sys; print(sum(p["ours"] for p in json.load(sys.stdin)[sys.argv[1]]))' "$2"
}

# A syslog collector on loopback or a unix socket: appends what it gets to
# OUT; for udp/tcp it binds port 0 and writes the port to PORTFILE.
cat >"$W/collector.py" <<'PY'
import os, socket, sys, time, select
mode, where, out = sys.argv[1], sys.argv[2], sys.argv[3]
deadline = time.time() + 120
f = open(out, 'ab', buffering=0)
if mode == 'unix':
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(where)
elif mode == 'udp':
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', 0))
    s.listen(4)
if mode != 'unix':
    with open(where + '.tmp', 'w') as p:
        p.write(str(s.getsockname()[1]))
    os.rename(where + '.tmp', where)
conns = []
while time.time() < deadline:
    r, _, _ = select.select([s] + conns, [], [], 0.5)
    for x in r:
        if x is s and mode == 'tcp':
            c, _ = s.accept()
            conns.append(c)
        elif x is s:
            f.write(s.recv(65536) + b'\n')
        else:
            d = x.recv(65536)
            if not d:
                conns.remove(x)
                x.close()
            f.write(d)
PY

# ---------------------------------------------------------------- the hosts
# workloads: shop/web, shop/db, ops/cli; outside hosts: a forensics host
# (an address in the forensics CIDR) and another one
bh_mk_workload $T-w "$T"w 10.81.4.10/32 10.81.4.1
bh_mk_workload $T-d "$T"d 10.81.4.20/32 10.81.4.1
bh_mk_workload $T-c "$T"c 10.81.4.30/32 10.81.4.1
bh_mk_workload $T-x "$T"x 10.81.4.40/32 10.81.4.1
bh_mk_workload $T-f "$T"f 10.99.81.5/32 10.81.4.1
bh_mk_workload $T-o "$T"o 10.98.81.5/32 10.81.4.1
bh_serve $T-w tcp 80
bh_serve $T-w tcp 22
bh_serve $T-w udp 53
bh_serve $T-d tcp 5432

# The state dir's config: the forensics exception, and `hook = xdp` as the
# default hook of attach.
cat >"$S/config" <<EOF
# bulkhead instance settings
hook = xdp
forensics.cidr = 10.99.81.0/24    # the forensics network
forensics.port = tcp/22
EOF

# ------------------------------------------------------------------ attach
expect_status "attach IFNAME --workload NS/NAME --ip IP --ip IP --label K=V --label K=V --hook tc" 0 \
	$BH attach "$T"w --workload shop/web --ip 10.81.4.10 --ip fd81::10 --label app=web \
	--label tier=front --hook tc
expect_status "attach --hook xdp" 0 \
	$BH attach "$T"d --workload shop/db --ip 10.81.4.20 --label app=db --hook xdp
expect_status "attach without --hook (config: hook = xdp)" 0 \
	$BH attach "$T"c --workload ops/cli --ip 10.81.4.30 --label app=client
expect_eq "web: --hook tc -> tcx ingress" 1 "$(hook_progs "$T"w tcx_ingress)"
expect_eq "web: --hook tc -> no XDP" 0 "$(hook_progs "$T"w xdp)"
expect_eq "db: --hook xdp -> XDP" 1 "$(hook_progs "$T"d xdp)"
expect_eq "cli: config hook = xdp -> XDP" 1 "$(hook_progs "$T"c xdp)"
expect_eq "cli: config hook = xdp -> no tcx ingress" 0 "$(hook_progs "$T"c tcx_ingress)"
expect_eq "cli: container ingress stays on tcx egress" 1 "$(hook_progs "$T"c tcx_egress)"
expect_json "debug hooks --json" 'd["ifname"] and any(p["ours"] for p in d["xdp"])' \
	$BH debug hooks "$T"c --json

# precedence: --hook > BULKHEAD_HOOK > config hook > tc
run env BULKHEAD_HOOK=tc $BH attach "$T"x --workload ops/x --ip 10.81.4.40
expect_eq "BULKHEAD_HOOK=tc beats config hook = xdp" "0 1" \
	"$RC $(hook_progs "$T"x tcx_ingress)"
$BH detach "$T"x >/dev/null
run env BULKHEAD_HOOK=xdp $BH attach "$T"x --workload ops/x --ip 10.81.4.40 --hook tc
expect_eq "--hook tc beats BULKHEAD_HOOK=xdp" "0 1 0" \
	"$RC $(hook_progs "$T"x tcx_ingress) $(hook_progs "$T"x xdp)"
$BH detach "$T"x >/dev/null
cp "$S/config" "$W/config.good"
sed -i 's/^hook = xdp/hook = tc/' "$S/config"
expect_status "attach without --hook (config: hook = tc)" 0 \
	$BH attach "$T"x --workload ops/x --ip 10.81.4.40
expect_eq "config hook = tc -> tcx ingress" 1 "$(hook_progs "$T"x tcx_ingress)"
expect_status "detach IFNAME" 0 $BH detach "$T"x
expect_eq "detach leaves no program of ours" "0 0 0" \
	"$(hook_progs "$T"x xdp) $(hook_progs "$T"x tcx_ingress) $(hook_progs "$T"x tcx_egress)"
sed -i 's/^hook = tc/hook = nft/' "$S/config"
expect_status "config hook = nft -> user error" 1 \
	$BH attach "$T"x --workload ops/x --ip 10.81.4.40
expect_ok "... naming the file, line and key" \
	grep -q "$S/config:2: hook: expected tc or xdp" "$W/err"
cp "$W/config.good" "$S/config"
echo "forensic.port = tcp/23" >>"$S/config"
expect_status "unknown key in the config -> user error" 1 \
	$BH attach "$T"x --workload ops/x --ip 10.81.4.40
expect_ok "... naming the file, line and key" \
	grep -q "$S/config:5: forensic.port: unknown key" "$W/err"
cp "$W/config.good" "$S/config"

# the CNI plugin's own `hook` key (tests/netns/test_cni_protocol.sh drives
# the whole protocol; here only the key): ADD as a runtime execs it
cni() { # HOOK-JSON-MEMBER CNI_COMMAND
	printf '{"cniVersion":"1.0.0","name":"contract","type":"bulkhead-cni","namespace":"cni",
"stateDir":"%s","bpffs":"%s"%s,"prevResult":{"cniVersion":"1.0.0",
"interfaces":[{"name":"%s"},{"name":"eth0","sandbox":"/var/run/netns/%s"}],
"ips":[{"address":"10.81.4.40/32","interface":1}]}}' \
		"$S" "$BULKHEAD_BPFFS" "$1" "$T"x "$T-x" |
		env CNI_COMMAND="$2" CNI_CONTAINERID="ctr$BH_TAG" CNI_NETNS="/var/run/netns/$T-x" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$BH_CNI" >"$W/cni.out" 2>&1
}
for h in xdp tc; do
	cni ",\"hook\":\"$h\"" ADD
	expect_eq "CNI ADD with \"hook\": \"$h\"" 0 $?
	expect_json "CNI: the workload runs on hook $h" \
		"[w['hook'] for w in d if w['ifname'] == '${T}x'] == ['$h']" $BH workload list --json
	if [ $h = xdp ]; then
		expect_eq "CNI hook xdp -> XDP" "1 0" "$(hook_progs "$T"x xdp) $(hook_progs "$T"x tcx_ingress)"
	else
		# tc_attach = auto: clsact at birth, the agent moves it to tcx
		# (test_cni_tcx_handover.sh)
		expect_eq "CNI hook tc -> clsact at birth" "0 1" \
			"$(hook_progs "$T"x xdp) $(hook_progs "$T"x clsact_ingress)"
	fi
	cni ",\"hook\":\"$h\"" DEL
	expect_eq "CNI DEL" 0 $?
done
cni ',"hook":"nft"' ADD
expect_ok "CNI ADD with a bad hook: CNI error" \
	bash -c "[ $? != 0 ] && grep -q 'hook.* must be tc or xdp' '$W/cni.out'"
expect_eq "CNI: nothing left on the veth" "0 0 0 0 0" \
	"$(hook_progs "$T"x xdp) $(hook_progs "$T"x tcx_ingress) $(hook_progs "$T"x tcx_egress) $(hook_progs "$T"x clsact_ingress) $(hook_progs "$T"x clsact_egress)"

expect_json "workload list --json" '
len(d) == 3 and {w["workload"] for w in d} == {"shop/web", "shop/db", "ops/cli"} and
[w for w in d if w["workload"] == "shop/web"][0]["ips"] == ["10.81.4.10", "fd81::10"] and
[w for w in d if w["workload"] == "shop/web"][0]["labels"] == {"app": "web", "tier": "front"} and
{w["workload"]: w["hook"] for w in d} == {"shop/web": "tc", "shop/db": "xdp", "ops/cli": "xdp"}
and all(w["mode"] == "enforce" and not w["quarantined"] for w in d)' $BH workload list --json
run $BH workload list
expect_ok "workload list (text) names every workload" \
	bash -c "grep -q shop/web <<<'$OUT' && grep -q shop/db <<<'$OUT' && grep -q ops/cli <<<'$OUT'"

# --------------------------------------------------------------- namespace
expect_status "namespace label NS K=V K=V" 0 $BH namespace label ops team=sre env=prod
expect_json "namespace list --json" '
[n for n in d if n["namespace"] == "ops"][0]["labels"] ==
{"kubernetes.io/metadata.name": "ops", "team": "sre", "env": "prod"} and
[n for n in d if n["namespace"] == "shop"][0]["labels"]["kubernetes.io/metadata.name"] == "shop"' \
	$BH namespace list --json

# ------------------------------------------------------------------ policy
cat >"$W/policy.yaml" <<'EOF'
# web: from namespace team=sre on tcp/80; db: from web on tcp/5432
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-in
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {team: sre}
    ports:
    - {protocol: TCP, port: 80}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-in
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: db}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector:
        matchLabels: {app: web}
    ports:
    - {protocol: TCP, port: 5432}
EOF
expect_status "policy apply -f FILE (multi-document)" 0 $BH policy apply -f "$W/policy.yaml"
expect_json "policy list --json" '
sorted((p["namespace"], p["name"]) for p in d) == [("shop", "db-in"), ("shop", "web-in")]' \
	$BH policy list --json
expect_ok "allowed: ops/cli -> web:80" bh_tcp $T-c 10.81.4.10 80
expect_fail "denied: ops/cli -> db:5432" bh_tcp $T-c 10.81.4.20 5432
expect_ok "allowed: web -> db:5432" bh_tcp $T-w 10.81.4.20 5432
expect_fail "denied: ops/cli -> web:22 (not in policy)" bh_tcp $T-c 10.81.4.10 22

# a bad policy: exit 1, message names file, line and field; nothing changes
sed 's/{protocol: TCP, port: 5432}/{protocol: TCPX, port: 5432}/' "$W/policy.yaml" >"$W/bad.yaml"
BADLINE=$(grep -n TCPX "$W/bad.yaml" | cut -d: -f1)
expect_status "policy apply of a bad file -> user error" 1 $BH policy apply -f "$W/bad.yaml"
expect_ok "... message names file:line:col and the field" \
	grep -Eq "$W/bad.yaml:$BADLINE:[0-9]+: spec.ingress\[0\].ports\[0\].protocol" "$W/err"
expect_ok "bad apply changed nothing: web -> db:5432 still allowed" bh_tcp $T-w 10.81.4.20 5432

# -------------------------------------------------------------------- mode
expect_status "mode NS/NAME monitor" 0 $BH mode shop/db monitor
expect_ok "monitor: ops/cli -> db:5432 passes" bh_tcp $T-c 10.81.4.20 5432
expect_status "mode NS/NAME enforce" 0 $BH mode shop/db enforce
expect_fail "enforce: ops/cli -> db:5432 denied again" bh_tcp $T-c 10.81.4.20 5432

# ------------------------------------------------------------------- stats
expect_json "stats --json" '
any(r["workload"] == "shop/db" and r["reason"] == "default-deny" and r["packets"] > 0
    for r in d["workloads"]) and
any(r["workload"] == "shop/web" and r["reason"] == "policy-allow" for r in d["workloads"]) and
any("shop/db-in" in r["rule"] or "shop/db" in r["rule"] for r in d["rules"]) and
"records" in d["counters"] and "records-lost" in d["counters"]' $BH stats --json
expect_json "stats --workload NS/NAME --json" '
d["workloads"] and all(r["workload"] == "shop/web" for r in d["workloads"])' \
	$BH stats --workload shop/web --json

# ------------------------------------------------- agent --syslog targets
# traffic that makes new flow records until the collector has one
poke_until() {
	local f=$1 i
	for i in $(seq 1 40); do
		bh_tcp $T-c 10.81.4.10 80 >/dev/null 2>&1
		grep -q 'bulkhead' "$f" 2>/dev/null && grep -q '10.81.4' "$f" && return 0
		sleep 0.25
	done
	return 1
}
AGENT=
stop_agent() {
	[ -n "$AGENT" ] || return 0
	kill -TERM "$AGENT" 2>/dev/null
	local i
	for i in $(seq 1 50); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$AGENT" 2>/dev/null
	wait "$AGENT" 2>/dev/null
	AGENT_RC=$?
	AGENT=
}
bh_on_exit "stop_agent"
COLL=
stop_collector() { [ -n "$COLL" ] && kill "$COLL" 2>/dev/null; wait "$COLL" 2>/dev/null; COLL=; }
bh_on_exit "stop_collector"

for target in unix udp tcp; do
	rm -f "$W/sl.$target" "$W/port.$target" "$W/sock"
	if [ $target = unix ]; then
		python3 "$W/collector.py" unix "$W/sock" "$W/sl.$target" &
		COLL=$!
		bh_wait 50 test -S "$W/sock"
		url=unix:$W/sock
	else
		python3 "$W/collector.py" $target "$W/port.$target" "$W/sl.$target" &
		COLL=$!
		bh_wait 50 test -s "$W/port.$target"
		url=$target://127.0.0.1:$(cat "$W/port.$target")
	fi
	T0=$(bh_now_ms)
	$BH agent --syslog "$url" >"$W/agent.$target.log" 2>&1 &
	AGENT=$!
	bh_wait_agent "$T0"
	expect_ok "agent --syslog $url: running" kill -0 $AGENT
	expect_ok "agent --syslog $url: a flow record arrives" poke_until "$W/sl.$target"
	stop_agent
	expect_eq "agent --syslog $target: SIGTERM -> exit 0" 0 "$AGENT_RC"
	stop_collector
done
expect_ok "RFC 5424 record with structured data (tcp, octet counted)" \
	grep -Eq '^[0-9]+ <[0-9]+>1 [0-9T:.Z+-]+ .* bulkhead .*\[' "$W/sl.tcp"

# --------------------------------------------------------------- flows
expect_json "flows --json" '
any(f["workload"] == "shop/web" and f["dport"] == 80 and f["verdict"] == "allow" for f in d)' \
	$BH flows --json
expect_json "flows --workload NS/NAME --json" '
d and all(f["workload"] == "ops/cli" for f in d)' $BH flows --workload ops/cli --json
run $BH flows
expect_ok "flows (text) has a header and rows" \
	bash -c "head -1 <<<'$OUT' | grep -q 'WORKLOAD' && [ $(wc -l <<<"$OUT") -gt 1 ]"
timeout --preserve-status -s INT 2 $BH flows --follow --workload shop/web >"$W/follow" 2>&1
expect_eq "flows --follow --workload NS/NAME: stops on SIGINT with 0" 0 $?
expect_ok "flows --follow printed the recent flows" grep -q 'shop/web' "$W/follow"

# ------------------------------------------------------------ agent --config
# the exact YAML of docs/agent.md, every key
cat >"$W/agent.yaml" <<'EOF'
syslog: {target: "tcp://127.0.0.1:514", format: rfc5424}   # or unix:PATH, udp://H:P; rfc3164
jsonl: /var/log/bulkhead/flows.jsonl
retention: {max_flows: 1000000, max_age: 7d}
quarantine:
  denied_flows: {count: 20, seconds: 10}
  scan: {distinct_ports: 20, distinct_peers: 20, seconds: 10}
  deny_cidrs: [192.0.2.0/24]
  exempt: ["kube-system/*"]
  capture: {seconds: 30, max_bytes: 10485760}
EOF
[ -e /var/log/bulkhead ] || bh_on_exit "rm -rf /var/log/bulkhead"
T0=$(bh_now_ms)
$BH agent --config "$W/agent.yaml" >"$W/agent.cfg.log" 2>&1 &
AGENT=$!
jsonl_has_flow() { grep -q '"type":"flow"' /var/log/bulkhead/flows.jsonl; }
poke_jsonl() {
	local i
	for i in $(seq 1 40); do
		bh_tcp $T-c 10.81.4.10 80 >/dev/null 2>&1
		jsonl_has_flow && return 0
		sleep 0.25
	done
	return 1
}
bh_wait_agent "$T0"
expect_ok "agent --config: running" kill -0 $AGENT
expect_ok "agent --config: flows reach the jsonl file of the config" poke_jsonl
stop_agent
expect_eq "agent --config: SIGTERM -> exit 0" 0 "$AGENT_RC"
sed 's/max_age: 7d/max_agge: 7d/' "$W/agent.yaml" >"$W/agent-bad.yaml"
expect_status "agent --config with an unknown key -> user error" 1 \
	$BH agent --config "$W/agent-bad.yaml"
expect_ok "... naming file, line and field" \
	grep -q "$W/agent-bad.yaml:3: retention.max_agge" "$W/err"
sed 's/count: 20,/count: twenty,/' "$W/agent.yaml" >"$W/agent-bad2.yaml"
expect_status "agent --config with a bad value -> user error" 1 \
	$BH agent --config "$W/agent-bad2.yaml"
expect_ok "... naming file, line and field" \
	grep -q "$W/agent-bad2.yaml:5: quarantine.denied_flows.count" "$W/err"
expect_status "agent --syslog with a bad target -> user error" 1 $BH agent --syslog "ftp://x"

# ---------------------------------------------------- baseline (learn mode)
expect_status "mode NS/NAME learn" 0 $BH mode shop/web learn
T0=$(bh_now_ms)
$BH agent >"$W/agent.learn.log" 2>&1 &
AGENT=$!
bh_wait_agent "$T0"
learned() { $BH baseline show shop/web --json | grep -q '"port":22'; }
poke_learn() {
	local i
	for i in $(seq 1 40); do
		bh_tcp $T-c 10.81.4.10 22 >/dev/null 2>&1
		bh_tcp $T-c 10.81.4.10 80 >/dev/null 2>&1
		learned && return 0
		sleep 0.25
	done
	return 1
}
expect_ok "learn: the agent records a baseline" poke_learn
stop_agent
expect_json "baseline show NS/NAME --json" '
any(e["dir"] == "ingress" and e["port"] == 22 and e["proto"] == "tcp" for e in d) and
any(e["dir"] == "ingress" and e["port"] == 80 for e in d)' $BH baseline show shop/web --json
run $BH baseline export shop/web --format k8s
expect_eq "baseline export NS/NAME --format k8s" 0 "$RC"
echo "$OUT" >"$W/export-k8s.yaml"
expect_ok "k8s export is a NetworkPolicy selecting web" $PYYAML -c '
import sys, yaml
docs = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x]
assert docs and all(x["apiVersion"] == "networking.k8s.io/v1" and x["kind"] == "NetworkPolicy" for x in docs)
assert any(x["metadata"]["namespace"] == "shop" for x in docs)' "$W/export-k8s.yaml"
run $BH baseline export shop/web --format native
expect_eq "baseline export NS/NAME --format native" 0 "$RC"
echo "$OUT" >"$W/export-native.yaml"
expect_ok "native export is a bulkhead policy" $PYYAML -c '
import sys, yaml
docs = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x]
assert docs and all(x["apiVersion"].startswith("bulkhead.io/") for x in docs)' "$W/export-native.yaml"

# policy test against the recorded flows
expect_json "policy test -f FILE --since 1h --json" '
{w["workload"] for w in d["workloads"]} >= {"shop/web", "shop/db", "ops/cli"} and
any(w["workload"] == "shop/web" and w["flows"] > 0 and
    any(x["port"] == 22 for x in w["denied"]) for w in d["workloads"])' \
	$BH policy test -f "$W/policy.yaml" --since 1h --json
run $BH policy test -f "$W/policy.yaml" --since 1h
expect_eq "policy test (text)" 0 "$RC"
expect_status "policy test -f (bad file) -> user error" 1 $BH policy test -f "$W/bad.yaml" --since 1h
expect_status "policy test --since garbage -> user error" 1 \
	$BH policy test -f "$W/policy.yaml" --since soon

# apply the k8s export and enforce: baseline traffic passes
expect_status "policy apply -f (the k8s export)" 0 $BH policy apply -f "$W/export-k8s.yaml"
expect_status "mode NS/NAME enforce (after learning)" 0 $BH mode shop/web enforce
expect_ok "exported policy: learned ops/cli -> web:22 passes" bh_tcp $T-c 10.81.4.10 22
expect_fail "exported policy: unlearned web:22 from db is denied" bh_tcp $T-d 10.81.4.10 22
expect_status "policy delete NS/NAME (the export)" 0 \
	$BH policy delete "shop/$($PYYAML -c 'import sys,yaml; print([x for x in yaml.safe_load_all(open(sys.argv[1])) if x][0]["metadata"]["name"])' "$W/export-k8s.yaml")"

# ----------------------------------------------------------------- capture
( for i in $(seq 1 12); do bh_tcp $T-c 10.81.4.10 80; sleep 0.1; done ) >/dev/null 2>&1 &
TRAF=$!
expect_status "capture NS/NAME --out F.pcap --seconds 2" 0 \
	$BH capture shop/web --out "$W/web.pcap" --seconds 2
wait $TRAF
MAGIC=$(od -An -tx4 -N4 "$W/web.pcap" | tr -d ' ')
expect_ok "capture wrote a pcap ($MAGIC)" bash -c "[[ '$MAGIC' =~ ^(a1b2c3d4|d4c3b2a1|a1b23c4d|4d3cb2a1)$ ]]"
expect_ok "the pcap holds the workload's packets" \
	bash -c "tcpdump -r '$W/web.pcap' -nn 2>/dev/null | grep -q '10.81.4.10'"
expect_json "capture --json" 'd["file"].endswith("web2.pcap") and d["packets"] >= 0' \
	$BH capture shop/web --out "$W/web2.pcap" --seconds 1 --json
expect_status "capture of an unknown workload -> user error" 1 \
	$BH capture shop/nope --out "$W/x.pcap" --seconds 1

# --------------------------------------------------------------------- map
run $BH map --format dot
expect_ok "map --format dot: a graph with the workloads" \
	bash -c "[ $RC = 0 ] && grep -q 'digraph' <<<'$OUT' && grep -q 'web' <<<'$OUT'"
run $BH map --format svg
expect_ok "map --format svg: SVG" bash -c "[ $RC = 0 ] && grep -q '<svg' <<<'$OUT'"
expect_status "map --format png -> user error" 1 $BH map --format png

# --------------------------------------- quarantine + forensics exception
expect_ok "before quarantine: ops/cli -> web:80" bh_tcp $T-c 10.81.4.10 80
expect_status "quarantine NS/NAME --reason TEXT" 0 $BH quarantine shop/web --reason "contract test"
expect_json "workload list --json shows the quarantine" '
[w for w in d if w["workload"] == "shop/web"][0]["quarantined"] and
[w for w in d if w["workload"] == "shop/web"][0]["reason"] == "contract test"' $BH workload list --json
expect_ok "forensics host (10.99.81.5) -> quarantined web tcp/22: reachable" \
	bh_tcp $T-f 10.81.4.10 22
expect_fail "forensics host -> quarantined web tcp/80: denied" bh_tcp $T-f 10.81.4.10 80
expect_fail "forensics host -> quarantined web udp/53: denied" bh_udp $T-f 10.81.4.10 53
expect_fail "other outside host (10.98.81.5) -> web tcp/22: denied" bh_tcp $T-o 10.81.4.10 22
expect_fail "workload ops/cli -> web tcp/22: denied" bh_tcp $T-c 10.81.4.10 22
expect_fail "workload ops/cli -> web tcp/80: denied" bh_tcp $T-c 10.81.4.10 80
expect_fail "quarantined web -> db tcp/5432: denied" bh_tcp $T-w 10.81.4.20 5432
expect_status "release NS/NAME" 0 $BH release shop/web
expect_ok "after release: ops/cli -> web:80" bh_tcp $T-c 10.81.4.10 80
expect_fail "after release: forensics host -> web tcp/22 back under policy (denied)" \
	bh_tcp $T-f 10.81.4.10 22

# ---------------------------------------------------------------- timeline
expect_json "timeline NS/NAME --json" '
[e["kind"] for e in d if e["kind"] in ("attach", "mode", "quarantine", "release")][:1] == ["attach"]
and {"attach", "mode", "quarantine", "release"} <= {e["kind"] for e in d} and
any("contract test" in e["detail"] for e in d if e["kind"] == "quarantine") and
[e["id"] for e in d] == sorted(e["id"] for e in d)' $BH timeline shop/web --json
run $BH timeline shop/web
expect_ok "timeline (text)" bash -c "[ $RC = 0 ] && grep -q quarantine <<<'$OUT'"

# ------------------------------------------------------------ user errors
expect_status "attach: bad IP" 1 $BH attach "$T"x --workload ops/x --ip 10.81.4.400
expect_status "attach: bad NS/NAME" 1 $BH attach "$T"x --workload opsx --ip 10.81.4.40
expect_status "attach: bad NS/NAME (empty name)" 1 $BH attach "$T"x --workload ops/ --ip 10.81.4.40
expect_status "attach: no such interface" 1 $BH attach nosuch$T --workload ops/x --ip 10.81.4.40
expect_status "attach: missing --ip" 1 $BH attach "$T"x --workload ops/x
expect_status "attach: bad --hook" 1 $BH attach "$T"x --workload ops/x --ip 10.81.4.40 --hook nft
expect_status "attach: bad --label" 1 $BH attach "$T"x --workload ops/x --ip 10.81.4.40 --label 'no label'
expect_status "attach: BULKHEAD_HOOK bad" 1 env BULKHEAD_HOOK=nft $BH attach "$T"x --workload ops/x --ip 10.81.4.40
expect_status "detach: interface without workload" 1 $BH detach "$T"x
expect_status "mode: unknown workload" 1 $BH mode shop/nope enforce
expect_status "mode: bad mode" 1 $BH mode shop/web strict
expect_status "mode: bad NS/NAME" 1 $BH mode shopweb enforce
expect_status "quarantine: unknown workload" 1 $BH quarantine shop/nope --reason x
expect_status "release: unknown workload" 1 $BH release shop/nope
expect_status "release: not quarantined" 1 $BH release shop/web
expect_status "policy delete: unknown policy" 1 $BH policy delete shop/nope
expect_status "policy apply: missing file" 1 $BH policy apply -f "$W/nope.yaml"
expect_status "baseline show: unknown workload" 1 $BH baseline show shop/nope
expect_status "baseline export: unknown workload" 1 $BH baseline export shop/nope --format k8s
expect_status "baseline export: bad --format" 1 $BH baseline export shop/web --format yaml
expect_status "timeline: unknown workload" 1 $BH timeline shop/nope
expect_status "timeline: bad NS/NAME" 1 $BH timeline shopnope
expect_status "flows: unknown workload" 1 $BH flows --workload shop/nope
expect_status "flows: bad --limit" 1 $BH flows --limit many
expect_status "flows: negative --limit" 1 $BH flows --limit -1
expect_json "flows --limit 0 (all) --json" 'len(d) >= 1' $BH flows --limit 0 --json
expect_status "stats: unknown workload" 1 $BH stats --workload shop/nope
expect_status "namespace label: bad label" 1 $BH namespace label ops 'not a label'
expect_status "unknown command" 1 $BH frobnicate
expect_status "unknown subcommand" 1 $BH policy frobnicate
expect_status "unknown option" 1 $BH workload list --frobnicate
expect_status "unknown option (stats)" 1 $BH stats --frobnicate
expect_status "unknown option (agent)" 1 $BH agent --frobnicate
expect_status "no command" 1 $BH
expect_status "object without command" 1 $BH policy
expect_status "agent: option without its value" 1 $BH agent --config
run $BH help
expect_ok "bulkhead help: usage on stdout, exit 0" bash -c "[ $RC = 0 ] && grep -q 'bulkhead attach IFNAME' '$W/out'"

# ---------------------------------------------------------- system errors
touch "$W/afile"
mkdir -p "$W/notbpffs"
expect_status "BULKHEAD_BPFFS under a regular file -> system error" 2 \
	env BULKHEAD_BPFFS="$W/afile/pins" $BH attach "$T"x --workload ops/x --ip 10.81.4.40
expect_status "BULKHEAD_BPFFS not on a bpf filesystem -> system error" 2 \
	env BULKHEAD_BPFFS="$W/notbpffs" BULKHEAD_STATE_DIR="$W/st2" \
	$BH attach "$T"x --workload ops/x --ip 10.81.4.40
expect_eq "... and nothing attached" "0 0" "$(hook_progs "$T"x xdp) $(hook_progs "$T"x tcx_ingress)"
expect_status "state dir that cannot be created (attach) -> system error" 2 \
	env BULKHEAD_STATE_DIR="$W/afile/state" $BH attach "$T"x --workload ops/x --ip 10.81.4.40
expect_status "state dir that cannot be created (workload list) -> system error" 2 \
	env BULKHEAD_STATE_DIR="$W/afile/state" $BH workload list
expect_status "state dir that cannot be created (policy list) -> system error" 2 \
	env BULKHEAD_STATE_DIR="$W/afile/state" $BH policy list --json
rm -rf "$W/st2" "$W/notbpffs"

# ------------------------------------------------------------------- reset
expect_status "reset" 0 $BH reset --yes
expect_ok "reset: no pin directory" test ! -e "$BULKHEAD_BPFFS"
expect_ok "reset: no state.db" test ! -e "$S/state.db"
expect_ok "reset: the operator's config stays" test -f "$S/config"
left=0
for i in w d c x; do
	n=$($BH debug hooks "$T"$i --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(len(d["xdp"]) + len(d["tcx_ingress"]) + len(d["tcx_egress"]))')
	left=$((left + n))
done
expect_eq "reset: no program left on any veth" 0 "$left"
expect_eq "reset: workload list is empty" 0 "$(jcount $BH workload list --json)"
expect_eq "reset: policy list is empty" 0 "$(jcount $BH policy list --json)"
expect_ok "reset: traffic flows unfiltered" bh_tcp $T-c 10.81.4.20 5432
