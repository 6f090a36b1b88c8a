#!/usr/bin/env bash
# CLI habits on real workloads: every command answers --help and `help
# VERB` (usage, options, an example) and an unknown topic is an error;
# every listing and get prints JSON and YAML that parse to the same value
# (Debian's python3-yaml), --json is -o json, -o wide and --no-headers;
# -n/-l filters, policy get, -f -, detach NS/NAME, version, --state-dir and
# --bpffs; destructive commands refuse prefixes and reset asks on a
# terminal and needs --yes otherwise; the bash and zsh completion and the
# man pages name every command and `make install` installs them.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init clih
PY=/usr/bin/python3
[ -x $PY ] || bh_skip "Debian's python3 not installed"
$PY -c 'import yaml' 2>/dev/null || bh_skip "python3-yaml not installed"
command -v zsh >/dev/null || bh_skip "zsh not installed"
command -v groff >/dev/null || bh_skip "groff not installed"
command -v script >/dev/null || bh_skip "script (bsdutils) not installed"
T=ch$BH_TAG
S=$BULKHEAD_STATE_DIR
W=$S/work
mkdir -p "$W"
bh_on_exit "rm -rf '$W'"

# run CMD...: RC, OUT, ERR
run() { "$@" >"$W/out" 2>"$W/err"; RC=$?; OUT=$(cat "$W/out"); ERR=$(cat "$W/err"); }
# user_error DESC CMD...: exit 1, one "bulkhead:" line on stderr, empty stdout
user_error() {
	local d=$1; shift
	run "$@"
	if [ "$RC" = 1 ] && [ "$(wc -l <"$W/err")" = 1 ] && [[ $ERR == "bulkhead: "* ]] &&
		[ ! -s "$W/out" ]; then
		ok "$d ($ERR)"
	else
		fail "$d: want exit 1 and one message, got $RC: $ERR / $OUT"
	fi
}

# --------------------------------------------------------------- setup
bh_mk_workload "$T-a" "${T}a" 10.104.2.2/24 10.104.2.1
bh_mk_workload "$T-b" "${T}b" 10.104.3.2/24 10.104.3.1
expect_ok "attach with -l" $BH attach "${T}a" --workload shop/web --ip 10.104.2.2 -l app=web \
	-l tier=front
expect_ok "attach ops/cli" $BH attach "${T}b" --workload ops/cli --ip 10.104.3.2 -l role=tool
POLICY='apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop, labels: {team: pay}}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {}}]}]'
run $BH policy apply -f - <<<"$POLICY"
expect_eq "policy apply -f - reads stdin" "NetworkPolicy shop/db created" "$OUT"
run $BH policy get shop/db
expect_eq "policy get prints the stored source" "$POLICY" "$OUT"
bh_tcp "$T-b" 10.104.2.2 80 || true	# a flow for the timeline and stats

# ------------------------------------------------------- every command
run $BH help -o json
expect_eq "help -o json" 0 "$RC"
echo "$OUT" >"$W/help.json"
$PY -c 'import json,sys; [print(c["command"]) for c in json.load(open(sys.argv[1]))["commands"]]' \
	"$W/help.json" >"$W/commands"
# the contract's commands (docs/cli.md) must all be there
for c in attach detach "namespace label" "namespace list" "workload list" "workload get" \
	"workload label" "policy apply" "policy delete" "policy list" "policy get" "policy test" \
	mode quarantine release flows "baseline show" "baseline export" timeline agent stats \
	reset version help completion capture map; do
	grep -qx "$c" "$W/commands" || fail "help -o json does not list '$c'"
done
ok "help lists the contract's commands ($(wc -l <"$W/commands") commands)"
expect_eq "every command of the dispatch tables has a help entry" "[]" \
	"$($PY -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["undocumented"]))' "$W/help.json")"
while read -r c; do
	# shellcheck disable=SC2086
	run $BH $c --help
	if [ "$RC" != 0 ] || [[ $OUT != "usage: bulkhead $c"* ]] || [[ $OUT != *"Example:"* ]]; then
		fail "'$c --help': exit $RC: $OUT $ERR"
		continue
	fi
	h=$OUT
	# shellcheck disable=SC2086
	run $BH help $c
	[ "$RC" = 0 ] && [ "$OUT" = "$h" ] || fail "'help $c' differs from '$c --help'"
	# shellcheck disable=SC2086
	run $BH $c -h
	[ "$RC" = 0 ] && [ "$OUT" = "$h" ] || fail "'$c -h' differs from '$c --help'"
	n=$((${n:-0} + 1))
done <"$W/commands"
expect_eq "every command: --help, -h and help VERB" "$(wc -l <"$W/commands")" "$n"
run $BH policy --help
expect_ok "an object's help lists its commands" \
	bash -c "grep -q 'bulkhead policy apply' '$W/out' && grep -q 'bulkhead policy get' '$W/out'"
user_error "help of an unknown topic" $BH help nosuch
user_error "help of an unknown sub-command" $BH help policy nosuch
user_error "help with too many words" $BH help policy apply extra

# ------------------------------------------- JSON and YAML of every get
# same_data DESC CMD...: -o json, -o yaml and --json parse to one value
same_data() {
	local d=$1; shift
	"$@" -o json >"$W/j" 2>"$W/je" && "$@" -o yaml >"$W/y" 2>"$W/ye" &&
		"$@" --json >"$W/j2" 2>/dev/null || { fail "$d: exit status ($(cat "$W/je" "$W/ye"))"; return; }
	if $PY - "$W/j" "$W/y" "$W/j2" <<'EOF'
import json, sys, yaml
j = json.load(open(sys.argv[1]))
y = yaml.safe_load(open(sys.argv[2]))
j2 = json.load(open(sys.argv[3]))
def norm(v):  # flows and stats move between the runs: compare the shape
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items() if k not in ("ts_ms", "heartbeat_ms")}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v
assert norm(j) == norm(y), (j, y)
assert norm(j) == norm(j2)
EOF
	then ok "$d: -o json, -o yaml and --json agree"
	else fail "$d: JSON and YAML differ"; fi
}
same_data "workload list" $BH workload list
same_data "workload get" $BH workload get shop/web
same_data "namespace list" $BH namespace list
same_data "policy list" $BH policy list
same_data "policy get" $BH policy get shop/db
same_data "flows" $BH flows
same_data "timeline" $BH timeline shop/web
same_data "timeline --node" $BH timeline --node
same_data "baseline show" $BH baseline show shop/web
same_data "version" $BH version
same_data "help" $BH help
same_data "mode (a mutation)" $BH mode shop/web enforce
same_data "workload label (a mutation)" $BH workload label shop/web tier=front
run $BH policy get shop/db -o yaml
expect_ok "policy get -o yaml: the source as a string that parses" $PY -c "
import yaml, sys; d = yaml.safe_load(sys.stdin.read()); s = yaml.safe_load(d['source'])
assert s['metadata']['name'] == 'db' and d['labels'] == {'team': 'pay'}" <<<"$OUT"

# ----------------------------------------------------- wide, no headers
run $BH workload list
text=$OUT
run $BH workload list -o wide
expect_ok "-o wide has more columns than text" \
	test "$(head -1 <<<"$OUT" | wc -w)" -gt "$(head -1 <<<"$text" | wc -w)"
expect_ok "-o wide shows the identity column" grep -q IDENTITY <<<"$OUT"
run $BH workload list --no-headers
expect_eq "--no-headers: rows only" "2 0" "$(wc -l <<<"$OUT") $(grep -c WORKLOAD <<<"$OUT")"
run $BH workload list --output=json
expect_ok "--output=json" $PY -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$OUT"
user_error "-o with an unknown format" $BH workload list -o xml

# ------------------------------------------------------------- filters
names() { $PY -c 'import json,sys; print(" ".join(sorted(w["workload"] for w in json.load(sys.stdin))))'; }
expect_eq "workload list -n shop" "shop/web" "$($BH workload list -n shop -o json | names)"
expect_eq "workload list --namespace ops" "ops/cli" "$($BH workload list --namespace ops -o json | names)"
expect_eq "workload list -l app=web" "shop/web" "$($BH workload list -l app=web -o json | names)"
expect_eq "workload list -l '!app'" "ops/cli" "$($BH workload list -l '!app' -o json | names)"
expect_eq "workload list -l 'tier in (front,back),app'" "shop/web" \
	"$($BH workload list -l 'tier in (front,back),app' -o json | names)"
expect_eq "workload list -n ops -l app=web" "" "$($BH workload list -n ops -l app=web -o json | names)"
user_error "bad selector" $BH workload list -l 'app in (web'
pnames() { $PY -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)))'; }
expect_eq "policy list -l team=pay" "db" "$($BH policy list -l team=pay -o json | pnames)"
expect_eq "policy list -l team=ops" "" "$($BH policy list -l team=ops -o json | pnames)"
expect_eq "policy list -n ops" "" "$($BH policy list -n ops -o json | pnames)"
expect_eq "namespace list -l" "shop" "$($BH namespace list -l kubernetes.io/metadata.name=shop -o json |
	$PY -c 'import json,sys; print(" ".join(n["namespace"] for n in json.load(sys.stdin)))')"
user_error "policy get of a missing policy" $BH policy get shop/nope
user_error "workload get of a missing workload" $BH workload get shop/nope

# ---------------------------------------------------------- version
run $BH version -o json
expect_ok "version: git describe, libbpf, kernel release" $PY -c "
import json, sys, os
d = json.loads(sys.stdin.read())
assert d['version'] and d['version'] != 'unknown', d
assert d['libraries']['libbpf'].startswith('v1.'), d
assert d['kernel']['release'] == os.uname().release, d
assert d['kernel']['tcx'] in (True, False)" <<<"$OUT"
run $BH --version
expect_ok "--version" grep -q "^version: " <<<"$OUT"

# --------------------------------------------- --state-dir and --bpffs
run env -u BULKHEAD_STATE_DIR -u BULKHEAD_BPFFS $BH --state-dir "$S" --bpffs "$BULKHEAD_BPFFS" \
	workload list -o json
expect_eq "--state-dir/--bpffs reach the same instance as the environment" \
	"ops/cli shop/web" "$(names <<<"$OUT")"
run env -u BULKHEAD_STATE_DIR $BH workload list --state-dir="$W/empty" -o json
expect_eq "--state-dir=DIR: another (empty) instance" "" "$(names <<<"$OUT")"

# -------------------------------------- destructive commands, prefixes
user_error "'res' does not reset" $BH res --yes
user_error "'policy del' does not delete" $BH policy del shop/db
user_error "'quar' does not quarantine" $BH quar shop/web
user_error "'baseline cl' does not clear" $BH baseline cl shop/web
expect_eq "nothing was deleted or quarantined" "db no" \
	"$($BH policy list -o json | pnames) $($BH workload get shop/web -o json |
	$PY -c 'import json,sys; print("yes" if json.load(sys.stdin)["quarantined"] else "no")')"
run $BH pol li
expect_ok "other commands still take prefixes (pol li)" grep -q "^shop *db" <<<"$OUT"
user_error "reset without --yes and no terminal" $BH reset </dev/null
expect_eq "... changed nothing" 2 "$($BH workload list --no-headers | wc -l)"
# on a terminal reset asks; "n" keeps everything
echo n | script -qec "$BH reset" "$W/typescript" >/dev/null 2>&1
expect_ok "reset on a terminal asks" grep -q "Reset? \[y/N\]" "$W/typescript"
expect_eq "... and 'n' changed nothing" 2 "$($BH workload list --no-headers | wc -l)"

# ---------------------------------------------------- detach NS/NAME
run $BH detach ops/cli
expect_eq "detach NS/NAME" "0 detached ops/cli" "$RC $OUT"
expect_eq "ops/cli is gone" "shop/web" "$($BH workload list -o json | names)"
expect_eq "no program left on its veth" "0" \
	"$($BH debug hooks "${T}b" -o json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(sum(p["ours"] for k in ("xdp","tcx_ingress","tcx_egress") for p in d[k]))')"
user_error "detach of an unknown NS/NAME" $BH detach ops/nope

# ------------------------------------------- completion and man pages
$BH completion bash >"$W/bulkhead.bash"
$BH completion zsh >"$W/_bulkhead"
$BH completion man >"$W/bulkhead.8"
expect_ok "bash completion is valid bash" bash -n "$W/bulkhead.bash"
expect_ok "zsh completion is valid zsh" zsh -n "$W/_bulkhead"
groff -man -Tutf8 -ww "$W/bulkhead.8" >"$W/man.txt" 2>"$W/man.err"
expect_eq "bulkhead(8) renders without warnings" "" "$(cat "$W/man.err")"
groff -man -Tutf8 -ww "$BH_ROOT/docs/man/bulkhead-cni.8" >/dev/null 2>"$W/man2.err"
expect_eq "bulkhead-cni(8) renders without warnings" "" "$(cat "$W/man2.err")"
missing=
while read -r c; do
	grep -qF "\"$c\")" "$W/bulkhead.bash" || missing="$missing bash:$c"
	grep -qF "\"$c\")" "$W/_bulkhead" || missing="$missing zsh:$c"
	col -b <"$W/man.txt" | grep -q "bulkhead $c" || missing="$missing man:$c"
done <"$W/commands"
expect_eq "every command is in the bash and zsh completion and the man page" "" "$missing"
# the bash completion works: it offers the commands and their options
cat >"$W/try.sh" <<EOF
source "$W/bulkhead.bash"
comp() { COMP_WORDS=("\$@"); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _bulkhead; echo "\${COMPREPLY[*]}"; }
comp bulkhead po
comp bulkhead policy ""
comp bulkhead flows --ver
comp bulkhead flows -o ""
EOF
mapfile -t got < <(bash "$W/try.sh")
expect_eq "completes 'po' to policy" "policy" "${got[0]}"
expect_eq "completes policy's commands" "apply delete list get test validate" "${got[1]}"
expect_eq "completes flows' options" "--verdict --version" "${got[2]}"
expect_eq "completes -o formats" "text wide json yaml" "${got[3]}"
# the zsh completion works in zsh: compinit loads it from an fpath dir and
# TAB is pressed on a pseudo-terminal (tests/lib/zsh_complete.zsh); the
# answers are what zsh offered, sorted
mkdir -p "$W/zfunc"
cp "$W/_bulkhead" "$W/zfunc/_bulkhead"
mapfile -t got < <(TMPDIR=$W zsh -f "$BH_ROOT/tests/lib/zsh_complete.zsh" "$W/zfunc" \
	"bulkhead " "bulkhead po" "bulkhead policy " "bulkhead flows --ver" "bulkhead flows -o " \
	"bulkhead attach --wo" "bulkhead completion " "bulkhead nosuch")
expect_eq "zsh offers every command" "$(cut -d' ' -f1 "$W/commands" | sort -u | tr '\n' ' ' |
	sed 's/ $//')" "${got[0]}"
expect_eq "zsh completes 'po' to policy" "policy" "${got[1]}"
expect_eq "zsh completes policy's commands" "apply delete get list test validate" "${got[2]}"
expect_eq "zsh completes flows' options" "--verdict --version" "${got[3]}"
expect_eq "zsh completes -o formats" "json text wide yaml" "${got[4]}"
expect_eq "zsh completes attach's options" "--workload" "${got[5]}"
expect_eq "zsh completes completion's shells" "bash man zsh" "${got[6]}"
expect_eq "zsh offers nothing for an unknown command prefix" "" "${got[7]}"
expect_eq "zsh answered every line" 8 "${#got[@]}"

# make install puts both man pages and both completions in place
D=$W/destdir
# the version of the binary under test: make then has nothing to rebuild
V=$($BH version -o json | $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])')
if make -s -C "$BH_ROOT" install DESTDIR="$D" PREFIX=/usr CNI_BIN_DIR=/usr/lib/cni \
	BUILD="$BUILD" BH_VERSION="$V" >"$W/install.log" 2>&1; then
	for f in usr/sbin/bulkhead usr/lib/cni/bulkhead-cni usr/share/man/man8/bulkhead.8 \
		usr/share/man/man8/bulkhead-cni.8 usr/share/bash-completion/completions/bulkhead \
		usr/share/zsh/vendor-completions/_bulkhead; do
		[ -s "$D/$f" ] || fail "make install: $f missing"
	done
	ok "make install: binaries, bulkhead(8), bulkhead-cni(8), bash and zsh completion"
else
	fail "make install failed: $(tail -3 "$W/install.log")"
fi
