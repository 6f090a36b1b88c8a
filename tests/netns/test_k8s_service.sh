#!/usr/bin/env bash
# Services: egress to a ClusterIP is judged on the backend kube-proxy's
# DNAT chose, as Kubernetes judges it. One "node" network namespace holds
# the bulkhead instance, its agent (watching the stand-in API server
# tests/lib/k8s_apiserver.py, a test double) and kube-proxy's rules,
# written the way kube-proxy writes them: first its iptables mode
# (KUBE-SERVICES, KUBE-SVC-*, KUBE-SEP-* with statistic --mode random),
# then its nftables mode (table ip kube-proxy, the service-ips verdict
# map, numgen random). Pods are network namespaces behind veths on the
# node. In namespace x a default-deny egress policy with the allow-DNS
# rule users write, plus, for x/client: app=db on the pods' port 5432,
# app=web on the Service's port 80 (not the pods' 8080) and the
# ClusterIP range as an ipBlock, which under Kubernetes semantics admit
# nothing behind a Service. The db and web Services are dual-stack: their
# IPv6 ClusterIPs go through ip6tables, then table ip6 kube-proxy. The
# rdb and rweb Services have their backends on a second node (a network
# namespace the node's default route leads to), so their translated
# packets leave through the node's uplink. A Service kube-proxy has no
# rule for is judged on its address, never let through unjudged; an
# external IP is judged on the backend like the ClusterIP; a pod closed at
# birth (bulkhead-cni, the API does not have it yet) resolves through the
# kube-dns Service and reaches nothing else.
#
# BH_SVC_HOOK=tc (test_k8s_service_tc.sh): the same checks with
# `service_hook = tc` and `tc_attach = clsact`, the way a kernel without
# BPF netfilter links (Debian 12's 6.1) judges Services
# (BH_SVC_TC_ATTACH=tcx: test_k8s_service_tcx.sh); BH_SVC_NET is the
# addresses' second octet, BH_SVC_PORT the API server's port.
source "$(dirname "$0")/../lib/common.sh"
SVC_HOOK=${BH_SVC_HOOK:-auto}
A=${BH_SVC_NET:-113}
bh_test_init "k8ssvc$SVC_HOOK"
T=${BH_SVC_PREFIX:-ks}$BH_TAG
D=$BULKHEAD_STATE_DIR
API=$BH_ROOT/tests/lib/k8s_apiserver.py
PROBE=$BH_ROOT/tests/lib/svc_probe.py
PORT=${BH_SVC_PORT:-22300}
CPORT=$((PORT + 1))
N=$T-node
SVC_ATTACH=${BH_SVC_TC_ATTACH:-clsact}
if [ "$SVC_HOOK" = tc ]; then
	printf 'service_hook = tc\ntc_attach = %s\n' "$SVC_ATTACH" >>"$D/config"
fi
command -v nsenter >/dev/null || bh_skip "nsenter not installed"
command -v iptables >/dev/null || bh_skip "iptables not installed"
onn() { nsenter --net=/run/netns/$N "$@"; }

# ----------------------------------------------------------------- node
ip netns add $N
bh_on_exit "bh_del_netns $N"
bh_on_exit "nsenter --net=/run/netns/$N $BH reset --yes"
ip link add "$T"u type veth peer name uplink netns $N
bh_on_exit "ip link del ${T}u"
ip addr add 10.$A.0.1/30 dev "$T"u
ip link set "$T"u up
ip -n $N addr add 10.$A.0.2/30 dev uplink
ip -n $N link set uplink up
ip -n $N link set lo up
ip netns exec $N sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.forwarding=1

# node-2: pods' addresses on its loopback, routed from the node's default
# route (the uplink the tc hook finds by itself)
N2=$T-n2
ip netns add $N2
bh_on_exit "bh_del_netns $N2"
ip -n $N link add n2link type veth peer name eth0 netns $N2
ip -n $N addr add 10.$A.3.1/30 dev n2link
ip -n $N link set n2link up
ip -n $N2 addr add 10.$A.3.2/30 dev eth0
ip -n $N2 link set eth0 up
ip -n $N2 link set lo up
ip -n $N2 addr add 10.$A.2.61/32 dev lo
ip -n $N2 addr add 10.$A.2.62/32 dev lo
ip -n $N2 route add 10.$A.1.0/24 via 10.$A.3.1
ip -n $N route add default via 10.$A.3.2 dev n2link

# pod NS NAME N LABELS: a pod netns with 10.$A.1.N and fd0a:$A:1::N
# behind a host veth on the node, attached as NS/NAME, and its API object
pod() {
	local ns=$1 name=$2 n=$3 labels=$4 p=$T-$2 h=$T$2 v4=10.$A.1.$3 v6=fd0a:$A:1::$3
	ip netns add "$p"
	bh_on_exit "bh_del_netns $p"
	ip -n $N link add "$h" type veth peer name eth0 netns "$p"
	ip -n "$p" addr add $v4/32 dev eth0
	ip -n "$p" -6 addr add $v6/128 dev eth0 nodad
	ip -n "$p" link set lo up
	ip -n "$p" link set eth0 up
	ip -n "$p" route add 10.$A.1.1 dev eth0
	ip -n "$p" route add default via 10.$A.1.1 dev eth0
	ip -n "$p" -6 route add fe80::1 dev eth0
	ip -n "$p" -6 route add default via fe80::1 dev eth0
	ip -n $N link set "$h" up
	ip -n $N addr add 10.$A.1.1/32 dev "$h" 2>/dev/null
	ip -n $N -6 addr add fe80::1/64 dev "$h" nodad 2>/dev/null
	ip -n $N route replace $v4/32 dev "$h"
	ip -n $N -6 route replace $v6/128 dev "$h"
	ip netns exec $N sysctl -qw "net.ipv4.conf.$h.proxy_arp=1" "net.ipv6.conf.$h.proxy_ndp=1"
	ip -n $N -6 neigh add proxy $v6 dev "$h" 2>/dev/null
	onn $BH attach "$h" --workload $ns/$name --ip $v4 --ip $v6 >/dev/null || fail "attach $ns/$name"
	put pods "{\"metadata\": {\"name\": \"$name\", \"namespace\": \"$ns\", \"labels\": $labels},
		\"spec\": {\"nodeName\": \"node-1\"},
		\"status\": {\"phase\": \"Running\", \"podIP\": \"$v4\", \"podIPs\": [{\"ip\": \"$v4\"}, {\"ip\": \"$v6\"}]}}"
}
# remote_pod NS NAME IP LABELS: a pod of node-2, the API's object only
remote_pod() {
	put pods "{\"metadata\": {\"name\": \"$2\", \"namespace\": \"$1\", \"labels\": $4},
		\"spec\": {\"nodeName\": \"node-2\"},
		\"status\": {\"phase\": \"Running\", \"podIP\": \"$3\", \"podIPs\": [{\"ip\": \"$3\"}]}}"
}
# serve POD MODE ARGS...: a svc_probe.py server in the pod, up before we go on
serve() {
	local p=$T-$1 mode=$2 port=$3
	shift 3
	ip netns exec "$p" python3 "$PROBE" "$mode" "$port" "$@" >/dev/null 2>&1 &
	bh_on_exit "kill $!"
	bh_wait_listen "$p" tcp "$port"
}

ctl() { python3 "$API" ctl "http://127.0.0.1:$CPORT" "$@"; }
put() { ctl put "{\"resource\": \"$1\", \"object\": $2}" >/dev/null; }
# service NS NAME CLUSTERIP[,CLUSTERIP6] PORT/PROTO... : the Service object
service() {
	local ns=$1 name=$2 ip=${3%,*} ips=\"${3/,/\", \"}\" ports="" pp
	shift 3
	for pp in "$@"; do
		ports="$ports${ports:+, }{\"name\": \"p${pp%/*}\", \"port\": ${pp%/*}, \"protocol\": \"${pp#*/}\"}"
	done
	put services "{\"metadata\": {\"name\": \"$name\", \"namespace\": \"$ns\"},
		\"spec\": {\"type\": \"ClusterIP\", \"clusterIP\": \"$ip\", \"clusterIPs\": [$ips], \"ports\": [$ports]}}"
}

python3 "$API" serve --listen 10.$A.0.1:$PORT --control 127.0.0.1:$CPORT --token t0k \
	--bookmark-seconds 0.5 >"$D/api.log" 2>&1 &
bh_on_exit "kill $!"
bh_wait 50 ctl stats
for ns in x y kube-system; do
	put namespaces "{\"metadata\": {\"name\": \"$ns\", \"labels\": {\"kubernetes.io/metadata.name\": \"$ns\"}}}"
done
pod x client 10 '{"app": "client"}'
pod x db1 21 '{"app": "db"}'
pod x db2 22 '{"app": "db"}'
pod x web 30 '{"app": "web"}'
pod kube-system dns 53 '{"k8s-app": "kube-dns"}'
pod y other 40 '{"app": "other"}'
serve db1 ident 5432 db1 300
serve db2 ident 5432 db2 300
serve web ident 8080 web 300
serve dns dns 53 300
serve dns ident 9153 metrics 300
remote_pod x db3 10.$A.2.61 '{"app": "db"}'
remote_pod x web2 10.$A.2.62 '{"app": "web"}'
serve n2 ident 5432 db3 300
serve n2 ident 8080 web2 300

service x db 10.$A.200.10,fd0a:$A:200::10 5432/TCP
service x web 10.$A.200.11,fd0a:$A:200::11 80/TCP
service kube-system kube-dns 10.$A.200.53 53/UDP 53/TCP 9153/TCP
service x rdb 10.$A.200.20 5432/TCP
service x rweb 10.$A.200.21 80/TCP
# (the agent needs only the Services; EndpointSlices as the API has them)
put endpointslices '{"metadata": {"name": "db-1", "namespace": "x", "labels": {"kubernetes.io/service-name": "db"}},
	"addressType": "IPv4", "ports": [{"port": 5432, "protocol": "TCP"}],
	"endpoints": [{"addresses": ["10.'$A'.1.21"]}, {"addresses": ["10.'$A'.1.22"]}]}'

# ------------------------------------------------ kube-proxy, iptables mode
IPT="onn iptables -w"
kp_iptables() {
	local IPT=$IPT CIDR=$CIDR
	kp_ipt_common
	ipt_svc x/db:p5432 DBTCP5432AAAAAA 10.$A.200.10 5432 tcp 10.$A.1.21:5432 10.$A.1.22:5432
	ipt_svc x/web:p80 WEBTCP80AAAAAAA 10.$A.200.11 80 tcp 10.$A.1.30:8080
	ipt_svc kube-system/kube-dns:p53 DNSUDP53AAAAAAA 10.$A.200.53 53 udp 10.$A.1.53:53
	ipt_svc kube-system/kube-dns:p53 DNSTCP53AAAAAAA 10.$A.200.53 53 tcp 10.$A.1.53:53
	ipt_svc kube-system/kube-dns:p9153 DNSTCP9153AAAAA 10.$A.200.53 9153 tcp 10.$A.1.53:9153
	ipt_svc x/rdb:p5432 RDBTCP5432AAAAA 10.$A.200.20 5432 tcp 10.$A.2.61:5432
	ipt_svc x/rweb:p80 RWEBTCP80AAAAAA 10.$A.200.21 80 tcp 10.$A.2.62:8080
	IPT="onn ip6tables -w" CIDR=fd0a:$A:1::/64
	kp_ipt_common
	ipt_svc x/db:p5432 DBTCP5432AAAAAA fd0a:$A:200::10 5432 tcp [fd0a:$A:1::21]:5432 [fd0a:$A:1::22]:5432
	ipt_svc x/web:p80 WEBTCP80AAAAAAA fd0a:$A:200::11 80 tcp [fd0a:$A:1::30]:8080
}
kp_ipt_common() {
	$IPT -t nat -N KUBE-SERVICES
	$IPT -t nat -N KUBE-MARK-MASQ
	$IPT -t nat -N KUBE-POSTROUTING
	$IPT -t nat -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
	$IPT -t nat -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
	$IPT -t nat -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
	$IPT -t nat -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" \
		-j MASQUERADE --random-fully
	$IPT -t nat -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
	$IPT -t nat -A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
	$IPT -t nat -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
}
CIDR=10.$A.1.0/24
# ipt_svc COMMENT HASH CLUSTERIP PORT PROTO BACKEND:PORT...: one service port
ipt_svc() {
	local name=$1 h=$2 ip=$3 port=$4 proto=$5 i=0 left sep ep host
	shift 5
	$IPT -t nat -N KUBE-SVC-$h
	$IPT -t nat -A KUBE-SERVICES -d $ip -p $proto -m comment --comment "$name cluster IP" \
		-m $proto --dport $port -j KUBE-SVC-$h
	$IPT -t nat -A KUBE-SVC-$h ! -s $CIDR -d $ip -p $proto \
		-m comment --comment "$name cluster IP" -m $proto --dport $port -j KUBE-MARK-MASQ
	for ep in "$@"; do
		i=$((i + 1))
		sep=KUBE-SEP-${h:0:14}$i
		left=$(($# - i + 1))
		$IPT -t nat -N $sep
		host=${ep%:*}
		host=${host#[}
		$IPT -t nat -A $sep -s ${host%]} -m comment --comment "$name" -j KUBE-MARK-MASQ
		$IPT -t nat -A $sep -p $proto -m comment --comment "$name" -m $proto -j DNAT --to-destination $ep
		if [ $left -gt 1 ]; then
			$IPT -t nat -A KUBE-SVC-$h -m comment --comment "$name -> $ep" -m statistic --mode random \
				--probability "$(awk "BEGIN { printf \"%.11f\", 1 / $left }")" -j $sep
		else
			$IPT -t nat -A KUBE-SVC-$h -m comment --comment "$name -> $ep" -j $sep
		fi
	done
}

# ----------------------------------------------- kube-proxy, nftables mode
kp_nft() {
	onn nft -f - <<NFT
table ip kube-proxy {
	comment "rules for kube-proxy"
	chain mark-for-masquerade {
		meta mark set meta mark or 0x4000
	}
	chain masquerading {
		meta mark & 0x4000 == 0 return
		meta mark set meta mark xor 0x4000
		masquerade fully-random
	}
	chain services {
		ip daddr . meta l4proto . th dport vmap @service-ips
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	chain nat-output {
		type nat hook output priority -100; policy accept;
		jump services
	}
	chain nat-postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump masquerading
	}
	chain endpoint-5OJB2KTY-x/db/tcp/p5432__10.$A.1.21/5432 {
		ip saddr 10.$A.1.21 jump mark-for-masquerade
		meta l4proto tcp dnat to 10.$A.1.21:5432
	}
	chain endpoint-KPLRZQ3U-x/db/tcp/p5432__10.$A.1.22/5432 {
		ip saddr 10.$A.1.22 jump mark-for-masquerade
		meta l4proto tcp dnat to 10.$A.1.22:5432
	}
	chain service-HVFWP5L3-x/db/tcp/p5432 {
		ip daddr 10.$A.200.10 tcp dport 5432 ip saddr != 10.$A.1.0/24 jump mark-for-masquerade
		numgen random mod 2 vmap { 0 : goto endpoint-5OJB2KTY-x/db/tcp/p5432__10.$A.1.21/5432, 1 : goto endpoint-KPLRZQ3U-x/db/tcp/p5432__10.$A.1.22/5432 }
	}
	chain endpoint-WQ4TJ2PB-x/web/tcp/p80__10.$A.1.30/8080 {
		ip saddr 10.$A.1.30 jump mark-for-masquerade
		meta l4proto tcp dnat to 10.$A.1.30:8080
	}
	chain service-7OUXZ2SA-x/web/tcp/p80 {
		ip daddr 10.$A.200.11 tcp dport 80 ip saddr != 10.$A.1.0/24 jump mark-for-masquerade
		numgen random mod 1 vmap { 0 : goto endpoint-WQ4TJ2PB-x/web/tcp/p80__10.$A.1.30/8080 }
	}
	chain endpoint-IT2ZTR26-kube-system/kube-dns/udp/p53__10.$A.1.53/53 {
		ip saddr 10.$A.1.53 jump mark-for-masquerade
		meta l4proto udp dnat to 10.$A.1.53:53
	}
	chain service-ERIFXISQ-kube-system/kube-dns/udp/p53 {
		ip daddr 10.$A.200.53 udp dport 53 ip saddr != 10.$A.1.0/24 jump mark-for-masquerade
		numgen random mod 1 vmap { 0 : goto endpoint-IT2ZTR26-kube-system/kube-dns/udp/p53__10.$A.1.53/53 }
	}
	chain endpoint-YVQHLQSG-kube-system/kube-dns/tcp/p53__10.$A.1.53/53 {
		ip saddr 10.$A.1.53 jump mark-for-masquerade
		meta l4proto tcp dnat to 10.$A.1.53:53
	}
	chain service-FQCQ4ZSA-kube-system/kube-dns/tcp/p53 {
		ip daddr 10.$A.200.53 tcp dport 53 ip saddr != 10.$A.1.0/24 jump mark-for-masquerade
		numgen random mod 1 vmap { 0 : goto endpoint-YVQHLQSG-kube-system/kube-dns/tcp/p53__10.$A.1.53/53 }
	}
	chain endpoint-ZP3FB2SI-kube-system/kube-dns/tcp/p9153__10.$A.1.53/9153 {
		ip saddr 10.$A.1.53 jump mark-for-masquerade
		meta l4proto tcp dnat to 10.$A.1.53:9153
	}
	chain service-AS2KJYAD-kube-system/kube-dns/tcp/p9153 {
		ip daddr 10.$A.200.53 tcp dport 9153 ip saddr != 10.$A.1.0/24 jump mark-for-masquerade
		numgen random mod 1 vmap { 0 : goto endpoint-ZP3FB2SI-kube-system/kube-dns/tcp/p9153__10.$A.1.53/9153 }
	}
	chain endpoint-R3DB6Q2X-x/rdb/tcp/p5432__10.$A.2.61/5432 {
		ip saddr 10.$A.2.61 jump mark-for-masquerade
		meta l4proto tcp dnat to 10.$A.2.61:5432
	}
	chain service-R3DBK7ZQ-x/rdb/tcp/p5432 {
		ip daddr 10.$A.200.20 tcp dport 5432 ip saddr != 10.$A.1.0/24 jump mark-for-masquerade
		numgen random mod 1 vmap { 0 : goto endpoint-R3DB6Q2X-x/rdb/tcp/p5432__10.$A.2.61/5432 }
	}
	chain endpoint-RW3B5N2K-x/rweb/tcp/p80__10.$A.2.62/8080 {
		ip saddr 10.$A.2.62 jump mark-for-masquerade
		meta l4proto tcp dnat to 10.$A.2.62:8080
	}
	chain service-RWEBQ4LM-x/rweb/tcp/p80 {
		ip daddr 10.$A.200.21 tcp dport 80 ip saddr != 10.$A.1.0/24 jump mark-for-masquerade
		numgen random mod 1 vmap { 0 : goto endpoint-RW3B5N2K-x/rweb/tcp/p80__10.$A.2.62/8080 }
	}
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
		elements = { 10.$A.200.20 . tcp . 5432 : goto service-R3DBK7ZQ-x/rdb/tcp/p5432,
			     10.$A.200.21 . tcp . 80 : goto service-RWEBQ4LM-x/rweb/tcp/p80,
			     10.$A.200.10 . tcp . 5432 : goto service-HVFWP5L3-x/db/tcp/p5432,
			     10.$A.200.11 . tcp . 80 : goto service-7OUXZ2SA-x/web/tcp/p80,
			     10.$A.200.53 . udp . 53 : goto service-ERIFXISQ-kube-system/kube-dns/udp/p53,
			     10.$A.200.53 . tcp . 53 : goto service-FQCQ4ZSA-kube-system/kube-dns/tcp/p53,
			     10.$A.200.53 . tcp . 9153 : goto service-AS2KJYAD-kube-system/kube-dns/tcp/p9153 }
	}
}
NFT
	onn nft -f - <<NFT
table ip6 kube-proxy {
	comment "rules for kube-proxy"
	chain mark-for-masquerade {
		meta mark set meta mark or 0x4000
	}
	chain masquerading {
		meta mark & 0x4000 == 0 return
		meta mark set meta mark xor 0x4000
		masquerade fully-random
	}
	chain services {
		ip6 daddr . meta l4proto . th dport vmap @service-ips
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	chain nat-output {
		type nat hook output priority -100; policy accept;
		jump services
	}
	chain nat-postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump masquerading
	}
	chain endpoint-IMK2NB3S-x/db/tcp/p5432__fd0a.$A.1..21/5432 {
		ip6 saddr fd0a:$A:1::21 jump mark-for-masquerade
		meta l4proto tcp dnat to [fd0a:$A:1::21]:5432
	}
	chain endpoint-Q2F7BOLW-x/db/tcp/p5432__fd0a.$A.1..22/5432 {
		ip6 saddr fd0a:$A:1::22 jump mark-for-masquerade
		meta l4proto tcp dnat to [fd0a:$A:1::22]:5432
	}
	chain service-QW2C4JTV-x/db/tcp/p5432 {
		ip6 daddr fd0a:$A:200::10 tcp dport 5432 ip6 saddr != fd0a:$A:1::/64 jump mark-for-masquerade
		numgen random mod 2 vmap { 0 : goto endpoint-IMK2NB3S-x/db/tcp/p5432__fd0a.$A.1..21/5432, 1 : goto endpoint-Q2F7BOLW-x/db/tcp/p5432__fd0a.$A.1..22/5432 }
	}
	chain endpoint-V3ZR5NKE-x/web/tcp/p80__fd0a.$A.1..30/8080 {
		ip6 saddr fd0a:$A:1::30 jump mark-for-masquerade
		meta l4proto tcp dnat to [fd0a:$A:1::30]:8080
	}
	chain service-XO4V2JEY-x/web/tcp/p80 {
		ip6 daddr fd0a:$A:200::11 tcp dport 80 ip6 saddr != fd0a:$A:1::/64 jump mark-for-masquerade
		numgen random mod 1 vmap { 0 : goto endpoint-V3ZR5NKE-x/web/tcp/p80__fd0a.$A.1..30/8080 }
	}
	map service-ips {
		type ipv6_addr . inet_proto . inet_service : verdict
		comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
		elements = { fd0a:$A:200::10 . tcp . 5432 : goto service-QW2C4JTV-x/db/tcp/p5432,
			     fd0a:$A:200::11 . tcp . 80 : goto service-XO4V2JEY-x/web/tcp/p80 }
	}
}
NFT
}

# ----------------------------------------------------------------- agent
cat >"$D/kubeconfig" <<YAML
apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "http://10.$A.0.1:$PORT"}}]
users: [{name: u, user: {token: t0k}}]
YAML
printf 'kubernetes: {kubeconfig: %s, node: node-1}\n' "$D/kubeconfig" >"$D/agent.yaml"
kp_iptables || fail "kube-proxy's iptables rules"
onn $BH agent --config "$D/agent.yaml" >"$D/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT"
frontends() { bpftool -j map dump pinned "$BULKHEAD_BPFFS/bh_svc_v1" 2>/dev/null | jq length; }
has_frontends() { [ "$(frontends)" = 9 ]; }
if ! bh_wait 150 has_frontends; then
	if grep -q "stays judged on the ClusterIP" "$D/agent.log"; then
		grep "Services" "$D/agent.log" | tail -1
		uname -r | awk -F. '$1 < 6 || ($1 == 6 && $2 < 4) { exit 1 }' ||
			bh_skip_unfixable kernel "BPF netfilter links need Linux 6.4"
	fi
	fail "the agent put the 9 Service frontends in bh_svc_v1 (has $(frontends))"
	cat "$D/agent.log"
	exit 1
fi
ok "the agent attached the Services hook and put the 9 Service frontends in bh_svc_v1"
if [ "$SVC_HOOK" = tc ]; then
	expect_fail "service_hook = tc: no netfilter link is pinned" test -e "$BULKHEAD_BPFFS/link_svc_nat4"
	expect_ok "service_hook = tc: the tc program is pinned" test -e "$BULKHEAD_BPFFS/prog_svc_tc"
	# on egress, ahead of bulkhead's own program on host veths: a lower
	# clsact priority, or the front of the tcx list
	if [ "$SVC_ATTACH" = clsact ]; then
		svc_on() { onn tc filter show dev "$1" egress | grep -q "pref 179 bpf.*bh_svc_at_egr"; }
	else
		svc_on() { onn $BH --json debug hooks "$1" | jq -e '.tcx_egress[0].name | startswith("bh_svc_at_egr")' >/dev/null; }
	fi
	for h in ${T}client ${T}db1 ${T}web ${T}dns n2link; do
		expect_ok "service_hook = tc: the tc program is first on $SVC_ATTACH egress of $h" svc_on $h
	done
	expect_fail "service_hook = tc: not on the API's link (no default route there)" svc_on uplink
	expect_ok "doctor: the tc hook judges the 9 frontends, on every host veth and on n2link" \
		bash -c "nsenter --net=/run/netns/$N $BH doctor | grep -Eq '^ok +services +9 Service frontends, judged on the backend by the tc hook on [0-9]+ host veths and on n2link$'"
else
	expect_ok "the hook's links are pinned" test -e "$BULKHEAD_BPFFS/link_svc_nat4" -a \
		-e "$BULKHEAD_BPFFS/link_svc_nat6"
	expect_ok "doctor: the netfilter hook judges the 9 frontends" \
		bash -c "nsenter --net=/run/netns/$N $BH doctor | grep -Eq '^ok +services +9 Service frontends, judged on the backend by the netfilter hook'"
fi

from() { local p=$T-$1; shift; ip netns exec "$p" python3 "$PROBE" "$@"; }
# backends POD CLUSTERIP PORT N: N connections through the Service, each
# answered; prints the backends' names that answered, sorted, unique
backends() {
	local i out seen=""
	for i in $(seq "$4"); do
		out=$(from "$1" who "$2" "$3") || { echo "FAILED"; return 1; }
		seen="$seen $out"
	done
	tr ' ' '\n' <<<"$seen" | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# No policy yet: every Service works through the DNAT, flagged flows are
# let through by the hook (nothing isolates the workloads)
expect_eq "no policy: x/client -> web's ClusterIP reaches web" web "$(backends client 10.$A.200.11 80 1)"
expect_ok "no policy: x/client -> kube-dns (UDP) answers" from client dig 10.$A.200.53 53 db.x.svc
expect_eq "no policy: x/client -> metrics port reaches it" metrics "$(backends client 10.$A.200.53 9153 1)"

put networkpolicies '{"metadata": {"name": "default-deny-egress", "namespace": "x"}, "spec": {
	"podSelector": {}, "policyTypes": ["Egress"],
	"egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
	                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
	            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}}'
put networkpolicies '{"metadata": {"name": "client-out", "namespace": "x"}, "spec": {
	"podSelector": {"matchLabels": {"app": "client"}}, "policyTypes": ["Egress"],
	"egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"protocol": "TCP", "port": 5432}]},
	           {"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"protocol": "TCP", "port": 80}]},
	           {"to": [{"ipBlock": {"cidr": "10.'$A'.200.0/24"}}]}]}}'
have_pols() { [ "$(onn $BH --json policy list | jq '[.[] | select(.name == "client-out" or .name == "default-deny-egress")] | length')" = 2 ]; }
expect_ok "the policies arrived" bh_wait 100 have_pols
bh_wait 50 bash -c "! ip netns exec $T-client python3 $PROBE who 10.$A.200.11 80"

cases() {
	local mode=$1 got
	got=$(backends client 10.$A.200.10 5432 24)
	expect_eq "$mode: x/client -> db's ClusterIP (app=db, port 5432 allowed): 24 of 24 answered, by both backends" \
		"db1 db2" "$got"
	expect_eq "$mode: x/client -> db1's address directly" db1 "$(backends client 10.$A.1.21 5432 1)"
	expect_fail "$mode: x/client -> web's ClusterIP denied (the policy names the Service's port 80, the pod's is 8080; the ClusterIP range admits no backend)" \
		from client who 10.$A.200.11 80
	expect_fail "$mode: x/client -> web's address directly denied" from client who 10.$A.1.30 8080
	expect_ok "$mode: DNS through the kube-dns Service (UDP) under default-deny egress" \
		from client dig 10.$A.200.53 53 db.x.svc.cluster.local
	expect_ok "$mode: DNS through the kube-dns Service (TCP)" from client dig 10.$A.200.53 53 db.x tcp
	expect_ok "$mode: DNS from x/db1 (default-deny egress only) through the Service" \
		from db1 dig 10.$A.200.53 53 web.x
	expect_fail "$mode: x/client -> kube-dns's metrics port 9153 denied (DNS is allowed on 53 only)" \
		from client who 10.$A.200.53 9153
	expect_fail "$mode: x/db1 -> db's ClusterIP denied (its egress admits DNS only)" \
		from db1 who 10.$A.200.10 5432
	expect_eq "$mode: y/other (no policy) -> web's ClusterIP" web "$(backends other 10.$A.200.11 80 1)"
	expect_eq "$mode: remote backend: x/client -> rdb's ClusterIP (app=db on node-2, port 5432 allowed)" \
		db3 "$(backends client 10.$A.200.20 5432 4)"
	expect_fail "$mode: remote backend: x/client -> rweb's ClusterIP denied (app=web's port is 8080)" \
		from client who 10.$A.200.21 80
	expect_fail "$mode: remote backend: x/db1 -> rdb's ClusterIP denied" from db1 who 10.$A.200.20 5432
	expect_eq "$mode: remote backend: y/other (no policy) -> rweb's ClusterIP" web2 \
		"$(backends other 10.$A.200.21 80 1)"
	got=$(backends client fd0a:$A:200::10 5432 16)
	expect_eq "$mode: IPv6: x/client -> db's ClusterIP: 16 of 16 answered, by both backends" \
		"db1 db2" "$got"
	expect_fail "$mode: IPv6: x/client -> web's ClusterIP denied" from client who fd0a:$A:200::11 80
	expect_eq "$mode: IPv6: y/other (no policy) -> web's ClusterIP" web \
		"$(backends other fd0a:$A:200::11 80 1)"
}
cases iptables

# the kernel's view: a denied Service flow is recorded against the backend
flows_to() {
	onn $BH -o json flows --workload x/client --limit 0 |
		jq -r ".[] | select(.dst == \"$1\" and .dport == $2) | .verdict" | sort -u | tr '\n' ' '
}
expect_ok "the deny of web's Service is recorded against the backend 10.$A.1.30:8080" \
	bh_wait 50 bash -c "flows_to() { $(declare -f flows_to | tail -n +2); }; onn() { nsenter --net=/run/netns/$N \"\$@\"; }; BH=$BH; [[ \"\$(flows_to 10.$A.1.30 8080)\" == *deny* ]]"
expect_ok "the deny of rweb's Service is recorded against its remote backend 10.$A.2.62:8080" \
	bh_wait 50 bash -c "flows_to() { $(declare -f flows_to | tail -n +2); }; onn() { nsenter --net=/run/netns/$N \"\$@\"; }; BH=$BH; [[ \"\$(flows_to 10.$A.2.62 8080)\" == *deny* ]]"

# ------------------------------------------- a frontend nothing translates
# A Service whose ClusterIP kube-proxy has no rule for (not yet, or no
# kube-proxy): the veth's program flags the flow all the same, and the
# hook judges it on the address it was sent to, as any flow not to a
# Service; it must never pass unjudged. Such a packet takes the node's
# default route; the address is node-2's here, so what is not judged
# arrives there.
service x nonat 10.$A.200.30 7000/UDP
has_10() { [ "$(frontends)" = 10 ]; }
expect_ok "a Service kube-proxy does not translate: its frontend is set" bh_wait 100 has_10
SINK=$N2
ip -n $SINK addr add 10.$A.200.30/32 dev lo
ip netns exec $SINK timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.'$A'.200.30", 7000))
with open(sys.argv[1], "a", buffering=1) as f:
    while True:
        f.write(s.recv(100).decode() + "\n")' "$D/nonat.got" >/dev/null 2>&1 &
bh_on_exit "kill $! 2>/dev/null"
bh_wait 50 bh_listening $SINK udp 7000
send_udp() { ip netns exec $T-$1 python3 -c '
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[1].encode(), ("10.'$A'.200.30", 7000))' "$2"; }
got_it() { grep -qx "$1" "$D/nonat.got" 2>/dev/null; }
send_udp other from-other
expect_ok "not translated: y/other (no policy) -> the frontend's address arrives" bh_wait 50 got_it from-other
send_udp db1 from-db1
send_udp other from-other-2
expect_ok "not translated: a later datagram of y/other arrives" bh_wait 50 got_it from-other-2
expect_fail "not translated: x/db1 (egress admits DNS only) -> the frontend's address is judged and denied" \
	got_it from-db1
verdicts_to() {	# WORKLOAD DST PORT: the verdicts of its flows there
	onn $BH -o json flows --workload "$1" --limit 0 |
		jq -r ".[] | select(.dst == \"$2\" and .dport == $3) | .verdict" | sort -u | tr '\n' ' '
}
denied_to() { [[ "$(verdicts_to "$@")" == *deny* ]]; }
expect_ok "not translated: x/db1's datagram is recorded denied against the address it was sent to" \
	bh_wait 50 denied_to x/db1 10.$A.200.30 7000
ctl delete '{"resource": "services", "namespace": "x", "name": "nonat"}' >/dev/null
expect_ok "the Service deleted: back to 9 frontends" bh_wait 100 has_frontends
ip -n $SINK addr del 10.$A.200.30/32 dev lo

# ------------------------------------------------ an external IP
# kube-proxy translates a Service's external IPs (and load balancer IPs)
# for the node's pods as it does its ClusterIP: they are frontends too,
# judged on the backend. x/client's policy admits the whole 10.$A.200.0/24
# as an ipBlock, so only the backend's judgement denies it here.
put services "{\"metadata\": {\"name\": \"extweb\", \"namespace\": \"x\"},
	\"spec\": {\"type\": \"ClusterIP\", \"clusterIP\": \"10.$A.200.12\", \"clusterIPs\": [\"10.$A.200.12\"],
	\"externalIPs\": [\"10.$A.200.41\"], \"ports\": [{\"name\": \"http\", \"port\": 80, \"protocol\": \"TCP\"}]}}"
has_11() { [ "$(frontends)" = 11 ]; }
expect_ok "a Service with an external IP: its ClusterIP and external IP are frontends" bh_wait 100 has_11
IPT="onn iptables -w" CIDR=10.$A.1.0/24 ipt_svc x/extweb:p80 EXTWEBTCP80AAAA 10.$A.200.41 80 tcp 10.$A.1.30:8080
expect_eq "external IP: y/other (no policy) reaches web through it" web "$(backends other 10.$A.200.41 80 1)"
expect_fail "external IP: x/client denied, judged on the backend (web's port is 8080), not on the ipBlock the address is in" \
	from client who 10.$A.200.41 80
ctl delete '{"resource": "services", "namespace": "x", "name": "extweb"}' >/dev/null
expect_ok "the Service deleted: back to 9 frontends" bh_wait 100 has_frontends

# ------------------------------------------- a pod closed at birth, DNS
# A pod whose identity has not reached the node (bulkhead-cni's ADD, the
# API does not have it yet: unknown_pod = deny) is closed but for DNS to
# kube-dns, and pods resolve through the kube-dns Service: its DNS goes
# through the ClusterIP, judged on the kube-dns backend.
p=$T-newbie h=${T}newbie v4=10.$A.1.50
ip netns add "$p"
bh_on_exit "bh_del_netns $p"
ip -n $N link add "$h" type veth peer name eth0 netns "$p"
ip -n "$p" addr add $v4/32 dev eth0
ip -n "$p" link set lo up
ip -n "$p" link set eth0 up
ip -n "$p" route add 10.$A.1.1 dev eth0
ip -n "$p" route add default via 10.$A.1.1 dev eth0
ip -n $N link set "$h" up
ip -n $N addr add 10.$A.1.1/32 dev "$h" 2>/dev/null
ip -n $N route replace $v4/32 dev "$h"
ip netns exec $N sysctl -qw "net.ipv4.conf.$h.proxy_arp=1"
printf '%s' "{\"cniVersion\": \"1.0.0\", \"name\": \"svc\", \"type\": \"bulkhead-cni\",
  \"stateDir\": \"$D\", \"bpffs\": \"$BULKHEAD_BPFFS\",
  \"prevResult\": {\"cniVersion\": \"1.0.0\",
    \"interfaces\": [{\"name\": \"$h\"}, {\"name\": \"eth0\", \"sandbox\": \"/run/netns/$p\"}],
    \"ips\": [{\"address\": \"$v4/32\", \"interface\": 1}]}}" >"$D/newbie.json"
expect_ok "CNI ADD of x/newbie, a pod the API does not have yet" onn env CNI_COMMAND=ADD \
	CNI_CONTAINERID=cid-newbie CNI_NETNS=/run/netns/$p CNI_IFNAME=eth0 CNI_PATH=/nonexistent \
	CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=x;K8S_POD_NAME=newbie" "$BH_CNI" <"$D/newbie.json"
expect_eq "x/newbie is pending (closed at birth)" true \
	"$(onn $BH --json workload list | jq '.[] | select(.workload == "x/newbie") | .pending')"
expect_ok "pending: DNS through the kube-dns Service (UDP) answers" from newbie dig 10.$A.200.53 53 db.x
expect_ok "pending: DNS through the kube-dns Service (TCP) answers" from newbie dig 10.$A.200.53 53 db.x tcp
expect_fail "pending: kube-dns's metrics port through its Service denied" from newbie who 10.$A.200.53 9153
expect_fail "pending: web's ClusterIP denied" from newbie who 10.$A.200.11 80
onn env CNI_COMMAND=DEL CNI_CONTAINERID=cid-newbie CNI_NETNS=/run/netns/$p CNI_IFNAME=eth0 \
	CNI_PATH=/nonexistent CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=x;K8S_POD_NAME=newbie" \
	"$BH_CNI" <"$D/newbie.json" >/dev/null || fail "CNI DEL of x/newbie"
ip -n $N link del "$h"

# ------------------------------------------------------------ upgrade
# `bulkhead upgrade`: this build's programs replace the running ones, the
# Services hook's too; the nftables cases below run on them
svc_prog() {
	if [ "$SVC_HOOK" = tc ]; then
		bpftool -j prog show pinned "$BULKHEAD_BPFFS/prog_svc_tc" | jq .id
	else
		bpftool -j link show pinned "$BULKHEAD_BPFFS/link_svc_nat4" | jq .prog_id
	fi
}
old_svc=$(svc_prog)
expect_ok "upgrade with the Services hook attached" bash -c "nsenter --net=/run/netns/$N $BH --json upgrade >$D/upgrade.json"
if [ "$SVC_HOOK" = tc ]; then
	# six host veths and n2link
	expect_eq "upgrade: the tc program replaced on 7 sites" 7 "$(jq .services_sites "$D/upgrade.json")"
else
	expect_eq "upgrade: new netfilter links for both families" 2 "$(jq .services_sites "$D/upgrade.json")"
fi
new_svc=$(svc_prog)
expect_ok "upgrade: the pinned Services program is a new one ($old_svc -> $new_svc)" \
	test -n "$new_svc" -a "$new_svc" != null -a "$old_svc" != "$new_svc"
if [ "$SVC_HOOK" = tc ]; then
	expect_ok "upgrade: doctor finds the new program on every host veth and on n2link" \
		bash -c "nsenter --net=/run/netns/$N $BH doctor | grep -Eq '^ok +services +9 Service frontends, judged on the backend by the tc hook on 6 host veths and on n2link$'"
fi

# ------------------------------------------------------- nftables mode
onn iptables -w -t nat -F && onn ip6tables -w -t nat -F && onn nft flush ruleset
expect_eq "kube-proxy's iptables rules are gone" "" "$(onn nft list ruleset)"
kp_nft || fail "kube-proxy's nftables rules"
expect_ok "table ip kube-proxy has the service-ips map" onn nft list map ip kube-proxy service-ips
expect_ok "table ip6 kube-proxy has the service-ips map" onn nft list map ip6 kube-proxy service-ips
cases nftables

expect_ok "the agent logged no frontend failure" bash -c "! grep -q 'frontends not updated' '$D/agent.log'"

if [ "$SVC_HOOK" = tc ] && [ "$SVC_ATTACH" = clsact ]; then
	# the tc hook taken off one host veth (its clsact filter deleted):
	# doctor names it, exit 1
	onn tc filter del dev ${T}web egress pref 179 handle 0xb4c2 bpf
	expect_fail "the tc hook is off ${T}web" svc_on ${T}web
	out=$(onn $BH doctor); rc=$?
	expect_eq "doctor: the tc hook missing on a host veth: exit 1" 1 "$rc"
	expect_ok "doctor: names the host veth without the tc hook" \
		grep -Eq "^MISSING +services +9 Service frontends; the tc hook is missing on 1 of [0-9]+ host veths \(${T}web\)" <<<"$out"
fi

if [ "$SVC_HOOK" = tc ]; then
	# reset takes the tc program off the host veths and the uplink too
	# (the agent stopped first: it would attach it again)
	kill $AGENT
	wait $AGENT 2>/dev/null
	expect_ok "reset with the tc hook attached" onn $BH reset --yes
	svc_gone() {
		local out
		if [ "$SVC_ATTACH" = clsact ]; then
			out=$(onn tc filter show dev "$1" egress) && ! grep -q "bh_svc_at_egr" <<<"$out"
		else
			out=$(onn $BH --json debug hooks "$1") &&
				jq -e '[.tcx_egress[] | select(.name | startswith("bh_svc_at_egr"))] | length == 0' <<<"$out" >/dev/null
		fi
	}
	expect_ok "after reset: the tc program is off n2link" svc_gone n2link
	expect_ok "after reset: the tc program is off ${T}client" svc_gone ${T}client
	expect_fail "after reset: its pin is gone" test -e "$BULKHEAD_BPFFS/prog_svc_tc"
fi
