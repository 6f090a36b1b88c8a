#!/usr/bin/env bash
# The agent's Kubernetes API watch against the stand-in API server
# (tests/lib/k8s_apiserver.py, a test double: no real API server exists
# here), with a real kubeconfig, a real bulkhead instance, real veths and
# traffic. Checks:
#  - kubeconfig errors name the file, the line and the field (exit 1);
#  - over http with a bearer token: namespace labels, this node's pod
#    labels and NetworkPolicies/BulkheadPolicies reach bulkhead, and
#    verdicts follow; a pod label change in the API flips a verdict;
#  - a policy bulkhead refuses (a port "80" given as a string, which is
#    no port name) is not half-enforced:
#    it is refused as a whole, reported as an Event on the object and in
#    the agent log, and the others still apply; a CLI-applied policy is
#    left alone; a NetworkPolicy deleted in the API is deleted;
#  - lists come in pages (kubernetes.chunk_size); a page whose snapshot
#    expired (410 Gone) starts the list again from the first page;
#  - a cut watch resumes from its resourceVersion (no relist) and loses no
#    event; a compacted resourceVersion (410 Gone) relists; a server
#    restart (history lost) relists and loses no change;
#  - steady state makes no list request (watches only); the agent's
#    metrics count the list and watch requests the server saw;
#  - over https with a CA from certificate-authority-data and a client
#    certificate/key (files), the same watch works.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init k8sw
T=kw$BH_TAG
D=$BULKHEAD_STATE_DIR
API=$BH_ROOT/tests/lib/k8s_apiserver.py
PORT=21400 TPORT=21401 CPORT=21402 MPORT=21405
command -v openssl >/dev/null || bh_skip "openssl not installed"

ctl() { python3 "$API" ctl "http://127.0.0.1:$CPORT" "$@"; }
put() { ctl put "{\"resource\": \"$1\", \"object\": $2}" >/dev/null; }
stat_of() { ctl stats | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

start_server() {	# start_server http|https
	local extra=()
	if [ "$1" = https ]; then
		extra=(--listen "127.0.0.1:$TPORT" --tls-cert "$D/srv.crt" --tls-key "$D/srv.key"
		       --client-ca "$D/ca.crt")
	else
		extra=(--listen "127.0.0.1:$PORT" --token s3cret)
	fi
	python3 "$API" serve "${extra[@]}" --control "127.0.0.1:$CPORT" --state "$D/api.json" \
		--bookmark-seconds 0.5 >"$D/api.log" 2>&1 &
	SERVER=$!
	bh_on_exit "kill $SERVER 2>/dev/null"
	bh_wait 50 ctl stats
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null; return 0; }

start_agent() {	# start_agent KUBECONFIG [CHUNK_SIZE]
	printf 'kubernetes:\n  kubeconfig: %s\n  node: node-1\n' "$1" >"$D/agent.yaml"
	[ -n "${2:-}" ] && printf '  chunk_size: %s\n' "$2" >>"$D/agent.yaml"
	printf 'metrics:\n  listen: "127.0.0.1:%s"\n' "$MPORT" >>"$D/agent.yaml"
	$BH agent --config "$D/agent.yaml" >>"$D/agent.log" 2>&1 &
	AGENT=$!
	bh_on_exit "kill $AGENT 2>/dev/null"
}
stop_agent() { kill "$AGENT"; wait "$AGENT" 2>/dev/null; return 0; }

labels_of() { $BH --json workload list | python3 -c '
import json,sys; print(json.dumps([w for w in json.load(sys.stdin) if w["workload"]==sys.argv[1]][0]["labels"], sort_keys=True))' "$1"; }
ns_labels() { $BH --json namespace list | python3 -c '
import json,sys; print(json.dumps([n for n in json.load(sys.stdin) if n["namespace"]==sys.argv[1]][0]["labels"], sort_keys=True))' "$1" 2>/dev/null; }
policies() { $BH --json policy list | python3 -c '
import json,sys; print(" ".join(sorted("%s:%s/%s" % (p["kind"], p["namespace"], p["name"]) for p in json.load(sys.stdin))))'; }
is() { [ "$("${@:2}")" = "$1" ]; }

# --------------------------------------------------------------- bad input
cat >"$D/bad.kubeconfig" <<'YAML'
apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: k, user: u}
clusters:
- name: k
  cluster: {server: "ftp://127.0.0.1"}
users:
- name: u
  user: {token: x}
YAML
printf 'kubernetes:\n  kubeconfig: %s\n' "$D/bad.kubeconfig" >"$D/bad.yaml"
out=$($BH agent --config "$D/bad.yaml" 2>&1)
expect_eq "agent with a bad kubeconfig exits 1" 1 $?
expect_ok "the message names file, line and field" \
	grep -q "bad.kubeconfig:9: cluster.server: expected an https://" <<<"$out"
printf 'kubernetes:\n  kubeconfg: x\n' >"$D/bad2.yaml"
out=$($BH agent --config "$D/bad2.yaml" 2>&1)
expect_eq "unknown kubernetes key exits 1" 1 $?
expect_ok "the message names kubernetes.kubeconfg" grep -q "kubernetes.kubeconfg" <<<"$out"

# ------------------------------------------------------------- the cluster
bh_mk_workload $T-a "$T"a 10.105.1.2/32 10.105.1.1
bh_mk_workload $T-b "$T"b 10.105.1.3/32 10.105.1.1
for p in 80 81; do bh_serve $T-b tcp $p; done
bh_wait 30 bash -c "ip netns exec $T-b ss -ltn | grep -q ':81 '"
# As the CNI plugin registers pods: NS/NAME, no labels.
expect_ok "attach x/a" $BH attach "$T"a --workload x/a --ip 10.105.1.2
expect_ok "attach x/b" $BH attach "$T"b --workload x/b --ip 10.105.1.3
cat >"$D/native.yaml" <<'YAML'
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: by-hand, namespace: x}
spec:
  selector: {matchLabels: {app: nothing-here}}
  ingress: [{from: [{ipBlock: {cidr: 192.0.2.0/24}}], ports: [{port: 22}]}]
YAML
expect_ok "a CLI-applied policy" $BH policy apply -f "$D/native.yaml"

cat >"$D/http.kubeconfig" <<YAML
apiVersion: v1
kind: Config
current-context: test
contexts:
- name: test
  context: {cluster: stand-in, user: agent}
- name: other
  context: {cluster: nowhere, user: agent}
clusters:
- name: stand-in
  cluster: {server: "http://127.0.0.1:$PORT"}
- name: nowhere
  cluster: {server: "http://127.0.0.1:1"}
users:
- name: agent
  user: {token: s3cret}
YAML
start_server http
put namespaces '{"metadata": {"name": "x", "labels": {"kubernetes.io/metadata.name": "x", "team": "blue"}}}'
put pods '{"metadata": {"name": "a", "namespace": "x", "labels": {"pod": "a"}}, "spec": {"nodeName": "node-1"}}'
put pods '{"metadata": {"name": "b", "namespace": "x", "labels": {"pod": "b"}}, "spec": {"nodeName": "node-1"}}'
put pods '{"metadata": {"name": "c", "namespace": "x", "labels": {"pod": "c"}}, "spec": {"nodeName": "node-2"}}'
put networkpolicies '{"metadata": {"name": "b-in", "namespace": "x"}, "spec": {"podSelector": {"matchLabels": {"pod": "b"}}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "a"}}}], "ports": [{"protocol": "TCP", "port": 80}]}]}, "status": {}}'
put networkpolicies '{"metadata": {"name": "named", "namespace": "x"}, "spec": {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [{"ports": [{"port": "80"}]}]}}'
put bulkheadpolicies '{"apiVersion": "bulkhead.io/v1", "kind": "BulkheadPolicy", "metadata": {"name": "deny-ssh", "namespace": "x"}, "spec": {"selector": {}, "ingress": [{"action": "deny", "ports": [{"port": 22}]}]}}'

# lists in pages of 2 items: the three pods come in two pages
start_agent "$D/http.kubeconfig" 2
expect_ok "pod labels reach workload x/a" bh_wait 100 is '{"pod": "a"}' labels_of x/a
expect_ok "pod labels reach workload x/b" bh_wait 50 is '{"pod": "b"}' labels_of x/b
expect_eq "namespace x labels from the API" \
	'{"kubernetes.io/metadata.name": "x", "team": "blue"}' "$(ns_labels x)"
expect_ok "NetworkPolicy and BulkheadPolicy applied, the CLI one kept" bh_wait 50 is \
	"NetworkPolicy:x/b-in Policy:x/by-hand Policy:x/deny-ssh" policies
expect_ok "a -> b:80 allowed (b-in)" bh_tcp $T-a 10.105.1.3 80
expect_fail "a -> b:81 denied (b-in)" bh_tcp $T-a 10.105.1.3 81
# the named-port policy: refused whole, an Event on it, the log says why
ev() { stat_of '[e["involvedObject"]["name"]+":"+e["reason"]+":"+e["type"] for e in d["events"]]'; }
expect_ok "an Event on NetworkPolicy x/named" bh_wait 50 grep -q "named:NotEnforced:Warning" <<<"$(ev)"
expect_ok "the Event says why (not a port name)" grep -q "not a port name" \
	<<<"$(stat_of '[e["message"] for e in d["events"] if e["involvedObject"]["kind"] == "NetworkPolicy"]')"
expect_ok "agent log says x/named is not enforced" grep -q "NetworkPolicy x/named not enforced" "$D/agent.log"
expect_ok "readiness: watches synced (agent log has no list errors)" bash -c "! grep -q 'list .*HTTP' '$D/agent.log'"
expect_eq "the pods' list came in pages (one later page)" 1 "$(stat_of 'd["pages"].get("pods", 0)')"

# a pod label change in the API flips a verdict
put pods '{"metadata": {"name": "b", "namespace": "x", "labels": {"pod": "b2"}}, "spec": {"nodeName": "node-1"}}'
expect_ok "label change reaches x/b" bh_wait 50 is '{"pod": "b2"}' labels_of x/b
expect_ok "b no longer selected: a -> b:81 allowed" bh_tcp $T-a 10.105.1.3 81

# steady state: watches only, no list
L0=$(stat_of 'sum(d["lists"].values())'); W0=$(stat_of 'sum(d["watches"].values())')
sleep 2
expect_eq "steady state: no list in 2 s" "$L0" "$(stat_of 'sum(d["lists"].values())')"
expect_eq "steady state: no new watch in 2 s" "$W0" "$(stat_of 'sum(d["watches"].values())')"
# the agent's own count of its requests, in its metrics
metric() { python3 -c '
import sys, urllib.request
for l in urllib.request.urlopen(sys.argv[1]).read().decode().splitlines():
    if l.startswith(sys.argv[2] + " "):
        print(l.split()[1])' "http://127.0.0.1:$MPORT/metrics" "$1"; }
expect_eq "metrics: the list requests the server saw" "$L0" \
	"$(metric bulkhead_k8s_list_requests_total)"
expect_eq "metrics: the watch requests the server saw" "$W0" \
	"$(metric bulkhead_k8s_watch_requests_total)"
expect_ok "metrics: watch events applied" test "$(metric bulkhead_k8s_watch_events_total)" -gt 0

# a cut watch resumes from its resourceVersion: no relist, no lost event
ctl cut >/dev/null
put pods '{"metadata": {"name": "b", "namespace": "x", "labels": {"pod": "b"}}, "spec": {"nodeName": "node-1"}}'
expect_ok "after a cut: the change made meanwhile arrives" bh_wait 50 is '{"pod": "b"}' labels_of x/b
expect_fail "b selected again: a -> b:81 denied" bh_tcp $T-a 10.105.1.3 81
expect_eq "after a cut: no relist" "$L0" "$(stat_of 'sum(d["lists"].values())')"

# 410 Gone: the resourceVersion is compacted away, the watch relists
# (watches held off meanwhile, so that the change happens between the
# agent's last resourceVersion and the compaction)
# agent's last resourceVersion and the compaction). The pods' relist
# meets a snapshot that expires after its first page: the list starts
# again from its first page, and still loses nothing.
ctl cut '{"hold": true}' >/dev/null
put namespaces '{"metadata": {"name": "x", "labels": {"kubernetes.io/metadata.name": "x", "team": "red"}}}'
put pods '{"metadata": {"name": "c", "namespace": "x", "labels": {"pod": "c", "ver": "2"}}, "spec": {"nodeName": "node-2"}}'
ctl compact >/dev/null
ctl expire-lists '{"after": 1}' >/dev/null
ctl release >/dev/null
expect_ok "after 410: namespace label change arrives" bh_wait 50 is \
	'{"kubernetes.io/metadata.name": "x", "team": "red"}' ns_labels x
expect_ok "after 410: relisted" test "$(stat_of 'sum(d["lists"].values())')" -gt "$L0"
expect_ok "agent log tells the 410" grep -q "410 Gone" "$D/agent.log"
expect_ok "a list page whose snapshot expired: the list starts again" bh_wait 50 grep -q \
	"list pods: the list's snapshot expired (410 Gone), listing again from the start" "$D/agent.log"
expect_ok "the pods' list after the restart is whole: x/b still has its labels" \
	is '{"pod": "b"}' labels_of x/b
expect_eq "the pods: two lists of two pages, the first cut short (410)" 3 \
	"$(stat_of 'd["pages"].get("pods", 0)')"

# a NetworkPolicy deleted in the API is deleted; the CLI one stays
ctl delete '{"resource": "networkpolicies", "namespace": "x", "name": "b-in"}' >/dev/null
expect_ok "deleted in the API: gone from bulkhead" bh_wait 50 is \
	"Policy:x/by-hand Policy:x/deny-ssh" policies
expect_ok "b open again: a -> b:81 allowed" bh_tcp $T-a 10.105.1.3 81

# server restart: the history is gone (410 for every watch), nothing lost
stop_server
put_offline() { python3 - "$D/api.json" <<'PY'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s["rv"] += 1
o = s["objects"]["pods"]["x/a"]; o["metadata"]["labels"] = {"pod": "a", "ver": "2"}
o["metadata"]["resourceVersion"] = str(s["rv"])
json.dump(s, open(p, "w"))
PY
}
put_offline	# a change the agent never saw as an event
start_server http
expect_ok "after a server restart: the change made while it was down arrives" \
	bh_wait 100 is '{"pod": "a", "ver": "2"}' labels_of x/a
stop_agent
stop_server

# ------------------------------------------------------------------ https
cd "$D" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 \
	-subj /CN=test-ca >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext
openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 1 \
	-extfile srv.ext >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=bulkhead >/dev/null 2>&1
openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out cli.crt -days 1 \
	>/dev/null 2>&1
cd - >/dev/null || exit 1
cat >"$D/https.kubeconfig" <<YAML
apiVersion: v1
kind: Config
current-context: tls
contexts:
- name: tls
  context: {cluster: stand-in, user: agent}
clusters:
- name: stand-in
  cluster:
    server: https://127.0.0.1:$TPORT
    certificate-authority-data: $(base64 -w0 "$D/ca.crt")
users:
- name: agent
  user: {client-certificate: cli.crt, client-key: cli.key}
YAML
start_server https
start_agent "$D/https.kubeconfig"
put pods '{"metadata": {"name": "a", "namespace": "x", "labels": {"pod": "a", "ver": "3"}}, "spec": {"nodeName": "node-1"}}'
expect_ok "https + client certificate: label change arrives" \
	bh_wait 100 is '{"pod": "a", "ver": "3"}' labels_of x/a
expect_ok "no TLS error logged" bash -c "! grep -qi 'SSL\|certificate' '$D/agent.log'"
stop_agent
stop_server
