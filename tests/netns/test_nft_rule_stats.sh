#!/usr/bin/env bash
# Per-rule counters in `bulkhead stats` under the nftables backend, against
# the BPF data path's on the same traffic: web -> db TCP 80 allowed by a
# Kubernetes rule (db's ingress), web -> db UDP 53 denied by a native deny
# rule (web's egress). Each backend runs the same flows; both must count
# exactly the packets each rule decided (a connection's first packet, every
# denied datagram), with the same bytes but for the Ethernet header the
# BPF hooks see and nftables does not. Under nftables the counts must also
# outlive a table replace (a change that recompiles) and keep growing.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init nflstats
T=nfl$BH_TAG

bh_mk_workload $T-a "$T"a 10.119.1.10/32 10.119.1.1     # shop/web
bh_mk_workload $T-b "$T"b 10.119.1.20/32 10.119.1.1     # shop/db

P=$BULKHEAD_STATE_DIR/../nflstats-$BH_TAG-policy.yaml
bh_on_exit "rm -f $P"
cat >$P <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{protocol: TCP, port: 80}]
---
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: web-out, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  egress:
    - action: deny
      to: [{podSelector: {matchLabels: {app: db}}}]
      ports: [{protocol: UDP, port: 53}]
YAML

TCP_N=5 UDP_N=3
# "rule_id packets bytes" per rule, in rule id order
rule_stats() { $BH stats --json | jq -r '.rules[] | "\(.rule_id) \(.packets) \(.bytes)"'; }
# traffic: TCP_N answered connections and UDP_N unanswered datagrams
traffic() {
	local i
	for i in $(seq $TCP_N); do
		bh_tcp $T-a 10.119.1.20 80 || fail "$1: web -> db:80 not answered"
	done
	for i in $(seq $UDP_N); do
		bh_udp $T-a 10.119.1.20 53 && fail "$1: web -> db udp/53 answered"
	done
}

run_backend() {
	local be=$1 out=$2
	mkdir -p "$BULKHEAD_STATE_DIR"
	echo "backend = $be" >"$BULKHEAD_STATE_DIR/config"
	expect_ok "$be: attach web" $BH attach "$T"a --workload shop/web --ip 10.119.1.10 \
		--label app=web
	expect_ok "$be: attach db" $BH attach "$T"b --workload shop/db --ip 10.119.1.20 \
		--label app=db
	expect_ok "$be: apply policies" $BH policy apply -f $P
	expect_eq "$be: no rule has counted before the traffic" "" "$(rule_stats)"
	traffic $be
	rule_stats >$out
	if [ $be = nftables ]; then
		# a change that recompiles replaces the table: the counts stay
		expect_ok "nftables: namespace label (a table replace)" \
			$BH namespace label shop team=blue
		expect_eq "nftables: counts outlive the table replace" "$(cat $out)" "$(rule_stats)"
		traffic "nftables, again"
		expect_eq "nftables: counts grow with more traffic" \
			"$(awk '{print $1, 2 * $2, 2 * $3}' $out)" "$(rule_stats)"
	fi
	expect_ok "$be: reset" $BH reset --yes
}

bh_serve $T-b tcp 80
bh_serve $T-b udp 53
DIR=$(mktemp -d /tmp/bh-nflstats.XXXXXX); bh_on_exit "rm -rf $DIR"
run_backend bpf $DIR/bpf
run_backend nftables $DIR/nft
cat $DIR/bpf $DIR/nft | sed 's/^/  rule packets bytes: /'

# db's allow rule (id of policy shop/db) and web's deny rule: two rules
expect_eq "bpf: two rules counted" 2 "$(wc -l <$DIR/bpf)"
expect_eq "both backends count the same rules and packets" \
	"$(cut -d' ' -f1-2 $DIR/bpf)" "$(cut -d' ' -f1-2 $DIR/nft)"
expect_eq "the allow rule counts each connection's first packet" \
	"$TCP_N" "$(awk 'NR == 1 {print $2}' $DIR/nft)"
expect_eq "the deny rule counts each denied datagram" \
	"$UDP_N" "$(awk 'NR == 2 {print $2}' $DIR/nft)"
# BPF counts from the Ethernet header (14 bytes), nftables from the IP one
expect_eq "the bytes agree but for the Ethernet headers" \
	"$(awk '{print $1, $3 - 14 * $2}' $DIR/bpf)" "$(awk '{print $1, $3}' $DIR/nft)"
