#!/usr/bin/env bash
# The agent's Prometheus metrics as the issue names them, on real traffic:
# the kernel's verdict counters per namespace, workload, direction and
# reason (bh_stats_v3: what a workload sends is egress, what it receives
# ingress), and every bulkhead-cni invocation counted with its outcome,
# early errors included (bulkhead_cni_operations_total by command and
# result, bulkhead_cni_errors_total by command and CNI error code).
source "$(dirname "$0")/../lib/common.sh"
bh_test_init mlab
PY=/usr/bin/python3
[ -x $PY ] || bh_skip "Debian's python3 not installed"
T=ml$BH_TAG
S=$BULKHEAD_STATE_DIR
W=$S/work
mkdir -p "$W"
MPORT=22510

bh_mk_workload "$T-c" "${T}c" 10.115.0.2/24 10.115.0.1
bh_mk_workload "$T-s" "${T}s" 10.115.1.2/24 10.115.1.1
bh_mk_workload "$T-o" "${T}o" 10.115.2.2/24 10.115.2.1
$BH attach "${T}c" --workload mx/client --ip 10.115.0.2 -l app=client >/dev/null
$BH attach "${T}s" --workload mx/server --ip 10.115.1.2 -l app=server >/dev/null
$BH attach "${T}o" --workload my/other --ip 10.115.2.2 -l app=other >/dev/null
$BH policy apply -f - >/dev/null <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server-in, namespace: mx}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{protocol: TCP, port: 5432}]
EOF
bh_serve "$T-s" tcp 5432

cat >"$W/agent.yaml" <<EOF
metrics: {listen: "127.0.0.1:$MPORT"}
EOF
$BH agent --config "$W/agent.yaml" 2>>"$W/agent.log" &
AGENT=$!
bh_on_exit "kill $AGENT; wait $AGENT"
bh_wait 50 bash -c "ss -ltn | grep -q '127.0.0.1:$MPORT '" || fail "the agent's metrics endpoint did not open"
scrape() { $PY -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$MPORT/metrics').read().decode())"; }
# value NAME{LABELS}: the sample's value, "" when the series is absent
value() { scrape | awk -v n="$1" '$1 == n { print $2 }'; }

# ------------------------------------------------ verdicts per direction
expect_ok "client -> server:5432 answered" bh_tcp "$T-c" 10.115.1.2 5432
expect_fail "other -> server:5432 refused" bh_tcp "$T-o" 10.115.1.2 5432
scrape >"$W/metrics.txt"
# pk NS NAME DIRECTION REASON: the packets sample, "" if absent
pk() {
	awk -v n="bulkhead_verdict_packets_total{namespace=\"$1\",workload=\"$2\",direction=\"$3\",reason=\"$4\"}" \
		'$1 == n { print $2 }' "$W/metrics.txt"
}
positive() { [ -n "$1" ] && [ "${1%%.*}" -ge 1 ] 2>/dev/null; }
expect_ok "server: the refused SYN is ingress default-deny ($(pk mx server ingress default-deny))" \
	positive "$(pk mx server ingress default-deny)"
expect_eq "server: no egress default-deny series (it sent nothing denied)" "" \
	"$(pk mx server egress default-deny)"
expect_ok "server: the client's SYN is ingress policy-allow" positive "$(pk mx server ingress policy-allow)"
expect_ok "server: its replies are egress established" positive "$(pk mx server egress established)"
expect_ok "client: its SYN leaves as egress not-isolated (no egress policy)" \
	positive "$(pk mx client egress not-isolated)"
expect_ok "client: the replies reach it as ingress established" \
	positive "$(pk mx client ingress established)"
expect_ok "other: its refused SYN left as egress not-isolated" positive "$(pk my other egress not-isolated)"
expect_eq "other: nothing of it counted as default-deny on its own side" "" \
	"$(pk my other egress default-deny)$(pk my other ingress default-deny)"
# bytes follow the same labels; the per-direction series add up to what
# `bulkhead stats` reports per reason (both read the same map entries)
expect_ok "bytes: server ingress default-deny has bytes" grep -q \
	'^bulkhead_verdict_bytes_total{namespace="mx",workload="server",direction="ingress",reason="default-deny"} [1-9]' \
	"$W/metrics.txt"
expect_eq "every verdict series has namespace, workload, direction and reason labels" "" \
	"$(grep '^bulkhead_verdict_' "$W/metrics.txt" |
		grep -v '^bulkhead_verdict_[a-z]*_total{namespace="[a-z]*",workload="[a-z]*",direction="\(ingress\|egress\)",reason="[a-z0-9-]*"} ')"
stats_dd=$($BH stats -o json | $PY -c '
import json, sys
print(sum(r["packets"] for r in json.load(sys.stdin)["workloads"]
          if r["workload"] == "mx/server" and r["reason"] == "default-deny"))')
scrape >"$W/metrics.txt"
in_dd=$(pk mx server ingress default-deny) eg_dd=$(pk mx server egress default-deny)
metric_dd=$((${in_dd:-0} + ${eg_dd:-0}))
expect_eq "default-deny of the server: ingress + egress series = bulkhead stats" "$stats_dd" "$metric_dd"

# ---------------------------------------------- every CNI invocation counts
conf() { printf '{"cniVersion":"1.0.0","name":"mlab","type":"bulkhead-cni","stateDir":"%s","bpffs":"%s"%s}' \
	"$S" "$BULKHEAD_BPFFS" "${1:-}"; }
# cni COMMAND STDIN [VAR=VALUE...]: one invocation, its exit status echoed
cni() {
	local cmd=$1 in=$2
	shift 2
	printf '%s' "$in" | env "$@" ${cmd:+CNI_COMMAND=$cmd} CNI_PATH=/ "$BH_CNI" >/dev/null 2>&1
	echo $?
}
expect_eq "VERSION answers" 0 "$(cni VERSION '{"cniVersion":"1.0.0"}')"
expect_eq "DEL of an unknown container succeeds" 0 \
	"$(cni DEL "$(conf)" CNI_CONTAINERID=c0ffee CNI_IFNAME=eth0)"
expect_eq "DEL twice" 0 "$(cni DEL "$(conf)" CNI_CONTAINERID=c0ffee CNI_IFNAME=eth0)"
expect_eq "ADD with a config that is not JSON fails" 1 "$(cni ADD 'not json' CNI_CONTAINERID=c1 CNI_IFNAME=eth0)"
expect_eq "ADD without CNI_CONTAINERID fails" 1 "$(cni ADD "$(conf)" CNI_IFNAME=eth0 CNI_NETNS=/run/netns/$T-c)"
expect_eq "CHECK of an attachment never added fails" 1 \
	"$(cni CHECK "$(conf)" CNI_CONTAINERID=c2 CNI_IFNAME=eth0 CNI_NETNS=/run/netns/$T-c)"
expect_eq "GC without the attachment list fails" 1 "$(cni GC "$(conf)")"
expect_eq "no CNI_COMMAND fails" 1 "$(cni "" "$(conf)")"
expect_eq "an unknown CNI_COMMAND fails" 1 "$(cni FROB "$(conf)")"
# an instance with no store is not created just to count a failure
expect_eq "ADD against a state dir without a store fails early" 1 \
	"$(cni ADD 'not json' BULKHEAD_STATE_DIR="$W/none" CNI_CONTAINERID=c3 CNI_IFNAME=eth0)"
expect_fail "no store made there" test -e "$W/none/state.db"

scrape >"$W/metrics.txt"
ops() { awk -v n="bulkhead_cni_operations_total{command=\"$1\",result=\"$2\"}" '$1 == n { print $2 }' "$W/metrics.txt"; }
errs() { awk -v n="bulkhead_cni_errors_total{command=\"$1\",code=\"$2\"}" '$1 == n { print $2 }' "$W/metrics.txt"; }
expect_eq "VERSION counted" 1 "$(ops VERSION ok)"
expect_eq "DEL counted twice, ok" 2 "$(ops DEL ok)"
expect_eq "ADD: both early failures counted" 2 "$(ops ADD error)"
expect_eq "ADD: undecodable config is code 6" 1 "$(errs ADD 6)"
expect_eq "ADD: missing environment is code 4" 1 "$(errs ADD 4)"
expect_eq "CHECK: failure counted" 1 "$(ops CHECK error)"
expect_eq "CHECK: unknown container is code 3" 1 "$(errs CHECK 3)"
expect_eq "GC: failure counted, invalid config is code 7" "1 1" "$(ops GC error) $(errs GC 7)"
expect_eq "no or unknown CNI_COMMAND: counted as other" 2 "$(ops other error)"
expect_eq "the runtime's command string is never a label" "" "$(grep -c 'FROB' "$W/metrics.txt" | grep -v '^0$')"
expect_eq "no ok series for a command that only failed" "" "$(ops ADD ok)"
