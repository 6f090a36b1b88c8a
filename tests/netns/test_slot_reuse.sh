#!/usr/bin/env bash
# A slot keeps its own policy map across the workloads it serves: a detach
# empties it in place, the next attach fills it in place (no map swapped
# in: lib/core/policy_slot.h). Whatever a slot served before, its new
# workload is judged by its own policy only, from the first packet: never
# the previous workload's closed or open policy, never quarantine.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init slotreuse
T=cr$BH_TAG
command -v bpftool >/dev/null || bh_skip "bpftool not installed"

bh_mk_workload $T-w "$T"w 10.120.1.10/32 10.120.1.1	# a web, attached
bh_mk_workload $T-t "$T"t 10.120.1.20/32 10.120.1.1	# the reused slot's veth
bh_mk_workload $T-x "$T"x 10.120.1.30/32 10.120.1.1	# never attached: the world
bh_serve $T-t tcp 80
expect_ok "attach w (app=web)" $BH attach "$T"w --workload s/w --ip 10.120.1.10 --label app=web

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
expect_ok "apply: db ingress only from web" $BH policy apply -f $P

slot_of() { $BH --json workload list | python3 -c '
import json,sys; print([w["slot"] for w in json.load(sys.stdin) if w["workload"]==sys.argv[1]][0])' "$1"; }
# id of the inner map in bh_policy_v1[slot]
map_id() {
	bpftool -j map lookup pinned "$BULKHEAD_BPFFS/bh_policy_v1" \
		key $(($1 & 255)) $(($1 >> 8 & 255)) 0 0 | python3 -c '
import json,sys; v=json.load(sys.stdin)["value"]; print(v if isinstance(v,int) else int.from_bytes(bytes(int(x,0) for x in v),"little"))'
}
entries() { bpftool -j map dump id "$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
deny_id=$(bpftool -j map show pinned "$BULKHEAD_BPFFS/bh_deny_all_v1" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
filled=$(bpftool -j map dump pinned "$BULKHEAD_BPFFS/bh_policy_v1" |
	python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect_eq "every slot has a map of its own after the first attach" 1024 "$filled"

# 1. a db on the slot: closed to all but web
expect_ok "attach t as s/a (app=db)" $BH attach "$T"t --workload s/a --ip 10.120.1.20 --label app=db
S=$(slot_of s/a)
M=$(map_id "$S")
[ -n "$M" ] && [ "$M" != "$deny_id" ] && ok "slot $S has its own map $M" || fail "slot $S map '$M'"
expect_fail "x -> a denied (a is a db)" bh_tcp $T-x 10.120.1.20 80
expect_ok "w -> a allowed (web)" bh_tcp $T-w 10.120.1.20 80

# 2. detached: the map stays, emptied
expect_ok "detach a" $BH detach "$T"t
expect_eq "slot $S keeps its map" "$M" "$(map_id "$S")"
expect_eq "the map is empty: nothing of a's policy left" 0 "$(entries "$M")"

# 3. an open workload on the same slot: nothing of the db's closedness
expect_ok "attach t as s/b (app=other)" $BH attach "$T"t --workload s/b --ip 10.120.1.20 --label app=other
expect_eq "b got slot $S" "$S" "$(slot_of s/b)"
expect_eq "b's policy filled in place (same map)" "$M" "$(map_id "$S")"
[ "$(entries "$M")" -ge 1 ] && ok "the map holds b's entries" || fail "b's map is empty"
expect_ok "x -> b allowed (nothing selects b)" bh_tcp $T-x 10.120.1.20 80

# 4. and a db again after the open one: closed from the first connection
expect_ok "detach b" $BH detach "$T"t
expect_ok "attach t as s/c (app=db)" $BH attach "$T"t --workload s/c --ip 10.120.1.20 --label app=db
expect_eq "c got slot $S, map in place" "$S $M" "$(slot_of s/c) $(map_id "$S")"
expect_fail "x -> c denied at once" bh_tcp $T-x 10.120.1.20 80
expect_ok "w -> c allowed" bh_tcp $T-w 10.120.1.20 80

# 5. detached while quarantined: the slot gets a map of its own again,
# the shared deny-all map is untouched, the next workload is not quarantined
expect_ok "quarantine c" $BH quarantine s/c
expect_eq "c's slot holds the deny-all map" "$deny_id" "$(map_id "$S")"
expect_fail "w -> c denied in quarantine" bh_tcp $T-w 10.120.1.20 80
deny_n=$(entries "$deny_id")
expect_ok "detach c" $BH detach "$T"t
M2=$(map_id "$S")
[ -n "$M2" ] && [ "$M2" != "$deny_id" ] && ok "slot $S got a map of its own ($M2)" ||
	fail "slot $S map '$M2' (deny-all $deny_id)"
expect_eq "the deny-all map kept its entries" "$deny_n" "$(entries "$deny_id")"
expect_ok "attach t as s/d (app=other)" $BH attach "$T"t --workload s/d --ip 10.120.1.20 --label app=other
expect_ok "x -> d allowed (not quarantined)" bh_tcp $T-x 10.120.1.20 80
expect_ok "quarantine d" $BH quarantine s/d
expect_fail "x -> d denied: quarantine still works" bh_tcp $T-x 10.120.1.20 80
