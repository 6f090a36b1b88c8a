#!/usr/bin/env bash
# Flow records under the nftables backend against the BPF data path's: the
# same workloads, policies and real flows once with each backend, with the
# agent running; the flows `bulkhead flows` shows (workload, direction,
# addresses, protocol, port, verdict, reason, rule) must be the same. Under
# nftables the table logs each decision to the instance's nfnetlink_log
# group and the agent reads it (no BPF at all). The flows: web -> db TCP 80
# allowed by a Kubernetes rule on db's ingress (web's egress is not
# isolated), web -> db UDP 53 denied on web's egress by a native deny rule,
# a spoofed source, and with db in monitor mode web -> db TCP 5432, which
# db's policy does not allow: passed, recorded as would-deny. Some records
# are also checked against what the policies say, so two backends that
# failed alike cannot pass.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init nflflows
T=nfl$BH_TAG
command -v jq >/dev/null || bh_skip "jq not installed"

bh_mk_workload $T-a "$T"a 10.119.2.10/32 10.119.2.1     # shop/web
bh_mk_workload $T-b "$T"b 10.119.2.20/32 10.119.2.1     # shop/db
# a source web does not own, routed back to it: only anti-spoofing stops it
ip -n $T-a addr add 10.119.2.99/32 dev eth0
ip route replace 10.119.2.99/32 dev "$T"a; bh_on_exit "ip route del 10.119.2.99/32"

P=$BULKHEAD_STATE_DIR/../nflflows-$BH_TAG-policy.yaml
D=$(mktemp -d /tmp/bh-nflflows.XXXXXX); bh_on_exit "rm -rf $D $P"
cat >$P <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{protocol: TCP, port: 80}]
---
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: web-out, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  egress:
    - action: deny
      to: [{podSelector: {matchLabels: {app: db}}}]
      ports: [{protocol: UDP, port: 53}]
YAML
AGENT=
bh_on_exit '[ -n "$AGENT" ] && kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null'
bh_serve $T-b tcp 80
bh_serve $T-b tcp 5432
bh_serve $T-b udp 53

# The flows of both workloads between the test's addresses, one JSON
# object a line, sorted (host noise such as MLD reports left out).
flows() {
	local w
	for w in web db; do
		$BH flows --workload shop/$w --limit 0 --json | jq -c --arg w shop/$w '.[] |
			select((.src | startswith("10.119.2.")) and (.dst | startswith("10.119.2."))) |
			{workload: $w, dir, src, dst, proto, dport, verdict, reason, rule}'
	done | sort -u
}
has() { grep -qF "$1" $D/flows.$2; }
# the records the traffic below must give (the last one arrives last)
count_done() { [ "$(flows | grep -c '"dport":5432')" -ge 2 ]; }

run_backend() {
	local be=$1 t0
	echo "backend = $be" >"$BULKHEAD_STATE_DIR/config"
	expect_ok "$be: attach web" $BH attach "$T"a --workload shop/web --ip 10.119.2.10 \
		--label app=web
	expect_ok "$be: attach db" $BH attach "$T"b --workload shop/db --ip 10.119.2.20 \
		--label app=db
	expect_ok "$be: apply policies" $BH policy apply -f $P
	echo "syslog: {target: \"unix:$D/syslog.sock\", flows: false}" >$D/agent.yaml
	t0=$(bh_now_ms)
	$BH agent --config $D/agent.yaml >>$D/agent.$be.log 2>&1 &
	AGENT=$!
	bh_show_on_fail $D/agent.$be.log
	bh_wait_agent "$t0"
	expect_ok "$be: web -> db:80 answered" bh_tcp $T-a 10.119.2.20 80
	expect_ok "$be: web -> db udp/53 not answered" \
		bash -c "! ip netns exec $T-a python3 $TRAFFIC udp 10.119.2.20 53"
	expect_ok "$be: spoofed web -> db ping not answered" \
		bash -c "! ip netns exec $T-a ping -c1 -W1 -I 10.119.2.99 10.119.2.20 >/dev/null 2>&1"
	expect_ok "$be: db in monitor mode" $BH mode shop/db monitor
	expect_ok "$be: monitor: web -> db:5432 answered" bh_tcp $T-a 10.119.2.20 5432
	bh_wait 100 count_done || fail "$be: the agent did not record the monitor-mode flow"
	flows >$D/flows.$be
	sed "s/^/  $be: /" $D/flows.$be
	kill $AGENT; wait $AGENT 2>/dev/null; AGENT=
	expect_ok "$be: reset" $BH reset --yes
}
run_backend bpf
run_backend nftables
expect_ok "nftables: the agent read the table's flow logs" \
	grep -q "nftables flow logs opened" $D/agent.nftables.log

expect_eq "both backends record the same flows" "$(cat $D/flows.bpf)" "$(cat $D/flows.nftables)"
for be in bpf nftables; do
	expect_ok "$be: db: TCP 80 from web allowed by policy shop/db" \
		has '{"workload":"shop/db","dir":"ingress","src":"10.119.2.10","dst":"10.119.2.20","proto":"tcp","dport":80,"verdict":"allow","reason":"policy-allow","rule":"shop/db ingress[0]"}' $be
	expect_ok "$be: web: TCP 80 to db, egress not isolated" \
		has '{"workload":"shop/web","dir":"egress","src":"10.119.2.10","dst":"10.119.2.20","proto":"tcp","dport":80,"verdict":"allow","reason":"not-isolated"' $be
	expect_ok "$be: web: UDP 53 to db denied by policy shop/web-out" \
		has '"dport":53,"verdict":"deny","reason":"policy-deny","rule":"shop/web-out egress[0]"}' $be
	expect_ok "$be: web: the spoofed source" \
		has '"src":"10.119.2.99","dst":"10.119.2.20","proto":"icmp"' $be
	expect_ok "$be: db (monitor): TCP 5432 from web would be denied" \
		has '{"workload":"shop/db","dir":"ingress","src":"10.119.2.10","dst":"10.119.2.20","proto":"tcp","dport":5432,"verdict":"would-deny","reason":"default-deny"' $be
	expect_ok "$be: db never saw the denied UDP" bash -c "! grep -q '\"workload\":\"shop/db\".*\"dport\":53' $D/flows.$be"
done
