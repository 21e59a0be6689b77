#!/usr/bin/env bash
# vm/lib.sh's trixie build root for kernel line 7 against fakes (no
# network, no debootstrap, no chroot): trixie_root debootstraps trixie
# --variant=minbase with gcc-14, make and libc6-dev from the archive of the
# machine's own apt sources (kmlb_archive_uri) with Debian's keyring, marks
# the root ready and does not run again; a failed debootstrap, or one that
# leaves no gcc-14, leaves nothing in the cache; fetch_headers 7 unpacks the
# 7.x headers, -common and kbuild packages into the root at their own paths
# (their Makefile is not rewritten) and names the root to chroot into;
# module_make copies the module's sources and the model header into the
# root, runs make under chroot in a private mount namespace (a fake unshare
# here) and brings the built tree back, leaving nothing in the root's /tmp.
# The real chroot build is what kernel/deploy.sh --kernel 7 runs.
# Exit 0 ok, 1 failure, 77 skipped (no dpkg-deb or no archive in /etc/apt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmlb-trixie-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "vm/lib_trixie_test: FAIL: $*" >&2; [ -f "$tmp/err" ] && sed 's/^/  /' "$tmp/err" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "vm/lib_trixie_test: SKIP: needs dpkg-deb" >&2; exit 77; }
uri=$(bash -c 'source "$0/lib.sh"; kmlb_archive_uri' "$here") ||
	{ echo "vm/lib_trixie_test: SKIP: no Debian archive in /etc/apt" >&2; exit 77; }

rel=7.9.1+deb13-amd64
ver=7.9.1-1~bpo13+1
# shellcheck source=fake_deb.sh
source "$here/fake_deb.sh"
# the kernel line's packages (as vm/lib_lines_test.sh) and its headers
mkdir -p "$tmp/root-linux-image-$rel/usr/share/doc"
mkdir -p "$tmp/root-linux-binary-$rel/usr/lib/modules/$rel"
echo vmlinuz >"$tmp/root-linux-binary-$rel/usr/lib/modules/$rel/vmlinuz"
m=$tmp/root-linux-modules-$rel/usr/lib/modules/$rel
mkdir -p "$m"
for b in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
	echo "kernel/drivers/virtio/$b.ko" >>"$m/modules.builtin"
done
h=$tmp/root-linux-headers-$rel/usr/src/linux-headers-$rel
mkdir -p "$h"
echo "include /usr/src/linux-headers-7.9.1+deb13-common/Makefile" >"$h/Makefile"
mkdir -p "$tmp/root-linux-headers-7.9.1+deb13-common/usr/src/linux-headers-7.9.1+deb13-common"
echo common >"$tmp/root-linux-headers-7.9.1+deb13-common/usr/src/linux-headers-7.9.1+deb13-common/Makefile"
mkdir -p "$tmp/root-linux-kbuild-7.9.1+deb13/usr/lib/linux-kbuild-7.9.1+deb13/scripts"
echo fixdep >"$tmp/root-linux-kbuild-7.9.1+deb13/usr/lib/linux-kbuild-7.9.1+deb13/scripts/fixdep"
for p in linux-image-$rel linux-binary-$rel linux-modules-$rel linux-headers-$rel \
	linux-headers-7.9.1+deb13-common linux-kbuild-7.9.1+deb13; do
	mkdeb "$p"
done

mkdir -p "$tmp/bin"
cat >"$tmp/bin/apt-cache" <<SH
#!/bin/sh
while [ "\$1" = -o ] || [ "\$1" = -qq ]; do [ "\$1" = -o ] && shift; shift; done
case "\$1 \$2" in
"depends linux-image-amd64") echo "linux-image-amd64"; echo "  Depends: linux-image-$rel" ;;
"depends linux-image-$rel") echo "linux-image-$rel"; echo "  Depends: linux-binary-$rel"; echo "  Depends: linux-modules-$rel" ;;
"depends linux-headers-$rel") echo "linux-headers-$rel"; echo "  Depends: <gcc-14-for-host>"
	echo "  Depends: linux-headers-7.9.1+deb13-common"; echo "  Depends: linux-kbuild-7.9.1+deb13" ;;
"policy linux-image-$rel") echo "linux-image-$rel:"; echo "  Candidate: $ver" ;;
esac
SH
cat >"$tmp/bin/apt-get" <<SH
#!/bin/sh
opts="\$*"
while [ "\$1" = -o ] || [ "\$1" = -qq ]; do [ "\$1" = -o ] && shift; shift; done
case "\$1" in
update) d=\$(echo "\$opts" | sed -n 's/.*Dir::State::Lists=\([^ ]*\).*/\1/p'); mkdir -p "\$d" && touch "\$d/x_Packages"; exit 0 ;;
download) shift
	for a in "\$@"; do case "\$a" in -*) ;; *) n=\${a%%=*}; cp "$tmp/\$n.deb" "./\${n}_${ver}_amd64.deb" ;; esac; done ;;
install) echo "apt-get install \$*" >>"$tmp/install.log"; exit 1 ;;
esac
SH
# debootstrap: logs its arguments; FAKE_DEBOOTSTRAP=good makes a root with
# gcc-14, nogcc one without, bad writes part of a root and fails
cat >"$tmp/bin/debootstrap" <<SH
#!/bin/sh
echo "\$*" >>"$tmp/debootstrap.log"
target=\$(for a in "\$@"; do case "\$a" in -*) ;; *) echo "\$a" ;; esac; done | sed -n 2p)
mkdir -p "\$target/usr/bin" "\$target/tmp"
case "\$FAKE_DEBOOTSTRAP" in
good) printf '#!/bin/sh\n' >"\$target/usr/bin/gcc-14"; chmod +x "\$target/usr/bin/gcc-14" ;;
nogcc) ;;
*) echo partial >"\$target/partial"; exit 1 ;;
esac
SH
# unshare: runs the script's chroot as a fake (argument 5 after "--" is the
# root): checks the sources are in the root, writes a kmlb.ko holding the
# model header it was given (both paths inside the root)
cat >"$tmp/bin/unshare" <<'SH'
#!/bin/sh
echo "$*" >>"$FAKE_LOG/unshare.log"
while [ "$1" != -- ]; do shift; done
shift 4
root=$1
shift
build= model= src=
for a in "$@"; do
	case "$a" in BUILD=*) build=${a#BUILD=} ;; MODEL_H=*) model=${a#MODEL_H=} ;; esac
	[ "$prev" = -C ] && src=$a
	prev=$a
done
[ -f "$root$src/Makefile" ] || { echo "no Makefile in $root$src" >&2; exit 2; }
mkdir -p "$root$build"
cat "$root$model" >"$root$build/kmlb.ko"
SH
chmod +x "$tmp/bin/"*

lib() { # lib CACHE MODE SCRIPT: run SCRIPT after sourcing lib.sh, fakes first in PATH
	(cd "$tmp" && PATH="$tmp/bin:$PATH" KMLB_CACHE=$1 FAKE_DEBOOTSTRAP=$2 FAKE_LOG=$tmp bash -c \
		"set -euo pipefail; source \"\$0/lib.sh\"; $3" "$here") 2>"$tmp/err"
}
cache=$tmp/cache

# 1. a failed debootstrap leaves nothing in the cache
if lib "$cache" bad trixie_root >/dev/null; then fail "a failed debootstrap reported success"; fi
grep -q "debootstrap of the trixie build root failed" "$tmp/err" || fail "no clear message"
[ -z "$(find "$cache" -mindepth 1 -maxdepth 1 -name 'trixie-root*')" ] ||
	fail "left in the cache: $(find "$cache" -maxdepth 1 -name 'trixie-root*')"
# 2. a root without gcc-14 is not accepted
if lib "$cache" nogcc trixie_root >/dev/null; then fail "a root without gcc-14 was accepted"; fi
grep -q "no gcc-14 in the trixie build root" "$tmp/err" || fail "no clear message for a root without gcc-14"
[ -z "$(find "$cache" -mindepth 1 -maxdepth 1 -name 'trixie-root*')" ] || fail "a root without gcc-14 left in the cache"

# 3. a good one: minbase, the build packages, the machine's archive, the keyring; ready
: >"$tmp/debootstrap.log"
out=$(lib "$cache" good 'trixie_root; echo "$KMLB_TRIXIE_ROOT"') || fail "trixie_root failed"
[ "$out" = "$cache/trixie-root" ] || fail "KMLB_TRIXIE_ROOT '$out'"
[ -f "$cache/trixie-root/.kmlb-ready" ] || fail "root not marked ready"
args=$(cat "$tmp/debootstrap.log")
for want in --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg " trixie " " $uri"; do
	case "$args" in *"$want"*) ;; *) fail "debootstrap without '$want': $args" ;; esac
done
inc=$(echo "$args" | sed -n 's/.*--include=\([^ ]*\).*/\1/p')
for p in gcc-14 make libc6-dev libelf1t64; do
	echo ",$inc," | grep -q ",$p," || fail "--include=$inc lacks $p"
done
[ -z "$(find "$cache" -maxdepth 1 -name 'trixie-root.dl.*')" ] || fail "download directory left in the cache"
# 4. cached: debootstrap does not run again
lib "$cache" bad trixie_root >/dev/null || fail "the ready root was built again"
[ "$(wc -l <"$tmp/debootstrap.log")" = 1 ] || fail "debootstrap ran $(wc -l <"$tmp/debootstrap.log") times"

# 5. fetch_headers 7: into the root, at the packages' own paths
out=$(lib "$cache" bad 'fetch_headers 7; echo "$KMLB_BUILD_ROOT|$KMLB_HEADERS_DIR"') || fail "fetch_headers 7 failed"
[ "$out" = "$cache/trixie-root|/usr/src/linux-headers-$rel" ] || fail "fetch_headers 7 set '$out'"
r=$cache/trixie-root
grep -qx "include /usr/src/linux-headers-7.9.1+deb13-common/Makefile" "$r/usr/src/linux-headers-$rel/Makefile" ||
	fail "the headers' Makefile was rewritten: $(cat "$r/usr/src/linux-headers-$rel/Makefile")"
[ -f "$r/usr/src/linux-headers-7.9.1+deb13-common/Makefile" ] || fail "-common not unpacked into the root"
[ -f "$r/usr/lib/linux-kbuild-7.9.1+deb13/scripts/fixdep" ] || fail "kbuild not unpacked into the root"
[ -f "$r/usr/src/linux-headers-$rel/.kmlb-ready" ] || fail "headers not marked ready"
[ -z "$(find "$cache/headers" -mindepth 1 -maxdepth 1 2>/dev/null)" ] || fail "left in headers/: $(ls "$cache/headers")"
[ ! -e "$tmp/install.log" ] || fail "apt-get install was run: $(cat "$tmp/install.log")"

# 6. module_make: the sources and the model header go into the root, the build comes back
mkdir -p "$tmp/src"
echo "all:" >"$tmp/src/Makefile"
echo "model-header-42" >"$tmp/model.h"
lib "$cache" bad "fetch_headers 7; module_make $tmp/src $tmp/out KVER=$rel MODEL_H=$tmp/model.h" ||
	fail "module_make failed"
[ "$(cat "$tmp/out/kmlb.ko" 2>/dev/null)" = model-header-42 ] || fail "the build did not come back with the model header"
grep -q -- "--mount .*chroot.* $r /usr/bin/env -i .*make -s -C /tmp/kmlb-module\.[^/]*/src KDIR=/usr/src/linux-headers-$rel CONFIG_DEBUG_INFO_BTF_MODULES= BUILD=/tmp/kmlb-module\.[^/]*/build KVER=$rel MODEL_H=/tmp/kmlb-module\.[^/]*/model.h" \
	"$tmp/unshare.log" || fail "make not run in the root: $(cat "$tmp/unshare.log")"
[ -z "$(ls -A "$r/tmp")" ] || fail "left in the root's /tmp: $(ls -A "$r/tmp")"
echo "vm/lib_trixie_test: ok"
