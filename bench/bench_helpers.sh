#!/usr/bin/env bash
# What the kernel's building blocks cost on the machine running it, measured
# the way bench_prog measures bulkhead (BPF_PROG_TEST_RUN, 10^6 repetitions,
# median of RUNS runs), with the programs of bench/bpf/helpers.bpf.c: an
# empty XDP program, a hash lookup that hits (20-byte LRU key, 8-byte
# key), an array lookup, and a call into a global function against the
# same work inline. docs/performance.md reads bulkhead's figures against
# these. Prints human lines, then one JSON line.
# Env: BUILD (build dir), RUNS (5).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
TAG=$$
PIN=/sys/fs/bpf/bh-helpers-$TAG
OBJ=$BUILD/bench/helpers.bpf.o
PKT=$(mktemp /tmp/bh-helpers-pkt.XXXXXX)

cleanup() { rm -rf "$PIN" "$PIN-maps" "$PKT"; }
trap cleanup EXIT
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$BUILD/bench"
clang -O2 -g -Wall -Werror -target bpf -I"/usr/include/$(gcc -dumpmachine)" \
	-c bench/bpf/helpers.bpf.c -o "$OBJ" || exit 1
bpftool prog loadall "$OBJ" "$PIN" pinmaps "$PIN-maps" || exit 1
head -c 64 /dev/zero >"$PKT"

# the one key each lookup program builds (ifindex 1), with a zero value
zeros=$(printf '0 %.0s' $(seq 64))
bpftool map update pinned "$PIN-maps/lru20" \
	key 1 0 0 0  2 0 0 0  3 0  4 0  6 0 0 0  7 0 0 0 value $zeros || exit 1
bpftool map update pinned "$PIN-maps/hash8" key 1 0 0 0 0 0 0 0 value $zeros || exit 1

# median ns of RUNS runs of 10^6 repetitions; the program must pass
measure() {
	local prog=$1 i out ns=()
	for ((i = 0; i < RUNS; i++)); do
		out=$(bpftool prog run pinned "$PIN/$prog" data_in "$PKT" repeat 1000000) || return 1
		case $out in *"Return value: 2,"*) ;; *) echo "$prog did not pass: $out" >&2; return 1 ;; esac
		ns+=("$(sed -n 's/.*duration (average): \([0-9]*\)ns.*/\1/p' <<<"$out")")
	done
	printf '%s\n' "${ns[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}

json=""
for p in empty lookup_lru20 lookup_hash8 lookup_array call_inline call_global; do
	v=$(measure "$p") || exit 1
	printf '  %-14s %4s ns/packet\n' "$p" "$v"
	eval "ns_$p=$v"
	json+="${json:+, }\"helper_${p}_ns\": $v"
done
# shellcheck disable=SC2154  # set by eval above
echo "  a hash lookup that hits costs $((ns_lookup_lru20 - ns_empty)) ns (20-byte LRU key)," \
	"$((ns_lookup_hash8 - ns_empty)) ns (8-byte key); an array lookup $((ns_lookup_array - ns_empty)) ns;" \
	"a call into a global function $((ns_call_global - ns_call_inline)) ns"
echo "{$json}"
