#!/usr/bin/env bash
# Delivery figures: the size of bulkhead-cni (static) and of the image
# (docs/deploy/mkimage.sh into a private podman store), and the enforcement
# gap of `bulkhead upgrade`: while UDP flows to an allowed and to a denied
# port of an attached workload at a fixed rate, the programs are replaced
# UPGRADES times; the receiver counts what arrives per port. A packet that
# met no program would reach the denied port: denied_passed is the gap.
# allowed_lost counts allowed packets missing (the veth path's own loss
# at that rate shows up there too).
#
#   BUILD=build bench/bench_deliver.sh [UPGRADES]
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${1:-10}
BH=$BUILD/bulkhead
TAG=$(printf '%03x' $(( (RANDOM + $$) % 4096 )))
W=/tmp/bh-bench-dlv-$TAG
export BULKHEAD_BPFFS=/sys/fs/bpf/bh-bench-dlv-$TAG BULKHEAD_STATE_DIR=$W/state
mkdir -p "$W/state" "$W/proot" "$W/prun" "$W/ptmp"
P=(podman --root "$W/proot" --runroot "$W/prun" --tmpdir "$W/ptmp" --storage-driver vfs
   --network-backend cni --runtime runc --cgroup-manager cgroupfs)
cleanup() {
	for n in a b; do ip netns pids bd$TAG-$n 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del bd$TAG-$n 2>/dev/null; ip link del bd${TAG}$n 2>/dev/null; done
	"$BH" reset >/dev/null 2>&1
	"${P[@]}" rmi -af >/dev/null 2>&1; umount -R "$W/prun" 2>/dev/null
	rm -rf "$BULKHEAD_BPFFS" "$W"
}
trap cleanup EXIT

cni_bytes=$(stat -c %s "$BUILD/bulkhead-cni")
cni_stripped=$(strip -o "$W/cni.stripped" "$BUILD/bulkhead-cni" && stat -c %s "$W/cni.stripped")
echo "bulkhead-cni: $cni_bytes bytes ($cni_stripped stripped), $(ldd "$BUILD/bulkhead-cni" 2>&1 | tr -d '\t')"
image=$(PODMAN="${P[*]}" BUILD=$BUILD ./docs/deploy/mkimage.sh 2>/dev/null | sed -n 's/.*: \([0-9]*\) bytes.*/\1/p')
echo "image: ${image:-?} bytes"

mk() { # NAME ADDR
	ip netns add bd$TAG-$1
	ip link add bd${TAG}$1 type veth peer name eth0 netns bd$TAG-$1
	ip -n bd$TAG-$1 addr add $2/32 dev eth0; ip -n bd$TAG-$1 link set lo up; ip -n bd$TAG-$1 link set eth0 up
	ip link set bd${TAG}$1 up; ip addr add 10.107.5.1/32 dev bd${TAG}$1 2>/dev/null
	ip route replace $2/32 dev bd${TAG}$1
	ip -n bd$TAG-$1 route add 10.107.5.1/32 dev eth0; ip -n bd$TAG-$1 route add default via 10.107.5.1
	sysctl -qw net.ipv4.conf.bd${TAG}$1.proxy_arp=1
}
sysctl -qw net.ipv4.ip_forward=1
mk a 10.107.5.10; mk b 10.107.5.20
"$BH" attach bd${TAG}a --workload bd/a --ip 10.107.5.10 --label app=a >/dev/null
"$BH" attach bd${TAG}b --workload bd/b --ip 10.107.5.20 --label app=b >/dev/null
printf '%s\n' "apiVersion: networking.k8s.io/v1" "kind: NetworkPolicy" "metadata: {name: b, namespace: bd}" \
	"spec:" "  podSelector: {matchLabels: {app: b}}" "  ingress:" "  - ports: [{protocol: UDP, port: 5001}]" >"$W/p.yaml"
"$BH" policy apply -f "$W/p.yaml" >/dev/null

# receiver: counts datagrams per port until told to stop (bounded: 60 s)
ip netns exec bd$TAG-b python3 - "$W/counts" <<'PY' &
import select, socket, sys, time
socks = []
for port in (5001, 5002):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port)); s.setblocking(False)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20); socks.append(s)
n = {5001: 0, 5002: 0}; end = time.time() + 60; idle = None
while time.time() < end:
    r, _, _ = select.select(socks, [], [], 0.2)
    if not r and idle and time.time() - idle > 1.0: break
    for s in r:
        try:
            while True:
                s.recv(64); n[s.getsockname()[1]] += 1; idle = time.time()
        except BlockingIOError: pass
open(sys.argv[1], "w").write(f"{n[5001]} {n[5002]}\n")
PY
RECV=$!
sleep 0.3
# sender: RATE packets/s per port for SECONDS, then stops
ip netns exec bd$TAG-a python3 - "$W/sent" <<'PY' &
import socket, sys, time
rate, secs = 5000, 6
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = 0; t0 = time.time(); i = 0
while time.time() - t0 < secs:
    for port in (5001, 5002):
        s.sendto(b"x" * 32, ("10.107.5.20", port))
    sent += 1; i += 1
    target = t0 + i / rate
    d = target - time.time()
    if d > 0: time.sleep(d)
open(sys.argv[1], "w").write(f"{sent}\n")
PY
SEND=$!
sleep 1
ms=()
for i in $(seq "$N"); do
	t0=$(date +%s%N)
	"$BH" upgrade >/dev/null || echo "upgrade $i failed"
	ms+=($(( ($(date +%s%N) - t0) / 1000000 )))
	sleep 0.3
done
wait $SEND; wait $RECV
read -r sent <"$W/sent"; read -r got_allowed got_denied <"$W/counts"
med=$(printf '%s\n' "${ms[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "upgrade: $N upgrades under $sent packets per port at 5000/s: median ${med} ms per upgrade;"
echo "  denied port received $got_denied (packets judged by no program), allowed port lost $((sent - got_allowed))"
printf '{"bulkhead_cni_bytes": %s, "bulkhead_cni_stripped_bytes": %s, "image_bytes": %s, "upgrade_ms": %s, "upgrade_denied_passed": %s, "upgrade_allowed_lost": %s, "upgrade_count": %s}\n' \
	"$cni_bytes" "$cni_stripped" "${image:-null}" "$med" "$got_denied" "$((sent - got_allowed))" "$N"
