#!/usr/bin/env bash
# Syslog over TLS (RFC 5425) to a real rsyslogd with its GnuTLS driver
# (rsyslog-gnutls), with a CA made here by certtool: the agent checks the
# collector's chain and name, rsyslogd checks the agent's client
# certificate (x509/certvalid). Real flow records arrive, in the json and
# cef formats, and parse. A collector certificate from another CA, or one
# that does not name server_name, is refused: nothing is delivered, the
# refusals are counted (bulkhead_syslog_tls_failures_total) and logged.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/tls_ca.sh"
bh_test_init stls
[ -x "$BH" ] || bh_skip "$BH not built"
command -v rsyslogd >/dev/null || bh_skip "rsyslogd not installed"
command -v certtool >/dev/null || bh_skip "certtool (gnutls-bin) not installed"
ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || bh_skip "rsyslog-gnutls not installed"
PY=/usr/bin/python3
[ -x $PY ] || bh_skip "Debian's python3 not installed"

W=$BULKHEAD_STATE_DIR/tls
mkdir -p "$W"
PORT=21310 MPORT=21311
T=st$BH_TAG

# ------------------------------------------------------------ certificates
bh_tls_ca "$W" good || bh_skip "certtool could not make a CA"
bh_tls_ca "$W" other
bh_tls_cert "$W" good collector "collector" collector.bh.test 127.0.0.1 server
bh_tls_cert "$W" good agent "bh-agent" "" "" client
expect_ok "test CA made the collector's and the agent's certificates" \
	test -s "$W/collector.pem" -a -s "$W/agent.pem"

# ------------------------------------------------------------- rsyslogd
RAW=$W/raw.log
cat >"$W/rsyslog.conf" <<EOF
global(workDirectory="$W" parser.escapeControlCharactersOnReceive="off"
       maxMessageSize="16k"
       DefaultNetstreamDriverCAFile="$W/good-ca.pem"
       DefaultNetstreamDriverCertFile="$W/collector.pem"
       DefaultNetstreamDriverKeyFile="$W/collector.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1"
       StreamDriver.AuthMode="x509/certvalid")
template(name="bh_raw" type="string" string="%rawmsg%\n")
ruleset(name="bh_in") { action(type="omfile" file="$RAW" template="bh_raw") }
input(type="imtcp" address="127.0.0.1" port="$PORT" ruleset="bh_in")
action(type="omfile" file="$W/rsyslogd.log")
EOF
rsyslogd -n -f "$W/rsyslog.conf" -i "$W/rsyslogd.pid" >>"$W/rsyslogd.out" 2>&1 &
RSYSLOG=$!
bh_on_exit "kill $RSYSLOG"
bh_wait 50 bash -c "ss -ltn | grep -q '127.0.0.1:$PORT '" ||
	bh_skip "rsyslogd with gtls did not start: $(tail -3 "$W/rsyslogd.out" "$W/rsyslogd.log" 2>/dev/null)"

# -------------------------------------------------------------- workloads
bh_mk_workload "$T-a" "${T}a" 10.104.0.2/24 10.104.0.1
bh_mk_workload "$T-b" "${T}b" 10.104.1.2/24 10.104.1.1
$BH attach "${T}a" --workload tls/web --ip 10.104.0.2 -l app=web >/dev/null
$BH attach "${T}b" --workload tls/db --ip 10.104.1.2 -l app=db >/dev/null
bh_serve "$T-b" tcp 5432

AGENT=
stop_agent() { [ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null; AGENT=; }
bh_on_exit "stop_agent"
# run_agent FORMAT CA SERVER_NAME: an agent sending to rsyslogd over TLS
run_agent() {
	cat >"$W/agent.yaml" <<YAML
syslog:
  target: "tls://127.0.0.1:$PORT"
  format: $1
  enterprise_id: 4711
  tls: {ca: "$W/$2-ca.pem", cert: "$W/agent.pem", key: "$W/agent.key", server_name: "$3"}
metrics: {listen: "127.0.0.1:$MPORT"}
node: tls-node
YAML
	$BH agent --config "$W/agent.yaml" 2>"$W/agent.$1.$2.log" &
	AGENT=$!
	bh_wait 50 bash -c "ss -ltn | grep -q '127.0.0.1:$MPORT '"
}
scrape() { $PY -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$MPORT/metrics').read().decode())"; }
metric() { scrape | awk -v n="$1" '$1 == n { print $2 }'; }
arrived() { grep -q "$1" "$RAW" 2>/dev/null; }

# ---------------------------------------------------- json over TLS arrives
run_agent json good collector.bh.test
expect_ok "agent with tls:// target running" kill -0 $AGENT
bh_tcp "$T-a" 10.104.1.2 5432
expect_ok "json: a flow record arrives over TLS" bh_wait 100 arrived '"dport":5432'
expect_ok "json: the record is RFC 5424 with a JSON message that parses, with the shared fields" \
	$PY - "$RAW" <<'EOF'
import json, sys
ok = False
for line in open(sys.argv[1]):
    if '"dport":5432' not in line:
        continue
    head, _, msg = line.partition(' flow - ')
    assert head.startswith('<') and '>1 ' in head, head
    assert ' tls-node bulkhead ' in head, head
    d = json.loads(msg)
    assert d['type'] == 'flow' and d['node'] == 'tls-node', d
    assert d['time'].endswith('Z') and 'T' in d['time'], d
    me, peer = ('web', 'db') if d['dir'] == 'egress' else ('db', 'web')
    assert d['workload'] == 'tls/' + me and d['namespace'] == 'tls' and d['name'] == me, d
    assert d['labels'] == {'app': me} and d['peer_labels'] == {'app': peer}, d
    assert d['peer_namespace'] == 'tls' and d['peer_name'] == peer, d
    ok = ok or d['workload'] == 'tls/web'
sys.exit(0 if ok else 1)
EOF
expect_eq "json: connected, no TLS failure" "1 0" \
	"$(metric bulkhead_syslog_connected) $(metric bulkhead_syslog_tls_failures_total)"
expect_ok "agent logs its start as a logfmt line" \
	grep -Eq '^time=[0-9T:.-]+Z level=info msg="agent started" version=' "$W/agent.json.good.log"
stop_agent

# ----------------------------------------------------- cef over TLS arrives
run_agent cef good collector.bh.test
bh_tcp "$T-a" 10.104.1.2 5432
expect_ok "cef: a flow record arrives over TLS" bh_wait 100 arrived 'CEF:0|bulkhead|bulkhead|'
expect_ok "cef: header and extension parse" $PY - "$RAW" <<'EOF'
import re, sys
ok = False
for line in open(sys.argv[1]):
    i = line.find('CEF:0|')
    if i < 0:
        continue
    cef = line[i:].rstrip('\n')
    hdr = re.split(r'(?<!\\)\|', cef, maxsplit=7)
    assert len(hdr) == 8 and hdr[1] == 'bulkhead' and hdr[4].startswith('flow:'), hdr
    ext = dict(re.findall(r'(\w+)=((?:[^=\\]|\\.)*?)(?= \w+=|$)', hdr[7]))
    assert ext['dvchost'] == 'tls-node' and ext['dpt'] == '5432' and ext['proto'] == 'tcp', ext
    me = 'web' if ext['dir'] == 'egress' else 'db'
    assert ext['workload'] == 'tls/' + me and ext['labels'] == 'app\\=' + me, ext
    ok = ok or me == 'web'
sys.exit(0 if ok else 1)
EOF
stop_agent

# ----------------------------------------- another CA: refused and counted
before=$(grep -c . "$RAW")
run_agent json other collector.bh.test
bh_tcp "$T-a" 10.104.1.2 5432
refused() { [ "$(metric bulkhead_syslog_tls_failures_total)" -ge 1 ]; }
expect_ok "wrong CA: the handshake is refused and counted" bh_wait 100 refused
expect_eq "wrong CA: not connected" 0 "$(metric bulkhead_syslog_connected)"
# the agent logs export trouble once a second, when it changed
expect_ok "wrong CA: logged with the reason" \
	bh_wait 50 grep -q 'msg="syslog TLS handshake failed".*refused' "$W/agent.json.other.log"
stop_agent
expect_eq "wrong CA: nothing delivered" "$before" "$(grep -c . "$RAW")"

# ------------------------------------------ a name the certificate lacks
run_agent json good wrong.bh.test
bh_tcp "$T-a" 10.104.1.2 5432
expect_ok "wrong server name: refused and counted" bh_wait 100 refused
expect_ok "wrong server name: logged" \
	bh_wait 50 grep -q 'msg="syslog TLS handshake failed".*wrong.bh.test' "$W/agent.json.good.log"
stop_agent
expect_eq "wrong server name: nothing delivered" "$before" "$(grep -c . "$RAW")"

# ----------------------------------------- config errors are user errors
printf 'syslog: {target: "tcp://127.0.0.1:%s", tls: {ca: "%s"}}\n' "$PORT" "$W/good-ca.pem" \
	>"$W/bad.yaml"
$BH agent --config "$W/bad.yaml" >/dev/null 2>"$W/bad.err"
expect_eq "tls settings with a tcp:// target: exit 1" 1 $?
printf 'syslog: {target: "tls://127.0.0.1:%s", tls: {ca: "%s"}}\n' "$PORT" "$W/nope.pem" \
	>"$W/bad2.yaml"
$BH agent --config "$W/bad2.yaml" >/dev/null 2>"$W/bad2.err"
expect_eq "an unreadable CA file: exit 1" 1 $?
expect_ok "the message names the file" grep -q "nope.pem" "$W/bad2.err"
