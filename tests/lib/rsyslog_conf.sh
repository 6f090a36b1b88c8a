# Config for a private rsyslogd that a test starts itself:
#
#   bh_rsyslog_conf CONF WORKDIR SOCK PORT RAW PARSED
#   rsyslogd -n -f CONF -i PIDFILE
#
# - imuxsock on the unix datagram socket SOCK (the system socket /dev/log
#   is switched off) with the regular parser chain, so RFC 5424 records
#   are parsed like any network record;
# - imtcp on 127.0.0.1:PORT (PORT 0: the kernel picks one, and rsyslog
#   writes it to WORKDIR/imtcp.port; with a fixed port that file is not
#   written, wait for the listening socket instead);
# - every received record is written twice: RAW holds the record exactly
#   as received (%rawmsg%: the full RFC 5424 line), PARSED holds rsyslog's
#   own parse, tab-separated: protocol-version pri hostname app-name procid
#   msgid structured-data msg;
# - control characters are NOT escaped on receive, so a newline that got
#   through the writer would split a line in RAW and be seen by the test;
# - rsyslogd's own messages go to WORKDIR/rsyslogd.log, its state files to
#   WORKDIR. Nothing outside WORKDIR (and SOCK) is touched.
bh_rsyslog_conf() {
	local conf=$1 dir=$2 sock=$3 port=$4 raw=$5 parsed=$6
	cat >"$conf" <<EOF
global(workDirectory="$dir"
       parser.escapeControlCharactersOnReceive="off"
       maxMessageSize="16k")
module(load="imuxsock" sysSock.use="off")
module(load="imtcp")

template(name="bh_raw" type="string" string="%rawmsg%\n")
template(name="bh_parsed" type="string"
         string="%protocol-version%\t%pri%\t%hostname%\t%app-name%\t%procid%\t%msgid%\t%structured-data%\t%msg%\n")

ruleset(name="bh_in") {
	action(type="omfile" file="$raw" template="bh_raw")
	action(type="omfile" file="$parsed" template="bh_parsed")
}

input(type="imuxsock" socket="$sock" useSpecialParser="off" parseHostname="on"
      ruleset="bh_in")
input(type="imtcp" address="127.0.0.1" port="$port"
      listenPortFileName="$dir/imtcp.port" ruleset="bh_in")

# rsyslogd's own messages (default ruleset)
action(type="omfile" file="$dir/rsyslogd.log")
EOF
}
