#!/usr/bin/env bash
# The admission webhook over real TLS (curl, certificates made here by
# openssl: a CA and a server certificate for 127.0.0.1): AdmissionReview
# documents shaped as the API server sends them (server metadata, status,
# namespace only in the request) for NetworkPolicy and BulkheadPolicy.
# Good ones are allowed; each bad one is denied naming its field; DELETE
# and other kinds pass; bad requests get HTTP 400; /healthz answers; TLS
# is required. `policy validate` agrees with `policy apply` on the same
# files, byte for byte, and changes nothing.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init webhook
W=$BULKHEAD_STATE_DIR
PORT=21510

# --- certificates
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bulkhead-test-ca \
	-keyout "$W/ca.key" -out "$W/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=bulkhead-webhook \
	-keyout "$W/tls.key" -out "$W/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:bulkhead-webhook.kube-system.svc\n' >"$W/san.ext"
openssl x509 -req -in "$W/tls.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" -CAcreateserial \
	-days 2 -extfile "$W/san.ext" -out "$W/tls.crt" 2>/dev/null
expect_ok "certificates made" test -s "$W/tls.crt"

# --- bad invocations
expect_eq "missing --tls-key: exit 1" 1 "$($BH webhook --listen 127.0.0.1:$PORT --tls-cert "$W/tls.crt" 2>/dev/null; echo $?)"
expect_eq "bad --listen: exit 1" 1 "$($BH webhook --listen nowhere --tls-cert "$W/tls.crt" --tls-key "$W/tls.key" 2>/dev/null; echo $?)"
expect_eq "unreadable cert: exit 1" 1 "$($BH webhook --listen 127.0.0.1:$PORT --tls-cert "$W/none" --tls-key "$W/tls.key" 2>/dev/null; echo $?)"

$BH webhook --listen 127.0.0.1:$PORT --tls-cert "$W/tls.crt" --tls-key "$W/tls.key" 2>"$W/webhook.log" &
WH=$!
bh_on_exit "kill $WH 2>/dev/null; wait $WH 2>/dev/null"
URL=https://127.0.0.1:$PORT
C=(curl -sS --max-time 5 --cacert "$W/ca.crt")
expect_ok "healthz answers over TLS" bh_wait 50 "${C[@]}" -f "$URL/healthz"
expect_eq "healthz body" ok "$("${C[@]}" "$URL/healthz")"
expect_fail "plain HTTP refused" curl -sf --max-time 5 "http://127.0.0.1:$PORT/healthz"
expect_fail "a client not trusting the CA refuses the server" curl -sf --max-time 5 "$URL/healthz"
expect_eq "unknown path: 404" 404 "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/nope")"
expect_eq "GET /validate: 405" 405 "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/validate")"
expect_eq "not JSON: 400" 400 "$("${C[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary 'nope' "$URL/validate")"
expect_eq "not an AdmissionReview: 400" 400 "$("${C[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary '{"kind":"Pod"}' "$URL/validate")"

# review OP UID OBJECT_JSON: the AdmissionReview the API server sends
review() {
	jq -cn --arg op "$1" --arg uid "$2" --argjson obj "$3" '{
	  apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
	  request: {uid: $uid, operation: $op, namespace: "shop",
	    kind: {group: ($obj.apiVersion // "networking.k8s.io/v1" | split("/") | if length > 1 then .[0] else "" end),
	           version: "v1", kind: ($obj.kind // "NetworkPolicy")},
	    userInfo: {username: "tester"}, object: $obj, oldObject: null, dryRun: false}}'
}
# server-side metadata the parser must not see
server_md='{"uid":"0b7c","resourceVersion":"42","generation":1,"creationTimestamp":"2026-12-06T00:00:00Z","managedFields":[{"manager":"kubectl","operation":"Update"}]}'
post() { "${C[@]}" -H 'Content-Type: application/json' --data-binary @- "$URL/validate"; }
# admit NAME UID OBJECT: checks the answer echoes the uid, prints allowed/denied + field
admit() {
	local out
	out=$(review "${4:-CREATE}" "$2" "$3" | post)
	expect_eq "$1: uid echoed" "$2" "$(jq -r .response.uid <<<"$out")"
	expect_eq "$1: answer is an AdmissionReview" "admission.k8s.io/v1/AdmissionReview" "$(jq -r '.apiVersion + "/" + .kind' <<<"$out")"
	LAST=$out
}

np_good=$(jq -c --argjson md "$server_md" '. + {metadata: ($md + {name: "db", labels: {team: "a"}})}' <<'JSON'
{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","status":{},
 "spec":{"podSelector":{"matchLabels":{"app":"db"}},"policyTypes":["Ingress"],
  "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"web"}}},{"ipBlock":{"cidr":"10.107.0.0/16","except":["10.107.9.0/24"]}}],
   "ports":[{"protocol":"TCP","port":5432},{"protocol":"TCP","port":6000,"endPort":6010}]}]}}
JSON
)
admit "good NetworkPolicy" u-1 "$np_good"
expect_eq "good NetworkPolicy: allowed" true "$(jq .response.allowed <<<"$LAST")"
admit "good NetworkPolicy, UPDATE" u-1b "$np_good" UPDATE
expect_eq "good NetworkPolicy, UPDATE: allowed" true "$(jq .response.allowed <<<"$LAST")"

bp_good='{"apiVersion":"bulkhead.io/v1","kind":"BulkheadPolicy","metadata":{"name":"no-ssh","namespace":"shop"},
 "spec":{"selector":{},"ingress":[{"action":"deny","ports":[{"protocol":"TCP","port":22}]}],
  "egress":[{"action":"allow","to":[{"ipBlock":{"cidr":"fd0a:107::/48"}}],"icmp":[{"type":128}]}]}}'
admit "good BulkheadPolicy" u-2 "$bp_good"
expect_eq "good BulkheadPolicy: allowed" true "$(jq .response.allowed <<<"$LAST")"

# denied, each with its field: NAME UID FIELD OBJECT
deny_case() {
	admit "$1" "$2" "$4"
	expect_eq "$1: denied" false "$(jq .response.allowed <<<"$LAST")"
	expect_eq "$1: field named" "$3" "$(jq -r '.response.status.details.causes[0].field' <<<"$LAST")"
	expect_ok "$1: message names the field and a reason" grep -qF "cannot enforce this policy exactly: $3: " <<<"$(jq -r .response.status.message <<<"$LAST")"
	expect_eq "$1: code 422" 422 "$(jq .response.status.code <<<"$LAST")"
}
deny_case "unknown spec field" u-3 "spec.ingress[0].from[0].serviceSelector" \
	'{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"x"},
	  "spec":{"podSelector":{},"ingress":[{"from":[{"serviceSelector":{"app":"a"}}]}]}}'
deny_case "bad selector operator" u-4 "spec.podSelector.matchExpressions[0].operator" \
	'{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"x"},
	  "spec":{"podSelector":{"matchExpressions":[{"key":"app","operator":"Near","values":["a"]}]}}}'
deny_case "endPort below port" u-5 "spec.egress[0].ports[0].endPort" \
	'{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"x"},
	  "spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"ports":[{"port":9000,"endPort":8000}]}]}}'
deny_case "BulkheadPolicy bad CIDR" u-6 "spec.ingress[0].from[0].ipBlock.cidr" \
	'{"apiVersion":"bulkhead.io/v1","kind":"BulkheadPolicy","metadata":{"name":"x","namespace":"shop"},
	  "spec":{"selector":{},"ingress":[{"action":"deny","from":[{"ipBlock":{"cidr":"10.0.0.0/33"}}]}]}}'
deny_case "BulkheadPolicy bad action" u-7 "spec.egress[0].action" \
	'{"apiVersion":"bulkhead.io/v1","kind":"BulkheadPolicy","metadata":{"name":"x"},
	  "spec":{"selector":{},"egress":[{"action":"log"}]}}'
deny_case "BulkheadPolicy without selector" u-8 "spec.selector" \
	'{"apiVersion":"bulkhead.io/v1","kind":"BulkheadPolicy","metadata":{"name":"x"},"spec":{"ingress":[]}}'

admit "DELETE" u-9 'null' DELETE
expect_eq "DELETE: allowed" true "$(jq .response.allowed <<<"$LAST")"
admit "another kind" u-10 '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{}}'
expect_eq "another kind: allowed" true "$(jq .response.allowed <<<"$LAST")"
expect_eq "webhook still healthy" ok "$("${C[@]}" "$URL/healthz")"

# --- policy validate = apply's parser, changes nothing
P=$W/p.yaml
cat >"$P" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - ports: [{protocol: TCP, port: 5432}]
---
apiVersion: bulkhead.io/v1
kind: BulkheadPolicy
metadata: {name: no-ssh, namespace: shop}
spec:
  selector: {}
  ingress:
    - {action: deny, ports: [{protocol: TCP, port: 22}]}
YAML
expect_ok "validate a good multi-document file" $BH policy validate -f "$P"
expect_eq "validate --json lists both" 2 "$($BH --json policy validate -f "$P" | jq length)"
expect_ok "validate from stdin" bash -c "$BH policy validate -f - <'$P'"
expect_eq "validate changed nothing (no state written)" "" "$(ls "$W" | grep -E '^state.db' || true)"
expect_eq "validate loaded nothing (no pins)" "" "$(ls "$BULKHEAD_BPFFS" 2>/dev/null || true)"
sed 's/port: 22}/port: 22, endPort: 21}/' "$P" >"$W/bad.yaml"
v=$($BH policy validate -f "$W/bad.yaml" 2>&1); vrc=$?
a=$($BH policy apply -f "$W/bad.yaml" 2>&1); arc=$?
expect_eq "bad file: validate exit 1" 1 "$vrc"
expect_eq "bad file: apply exit 1" 1 "$arc"
expect_eq "validate and apply say the same" "$a" "$v"
expect_ok "the message is FILE:LINE:COL: FIELD: message" \
	grep -q "^bulkhead: $W/bad.yaml:15:[0-9]*: spec.ingress\[0\].ports\[0\].endPort: " <<<"$v"
v=$($BH policy validate -f - <"$W/bad.yaml" 2>&1)
expect_ok "stdin errors name <stdin>" grep -q "^bulkhead: <stdin>:15:[0-9]*: spec.ingress\[0\].ports\[0\].endPort: " <<<"$v"
expect_eq "an empty file: exit 1" 1 "$(: | $BH policy validate -f - 2>/dev/null; echo $?)"
expect_eq "a missing file: exit 1" 1 "$($BH policy validate -f "$W/none.yaml" 2>/dev/null; echo $?)"
expect_ok "apply of the same good file works" $BH policy apply -f "$P"
