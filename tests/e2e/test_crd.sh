#!/usr/bin/env bash
# docs/deploy/crd.yaml: a structural schema (tests/lib/crd_check.py, the
# API server's rules, as there is no API server here); BulkheadPolicy
# objects the schema accepts and `bulkhead policy validate` accepts are
# the same good examples; a wrong type or enum is refused by both; what
# only bulkhead's parser can judge (endPort below port) passes the schema
# and is refused by bulkhead (that is the webhook's job). The webhook
# manifest routes both kinds with failurePolicy set.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init crd
W=$BULKHEAD_STATE_DIR
CRD=$BH_ROOT/docs/deploy/crd.yaml
CHECK="/usr/bin/python3 $BH_ROOT/tests/lib/crd_check.py"

expect_ok "the CRD's schema is structural" $CHECK structural "$CRD"
expect_eq "group, scope, kind" "bulkhead.io Namespaced BulkheadPolicy v1" \
	"$(/usr/bin/python3 -c "import yaml; d=yaml.safe_load(open('$CRD'))['spec']; print(d['group'], d['scope'], d['names']['kind'], d['versions'][0]['name'])")"
expect_eq "printer columns" "Selector Audit Age" \
	"$(/usr/bin/python3 -c "import yaml; d=yaml.safe_load(open('$CRD'))['spec']['versions'][0]; print(' '.join(c['name'] for c in d['additionalPrinterColumns']))")"

cat >"$W/good.yaml" <<'YAML'
apiVersion: bulkhead.io/v1
kind: BulkheadPolicy
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  audit: false
  ingress:
  - action: deny
    from: [{ipBlock: {cidr: 10.107.0.0/16, except: [10.107.1.0/24]}}]
    ports: [{port: 22}, {protocol: UDP, port: 1000, endPort: 1010}]
  - from: [{podSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}}]
    ports: [{port: 5432}]
    icmp: [{type: 8}, {protocol: ICMPv6, type: 128, code: 0}]
  egress:
  - action: deny
    to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]
---
apiVersion: bulkhead.io/v1
kind: BulkheadPolicy
metadata: {name: all, namespace: shop}
spec:
  selector: {}
YAML
expect_ok "good objects: schema accepts" $CHECK validate "$CRD" "$W/good.yaml"
expect_ok "good objects: bulkhead accepts" $BH policy validate -f "$W/good.yaml"

bad() { # NAME SED_EXPR SCHEMA(0 accept/1 refuse) BULKHEAD(0/1)
	sed "$2" "$W/good.yaml" >"$W/bad.yaml"
	$CHECK validate "$CRD" "$W/bad.yaml" >/dev/null; expect_eq "$1: schema" "$3" "$?"
	$BH policy validate -f "$W/bad.yaml" 2>/dev/null; expect_eq "$1: bulkhead" "$4" "$?"
}
bad "action not an enum value" 's/action: deny/action: drop/' 1 1
bad "protocol not an enum value" 's/protocol: UDP/protocol: GRE/' 1 1
bad "unknown spec field" 's/audit: false/audit: false\n  policyTypes: [Ingress]/' 1 1
bad "endPort below port (only bulkhead sees it)" 's/endPort: 1010/endPort: 999/' 0 1
bad "except outside cidr (only bulkhead sees it)" 's/10.107.1.0\/24/10.108.1.0\/24/' 0 1
bad "selector missing" 's/selector: {}/audit: true/' 1 1

WH=$BH_ROOT/docs/deploy/webhook.yaml
expect_eq "webhook: kinds of documents" "Deployment ServiceAccount Service ValidatingWebhookConfiguration" \
	"$(/usr/bin/python3 -c "import yaml; print(' '.join(d['kind'] for d in yaml.safe_load_all(open('$WH'))))")"
expect_eq "webhook: failurePolicy, resources, path" "Fail networkpolicies,bulkheadpolicies /validate" \
	"$(/usr/bin/python3 -c "
import yaml
w=[d for d in yaml.safe_load_all(open('$WH')) if d['kind']=='ValidatingWebhookConfiguration'][0]['webhooks'][0]
print(w['failurePolicy'], ','.join(r['resources'][0] for r in w['rules']), w['clientConfig']['service']['path'])")"
for f in "$BH_ROOT"/docs/deploy/*.yaml; do
	expect_ok "$(basename "$f") parses as YAML" /usr/bin/python3 -c "import yaml; list(yaml.safe_load_all(open('$f')))"
done
