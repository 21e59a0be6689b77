#!/usr/bin/env bash
# vm/lib.sh's kernel lines against a fake apt (no network, no real kernel):
# line 7's stub image package pulls linux-binary-<rel> (vmlinuz under
# usr/lib/modules/<rel>/) and linux-modules-<rel> (compressed .ko.xz, some
# modules built in); the backports lines go through a private apt
# configuration in the cache (own source list with the archive keyring,
# lists and cache directories) and the machine's apt sources stay as they
# were. Exit 0 ok, 1 failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmlb-lines-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "vm/lib_lines_test: FAIL: $*" >&2; [ -f "$tmp/err" ] && sed 's/^/  /' "$tmp/err" >&2; exit 1; }
command -v dpkg-deb >/dev/null && command -v xz >/dev/null || { echo "vm/lib_lines_test: SKIP: needs dpkg-deb and xz" >&2; exit 77; }

rel=7.9.1+deb13-amd64
ver=7.9.1-1~bpo13+1
# shellcheck source=fake_deb.sh
source "$here/fake_deb.sh"
mkdir -p "$tmp/root-linux-image-$rel/usr/share/doc"                       # the stub
mkdir -p "$tmp/root-linux-binary-$rel/usr/lib/modules/$rel"
echo vmlinuz >"$tmp/root-linux-binary-$rel/usr/lib/modules/$rel/vmlinuz"
echo config >"$tmp/root-linux-binary-$rel/usr/lib/modules/$rel/config"
m=$tmp/root-linux-modules-$rel/usr/lib/modules/$rel
mkdir -p "$m/kernel/drivers/block"
echo ko-blk | xz >"$m/kernel/drivers/block/virtio_blk.ko.xz"
for b in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci; do
	echo "kernel/drivers/virtio/$b.ko" >>"$m/modules.builtin"
done
for p in linux-image linux-binary linux-modules; do mkdeb "$p-$rel"; done

mkdir -p "$tmp/bin"
cat >"$tmp/bin/apt-cache" <<SH
#!/bin/sh
while [ "\$1" = -o ] || [ "\$1" = -qq ]; do [ "\$1" = -o ] && shift; shift; done
echo "\$*" >>"$tmp/apt.log"
case "\$1 \$2" in
"depends linux-image-amd64") echo "linux-image-amd64"; echo "  Depends: linux-image-$rel" ;;
"depends linux-image-$rel") echo "linux-image-$rel"; echo "  Depends: linux-binary-$rel"; echo "  Depends: linux-modules-$rel"; echo "  Depends: <dracut>" ;;
"policy linux-image-$rel") echo "linux-image-$rel:"; echo "  Candidate: $ver" ;;
esac
SH
cat >"$tmp/bin/apt-get" <<SH
#!/bin/sh
opts="\$*"
while [ "\$1" = -o ] || [ "\$1" = -qq ]; do [ "\$1" = -o ] && shift; shift; done
echo "\$opts" >>"$tmp/apt.log"
case "\$1" in
update) mkdir -p "\$(echo "\$opts" | sed -n 's/.*Dir::State::Lists=\([^ ]*\).*/\1/p')" &&
	touch "\$(echo "\$opts" | sed -n 's/.*Dir::State::Lists=\([^ ]*\).*/\1/p')/x_Packages"; exit 0 ;;
download) shift
	for a in "\$@"; do case "\$a" in -*) ;; *=*) n=\${a%%=*}; cp "$tmp/\$n.deb" "./\${n}_${ver}_amd64.deb" ;; esac; done ;;
esac
SH
chmod +x "$tmp/bin/apt-cache" "$tmp/bin/apt-get"

before=$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true; } | md5sum)
cache=$tmp/cache
mkdir -p "$tmp/cwd"
dir=$(cd "$tmp/cwd" && PATH="$tmp/bin:$PATH" KMLB_CACHE=$cache bash -c \
	'set -euo pipefail; source "$0/lib.sh"; fetch_kernel 7; echo "$KMLB_KERNEL_DIR $KMLB_KERNEL_RELEASE $KMLB_KERNEL_LINE"' \
	"$here" 2>"$tmp/err") || fail "fetch_kernel 7 failed"
[ "$dir" = "$cache/kernel/linux-image-${rel}_$ver $rel 7" ] || fail "result '$dir'"
k=$cache/kernel/linux-image-${rel}_$ver
[ "$(cat "$k/vmlinuz")" = vmlinuz ] || fail "vmlinuz not taken from linux-binary-$rel"
[ "$(cat "$k/config")" = config ] || fail "config missing"
[ "$(cat "$k/modules/virtio_blk.ko")" = ko-blk ] || fail "virtio_blk.ko not decompressed"
[ "$(cat "$k/modules/order")" = virtio_blk ] || fail "module order '$(cat "$k/modules/order")' (built-ins must be skipped)"
grep -q "download .*linux-binary-$rel=$ver.*linux-modules-$rel=$ver" "$tmp/apt.log" ||
	grep -q "linux-binary-$rel=$ver" "$tmp/apt.log" || fail "linux-binary-$rel not downloaded"
src=$cache/apt/trixie-backports/sources.list
grep -q '^deb \[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg\] [a-z]*://[^ ]* trixie-backports main$' "$src" ||
	fail "private source list: $(cat "$src" 2>/dev/null)"
grep -q "Dir::Etc::SourceList=$src .*Dir::Etc::SourceParts=/dev/null .*Dir::State::Lists=$cache/apt/trixie-backports/lists .*Dir::Cache=$cache/apt/trixie-backports/cache" \
	"$tmp/apt.log" || fail "apt not run with the private configuration"
[ -z "$(ls -A "$tmp/cwd")" ] || fail "files left in the current directory: $(ls -A "$tmp/cwd")"
[ -z "$(find "$cache" -name 'dl.*')" ] || fail "download directory left in the cache"
[ "$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true; } | md5sum)" = "$before" ] ||
	fail "the machine's apt sources changed"
# an unknown line is refused
if (PATH="$tmp/bin:$PATH" KMLB_CACHE=$cache bash -c 'source "$0/lib.sh"; fetch_kernel 5.4' "$here" 2>"$tmp/err"); then
	fail "line 5.4 accepted"
fi
grep -q "unknown kernel line '5.4'" "$tmp/err" || fail "no clear message for line 5.4"
echo "vm/lib_lines_test: ok"
