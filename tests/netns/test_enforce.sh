#!/usr/bin/env bash
# Real traffic through attached veths: allow/deny for TCP, UDP and ICMP,
# east-west (workload to workload through the host) and north-south (an
# outside host routed through the host), stateful replies, isolation
# semantics, explicit deny, modes, and bad input leaving verdicts unchanged.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init enforce
T=be$BH_TAG

bh_mk_workload $T-a "$T"a 10.77.1.10/32 10.77.1.1     # shop/web
bh_mk_workload $T-b "$T"b 10.77.1.20/32 10.77.1.1     # shop/db
bh_mk_workload $T-c "$T"c 10.77.1.30/32 10.77.1.1     # guest/client
# the outside host: a plain routed veth, not a workload
ip netns add $T-o; bh_on_exit "bh_del_netns $T-o"
ip link add "$T"o type veth peer name eth0 netns $T-o; bh_on_exit "ip link del ${T}o"
ip addr add 10.78.1.1/24 dev "$T"o; ip link set "$T"o up
ip -n $T-o addr add 10.78.1.10/24 dev eth0; ip -n $T-o link set eth0 up
ip -n $T-o link set lo up; ip -n $T-o route add default via 10.78.1.1

for ns in a b c o; do
	bh_serve $T-$ns tcp 80; bh_serve $T-$ns tcp 5432; bh_serve $T-$ns udp 53
done

expect_ok "attach web" $BH attach "$T"a --workload shop/web --ip 10.77.1.10 --label app=web
expect_ok "attach db" $BH attach "$T"b --workload shop/db --ip 10.77.1.20 --label app=db
expect_ok "attach client" $BH attach "$T"c --workload guest/client --ip 10.77.1.30 --label app=client
expect_ok "namespace label" $BH namespace label guest team=blue

# No policy: nothing is isolated.
expect_ok "no policy: client -> db tcp" bh_tcp $T-c 10.77.1.20 5432
expect_ok "no policy: client -> db udp" bh_udp $T-c 10.77.1.20 53
expect_ok "no policy: client -> db icmp" bh_ping $T-c 10.77.1.20
expect_ok "no policy: outside -> web" bh_tcp $T-o 10.77.1.10 80

P=$BULKHEAD_STATE_DIR/p.yaml
cat >$P <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from:
        - podSelector: {matchLabels: {app: web}}
        - namespaceSelector: {matchLabels: {team: blue}}
          podSelector: {matchExpressions: [{key: app, operator: In, values: [client]}]}
      ports:
        - {protocol: TCP, port: 5000, endPort: 5500}
    - from:
        - ipBlock: {cidr: 10.77.1.0/24, except: [10.77.1.30/32]}
      ports:
        - {protocol: UDP, port: 53}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
    - ports: [{protocol: TCP, port: 80}]
  egress:
    - to: [{podSelector: {matchLabels: {app: db}}}]
YAML
expect_ok "apply k8s policies" $BH policy apply -f $P

# east-west TCP
expect_ok "web -> db:5432 allowed (pod selector, port range)" bh_tcp $T-a 10.77.1.20 5432
expect_ok "client -> db:5432 allowed (ns+pod selector AND)" bh_tcp $T-c 10.77.1.20 5432
expect_fail "client -> db:80 denied (port outside range)" bh_tcp $T-c 10.77.1.20 80
# UDP with ipBlock except
expect_ok "web -> db udp/53 allowed (ipBlock)" bh_udp $T-a 10.77.1.20 53
expect_fail "client -> db udp/53 denied (ipBlock except)" bh_udp $T-c 10.77.1.20 53
# ICMP: db is isolated for ingress and nothing allows ICMP
expect_fail "client -> db icmp denied (default deny)" bh_ping $T-c 10.77.1.20
# egress isolation of web: only db
expect_fail "web -> client denied (web egress)" bh_tcp $T-a 10.77.1.30 80
expect_fail "web -> outside denied (north-south egress)" bh_tcp $T-a 10.78.1.10 80
# north-south ingress and the stateful reply through web's egress policy
expect_ok "outside -> web:80 allowed, reply passes web's egress" bh_tcp $T-o 10.77.1.10 80
expect_fail "outside -> web:5432 denied" bh_tcp $T-o 10.77.1.10 5432
# client is selected by nothing: open both ways
expect_ok "client -> outside (not isolated)" bh_tcp $T-c 10.78.1.10 80
expect_ok "client -> outside udp" bh_udp $T-c 10.78.1.10 53

# A denied connection shows up in stats with its reason.
out=$($BH stats --json)
expect_ok "stats --json is JSON" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$out"
expect_ok "stats names the default-deny reason" bash -c "$BH stats | grep -qi 'default'"

# bulkhead's own format: explicit deny wins over the allow above, ICMP allow.
N=$BULKHEAD_STATE_DIR/n.yaml
cat >$N <<'YAML'
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: deny-client, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  ingress:
    - action: deny
      from: [{namespaceSelector: {matchLabels: {team: blue}}}]
      ports: [{protocol: TCP, port: 5432}]
    - action: allow
      icmp: [{protocol: ICMP, type: 8}]
YAML
expect_ok "apply native policy" $BH policy apply -f $N
expect_fail "explicit deny wins over allow" bh_tcp $T-c 10.77.1.20 5432
expect_ok "web still allowed" bh_tcp $T-a 10.77.1.20 5432
expect_ok "icmp echo allowed by native rule" bh_ping $T-c 10.77.1.20

# Bad input (a port number out of range): exit 1, names file/line/field, nothing changes.
B=$BULKHEAD_STATE_DIR/bad.yaml
printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n    - ports:\n        - {protocol: TCP, port: 70000}\n' >$B
msg=$($BH policy apply -f $B 2>&1); rc=$?
expect_eq "bad input exits 1" 1 $rc
expect_ok "message names the file" grep -q "bad.yaml" <<<"$msg"
expect_ok "message names the line" grep -q ":8" <<<"$msg"
expect_ok "message names the field" grep -q "port" <<<"$msg"
expect_ok "verdicts unchanged: web -> db" bh_tcp $T-a 10.77.1.20 5432
expect_fail "verdicts unchanged: client -> db:80" bh_tcp $T-c 10.77.1.20 80
expect_ok "policy list still has db" bash -c "$BH policy list | grep -q db"

# Modes: monitor passes what policy denies; enforce drops it again.
expect_ok "mode monitor" $BH mode shop/db monitor
expect_ok "monitor: denied flow passes" bh_tcp $T-c 10.77.1.20 80
expect_ok "mode enforce" $BH mode shop/db enforce
expect_fail "enforce: denied again" bh_tcp $T-c 10.77.1.20 80

# Delete: db's ingress isolation by the k8s policy goes; the native one stays.
expect_ok "policy delete" $BH policy delete shop/db
expect_fail "native policy still isolates db ingress" bh_tcp $T-c 10.77.1.20 80
expect_ok "policy delete native" $BH policy delete shop/deny-client
expect_ok "db open again" bh_tcp $T-c 10.77.1.20 80

# Workload list --json carries what we attached.
wl=$($BH workload list --json)
expect_ok "workload list json has shop/db" python3 -c '
import json,sys
d=json.loads(sys.argv[1]); s=json.dumps(d)
assert "db" in s and "10.77.1.20" in s' "$wl"

# Detach: the workload and its programs go; traffic flows unfiltered.
expect_ok "detach web" $BH detach "$T"a
expect_ok "after detach: workload list lacks web" bash -c "! $BH workload list | grep -q 'shop/web'"
