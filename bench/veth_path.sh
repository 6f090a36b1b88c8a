#!/usr/bin/env bash
# The veth path: client netns -> host (routing) -> server netns, with
# 1000 ingress rules (plus the client's own allow rule) on the server's
# workload. For each configuration:
#   nofilter   no filter at all
#   tcempty    an empty TC program (bench/tc_floor) on both tcx hooks of
#              both host veths: the floor of any TC filter on this path
#   tc, xdp    bulkhead on both host veths, container egress on TC or XDP
#   nft        nftables: the same policy compiled by bulkhead's compiler to
#              one verdict map (saddr . proto . dport) on the forward hook
# it measures TCP throughput (iperf3, 1 and 4 streams), unanswered 64-byte
# UDP packets delivered per second (trafgen: 1024 flows of the client to an
# address routed to the server that nobody answers; counted on the
# server's eth0 rx counter) and TCP connections per second (bench/crr).
# Every figure is the median of ROUNDS rounds; configurations take turns
# inside a round so that background load spreads over all of them. Five
# rounds, not three: single-stream TCP through tc, nftables and no filter
# differs by less than a round-to-round swing (17-21 Gbit/s for one
# configuration in one run), so three rounds made tcp1 ratios coin flips.
# Prints human lines, then one JSON line. Everything it creates carries a
# unique tag and is removed on exit.
#
# With WHERE=1, perf samples every CPU during each mode's UDP and
# connection phases and bench/perf_where.py prints what bulkhead's programs
# (tc, xdp) spent per delivered packet and per connection, split like
# bench_where.sh's, next to the floor's.
#
# Env: BUILD (build dir), ROUNDS (5), TCP_SECS (4), UDP_SECS (3),
#      CRR_SECS (3), MODES ("nofilter tcempty tc xdp nft"), DEFAULT_HOOK (tc),
#      PHASES ("tcp udp crr": the figures to measure), WHERE (unset),
#      PERF_FREQ (4999).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
ROUNDS=${ROUNDS:-5}
TCP_SECS=${TCP_SECS:-4}
UDP_SECS=${UDP_SECS:-3}
CRR_SECS=${CRR_SECS:-3}
MODES=${MODES:-nofilter tcempty tc xdp nft}
PHASES=" ${PHASES:-tcp udp crr} "
DEFAULT_HOOK=${DEFAULT_HOOK:-tc}
NRULES=${NRULES:-1000}

BH=$BUILD/bulkhead
CRR=$BUILD/bench/crr
NFT=$BUILD/bench/bench_nft
FLOOR=$BUILD/bench/tc_floor
for b in "$BH" "$CRR" "$NFT" "$FLOOR"; do
	[ -x "$b" ] || { echo "veth_path: $b is not built (make BUILD=... all)" >&2; exit 2; }
done
for t in iperf3 trafgen ip python3; do
	command -v "$t" >/dev/null || { echo "veth_path: $t is missing" >&2; exit 2; }
done

TAG=$(printf '%03x' $(( (RANDOM + $$) % 4096 )))
NSC=bhb-c-$TAG NSS=bhb-s-$TAG
HC=hbc$TAG HS=hbs$TAG
GW=10.231.0.1 CIP=10.231.1.2 SIP=10.231.2.2 SINK=10.231.2.99
TABLE=bhbench_$TAG
WORK=$(mktemp -d /tmp/bh-bench-veth.XXXXXX)
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-bench-$TAG
export BULKHEAD_STATE_DIR=$WORK/state
PIDS=()
OLD_FWD=$(sysctl -n net.ipv4.ip_forward)

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$BH" reset --yes >/dev/null 2>&1
	"$NFT" delete "$TABLE" >/dev/null 2>&1
	"$FLOOR" detach "$HC" "$HS" >/dev/null 2>&1
	ip netns del "$NSC" 2>/dev/null
	ip netns del "$NSS" 2>/dev/null
	ip link del "$HC" 2>/dev/null
	ip link del "$HS" 2>/dev/null
	ip route del "$SINK/32" 2>/dev/null
	sysctl -qw net.ipv4.ip_forward="$OLD_FWD"
	rm -rf "$BULKHEAD_BPFFS" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$BULKHEAD_STATE_DIR"

# ---------------------------------------------------------------- topology
mk_ns() {	# NS HOSTIF ADDR
	ip netns add "$1"
	ip link add "$2" type veth peer name eth0 netns "$1"
	ip -n "$1" addr add "$3/32" dev eth0
	ip -n "$1" link set lo up
	ip -n "$1" link set eth0 up
	ip link set "$2" up
	ip addr add "$GW/32" dev "$2" 2>/dev/null
	ip route replace "$3/32" dev "$2"
	ip -n "$1" route add "$GW/32" dev eth0
	ip -n "$1" route add default via "$GW" dev eth0
	sysctl -qw "net.ipv4.conf.$2.proxy_arp=1"
	# a new netns may inherit the host's forwarding=1: the sink's packets
	# would bounce back to the host and loop until their TTL runs out
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=0
}
sysctl -qw net.ipv4.ip_forward=1
mk_ns "$NSC" "$HC" "$CIP" || exit 2
mk_ns "$NSS" "$HS" "$SIP" || exit 2
# The sink: routed to the server's veth, owned by nobody; the server netns
# does not forward, so it drops what arrives there silently (no ICMP).
SMAC=$(ip -n "$NSS" -br link show eth0 | awk '{print $3}')
HCMAC=$(ip -br link show "$HC" | awk '{print $3}')
CMAC=$(ip -n "$NSC" -br link show eth0 | awk '{print $3}')
ip route replace "$SINK/32" dev "$HS"
ip neigh replace "$SINK" lladdr "$SMAC" dev "$HS" nud permanent
ip -n "$NSC" neigh replace "$GW" lladdr "$HCMAC" dev eth0 nud permanent

# ------------------------------------------------------------------ policy
# 1000 rules of other peers (one /32 and one TCP port each), then the
# client's rule, last, so a linear walk would pay for all of them.
POL=$WORK/policy.yaml
{
	python3 bench/gen_rules.py "$NRULES" 10.232 1000 100 srv-in
	cat <<'EOF'
  - from: [{podSelector: {matchLabels: {app: cli}}}]
    ports: [{protocol: TCP, port: 5201}, {protocol: TCP, port: 7000}, {protocol: UDP, port: 9000}]
EOF
} >"$POL"

TRAFGEN_CONF=$WORK/udp64.cfg
cat >"$TRAFGEN_CONF" <<EOF
{
  eth(da=$HCMAC, sa=$CMAC),
  ipv4(saddr=$CIP, daddr=$SINK, ttl=64),
  udp(sport=dinc(10000, 11023), dport=9000),
  fill(0x41, 18)
}
EOF

setup_mode() {
	case $1 in
	nofilter) return 0 ;;
	tcempty) "$FLOOR" attach "$HC" "$HS" >/dev/null ;;
	tc|xdp)
		"$BH" namespace label bhbench team=bench >/dev/null &&
		"$BH" attach "$HC" --workload bhbench/cli --ip "$CIP" --label app=cli --hook "$1" >/dev/null &&
		"$BH" attach "$HS" --workload bhbench/srv --ip "$SIP" --ip "$SINK" --label app=srv --hook "$1" >/dev/null &&
		"$BH" policy apply -f "$POL" >/dev/null ;;
	nft)
		"$NFT" install "$TABLE" "$HS" "$POL" "bhbench/srv,$SIP,app=srv" \
			"bhbench/cli,$CIP,app=cli" >/dev/null ;;
	esac
}

teardown_mode() {
	case $1 in
	tc|xdp) "$BH" reset --yes >/dev/null 2>&1; mkdir -p "$BULKHEAD_STATE_DIR" ;;
	nft) "$NFT" delete "$TABLE" >/dev/null 2>&1 ;;
	tcempty) "$FLOOR" detach "$HC" "$HS" >/dev/null 2>&1 ;;
	esac
	return 0
}

# ------------------------------------------------------------- workloads
ip netns exec "$NSS" iperf3 -s -p 5201 >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec "$NSS" "$CRR" -s 7000 -t 900 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5

tcp_gbps() {	# STREAMS
	ip netns exec "$NSC" timeout $((TCP_SECS + 15)) iperf3 -c "$SIP" -p 5201 -t "$TCP_SECS" \
		-P "$1" -J 2>/dev/null |
	python3 -c 'import json,sys
try: print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print("nan")'
}

rx_packets() { ip netns exec "$NSS" cat /sys/class/net/eth0/statistics/rx_packets; }

perf_start() {	# NAME SECS: samples every CPU for SECS when WHERE is set
	PERF_PID=
	[ -n "${WHERE:-}" ] || return 0
	perf record -q -a -g -F "${PERF_FREQ:-4999}" -o "$WORK/perf.$1" -- sleep "$2" \
		>/dev/null 2>&1 &
	PERF_PID=$!
}

perf_wait() { [ -n "$PERF_PID" ] && wait "$PERF_PID"; return 0; }

udp64_kpps() {	# MODE ROUND
	local before after t0 t1
	perf_start "udp.$1.$2" "$UDP_SECS"
	before=$(rx_packets)
	t0=$(date +%s.%N)
	ip netns exec "$NSC" timeout -s INT "$UDP_SECS" trafgen --dev eth0 --conf "$TRAFGEN_CONF" \
		--cpus 1 -q >/dev/null 2>&1
	t1=$(date +%s.%N)
	sleep 0.2
	after=$(rx_packets)
	perf_wait
	echo "$1 $2 $((after - before))" >>"$WORK/count.udp"
	python3 -c "print('%.1f' % (($after - $before) / ($t1 - $t0) / 1e3))"
}

# What the filter's programs spent per delivered UDP packet or per
# connection (WHERE=1): the samples inside them, times the sampling period,
# over the packets the server received or the connections made while perf
# ran (the same seconds, give or take the start-up of the sender).
# The phase's count of the round is in $WORK/count.PHASE.
where_split() {	# PHASE MODE ROUND WHAT PER
	local data=$WORK/perf.$1.$2.$3 match n
	[ -s "$data" ] || return 0
	case $2 in tc|xdp) match=bh_tc_,bh_xdp_ ;; tcempty) match=bh_tc_floor ;; *) match=- ;; esac
	n=$(awk -v m="$2" -v r="$3" '$1 == m && $2 == r { print $3 }' "$WORK/count.$1")
	[ -n "$n" ] && [ "$n" -gt 0 ] || return 0
	echo "  where the time goes, round $3, $2 ($1 phase, $n $4):"
	perf script -i "$data" -F comm,ip,sym 2>/dev/null |
		python3 bench/perf_where.py --prog "$match" --prefix "where_$1_$2" --per "$5" \
			--ns-per-sample "$(python3 -c "print(1e9 / ${PERF_FREQ:-4999} / $n)")" |
		grep -v '^{'
	rm -f "$data"
}

crr_rate() {	# MODE ROUND
	local rate
	perf_start "crr.$1.$2" "$CRR_SECS"
	rate=$(ip netns exec "$NSC" timeout $((CRR_SECS + 15)) "$CRR" -c "$SIP" 7000 \
		-t "$CRR_SECS" 2>/dev/null | tail -n 1)
	perf_wait
	echo "$1 $2 $(python3 -c "print(int(float('$rate' or 0) * $CRR_SECS))" 2>/dev/null)" \
		>>"$WORK/count.crr"
	echo "$rate"
}


check_path() {	# the allowed traffic really passes in this mode
	ip netns exec "$NSC" timeout 5 "$CRR" -c "$SIP" 7000 -t 0.2 >/dev/null 2>&1
}

RES=$WORK/results
: >"$RES"
echo "veth path: client netns -> host -> server netns, $NRULES rules on the server; $ROUNDS rounds;" \
	"iperf3 ${TCP_SECS}s, trafgen ${UDP_SECS}s, crr ${CRR_SECS}s"
for ((r = 1; r <= ROUNDS; r++)); do
	for m in $MODES; do
		if ! setup_mode "$m"; then
			echo "veth_path: cannot set up mode $m, skipped" >&2
			teardown_mode "$m"
			continue
		fi
		if ! check_path; then
			echo "veth_path: allowed traffic does not pass in mode $m, skipped" >&2
			teardown_mode "$m"
			continue
		fi
		t1=nan t4=nan u=nan c=nan
		if [[ $PHASES == *" tcp "* ]]; then
			t1=$(tcp_gbps 1)
			t4=$(tcp_gbps 4)
		fi
		[[ $PHASES == *" udp "* ]] && u=$(udp64_kpps "$m" "$r")
		[[ $PHASES == *" crr "* ]] && c=$(crr_rate "$m" "$r")
		if [ -n "${BENCH_DEBUG:-}" ] && [[ $m == tc || $m == xdp ]]; then
			"$BH" stats >&2
		fi
		teardown_mode "$m"
		printf '  round %d %-9s tcp1 %7s Gbit/s  tcp4 %7s Gbit/s  udp64 %8s kpps  crr %8s conn/s\n' \
			"$r" "$m" "$t1" "$t4" "$u" "$c"
		if [ -n "${WHERE:-}" ]; then
			[[ $PHASES == *" udp "* ]] &&
				where_split udp "$m" "$r" "packets delivered" packet
			[[ $PHASES == *" crr "* ]] && where_split crr "$m" "$r" connections connection
		fi
		echo "$m tcp1_gbps $t1" >>"$RES"
		echo "$m tcp4_gbps $t4" >>"$RES"
		echo "$m udp64_kpps $u" >>"$RES"
		echo "$m crr_per_s $c" >>"$RES"
	done
done

python3 - "$RES" "$DEFAULT_HOOK" <<'EOF'
import json, math, statistics, sys
vals = {}
for line in open(sys.argv[1]):
    m, k, v = line.split()
    try:
        v = float(v)
    except ValueError:
        continue
    if not math.isnan(v):
        vals.setdefault((m, k), []).append(v)
med = {mk: statistics.median(v) for mk, v in vals.items()}
out = {}
for (m, k), v in sorted(med.items()):
    out[f"veth_{m}_{k}"] = round(v, 3)
def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None
default = sys.argv[2]
print("  medians:")
for m in ["nofilter", "tcempty", "tc", "xdp", "nft"]:
    row = [med.get((m, k)) for k in ("tcp1_gbps", "tcp4_gbps", "udp64_kpps", "crr_per_s")]
    if any(x is not None for x in row):
        print("    %-9s tcp1 %s Gbit/s  tcp4 %s Gbit/s  udp64 %s kpps  crr %s conn/s" % (m, *row))
for k, short in (("tcp1_gbps", "tcp1"), ("tcp4_gbps", "tcp4"), ("udp64_kpps", "udp64"),
                 ("crr_per_s", "crr")):
    # bulkhead over the floor: what is left to win on this path
    out[f"tcempty_{short}_over_nofilter"] = ratio(med.get(("tcempty", k)), med.get(("nofilter", k)))
    out[f"tc_{short}_over_tcempty"] = ratio(med.get(("tc", k)), med.get(("tcempty", k)))
for hook in ["tc", "xdp"]:
    pre = "" if hook == default else hook + "_"
    for k, short in (("tcp1_gbps", "tcp1"), ("tcp4_gbps", "tcp4"), ("udp64_kpps", "udp64"),
                     ("crr_per_s", "crr")):
        a = med.get((hook, k))
        out[f"{pre}{short}_over_nofilter"] = ratio(a, med.get(("nofilter", k)))
        out[f"{pre}{short}_over_nft_sets"] = ratio(a, med.get(("nft", k)))
    if hook == default:
        for k, short in (("tcp1_gbps", "tcp1"), ("tcp4_gbps", "tcp4"), ("udp64_kpps", "udp64"),
                         ("crr_per_s", "crr")):
            out[f"tc_{short}_over_nofilter" if hook == "tc" else f"xdp_{short}_over_nofilter"] = \
                out[f"{short}_over_nofilter"]
            out[f"tc_{short}_over_nft_sets" if hook == "tc" else f"xdp_{short}_over_nft_sets"] = \
                out[f"{short}_over_nft_sets"]
out["default_hook"] = default
print("  default mode %s: tcp1/nofilter %s, crr/nofilter %s, udp64/nofilter %s, udp64/nft %s,"
      " tcp1/nft %s" % (
    default, out.get("tcp1_over_nofilter"), out.get("crr_over_nofilter"),
    out.get("udp64_over_nofilter"), out.get("udp64_over_nft_sets"), out.get("tcp1_over_nft_sets")))
print("  floor (empty TC program): udp64/nofilter %s, crr/nofilter %s; tc over the floor: udp64 %s,"
      " crr %s" % (out.get("tcempty_udp64_over_nofilter"), out.get("tcempty_crr_over_nofilter"),
                   out.get("tc_udp64_over_tcempty"), out.get("tc_crr_over_tcempty")))
print(json.dumps(out))
EOF
