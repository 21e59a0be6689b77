# shellcheck shell=bash disable=SC2034
# (SC2034: the KMLB_* results are read by the scripts that source this file)
# Shared helpers of the guest jobs (vm/collect.sh, vm/ci_test.sh,
# vm/host_collect.sh, kernel/deploy.sh): sourced, not run.
#
# Artifacts (kernel, builds, initramfs) live in the cache, never in the repo:
#   ${KMLB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kmlb}/
#     apt/<suite>/                  private apt configuration of a kernel line
#     kernel/<package>_<version>/   vmlinuz, modules/ (unpacked with dpkg -x)
#     headers/<release>/            linux-headers, unpacked (fetch_headers; 6.1, 6.12)
#     trixie-root/                  trixie build root for line 7 (trixie_root),
#                                   with its linux-headers under usr/src/
#     build/collector/kmlb_collect (+ vmlinux.h, skeleton), build/kmlb_work

KMLB_VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KMLB_REPO=$(cd "$KMLB_VM_DIR/.." && pwd)
KMLB_CACHE=${KMLB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kmlb}
KMLB_CMDLINE_BASE="console=ttyS0 nokaslr cryptomgr.notests=1 softlockup_panic=1 panic=-1 no_timer_check"

log() { echo "kmlb-vm: $*" >&2; }
die() { echo "kmlb-vm: error: $*" >&2; exit 1; }

# Install the host tools that are missing (Debian's registry only).
ensure_tools() {
	local pkgs=()
	command -v qemu-system-x86_64 >/dev/null || pkgs+=(qemu-system-x86)
	command -v cpio >/dev/null || pkgs+=(cpio)
	command -v clang >/dev/null || pkgs+=(clang)
	command -v python3 >/dev/null || pkgs+=(python3)  # kernel/tools/summarize.py
	command -v bpftool >/dev/null || [ -x /usr/sbin/bpftool ] || pkgs+=(bpftool)
	command -v cc >/dev/null || pkgs+=(gcc libc6-dev)
	command -v make >/dev/null || pkgs+=(make)
	[ -f /usr/lib/x86_64-linux-gnu/libbpf.a ] || pkgs+=(libbpf-dev)
	[ -f /usr/lib/x86_64-linux-gnu/libelf.a ] || pkgs+=(libelf-dev)
	[ -f /usr/lib/x86_64-linux-gnu/libz.a ] || pkgs+=(zlib1g-dev)
	[ -f /usr/lib/x86_64-linux-gnu/libzstd.a ] || pkgs+=(libzstd-dev)
	dpkg -s busybox-static >/dev/null 2>&1 || pkgs+=(busybox-static)
	if [ ${#pkgs[@]} -eq 0 ]; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "missing packages (${pkgs[*]}); install them as root"
	log "installing ${pkgs[*]}"
	apt-get update -qq >&2 || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >&2 ||
		die "apt-get install ${pkgs[*]} failed"
}

# ---- kernel lines -------------------------------------------------------
# A kernel line names a Debian suite; the release is whatever that suite's
# linux-image-amd64 points at now (resolved at run time, cached per release):
#   6.1  bookworm            (the machine's own apt configuration)
#   6.12 bookworm-backports  (private apt configuration, see kmlb_apt)
#   7    trixie-backports    (private; the image package is a stub: vmlinuz
#                             is in linux-binary-<rel>, modules in
#                             linux-modules-<rel>)
# Modules the guest needs for its output disk, in load order; those built
# into a kernel are skipped.
KMLB_GUEST_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk"

kernel_suite() {
	case "$1" in
	6.1) echo "" ;;
	6.12) echo bookworm-backports ;;
	7) echo trixie-backports ;;
	*) return 1 ;;
	esac
}

# The Debian archive URI of the machine's own apt sources (deb822 .sources or
# one-line sources.list): the first "deb" entry that is not a security or
# update-only archive. Read at run time: no host name lives in the repository.
kmlb_archive_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# (no early exit from awk: the caller runs under pipefail)
		uri=$(awk '
			function take() { if (found == "" && deb && uri != "" && suites ~ /(^| )[a-z]+( |$)/) found = uri }
			/^[ \t]*$/ { take(); deb = 0; uri = ""; suites = ""; next }
			/^Types:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { $1 = ""; suites = $0 }
			END { take(); if (found != "") print found }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" && found == "" {
				i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) ~ /^[a-z]+$/) found = $i }
			END { if (found != "") print found }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	return 1
}

# kmlb_apt SUITE apt-get|apt-cache ARGS...: run apt with a private
# configuration for SUITE (its own source list, lists and cache directories
# under $KMLB_CACHE/apt/SUITE, Debian's archive keyring). The machine's apt
# sources and lists are never touched. The lists are refreshed when older
# than a day (KMLB_APT_REFRESH=1 forces it).
kmlb_apt() {
	local suite=$1 tool=$2 a=$KMLB_CACHE/apt/$1
	shift 2
	local -a o=(-o "Dir::Etc::SourceList=$a/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o Acquire::Languages=none
		-o APT::Sandbox::User=root -o DPkg::Lock::Timeout=600)
	if [ ! -f "$a/sources.list" ]; then
		local uri
		uri=$(kmlb_archive_uri) || die "no Debian archive in the machine's apt sources (/etc/apt)"
		mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" \
			>"$a/sources.list.tmp"
		mv "$a/sources.list.tmp" "$a/sources.list"
	fi
	if [ "$tool" = update ]; then
		apt-get "${o[@]}" update -qq >&2
		return
	fi
	if [ -n "${KMLB_APT_REFRESH:-}" ] || [ -z "$(find "$a/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null)" ]; then
		log "apt lists of $suite (private configuration, $a)"
		apt-get "${o[@]}" update -qq >&2 || log "apt-get update of $suite failed"
	fi
	"$tool" "${o[@]}" "$@"
}

# kernel_apt LINE apt-get|apt-cache ARGS...: apt for a kernel line.
kernel_apt() {
	local suite
	suite=$(kernel_suite "$1") || die "unknown kernel line '$1' (6.1, 6.12 or 7)"
	shift
	if [ -z "$suite" ]; then
		local tool=$1
		shift
		# root downloads into the cache without the _apt sandbox (no warning)
		if [ "$tool" = apt-get ] && [ "${1:-}" = download ]; then
			shift
			apt-get download -o APT::Sandbox::User=root "$@"
		else
			"$tool" "$@"
		fi
	else
		kmlb_apt "$suite" "$@"
	fi
}

# Package of linux-image-amd64's kernel in LINE's suite, and its version.
resolve_kernel_package() {
	local line=$1 pkg
	# awk reads all its input (no early exit): callers run under pipefail
	local first='/Depends: linux-image-[0-9]/ && p == "" { p = $2 } END { print p }'
	pkg=$(kernel_apt "$line" apt-cache depends linux-image-amd64 2>/dev/null | awk "$first") || pkg=
	if [ -z "$pkg" ] && [ "$line" = 6.1 ] && [ "$(id -u)" = 0 ]; then
		apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk "$first") || pkg=
	fi
	[ -n "$pkg" ] || return 1
	echo "$pkg $(kernel_apt "$line" apt-cache policy "$pkg" | awk '/Candidate:/ && v == "" { v = $2 } END { print v }')"
}

# unpack_module DEBROOT NAME DEST: copy NAME.ko (decompressed) from an
# unpacked kernel into DEST; 0 copied, 1 built in, 2 missing.
unpack_module() {
	local root=$1 name=$2 dest=$3 f
	f=$(find "$root" -path '*/modules/*/kernel/*' \( -name "$name.ko" -o -name "$name.ko.xz" \
		-o -name "$name.ko.zst" -o -name "$name.ko.gz" \) -print -quit)
	if [ -z "$f" ]; then
		grep -qs "/$name.ko\$" "$root"/lib/modules/*/modules.builtin "$root"/usr/lib/modules/*/modules.builtin &&
			return 1
		return 2
	fi
	case "$f" in
	*.xz) xz -dc "$f" >"$dest/$name.ko" ;;
	*.zst) zstd -qdc "$f" >"$dest/$name.ko" ;;
	*.gz) gzip -dc "$f" >"$dest/$name.ko" ;;
	*) cp "$f" "$dest/$name.ko" ;;
	esac
}

# download_unpack LINE TMP DEST PKG=VER...: apt-get download the packages
# (LINE's apt configuration) into the private directory TMP and dpkg -x each
# into DEST. On any failure TMP is removed and the run dies: nothing is left
# in the caller's directory or the cache.
download_unpack() {
	local line=$1 tmp=$2 dest=$3 deb
	shift 3
	(cd "$tmp" && kernel_apt "$line" apt-get download -qq "$@" >&2) ||
		{ rm -rf "$tmp"; die "apt-get download $* failed"; }
	for deb in "$tmp"/*.deb; do
		dpkg -x "$deb" "$dest" || { rm -rf "$tmp"; die "dpkg -x $deb failed"; }
	done
}

# fetch_kernel [LINE]: Debian's current kernel of LINE (default
# $KMLB_KERNEL_LINE or 6.1), fetched with apt-get download into a temporary
# directory of the cache and unpacked with dpkg -x (never installed) into
#   $KMLB_CACHE/kernel/<package>_<version>/
#     vmlinuz config release line modules/<name>.ko modules/order
# Sets KMLB_KERNEL_DIR, KMLB_KERNEL_RELEASE, KMLB_KERNEL_LINE.
# KMLB_KERNEL_DIR may be preset to such a directory (then LINE is not used).
fetch_kernel() {
	local line=${1:-${KMLB_KERNEL_LINE:-6.1}}
	kernel_suite "$line" >/dev/null || die "unknown kernel line '$line' (6.1, 6.12 or 7)"
	if [ -n "${KMLB_KERNEL_DIR:-}" ]; then
		[ -f "$KMLB_KERNEL_DIR/vmlinuz" ] || die "no vmlinuz in $KMLB_KERNEL_DIR"
		KMLB_KERNEL_RELEASE=$(cat "$KMLB_KERNEL_DIR/release" 2>/dev/null || echo unknown)
		KMLB_KERNEL_LINE=$(cat "$KMLB_KERNEL_DIR/line" 2>/dev/null || echo "$line")
		return 0
	fi
	mkdir -p "$KMLB_CACHE/kernel"
	local pkg ver dir tmp resolved
	if resolved=$(resolve_kernel_package "$line") && [ -n "${resolved#* }" ]; then
		pkg=${resolved% *} ver=${resolved#* }
		dir=$KMLB_CACHE/kernel/${pkg}_$ver
	else
		# offline: newest kernel of this line already in the cache
		dir=$(grep -lx -- "$line" "$KMLB_CACHE"/kernel/*/line 2>/dev/null | sort -V | tail -n 1) || dir=
		dir=${dir%/line}
		if [ -z "$dir" ] || [ ! -f "$dir/vmlinuz" ]; then
			die "cannot resolve linux-image-amd64 of kernel line $line and no cached kernel"
		fi
		log "apt metadata unavailable, using cached $dir"
	fi
	if [ ! -f "$dir/vmlinuz" ]; then
		log "fetching $pkg $ver (kernel line $line)"
		tmp=$(mktemp -d "$KMLB_CACHE/kernel/dl.XXXXXX")
		chmod 755 "$tmp"
		# the image package and, from 7.x on, the packages that hold its
		# files (linux-binary-, linux-modules-, linux-base-<release>)
		local -a pkgs=("$pkg=$ver")
		local rel=${pkg#linux-image-} p
		for p in $(kernel_apt "$line" apt-cache depends "$pkg" 2>/dev/null |
			awk -v r="$rel" '$1 == "Depends:" && ($2 == "linux-binary-" r || $2 == "linux-modules-" r || $2 == "linux-base-" r) { print $2 }'); do
			pkgs+=("$p=$ver")
		done
		download_unpack "$line" "$tmp" "$tmp/x" "${pkgs[@]}"
		mkdir -p "$tmp/k/modules"
		# boot/ up to 6.12, usr/lib/modules/<rel>/ from 7.x (either may be absent)
		local f d
		local -a where=()
		for d in "$tmp/x/boot" "$tmp/x/usr/lib/modules"; do
			[ -d "$d" ] && where+=("$d")
		done
		[ ${#where[@]} -gt 0 ] || { rm -rf "$tmp"; die "no boot/ or usr/lib/modules/ in ${pkgs[*]}"; }
		f=$(find "${where[@]}" -maxdepth 2 \( -name 'vmlinuz-*' -o -name vmlinuz \) -print -quit)
		[ -n "$f" ] || { rm -rf "$tmp"; die "no vmlinuz in ${pkgs[*]}"; }
		cp "$f" "$tmp/k/vmlinuz"
		f=$(find "${where[@]}" -maxdepth 2 \( -name 'config-*' -o -name config \) -print -quit)
		[ -z "$f" ] || cp "$f" "$tmp/k/config"
		local m rc
		: >"$tmp/k/modules/order"
		for m in $KMLB_GUEST_MODULES; do
			rc=0
			unpack_module "$tmp/x" "$m" "$tmp/k/modules" || rc=$?
			case $rc in
			0) echo "$m" >>"$tmp/k/modules/order" ;;
			1) ;;
			*) rm -rf "$tmp"; die "module $m missing in ${pkgs[*]}" ;;
			esac
		done
		echo "$rel" >"$tmp/k/release"
		echo "$line" >"$tmp/k/line"
		rm -rf "$dir"
		mv "$tmp/k" "$dir"
		rm -rf "$tmp"
	fi
	KMLB_KERNEL_DIR=$dir
	KMLB_KERNEL_RELEASE=$(cat "$dir/release")
	KMLB_KERNEL_LINE=$line
}

# trixie_root: a Debian trixie build root for modules of kernel line 7, whose
# linux-headers and linux-kbuild are built with trixie's gcc-14 and libc:
# debootstrap --variant=minbase with what an out-of-tree module build needs,
# from the archive of the machine's own apt sources (kmlb_archive_uri, as
# kernel_apt; nothing else is downloaded, the machine's sources are not
# changed), built in a temporary directory of the cache and moved to
#   $KMLB_CACHE/trixie-root/   (marked ready: .kmlb-ready)
# Needs root (debootstrap, chroot); debootstrap is installed from Debian's
# registry when missing. A failed debootstrap leaves nothing in the cache.
# Sets KMLB_TRIXIE_ROOT.
KMLB_TRIXIE_PACKAGES="gcc-14,make,libc6-dev,libelf1t64,libssl3t64,zlib1g"
trixie_root() {
	local root=$KMLB_CACHE/trixie-root uri tmp
	KMLB_TRIXIE_ROOT=$root
	[ -f "$root/.kmlb-ready" ] && return 0
	[ "$(id -u)" = 0 ] || die "a trixie build root needs root (debootstrap, chroot)"
	if ! command -v debootstrap >/dev/null; then
		log "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2 ||
			die "apt-get install debootstrap failed"
	fi
	uri=$(kmlb_archive_uri) || die "no Debian archive in the machine's apt sources (/etc/apt)"
	mkdir -p "$KMLB_CACHE"
	tmp=$(mktemp -d "$KMLB_CACHE/trixie-root.dl.XXXXXX")
	chmod 755 "$tmp"
	log "debootstrap trixie (minbase + $KMLB_TRIXIE_PACKAGES) into the cache (a few minutes)"
	if ! debootstrap --variant=minbase --include="$KMLB_TRIXIE_PACKAGES" \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		trixie "$tmp/root" "$uri" >"$tmp/debootstrap.log" 2>&1; then
		tail -n 5 "$tmp/debootstrap.log" >&2
		rm -rf "$tmp"
		die "debootstrap of the trixie build root failed"
	fi
	[ -x "$tmp/root/usr/bin/gcc-14" ] || { rm -rf "$tmp"; die "no gcc-14 in the trixie build root"; }
	touch "$tmp/root/.kmlb-ready"
	rm -rf "$root"
	mv "$tmp/root" "$root"
	rm -rf "$tmp"
}

# fetch_headers [LINE]: linux-headers of the kernel fetch_kernel resolves for
# LINE, with their -common tree and linux-kbuild, unpacked (never installed).
# 6.1 and 6.12 (bookworm's gcc-12, the machine's own compiler): into
# $KMLB_CACHE/headers/<release>/, made usable from there (the Makefile's
# absolute include of the -common tree is pointed at the unpacked copy).
# 7 (trixie's gcc-14 and libc): into the trixie build root (trixie_root) at
# their own paths, /usr/src/linux-headers-<release>, for a build inside it
# with chroot (module_make).
# Sets KMLB_HEADERS_DIR (the directory to build modules against; for 7 a
# path inside the root), KMLB_BUILD_ROOT (the root to chroot into; empty for
# 6.1 and 6.12) and KMLB_HEADERS_MAKEFLAGS (for make: 6.12's and 7.x's
# kbuild would run pahole for module BTF, which the module does not need).
fetch_headers() {
	local line=${1:-${KMLB_KERNEL_LINE:-6.1}}
	fetch_kernel "$line"
	local rel=$KMLB_KERNEL_RELEASE root=$KMLB_CACHE/headers/$KMLB_KERNEL_RELEASE
	KMLB_HEADERS_MAKEFLAGS="CONFIG_DEBUG_INFO_BTF_MODULES="
	KMLB_BUILD_ROOT=
	if [ "$line" = 7 ]; then
		trixie_root
		KMLB_BUILD_ROOT=$KMLB_TRIXIE_ROOT
		KMLB_HEADERS_DIR=/usr/src/linux-headers-$rel
		[ -f "$KMLB_BUILD_ROOT$KMLB_HEADERS_DIR/.kmlb-ready" ] && return 0
	else
		KMLB_HEADERS_DIR=$root/usr/src/linux-headers-$rel
		[ -f "$KMLB_HEADERS_DIR/.kmlb-ready" ] && return 0
	fi
	local tmp hp p
	mkdir -p "$KMLB_CACHE/headers"
	tmp=$(mktemp -d "$KMLB_CACHE/headers/dl.XXXXXX")
	chmod 755 "$tmp"
	hp=linux-headers-$rel
	local -a pkgs=("$hp")
	for p in $(kernel_apt "$line" apt-cache depends "$hp" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-(headers-.*-common|kbuild-)/ { print $2 }'); do
		pkgs+=("$p")
	done
	[ ${#pkgs[@]} -ge 2 ] || { rm -rf "$tmp"; die "cannot resolve the dependencies of $hp"; }
	download_unpack "$line" "$tmp" "$tmp/root" "${pkgs[@]}"
	[ -f "$tmp/root/usr/src/$hp/Makefile" ] || { rm -rf "$tmp"; die "no Makefile in $hp"; }
	if [ -n "$KMLB_BUILD_ROOT" ]; then
		# the packages' own paths, inside the root (cp -a: their symlinks
		# into /usr/lib/linux-kbuild-* resolve there)
		cp -a "$tmp/root/." "$KMLB_BUILD_ROOT/" || { rm -rf "$tmp"; die "cannot unpack $hp into $KMLB_BUILD_ROOT"; }
		rm -rf "$tmp"
		touch "$KMLB_BUILD_ROOT$KMLB_HEADERS_DIR/.kmlb-ready"
		return 0
	fi
	rm -rf "$root"
	mkdir -p "$(dirname "$root")"
	mv "$tmp/root" "$root"
	rm -rf "$tmp"
	# include /usr/src/linux-headers-<x>-common/Makefile -> the unpacked tree
	sed -i "s|/usr/src/|$root/usr/src/|g" "$KMLB_HEADERS_DIR/Makefile"
	touch "$KMLB_HEADERS_DIR/.kmlb-ready"
}

# module_make SRC OUT MAKEARGS...: make -C SRC (an out-of-tree module's
# directory with a Makefile that takes KDIR and BUILD) with BUILD=OUT and
# KDIR=$KMLB_HEADERS_DIR, as fetch_headers set them up. With a build root
# (KMLB_BUILD_ROOT, kernel line 7) SRC is copied into the root, make runs
# there under chroot, and OUT receives the built tree (OUT/*.ko). The
# root's copy is removed afterwards.
module_make() {
	local src=$1 out=$2
	shift 2
	if [ -z "${KMLB_BUILD_ROOT:-}" ]; then
		make -s -C "$src" KDIR="$KMLB_HEADERS_DIR" $KMLB_HEADERS_MAKEFLAGS BUILD="$out" "$@"
		return
	fi
	local w rc=0 a
	local -a args=()
	w=$(mktemp -d "$KMLB_BUILD_ROOT/tmp/kmlb-module.XXXXXX")
	{ mkdir -p "$w/src" && cp -a "$src/." "$w/src/"; } || { rm -rf "$w"; return 1; }
	# host paths given as NAME=PATH (a model header) are copied in too
	for a in "$@"; do
		case "$a" in
		*=/*) if [ -f "${a#*=}" ]; then
				cp "${a#*=}" "$w/$(basename "${a#*=}")"
				a="${a%%=*}=/tmp/${w##*/}/$(basename "${a#*=}")"
			fi ;;
		esac
		args+=("$a")
	done
	# objtool reads /proc (its stack limit): a private mount namespace gets
	# its own /proc in the root, gone with the namespace (nothing to unmount)
	unshare --mount --propagation private -- /bin/sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$KMLB_BUILD_ROOT" \
		/usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp LC_ALL=C \
		make -s -C "/tmp/${w##*/}/src" KDIR="$KMLB_HEADERS_DIR" $KMLB_HEADERS_MAKEFLAGS \
		BUILD="/tmp/${w##*/}/build" "${args[@]}" || rc=$?
	if [ $rc = 0 ]; then
		mkdir -p "$out"
		cp -a "$w/build/." "$out/" || rc=1
	fi
	rm -rf "$w"
	return $rc
}

# build_workload: the guest's one workload program, vm/kmlb_work.c (static,
# cached by date). Prints its path.
build_workload() {
	local b=$KMLB_CACHE/build
	mkdir -p "$b"
	if [ ! -x "$b/kmlb_work" ] || [ "$KMLB_VM_DIR/kmlb_work.c" -nt "$b/kmlb_work" ]; then
		cc -O2 -Wall -static -pthread -o "$b/kmlb_work.tmp" "$KMLB_VM_DIR/kmlb_work.c" >&2 ||
			die "kmlb_work build failed"
		mv "$b/kmlb_work.tmp" "$b/kmlb_work"
	fi
	echo "$b/kmlb_work"
}

# build_initramfs CPIO JOB FILE...: the guest's initramfs, written to CPIO.
# Every job boots the same /init (vm/init.sh: mounts, modules, CPUs,
# guest.env, the results disk, console markers), which runs JOB (a shell
# script, copied to /job.sh) in the middle. FILE goes to /bin/, or to DEST
# when given as FILE=DEST. The kernel's modules listed in modules/order
# (unpacked by fetch_kernel) are loaded by /init.
build_initramfs() {
	local cpio=$1 job=$2 root f src dest
	shift 2
	mkdir -p "$KMLB_CACHE/build"
	root=$(mktemp -d "$KMLB_CACHE/build/initramfs.XXXXXX")
	mkdir -p "$root/bin" "$root/modules"
	cp /bin/busybox "$root/bin/busybox"
	if ! file -L "$root/bin/busybox" 2>/dev/null | grep -q 'statically linked' &&
		! ldd "$root/bin/busybox" 2>&1 | grep -q 'not a dynamic'; then
		rm -rf "$root"
		die "/bin/busybox is not static (install busybox-static)"
	fi
	for f in "$@"; do
		src=${f%%=*} dest=/bin/$(basename "$f")
		[ "$src" != "$f" ] && dest=${f#*=}
		cp "$src" "$root$dest" || { rm -rf "$root"; die "cannot put $src into the initramfs"; }
	done
	cp "$KMLB_KERNEL_DIR"/modules/*.ko "$root/modules/" 2>/dev/null || true
	if [ -f "$KMLB_KERNEL_DIR/modules/order" ]; then
		cp "$KMLB_KERNEL_DIR/modules/order" "$root/modules/order"
	else # unpacked by an older kmlb: every module of the list is there
		echo "$KMLB_GUEST_MODULES" | tr ' ' '\n' >"$root/modules/order"
	fi
	cp "$KMLB_VM_DIR/init.sh" "$root/init"
	cp "$job" "$root/job.sh"
	chmod 755 "$root/init"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$cpio.tmp" ||
		{ rm -rf "$root"; die "cpio failed"; }
	mv "$cpio.tmp" "$cpio"
	rm -rf "$root"
}

# build_guest DIR: the collector job's programs (the static collector, by
# make; the workload) and its initramfs, in DIR. Sets KMLB_INITRD.
build_guest() {
	local b=$KMLB_CACHE/build work
	mkdir -p "$b"
	make -s -C "$KMLB_REPO/collector" BUILD="$b/collector" >&2 ||
		die "collector build failed"
	work=$(build_workload)
	build_initramfs "$1/initramfs.cpio" "$KMLB_VM_DIR/collect_job.sh" \
		"$b/collector/kmlb_collect" "$work"
	KMLB_INITRD=$1/initramfs.cpio
}

# qemu topology flags for a layout name; sets KMLB_QEMU_TOPO (array).
# shellcheck disable=SC2054,SC2206 # commas are qemu's, $n/$s/$d are digits
topology_flags() {
	case "$1" in
	2socket)
		KMLB_QEMU_TOPO=(-smp 8,sockets=2,cores=2,threads=2 -m 2G
			-object memory-backend-ram,id=m0,size=1G
			-object memory-backend-ram,id=m1,size=1G
			-numa node,nodeid=0,memdev=m0 -numa node,nodeid=1,memdev=m1
			-numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=1,socket-id=1
			-numa dist,src=0,dst=1,val=20)
		;;
	4node)
		KMLB_QEMU_TOPO=(-smp 8,sockets=4,cores=1,threads=2 -m 2G)
		local n s d
		for n in 0 1 2 3; do
			KMLB_QEMU_TOPO+=(-object memory-backend-ram,id=m$n,size=512M
				-numa node,nodeid=$n,memdev=m$n)
		done
		for n in 0 1 2 3; do
			KMLB_QEMU_TOPO+=(-numa cpu,node-id=$n,socket-id=$n)
		done
		for s in 0 1 2 3; do
			for d in 0 1 2 3; do
				if [ "$s" -lt "$d" ]; then
					KMLB_QEMU_TOPO+=(-numa dist,src=$s,dst=$d,val=20)
				fi
			done
		done
		;;
	*) die "unknown layout '$1' (2socket or 4node)" ;;
	esac
}

# Can qemu run here at all? A paused TCG machine must stay up until timeout
# kills it (rc 124); a qemu that cannot start exits at once.
qemu_usable() {
	command -v qemu-system-x86_64 >/dev/null || return 1
	timeout 3 qemu-system-x86_64 -accel tcg -machine q35 -nodefaults \
		-display none -monitor none -serial none -S </dev/null >/dev/null 2>&1
	[ $? -eq 124 ]
}

# boot_guest DIR LIMIT_S APPEND [DISK_SIZE]: the one boot loop of every job.
# Boots KMLB_KERNEL_DIR/vmlinuz with KMLB_INITRD on the layout of
# KMLB_QEMU_TOPO (topology_flags) under KMLB_ACCEL_ARGS (default: TCG on
# one host thread per vCPU), kernel command line KMLB_CMDLINE_BASE APPEND,
# killed after LIMIT_S seconds. The guest's results (a tar archive on its
# disk) are unpacked into DIR/guest. The last boot's console is
# DIR/serial.log.
#
# What is retried, and what is not:
# - a boot that never reached init: no KMLB-BEGIN within KMLB_STALL_S
#   seconds (default 120; a rare QEMU/TCG hang) or a kernel that failed its
#   own boot (seen on a loaded host: "IO-APIC + timer doesn't work!"). No
#   kmlb code runs before init, so this is booted again, up to 3 boots, log
#   kept as DIR/serial-stalled-boot-N.log;
# - a guest kernel crash after init (Oops, panic, BUG, general protection
#   fault, a jump to 0): never retried, log kept as
#   DIR/serial-crashed-boot-N.log;
# - a guest that passed init but did not reach KMLB-END in time (hung):
#   booted again only when KMLB_RETRY_HUNG=1 (a job with no code of its own
#   in the kernel), log kept as DIR/serial-hung-boot-N.log. With
#   KMLB_PROGRESS_RE set, a guest whose console shows no new line matching
#   it for KMLB_PROGRESS_S seconds (default 240) is stopped then, not at
#   LIMIT_S (a job that marks its progress: kernel/crash_exp.sh).
# Sets KMLB_WALL_S (last boot), KMLB_ATTEMPTS, KMLB_STALLED_BOOTS,
# KMLB_CRASHED_BOOTS, KMLB_HUNG_BOOTS, KMLB_FINISHED (1: KMLB-END seen),
# KMLB_GUEST_RC (the rc of KMLB-END, 1 when not finished) and
# KMLB_BOOT_UPTIME_S. Returns 0 when a boot passed init (results unpacked,
# finished or not), 1 when it never did.
KMLB_CRASH_RE='Oops|Kernel panic|BUG:|general protection fault|RIP: 0010:0x0'
boot_guest() {
	local dir=$1 limit=$2 append=$3 disk=${4:-1G}
	local attempt img=$dir/out.img log=$dir/serial.log t0 t1 qpid waited began marks quiet n
	local stall=${KMLB_STALL_S:-120}
	local accel=(-accel tcg,thread=multi)
	[ -z "${KMLB_ACCEL_ARGS[*]-}" ] || accel=("${KMLB_ACCEL_ARGS[@]}")
	KMLB_STALLED_BOOTS=0 KMLB_CRASHED_BOOTS=0 KMLB_HUNG_BOOTS=0 KMLB_FINISHED=0 KMLB_GUEST_RC=1
	KMLB_BOOT_UPTIME_S=0
	for attempt in 1 2 3; do
		KMLB_ATTEMPTS=$attempt
		rm -f "$img"
		truncate -s "$disk" "$img"
		log "boot $attempt (limit ${limit}s)"
		t0=$(date +%s.%N)
		timeout -k 10 "$limit" qemu-system-x86_64 \
			"${accel[@]}" -machine q35 -cpu max,vendor=GenuineIntel \
			"${KMLB_QEMU_TOPO[@]}" \
			-kernel "$KMLB_KERNEL_DIR/vmlinuz" -initrd "$KMLB_INITRD" \
			-append "$KMLB_CMDLINE_BASE $append${KMLB_EXTRA_CMDLINE:+ $KMLB_EXTRA_CMDLINE}" \
			-drive file="$img",format=raw,if=virtio \
			-no-reboot -nographic </dev/null >"$log" 2>&1 &
		qpid=$! waited=0 marks=0 quiet=0
		while kill -0 "$qpid" 2>/dev/null; do
			if [ $waited -ge "$stall" ] && ! grep -q 'KMLB-BEGIN' "$log"; then
				kill "$qpid" 2>/dev/null || true
				break
			fi
			if [ -n "${KMLB_PROGRESS_RE:-}" ]; then
				n=$(grep -a -c -E "$KMLB_PROGRESS_RE" "$log" || true)
				if [ "$n" != "$marks" ]; then marks=$n quiet=0; else quiet=$((quiet + 1)); fi
				if [ $quiet -ge "${KMLB_PROGRESS_S:-240}" ]; then
					kill "$qpid" 2>/dev/null || true
					break
				fi
			fi
			sleep 1
			waited=$((waited + 1))
		done
		wait "$qpid" 2>/dev/null || true # the caller may run under set -e
		t1=$(date +%s.%N)
		KMLB_WALL_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
		began=0
		grep -q 'KMLB-BEGIN' "$log" && began=1
		if [ $began = 0 ]; then
			# nothing of kmlb has run before init: a stall, or a kernel
			# that failed its own boot (seen on a loaded host: "IO-APIC +
			# timer doesn't work!")
			KMLB_STALLED_BOOTS=$((KMLB_STALLED_BOOTS + 1))
			cp "$log" "$dir/serial-stalled-boot-$attempt.log"
			log "boot $attempt stalled or failed before init (${KMLB_WALL_S}s); last lines:"
			tail -n 5 "$log" >&2
			continue
		elif grep -E -q "$KMLB_CRASH_RE" "$log"; then
			KMLB_CRASHED_BOOTS=$((KMLB_CRASHED_BOOTS + 1))
			cp "$log" "$dir/serial-crashed-boot-$attempt.log"
			log "boot $attempt: the guest kernel crashed (see $dir/serial-crashed-boot-$attempt.log): a failure, not retried"
		elif ! grep -q '^KMLB-END' "$log" && [ "${KMLB_RETRY_HUNG:-0}" = 1 ] && [ $attempt -lt 3 ]; then
			KMLB_HUNG_BOOTS=$((KMLB_HUNG_BOOTS + 1))
			cp "$log" "$dir/serial-hung-boot-$attempt.log"
			log "boot $attempt passed init but did not finish in ${KMLB_WALL_S}s (see $dir/serial-hung-boot-$attempt.log); last lines:"
			tail -n 5 "$log" >&2
			continue
		fi
		if grep -q '^KMLB-END' "$log"; then
			KMLB_FINISHED=1
			KMLB_GUEST_RC=$(sed -n 's/^KMLB-END rc=\([0-9]*\).*/\1/p' "$log" | head -n 1)
		else
			log "boot $attempt: the guest did not finish (${KMLB_WALL_S}s)"
		fi
		KMLB_BOOT_UPTIME_S=$(sed -n 's/^KMLB-BEGIN uptime=\([0-9.]*\).*/\1/p' "$log" | head -n 1)
		rm -rf "$dir/guest"
		mkdir -p "$dir/guest"
		tar -xf "$img" -C "$dir/guest" 2>/dev/null || log "no results on the guest disk"
		rm -f "$img"
		return 0
	done
	rm -f "$img"
	log "the guest never passed init in 3 boots (see $dir/serial-*-boot-*.log)"
	return 1
}
