#!/usr/bin/env bash
# Named ports outside Kubernetes: `attach --port NAME=PORT[/PROTO]` gives
# a workload its container ports, and a rule's `port: NAME` resolves per
# workload, with real traffic: on ingress against the selected workload,
# on egress against each peer. Two servers use different numbers for the
# same name; a third has no such name and matches no port of the rule.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init named_ports
T=np$BH_TAG
GW=10.112.0.1

bh_mk_workload $T-a1 "$T"a1 10.112.0.10/32 $GW   # shop/api1  http=8080, dns=5353/UDP
bh_mk_workload $T-a2 "$T"a2 10.112.0.20/32 $GW   # shop/api2  http=9090
bh_mk_workload $T-a3 "$T"a3 10.112.0.30/32 $GW   # shop/api3  no http (metrics=8080)
bh_mk_workload $T-c "$T"c 10.112.0.40/32 $GW     # shop/cli
for n in a1 a2 a3; do
	bh_serve $T-$n tcp 8080
	bh_serve $T-$n tcp 9090
done
bh_serve $T-a1 udp 5353
bh_serve $T-a2 udp 5353

# bad input first: exit 1, nothing registered
$BH attach "$T"a1 --workload shop/api1 --ip 10.112.0.10 --port Http=80 >/dev/null 2>&1
expect_eq "--port with a bad name exits 1" 1 $?
$BH attach "$T"a1 --workload shop/api1 --ip 10.112.0.10 --port http=80/ICMP >/dev/null 2>&1
expect_eq "--port with a bad protocol exits 1" 1 $?
$BH attach "$T"a1 --workload shop/api1 --ip 10.112.0.10 --port http=80 --port http=81 \
	>/dev/null 2>&1
expect_eq "--port with a name given twice exits 1" 1 $?
expect_eq "nothing registered by the refused attaches" 0 \
	"$($BH --json workload list | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"

expect_ok "attach api1" $BH attach "$T"a1 --workload shop/api1 --ip 10.112.0.10 -l app=api \
	--port http=8080 --port dns=5353/UDP
expect_ok "attach api2" $BH attach "$T"a2 --workload shop/api2 --ip 10.112.0.20 -l app=api \
	--port http=9090/TCP
expect_ok "attach api3" $BH attach "$T"a3 --workload shop/api3 --ip 10.112.0.30 -l app=api \
	--port metrics=8080
expect_ok "attach cli" $BH attach "$T"c --workload shop/cli --ip 10.112.0.40 -l app=cli
expect_ok "workload list shows the named ports" /usr/bin/python3 -c '
import json, sys
w = {x["workload"]: x["ports"] for x in json.loads(sys.argv[1])}
assert w["shop/api1"] == ["dns=5353/UDP", "http=8080/TCP"], w
assert w["shop/api2"] == ["http=9090/TCP"] and w["shop/cli"] == [], w' "$($BH --json workload list)"

P=$BULKHEAD_STATE_DIR
cat >$P/in.yaml <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: cli}}}]
    ports: [{port: http}, {port: dns, protocol: UDP}]
YAML
cat >$P/out.yaml <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cli-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: cli}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{port: http}, {port: dns, protocol: UDP}]
YAML

# the same verdicts whichever side judges
check_side() {
	local side=$1
	expect_ok "$side: cli -> api1:8080 (its http) allowed" bh_tcp $T-c 10.112.0.10 8080
	expect_fail "$side: cli -> api1:9090 denied" bh_tcp $T-c 10.112.0.10 9090
	expect_ok "$side: cli -> api2:9090 (its http) allowed" bh_tcp $T-c 10.112.0.20 9090
	expect_fail "$side: cli -> api2:8080 denied" bh_tcp $T-c 10.112.0.20 8080
	expect_fail "$side: cli -> api3:8080 (no http there) denied" bh_tcp $T-c 10.112.0.30 8080
	expect_fail "$side: cli -> api3:9090 denied" bh_tcp $T-c 10.112.0.30 9090
	expect_ok "$side: cli -> api1:5353/udp (its dns) allowed" bh_udp $T-c 10.112.0.10 5353
	expect_fail "$side: cli -> api2:5353/udp (no dns there) denied" bh_udp $T-c 10.112.0.20 5353
}

expect_ok "apply the ingress policy (named ports)" $BH policy apply -f $P/in.yaml
check_side ingress
expect_fail "ingress: api1 -> api2:9090 (not cli) denied" bh_tcp $T-a1 10.112.0.20 9090
expect_ok "delete it" $BH policy delete shop/api-in

expect_ok "apply the egress policy (named ports)" $BH policy apply -f $P/out.yaml
check_side egress
expect_ok "egress: api1 (not isolated) -> api3:9090 allowed" bh_tcp $T-a1 10.112.0.30 9090

expect_ok "both policies" $BH policy apply -f $P/in.yaml
check_side both

# a name that does not resolve anywhere is not an error: it matches nothing
sed 's/port: http}/port: web}/' $P/out.yaml >$P/out2.yaml
expect_ok "a name no workload has applies" $BH policy apply -f $P/out2.yaml
expect_fail "then cli -> api1:8080 denied (web resolves nowhere)" bh_tcp $T-c 10.112.0.10 8080
expect_ok "then cli -> api1:5353/udp still allowed" bh_udp $T-c 10.112.0.10 5353
# a bad name is bad input: exit 1, naming file, line and field
sed 's/port: http}/port: HTTP}/' $P/out.yaml >$P/bad.yaml
out=$($BH policy apply -f $P/bad.yaml 2>&1); rc=$?
expect_eq "a bad port name exits 1" 1 $rc
expect_ok "the message names file, line and field" grep -q "bad.yaml:9.*ports\[0\].port" <<<"$out"
expect_fail "nothing changed: cli -> api1:8080 still denied" bh_tcp $T-c 10.112.0.10 8080
