# An isolated containerd for e2e tests: its own config, root, state and
# sockets under a directory the test made; no CRI plugin, nothing from
# /etc/containerd. Source after common.sh.
#
#   bh_containerd_start DIR   starts it (socket DIR/ctd.sock); registers
#                             its stop with bh_on_exit; returns 1 if it
#                             did not come up (reason in DIR/ctd.log)
bh_containerd_start() {
	local d=$1
	mkdir -p "$d/ctd"
	cat >"$d/ctd.toml" <<EOF2
version = 2
root = "$d/ctd/root"
state = "$d/ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/ctd.sock"
[ttrpc]
  address = "$d/ctd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF2
	containerd -c "$d/ctd.toml" >"$d/ctd.log" 2>&1 &
	BH_CTD_PID=$!
	bh_on_exit "bh_stop_pid $BH_CTD_PID"
	bh_wait 100 ctr --address "$d/ctd.sock" version
}

# Stop a daemon we started: TERM, wait up to 10 s, then KILL.
bh_stop_pid() {
	local pid=$1 n=100
	kill "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Unmount whatever is still mounted under DIR (deepest first).
bh_umount_under() {
	awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r |
		xargs -r -n1 umount -l
}
