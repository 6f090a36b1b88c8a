#!/bin/sh
# policy-sync.sh: keeps this node's bulkhead in step with the Kubernetes API.
# A polling loop, not a controller: no watch, no backoff, nothing written
# back to the API. Every SYNC_INTERVAL seconds (default 15) it
#   1. sets and removes namespace labels (bulkhead namespace label),
#   2. sets and removes the labels of the pods on this node that bulkhead
#      registered (bulkhead workload label; the CNI plugin registers a pod
#      as workload NAMESPACE/POD),
#   3. applies every NetworkPolicy (bulkhead policy apply) and deletes the
#      NetworkPolicies that are gone from the API (bulkhead policy delete).
# Errors are logged to stderr and the next round tries again. A failed
# kubectl call skips the step that needs it: nothing is removed on the
# strength of an API error.
#
# Usage: policy-sync.sh [--once]     (or SYNC_ONCE=1): one round; exit 0 if
#        everything synced, 1 if something did not (see stderr).
# Needs: POSIX sh, jq >= 1.6, kubectl, bulkhead in PATH; NODE_NAME (the
#        DaemonSet sets it from spec.nodeName); BULKHEAD_BPFFS and
#        BULKHEAD_STATE_DIR as for any bulkhead command.
#
# Everything that comes from the API is handled as data: labels are checked
# against bulkhead's label syntax in jq (a bad one is logged and treated as
# absent), and every label reaches bulkhead as its own argv element, never
# through eval or word splitting.
set -u

INTERVAL=${SYNC_INTERVAL:-15}
ONCE=${SYNC_ONCE:-0}
case ${1:-} in
--once) ONCE=1 ;;
"") ;;
*) echo "usage: policy-sync.sh [--once]" >&2; exit 2 ;;
esac

log() { printf 'policy-sync: %s\n' "$*" >&2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/policy-sync.XXXXXX") || exit 2
trap 'rm -rf "$W"' EXIT
trap 'exit 0' TERM INT

# Label syntax as bulkhead accepts it (lib/core/names.c, bh_label_parse):
# [prefix/]name=value, prefix a lower-case DNS subdomain, name and value at
# most 63 of [A-Za-z0-9._-] beginning and ending alphanumeric (value may be
# empty), key at most 253 characters. \A and \z, not ^ and $, so that a
# newline cannot hide after a valid line.
# shellcheck disable=SC2016  # jq code, not shell expansions
JQ_DEFS='
def name_ok: test("\\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\\z");
def dns_label_ok: test("\\A[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\z");
def key_ok:
  length <= 253 and
  (split("/") as $p
   | if ($p | length) == 1 then $p[0] | name_ok
     elif ($p | length) == 2 then
       ($p[0] | test("\\A[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\\z")) and ($p[1] | name_ok)
     else false end);
def entry_ok:
  (.key | type) == "string" and (.value | type) == "string" and
  (.key | key_ok) and (.value == "" or (.value | name_ok));
# Input: the labels the API wants. Emits one line per record:
#   T TARGET   start a call for TARGET
#   S K=V      set (new or changed)
#   R K        remove (in bulkhead, not wanted)
#   E          end of the call
#   L MESSAGE  log it (JSON-escaped, one line)
# Only validated keys and values are emitted in T/S/R/E lines, so they hold
# no blank, newline or shell metacharacter.
def label_ops($have; $what):
  ((. // {}) | to_entries) as $api
  | ($api | map(select(entry_ok)) | from_entries) as $ok
  | ($api | map(select(entry_ok | not))[]
     | "L \($what): label \(.key | tojson)=\(.value | tojson) skipped: not a label bulkhead accepts"),
    (($ok | to_entries | map(select($have[.key] != .value)) | map("S \(.key)=\(.value)")) as $set
     | ($have | keys | map(select(. as $k | $ok | has($k) | not)) | map("R \(.)")) as $rm
     | if ($set + $rm | length) > 0 then "T \($what)", $set[], $rm[], "E" else empty end);
'

ERRORS=0
err() { log "$*"; ERRORS=$((ERRORS + 1)); }

# Run the label records on stdin: bulkhead $1 label TARGET K=V... --remove K...
run_label_ops() {
  kind=$1
  target=
  while read -r op arg; do
    case $op in
    T) target=$arg; set -- ;;
    S) set -- "$@" "$arg" ;;
    R) set -- "$@" --remove "$arg" ;;
    E)
      if bulkhead "$kind" label "$target" "$@" >/dev/null; then
        log "$kind $target: labels updated"
      else
        err "$kind $target: label update failed"
      fi ;;
    L) log "$arg" ;;
    esac
  done
}

# kubectl get ... -o json into FILE; 0 only for a JSON object with items[].
kget() {
  out=$1; shift
  kubectl get "$@" -o json >"$out" && jq -e '.items | type == "array"' "$out" >/dev/null 2>&1
}

sync_namespaces() {
  if ! kget "$W/ns.json" namespaces; then
    err "cannot list namespaces: namespace labels not synced"; return
  fi
  if ! bulkhead --json namespace list >"$W/ns-have.json"; then
    err "bulkhead namespace list failed"; return
  fi
  # kubernetes.io/metadata.name is bulkhead's own: never set or removed here.
  jq -r --slurpfile have "$W/ns-have.json" "$JQ_DEFS"'
    ($have[0] | map({key: .namespace, value: .labels}) | from_entries) as $cur
    | .items[] | .metadata.name as $ns
    | if ($ns | type) != "string" or ($ns | dns_label_ok | not) then
        "L namespace \($ns | tojson) skipped: not a valid namespace name"
      else
        (.metadata.labels // {} | del(.["kubernetes.io/metadata.name"]))
        | label_ops($cur[$ns] // {} | del(.["kubernetes.io/metadata.name"]); $ns)
      end' "$W/ns.json" >"$W/ns.ops" || { err "namespace diff failed"; return; }
  run_label_ops namespace <"$W/ns.ops"
}

sync_pods() {
  if [ -z "${NODE_NAME:-}" ]; then
    err "NODE_NAME is not set: pod labels not synced"; return
  fi
  if ! kget "$W/pods.json" pods -A --field-selector "spec.nodeName=$NODE_NAME"; then
    err "cannot list the pods of node $NODE_NAME: pod labels not synced"; return
  fi
  if ! bulkhead --json workload list >"$W/wl.json"; then
    err "bulkhead workload list failed"; return
  fi
  # Only pods that bulkhead registered (workload NS/POD); registered
  # workloads without a pod in the API (being deleted, attached by hand)
  # are left alone. The pod's labels are authoritative: a workload label
  # the pod does not have is removed.
  jq -r --slurpfile pods "$W/pods.json" "$JQ_DEFS"'
    ($pods[0].items | map({key: "\(.metadata.namespace)/\(.metadata.name)",
                           value: (.metadata.labels // {})}) | from_entries) as $want
    | .[] | select($want[.workload] != null)
    | .workload as $w | .labels as $have
    | $want[$w] | label_ops($have // {}; $w)' "$W/wl.json" >"$W/wl.ops" ||
    { err "pod label diff failed"; return; }
  run_label_ops workload <"$W/wl.ops"
}

sync_policies() {
  if ! kget "$W/np.json" networkpolicies -A; then
    err "cannot list NetworkPolicies: policies not synced"; return
  fi
  # One JSON document per policy (JSON is YAML), status and server-side
  # metadata stripped: bulkhead refuses fields it does not know.
  doc='{apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
        metadata: {name: .metadata.name, namespace: .metadata.namespace}, spec: .spec}'
  jq -r ".items[] | \"---\", ($doc | tojson)" "$W/np.json" >"$W/networkpolicies.yaml" ||
    { err "NetworkPolicy conversion failed"; return; }
  n=$(jq '.items | length' "$W/np.json")
  if [ "$n" -gt 0 ] && ! bulkhead policy apply -f "$W/networkpolicies.yaml" >/dev/null 2>"$W/apply.err"; then
    # All-or-nothing refused the batch: apply one by one so that one
    # policy bulkhead refuses (say, a named port) does not hold back the
    # others. A refused policy keeps its previous version, if any.
    i=0
    while [ "$i" -lt "$n" ]; do
      jq -r --argjson i "$i" ".items[\$i] | \"---\", ($doc | tojson)" "$W/np.json" >"$W/one.yaml"
      key=$(jq -r --argjson i "$i" '.items[$i].metadata | "\(.namespace)/\(.name)" | tojson' "$W/np.json")
      if ! bulkhead policy apply -f "$W/one.yaml" >/dev/null 2>"$W/apply.err"; then
        err "NetworkPolicy $key refused: $(tr '\n' ' ' <"$W/apply.err")"
      fi
      i=$((i + 1))
    done
  fi
  # Delete the NetworkPolicies gone from the API; policies of other kinds
  # (native ones applied on the node by hand) are left alone.
  if ! bulkhead --json policy list >"$W/np-have.json"; then
    err "bulkhead policy list failed"; return
  fi
  jq -r --slurpfile np "$W/np.json" '
    ($np[0].items | map({key: "\(.metadata.namespace)/\(.metadata.name)", value: true})
     | from_entries) as $keep
    | .[] | select(.kind == "NetworkPolicy") | "\(.namespace)/\(.name)"
    | select($keep[.] | not)' "$W/np-have.json" >"$W/np.gone" ||
    { err "NetworkPolicy diff failed"; return; }
  while read -r key; do
    if bulkhead policy delete "$key" >/dev/null; then
      log "NetworkPolicy $key deleted (gone from the API)"
    else
      err "NetworkPolicy $key: delete failed"
    fi
  done <"$W/np.gone"
}

while :; do
  ERRORS=0
  # Each bulkhead call recompiles and swaps the maps at once; the order
  # only matters for the moments between calls.
  sync_namespaces
  sync_pods
  sync_policies
  if [ "$ONCE" = 1 ]; then
    [ "$ERRORS" -eq 0 ] && exit 0
    exit 1
  fi
  sleep "$INTERVAL" &
  wait $!
done
