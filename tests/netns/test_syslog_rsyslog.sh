#!/usr/bin/env bash
# The syslog writer against a real rsyslogd (Debian's package), started by
# this test on its own unix socket and a loopback TCP port the kernel picks:
#   1. records over unix:SOCK and tcp://127.0.0.1:PORT arrive exactly once
#      and parse as RFC 5424 with the expected structured data, in our
#      parser and in rsyslog's own;
#   2. injection through a workload name / label value (newline + a forged
#      second record, a forged SD element) yields no second record or field;
#   3. collector down: stop rsyslogd, send N records into a queue smaller
#      than N, restart rsyslogd on the same port, drain: sent + dropped ==
#      total, the newest records arrived, the dropped oldest did not;
#   4. an RFC 3164 record is parsed by rsyslog with our host and tag.
# Nothing touches the system rsyslog or /dev/log.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib/common.sh"
source "$HERE/../lib/rsyslog_conf.sh"
bh_test_init syslog

command -v rsyslogd >/dev/null || bh_skip "rsyslogd not installed (Debian package rsyslog)"
command -v python3 >/dev/null || bh_skip "python3 not installed"
SEND=$BUILD/tests/lib/syslog_send
if [ ! -x "$SEND" ]; then
	echo "missing $SEND: run make BUILD=${BUILD#$BH_ROOT/} $SEND" >&2
	exit 1
fi

DIR=$(mktemp -d /tmp/bh-rsl-XXXXXX)
SOCK=$DIR/log.sock
RAW=$DIR/raw.log
PARSED=$DIR/parsed.log
RSL_PID=
DRV_PID=
PORT=0
bh_on_exit "rm -rf '$DIR'"
bh_on_exit 'rsl_kill'
bh_on_exit 'drv_kill'

rsl_kill() {
	[ -n "$RSL_PID" ] && kill -KILL "$RSL_PID" 2>/dev/null && wait "$RSL_PID" 2>/dev/null
	RSL_PID=
}

# Start rsyslogd on $PORT (0: let the kernel choose, then remember it).
rsl_start() {
	bh_rsyslog_conf "$DIR/rsyslog.conf" "$DIR" "$SOCK" "$PORT" "$RAW" "$PARSED"
	rm -f "$DIR/imtcp.port"
	rsyslogd -n -f "$DIR/rsyslog.conf" -i "$DIR/rsyslogd.pid" >>"$DIR/rsyslogd.out" 2>&1 &
	RSL_PID=$!
	# rsyslog writes the port file only for port 0; a fixed port is
	# ready when it shows up as listening.
	if [ "$PORT" = 0 ] && ! bh_wait 100 test -s "$DIR/imtcp.port"; then
		cat "$DIR/rsyslogd.out" >&2
		fail "rsyslogd did not start"
		exit 1
	fi
	[ "$PORT" = 0 ] && PORT=$(cat "$DIR/imtcp.port")
	if ! bh_wait 100 tcp_listening "$PORT" || ! bh_wait 100 test -S "$SOCK"; then
		cat "$DIR/rsyslogd.out" >&2
		fail "rsyslogd did not start"
		exit 1
	fi
}
tcp_listening() { ss -Hltn "sport = :$1" | grep -q .; }

rsl_stop() {
	kill -TERM "$RSL_PID"
	wait "$RSL_PID" 2>/dev/null
	RSL_PID=
}

# The driver runs as a coprocess; every command answers one line.
drv_start() {
	coproc DRV { exec "$SEND" --host bh-node --app bh-test "$@" 2>>"$DIR/driver.err"; }
	DRV_PID=$DRV_PID
}
drv() {
	local IFS=$'\t' ans
	printf '%s\n' "$*" >&"${DRV[1]}"
	IFS=' ' read -r -t 30 ans <&"${DRV[0]}" || ans="no answer"
	echo "$ans"
}
drv_stop() {
	printf 'quit\n' >&"${DRV[1]}"
	wait "$DRV_PID" 2>/dev/null
	DRV_PID=
}
drv_kill() { [ -n "$DRV_PID" ] && kill -KILL "$DRV_PID" 2>/dev/null; DRV_PID=; }

# "ok sent=.. dropped=.." -> value of one key
stat_of() { sed -n "s/.*[ ]$1=\([0-9]*\).*/\1/p" <<<"$2"; }

# Lines in RAW (rsyslog writes asynchronously; the checker below decides
# what they are).
raw_count() { local n; n=$(wc -l <"$RAW" 2>/dev/null); echo "${n:-0}"; }
raw_at_least() { [ "$(raw_count)" -ge "$1" ]; }

# Injection payloads (the driver turns \n into a real newline, \\ into \).
EVIL_NAME='web\n<14>1 2024-01-01T00:00:00.000000+00:00 evil bh-test 1 flow [flow@32473 seq="9999"] forged'
EVIL_LABEL='x"] [forged@1 admin="yes"] a\\b'

# ----------------------------------------------------------------- 1 + 2
rsl_start
ok "rsyslogd listening on $SOCK and 127.0.0.1:$PORT"

drv_start "unix:$SOCK"
expect_eq "unix: 20 records queued" "ok" "$(drv burst 0 20 flow flow@32473)"
expect_eq "unix: injection record queued" "ok" \
	"$(drv send 4 flow flow@32473 'hello\nworld' seq 1000 workload "$EVIL_NAME" label "$EVIL_LABEL")"
ans=$(drv drain 10000)
expect_eq "unix: all sent" "21 0 0" "$(stat_of sent "$ans") $(stat_of dropped "$ans") $(stat_of queued "$ans")"
drv_stop

drv_start "tcp://127.0.0.1:$PORT"
expect_eq "tcp: 20 records queued" "ok" "$(drv burst 100 20 flow flow@32473)"
expect_eq "tcp: injection record queued" "ok" \
	"$(drv send 4 flow flow@32473 'hello\nworld' seq 1100 workload "$EVIL_NAME" label "$EVIL_LABEL")"
ans=$(drv drain 10000)
expect_eq "tcp: all sent" "21 0 0" "$(stat_of sent "$ans") $(stat_of dropped "$ans") $(stat_of queued "$ans")"
drv_stop

# ----------------------------------------------------------------- 3
# A writer with a queue of 30, connected: 5 records go through, then the
# collector goes away and 50 more are sent while it is down.
drv_start --queue 30 "tcp://127.0.0.1:$PORT"
drv burst 200 5 flow flow@32473 >/dev/null
ans=$(drv drain 10000)
expect_eq "outage: 5 records sent before it" "5 0" "$(stat_of sent "$ans") $(stat_of queued "$ans")"
bh_wait 100 raw_at_least 47 || fail "records before the outage did not arrive"
rsl_stop
ok "rsyslogd stopped"
expect_eq "outage: 50 records accepted by the writer" "ok" "$(drv burst 205 50 flow flow@32473)"
for _ in 1 2 3 4 5; do drv pump >/dev/null; sleep 0.05; done
ans=$(drv stats)
expect_eq "outage: hang-up noticed, newest 30 queued, 20 oldest dropped" "5 20 30 0" \
	"$(stat_of sent "$ans") $(stat_of dropped "$ans") $(stat_of queued "$ans") $(stat_of connected "$ans")"
rsl_start
ok "rsyslogd restarted on port $PORT"
ans=$(drv drain 15000)
sent=$(stat_of sent "$ans")
dropped=$(stat_of dropped "$ans")
expect_eq "outage: sent + dropped == all 55 records" "55" "$((sent + dropped))"
expect_eq "outage: queue drained, reconnected once" "0 1 1" \
	"$(stat_of queued "$ans") $(stat_of reconnects "$ans") $(stat_of connected "$ans")"
drv_stop

# ----------------------------------------------------------------- 4
drv_start --3164 "tcp://127.0.0.1:$PORT"
drv send 6 deviation dev@32473 'new peer' seq 3000 workload 'db' >/dev/null
ans=$(drv drain 10000)
expect_eq "3164: sent" "1" "$(stat_of sent "$ans")"
drv_stop

# ----------------------------------------------------------------- check
# 21 (unix) + 21 (tcp) + 5 (before outage) + 30 (after) + 1 (3164)
bh_wait 100 raw_at_least 78 || fail "expected 78 records in $RAW, have $(raw_count)"
rsl_stop

python3 - "$RAW" "$PARSED" <<'PY' >"$DIR/check.out" 2>&1
import re, sys

raw_path, parsed_path = sys.argv[1], sys.argv[2]
results = []
def check(cond, what):
    results.append(("ok" if cond else "FAIL", what))

# What the injection values must read like after SD unescaping.
EVIL_NAME_OUT = 'web?<14>1 2024-01-01T00:00:00.000000+00:00 evil bh-test 1 flow [flow@32473 seq="9999"] forged'
EVIL_LABEL_OUT = 'x"] [forged@1 admin="yes"] a\\b'
TS = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$')
HDR = re.compile(r'^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ')

def parse_sd(s, i):
    """RFC 5424 STRUCTURED-DATA at s[i:], returns (elements, next index)."""
    if s[i] == '-':
        return [], i + 1
    elems = []
    while i < len(s) and s[i] == '[':
        j = i + 1
        while s[j] not in ' ]':
            j += 1
        sd_id, i, params = s[i + 1:j], j, []
        while s[i] == ' ':
            j = s.index('=', i)
            name = s[i + 1:j]
            if s[j + 1] != '"':
                raise ValueError('param value not quoted')
            i, val = j + 2, ''
            while True:
                c = s[i]
                if c == '\\' and s[i + 1] in '"\\]':
                    val += s[i + 1]; i += 2
                elif c == '"':
                    i += 1; break
                elif c == ']':
                    raise ValueError('unescaped ] in a value')
                else:
                    val += c; i += 1
            params.append((name, val))
        if s[i] != ']':
            raise ValueError('SD element not closed')
        elems.append((sd_id, params))
        i += 1
    return elems, i

def parse5424(line):
    m = HDR.match(line)
    if not m:
        raise ValueError('not RFC 5424')
    pri, ts, host, app, procid, msgid = m.groups()
    if not TS.match(ts):
        raise ValueError('bad timestamp ' + ts)
    elems, i = parse_sd(line, m.end())
    msg = line[i + 1:] if i < len(line) else ''
    if i < len(line) and line[i] != ' ':
        raise ValueError('junk after SD')
    return dict(pri=int(pri), host=host, app=app, msgid=msgid, sd=elems, msg=msg)

with open(raw_path, 'rb') as f:
    raw = f.read().decode('utf-8')
lines = raw.split('\n')[:-1]
recs, r3164, bad = [], [], []
for ln in lines:
    if ln.startswith('<30>') and not ln.startswith('<30>1 '):
        r3164.append(ln); continue
    try:
        recs.append(parse5424(ln))
    except (ValueError, IndexError) as e:
        bad.append((ln, str(e)))
check(not bad, 'every line parses as RFC 5424 (%d bad: %s)' % (len(bad), bad[:2]))
check(all(r['app'] == 'bh-test' and r['host'] == 'bh-node' for r in recs),
      'hostname and app-name are ours on every record')
check(all(len(r['sd']) == 1 and r['sd'][0][0] == 'flow@32473' for r in recs),
      'exactly one SD element, flow@32473, on every record')

seqs = {}
for r in recs:
    p = dict(r['sd'][0][1])
    seqs.setdefault(int(p['seq']), []).append(r)
want = set(range(0, 20)) | {1000} | set(range(100, 120)) | {1100} | \
       set(range(200, 205)) | set(range(225, 255))
check(set(seqs) == want, 'exactly the expected records arrived (missing %s, extra %s)'
      % (sorted(want - set(seqs))[:5], sorted(set(seqs) - want)[:5]))
check(all(len(v) == 1 for v in seqs.values()), 'each record arrived exactly once')
check(not any(205 <= s < 225 for s in seqs), 'the 20 dropped oldest records never arrived')
check(9999 not in seqs, 'no forged record seq=9999')
check(all(r['app'] != 'evil' for r in recs), 'no forged record from app "evil"')

for s in (1000, 1100):
    r = seqs.get(s, [None])[0]
    if r is None:
        check(False, 'injection record %d present' % s); continue
    names = [n for n, _ in r['sd'][0][1]]
    p = dict(r['sd'][0][1])
    check(names == ['seq', 'workload', 'label'], 'injection %d: exactly the params seq, workload, label (%s)' % (s, names))
    check(p['workload'] == EVIL_NAME_OUT, 'injection %d: newline in workload replaced, value intact' % s)
    check(p['label'] == EVIL_LABEL_OUT, 'injection %d: forged SD stays inside the label value' % s)
    check(r['msg'] == 'hello?world', 'injection %d: MSG newline replaced' % s)

# rsyslog's own parse of the same records
with open(parsed_path, 'rb') as f:
    prs = [l.split('\t') for l in f.read().decode('utf-8').split('\n')[:-1]]
p5424 = [p for p in prs if p[0] == '1']
check(len(p5424) == len(recs), 'rsyslog parsed as many RFC 5424 records as we did (%d/%d)' % (len(p5424), len(recs)))
check(all(p[3] == 'bh-test' and p[2] == 'bh-node' and p[5] == 'flow' and p[1] in ('30', '28') for p in p5424),
      'rsyslog sees our host, app-name, msgid and PRI')
def esc(v):
    return v.replace('\\', '\\\\').replace('"', '\\"').replace(']', '\\]')
inj = [p for p in p5424 if 'seq="1000"' in p[6] or 'seq="1100"' in p[6]]
check(len(inj) == 2, 'rsyslog got both injection records')
for p in inj:
    s = '1000' if 'seq="1000"' in p[6] else '1100'
    want_sd = '[flow@32473 seq="%s" workload="%s" label="%s"]' % (s, esc(EVIL_NAME_OUT), esc(EVIL_LABEL_OUT))
    check(p[6] == want_sd, 'rsyslog structured-data of injection %s: one element, our escaping' % s)
p3164 = [p for p in prs if p[0] == '0']
check(len(r3164) == 1 and len(p3164) == 1, 'one RFC 3164 record')
if p3164:
    p = p3164[0]
    check(p[2] == 'bh-node' and p[3] == 'bh-test' and 'deviation seq="3000" workload="db" new peer' in p[7],
          'rsyslog parses the 3164 record: host, tag, content (%s)' % p)
for st, what in results:
    print(st, what)
PY
while read -r st what; do
	case $st in
	ok) ok "$what" ;;
	FAIL) fail "$what" ;;
	*) fail "checker: $st $what" ;;
	esac
done <"$DIR/check.out"
if [ "$BH_FAILS" -gt 0 ]; then
	echo "--- raw records"; cat "$RAW"
	echo "--- rsyslog parse"; cat "$PARSED"
	echo "--- rsyslogd"; cat "$DIR/rsyslogd.out" "$DIR/rsyslogd.log" 2>/dev/null
	echo "--- driver"; cat "$DIR/driver.err" 2>/dev/null
fi
