#!/usr/bin/env bash
# Runs every test: cmocka unit tests, BPF_PROG_TEST_RUN verdict tests,
# netns integration tests and podman end-to-end tests. A test exits 0 when
# it passed, 77 when it could not run (its reason the last line of its
# output), anything else when it failed. Ends with every skip's reason and
# "N passed, N failed, N skipped".
#
# The gate: a skip is a failure unless its reason cannot be fixed on the
# machine kind `make test` runs on (Debian 12, root, the packages of the
# Makefile's DEB_PKGS): such a test prints, as its last line,
#   skipped (cannot run here: KIND): REASON
# (tests/lib/common.sh: bh_skip_unfixable KIND REASON) with KIND in
# SKIP_UNFIXABLE below. A missing tool or package, a missing build, no
# root, or bulkhead's own programs failing to load are failures.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
FILTER=${1:-}
passed=0 failed=0 skipped=0
failures=() skips=()
# Reasons no change to the machine of this kind can fix: the kernel lacks
# a feature (another kernel is another machine kind).
SKIP_UNFIXABLE=(kernel)
log_dir=$BUILD/test-logs
mkdir -p "$log_dir"

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# netns and e2e tests add /32 routes with fixed addresses to the root netns
# and run daemons on fixed ports: two runs on one host (two checkouts) would
# collide. Each such test holds this lock while it runs (flock -o: the lock
# stays with flock, never with a daemon the test leaves behind).
TRAFFIC_LOCK=${BH_TRAFFIC_LOCK:-/run/lock/bulkhead-traffic.lock}

run_one() {
	local name=$1; shift
	[ -n "$FILTER" ] && [[ $name != *$FILTER* ]] && return
	local log=$log_dir/$(echo "$name" | tr '/' '_').log
	case $name in
	netns/* | e2e/*) set -- flock -o "$TRAFFIC_LOCK" timeout --kill-after=10 600 "$@" ;;
	*) set -- timeout --kill-after=10 600 "$@" ;;
	esac
	local start=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	local secs=$((SECONDS - start))
	case $rc in
	0) passed=$((passed + 1)); printf 'PASS %-40s %3ss\n' "$name" "$secs" ;;
	77) local why kind
	    why=$(tail -n 1 "$log")
	    kind=$(sed -n 's/^skipped (cannot run here: \([a-z-]*\)): .*/\1/p' <<<"$why")
	    if [ -n "$kind" ] && [[ " ${SKIP_UNFIXABLE[*]} " == *" $kind "* ]]; then
	    	skipped=$((skipped + 1)); skips+=("$name: $why")
	    	printf 'SKIP %-40s %s\n' "$name" "$why"
	    else
	    	failed=$((failed + 1)); failures+=("$name")
	    	skips+=("$name: $why (counted as a failure)")
	    	printf 'FAIL %-40s skipped for a reason this machine can fix: %s\n' "$name" "$why"
	    fi ;;
	*) failed=$((failed + 1)); failures+=("$name")
	   printf 'FAIL %-40s rc=%s (log: %s)\n' "$name" "$rc" "$log"
	   # every failed check, then the end of the log (daemon logs, see
	   # bh_show_on_fail)
	   { grep -m 20 '^FAIL - ' "$log"; echo ...; tail -n 40 "$log"; } | sed 's/^/     | /' ;;
	esac
}

for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/bpf/test_*; do
	[ -x "$t" ] && run_one "${t#$BUILD/tests/}" "$t"
done
for t in tests/netns/test_*.sh tests/e2e/test_*.sh; do
	[ -f "$t" ] && run_one "${t#tests/}" bash "$t"
done

echo
for s in "${skips[@]}"; do echo "skip reason: $s"; done
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
