#!/usr/bin/env bash
# `make deb`: a binary .deb of the product with Debian's own tools.
# The tree is installed into a staging root (make install, PREFIX=/usr),
# dpkg-shlibdeps works out the library packages the binaries need, dpkg-
# gencontrol writes DEBIAN/control from docs/deploy/debian/control, and
# dpkg-deb builds the archive: $BUILD/bulkhead_VERSION_ARCH.deb.
# No maintainer scripts: installing starts nothing (the agent's unit is
# installed disabled); removing leaves no file behind.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
VERSION=${VERSION:-$(cat ctl/VERSION)}
MAKE=${MAKE:-make}
ARCH=$(dpkg --print-architecture)
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
WORK=$BUILD/deb
STAGE=$WORK/root

rm -rf "$WORK"
mkdir -p "$STAGE/DEBIAN" "$WORK/debian"
# Debian paths: /usr/sbin, the unit in /lib/systemd/system, the CNI plugin
# where Debian's containernetworking-plugins puts its own (/usr/lib/cni;
# kubelet's /opt/cni/bin: docs/kubernetes.md).
$MAKE --no-print-directory BUILD="$BUILD" DESTDIR="$STAGE" PREFIX=/usr \
	CNI_BIN_DIR=/usr/lib/cni SYSTEMD_UNIT_DIR=/lib/systemd/system install >/dev/null

# dpkg-shlibdeps and dpkg-gencontrol read debian/control from the cwd.
cp docs/deploy/debian/control "$WORK/debian/control"
printf 'bulkhead (%s) unstable; urgency=medium\n\n  * Build of %s.\n\n -- bulkhead builders <bulkhead@localhost>  %s\n' \
	"$VERSION" "$VERSION" "$(date -R)" >"$WORK/debian/changelog"
(
	cd "$WORK"
	dpkg-shlibdeps -O -e"root/usr/sbin/bulkhead" -e"root/usr/lib/cni/bulkhead-cni" \
		>debian/substvars 2>/dev/null
	dpkg-gencontrol -pbulkhead -Proot -v"$VERSION" -Tdebian/substvars \
		-DInstalled-Size="$(du -sk --exclude=DEBIAN root | cut -f1)"
)
# a fresh tree: files root:root, directories 0755
find "$STAGE" -type d -exec chmod 0755 {} +
DEB=$BUILD/bulkhead_${VERSION}_${ARCH}.deb
rm -f "$BUILD"/bulkhead_*.deb
dpkg-deb --root-owner-group --build "$STAGE" "$DEB" >/dev/null
echo "$DEB ($(du -k "$DEB" | cut -f1) KiB)"
