#!/usr/bin/env bash
# The sync swaps only the workloads whose compiled policy changed: an
# attach, a label change or an apply leaves every other workload's inner
# policy map in place (same map id), and verdicts stay right throughout.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init incsync
T=bi$BH_TAG
command -v bpftool >/dev/null || bh_skip "bpftool not installed"

bh_mk_workload $T-a "$T"a 10.77.10.10/32 10.77.10.1
bh_mk_workload $T-b "$T"b 10.77.10.20/32 10.77.10.1
bh_mk_workload $T-c "$T"c 10.77.10.30/32 10.77.10.1
bh_mk_workload $T-d "$T"d 10.77.10.40/32 10.77.10.1
for n in a b c d; do bh_serve $T-$n tcp 80; done
expect_ok "attach a" $BH attach "$T"a --workload s/a --ip 10.77.10.10 --label app=web
expect_ok "attach b" $BH attach "$T"b --workload s/b --ip 10.77.10.20 --label app=db

slot_of() { $BH --json workload list | python3 -c '
import json,sys; print([w["slot"] for w in json.load(sys.stdin) if w["workload"]==sys.argv[1]][0])' "$1"; }
# id of the inner policy map in the workload's slot
map_id() {
	local s; s=$(slot_of "$1")
	bpftool -j map lookup pinned "$BULKHEAD_BPFFS/bh_policy_v1" \
		key $((s & 255)) $((s >> 8 & 255)) 0 0 | python3 -c '
import json,sys; v=json.load(sys.stdin)["value"]; print(v if isinstance(v,int) else int.from_bytes(bytes(int(x,0) for x in v),"little"))'
}
P=$BULKHEAD_STATE_DIR/p.yaml
cat >$P <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: s}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{protocol: TCP, port: 80}]
YAML
expect_ok "apply: db ingress from web" $BH policy apply -f $P
a1=$(map_id s/a) b1=$(map_id s/b)
[ -n "$a1" ] && [ -n "$b1" ] && ok "inner maps: a=$a1 b=$b1" || fail "no inner map ids ($a1, $b1)"

expect_ok "attach c (selected by nothing, no peer of b)" \
	$BH attach "$T"c --workload s/c --ip 10.77.10.30 --label app=other
expect_eq "a's map untouched by c's attach" "$a1" "$(map_id s/a)"
expect_eq "b's map untouched by c's attach" "$b1" "$(map_id s/b)"
expect_fail "c -> b denied" bh_tcp $T-c 10.77.10.20 80

expect_ok "attach d as a web: a peer of b's policy" \
	$BH attach "$T"d --workload s/d --ip 10.77.10.40 --label app=web
expect_eq "a's map untouched by d's attach" "$a1" "$(map_id s/a)"
b2=$(map_id s/b)
[ "$b2" != "$b1" ] && ok "b's map swapped: it allows the new web ($b1 -> $b2)" \
	|| fail "b's map was not swapped ($b1)"
expect_ok "d -> b allowed at once" bh_tcp $T-d 10.77.10.20 80
expect_ok "a -> b allowed" bh_tcp $T-a 10.77.10.20 80

c1=$(map_id s/c)
expect_ok "label c app=web" $BH workload label s/c app=web
expect_eq "a's map untouched by c's label" "$a1" "$(map_id s/a)"
expect_eq "c's own map unchanged (its own policy did not change)" "$c1" "$(map_id s/c)"
expect_ok "c -> b allowed after the label change" bh_tcp $T-c 10.77.10.20 80

expect_ok "re-apply the same file" $BH policy apply -f $P
b3=$(map_id s/b)
expect_ok "detach d" $BH detach "$T"d
expect_eq "a's map untouched by d's detach" "$a1" "$(map_id s/a)"
[ "$(map_id s/b)" != "$b3" ] && ok "b's map swapped: d is gone from it" || fail "b's map kept d"

expect_ok "quarantine b" $BH quarantine s/b
expect_fail "a -> b denied in quarantine" bh_tcp $T-a 10.77.10.20 80
expect_ok "release b" $BH release s/b
expect_ok "a -> b allowed after release" bh_tcp $T-a 10.77.10.20 80
expect_ok "c (web) -> b allowed after release" bh_tcp $T-c 10.77.10.20 80
