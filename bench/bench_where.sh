#!/usr/bin/env bash
# Where a new flow's time goes (and a denied packet's): bench_prog measures
# one figure (--profile, 1k policy entries, 10 prefixes) pinned to one CPU
# while perf samples that CPU with call chains; bench/perf_where.py splits
# the program's samples into its own instructions and each kernel function
# it called (conntrack insert, hash and LPM lookups, ring buffer, clock),
# and scales the shares by the measured ns per packet. Each part also
# names the source lines it was spent at (bench_prog --lines: the
# program's lines by JIT address), so the split tells one hash lookup from
# another.
#
# Sampling is by the software cpu-clock (this VM has no hardware PMU), at
# PERF_FREQ Hz; a sample lands where the program was when the timer fired,
# so a part's share is its share of the time within about 1/sqrt(samples).
# Prints human lines, then one JSON line.
#
# Then the unanswered 64-byte UDP and the TCP connections of the veth
# path: one round of bench/veth_path.sh (no filter, the empty TC program,
# bulkhead on tc) with WHERE=1, of which only the split is shown (its
# figures, taken under the profiler, are not kept: veth_path measures them
# on its own).
#
# Env: BUILD (build), CPU (1), PERF_FREQ (4999), WHERE_FLOWS (300000),
#      WHAT ("xdp-new tc-new xdp-denied"), WHERE_UDP (1; 0 leaves it out).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
CPU=${CPU:-1}
PERF_FREQ=${PERF_FREQ:-4999}
WHERE_FLOWS=${WHERE_FLOWS:-300000}
WHAT=${WHAT:-xdp-new tc-new xdp-denied}
PROG=$BUILD/bench/bench_prog

[ -x "$PROG" ] || { echo "bench_where: $PROG is not built" >&2; exit 2; }
command -v perf >/dev/null || { echo "bench_where: perf is missing (apt-get install linux-perf)" >&2; exit 2; }
[ "$(cat /proc/sys/net/core/bpf_jit_kallsyms 2>/dev/null)" = 1 ] ||
	{ echo "bench_where: net.core.bpf_jit_kallsyms is not 1: perf cannot name BPF programs" >&2; exit 2; }

WORK=$(mktemp -d /tmp/bh-bench-where.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

JSON='{}'
echo "where the time goes: perf cpu-clock at $PERF_FREQ Hz on CPU $CPU," \
	"bench_prog --profile (1k policy entries, 10 prefixes), $WHERE_FLOWS new flows"
for w in $WHAT; do
	case $w in
	xdp-*) match=bh_xdp_ ;;
	tc-*) match=bh_tc_ ;;
	*) echo "bench_where: unknown figure $w" >&2; continue ;;
	esac
	perf record -q -F "$PERF_FREQ" -g -C "$CPU" -o "$WORK/$w.data" -- \
		taskset -c "$CPU" "$PROG" --profile "$w" --runs 5 --repeat 1000000 \
		--new-flows "$WHERE_FLOWS" --lines "$WORK/$w.lines" >"$WORK/$w.out" 2>&1
	ns=$(sed -n 's/.*"profile_ns": \([0-9.]*\).*/\1/p' "$WORK/$w.out")
	if [ -z "$ns" ]; then
		echo "bench_where: $w: bench_prog gave no figure:" >&2
		cat "$WORK/$w.out" >&2
		continue
	fi
	echo "  $w: $ns ns per packet (under the profiler), of which:"
	key=$(echo "where_$w" | tr '-' '_')
	lines=()
	[ -s "$WORK/$w.lines" ] && lines=(--lines "$WORK/$w.lines")	# else no call sites
	perf script -i "$WORK/$w.data" -F comm,ip,sym 2>/dev/null |
		python3 bench/perf_where.py --prog "$match" --ns-per-packet "$ns" --prefix "$key" \
		"${lines[@]}" >"$WORK/$w.where"
	grep -v '^{' "$WORK/$w.where"
	part=$(grep '^{' "$WORK/$w.where" | tail -n 1)
	JSON=$(python3 -c 'import json,sys; a=json.loads(sys.argv[1]); a.update(json.loads(sys.argv[2])); a[sys.argv[3]]=float(sys.argv[4]); print(json.dumps(a))' \
		"$JSON" "${part:-{\}}" "${key}_ns" "$ns")
done
if [ "${WHERE_UDP:-1}" != 0 ]; then
	echo "  unanswered 64-byte UDP and TCP connections on the veth path (bench/veth_path.sh," \
		"one round, WHERE=1):"
	ROUNDS=1 PHASES="udp crr" MODES="nofilter tcempty tc" WHERE=1 BUILD=$BUILD \
		bash bench/veth_path.sh 2>&1 | grep -v '^{' |
		sed -n '/where the time goes/,/^  round\|^  medians/p' | grep -v '^  round\|^  medians' |
		sed 's/^/  /'
fi
echo "$JSON"
