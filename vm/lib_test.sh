#!/usr/bin/env bash
# vm/lib.sh's kernel fetch on a fresh machine, against a fake apt (no
# network, no real kernel): the cache directory does not exist yet and is
# created; a good package is unpacked into the cache; a failed download
# leaves nothing in the current directory nor in the cache.
# Exit 0 ok, 1 failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmlb-lib-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "vm/lib_test: FAIL: $*" >&2; exit 1; }

rel=6.1.0-99-amd64
pkg=linux-image-$rel
# a minimal kernel package: what fetch_kernel keeps of Debian's
root=$tmp/pkgroot
mkdir -p "$root/DEBIAN" "$root/boot"
printf 'Package: %s\nVersion: 1.0\nArchitecture: amd64\nMaintainer: test <t@t>\nDescription: fake\n' "$pkg" \
	>"$root/DEBIAN/control"
echo vmlinuz >"$root/boot/vmlinuz-$rel"
echo config >"$root/boot/config-$rel"
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
	drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk; do
	mkdir -p "$root/lib/modules/$rel/kernel/$(dirname "$m")"
	echo ko >"$root/lib/modules/$rel/kernel/$m.ko"
done
dpkg-deb -b "$root" "$tmp/good.deb" >/dev/null

# fake apt: apt-cache resolves linux-image-amd64; apt-get download copies the
# package (FAKE_APT=good) or writes a partial file and fails (FAKE_APT=bad)
mkdir -p "$tmp/bin"
cat >"$tmp/bin/apt-cache" <<SH
#!/bin/sh
case "\$1" in
depends) echo "linux-image-amd64"; echo "  Depends: $pkg" ;;
policy) echo "$pkg:"; echo "  Candidate: 1.0" ;;
esac
SH
cat >"$tmp/bin/apt-get" <<SH
#!/bin/sh
[ "\$1" = download ] || exit 0
if [ "\$FAKE_APT" = good ]; then cp "$tmp/good.deb" "./${pkg}_1.0_amd64.deb"; exit 0; fi
echo partial >"./${pkg}_1.0_amd64.deb.partial"; exit 100
SH
chmod +x "$tmp/bin/apt-cache" "$tmp/bin/apt-get"

run_fetch() {  # run_fetch CACHE MODE -> exit code; runs in $tmp/cwd
	mkdir -p "$tmp/cwd"
	(cd "$tmp/cwd" && PATH="$tmp/bin:$PATH" KMLB_CACHE=$1 FAKE_APT=$2 bash -c \
		'source "$0/lib.sh"; fetch_kernel; echo "$KMLB_KERNEL_DIR"' "$here") 2>"$tmp/err"
}

# 1. failed download on a fresh machine: clear error, nothing left behind
cache=$tmp/fresh/a/b/kmlb
if run_fetch "$cache" bad >/dev/null; then fail "a failed download reported success"; fi
grep -q "apt-get download $pkg=1.0 failed" "$tmp/err" || fail "no clear message: $(cat "$tmp/err")"
[ -z "$(ls -A "$tmp/cwd")" ] || fail "files left in the current directory: $(ls -A "$tmp/cwd")"
[ -z "$(find "$cache" -mindepth 1 ! -type d)" ] || fail "files left in the cache: $(find "$cache" ! -type d)"
[ -z "$(find "$cache" -name '*dl.*')" ] || fail "download directory left in the cache: $(find "$cache" -name '*dl.*')"

# 2. good download into a cache that does not exist yet
rm -rf "$tmp/fresh"
dir=$(run_fetch "$cache" good) || fail "fetch_kernel failed: $(cat "$tmp/err")"
[ "$dir" = "$cache/kernel/${pkg}_1.0" ] || fail "kernel dir '$dir'"
[ "$(cat "$dir/release")" = "$rel" ] || fail "release '$(cat "$dir/release")'"
[ -f "$dir/vmlinuz" ] && [ -f "$dir/config" ] || fail "vmlinuz or config missing in $dir"
[ "$(ls "$dir/modules"/*.ko | wc -l)" = 6 ] || fail "modules: $(ls "$dir/modules")"
[ -z "$(ls -A "$tmp/cwd")" ] || fail "files left in the current directory: $(ls -A "$tmp/cwd")"
[ -z "$(find "$cache" -name '*dl.*')" ] || fail "download directory left in the cache"
echo "vm/lib_test: ok"
