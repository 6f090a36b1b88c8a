#!/usr/bin/env bash
# Time bulkhead-cni adds to a container's network setup: the CNI ADD of
# the whole chain (bridge + host-local [+ bulkhead-cni]) for N containers
# (default 20) each, with and without bulkhead-cni, interleaved, run the
# way libcni runs it (tests/lib/cni_driver.py, real plugins, a real netns
# per container). Containers stay up until the end, so the Nth ADD also
# pays for the N-1 workloads before it (bulkhead-cni recompiles policy
# for the instance). Prints medians, the added time and the ratio; the
# first ADD, which loads and pins the BPF programs, is reported apart.
# bulkhead-cni runs against three instances: the default (tc_attach =
# auto: a pod's TC programs go on clsact at birth and the agent, not run
# here, moves them to tcx later), tc_attach = clsact, and tc_attach = tcx
# (at birth too). Where an ADD's time goes (strace -T of one): each tcx
# attach waits for an RCU grace period (the kernel syncs before it
# returns); the clsact filter does not wait, nor does the new workload's
# policy (written in place into its slot's own map, lib/core/policy_slot.h).
#
#   BUILD=build bench/bench_cni.sh [N]
#   (BENCH_CNI_NET=A.B: the four bridges' /24s are A.B.1-4.0; 10.195 by default)
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${1:-20}
NET=${BENCH_CNI_NET:-10.195}
[ "$(id -u)" = 0 ] || { echo "bench_cni: needs root (netns, bridge, BPF)" >&2; exit 2; }
[ -x "$BUILD/bulkhead-cni" ] || { echo "bench_cni: build $BUILD/bulkhead-cni first" >&2; exit 2; }
for p in bridge host-local; do
	[ -x /usr/lib/cni/$p ] || { echo "bench_cni: skipped: /usr/lib/cni/$p missing"; exit 0; }
done

TAG=$(printf '%03x' $(( (RANDOM + $$) % 4096 )))
W=/tmp/bh-bench-cni-$TAG
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-bench-cni-$TAG
export BULKHEAD_STATE_DIR=$W/state
BPFFS_CLS=$BULKHEAD_BPFFS-cls STATE_CLS=$W/state-cls
BPFFS_TCX=$BULKHEAD_BPFFS-tcx STATE_TCX=$W/state-tcx
BR_P=bcbp${TAG} BR_C=bcbc${TAG} BR_K=bcbk${TAG} BR_T=bcbt${TAG}
NETNS=()
mkdir -p "$W"/{bin,ipam,cache,state,state-cls,state-tcx}
echo "tc_attach = clsact" >"$STATE_CLS/config"
echo "tc_attach = tcx" >"$STATE_TCX/config"
ln -s "$BUILD/bulkhead-cni" "$W/bin/bulkhead-cni"

cleanup() {
	for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	ip link del "$BR_P" 2>/dev/null
	ip link del "$BR_C" 2>/dev/null
	ip link del "$BR_K" 2>/dev/null
	ip link del "$BR_T" 2>/dev/null
	"$BUILD/bulkhead" reset --yes >/dev/null 2>&1
	BULKHEAD_BPFFS=$BPFFS_CLS BULKHEAD_STATE_DIR=$STATE_CLS "$BUILD/bulkhead" reset --yes >/dev/null 2>&1
	BULKHEAD_BPFFS=$BPFFS_TCX BULKHEAD_STATE_DIR=$STATE_TCX "$BUILD/bulkhead" reset --yes >/dev/null 2>&1
	rm -rf "$BULKHEAD_BPFFS" "$BPFFS_CLS" "$BPFFS_TCX" "$W"
}
trap cleanup EXIT

conflist() { # NAME BRIDGE SUBNET [STATE_DIR BPFFS: with bulkhead-cni]
	local extra=""
	[ $# -gt 3 ] && extra=",{\"type\":\"bulkhead-cni\",\"namespace\":\"bench\",\"stateDir\":\"$4\",\"bpffs\":\"$5\"}"
	cat <<EOF
{"cniVersion":"1.0.0","name":"$1","plugins":[
 {"type":"bridge","bridge":"$2","isGateway":true,"ipMasq":false,
  "ipam":{"type":"host-local","dataDir":"$W/ipam","ranges":[[{"subnet":"$3"}]]}}$extra]}
EOF
}
conflist bench-plain-$TAG "$BR_P" $NET.1.0/24 >"$W/plain.conflist"
conflist bench-bh-$TAG "$BR_C" $NET.2.0/24 "$BULKHEAD_STATE_DIR" "$BULKHEAD_BPFFS" >"$W/bh.conflist"
conflist bench-bhc-$TAG "$BR_K" $NET.3.0/24 "$STATE_CLS" "$BPFFS_CLS" >"$W/bhc.conflist"
conflist bench-bht-$TAG "$BR_T" $NET.4.0/24 "$STATE_TCX" "$BPFFS_TCX" >"$W/bht.conflist"

drv() { # VARIANT CMD CID: one chain command, timing appended to W/VARIANT.timing
	python3 "$ROOT/tests/lib/cni_driver.py" "$2" --conflist "$W/$1.conflist" \
		--cache-dir "$W/cache" --cni-path "$W/bin:/usr/lib/cni" --cid "$3" \
		--netns "/run/netns/$3" --args "IgnoreUnknown=1" --timing "$W/$1.timing" >/dev/null
}
mkns() { ip netns add "$1" && NETNS+=("$1"); }

# Warm-up: the first bulkhead-cni ADD of an instance loads and pins the
# programs and maps; measured apart, then removed.
VARIANTS="plain bh bhc bht"
code() { case $1 in plain) echo p ;; bh) echo b ;; bhc) echo c ;; *) echo t ;; esac; }
wname() { printf 'bcb%s%sw' "$TAG" "$(code "$1")"; }
for v in $VARIANTS; do
	mkns "$(wname $v)" && drv $v add "$(wname $v)" ||
		{ echo "bench_cni: warm-up ADD failed ($v)" >&2; exit 1; }
done
for v in $VARIANTS; do drv $v del "$(wname $v)"; done
mv "$W/bh.timing" "$W/warm.timing"
rm -f "$W/plain.timing" "$W/bhc.timing" "$W/bht.timing"

# Container ids unique in their first 12 characters (the workload name).
cid() { printf 'bcb%s%s%03d' "$TAG" "$(code "$1")" "$2"; }
for i in $(seq 1 "$N"); do
	for v in $VARIANTS; do
		mkns "$(cid $v $i)" && drv $v add "$(cid $v $i)" ||
			{ echo "bench_cni: ADD $v $i failed" >&2; exit 1; }
	done
done
for i in $(seq 1 "$N"); do
	for v in $VARIANTS; do drv $v del "$(cid $v $i)"; done
done

python3 - "$W" "$N" <<'EOF'
import json, statistics, sys
from collections import defaultdict
w, n = sys.argv[1], int(sys.argv[2])

def load(name):
    with open(f"{w}/{name}.timing") as f:
        return [json.loads(l) for l in f]

def per_container(rows, command, plugin=None):
    tot = defaultdict(float)
    for r in rows:
        if r["command"] == command and (plugin is None or r["plugin"] == plugin):
            tot[r["cid"]] += r["ms"]
    return list(tot.values())

plain, bh, bhc, bht, warm = load("plain"), load("bh"), load("bhc"), load("bht"), load("warm")
def med(v): return statistics.median(v) if v else float("nan")
pa, ba = per_container(plain, "ADD"), per_container(bh, "ADD")
pb = per_container(bh, "ADD", "bulkhead-cni")
ca, cb = per_container(bhc, "ADD"), per_container(bhc, "ADD", "bulkhead-cni")
ta, tb = per_container(bht, "ADD"), per_container(bht, "ADD", "bulkhead-cni")
pd, bd = per_container(plain, "DEL"), per_container(bh, "DEL")
first = [r["ms"] for r in warm if r["command"] == "ADD" and r["plugin"] == "bulkhead-cni"]
print(f"CNI ADD, chain bridge + host-local, median over {n} containers (wall ms, per container)")
print(f"  without bulkhead-cni      {med(pa):8.1f} ms  (min {min(pa):.1f}, max {max(pa):.1f})")
print(f"  with bulkhead-cni (auto: clsact at birth) {med(ba):8.1f} ms  (min {min(ba):.1f}, max {max(ba):.1f})")
print(f"  bulkhead-cni ADD alone    {med(pb):8.1f} ms  (min {min(pb):.1f}, max {max(pb):.1f})")
print(f"  added by bulkhead-cni     {med(ba) - med(pa):8.1f} ms  ratio with/without {med(ba) / med(pa):.2f}x")
print(f"  tc_attach = clsact: with  {med(ca):8.1f} ms, bulkhead-cni alone {med(cb):.1f} ms, added {med(ca) - med(pa):.1f} ms")
print(f"  tc_attach = tcx: with     {med(ta):8.1f} ms, bulkhead-cni alone {med(tb):.1f} ms, added {med(ta) - med(pa):.1f} ms")
print(f"  first ADD of an instance  {first[0] if first else float('nan'):8.1f} ms  (loads and pins the BPF programs)")
print(f"CNI DEL, median: without {med(pd):.1f} ms, with {med(bd):.1f} ms, ratio {med(bd) / med(pd):.2f}x")
print(json.dumps({"cni_add_plain_ms": round(med(pa), 2), "cni_add_with_bulkhead_ms": round(med(ba), 2),
                  "cni_add_bulkhead_alone_ms": round(med(pb), 2),
                  "cni_add_added_ms": round(med(ba) - med(pa), 2),
                  "cni_add_ratio": round(med(ba) / med(pa), 2),
                  "cni_add_added_clsact_ms": round(med(ca) - med(pa), 2),
                  "cni_add_bulkhead_alone_clsact_ms": round(med(cb), 2),
                  "cni_add_added_tcx_ms": round(med(ta) - med(pa), 2),
                  "cni_add_bulkhead_alone_tcx_ms": round(med(tb), 2),
                  "cni_del_plain_ms": round(med(pd), 2), "cni_del_with_bulkhead_ms": round(med(bd), 2)}))
EOF
