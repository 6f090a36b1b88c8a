# Sourced by the control-plane benches: one workload's veth in a netns of
# its own, an instance of its own (bpffs pins and state dir), all removed
# on exit. The caller sets BH (the CLI), and before sourcing:
#   BENCH_NAME  a short name for the instance's paths ("apply")
#   BENCH_IP    the workload's address (IPv4, /32 in its netns)
# and gets NS, HOSTIF, IP and WORK (a scratch directory).
TAG=$(printf '%03x' $(( (RANDOM + $$) % 4096 )))
NS=bh$BENCH_NAME-$TAG HOSTIF=hb${BENCH_NAME:0:3}$TAG IP=$BENCH_IP
WORK=$(mktemp -d "/tmp/bh-bench-$BENCH_NAME.XXXXXX")
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-bench-$BENCH_NAME-$TAG
export BULKHEAD_STATE_DIR=$WORK/state
cleanup() {
	"$BH" reset --yes >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	ip link del "$HOSTIF" 2>/dev/null
	rm -rf "$BULKHEAD_BPFFS" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$BULKHEAD_STATE_DIR"
ip netns add "$NS" || exit 2
ip link add "$HOSTIF" type veth peer name eth0 netns "$NS" || exit 2
ip -n "$NS" addr add "$IP/32" dev eth0
ip -n "$NS" link set eth0 up
ip link set "$HOSTIF" up
