#!/usr/bin/env bash
# The agent inside a pod: `kubernetes: {}` with no kubeconfig uses the
# in-cluster service account, as the DaemonSet runs it. The agent runs in
# a mount namespace of its own where the service account directory
# /var/run/secrets/kubernetes.io/serviceaccount is a directory of this
# test (bind-mounted over a tmpfs /run), with KUBERNETES_SERVICE_HOST and
# KUBERNETES_SERVICE_PORT naming the stand-in API server
# (tests/lib/k8s_apiserver.py, a test double) over https. Checks:
#  - the agent verifies the server with ca.crt and authenticates with the
#    token: a pod's labels reach its workload;
#  - a rotated token (the file replaced, the old token refused by the
#    server) is read again: the next requests carry the new one and the
#    next label change arrives;
#  - outside a cluster (no KUBERNETES_SERVICE_HOST) and with no token
#    file, the agent refuses to start with exit 1 and says why.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/k8s_standin.sh"
source "$(dirname "$0")/../lib/tls_ca.sh"
bh_test_init k8si
command -v certtool >/dev/null || bh_skip "certtool (gnutls-bin) not installed"
command -v unshare >/dev/null || bh_skip "unshare (util-linux) not installed"
T=ki$BH_TAG
D=$BULKHEAD_STATE_DIR
SA=$D/sa
PORT=23400 CPORT=23401
mkdir -p "$SA"

ctl() { python3 "$BH_STANDIN" ctl "http://127.0.0.1:$CPORT" "$@"; }
put() { ctl put "{\"resource\": \"$1\", \"object\": $2}" >/dev/null; }
stat_of() { ctl stats | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
labels_of() { $BH --json workload list | python3 -c '
import json,sys; print(json.dumps([w for w in json.load(sys.stdin) if w["workload"]==sys.argv[1]][0]["labels"], sort_keys=True))' "$1"; }
is() { [ "$("${@:2}")" = "$1" ]; }
pod() {	# LABELS-JSON
	put pods "{\"metadata\": {\"name\": \"a\", \"namespace\": \"x\", \"labels\": $1},
		\"spec\": {\"nodeName\": \"node-1\"}, \"status\": {\"podIPs\": [{\"ip\": \"10.124.0.2\"}]}}"
}
# a token file replaced the way the kubelet does it: a new file renamed over
write_token() { printf '%s' "$1" >"$SA/token.new" && mv "$SA/token.new" "$SA/token"; }

# agent_in_pod [ENV...]: the agent as a pod runs it, with its service
# account directory, in a mount namespace of its own (the host's /run is
# untouched); extra environment as given. The agent replaces the shell
# that runs this (exec): run in the background, $! is the agent.
agent_in_pod() {
	exec env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT "$@" \
		unshare -m --propagation private sh -c '
		mount -t tmpfs bh-run /run &&
		mkdir -p /run/secrets/kubernetes.io/serviceaccount &&
		mount --bind "$1" /run/secrets/kubernetes.io/serviceaccount &&
		exec "$2" agent --config "$3"' agent-in-pod "$SA" "$BH" "$D/agent.yaml"
}

bh_tls_ca "$D" api || bh_skip "certtool could not make a CA"
bh_tls_cert "$D" api apiserver 127.0.0.1 "" 127.0.0.1 server || bh_skip "certtool could not make a certificate"
cp "$D/api-ca.pem" "$SA/ca.crt"
write_token tok-1

bh_mk_workload $T-a "$T"a 10.124.0.2/32 10.124.0.1
expect_ok "attach x/a" $BH attach "$T"a --workload x/a --ip 10.124.0.2
printf 'kubernetes: {node: node-1}\n' >"$D/agent.yaml"

# ----------------------------------------------------- refusals first
out=$(agent_in_pod 2>&1); rc=$?
expect_eq "not in a cluster: exit 1" 1 "$rc"
expect_ok "not in a cluster: says why" grep -q "KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset" <<<"$out"
mv "$SA/token" "$SA/token.away"
out=$(agent_in_pod KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$PORT 2>&1); rc=$?
expect_eq "no token: exit 1" 1 "$rc"
expect_ok "no token: names the file" grep -q \
	"/var/run/secrets/kubernetes.io/serviceaccount/token: cannot read the service account token" <<<"$out"
mv "$SA/token.away" "$SA/token"

# ----------------------------------------------------- in the cluster
standin_serve "127.0.0.1:$PORT" "127.0.0.1:$CPORT" "$D/api.log" --tls-cert "$D/apiserver.pem" \
	--tls-key "$D/apiserver.key" --token tok-1 --bookmark-seconds 0.5 ||
	{ fail "the stand-in API server did not start"; exit 1; }
bh_on_exit "kill $STANDIN_PID 2>/dev/null"
bh_show_on_fail "$D/agent.log" "$D/api.log"
put namespaces '{"metadata": {"name": "x", "labels": {"kubernetes.io/metadata.name": "x"}}}'
pod '{"app": "one"}'

(agent_in_pod KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$PORT) >"$D/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT 2>/dev/null"
expect_ok "in-cluster (https, ca.crt, token): the pod's labels arrive" \
	bh_wait 150 is '{"app": "one"}' labels_of x/a
expect_eq "no request was refused" 0 "$(stat_of 'd["unauthorized"]')"

# the token rotates: the server takes only the new one from now on
ctl token '{"token": "tok-2"}' >/dev/null
write_token tok-2
ctl cut >/dev/null	# the watches reconnect: new requests
pod '{"app": "two"}'
expect_ok "after the token rotated: the next label change arrives" \
	bh_wait 150 is '{"app": "two"}' labels_of x/a
expect_eq "after the token rotated: no request refused (the file is read again)" 0 \
	"$(stat_of 'd["unauthorized"]')"
kill "$AGENT"; wait "$AGENT" 2>/dev/null
expect_fail "the agent is gone" kill -0 "$AGENT"
expect_eq "the host's /run is untouched" "" "$(ls /run/secrets/kubernetes.io 2>/dev/null)"
