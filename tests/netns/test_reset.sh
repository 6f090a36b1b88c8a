#!/usr/bin/env bash
# reset leaves no program, filter or pin behind, in either attach mode;
# enforcement keeps working when no bulkhead process runs.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init reset
T=bz$BH_TAG

bh_mk_workload $T-a "$T"a 10.77.4.10/32 10.77.4.1
bh_mk_workload $T-b "$T"b 10.77.4.20/32 10.77.4.1
bh_serve $T-b tcp 80
expect_ok "attach tc" $BH attach "$T"a --workload z/a --ip 10.77.4.10 --hook tc
expect_ok "attach xdp" $BH attach "$T"b --workload z/b --ip 10.77.4.20 --label app=b --hook xdp
hooks_a=$($BH debug hooks "$T"a --json)
hooks_b=$($BH debug hooks "$T"b --json)
echo "$hooks_a"; echo "$hooks_b"
expect_ok "tc mode: tcx ingress and egress attached" python3 -c '
import json,sys; h=json.loads(sys.argv[1]); s=json.dumps(h)
assert h["tcx_ingress"] and h["tcx_egress"] and not h["xdp"], s' "$hooks_a"
expect_ok "xdp mode: xdp and tcx egress attached" python3 -c '
import json,sys; h=json.loads(sys.argv[1]); s=json.dumps(h)
assert h["xdp"] and h["tcx_egress"] and not h["tcx_ingress"], s' "$hooks_b"

printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b, namespace: z}\nspec:\n  podSelector: {matchLabels: {app: b}}\n  ingress: []\n' >$BULKHEAD_STATE_DIR/deny.yaml
expect_ok "apply deny-all ingress for b" $BH policy apply -f $BULKHEAD_STATE_DIR/deny.yaml
expect_fail "a -> b denied" bh_tcp $T-a 10.77.4.20 80
ours() { grep -lz "BULKHEAD_BPFFS=$BULKHEAD_BPFFS" /proc/[0-9]*/environ 2>/dev/null | grep -v "/proc/$$/" | grep -v "/proc/self/" || true; }
running=$(for e in $(ours); do p=${e#/proc/}; p=${p%/environ}; [ "$(cat /proc/$p/comm 2>/dev/null)" = bulkhead ] && echo $p; done)
expect_eq "no bulkhead process of this instance is running" "" "$running"
expect_fail "still denied with no bulkhead process" bh_tcp $T-a 10.77.4.20 80

expect_ok "reset" $BH reset --yes
for i in a b; do
	h=$($BH debug hooks "$T"$i --json)
	expect_ok "no program left on $T$i" python3 -c '
import json,sys; h=json.loads(sys.argv[1])
assert not h["xdp"] and not h["tcx_ingress"] and not h["tcx_egress"], h' "$h"
	expect_eq "no clsact/qdisc filter on $T$i" "" "$(tc filter show dev "$T"$i ingress 2>/dev/null)"
done
expect_eq "no pin left" "" "$(ls -A "$BULKHEAD_BPFFS" 2>/dev/null)"
expect_ok "traffic flows after reset" bh_tcp $T-a 10.77.4.20 80
