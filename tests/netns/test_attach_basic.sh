#!/usr/bin/env bash
# First real-veth test of the core: attach puts our programs on the right
# hooks (tc: tcx ingress+egress; xdp: XDP + tcx egress, via BULKHEAD_HOOK),
# traffic flows while nothing isolates, a policy denies, quarantine and
# release, bad input exits 1 with one message, detach leaves nothing, reset
# leaves no pin, program or state behind.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init attach
T=ba$BH_TAG

bh_mk_workload $T-a "$T"a 10.77.7.10/32 10.77.7.1
bh_mk_workload $T-b "$T"b 10.77.7.20/32 10.77.7.1
bh_serve $T-b tcp 80
bh_serve $T-a tcp 80
bh_wait 30 bh_tcp $T-a 10.77.7.20 80 || fail "server did not come up"

# hooks JSON -> "xdp,tcx_ingress,tcx_egress" counts of OUR programs
ours() { $BH debug hooks "$1" --json | python3 -c '
import json,sys; h=json.load(sys.stdin)
print(",".join(str(sum(1 for p in h[k] if p["ours"])) for k in ("xdp","tcx_ingress","tcx_egress")))'; }

expect_ok "attach a (tc, default)" $BH attach "$T"a --workload t/a --ip 10.77.7.10 --label app=a
expect_ok "attach b (xdp from BULKHEAD_HOOK)" env BULKHEAD_HOOK=xdp $BH attach "$T"b \
	--workload t/b --ip 10.77.7.20 --ip fd00:77::20 --label app=b --mode enforce
expect_eq "tc hooks on a" "0,1,1" "$(ours "$T"a)"
expect_eq "xdp hooks on b" "1,0,1" "$(ours "$T"b)"
expect_ok "pins exist" test -e "$BULKHEAD_BPFFS/bh_policy_v1" -a -e "$BULKHEAD_BPFFS/bh_deny_all_v1" \
	-a -e "$BULKHEAD_BPFFS/prog_tc_from_container"
wl=$($BH workload list --json)
expect_ok "workload list --json" python3 -c '
import json,sys; d={w["workload"]: w for w in json.loads(sys.argv[1])}
assert d["t/a"]["hook"]=="tc" and d["t/b"]["hook"]=="xdp", d
assert d["t/b"]["ips"]==["10.77.7.20","fd00:77::20"], d
assert d["t/a"]["slot"]!=d["t/b"]["slot"] and d["t/a"]["mode"]=="enforce", d' "$wl"

expect_ok "not isolated: a -> b" bh_tcp $T-a 10.77.7.20 80
expect_ok "not isolated: b -> a" bh_tcp $T-b 10.77.7.10 80

# Bad input: exit 1, exactly one "bulkhead: " line on stderr, nothing changes.
check_user_error() {
	local desc=$1; shift
	local err rc
	err=$("$@" 2>&1 >/dev/null); rc=$?
	expect_eq "$desc: exit 1" 1 $rc
	expect_eq "$desc: one message" 1 "$(grep -c '^bulkhead: ' <<<"$err")"
}
check_user_error "interface already attached" $BH attach "$T"a --workload t/c --ip 10.77.7.11
check_user_error "address taken" $BH attach "$T"b --workload t/c --ip 10.77.7.10
check_user_error "no such interface" $BH attach nosuch$T --workload t/c --ip 10.77.7.12
check_user_error "bad address" $BH attach "$T"a --workload t/c --ip 10.77.7.300
check_user_error "bad label" $BH attach "$T"a --workload t/c --ip 10.77.7.12 --label 'a b'
check_user_error "missing --ip" $BH attach "$T"a --workload t/c
check_user_error "bad workload" $BH attach "$T"a --workload nons --ip 10.77.7.12
check_user_error "bad mode" $BH mode t/a sleepy
check_user_error "unknown workload" $BH quarantine t/nobody
check_user_error "unknown command" $BH frobnicate
expect_eq "still two workloads" 2 "$($BH workload list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"

# A policy isolates b's ingress: a -> b denied, b -> a still open.
P=$BULKHEAD_STATE_DIR/deny-b.yaml
printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-b, namespace: t}\nspec:\n  podSelector: {matchLabels: {app: b}}\n  policyTypes: [Ingress]\n' >$P
expect_ok "policy apply" $BH policy apply -f $P
expect_fail "policy: a -> b denied" bh_tcp $T-a 10.77.7.20 80
expect_ok "policy: b -> a allowed" bh_tcp $T-b 10.77.7.10 80
expect_ok "policy list shows it" bash -c "$BH policy list | grep -q deny-b"
expect_eq "re-apply is unchanged" "NetworkPolicy t/deny-b unchanged" "$($BH policy apply -f $P)"
expect_ok "stats show default-deny for t/b" bash -c "$BH stats --workload t/b | grep -q default-deny"
check_user_error "a prefix does not delete (pol del)" $BH pol del t/deny-b
expect_ok "policy delete (full word; prefixes elsewhere: 'pol li')" $BH policy delete t/deny-b
expect_ok "pol li still works" $BH pol li
expect_ok "after delete: a -> b" bh_tcp $T-a 10.77.7.20 80

# A label added later is followed: the policy selects a's namespace peer.
expect_ok "namespace label" $BH namespace label t env=test
expect_ok "namespace list has the label" bash -c "$BH namespace list | grep -q env=test"

# Quarantine / release.
expect_ok "quarantine a" $BH quarantine t/a --reason "test"
expect_fail "quarantined: a -> b" bh_tcp $T-a 10.77.7.20 80
expect_fail "quarantined: b -> a" bh_tcp $T-b 10.77.7.10 80
expect_ok "workload list shows quarantine" bash -c "$BH workload list --json | grep -q '\"quarantined\":true'"
expect_ok "release a" $BH release t/a
expect_ok "released: a -> b" bh_tcp $T-a 10.77.7.20 80
check_user_error "release twice" $BH release t/a

# Programs stay when no bulkhead process runs (they belong to the veth).
# (other tests may run a bulkhead agent at the same time: look for ours only)
ours_running() {
	local p
	for p in $(pgrep -x bulkhead); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "BULKHEAD_BPFFS=$BULKHEAD_BPFFS" && echo "$p"
	done
}
expect_eq "no bulkhead process of this instance" "" "$(ours_running)"
expect_eq "hooks still there" "0,1,1" "$(ours "$T"a)"

# Detach removes our programs and the workload; a second detach is an error.
expect_ok "detach a" $BH detach "$T"a
expect_eq "nothing on a" "0,0,0" "$(ours "$T"a)"
expect_eq "no foreign program left on a" "[] [] []" "$($BH debug hooks "$T"a --json | python3 -c '
import json,sys; h=json.load(sys.stdin); print(h["xdp"], h["tcx_ingress"], h["tcx_egress"])')"
expect_ok "workload list lacks a" bash -c "! $BH workload list | grep -q 't/a'"
check_user_error "detach twice" $BH detach "$T"a
expect_ok "after detach: a -> b" bh_tcp $T-a 10.77.7.20 80

# Reset: nothing of this instance remains.
expect_ok "reset" $BH reset --yes
expect_eq "nothing on b" "[] [] []" "$($BH debug hooks "$T"b --json | python3 -c '
import json,sys; h=json.load(sys.stdin); print(h["xdp"], h["tcx_ingress"], h["tcx_egress"])')"
expect_ok "pin dir gone" test ! -e "$BULKHEAD_BPFFS"
expect_ok "state db gone" test ! -e "$BULKHEAD_STATE_DIR/state.db"
expect_eq "empty list after reset" "(none)" "$($BH workload list)"
expect_ok "after reset: a -> b" bh_tcp $T-a 10.77.7.20 80
