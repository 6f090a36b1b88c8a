#!/usr/bin/env bash
# `bulkhead-cni install` (the DaemonSet's init container) chains
# bulkhead-cni after the node's primary conflist (here a flannel-like
# one), twice without duplicating it, and installs the binary it runs
# from; a primary conflist that is not JSON, or one without a plugin list,
# is refused naming the file, and nothing is written. Temporary
# directories, not a node.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init instcni
D=$BULKHEAD_STATE_DIR
command -v jq >/dev/null || bh_skip "jq is not installed"
mkdir -p "$D/cni/bin" "$D/cni/net.d"
echo '{"cniVersion": "1.0.0", "name": "cbr0", "plugins": [{"type": "bridge", "bridge": "cni0",
 "ipam": {"type": "host-local", "subnet": "10.244.0.0/24"}}, {"type": "portmap"}]}' \
	>"$D/cni/net.d/10-flannel.conflist"
echo '{"cniVersion": "1.0.0", "name": "later", "plugins": []}' >"$D/cni/net.d/20-later.conflist"
inst() { CNI_BIN_DIR=$D/cni/bin CNI_NET_DIR=$D/cni/net.d BULKHEAD_MODE=monitor CNI_WAIT_SECONDS=0 "$@" "$BH_CNI" install; }
for i in 1 2; do
	out=$(inst env 2>&1)
	expect_eq "install run $i exits 0" 0 $?
done
expect_eq "it says what it chained" "install-cni: $D/cni/net.d/00-bulkhead.conflist chains bulkhead-cni after 10-flannel.conflist" "$out"
expect_ok "bulkhead-cni installed (the binary it ran from)" cmp -s "$BH_CNI" "$D/cni/bin/bulkhead-cni"
expect_eq "the installed binary is executable" 755 "$(stat -c %a "$D/cni/bin/bulkhead-cni")"
expect_eq "00-bulkhead.conflist = primary + bulkhead-cni, once" \
	'cbr0 bridge,portmap,bulkhead-cni monitor /var/lib/bulkhead /sys/fs/bpf/bulkhead' \
	"$(jq -r '"\(.name) \([.plugins[].type] | join(",")) \(.plugins[-1] | "\(.mode) \(.stateDir) \(.bpffs)")"' \
		"$D/cni/net.d/00-bulkhead.conflist")"
expect_eq "no temporary file left" "" "$(ls -A "$D/cni/bin" "$D/cni/net.d" | grep '^\.' || true)"

before=$(cat "$D/cni/net.d/00-bulkhead.conflist")
echo '{"plugins": [' >"$D/cni/net.d/10-flannel.conflist"
out=$(inst env 2>&1)
expect_eq "a primary conflist that is not JSON: exit 1" 1 $?
expect_ok "... the message names the file ($out)" grep -q "$D/cni/net.d/10-flannel.conflist: not JSON" <<<"$out"
echo '{"plugins": {}}' >"$D/cni/net.d/10-flannel.conflist"
out=$(inst env 2>&1)
expect_eq "plugins not a list: exit 1" 1 $?
expect_ok "... the message names the file and field ($out)" \
	grep -q "$D/cni/net.d/10-flannel.conflist: plugins: expected an array" <<<"$out"
expect_eq "... 00-bulkhead.conflist unchanged" "$before" "$(cat "$D/cni/net.d/00-bulkhead.conflist")"
out=$(inst env BULKHEAD_MODE=strict 2>&1)
expect_eq "a bad BULKHEAD_MODE: exit 1" 1 $?
expect_ok "... named ($out)" grep -q "BULKHEAD_MODE: expected enforce, monitor or learn, got 'strict'" <<<"$out"
rm "$D/cni/net.d/10-flannel.conflist" "$D/cni/net.d/20-later.conflist"
out=$(inst env 2>&1)
expect_eq "no primary conflist (no wait): exit 1" 1 $?
expect_ok "... named ($out)" grep -q "no conflist in $D/cni/net.d" <<<"$out"
