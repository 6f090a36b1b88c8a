#!/usr/bin/env bash
# Pods closed at birth. The CNI ADD of a Kubernetes pod (K8S_POD_NAMESPACE,
# K8S_POD_NAME) asks the node's agent, over STATE_DIR/agent.sock, for the
# pod's labels and named ports from its watch cache (the stand-in API
# server tests/lib/k8s_apiserver.py is a test double). Checks, with real
# veths, a real bulkhead-cni and real traffic:
#  - a pod created while the agent is stopped starts closed (unknown_pod:
#    deny, the default): no traffic either way, but DNS to the kube-dns
#    pod; it opens once the agent runs and has its labels, and its policy
#    (selecting it by those labels) applies;
#  - a pod the agent already knows is attached with its labels and named
#    ports at once (no later label change, no pending state);
#  - a pod the agent does not know yet is closed until the API has it,
#    including when the watch is cut meanwhile, and across a 410 relist:
#    no event lost;
#  - unknown_pod: allow attaches an unknown pod open; a bad value is a
#    user error naming file, line and key, and attaches nothing.
# Waits are bounded; how fast a pod opens is measured in bench/, not here.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/k8s_standin.sh"
bh_test_init k8sb
T=kb$BH_TAG
D=$BULKHEAD_STATE_DIR
API=$BH_ROOT/tests/lib/k8s_apiserver.py
PORT=22200 CPORT=22201
GW=10.112.2.1

ctl() { python3 "$API" ctl "http://127.0.0.1:$CPORT" "$@"; }
put() { ctl put "{\"resource\": \"$1\", \"object\": $2}" >/dev/null; }
stat_of() { ctl stats | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
pod_json() { # NS NAME LABELS-JSON IP [PORTS-JSON]
	echo "{\"metadata\": {\"name\": \"$2\", \"namespace\": \"$1\", \"labels\": $3},
	  \"spec\": {\"nodeName\": \"node-1\", \"containers\": [{\"name\": \"c\", \"ports\": ${5:-[]}}]},
	  \"status\": {\"phase\": \"Running\", \"podIPs\": [{\"ip\": \"$4\"}]}}"
}
wl() { # NS/NAME PYTHON-EXPR over w (the workload's JSON)
	$BH --json workload list | /usr/bin/python3 -c '
import json, sys
w = [x for x in json.load(sys.stdin) if x["workload"] == sys.argv[1]]
print(eval(sys.argv[2], {"w": w[0]}) if w else "absent")' "$1" "$2"
}
is() { [ "$("${@:2}")" = "$1" ]; }

# cni_add NETNS NS NAME IP HOSTIF: bulkhead-cni ADD as a runtime calls it,
# chained after an interface plugin whose prevResult is given here
cni_add() {
	printf '%s' "{\"cniVersion\": \"1.0.0\", \"name\": \"birth\", \"type\": \"bulkhead-cni\",
	  \"stateDir\": \"$D\", \"bpffs\": \"$BULKHEAD_BPFFS\",
	  \"prevResult\": {\"cniVersion\": \"1.0.0\",
	    \"interfaces\": [{\"name\": \"$5\"}, {\"name\": \"eth0\", \"sandbox\": \"/run/netns/$1\"}],
	    \"ips\": [{\"address\": \"$4/32\", \"interface\": 1}]}}" |
	env CNI_COMMAND=ADD CNI_CONTAINERID="cid-$3" CNI_NETNS="/run/netns/$1" CNI_IFNAME=eth0 \
		CNI_PATH=/nonexistent CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=$2;K8S_POD_NAME=$3" \
		"$BH_CNI"
}

start_agent() {
	$BH agent --config "$D/agent.yaml" >>"$D/agent.log" 2>&1 &
	AGENT=$!
	bh_on_exit "kill $AGENT 2>/dev/null"
}
stop_agent() { kill "$AGENT"; wait "$AGENT" 2>/dev/null; return 0; }
# the agent's answer on its socket, as the CNI plugin reads it
lookup() { /usr/bin/python3 - "$D/agent.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(("POD %s\n" % sys.argv[2]).encode())
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
print(out.decode().replace("\n", "|"))
PY
}

# ------------------------------------------------------------ the node
bh_mk_workload $T-dns "$T"dns 10.112.2.53/32 $GW   # kube-system/coredns
bh_mk_workload $T-srv "$T"srv 10.112.2.20/32 $GW   # x/srv
bh_mk_workload $T-n1 "$T"n1 10.112.2.11/32 $GW     # x/new1: born while the agent is stopped
bh_mk_workload $T-n2 "$T"n2 10.112.2.12/32 $GW     # x/new2: known to the agent at ADD
bh_mk_workload $T-n3 "$T"n3 10.112.2.13/32 $GW     # x/new3: in the API after ADD, watch cut
bh_mk_workload $T-n4 "$T"n4 10.112.2.14/32 $GW     # x/new4: in the API after ADD, 410
bh_mk_workload $T-n5 "$T"n5 10.112.2.15/32 $GW     # x/new5: unknown, unknown_pod: allow
bh_serve $T-dns udp 53
bh_serve $T-dns tcp 53
bh_serve $T-srv tcp 80
for n in n1 n2 n3 n4 n5; do bh_serve $T-$n tcp 80; bh_serve $T-$n tcp 8080; done
expect_ok "attach kube-system/coredns" $BH attach "$T"dns --workload kube-system/coredns \
	--ip 10.112.2.53 -l k8s-app=kube-dns
expect_ok "attach x/srv" $BH attach "$T"srv --workload x/srv --ip 10.112.2.20 -l app=srv

python3 "$API" serve --listen 127.0.0.1:$PORT --control 127.0.0.1:$CPORT --token t0k \
	--bookmark-seconds 0.5 >"$D/api.log" 2>&1 &
bh_on_exit "kill $! 2>/dev/null"
bh_wait 50 ctl stats
standin_kubeconfig "http://127.0.0.1:$PORT" t0k >"$D/kubeconfig"
printf 'kubernetes: {kubeconfig: %s, node: node-1}\n' "$D/kubeconfig" >"$D/agent.yaml"
put namespaces '{"metadata": {"name": "x", "labels": {"kubernetes.io/metadata.name": "x"}}}'
put pods "$(pod_json kube-system coredns '{"k8s-app": "kube-dns"}' 10.112.2.53)"
put pods "$(pod_json x srv '{"app": "srv"}' 10.112.2.20)"
# x/new1's policy: web pods take 80 from srv only
put networkpolicies '{"metadata": {"name": "web-in", "namespace": "x"}, "spec": {
	"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
	"ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "srv"}}}],
	             "ports": [{"port": "http"}]}]}}'

# --------------------------------------- born while the agent is stopped
put pods "$(pod_json x new1 '{"app": "web"}' 10.112.2.11 '[{"name": "http", "containerPort": 8080}]')"
out=$(cni_add $T-n1 x new1 10.112.2.11 "$T"n1); rc=$?
expect_eq "CNI ADD of x/new1 with no agent running succeeds" 0 $rc
expect_eq "x/new1 is pending (unknown_pod: deny)" True "$(wl x/new1 'w["pending"]')"
expect_ok "the timeline says it waits for its identity" bash -c \
	"$BH timeline x/new1 | grep -q 'identity pending'"
expect_fail "closed: x/new1 -> srv:80 denied" bh_tcp $T-n1 10.112.2.20 80
expect_fail "closed: srv -> x/new1:8080 denied" bh_tcp $T-srv 10.112.2.11 8080
expect_fail "closed: srv -> x/new1:80 denied" bh_tcp $T-srv 10.112.2.11 80
expect_ok "DNS to kube-dns open: x/new1 -> coredns udp/53" bh_udp $T-n1 10.112.2.53 53
expect_ok "DNS to kube-dns open: x/new1 -> coredns tcp/53" bh_tcp $T-n1 10.112.2.53 53
expect_fail "only DNS: x/new1 -> coredns tcp/80 denied" bh_tcp $T-n1 10.112.2.53 80

start_agent
expect_ok "the agent learns x/new1: it leaves the posture" bh_wait 150 is False wl x/new1 'w["pending"]'
expect_eq "x/new1 has its labels" "{'app': 'web'}" "$(wl x/new1 'w["labels"]')"
expect_eq "x/new1 has its named ports" "['http=8080/TCP']" "$(wl x/new1 'w["ports"]')"
expect_ok "opened: x/new1 -> srv:80 allowed" bh_tcp $T-n1 10.112.2.20 80
expect_ok "its policy applies: srv -> x/new1:8080 (http) allowed" bh_tcp $T-srv 10.112.2.11 8080
expect_fail "its policy applies: srv -> x/new1:80 denied" bh_tcp $T-srv 10.112.2.11 80
expect_fail "its policy applies: coredns -> x/new1:8080 denied" bh_tcp $T-dns 10.112.2.11 8080
expect_ok "agent log: identity arrived" grep -q "x/new1: identity arrived" "$D/agent.log"

# --------------------------------------- known to the agent at ADD
put pods "$(pod_json x new2 '{"app": "web", "tier": "2"}' 10.112.2.12 '[{"name": "http", "containerPort": 80}]')"
known() { lookup "$1" | grep -q '^KNOWN|'; }
expect_ok "the agent's socket knows x/new2" bh_wait 100 known x/new2
expect_eq "the socket answers labels and named ports" \
	"KNOWN|LABEL app=web|LABEL tier=2|PORT http=80/TCP|END|" "$(lookup x/new2)"
expect_eq "an unknown pod: UNKNOWN" "UNKNOWN|" "$(lookup x/nobody)"
expect_ok "CNI ADD of x/new2" cni_add $T-n2 x new2 10.112.2.12 "$T"n2
expect_eq "x/new2 is not pending" False "$(wl x/new2 'w["pending"]')"
expect_eq "x/new2 came with its labels" "{'app': 'web', 'tier': '2'}" "$(wl x/new2 'w["labels"]')"
expect_eq "x/new2 came with its named ports" "['http=80/TCP']" "$(wl x/new2 'w["ports"]')"
expect_ok "srv -> x/new2:80 (its http) allowed at once" bh_tcp $T-srv 10.112.2.12 80
expect_fail "srv -> x/new2:8080 denied at once" bh_tcp $T-srv 10.112.2.12 8080
expect_ok "the labels came with the attach (no label change later)" bash -c \
	"! $BH timeline x/new2 | grep -q 'label app=web'"

# --------------------------------------- unknown at ADD, the watch cut meanwhile
expect_ok "CNI ADD of x/new3 (not in the API yet)" cni_add $T-n3 x new3 10.112.2.13 "$T"n3
expect_eq "x/new3 is pending" True "$(wl x/new3 'w["pending"]')"
expect_fail "closed: x/new3 -> srv:80 denied" bh_tcp $T-n3 10.112.2.20 80
L0=$(stat_of 'sum(d["lists"].values())')
ctl cut '{"hold": true}' >/dev/null
put pods "$(pod_json x new3 '{"app": "other"}' 10.112.2.13)"
ctl release >/dev/null
expect_ok "after a cut: x/new3's pod arrives and it opens" bh_wait 150 is False wl x/new3 'w["pending"]'
expect_ok "opened: x/new3 -> srv:80 allowed" bh_tcp $T-n3 10.112.2.20 80
expect_ok "opened: srv -> x/new3:80 allowed (no policy selects app=other)" bh_tcp $T-srv 10.112.2.13 80
expect_eq "after a cut: no relist" "$L0" "$(stat_of 'sum(d["lists"].values())')"

# --------------------------------------- unknown at ADD, 410 Gone meanwhile
expect_ok "CNI ADD of x/new4 (not in the API yet)" cni_add $T-n4 x new4 10.112.2.14 "$T"n4
expect_fail "closed: x/new4 -> srv:80 denied" bh_tcp $T-n4 10.112.2.20 80
ctl cut '{"hold": true}' >/dev/null
put pods "$(pod_json x new4 '{"app": "web"}' 10.112.2.14 '[{"name": "http", "containerPort": 8080}]')"
ctl compact >/dev/null
ctl release >/dev/null
expect_ok "after 410: x/new4's pod arrives and it opens" bh_wait 150 is False wl x/new4 'w["pending"]'
expect_ok "after 410: relisted" test "$(stat_of 'sum(d["lists"].values())')" -gt "$L0"
expect_ok "its policy applies: srv -> x/new4:8080 allowed" bh_tcp $T-srv 10.112.2.14 8080
expect_fail "its policy applies: srv -> x/new4:80 denied" bh_tcp $T-srv 10.112.2.14 80

# --------------------------------------- unknown_pod: allow, and a bad value
echo "unknown_pod = maybe" >"$D/config"
out=$(cni_add $T-n5 x new5 10.112.2.15 "$T"n5); rc=$?
expect_ok "a bad unknown_pod fails the ADD" test "$rc" -ne 0
expect_ok "the error names file, line and key" grep -q "config:1: unknown_pod: expected deny or allow" <<<"$out"
expect_eq "nothing attached" absent "$(wl x/new5 'w["pending"]')"
echo "unknown_pod = allow" >"$D/config"
expect_ok "CNI ADD of x/new5 (unknown, allow)" cni_add $T-n5 x new5 10.112.2.15 "$T"n5
expect_eq "x/new5 is not pending" False "$(wl x/new5 'w["pending"]')"
expect_ok "open at once: x/new5 -> srv:80 allowed" bh_tcp $T-n5 10.112.2.20 80
stop_agent
expect_ok "the agent removed its socket" test ! -e "$D/agent.sock"
