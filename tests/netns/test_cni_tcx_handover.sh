#!/usr/bin/env bash
# A pod's programs at birth and after. With tc_attach = auto on a kernel
# with tcx, bulkhead-cni ADD puts the pod's TC programs on clsact (a tcx
# attach waits for an RCU grace period per direction, under RTNL, which a
# pod's start should not wait for), and the agent moves them to tcx: tcx
# first, where they decide before clsact is consulted, then the clsact
# filters go. Checks, with a real bulkhead-cni, real veths and real traffic:
#  - right after ADD the programs are ours on clsact, none on tcx, and the
#    pod is enforced (allowed port answered, another port denied);
#  - the agent moves them to tcx under traffic: no allowed connection
#    fails, no denied one passes, a held connection never misses a round
#    trip, and clsact keeps none of ours;
#  - DEL after the move leaves no program of ours on the veth;
#  - tc_attach = clsact: ADD stays on clsact and the agent leaves it there
#    across several of its ticks; tc_attach = tcx: ADD attaches to tcx.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init cnitcx
T=ct$BH_TAG
D=$BULKHEAD_STATE_DIR
W=$D/w
mkdir -p "$W"
command -v jq >/dev/null || bh_skip "jq not installed"
tcx=$($BH --json doctor 2>/dev/null | jq -r '.checks[] | select(.name == "tcx") | .state')
[ "$tcx" = ok ] || bh_skip_unfixable kernel "tcx needs Linux 6.6"

bh_mk_workload $T-c "$T"c 10.125.1.10/32 10.125.1.1	# a client, not attached
bh_mk_workload $T-s "$T"s 10.125.1.20/32 10.125.1.1	# the pod
bh_serve $T-s tcp 80
bh_serve $T-s tcp 81
bh_wait_listen $T-s 10.125.1.20 80
bh_wait_listen $T-s 10.125.1.20 81

cat >"$W/p.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: pods}
spec:
  podSelector: {}
  ingress:
    - ports: [{protocol: TCP, port: 80}]
YAML
expect_ok "apply: the pods take TCP 80 only" $BH policy apply -f "$W/p.yaml"

# cni NETNS HOSTIF IP COMMAND: bulkhead-cni as a runtime calls it, chained
# after an interface plugin whose prevResult is given here
cni() {
	printf '%s' "{\"cniVersion\": \"1.0.0\", \"name\": \"handover\", \"type\": \"bulkhead-cni\",
	  \"namespace\": \"pods\", \"stateDir\": \"$D\", \"bpffs\": \"$BULKHEAD_BPFFS\",
	  \"prevResult\": {\"cniVersion\": \"1.0.0\",
	    \"interfaces\": [{\"name\": \"$2\"}, {\"name\": \"eth0\", \"sandbox\": \"/run/netns/$1\"}],
	    \"ips\": [{\"address\": \"$3/32\", \"interface\": 1}]}}" |
	env CNI_COMMAND="$4" CNI_CONTAINERID="cid-$2" CNI_NETNS="/run/netns/$1" CNI_IFNAME=eth0 \
		CNI_PATH=/nonexistent "$BH_CNI" >>"$W/cni.out"
}
# "TCX_IN TCX_EG CLSACT_IN CLSACT_EG": how many programs of ours on each
hooks() {
	$BH --json debug hooks "$1" | jq -r '[(.tcx_ingress, .tcx_egress, .clsact_ingress,
		.clsact_egress) | map(select(.ours)) | length] | map(tostring) | join(" ")'
}
set_tc_attach() { touch "$D/config"; sed -i '/^tc_attach/d' "$D/config"; echo "tc_attach = $1" >>"$D/config"; }
heartbeat() {
	sqlite3 -cmd '.timeout 2000' "$D/state.db" \
		"SELECT value FROM agent_state WHERE key='heartbeat_ms'" 2>/dev/null || echo 0
}
ticked_since() { [ "$(heartbeat)" -ge "$1" ]; }

# ---- birth: clsact, enforced
set_tc_attach auto
expect_ok "ADD of the pod" cni $T-s "$T"s 10.125.1.20 ADD
expect_eq "at birth: ours on clsact both ways, none on tcx" "0 0 1 1" "$(hooks "$T"s)"
expect_ok "at birth: c -> s:80 allowed" bh_tcp $T-c 10.125.1.20 80
expect_fail "at birth: c -> s:81 denied" bh_tcp $T-c 10.125.1.20 81

# ---- the agent moves it, under traffic
S=$W/stop
ip netns exec $T-c python3 "$TRAFFIC" hold 10.125.1.20 80 60 "$W/hold" &
HOLD=$!
bh_on_exit "kill $HOLD 2>/dev/null"
loop() { # PORT NAME
	ip netns exec $T-c python3 "$TRAFFIC" loop 10.125.1.20 "$1" 100000 "$S" "$W/$2.progress" \
		>"$W/$2.out" 2>&1 &
	bh_on_exit "kill $! 2>/dev/null"
	eval "PID_$2=$!"
}
loop 80 allowed
loop 81 denied
lines() { cat "$W/$1" 2>/dev/null | wc -l; }
expect_ok "traffic flows before the agent starts" bh_wait 150 bash -c \
	"[ \$(cat $W/hold 2>/dev/null | wc -l) -ge 20 ] && [ \$(cat $W/allowed.progress 2>/dev/null | wc -l) -ge 20 ] && [ \$(cat $W/denied.progress 2>/dev/null | wc -l) -ge 2 ]"
echo "log: {level: info}" >"$W/agent.yaml"
T0=$(bh_now_ms)
$BH agent --config "$W/agent.yaml" >"$W/agent.log" 2>&1 &
AGENT=$!
bh_on_exit "kill $AGENT 2>/dev/null"
bh_show_on_fail "$W/agent.log"
bh_wait_agent "$T0"
moved() { [ "$(hooks "$1")" = "1 1 0 0" ]; }
expect_ok "the agent moved the pod to tcx" bh_wait 100 moved "$T"s
h=$(lines hold) a=$(lines allowed.progress) d=$(lines denied.progress)
expect_ok "traffic after the move" bh_wait 200 bash -c \
	"[ \$(cat $W/hold | wc -l) -ge $((h + 20)) ] && [ \$(cat $W/allowed.progress | wc -l) -ge $((a + 20)) ] && \
	 [ \$(cat $W/denied.progress | wc -l) -ge $((d + 2)) ]"
touch "$S"
wait $PID_allowed $PID_denied 2>/dev/null
kill $HOLD 2>/dev/null
wait $HOLD 2>/dev/null
echo "allowed: $(cat "$W/allowed.out")  denied: $(cat "$W/denied.out")"
expect_eq "no allowed connection failed" 0 "$(grep -c fail "$W/allowed.progress")"
expect_eq "no denied connection passed" 0 "$(grep -c '^ok' "$W/denied.progress")"
expect_eq "the held connection never missed a round trip" 0 "$(grep -vc '^ok$' "$W/hold")"
expect_ok "the agent said it moved one pod" grep -q 'pod hooks moved from clsact to tcx.*workloads=1' "$W/agent.log"
expect_ok "after the move: c -> s:80 allowed" bh_tcp $T-c 10.125.1.20 80
expect_fail "after the move: c -> s:81 denied" bh_tcp $T-c 10.125.1.20 81
expect_ok "doctor: the hooks of every workload are in place" bash -c "$BH doctor >$W/doctor.out"

# ---- DEL after the move
expect_ok "DEL of the pod" cni $T-s "$T"s 10.125.1.20 DEL
expect_eq "after DEL: no program of ours on the veth" "0 0 0 0" "$(hooks "$T"s)"

# ---- forced modes
set_tc_attach clsact
expect_ok "clsact forced: ADD" cni $T-s "$T"s 10.125.1.20 ADD
expect_eq "clsact forced: ours on clsact" "0 0 1 1" "$(hooks "$T"s)"
hb=$(heartbeat)
expect_ok "the agent ticked twice since" bh_wait 100 ticked_since $((hb + 2000))
expect_eq "clsact forced: the agent left it on clsact" "0 0 1 1" "$(hooks "$T"s)"
expect_fail "clsact forced: c -> s:81 denied" bh_tcp $T-c 10.125.1.20 81
expect_ok "clsact forced: DEL" cni $T-s "$T"s 10.125.1.20 DEL
set_tc_attach tcx
expect_ok "tcx forced: ADD" cni $T-s "$T"s 10.125.1.20 ADD
expect_eq "tcx forced: ours on tcx at birth" "1 1 0 0" "$(hooks "$T"s)"
expect_fail "tcx forced: c -> s:81 denied" bh_tcp $T-c 10.125.1.20 81
expect_ok "tcx forced: DEL" cni $T-s "$T"s 10.125.1.20 DEL
expect_eq "no program of ours left" "0 0 0 0" "$(hooks "$T"s)"
kill "$AGENT"
wait "$AGENT" 2>/dev/null
