#!/usr/bin/env bash
# Liveness and readiness of the agent with a Kubernetes API configured
# (the stand-in API server, tests/lib/k8s_apiserver.py): while the API is
# out of reach, /healthz answers 200 (the programs enforce; restarting the
# agent would not help) and /readyz 503 naming the unsynced watches; once
# the API answers and the agent has listed it, /readyz answers 200. An
# agent without kubernetes is ready as soon as it is healthy.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init ready
D=$BULKHEAD_STATE_DIR
API=$BH_ROOT/tests/lib/k8s_apiserver.py
MPORT=22410 PORT=22411 CPORT=22412

get() { # PATH -> "CODE BODY"
	curl -s --max-time 5 -o "$D/body" -w '%{http_code}' "http://127.0.0.1:$MPORT$1" >"$D/code" 2>/dev/null
	echo "$(cat "$D/code") $(cat "$D/body" 2>/dev/null)"
}
answers() { [ "$(get "$1")" = "$2" ]; }
command -v curl >/dev/null || bh_skip "curl not installed"

cat >"$D/kubeconfig" <<YAML
apiVersion: v1
kind: Config
current-context: test
contexts:
- name: test
  context: {cluster: stand-in, user: agent}
clusters:
- name: stand-in
  cluster: {server: "http://127.0.0.1:$PORT"}
users:
- name: agent
  user: {token: s3cret}
YAML
printf 'metrics: {listen: "127.0.0.1:%s"}\nkubernetes:\n  kubeconfig: %s\n  node: node-1\n' \
	"$MPORT" "$D/kubeconfig" >"$D/agent.yaml"
$BH agent --config "$D/agent.yaml" >"$D/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT 2>/dev/null"
expect_ok "/healthz answers 200 with the API out of reach" bh_wait 300 answers /healthz \
	"200 ok: programs loaded, flow ring read"
expect_eq "/readyz: 503, the watches have not synced" \
	"503 not ready: the Kubernetes API watches have not synced" "$(get /readyz)"

python3 "$API" serve --listen "127.0.0.1:$PORT" --token s3cret --control "127.0.0.1:$CPORT" \
	--state "$D/api.json" --bookmark-seconds 0.5 >"$D/api.log" 2>&1 &
bh_on_exit "kill $! 2>/dev/null"
expect_ok "/readyz answers 200 once the API was listed" bh_wait 900 answers /readyz \
	"200 ok: programs loaded, flow ring read, API watches synced"
expect_eq "/healthz unchanged" "200 ok: programs loaded, flow ring read" "$(get /healthz)"
kill $AGENT; wait $AGENT 2>/dev/null

printf 'metrics: {listen: "127.0.0.1:%s"}\n' "$MPORT" >"$D/plain.yaml"
$BH agent --config "$D/plain.yaml" >>"$D/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT 2>/dev/null"
expect_ok "without kubernetes: /readyz is /healthz" bh_wait 300 answers /readyz \
	"200 ok: programs loaded, flow ring read"
kill $AGENT; wait $AGENT 2>/dev/null
[ "$BH_FAILS" -gt 0 ] && tail -20 "$D/agent.log"
true
