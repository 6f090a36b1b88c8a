# Shared helpers for shell tests (netns, e2e). Source it, then call
# bh_test_init NAME. Every test gets its own bpffs pin dir, state dir and a
# short unique prefix for the netns/veth names it creates; bh_cleanup runs
# on exit and removes exactly those, by name.
#
# Exit codes: 0 pass, 77 skip (print the reason last), anything else fail.

BH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$BH_ROOT/$BUILD ;; esac
BH=$BUILD/bulkhead
BH_CNI=$BUILD/bulkhead-cni
BH_FAILS=0
BH_CHECKS=0
BH_CLEANUPS=()

bh_test_init() {
	BH_TEST=$1
	# 3-char tag keeps veth names under IFNAMSIZ; unique per test run.
	BH_TAG=${BH_TAG:-$(printf '%03x' $(( (RANDOM + $$) % 4096 )))}
	export BULKHEAD_BPFFS=/sys/fs/bpf/bh-t-$BH_TEST-$BH_TAG
	export BULKHEAD_STATE_DIR=/tmp/bh-t-$BH_TEST-$BH_TAG
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	mkdir -p "$BULKHEAD_STATE_DIR"
	# BH_TC_ATTACH=clsact|tcx: the whole test attaches that way (the
	# *_clsact.sh wrappers); bh_cleanup then checks it really did.
	[ -n "${BH_TC_ATTACH:-}" ] && echo "tc_attach = $BH_TC_ATTACH" >>"$BULKHEAD_STATE_DIR/config"
	trap bh_cleanup EXIT
	# A signal (e.g. the runner's timeout) is a failure, never a pass.
	trap 'BH_FAILS=$((BH_FAILS + 1)); echo "FAIL - interrupted"; exit 1' INT TERM
	bh_on_exit "$BH reset --yes >/dev/null 2>&1; rm -rf '$BULKHEAD_BPFFS' '$BULKHEAD_STATE_DIR'"
}

# Register a cleanup command (run in reverse order on exit).
bh_on_exit() { BH_CLEANUPS+=("$1"); }

# bh_show_on_fail FILE...: when the test fails, its output ends with the
# last lines of these files (a daemon's log), before anything is removed.
BH_SHOW_ON_FAIL=()
bh_show_on_fail() { BH_SHOW_ON_FAIL+=("$@"); }
bh_show_logs() {
	local f
	for f in "${BH_SHOW_ON_FAIL[@]}"; do
		echo "---- last lines of $f"
		tail -n 15 "$f" 2>&1
	done
}

# With BH_TC_ATTACH set: this instance's TC programs sit on at least one
# interface, each time through that mechanism and never the other.
bh_check_tc_attach() {
	local want=$BH_TC_ATTACH other=tcx n_want=0 n_other=0 ifname j
	[ "$want" = tcx ] && other=clsact
	for ifname in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
		j=$($BH --json debug hooks "$ifname" 2>/dev/null) || continue
		n_want=$((n_want + $(jq "[.${want}_ingress[], .${want}_egress[] | select(.ours)] | length" <<<"$j")))
		n_other=$((n_other + $(jq "[.${other}_ingress[], .${other}_egress[] | select(.ours)] | length" <<<"$j")))
	done
	if [ $n_want -gt 0 ] && [ $n_other -eq 0 ]; then
		ok "tc_attach=$want: $n_want programs attached through $want, none through $other"
	else
		fail "tc_attach=$want: $n_want programs through $want, $n_other through $other"
	fi
}

bh_cleanup() {
	local rc=$?
	local i
	if [ $rc -eq 0 ] && [ -n "${BH_TC_ATTACH:-}" ]; then bh_check_tc_attach; fi
	if [ $rc -ne 0 ] || [ "$BH_FAILS" -gt 0 ]; then bh_show_logs; fi
	for ((i = ${#BH_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${BH_CLEANUPS[$i]}" >/dev/null 2>&1 || true
	done
	if [ $rc -eq 0 ] && [ "$BH_FAILS" -gt 0 ]; then rc=1; fi
	if [ $rc -eq 0 ] && [ "$BH_CHECKS" -eq 0 ]; then
		echo "test asserted nothing"; rc=1
	fi
	[ $rc -eq 0 ] && echo "ok: $BH_CHECKS checks"
	exit $rc
}

# bh_skip REASON: the test cannot run (tests/run.sh counts it as a failure:
# a tool is missing, the build is missing...). bh_skip_unfixable KIND
# REASON: it cannot run on this machine kind at all (KIND from run.sh's
# SKIP_UNFIXABLE, e.g. kernel): the only skip that does not fail the run.
bh_skip() { echo "skipped: $*"; BH_CHECKS=1; trap - EXIT; bh_cleanup_quiet; exit 77; }
bh_skip_unfixable() {
	local kind=$1; shift
	echo "skipped (cannot run here: $kind): $*"; BH_CHECKS=1; trap - EXIT; bh_cleanup_quiet
	exit 77
}
bh_cleanup_quiet() {
	local i
	for ((i = ${#BH_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${BH_CLEANUPS[$i]}" >/dev/null 2>&1 || true
	done
}

ok() { BH_CHECKS=$((BH_CHECKS + 1)); echo "ok   - $*"; }
fail() { BH_CHECKS=$((BH_CHECKS + 1)); BH_FAILS=$((BH_FAILS + 1)); echo "FAIL - $*"; }

# expect_ok DESC CMD... : CMD must succeed
expect_ok() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d (exit $?: $*)"; fi; }
# expect_fail DESC CMD... : CMD must fail
expect_fail() { local d=$1; shift; if "$@"; then fail "$d (unexpectedly succeeded: $*)"; else ok "$d"; fi; }
# expect_eq DESC WANT GOT
expect_eq() { if [ "$2" == "$3" ]; then ok "$1"; else fail "$1 (want '$2', got '$3')"; fi; }

# Make a netns NAME with a veth pair: host side HOSTIF in the root netns,
# container side eth0 with ADDR (cidr) and a default route via GW.
# Host side gets GW/32 routes so the host routes between workloads.
bh_mk_workload() {
	local ns=$1 hostif=$2 addr=$3 gw=$4
	ip netns add "$ns"
	bh_on_exit "bh_del_netns '$ns'"
	ip link add "$hostif" type veth peer name eth0 netns "$ns"
	bh_on_exit "ip link del '$hostif'"
	ip -n "$ns" addr add "$addr" dev eth0
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip link set "$hostif" up
	ip addr add "$gw/32" dev "$hostif" 2>/dev/null || true
	ip route replace "${addr%/*}/32" dev "$hostif"
	ip -n "$ns" route add "$gw/32" dev eth0
	ip -n "$ns" route add default via "$gw" dev eth0
	sysctl -qw net.ipv4.ip_forward=1
	sysctl -qw "net.ipv4.conf.$hostif.proxy_arp=1"
}

# Kill what still runs in a netns of ours, then delete it.
bh_del_netns() {
	ip netns pids "$1" 2>/dev/null | xargs -r kill 2>/dev/null
	sleep 0.1
	ip netns pids "$1" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$1"
}

# Wait until CMD succeeds or N tenths of a second pass.
bh_wait() { local n=$1; shift; while ! "$@" >/dev/null 2>&1; do n=$((n - 1)); [ $n -le 0 ] && return 1; sleep 0.1; done; }

TRAFFIC=$BH_ROOT/tests/lib/traffic.py
# bh_serve NETNS tcp|udp PORT: echo server for the rest of the test.
# It returns once the server listens: a test never races its own server.
bh_serve() {
	ip netns exec "$1" python3 "$TRAFFIC" serve "$2" "$3" 300 >/dev/null 2>&1 &
	bh_on_exit "kill $! 2>/dev/null"
	bh_wait_listen "$1" "$2" "$3"
}
# bh_log_udp NETNS|- ADDR PORT FILE: a UDP socket on ADDR:PORT (in NETNS,
# or the host's for -) that logs each payload it receives to FILE, one a
# line, for the rest of the test. It returns once the socket is bound.
bh_log_udp() {
	local ns=$1 addr=$2 port=$3 out=$4 run=()
	[ "$ns" != - ] && run=(ip netns exec "$ns")
	"${run[@]}" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
open(sys.argv[3] + ".ready", "w").close()
s.settimeout(30)
while True:
    d, a = s.recvfrom(2048)
    print(d.decode(errors="replace").rstrip("\0"), flush=True)' "$addr" "$port" "$out" \
		>"$out" 2>/dev/null &
	bh_on_exit "kill $! 2>/dev/null"
	bh_wait 50 test -e "$out.ready" || fail "no UDP logger on $addr:$port"
}
# bh_listening NETNS tcp|udp PORT: a socket listens (or is bound) there.
bh_listening() {
	local l=t
	[ "$2" = udp ] && l=u
	ip netns exec "$1" ss -Hln$l "sport = :$3" | grep -q .
}
# bh_wait_listen NETNS tcp|udp PORT: wait (bounded) for a server started
# in the background; a server that never comes up is a failure.
bh_wait_listen() { bh_wait 200 bh_listening "$@" || fail "nothing listens on $2 port $3 in $1"; }

# An agent started in the background is ready once it has finished its
# setup, which it records as agent_state.started_ms: T0=$(bh_now_ms) before
# starting it, then bh_wait_agent "$T0".
bh_now_ms() { date +%s%3N; }
bh_agent_up() {
	local v
	v=$(sqlite3 -cmd '.timeout 2000' "$BULKHEAD_STATE_DIR/state.db" \
		"SELECT value FROM agent_state WHERE key='started_ms'" 2>/dev/null)
	[ -n "$v" ] && [ "$v" -ge "$1" ]
}
bh_wait_agent() { bh_wait 300 bh_agent_up "$1" || fail "the agent did not finish its setup"; }

# A held connection (traffic.py hold, one line per round trip in LOG)
# across a change that must cut it. bh_lines_since LOG MARK, and
# bh_oks_since LOG MARK: lines / "ok" lines after line MARK.
bh_lines_since() { tail -n +$(($2 + 1)) "$1" | wc -l; }
bh_oks_since() { tail -n +$(($2 + 1)) "$1" | grep -c '^ok'; }
bh_fails_since() { tail -n +$(($2 + 1)) "$1" | grep -c '^fail'; }
bh_at_least() { [ "$("$1" "$2" "$3")" -ge "$4" ]; }
# bh_cut_window LOG: call right after the change returned. Waits for the
# first failed round trip (one already in flight may still complete),
# then for N more round trips (default 5) and sets BH_CUT_OKS to the "ok"
# lines among them: 0 if the connection stayed cut while the loop ran.
bh_cut_window() {
	local log=$1 n=${2:-5} m
	m=$(wc -l <"$log")
	BH_CUT_OKS=-1
	bh_wait 200 bh_at_least bh_fails_since "$log" "$m" 1 || return 1
	m=$(wc -l <"$log")
	bh_wait 200 bh_at_least bh_lines_since "$log" "$m" "$n" || return 1
	BH_CUT_OKS=$(bh_oks_since "$log" "$m")
}
# bh_tcp NETNS HOST PORT / bh_udp NETNS HOST PORT: one round trip, 0 if answered.
bh_tcp() { ip netns exec "$1" python3 "$TRAFFIC" connect "$2" "$3"; }
bh_udp() { ip netns exec "$1" python3 "$TRAFFIC" udp "$2" "$3"; }
bh_ping() { ip netns exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1; }
