#!/usr/bin/env bash
# The nftables backend against the BPF data path: the same workloads, the
# same policies and the same real flows (TCP, UDP, ICMP, ICMPv6 with
# neighbour discovery, east-west and north-south) run once with
# `backend = bpf` and once with `backend = nftables`: fixed policies
# (Kubernetes and native: pod and namespace selectors, a port range, an
# ipBlock with except, an explicit deny, ICMP, egress isolation) in
# enforce, quarantine (the forensics exception and its replies, an
# established connection cut), after release and in monitor mode, spoofed
# IPv4 and IPv6 sources, then policies from a seeded generator
# (tests/lib/policy_gen.py; BH_SEED=N repeats a run's draw). Every verdict
# must agree; a disagreement prints the policies, the flow and both
# verdicts. Some verdicts are also checked against what the fixed policies
# say, so two backends that failed alike cannot pass.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init nftdiff
T=bn$BH_TAG
command -v nft >/dev/null || bh_skip "nft (package nftables) is needed to inspect the table"

bh_mk_workload $T-a "$T"a 10.116.1.10/32 10.116.1.1     # shop/web
bh_mk_workload $T-b "$T"b 10.116.1.20/32 10.116.1.1     # shop/db
bh_mk_workload $T-c "$T"c 10.116.1.30/32 10.116.1.1     # guest/client
# the outside host: a plain routed veth, not a workload
ip netns add $T-o; bh_on_exit "bh_del_netns $T-o"
ip link add "$T"o type veth peer name eth0 netns $T-o; bh_on_exit "ip link del ${T}o"
ip addr add 10.116.2.1/24 dev "$T"o; ip link set "$T"o up
ip -n $T-o addr add 10.116.2.10/24 dev eth0; ip -n $T-o link set eth0 up
ip -n $T-o link set lo up; ip -n $T-o route add default via 10.116.2.1
# IPv6 on the three workloads, routed through the host like IPv4
old_fwd=$(sysctl -n net.ipv6.conf.all.forwarding)
bh_on_exit "sysctl -qw net.ipv6.conf.all.forwarding=$old_fwd"
sysctl -qw net.ipv6.conf.all.forwarding=1
for x in a:10 b:20 c:30; do
	n=${x%:*} h=${x#*:}
	ip netns exec $T-$n sysctl -qw net.ipv6.conf.eth0.accept_dad=0
	ip -n $T-$n addr add fd0a:116::$h/128 dev eth0 nodad
	ip addr add fd0a:116::1/128 dev "$T"$n nodad
	ip -6 route replace fd0a:116::$h/128 dev "$T"$n
	ip -n $T-$n -6 route add fd0a:116::1/128 dev eth0
	ip -n $T-$n -6 route add default via fd0a:116::1 dev eth0
done
# neighbour discovery needs the link-local addresses past their DAD
no_tentative() { ! ip ${2:+-n "$2"} -6 addr show dev "$1" tentative | grep -q inet6; }
for n in a b c; do
	bh_wait 100 no_tentative "$T"$n || fail "$T$n keeps a tentative address"
	bh_wait 100 no_tentative eth0 $T-$n || fail "eth0 in $T-$n keeps a tentative address"
done
# source addresses client does not own, routed back to it: only
# anti-spoofing stops a flow from them
ip -n $T-c addr add 10.116.1.99/32 dev eth0
ip route replace 10.116.1.99/32 dev "$T"c; bh_on_exit "ip route del 10.116.1.99/32"
ip -n $T-c addr add fd0a:116::99/128 dev eth0 nodad
ip -6 route replace fd0a:116::99/128 dev "$T"c; bh_on_exit "ip -6 route del fd0a:116::99/128"

declare -A ADDR=([a]=10.116.1.10 [b]=10.116.1.20 [c]=10.116.1.30 [o]=10.116.2.10)
declare -A ADDR6=([a]=fd0a:116::10 [b]=fd0a:116::20 [c]=fd0a:116::30)
SERVERS=()
serve_all() {
	local ns p
	for ns in a b c o; do
		for p in "tcp 80" "tcp 5432" "udp 53"; do
			set -- $p
			ip netns exec $T-$ns python3 "$TRAFFIC" serve $1 $2 240 >/dev/null 2>&1 &
			SERVERS+=($!)
			bh_on_exit "kill $! 2>/dev/null"
		done
	done
	for ns in a b c o; do
		for p in "tcp 80" "tcp 5432" "udp 53"; do
			bh_wait_listen $T-$ns $p
		done
	done
}
stop_servers() { local p; for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; SERVERS=(); }

P=$BULKHEAD_STATE_DIR/../nftdiff-$BH_TAG-policy.yaml
bh_on_exit "rm -f $P"
cat >$P <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from:
        - podSelector: {matchLabels: {app: web}}
        - namespaceSelector: {matchLabels: {team: blue}}
          podSelector: {matchExpressions: [{key: app, operator: In, values: [client]}]}
      ports:
        - {protocol: TCP, port: 5000, endPort: 5500}
    - from:
        - ipBlock: {cidr: 10.116.1.0/24, except: [10.116.1.30/32]}
      ports:
        - {protocol: UDP, port: 53}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
    - ports: [{protocol: TCP, port: 80}]
  egress:
    - to: [{podSelector: {matchLabels: {app: db}}}]
---
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: client-out, namespace: guest}
spec:
  selector: {matchLabels: {app: client}}
  egress:
    - action: deny
      to: [{ipBlock: {cidr: 10.116.2.0/24}}]
      ports: [{protocol: UDP, port: 53}]
---
apiVersion: bulkhead.io/v1
kind: Policy
metadata: {name: db-ping, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  ingress:
    - action: allow
      icmp: [{protocol: ICMP, type: 8}, {protocol: ICMPv6, type: 128}]
YAML
SEED=${BH_SEED:-$((RANDOM * 32768 + RANDOM))}
G=$BULKHEAD_STATE_DIR/../nftdiff-$BH_TAG-gen.yaml
bh_on_exit "rm -f $G"
python3 "$BH_ROOT/tests/lib/policy_gen.py" $SEED >$G
echo "generated policies: seed $SEED (BH_SEED=$SEED repeats them)"

# One probe: "ok" if the flow was answered, "no" if not.
probe() {
	local src=$1 dst=$2 what=$3
	case $what in
	tcp*) bh_tcp $T-$src ${ADDR[$dst]} ${what#tcp} ;;
	udp*) bh_udp $T-$src ${ADDR[$dst]} ${what#udp} ;;
	icmp) bh_ping $T-$src ${ADDR[$dst]} ;;
	icmp6) ip netns exec $T-$src ping -6 -c1 -W1 ${ADDR6[$dst]} >/dev/null 2>&1 ;;
	spoof) ip netns exec $T-$src ping -c1 -W1 -I 10.116.1.99 ${ADDR[$dst]} >/dev/null 2>&1 ;;
	spoof6) ip netns exec $T-$src ping -6 -c1 -W1 -I fd0a:116::99 ${ADDR6[$dst]} >/dev/null 2>&1 ;;
	esac && echo ok || echo no
}

# The matrix: every ordered pair of hosts (SRC, DST limit it when given)
# and every kind of flow; one line "SRC>DST KIND VERDICT" per flow. Each
# pair probes in its own process (every flow has its own source port or
# ICMP identifier), and the lines come out in a fixed order.
pair() {
	local s=$1 d=$2 k
	for k in tcp80 tcp5432 udp53 icmp icmp6; do
		[ $k = icmp6 ] && { [ $s = o ] || [ $d = o ]; } && continue
		echo "$s>$d $k $(probe $s $d $k)"
	done
}
matrix() {
	local only=${1:-} s d pids=() files=()
	for s in a b c o; do
		for d in a b c o; do
			[ $s = $d ] && continue
			[ -n "$only" ] && [ $s != $only ] && [ $d != $only ] && continue
			pair $s $d >$DIR/m.$s$d &
			pids+=($!) files+=($DIR/m.$s$d)
		done
	done
	wait "${pids[@]}"
	cat "${files[@]}"
}

run_backend() {
	local be=$1 out=$2
	mkdir -p "$BULKHEAD_STATE_DIR"
	printf 'backend = %s\nforensics.cidr = 10.116.2.0/24\nforensics.port = tcp/5432\n' "$be" \
		>"$BULKHEAD_STATE_DIR/config"
	serve_all
	expect_ok "$be: attach web" $BH attach "$T"a --workload shop/web --ip 10.116.1.10 \
		--ip fd0a:116::10 --label app=web
	expect_ok "$be: attach db" $BH attach "$T"b --workload shop/db --ip 10.116.1.20 \
		--ip fd0a:116::20 --label app=db
	expect_ok "$be: attach client" $BH attach "$T"c --workload guest/client --ip 10.116.1.30 \
		--ip fd0a:116::30 --label app=client
	expect_ok "$be: namespace label" $BH namespace label guest team=blue
	expect_ok "$be: apply policies" $BH policy apply -f $P
	{
		matrix | sed 's/^/enforce /'
		echo "enforce c>o spoof $(probe c o spoof)"
		echo "enforce c>b spoof6 $(probe c b spoof6)"
	} >"$out"
	# a connection established before the quarantine is cut by it
	local log=$DIR/hold.$be hold
	ip netns exec $T-a python3 "$TRAFFIC" hold ${ADDR[b]} 5432 120 "$log" &
	hold=$!
	bh_on_exit "kill $hold 2>/dev/null"
	bh_wait 200 bh_at_least bh_oks_since "$log" 0 6 || fail "$be: no round trips on the held connection"
	expect_ok "$be: quarantine db" $BH quarantine shop/db --reason test
	bh_cut_window "$log" 5
	echo "quarantine a>b held-tcp5432 $([ "$BH_CUT_OKS" = 0 ] && echo no || echo ok)" >>"$out"
	kill $hold 2>/dev/null; wait $hold 2>/dev/null
	{
		matrix b | sed 's/^/quarantine /'
		$BH release shop/db >/dev/null || echo "release failed"
		matrix b | sed 's/^/released /'
		$BH mode shop/db monitor >/dev/null || echo "mode failed"
		matrix b | sed 's/^/monitor /'
		$BH mode shop/db enforce >/dev/null || echo "mode failed"
		for p in shop/db shop/web guest/client-out shop/db-ping; do
			$BH policy delete $p >/dev/null || echo "policy delete $p failed"
		done
		$BH policy apply -f $G >/dev/null || echo "generated policies refused"
		matrix | sed 's/^/seeded /'
	} >>"$out"
	if [ $be = nftables ]; then
		expect_ok "nftables: nothing BPF is pinned" bash -c "! ls '$BULKHEAD_BPFFS'/bh_* 2>/dev/null | grep -q ."
		expect_ok "nftables: one table of this instance" \
			bash -c "nft list tables | grep -q 'inet bulkhead_'"
	fi
	expect_ok "$be: reset" $BH reset --yes
	stop_servers
}

DIR=$(mktemp -d /tmp/bh-nftdiff.XXXXXX); bh_on_exit "rm -rf $DIR"
# without bulkhead the spoofed flow passes: its denial below is the check's
expect_eq "no enforcement: the spoofed source gets an answer" ok "$(probe c o spoof)"
expect_eq "no enforcement: the spoofed IPv6 source gets an answer" ok "$(probe c b spoof6)"
nft list tables >$DIR/tables.before
run_backend bpf $DIR/bpf
run_backend nftables $DIR/nft
expect_ok "reset removed the nftables table" bash -c "nft list tables | diff -q $DIR/tables.before - >/dev/null"

# Every verdict agrees.
n=$(wc -l <$DIR/bpf)
expect_eq "both backends ran the same flows" "$(cut -d' ' -f1-3 $DIR/bpf)" "$(cut -d' ' -f1-3 $DIR/nft)"
if diff <(cut -d' ' -f1-3 $DIR/bpf) <(cut -d' ' -f1-3 $DIR/nft) >/dev/null; then
	dis=$(paste -d' ' $DIR/bpf $DIR/nft | awk '$4 != $8 {print $1, $2, $3, "bpf=" $4, "nftables=" $8}')
	if [ -z "$dis" ]; then
		ok "all $n verdicts agree"
	else
		fail "verdicts disagree:"
		echo "$dis" | sed 's/^/    /'
		echo "  policy (phases enforce .. monitor):"; sed 's/^/    /' $P
		echo "  policy (phase seeded, seed $SEED):"; sed 's/^/    /' $G
	fi
fi

# Against the policy itself (the same lines in both files now).
want() {
	local line=$1 v=$2
	grep -qx "$line $v" $DIR/nft && grep -qx "$line $v" $DIR/bpf
}
expect_ok "web -> db:5432 allowed (selector, port range)" want "enforce a>b tcp5432" ok
expect_ok "client -> db:5432 allowed (ns+pod selector)" want "enforce c>b tcp5432" ok
expect_ok "client -> db:80 denied (outside range)" want "enforce c>b tcp80" no
expect_ok "web -> db udp/53 allowed (ipBlock)" want "enforce a>b udp53" ok
expect_ok "client -> db udp/53 denied (ipBlock except)" want "enforce c>b udp53" no
expect_ok "web -> client denied (web egress)" want "enforce a>c tcp80" no
expect_ok "outside -> web:80 allowed, reply through web's egress" want "enforce o>a tcp80" ok
expect_ok "client -> outside udp/53 denied (explicit deny)" want "enforce c>o udp53" no
expect_ok "client -> outside tcp/80 allowed (deny-only policy)" want "enforce c>o tcp80" ok
expect_ok "outside -> db icmp echo allowed (native ICMP rule)" want "enforce o>b icmp" ok
expect_ok "outside -> db tcp/80 denied (isolated)" want "enforce o>b tcp80" no
expect_ok "spoofed source denied" want "enforce c>o spoof" no
expect_ok "spoofed IPv6 source denied" want "enforce c>b spoof6" no
expect_ok "client -> db icmpv6 echo allowed (native ICMPv6 rule, ND passes)" want "enforce c>b icmp6" ok
expect_ok "client -> web icmpv6 denied (isolated)" want "enforce c>a icmp6" no
expect_ok "quarantine: outside -> db:5432 (forensics) with replies" want "quarantine o>b tcp5432" ok
expect_ok "quarantine: web -> db:5432 cut" want "quarantine a>b tcp5432" no
expect_ok "quarantine: the established web -> db:5432 cut" want "quarantine a>b held-tcp5432" no
expect_ok "quarantine: db -> outside cut" want "quarantine b>o tcp80" no
expect_ok "released: web -> db:5432 again" want "released a>b tcp5432" ok
expect_ok "monitor: client -> db:80 passes" want "monitor c>b tcp80" ok
