#!/usr/bin/env bash
# ARP anti-spoofing under the nftables backend (its arp table) against the
# BPF data path's: a workload asks the host for its gateway's MAC with its
# own address as the sender (answered), with an address it does not own
# (dropped), and as an address conflict probe, sender 0.0.0.0 (it leaves,
# but the host's answer, about 0.0.0.0, is not about an address of the
# workload's and drops on the way in: "not ours"). Without bulkhead all
# three are answered, so a drop is the checks'; both backends must agree on
# each. Under nftables the agent must also record the spoofed ARP (spoof,
# spoof-arp) and the dropped answer (not-ours) from the table's log, and
# no spoof for the probe.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init nflarp
T=nfl$BH_TAG
command -v jq >/dev/null || bh_skip "jq not installed"
/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || bh_skip "scapy (python3-scapy) not installed"

bh_mk_workload $T-a "$T"a 10.119.3.10/32 10.119.3.1
# the spoofed sender, routed back to the workload: only the ARP check stops it
ip route replace 10.119.3.99/32 dev "$T"a; bh_on_exit "ip route del 10.119.3.99/32"
D=$(mktemp -d /tmp/bh-nflarp.XXXXXX); bh_on_exit "rm -rf $D"

# "ok" if the host answers who-has 10.119.3.1 from sender $1
ask() {
	ip netns exec $T-a /usr/bin/python3 - "$1" <<'PY'
import sys
from scapy.all import ARP, Ether, conf, srp1
conf.verb = 0
r = srp1(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc=sys.argv[1], pdst="10.119.3.1"),
         iface="eth0", timeout=1)
print("ok" if r is not None and ARP in r and r[ARP].op == 2 and r[ARP].psrc == "10.119.3.1" else "no")
PY
}
matrix() { echo "own $(ask 10.119.3.10)"; echo "spoofed $(ask 10.119.3.99)"; echo "probe $(ask 0.0.0.0)"; }

matrix >$D/none
expect_eq "no enforcement: every ARP request answered" "own ok
spoofed ok
probe ok" "$(cat $D/none)"

for be in bpf nftables; do
	echo "backend = $be" >"$BULKHEAD_STATE_DIR/config"
	expect_ok "$be: attach" $BH attach "$T"a --workload shop/web --ip 10.119.3.10
	if [ $be = nftables ]; then
		echo "syslog: {target: \"unix:$D/syslog.sock\", flows: false}" >$D/agent.yaml
		t0=$(bh_now_ms)
		$BH agent --config $D/agent.yaml >>$D/agent.log 2>&1 &
		AGENT=$!
		bh_on_exit "kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null"
		bh_show_on_fail $D/agent.log
		bh_wait_agent "$t0"
	fi
	matrix >$D/$be
	sed "s/^/  $be: /" $D/$be
	if [ $be = nftables ]; then
		spoof_flow() {
			$BH flows --workload shop/web --limit 0 --json |
				jq -e 'any(.[]; .src == "10.119.3.99" and .verdict == "spoof" and .reason == "spoof-arp")'
		}
		bh_wait 50 spoof_flow
		expect_ok "nftables: the agent recorded the spoofed ARP" spoof_flow
		expect_ok "nftables: the agent recorded the answer to the probe as not ours" \
			bash -c "$BH flows --workload shop/web --limit 0 --json | jq -e 'any(.[];
				.src == \"10.119.3.1\" and .dst == \"0.0.0.0\" and .reason == \"not-ours\")'"
		expect_ok "nftables: the probe itself passed (no spoof record from 0.0.0.0)" \
			bash -c "$BH flows --workload shop/web --limit 0 --json | jq -e 'all(.[];
				.src != \"0.0.0.0\")'"
		$BH flows --workload shop/web --limit 0 --json |
			jq -c '.[] | {dir, src, dst, verdict, reason}' | sed 's/^/  flow: /'
		kill $AGENT; wait $AGENT 2>/dev/null
	fi
	expect_ok "$be: reset" $BH reset --yes
done
expect_eq "bpf: the spoofed sender dropped, the answer to the probe too" "own ok
spoofed no
probe no" "$(cat $D/bpf)"
expect_eq "nftables agrees with bpf" "$(cat $D/bpf)" "$(cat $D/nftables)"
expect_ok "reset removed the arp table" bash -c "! nft list tables | grep -q 'arp bulkhead_'"
