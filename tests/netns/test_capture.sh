#!/usr/bin/env bash
# Packet capture on a workload's host veth: `bulkhead capture` writes a
# pcap that parses and holds the workload's ICMP; --max-bytes bounds the
# file; SIGINT stops it cleanly; and the agent's capture API
# (bh_capture_spawn, through a small driver built here) writes a pcap
# under STATE_DIR/captures and records a "capture" timeline event.
set -u
. "$(dirname "$0")/../lib/common.sh"
bh_test_init capture

[ -x "$BH" ] || bh_skip "$BH not built"
"$BH" help 2>&1 | grep -q "capture NS/NAME" || bh_skip "capture command not registered in $BH"

# iputils ping, else busybox's (Debian's busybox-static is in DEB_PKGS).
if command -v ping >/dev/null; then PING_CMD=(ping); else PING_CMD=(busybox ping); fi
cap_ping() { ip netns exec "$1" "${PING_CMD[@]}" -c1 -W1 "$2" >/dev/null 2>&1; }

A=bhc${BH_TAG}a B=bhc${BH_TAG}b
NA=bh-cap-$BH_TAG-a NB=bh-cap-$BH_TAG-b
OUT=$BULKHEAD_STATE_DIR/out
mkdir -p "$OUT"

bh_mk_workload "$NA" "$A" 10.77.1.2/24 10.77.1.1
bh_mk_workload "$NB" "$B" 10.77.2.2/24 10.77.2.1
expect_ok "attach cap/web" "$BH" attach "$A" --workload cap/web --ip 10.77.1.2
expect_ok "attach cap/db" "$BH" attach "$B" --workload cap/db --ip 10.77.2.2
bh_wait 30 cap_ping "$NA" 10.77.2.2 || fail "web cannot ping db before capture"

# pcap_check FILE: prints "MAGIC LINKTYPE SNAPLEN RECORDS ICMP BYTES"
# walking every record header, so a truncated or corrupt file fails.
pcap_check() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
magic, vmaj, vmin, _, _, snap, link = struct.unpack('<IHHiIII', d[:24])
off, n, icmp = 24, 0, 0
while off < len(d):
    if off + 16 > len(d):
        print('truncated-header'); sys.exit(1)
    _, _, incl, orig = struct.unpack('<IIII', d[off:off + 16])
    pkt = d[off + 16:off + 16 + incl]
    if len(pkt) != incl:
        print('truncated-packet'); sys.exit(1)
    # Ethernet + IPv4, protocol 1 = ICMP
    if len(pkt) >= 34 and pkt[12:14] == b'\x08\x00' and pkt[23] == 1:
        icmp += 1
    off += 16 + incl
    n += 1
print('%08x %d %d %d %d %d' % (magic, link, snap, n, icmp, len(d)))
EOF
}

# Steady ping during the captures (bounded: 200 packets, 40 s at most).
ip netns exec "$NA" "${PING_CMD[@]}" -q -i 0.2 -c 200 -w 40 10.77.2.2 >/dev/null 2>&1 &
PING=$!
bh_on_exit "kill $PING 2>/dev/null"

# 1. A 3 s capture.
expect_ok "capture 3 s" "$BH" capture cap/web --out "$OUT/a.pcap" --seconds 3
if [ -f "$OUT/a.pcap" ]; then
	read -r magic link snap n icmp size < <(pcap_check "$OUT/a.pcap")
	expect_eq "pcap magic" a1b2c3d4 "$magic"
	expect_eq "linktype ethernet" 1 "$link"
	expect_eq "snaplen" 65535 "$snap"
	[ "${icmp:-0}" -ge 4 ] && ok "ICMP packets captured ($icmp of $n)" \
		|| fail "want >= 4 ICMP packets, got ${icmp:-0} of ${n:-0}"
	if command -v tcpdump >/dev/null; then
		c=$(tcpdump -nr "$OUT/a.pcap" icmp 2>/dev/null | grep -c 'ICMP echo')
		[ "$c" -ge 4 ] && ok "tcpdump reads $c ICMP echoes" || fail "tcpdump read $c ICMP echoes"
	fi
else
	fail "no pcap written"
fi

# 2. The size bound: the file never passes --max-bytes, and says why it stopped.
json=$("$BH" --json capture cap/web --out "$OUT/small.pcap" --seconds 30 --max-bytes 1000)
expect_eq "stopped on size" size "$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stopped"])')"
size=$(stat -c %s "$OUT/small.pcap" 2>/dev/null || echo 0)
[ "$size" -le 1000 ] && [ "$size" -gt 24 ] && ok "file within --max-bytes ($size <= 1000)" \
	|| fail "file size $size, want 25..1000"
read -r magic link snap n icmp fsize < <(pcap_check "$OUT/small.pcap")
[ "${n:-0}" -ge 1 ] && ok "bounded file parses ($n packets)" || fail "bounded file: ${n:-none}"
expect_eq "reported bytes = file size" "$size" \
	"$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')"

# 3. SIGINT ends the capture with a complete file.
"$BH" --json capture cap/web --out "$OUT/int.pcap" --seconds 60 >"$OUT/int.json" &
CAP=$!
bh_on_exit "kill $CAP 2>/dev/null"
# Interrupt once the file holds a packet: a header (24 bytes) and more.
# The writer is buffered, so the size grows in blocks of packets.
holds_packet() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt 40 ]; }
bh_wait 300 holds_packet "$OUT/int.pcap" || fail "no packet in the capture after 30 s"
kill -INT $CAP
for _ in $(seq 50); do kill -0 $CAP 2>/dev/null || break; sleep 0.1; done
wait $CAP
expect_eq "SIGINT: exit 0" 0 $?
expect_eq "SIGINT: stopped on signal" signal \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stopped"])' "$OUT/int.json")"
read -r magic link snap n icmp fsize < <(pcap_check "$OUT/int.pcap")
[ "${icmp:-0}" -ge 1 ] && ok "interrupted file parses ($icmp ICMP)" || fail "interrupted file: ${n:-none}"

# 4. Bad input: exit 1, no file.
"$BH" capture cap/nope --out "$OUT/x.pcap" --seconds 1 2>/dev/null
expect_eq "unknown workload: exit 1" 1 $?
"$BH" capture cap/web --out "$OUT/x.pcap" --max-bytes 10 2>/dev/null
expect_eq "tiny --max-bytes: exit 1" 1 $?
"$BH" capture cap/web --seconds 1 2>/dev/null
expect_eq "no --out: exit 1" 1 $?
[ ! -e "$OUT/x.pcap" ] && ok "no file on bad input" || fail "file written on bad input"

# 5. The agent's API: bh_capture_spawn forks, the caller waits, the file is
# under STATE_DIR/captures with a sanitised name, and the timeline says so.
SPAWN=$BUILD/tests/lib/capture_spawn
if [ -x "$SPAWN" ]; then
	path=$("$SPAWN" cap web)
	expect_eq "spawned capture exits 0" 0 $?
	case $path in
	"$BULKHEAD_STATE_DIR"/captures/cap_web-*Z.pcap) ok "capture file path $path" ;;
	*) fail "unexpected capture path '$path'" ;;
	esac
	expect_eq "captures dir is 0700" 700 "$(stat -c %a "$BULKHEAD_STATE_DIR/captures")"
	read -r magic link snap n icmp fsize < <(pcap_check "$path")
	[ "${icmp:-0}" -ge 1 ] && ok "spawned capture has ICMP ($icmp)" \
		|| fail "spawned capture: ${n:-none}"
	ev=$(python3 - "$BULKHEAD_STATE_DIR/state.db" "$path" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT detail FROM events WHERE ns='cap' AND name='web' AND kind='capture'").fetchall()
print(sum(1 for (d,) in rows if sys.argv[2] in d))
EOF
)
	expect_eq "timeline has the capture event with the path" 1 "$ev"
	# A second one in the same second gets another name, not the same file.
	p2=$("$SPAWN" cap web); p3=$("$SPAWN" cap web)
	[ -n "$p2" ] && [ "$p2" != "$p3" ] && ok "distinct files per capture" \
		|| fail "capture files collide: '$p2' '$p3'"
else
	fail "$SPAWN is not built (make all builds it)"
fi

kill $PING 2>/dev/null
exit 0
