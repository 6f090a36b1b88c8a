#!/usr/bin/env bash
# bulkhead doctor: on this kernel every needed check passes (exit 0, plain
# lines and JSON agree); something needed missing makes exit 1 and names
# it: a pin dir off bpffs, a config that does not parse, a conflist
# chaining bulkhead-cni without the binary; tc_attach is reported as
# configured. The agent, refusing to start, prints the same findings.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init doctor

out=$($BH doctor); rc=$?
expect_eq "doctor exit status on this node" 0 "$rc"
expect_ok "plain lines end with the verdict" grep -q "^this node can run bulkhead$" <<<"$out"
for c in kernel bpffs btf programs tcx clsact tc_attach xdp ringbuf kfuncs memlock cni services; do
	expect_ok "plain line for $c" grep -Eq "^(ok|info|MISSING|absent) +$c " <<<"$out"
done
j=$($BH --json doctor); rc=$?
expect_eq "doctor --json exit status" 0 "$rc"
expect_eq "json: usable" true "$(jq .usable <<<"$j")"
expect_eq "json: 13 checks" 13 "$(jq '.checks | length' <<<"$j")"
expect_eq "json: programs ok" ok "$(jq -r '.checks[] | select(.name=="programs") | .state' <<<"$j")"
expect_eq "json: ringbuf needed" true "$(jq -r '.checks[] | select(.name=="ringbuf") | .needed' <<<"$j")"
expect_eq "json and text name the same checks" \
	"$(jq -r '.checks[].name' <<<"$j" | tr '\n' ' ')" \
	"$(grep -v '^this node' <<<"$out" | awk '{print $2}' | tr '\n' ' ')"
expect_ok "auto picks tcx on a kernel with tcx" \
	grep -q "configured auto: TC programs attach through tcx" <<<"$out"

echo "tc_attach = clsact" >"$BULKHEAD_STATE_DIR/config"
expect_ok "tc_attach = clsact reported" bash -c "$BH doctor | grep -q 'configured clsact: TC programs attach through clsact'"
expect_eq "clsact needed when forced" true \
	"$($BH --json doctor | jq -r '.checks[] | select(.name=="clsact") | .needed')"

# a bad config: the finding names file, line and key; exit 1
printf 'hook = tc\ntc_attach = sometimes\n' >"$BULKHEAD_STATE_DIR/config"
out=$($BH doctor); rc=$?
expect_eq "bad config: exit 1" 1 "$rc"
expect_ok "bad config: file, line, key named" \
	grep -q "^MISSING  config .*$BULKHEAD_STATE_DIR/config:2: tc_attach: expected auto, tcx or clsact, got 'sometimes'" <<<"$out"
expect_ok "bad config: verdict line" grep -q "^this node cannot run bulkhead" <<<"$out"
expect_fail "bad config: attach refuses" $BH attach lo --workload t/x --ip 10.107.0.9
rm -f "$BULKHEAD_STATE_DIR/config"

# a pin dir that is not on bpffs (and not below /sys/fs/bpf)
out=$(BULKHEAD_BPFFS=$BULKHEAD_STATE_DIR/pins $BH doctor); rc=$?
expect_eq "pins off bpffs: exit 1" 1 "$rc"
expect_ok "pins off bpffs: bpffs MISSING" grep -q "^MISSING  bpffs " <<<"$out"

# the CNI chain: a conflist naming bulkhead-cni, binary present or not
conf=$BULKHEAD_STATE_DIR/net.d bin=$BULKHEAD_STATE_DIR/cnibin
mkdir -p "$conf" "$bin"
cat >"$conf/10-t.conflist" <<'JSON'
{"cniVersion":"1.0.0","name":"t","plugins":[{"type":"ptp"},{"type":"bulkhead-cni"}]}
JSON
out=$($BH doctor --cni-conf-dir "$conf" --cni-bin-dir "$bin"); rc=$?
expect_eq "chain without binary: exit 1" 1 "$rc"
expect_ok "chain without binary: cni MISSING" grep -q "^MISSING  cni .*10-t.conflist chains bulkhead-cni but $bin/bulkhead-cni is missing" <<<"$out"
cp "$BH_CNI" "$bin/bulkhead-cni"
out=$($BH doctor --cni-conf-dir "$conf" --cni-bin-dir "$bin"); rc=$?
expect_eq "chain with binary: exit 0" 0 "$rc"
expect_ok "chain with binary: cni ok" grep -q "^ok       cni .*10-t.conflist chains $bin/bulkhead-cni" <<<"$out"
expect_fail "unknown option: exit 1" $BH doctor --bogus

# the agent refuses to start on a node that cannot load, and says why
printf 'flow_cache = maybe\n' >"$BULKHEAD_STATE_DIR/config"
out=$($BH agent 2>&1); rc=$?
expect_eq "agent with a bad config: exit 1" 1 "$rc"
expect_ok "agent prints the doctor's findings" grep -q "^MISSING  config .*config:1: flow_cache" <<<"$out"
expect_ok "agent prints every check" grep -q "^ok       ringbuf " <<<"$out"
rm -f "$BULKHEAD_STATE_DIR/config"
