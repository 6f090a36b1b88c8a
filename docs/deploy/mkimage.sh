#!/usr/bin/env bash
# `make image`: the OCI image localhost/bulkhead:VERSION (and :latest),
# built with podman from scratch -- no registry, no base image. The root
# file system is staged here: bulkhead (dynamic: exactly the libraries
# ldd lists, and the dynamic loader), bulkhead-cni (static), libxdp's
# dispatcher objects. No shell: the init container runs `bulkhead-cni
# install`. Prints the image size.
#
#   PODMAN="podman --root DIR --runroot DIR"  another image store (tests)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
VERSION=${VERSION:-$(cat ctl/VERSION)}
PODMAN=${PODMAN:-podman}
CTX=$BUILD/image
ROOT=$CTX/rootfs
MULTIARCH=$(gcc -dumpmachine)

rm -rf "$CTX"
mkdir -p "$ROOT"/{usr/sbin,usr/bin,opt/cni/bin,etc/bulkhead,tmp,var/lib/bulkhead,sys/fs/bpf}
chmod 1777 "$ROOT/tmp"

# copy FILE: into the same path under ROOT, resolving symlinks of the
# library names ldd prints to the file they point at
put() {
	mkdir -p "$ROOT$(dirname "$1")"
	cp -L "$1" "$ROOT$1"
}
libs_of() { ldd "$1" | awk '/=>/ { print $3; next } $1 ~ /^\// { print $1 }' | grep '^/'; }

install -m 0755 "$BUILD/bulkhead" "$ROOT/usr/sbin/bulkhead"
install -m 0755 "$BUILD/bulkhead-cni" "$ROOT/usr/bin/bulkhead-cni"
strip "$ROOT/usr/sbin/bulkhead" "$ROOT/usr/bin/bulkhead-cni"
for f in $(libs_of "$BUILD/bulkhead" | sort -u); do put "$f"; done
# libxdp loads its dispatcher from here when the kernel allows one
o=/usr/lib/$MULTIARCH/bpf/xdp-dispatcher.o
[ -f "$o" ] && put "$o"
# a scratch image has no /etc: the few files the C library reads
printf 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
printf 'hosts: files dns\n' >"$ROOT/etc/nsswitch.conf"

# the staged tree must run: every library the binaries need is in it
if chroot "$ROOT" /usr/sbin/bulkhead help >/dev/null 2>&1; then :; else
	echo "mkimage: bulkhead does not run in the staged root" >&2; exit 2
fi
if chroot "$ROOT" /usr/bin/bulkhead-cni install --help >/dev/null 2>&1; then :; else
	echo "mkimage: bulkhead-cni install does not run in the staged root" >&2; exit 2
fi

cp docs/deploy/image/Containerfile "$CTX/Containerfile"
$PODMAN build --quiet --network none --pull=never -f "$CTX/Containerfile" \
	-t "localhost/bulkhead:$VERSION" -t localhost/bulkhead:latest "$CTX" >/dev/null
size=$($PODMAN image inspect --format '{{.Size}}' "localhost/bulkhead:$VERSION")
echo "localhost/bulkhead:$VERSION (also :latest): $size bytes ($((size / 1024 / 1024)) MiB)"
