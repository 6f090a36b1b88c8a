#!/usr/bin/env bash
# Flow records under the nftables backend: the table logs each decision to
# the instance's nfnetlink_log group and the agent reads it (no BPF). With
# real traffic on veths, `bulkhead flows` must show, as with the BPF data
# path: web -> db TCP 80 allowed on db's ingress by the Kubernetes rule and
# passing web's egress (not isolated), web -> db UDP 53 denied on web's
# egress by the native deny rule, and a spoofed source; each with the
# workload, the 5-tuple and the rule behind it.
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
echo "backend = nftables" >"$BULKHEAD_STATE_DIR/config"
expect_ok "attach web" $BH attach "$T"a --workload shop/web --ip 10.119.2.10 --label app=web
expect_ok "attach db" $BH attach "$T"b --workload shop/db --ip 10.119.2.20 --label app=db
expect_ok "apply policies" $BH policy apply -f $P
bh_serve $T-b tcp 80
bh_serve $T-b udp 53

echo "syslog: {target: \"unix:$D/syslog.sock\", flows: false}" >$D/agent.yaml
t0=$(bh_now_ms)
$BH agent --config $D/agent.yaml >>$D/agent.log 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null"
bh_show_on_fail $D/agent.log
bh_wait_agent "$t0"
expect_ok "the agent reads the nftables flow logs" grep -q "nftables flow logs opened" $D/agent.log

expect_ok "web -> db:80 answered" bh_tcp $T-a 10.119.2.20 80
expect_ok "web -> db udp/53 not answered" bash -c "! ip netns exec $T-a python3 $TRAFFIC udp 10.119.2.20 53"
expect_ok "spoofed web -> db ping not answered" \
	bash -c "! ip netns exec $T-a ping -c1 -W1 -I 10.119.2.99 10.119.2.20 >/dev/null 2>&1"

flows() { $BH flows --workload "shop/$1" --limit 0 --json; }
# one flow of workload $1 matching jq condition $2
has_flow() { flows "$1" | jq -e "any(.[]; $2)" >/dev/null; }
TCP='.proto == "tcp" and .dst == "10.119.2.20" and .dport == 80 and .src == "10.119.2.10"'
UDP='.proto == "udp" and .dst == "10.119.2.20" and .dport == 53 and .src == "10.119.2.10"'
bh_wait 100 has_flow db "$TCP and .dir == \"ingress\" and .verdict == \"allow\""
expect_ok "db: TCP 80 from web allowed, on its ingress" \
	has_flow db "$TCP and .dir == \"ingress\" and .verdict == \"allow\""
expect_ok "db: the allow names the rule of policy shop/db" \
	has_flow db "$TCP and (.rule | startswith(\"shop/db\"))"
expect_ok "web: TCP 80 to db on its egress, not isolated" \
	has_flow web "$TCP and .dir == \"egress\" and .verdict == \"allow\" and .reason == \"not-isolated\""
bh_wait 50 has_flow web "$UDP and .verdict == \"deny\""
expect_ok "web: UDP 53 to db denied on its egress" \
	has_flow web "$UDP and .dir == \"egress\" and .verdict == \"deny\" and .reason == \"policy-deny\""
expect_ok "web: the deny names the rule of policy shop/web-out" \
	has_flow web "$UDP and (.rule | startswith(\"shop/web-out\"))"
no_flow() { ! has_flow "$@"; }
expect_ok "db: the denied UDP never reached db's ingress" no_flow db "$UDP"
bh_wait 50 has_flow web '.src == "10.119.2.99" and .verdict == "spoof"'
expect_ok "web: the spoofed source recorded as spoof" \
	has_flow web '.src == "10.119.2.99" and .proto == "icmp" and .verdict == "spoof"'
flows web | jq -c '.[] | {dir, src, dst, proto, dport, verdict, reason, rule}' | sed 's/^/  web: /'
flows db | jq -c '.[] | {dir, src, dst, proto, dport, verdict, reason, rule}' | sed 's/^/  db: /'
