#!/usr/bin/env bash
# Quarantine cuts an established TCP connection (it is checked before
# conntrack), release restores it; the forensics exception stays reachable.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init quarantine
T=bq$BH_TAG

bh_mk_workload $T-a "$T"a 10.77.2.10/32 10.77.2.1
bh_mk_workload $T-b "$T"b 10.77.2.20/32 10.77.2.1
bh_serve $T-b tcp 80
bh_serve $T-a tcp 80
expect_ok "attach a" $BH attach "$T"a --workload q/a --ip 10.77.2.10 --label app=a
expect_ok "attach b" $BH attach "$T"b --workload q/b --ip 10.77.2.20 --label app=b

LOG=$BULKHEAD_STATE_DIR/hold.log
# 90 s: enough for every wait below on a loaded machine
ip netns exec $T-a python3 "$TRAFFIC" hold 10.77.2.20 80 90 "$LOG" &
HOLD=$!
bh_on_exit "kill $HOLD"
bh_wait 200 bh_at_least bh_oks_since "$LOG" 0 6
before=$(grep -c '^ok' "$LOG")
[ "$before" -gt 5 ] && ok "established connection works ($before round trips)" || fail "no round trips before quarantine ($before)"

expect_ok "quarantine a" $BH quarantine q/a --reason "test: cut it"
# the held connection keeps trying: at least five round trips, none answered
bh_cut_window "$LOG" 5
expect_eq "established connection cut by quarantine (5 tries)" 0 "$BH_CUT_OKS"
expect_fail "new connection from quarantined workload denied" bh_tcp $T-a 10.77.2.20 80
expect_fail "new connection to quarantined workload denied" bh_tcp $T-b 10.77.2.10 80
expect_ok "workload list shows quarantine" bash -c "$BH workload list | grep -qi quarant"
expect_ok "stats count quarantine drops" bash -c "$BH stats | grep -qi quarantine"

mark2=$(wc -l <"$LOG")
expect_ok "release a" $BH release q/a
# TCP retransmits with backoff, so give the held connection up to 15 s.
resumed() { [ "$(tail -n +$((mark2 + 1)) "$LOG" | grep -c '^ok')" -gt 3 ]; }
expect_ok "established connection resumes after release" bh_wait 150 resumed
expect_ok "new connection after release" bh_tcp $T-a 10.77.2.20 80
