#!/usr/bin/env bash
# IPv6 through attached veths: neighbour discovery works, anti-spoofing
# holds, policies with IPv6 ipBlocks allow and deny real TCP/UDP/ICMPv6
# traffic, replies pass statefully.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init ipv6
T=b6$BH_TAG

old_fwd=$(sysctl -n net.ipv6.conf.all.forwarding)
bh_on_exit "sysctl -qw net.ipv6.conf.all.forwarding=$old_fwd"
sysctl -qw net.ipv6.conf.all.forwarding=1

mk6() { # netns hostif addr
	ip netns add "$1"; bh_on_exit "bh_del_netns '$1'"
	ip link add "$2" type veth peer name eth0 netns "$1"
	bh_on_exit "ip link del '$2'"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
	ip -n "$1" link set lo up; ip -n "$1" link set eth0 up
	ip -n "$1" addr add "$3/128" dev eth0 nodad
	sysctl -qw "net.ipv6.conf.$2.accept_dad=0" 2>/dev/null
	ip link set "$2" up
	ip addr add fd77:6::1/128 dev "$2" nodad
	ip -6 route replace "$3/128" dev "$2"
	ip -n "$1" -6 route add fd77:6::1/128 dev eth0
	ip -n "$1" -6 route add default via fd77:6::1 dev eth0
}
mk6 $T-a "$T"a fd77:6::10
mk6 $T-b "$T"b fd77:6::20
bh_serve6() { ip netns exec "$1" python3 -c '
import socket,sys,threading,time
kind=sys.argv[1]; port=int(sys.argv[2]); end=time.time()+120
if kind=="udp":
    s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); s.bind(("::",port)); s.settimeout(0.5)
    while time.time()<end:
        try: d,p=s.recvfrom(2048); s.sendto(d,p)
        except socket.timeout: pass
else:
    s=socket.socket(socket.AF_INET6,socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
    s.bind(("::",port)); s.listen(16); s.settimeout(0.5)
    while time.time()<end:
        try: c,_=s.accept()
        except socket.timeout: continue
        c.settimeout(2)
        try: c.sendall(c.recv(64))
        except OSError: pass
        c.close()
' "$2" "$3" >/dev/null 2>&1 & bh_on_exit "kill $!"; }
tcp6() { ip netns exec "$1" python3 -c '
import socket,sys
try:
    c=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=1); c.settimeout(1); c.sendall(b"hi")
    sys.exit(0 if c.recv(8)==b"hi" else 1)
except OSError: sys.exit(1)' "$2" "$3"; }
udp6() { ip netns exec "$1" python3 -c '
import socket,sys
s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); s.settimeout(1)
try:
    s.sendto(b"hi",(sys.argv[1],int(sys.argv[2]))); sys.exit(0 if s.recvfrom(8)[0]==b"hi" else 1)
except OSError: sys.exit(1)' "$2" "$3"; }
ping6() { ip netns exec "$1" ping -6 -c1 -W1 "$2" >/dev/null 2>&1; }

bh_serve6 $T-b tcp 80; bh_serve6 $T-b tcp 443; bh_serve6 $T-b udp 53; bh_serve6 $T-a tcp 80
for s in "b tcp 80" "b tcp 443" "b udp 53" "a tcp 80"; do
	set -- $s
	bh_wait_listen "$T-$1" "$2" "$3"
done
expect_ok "attach a (v6)" $BH attach "$T"a --workload six/a --ip fd77:6::10 --label app=a
expect_ok "attach b (v6)" $BH attach "$T"b --workload six/b --ip fd77:6::20 --label app=b

expect_ok "no policy: a -> b tcp over IPv6 (ND works)" bh_wait 30 tcp6 $T-a fd77:6::20 80
expect_ok "no policy: ICMPv6 echo" ping6 $T-a fd77:6::20

P=$BULKHEAD_STATE_DIR/p6.yaml
cat >$P <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: six}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
    - from: [{ipBlock: {cidr: "fd77:6::/64", except: ["fd77:6::30/128"]}}]
      ports: [{protocol: TCP, port: 80}, {protocol: UDP, port: 53}]
YAML
expect_ok "apply IPv6 ipBlock policy" $BH policy apply -f $P
expect_ok "a -> b tcp/80 allowed by the IPv6 block" tcp6 $T-a fd77:6::20 80
expect_ok "a -> b udp/53 allowed" udp6 $T-a fd77:6::20 53
expect_fail "a -> b tcp/443 denied" tcp6 $T-a fd77:6::20 443
expect_fail "a -> b ICMPv6 echo denied (isolated)" ping6 $T-a fd77:6::20
expect_ok "b -> a (b's egress is not isolated, reply passes a's side)" tcp6 $T-b fd77:6::10 80

# Anti-spoofing: a source address that is not the workload's is dropped.
ip -n $T-a addr add fd77:6::99/128 dev eth0 nodad
spoof() { ip netns exec $T-a python3 -c '
import socket,sys
try:
    c=socket.socket(socket.AF_INET6,socket.SOCK_STREAM); c.bind(("fd77:6::99",0)); c.settimeout(1)
    c.connect(("fd77:6::20",80)); sys.exit(0)
except OSError: sys.exit(1)'; }
expect_fail "spoofed IPv6 source dropped" spoof
expect_ok "stats count the spoofed source" bash -c "$BH stats | grep -q spoof"
