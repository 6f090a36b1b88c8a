#!/usr/bin/env bash
# `make demo`: three workloads and an outside host on real veths, a policy,
# allowed and denied connections, a quarantine, the stats. Cleans up after
# itself (its own netns, veths, pins and state; nothing else is touched).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BH=$PWD/$BUILD/bulkhead
export BULKHEAD_BPFFS=/sys/fs/bpf/bulkhead-demo
export BULKHEAD_STATE_DIR=/tmp/bulkhead-demo
T=bhd   # prefix of every name the demo creates

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
run() { printf '   $ bulkhead'; printf ' %q' "$@"; printf '\n'; "$BH" "$@" 2>&1 | sed 's/^/     /'; }

AGENT=
cleanup() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	"$BH" reset --yes >/dev/null 2>&1
	for n in web db attacker out; do
		ip netns pids $T-$n 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del $T-$n 2>/dev/null
		ip link del $T-$n 2>/dev/null
	done
	rm -rf "$BULKHEAD_STATE_DIR" "$BULKHEAD_BPFFS"
}
trap cleanup EXIT
cleanup

# A workload: netns with eth0 (ADDR) whose host side is $T-NAME; the host
# routes between them (10.77.0.1 on every host veth, like Calico's gateway).
mk() {
	local n=$1 addr=$2 gw=$3
	ip netns add $T-$n
	ip link add $T-$n type veth peer name eth0 netns $T-$n
	ip -n $T-$n addr add $addr/32 dev eth0
	ip -n $T-$n link set lo up; ip -n $T-$n link set eth0 up
	ip link set $T-$n up
	ip addr add $gw/32 dev $T-$n
	ip route replace $addr/32 dev $T-$n
	ip -n $T-$n route add $gw/32 dev eth0
	ip -n $T-$n route add default via $gw dev eth0
}
serve() { # netns port: a TCP server answering one line per connection
	ip netns exec $T-$1 socat TCP-LISTEN:$2,fork,reuseaddr SYSTEM:"echo $1:$2" >/dev/null 2>&1 &
}
SURPRISES=0
show() { # got want from to description
	if [ "$1" = allowed ]; then printf '   \033[32m✔ allowed\033[0m  %-9s -> %-16s %s' "$3" "$4" "$5"
	else printf '   \033[31m✘ blocked\033[0m  %-9s -> %-16s %s' "$3" "$4" "$5"; fi
	if [ "$1" != "$2" ]; then printf '  \033[33m<- expected %s!\033[0m' "$2"; SURPRISES=$((SURPRISES + 1)); fi
	printf '\n'
}
try() { # from to-addr port allowed|blocked description
	local out got=blocked
	out=$(ip netns exec $T-$1 socat -T1 - TCP:$2:$3,connect-timeout=1 </dev/null 2>/dev/null)
	[ -n "$out" ] && got=allowed
	show $got "$4" "$1" "$2:$3" "$5"
}
ping1() { # from to-addr allowed|blocked description
	local got=blocked
	ip netns exec $T-$1 ping -c1 -W1 $2 >/dev/null 2>&1 && got=allowed
	show $got "$3" "$1" "$2 icmp" "$4"
}

# The kernel floor first: a node that lacks something the demo needs is
# told what, check by check, instead of failing half-way through.
if ! doctor=$("$BH" doctor 2>&1); then
	echo "bulkhead demo: this node cannot run bulkhead (bulkhead doctor):" >&2
	printf '%s\n' "$doctor" | sed 's/^/  /' >&2
	exit 2
fi

bold "bulkhead demo: a web shop on real veths"
say "bulkhead puts eBPF programs on each container's host-side veth and enforces"
say "per-workload network policy in the kernel. Three workloads, one outside host:"
say "  shop/web 10.77.0.10 (app=web)   shop/db 10.77.0.20 (app=db)"
say "  guest/attacker 10.77.0.30      outside host 10.78.0.10 (reached through the host)"
sysctl -qw net.ipv4.ip_forward=1
mk web 10.77.0.10 10.77.0.1
mk db 10.77.0.20 10.77.0.1
mk attacker 10.77.0.30 10.77.0.1
ip netns add $T-out
ip link add $T-out type veth peer name eth0 netns $T-out
ip addr add 10.78.0.1/24 dev $T-out; ip link set $T-out up
ip -n $T-out addr add 10.78.0.10/24 dev eth0; ip -n $T-out link set eth0 up
ip -n $T-out link set lo up; ip -n $T-out route add default via 10.78.0.1
for s in "web 80" "web 22" "db 5432" "out 443"; do serve $s; done
sleep 0.3

bold "1. Attach bulkhead to each workload's veth (no policy yet: all open)"
run attach $T-web --workload shop/web --ip 10.77.0.10 --label app=web
run attach $T-db --workload shop/db --ip 10.77.0.20 --label app=db
run attach $T-attacker --workload guest/attacker --ip 10.77.0.30 --label app=attacker
run workload list
say "The agent consumes the data path's flow records (ring buffer) in the background:"
"$BH" agent --jsonl "$BULKHEAD_STATE_DIR/flows.jsonl" >"$BULKHEAD_STATE_DIR/agent.log" 2>&1 &
AGENT=$!
sleep 0.5
try attacker 10.77.0.20 5432 allowed "guest reaches the database (no policy selects db yet)"

bold "2. Apply Kubernetes NetworkPolicies and a bulkhead deny rule"
say "docs/examples/demo-policy.yaml: db accepts only web on 5432; web is open on 80"
say "and may only talk to db; nobody in shop accepts ssh (explicit deny wins)."
run policy apply -f docs/examples/demo-policy.yaml
run policy list
try attacker 10.77.0.10 80 allowed "anyone may reach the web tier on 80"
try web 10.77.0.20 5432 allowed "web -> db is the one path the db accepts"
try attacker 10.77.0.20 5432 blocked "the guest cannot reach the database"
try attacker 10.77.0.10 22 blocked "ssh into web is denied by the explicit deny rule"
try web 10.78.0.10 443 blocked "web may not call out (egress only to db)"
try out 10.77.0.10 80 allowed "north-south: the outside host reaches web:80"
try attacker 10.78.0.10 443 allowed "the guest is not selected by any policy: open"
ping1 attacker 10.77.0.10 allowed "ICMP echo to web allowed by the native policy"

bold "3. Bad input changes nothing (apply is all-or-nothing)"
printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n    - ports:\n        - {protocol: TCP, port: http}\n' > $BULKHEAD_STATE_DIR/bad.yaml
run policy apply -f $BULKHEAD_STATE_DIR/bad.yaml
try attacker 10.77.0.10 80 allowed "still allowed after the rejected apply"

bold "4. Quarantine the attacker: one map update swaps its policy for deny-all"
run quarantine guest/attacker --reason "demo: suspicious scan"
try attacker 10.77.0.10 80 blocked "the quarantined workload is cut off"
try attacker 10.78.0.10 443 blocked "...from everything"
run workload list

bold "5. What the data path counted, with the reason behind each verdict"
run stats

bold "6. What the agent recorded: flows with verdicts and the rule behind them, and a timeline"
sleep 0.5
run flows --limit 12
run timeline guest/attacker

bold "7. Release, and clean up"
run release guest/attacker
try attacker 10.77.0.10 80 allowed "released: back to its policy"
run reset --yes
say "reset detached every program and removed every pin and the state."
if [ "$SURPRISES" -gt 0 ]; then
	echo; echo "demo: $SURPRISES result(s) differed from what the policy says; see above" >&2
	exit 1
fi
echo; echo "demo: every connection behaved as the policy says."
