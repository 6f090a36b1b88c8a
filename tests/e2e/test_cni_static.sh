#!/usr/bin/env bash
# bulkhead-cni stands alone: statically linked (ldd: not a dynamic
# executable), none of the agent's code in it (syslog, HTTP, pcap, flow
# store, baselines, metrics), and it answers the CNI protocol inside an
# empty root that holds nothing but the binary (no host library at all).
source "$(dirname "$0")/../lib/common.sh"
bh_test_init cnistatic

expect_ok "ldd: not a dynamic executable" bash -c "ldd '$BH_CNI' 2>&1 | grep -q 'not a dynamic executable'"
expect_eq "no ELF interpreter" "" "$(readelf -l "$BH_CNI" | grep -i 'program interpreter')"
expect_eq "no NEEDED library" "" "$(readelf -d "$BH_CNI" 2>/dev/null | grep NEEDED)"
for pat in bh_syslog bh_metrics bh_capture bh_flowstore bh_baseline bh_netmap bh_detect \
	   bh_agent_run pcap_open nftnl_ MHD_ gnutls_; do
	expect_eq "no $pat code linked" 0 "$(nm "$BH_CNI" | grep -c " [TtDd] $pat")"
done
size=$(stat -c %s "$BH_CNI")
echo "bulkhead-cni: $size bytes"

R=$BULKHEAD_STATE_DIR/root
mkdir -p "$R"
cp "$BH_CNI" "$R/bulkhead-cni"
out=$(echo '{"cniVersion":"1.0.0"}' | CNI_COMMAND=VERSION chroot "$R" /bulkhead-cni); rc=$?
expect_eq "VERSION in an empty root: exit 0" 0 "$rc"
expect_eq "VERSION in an empty root: versions listed" '"1.1.0"' \
	"$(jq -c '.supportedVersions | map(select(. == "1.1.0")) | .[0]' <<<"$out")"
out=$(echo '{"cniVersion":"1.0.0","name":"x","type":"bulkhead-cni"}' |
	CNI_COMMAND=BOGUS chroot "$R" /bulkhead-cni); rc=$?
expect_eq "bad command in an empty root: CNI error on stdout, exit 1" "1:4" "$rc:$(jq .code <<<"$out")"
