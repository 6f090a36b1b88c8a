#!/usr/bin/env bash
# Syslog over TLS: the collector refuses the agent's client certificate.
# A real rsyslogd (rsyslog-gnutls, x509/certvalid) with a CA made here
# judges the agent's certificate only after the agent's side of the
# handshake is done (TLS 1.3 sends it last, and rsyslog checks it after
# the handshake) and cuts the session without an alert. The agent must
# count that as a TLS failure (bulkhead_syslog_tls_failures_total), log
# it as a refusal of its certificate, retry with backoff, and deliver
# nothing; with the CA's own client certificate the same collector takes
# the records and no failure is counted. Refused: a certificate of the
# collector's CA that is not valid yet (rsyslog: "certificate invalid"),
# one of another CA (GnuTLS does not present it, as the collector names
# the CAs it takes) and none.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/tls_ca.sh"
bh_test_init stlc
[ -x "$BH" ] || bh_skip "$BH not built"
command -v rsyslogd >/dev/null || bh_skip "rsyslogd not installed"
command -v certtool >/dev/null || bh_skip "certtool (gnutls-bin) not installed"
ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || bh_skip "rsyslog-gnutls not installed"
PY=/usr/bin/python3
[ -x $PY ] || bh_skip "Debian's python3 not installed"

W=$BULKHEAD_STATE_DIR/tls
mkdir -p "$W"
PORT=22520 MPORT=22521
T=sc$BH_TAG

# ------------------------------------------------------------ certificates
bh_tls_ca "$W" good || bh_skip "certtool could not make a CA"
bh_tls_ca "$W" other
bh_tls_cert "$W" good collector "collector" collector.bh.test 127.0.0.1 server
bh_tls_cert "$W" good agent "bh-agent" "" "" client
bh_tls_cert "$W" other stranger "bh-stranger" "" "" client
# signed by the collector's CA, but valid only from 2099
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$W/future.key" 2>/dev/null
printf '%s\n' 'cn = "bh-future"' 'activation_date = "2099-01-01 00:00:00"' \
	'expiration_date = "2099-12-31 00:00:00"' signing_key encryption_key tls_www_client \
	>"$W/future.tmpl"
certtool --generate-certificate --load-privkey "$W/future.key" --load-ca-certificate "$W/good-ca.pem" \
	--load-ca-privkey "$W/good-ca.key" --template "$W/future.tmpl" --outfile "$W/future.pem" 2>/dev/null
expect_ok "test CAs made the collector's and the three client certificates" \
	test -s "$W/collector.pem" -a -s "$W/agent.pem" -a -s "$W/stranger.pem" -a -s "$W/future.pem"

# ------------------------------------------------------------- rsyslogd
RAW=$W/raw.log
cat >"$W/rsyslog.conf" <<EOF
global(workDirectory="$W" maxMessageSize="16k"
       DefaultNetstreamDriverCAFile="$W/good-ca.pem"
       DefaultNetstreamDriverCertFile="$W/collector.pem"
       DefaultNetstreamDriverKeyFile="$W/collector.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1"
       StreamDriver.AuthMode="x509/certvalid")
template(name="bh_raw" type="string" string="%rawmsg%\n")
ruleset(name="bh_in") { action(type="omfile" file="$RAW" template="bh_raw") }
input(type="imtcp" address="127.0.0.1" port="$PORT" ruleset="bh_in")
EOF
rsyslogd -n -f "$W/rsyslog.conf" -i "$W/rsyslogd.pid" >>"$W/rsyslogd.out" 2>&1 &
RSYSLOG=$!
bh_on_exit "kill $RSYSLOG"
bh_wait 50 bash -c "ss -ltn | grep -q '127.0.0.1:$PORT '" ||
	bh_skip "rsyslogd with gtls did not start: $(tail -3 "$W/rsyslogd.out" 2>/dev/null)"
touch "$RAW"

# -------------------------------------------------------------- workloads
bh_mk_workload "$T-a" "${T}a" 10.115.8.2/24 10.115.8.1
bh_mk_workload "$T-b" "${T}b" 10.115.9.2/24 10.115.9.1
$BH attach "${T}a" --workload tlc/web --ip 10.115.8.2 >/dev/null
$BH attach "${T}b" --workload tlc/db --ip 10.115.9.2 >/dev/null
bh_serve "$T-b" tcp 5432

AGENT=
stop_agent() { [ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null; AGENT=; }
bh_on_exit "stop_agent"
# run_agent NAME TLS: an agent sending JSON records to rsyslogd over TLS
run_agent() {
	cat >"$W/agent.yaml" <<YAML
syslog:
  target: "tls://127.0.0.1:$PORT"
  format: json
  tls: {ca: "$W/good-ca.pem", server_name: collector.bh.test$2}
metrics: {listen: "127.0.0.1:$MPORT"}
YAML
	$BH agent --config "$W/agent.yaml" 2>"$W/agent.$1.log" &
	AGENT=$!
	bh_wait 50 bash -c "ss -ltn | grep -q '127.0.0.1:$MPORT '" || fail "$1: the agent's metrics did not open"
}
scrape() { $PY -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$MPORT/metrics').read().decode())"; }
metric() { scrape | awk -v n="$1" '$1 == n { print $2 }'; }
failures_at_least() { [ "$(metric bulkhead_syslog_tls_failures_total)" -ge "$1" ] 2>/dev/null; }

# ------------------------------- a certificate not valid yet: refused
run_agent future ", cert: \"$W/future.pem\", key: \"$W/future.key\""
bh_tcp "$T-a" 10.115.9.2 5432
expect_ok "not valid yet: rsyslogd refused the certificate (its own log says so)" \
	bh_wait 100 grep -q "not permitted to talk to peer, certificate invalid" "$W/rsyslogd.out"
expect_ok "not valid yet: the refusal is counted as a TLS failure" bh_wait 100 failures_at_least 1
expect_ok "not valid yet: logged as a refusal of our client certificate" \
	bh_wait 50 grep -q 'msg="syslog TLS handshake failed".*refused our client certificate' \
	"$W/agent.future.log"
# another record: the agent retries after its backoff and is refused again
bh_tcp "$T-a" 10.115.9.2 5432
expect_ok "not valid yet: retried and refused again (counted twice)" bh_wait 200 failures_at_least 2
# the cut socket must not kill the agent (no SIGPIPE from the TLS writer)
expect_ok "not valid yet: the agent is still running" kill -0 "$AGENT"
stop_agent
expect_eq "not valid yet: nothing delivered" 0 "$(grep -c . "$RAW")"

# --------------------------------- a certificate of another CA: refused
run_agent stranger ", cert: \"$W/stranger.pem\", key: \"$W/stranger.key\""
bh_tcp "$T-a" 10.115.9.2 5432
expect_ok "other CA: rsyslogd got no certificate it takes and refused" \
	bh_wait 100 grep -q "peer did not provide a certificate" "$W/rsyslogd.out"
expect_ok "other CA: counted as a TLS failure" bh_wait 100 failures_at_least 1
stop_agent
expect_eq "other CA: nothing delivered" 0 "$(grep -c . "$RAW")"

# ---------------------------------------- no client certificate: refused
nocert() { grep -c 'peer did not provide a certificate' "$W/rsyslogd.out"; }
n0=$(nocert)
more_nocert() { [ "$(nocert)" -gt "$n0" ]; }
run_agent none ""
bh_tcp "$T-a" 10.115.9.2 5432
expect_ok "no certificate: rsyslogd refused it" bh_wait 100 more_nocert
expect_ok "no certificate: counted as a TLS failure" bh_wait 100 failures_at_least 1
stop_agent
expect_eq "no certificate: nothing delivered" 0 "$(grep -c . "$RAW")"

# --------------------------- the CA's own client certificate: accepted
run_agent agent ", cert: \"$W/agent.pem\", key: \"$W/agent.key\""
bh_tcp "$T-a" 10.115.9.2 5432
expect_ok "agent certificate: a flow record arrives" bh_wait 100 grep -q '"dport":5432' "$RAW"
expect_eq "agent certificate: connected, no TLS failure" "1 0" \
	"$(metric bulkhead_syslog_connected) $(metric bulkhead_syslog_tls_failures_total)"
stop_agent
