#!/usr/bin/env bash
# docs/deploy/scripts-configmap.yaml's install-cni.sh (the DaemonSet's init
# container) chains bulkhead-cni after the node's primary conflist (here a
# flannel-like one), twice without duplicating it. Temporary directories,
# not a node.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init instcni
D=$BULKHEAD_STATE_DIR
command -v jq >/dev/null || bh_skip "jq is not installed"
mkdir -p "$D/cni/bin" "$D/cni/net.d"
python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["install-cni.sh"], end="")' \
	"$BH_ROOT/docs/deploy/scripts-configmap.yaml" >"$D/install-cni.sh"
echo '{"cniVersion": "1.0.0", "name": "cbr0", "plugins": [{"type": "bridge", "bridge": "cni0",
 "ipam": {"type": "host-local", "subnet": "10.244.0.0/24"}}, {"type": "portmap"}]}' \
	>"$D/cni/net.d/10-flannel.conflist"
for i in 1 2; do
	CNI_BIN_DIR=$D/cni/bin CNI_NET_DIR=$D/cni/net.d BULKHEAD_CNI=$BH_CNI BULKHEAD_MODE=monitor \
		sh "$D/install-cni.sh" >/dev/null 2>&1
	expect_eq "install-cni.sh run $i exits 0" 0 $?
done
expect_ok "install-cni.sh installed bulkhead-cni" cmp -s "$BH_CNI" "$D/cni/bin/bulkhead-cni"
expect_eq "00-bulkhead.conflist = primary + bulkhead-cni, once" \
	'cbr0 bridge,portmap,bulkhead-cni monitor /var/lib/bulkhead /sys/fs/bpf/bulkhead' \
	"$(jq -r '"\(.name) \([.plugins[].type] | join(",")) \(.plugins[-1] | "\(.mode) \(.stateDir) \(.bpffs)")"' \
		"$D/cni/net.d/00-bulkhead.conflist")"
