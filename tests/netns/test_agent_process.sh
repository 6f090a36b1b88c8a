#!/usr/bin/env bash
# Flows name their process: two different programs in one container
# (python3 and socat) make TCP and UDP flows to a server container; every
# flow names the program that made it (pid, comm, exe, cgroup) in `flows`,
# in the JSON-lines file and in syslog, and the server's side names the
# server. A TCP flow's first (`new`) record already names the process:
# the client's, and the server's when it listened after the agent started,
# even when the agent writes it while the handshake is held back. The baseline learns python3 in learn mode; in monitor mode
# socat talking is a "new process" deviation in the timeline, python3 is
# not.
. "$(dirname "$0")/../lib/common.sh"
bh_test_init agproc
[ -x "$BH" ] || bh_skip "$BH not built"
command -v socat >/dev/null || bh_skip "socat not installed"

A=pca-$BH_TAG B=pcb-$BH_TAG
bh_mk_workload "$A" "pa$BH_TAG" 10.117.0.2/24 10.117.0.1
bh_mk_workload "$B" "pb$BH_TAG" 10.117.1.2/24 10.117.1.1
# IPv6 beside: each container an address, the host routes between them
old_fwd=$(sysctl -n net.ipv6.conf.all.forwarding)
bh_on_exit "sysctl -qw net.ipv6.conf.all.forwarding=$old_fwd"
sysctl -qw net.ipv6.conf.all.forwarding=1
for x in "$A pa$BH_TAG fd0a:117::a" "$B pb$BH_TAG fd0a:117::b"; do
	set -- $x
	ip netns exec "$1" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
	ip -n "$1" addr add "$3/128" dev eth0 nodad
	sysctl -qw "net.ipv6.conf.$2.accept_dad=0"
	ip addr add fd0a:117::1/128 dev "$2" nodad
	ip -6 route replace "$3/128" dev "$2"
	ip -n "$1" -6 route add fd0a:117::1/128 dev eth0
	ip -n "$1" -6 route add default via fd0a:117::1 dev eth0
done
expect_ok "attach app" $BH attach "pa$BH_TAG" --workload proc/app --ip 10.117.0.2 \
	--ip fd0a:117::a --label app=app
expect_ok "attach db" $BH attach "pb$BH_TAG" --workload proc/db --ip 10.117.1.2 \
	--ip fd0a:117::b --label app=db
expect_ok "app in learn mode" $BH mode proc/app learn
expect_ok "db in learn mode" $BH mode proc/db learn
bh_serve "$B" tcp 5432
bh_serve "$B" udp 5353
W=$BULKHEAD_STATE_DIR
# syslog collector on a unix socket (one datagram per line)
/usr/bin/python3 - "$W/syslog.sock" "$W/syslog.out" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
f = open(sys.argv[2], 'ab', buffering=0)
end = time.time() + 240
while time.time() < end:
    try:
        f.write(s.recv(65536) + b'\n')
    except socket.timeout:
        pass
PY
bh_on_exit "kill $!"
bh_wait 50 test -S "$W/syslog.sock" || fail "syslog collector did not start"
cat >"$W/agent.yaml" <<YAML
jsonl: $W/flows.jsonl
syslog: {target: "unix:$W/syslog.sock", format: rfc5424}
store: {flush_ms: 100}
YAML
T0=$(bh_now_ms)
$BH agent --config "$W/agent.yaml" >"$W/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT; wait $AGENT"
bh_wait_agent "$T0"
expect_ok "the agent loaded the socket-side program" \
	grep -q 'socket-side program loaded.*udp=yes' "$W/agent.log"
# IPv6 echo servers (traffic.py serves IPv4 only), started after the
# agent: their listener is recorded when it listens
ip netns exec "$B" python3 -c '
import socket, threading, time
end = time.time() + 240
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::", 5355)); u.settimeout(0.5)
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("::", 5434)); t.listen(16)
t.settimeout(0.5)
def udp():
    while time.time() < end:
        try:
            d, p = u.recvfrom(2048); u.sendto(d, p)
        except socket.timeout:
            pass
threading.Thread(target=udp, daemon=True).start()
while time.time() < end:
    try:
        c, _ = t.accept()
    except socket.timeout:
        continue
    c.settimeout(2)
    try:
        c.sendall(c.recv(2048))
    except OSError:
        pass
    c.close()
' >/dev/null 2>&1 &
bh_on_exit "kill $!"
bh_wait_listen "$B" tcp 5434
bh_wait_listen "$B" udp 5355


PY_EXE=$(ip netns exec "$A" python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')
SOCAT_EXE=$(readlink -f "$(command -v socat)")
socat_tcp() { echo hi | ip netns exec "$A" socat -T 2 - TCP:10.117.1.2:5432 | grep -q hi; }
socat_udp() { echo hi | ip netns exec "$A" socat -T 2 - UDP:10.117.1.2:5353 | grep -q hi; }

# the flows of workload $1 as "proto sport dport comm exe" lines
flows_of() {
	$BH flows --workload "$1" -o json | /usr/bin/python3 -c '
import json, sys
for f in json.load(sys.stdin):
    print(f["proto"], f["sport"], f["dport"], f["pid"] or 0, f["comm"] or "-", f["exe"] or "-",
          f["cgroup"] or "-")'
}
# flow_named WORKLOAD PROTO DPORT EXE: a flow of that kind names EXE
flow_named() { flows_of "$1" | awk -v p="$2" -v d="$3" -v e="$4" \
	'$1 == p && $3 == d && $6 == e && $4 > 0 { f = 1 } END { exit !f }'; }

# ------------------------------------------------------------ learn
expect_ok "python3 tcp (learn)" bh_tcp "$A" 10.117.1.2 5432
expect_ok "python3 udp (learn)" bh_udp "$A" 10.117.1.2 5353
expect_ok "tcp flow names python3 ($PY_EXE)" bh_wait 50 flow_named proc/app tcp 5432 "$PY_EXE"
expect_ok "udp flow names python3" bh_wait 50 flow_named proc/app udp 5353 "$PY_EXE"
expect_ok "the server's side of the tcp flow names the server (python3)" \
	bh_wait 50 flow_named proc/db tcp 5432 "$PY_EXE"
expect_ok "the server's side of the udp flow names the server (python3)" \
	bh_wait 50 flow_named proc/db udp 5353 "$PY_EXE"
expect_ok "flows carry the command name and the cgroup" \
	bash -c "$BH flows --workload proc/app -o json | grep -q '\"comm\":\"python3'"
learned() { $BH baseline processes proc/app -o json | grep -qF "\"exe\":\"$PY_EXE\""; }
expect_ok "baseline learned the program python3" bh_wait 50 learned
expect_fail "baseline has no socat" bash -c "$BH baseline processes proc/app -o json | grep -q socat"
expect_eq "one program learned" 1 "$($BH baseline processes proc/app -o json | grep -o '"exe"' | wc -l)"

# ---------------------------------------------------------- monitor
expect_ok "app in monitor mode" $BH mode proc/app monitor
MARK=$(flows_of proc/app | wc -l)
expect_ok "python3 tcp (monitor)" bh_tcp "$A" 10.117.1.2 5432
expect_ok "python3 udp (monitor)" bh_udp "$A" 10.117.1.2 5353
py_again() { [ "$(flows_of proc/app | awk -v e="$PY_EXE" '$6 == e' | wc -l)" -ge $((MARK + 2)) ]; }
expect_ok "the new python3 flows name python3" bh_wait 50 py_again
expect_ok "socat tcp" socat_tcp
expect_ok "socat udp" socat_udp
expect_ok "socat's tcp flow names socat ($SOCAT_EXE)" \
	bh_wait 50 flow_named proc/app tcp 5432 "$SOCAT_EXE"
expect_ok "socat's udp flow names socat" bh_wait 50 flow_named proc/app udp 5353 "$SOCAT_EXE"
newproc() { $BH timeline proc/app | grep deviation | grep 'new process' | grep -F "$SOCAT_EXE" |
	grep -q ":$1 "; }
expect_ok "socat talking tcp is a new-process deviation" bh_wait 50 newproc 5432
expect_ok "socat talking udp is a new-process deviation" bh_wait 50 newproc 5353
expect_fail "python3 talking is no deviation" \
	bash -c "$BH timeline proc/app | grep deviation | grep -qF '$PY_EXE'"
expect_ok "the deviation names socat's pid" \
	bash -c "$BH timeline proc/app | grep 'new process' | grep -q 'socat, pid [0-9]'"

# ------------------------------------------------------------- IPv6
py6() { ip netns exec "$A" python3 -c '
import socket, sys
kind = sys.argv[1]
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
s.settimeout(2)
a = ("fd0a:117::b", 5434 if kind == "tcp" else 5355)
if kind == "tcp":
    s.connect(a); s.sendall(b"hi"); ok = s.recv(16) == b"hi"
else:
    s.sendto(b"hi", a); ok = s.recvfrom(16)[0] == b"hi"
sys.exit(0 if ok else 1)' "$1"; }
expect_ok "python3 tcp over IPv6" py6 tcp
expect_ok "python3 udp over IPv6" py6 udp
expect_ok "socat tcp over IPv6" bash -c \
	"echo hi | ip netns exec $A socat -T 2 - TCP6:[fd0a:117::b]:5434 | grep -q hi"
expect_ok "socat udp over IPv6" bash -c \
	"echo hi | ip netns exec $A socat -T 2 - UDP6:[fd0a:117::b]:5355 | grep -q hi"
expect_ok "IPv6 tcp flow names python3" bh_wait 50 flow_named proc/app tcp 5434 "$PY_EXE"
expect_ok "IPv6 udp flow names python3" bh_wait 50 flow_named proc/app udp 5355 "$PY_EXE"
expect_ok "IPv6 tcp flow names socat" bh_wait 50 flow_named proc/app tcp 5434 "$SOCAT_EXE"
expect_ok "IPv6 udp flow names socat" bh_wait 50 flow_named proc/app udp 5355 "$SOCAT_EXE"
expect_ok "the server's side of the IPv6 tcp flow names the server" \
	bh_wait 50 flow_named proc/db tcp 5434 "$PY_EXE"

# ----------------------------------------------------- JSONL, syslog
jsonl_socat() { grep '"type":"flow"' "$W/flows.jsonl" | grep '"proto":"tcp"' |
	grep -F "\"exe\":\"$SOCAT_EXE\"" | grep -q '"pid":[1-9]'; }
expect_ok "JSONL: socat's tcp flow names its process" bh_wait 50 jsonl_socat
# new_named WORKLOAD DPORT MIN: at least MIN `new` JSONL records of TCP
# flows of WORKLOAD to DPORT, and every one names a process (pid, exe)
new_named() { /usr/bin/python3 - "$W/flows.jsonl" "$@" <<'PY'
import json, sys
path, wl, dport, least = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
n = unnamed = 0
for line in open(path):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if (o.get("type"), o.get("event"), o.get("proto"), o.get("workload"), o.get("dport")) != \
            ("flow", "new", "tcp", wl, dport):
        continue
    n += 1
    if not o.get("pid") or not o.get("exe"):
        unnamed += 1
        print("unnamed:", o.get("src"), o.get("sport"), "->", o.get("dst"), o.get("dport"),
              file=sys.stderr)
sys.exit(0 if n >= least and not unnamed else 1)
PY
}
# the client's first records: python3 twice and socat over IPv4, one
# each over IPv6 (the JSON-lines file is written on the agent's timer)
expect_ok "JSONL: every new tcp record of the client to 5432 names its process" \
	bh_wait 50 new_named proc/app 5432 3
expect_ok "JSONL: every new tcp record of the client to 5434 (IPv6) names its process" \
	bh_wait 50 new_named proc/app 5434 2
expect_ok "JSONL: every new tcp record of the IPv6 server (listened after the agent) names it" \
	bh_wait 50 new_named proc/db 5434 2
# A handshake held back: the server's SYN-ACKs are dropped (in its own
# namespace) until both ends' first records are out, so the agent writes
# them while the connection is still opening: they name the client and
# the server all the same.
HOLD_PORT=23150
ip netns exec "$B" nft -f - <<NFT
table inet prfhold {
	chain out {
		type filter hook output priority 0;
		tcp sport 5434 tcp flags & (syn | ack) == syn | ack drop
	}
}
NFT
bh_on_exit "ip netns exec $B nft delete table inet prfhold 2>/dev/null"
ip netns exec "$A" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(30)
s.bind(("fd0a:117::a", int(sys.argv[1])))
s.connect(("fd0a:117::b", 5434)); s.sendall(b"hi")
sys.exit(0 if s.recv(16) == b"hi" else 1)' "$HOLD_PORT" &
HOLD=$!
bh_on_exit "kill $HOLD 2>/dev/null"
# new_at WORKLOAD: the `new` JSONL record of the held connection, as
# "pid exe" (nothing yet: no output, fails)
new_at() { /usr/bin/python3 - "$W/flows.jsonl" "$1" "$HOLD_PORT" <<'PY'
import json, sys
path, wl, sport = sys.argv[1], sys.argv[2], int(sys.argv[3])
for line in open(path):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if (o.get("type"), o.get("event"), o.get("workload"), o.get("sport"), o.get("dport")) == \
            ("flow", "new", wl, sport, 5434):
        print(o.get("pid") or 0, o.get("exe") or "-")
        sys.exit(0)
sys.exit(1)
PY
}
expect_ok "held handshake: the client's new record is out" bh_wait 100 new_at proc/app
expect_ok "held handshake: the server's new record is out" bh_wait 100 new_at proc/db
expect_ok "held handshake: the connection is still opening" kill -0 $HOLD
ip netns exec "$B" nft delete table inet prfhold
expect_ok "held handshake: the connection completes once SYN-ACKs pass" wait $HOLD
expect_eq "held handshake: the client's new record names python3" "$PY_EXE" \
	"$(new_at proc/app | awk '$1 > 0 { print $2 }')"
expect_eq "held handshake: the server's new record names python3" "$PY_EXE" \
	"$(new_at proc/db | awk '$1 > 0 { print $2 }')"
syslog_socat() { grep -F "exe=\"$SOCAT_EXE\"" "$W/syslog.out" | grep -q 'pid="[1-9]'; }
expect_ok "syslog: socat's flow names its process" bh_wait 50 syslog_socat
syslog_dev() { grep 'new process' "$W/syslog.out" | grep -qF "$SOCAT_EXE"; }
expect_ok "syslog: the new-process deviation" bh_wait 50 syslog_dev
expect_ok "agent still running" kill -0 $AGENT
