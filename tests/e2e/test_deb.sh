#!/usr/bin/env bash
# Install like a package. `make install` builds the product only (no test
# binaries, no test packages) and puts it under DESTDIR/PREFIX with a unit
# naming its binary and Documentation= under that prefix; `make deb` builds
# a .deb with dpkg-deb that dpkg installs for real and removes without a
# file left behind. Its control file's Build-Depends lists the packages the
# build installs.
source "$(dirname "$0")/../lib/common.sh"
bh_test_init deb
cd "$BH_ROOT"
W=$BULKHEAD_STATE_DIR

dpkg-query -W -f='${Status}' bulkhead 2>/dev/null | grep -q 'install ok installed' &&
	bh_skip "a bulkhead package is installed on this host already; not touching it"

# what `make install` would do in a fresh build dir: binaries only
plan=$(make -n install BUILD="$W/fresh" DESTDIR="$W/x" 2>&1)
expect_ok "install plans the binaries" grep -q "$W/fresh/bulkhead-cni" <<<"$plan"
expect_fail "install plans no test binary" grep -q "$W/fresh/tests/" <<<"$plan"
expect_fail "install plans no bench binary" grep -q "$W/fresh/bench/" <<<"$plan"
expect_fail "install installs no test package (podman, rsyslog, iperf3, cmocka)" \
	grep -Eq "podman|rsyslog|iperf3|cmocka" <<<"$plan"

for prefix in /usr/local /opt/bh; do
	R=$W/root$(echo $prefix | tr / _)
	expect_ok "make install PREFIX=$prefix" make -s install BUILD="$BUILD" DESTDIR="$R" PREFIX=$prefix CNI_BIN_DIR=/opt/cni/bin
	expect_ok "$prefix: bulkhead installed and runs" bash -c "\"$R$prefix/sbin/bulkhead\" help >/dev/null"
	expect_ok "$prefix: bulkhead-cni installed" test -x "$R/opt/cni/bin/bulkhead-cni"
	unit=$R$prefix/lib/systemd/system/bulkhead-agent.service
	expect_ok "$prefix: unit ExecStart under the prefix" grep -q "^ExecStart=$prefix/sbin/bulkhead agent" "$unit"
	doc=$(sed -n 's|^Documentation=file:||p' "$unit")
	expect_eq "$prefix: unit's Documentation= under the prefix" "$prefix/share/doc/bulkhead/agent.md" "$doc"
	expect_ok "$prefix: the document it names is installed" test -s "$R$doc"
	expect_eq "$prefix: nothing outside DESTDIR's prefix, CNI dir" "" \
		"$(cd "$R" && find . -type f | grep -v "^\.$prefix/" | grep -v '^\./opt/cni/bin/')"
done

rm -f "$BUILD"/bulkhead_*.deb
out=$(make -s deb BUILD="$BUILD" 2>&1); rc=$?
expect_eq "make deb" 0 "$rc"
deb=$(ls "$BUILD"/bulkhead_*_*.deb 2>/dev/null | head -1)
expect_ok "the .deb exists" test -s "$deb"
# Build-Depends names every package the build installs (build-essential is implied).
bd=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' docs/deploy/debian/control | sed '$d' | sed 's/^Build-Depends://' | tr ',' '\n' | tr -d ' ' | grep -v '^$' | sort)
want=$(make -s print-build-deb-pkgs | tr ' ' '\n' | grep -v '^build-essential$' | grep -v '^$' | sort)
expect_eq "control: Build-Depends = the build's packages" "$want" "$bd"
expect_eq "control: package name" bulkhead "$(dpkg-deb -f "$deb" Package)"
expect_eq "control: version from VERSION" "$(cat ctl/VERSION)" "$(dpkg-deb -f "$deb" Version)"
expect_ok "control: Depends worked out by dpkg-shlibdeps (libbpf1)" bash -c "dpkg-deb -f '$deb' Depends | grep -q libbpf1"
expect_eq "no maintainer scripts" "control" "$(dpkg-deb --ctrl-tarfile "$deb" | tar -t | sed 's|^\./||' | grep -v '^$' | sort | tr '\n' ' ' | sed 's/ $//')"

bh_on_exit "dpkg -r bulkhead >/dev/null 2>&1; dpkg --purge bulkhead >/dev/null 2>&1"
expect_ok "dpkg -i" dpkg -i "$deb"
expect_eq "dpkg: installed" "install ok installed" "$(dpkg-query -W -f='${Status}' bulkhead)"
files=$(dpkg -L bulkhead | while read -r f; do [ -f "$f" ] && echo "$f"; done)
expect_ok "/usr/sbin/bulkhead from the package runs" bash -c "/usr/sbin/bulkhead help >/dev/null"
expect_ok "bulkhead-cni in /usr/lib/cni answers VERSION" bash -c \
	"echo '{\"cniVersion\":\"1.0.0\"}' | CNI_COMMAND=VERSION /usr/lib/cni/bulkhead-cni | grep -q supportedVersions"
expect_ok "unit in /lib/systemd/system" test -f /lib/systemd/system/bulkhead-agent.service
expect_ok "unit names /usr/sbin/bulkhead" grep -q "^ExecStart=/usr/sbin/bulkhead" /lib/systemd/system/bulkhead-agent.service
expect_ok "dpkg -r" dpkg -r bulkhead
left=""
for f in $files; do [ -e "$f" ] && left="$left $f"; done
expect_eq "every file of the package gone" "" "$left"
expect_ok "dpkg: not installed any more" bash -c \
	"! dpkg-query -W -f='\${Status}' bulkhead 2>/dev/null | grep -q 'installed'"
