# shellcheck shell=bash disable=SC2034
# (SC2034: the KMLB_* results are read by the scripts that source this file)
# Shared helpers of vm/collect.sh and vm/ci_test.sh (sourced, not run).
#
# Artifacts (kernel, builds, initramfs) live in the cache, never in the repo:
#   ${KMLB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kmlb}/
#     kernel/<package>_<version>/vmlinuz + modules/   (unpacked with dpkg -x)
#     build/collector/kmlb_collect (+ vmlinux.h, skeleton), build/kmlb_load

KMLB_VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KMLB_REPO=$(cd "$KMLB_VM_DIR/.." && pwd)
KMLB_CACHE=${KMLB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kmlb}
KMLB_CMDLINE_BASE="console=ttyS0 nokaslr cryptomgr.notests=1 softlockup_panic=1 panic=-1"

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

# Fetch Debian's current 6.1 kernel image into the cache; sets KMLB_KERNEL_DIR.
# KMLB_KERNEL_DIR may be preset to an unpacked kernel (vmlinuz + modules/).
fetch_kernel() {
	if [ -n "${KMLB_KERNEL_DIR:-}" ]; then
		[ -f "$KMLB_KERNEL_DIR/vmlinuz" ] || die "no vmlinuz in $KMLB_KERNEL_DIR"
		return 0
	fi
	local pkg ver dir tmp
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$pkg" ]; then
		apt-get update -qq >&2 || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	fi
	if [ -n "$pkg" ]; then
		ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2; exit }')
		dir=$KMLB_CACHE/kernel/${pkg}_$ver
	else
		# offline: newest kernel already in the cache
		dir=$(printf '%s\n' "$KMLB_CACHE"/kernel/linux-image-*/vmlinuz | sort -V | tail -n 1)
		dir=${dir%/vmlinuz}
		[ -f "$dir/vmlinuz" ] || die "cannot resolve linux-image-amd64 and no cached kernel"
		log "apt metadata unavailable, using cached $dir"
	fi
	if [ ! -f "$dir/vmlinuz" ]; then
		log "fetching $pkg $ver"
		# A fresh machine has no cache yet; the download happens in a
		# private directory inside it, removed on any failure, so nothing
		# lands in the caller's current directory.
		mkdir -p "$KMLB_CACHE" || die "cannot create the cache $KMLB_CACHE"
		tmp=$(mktemp -d "$KMLB_CACHE/kernel-dl.XXXXXX") || die "cannot create a download directory in $KMLB_CACHE"
		chmod 755 "$tmp"
		fetch_fail() { rm -rf "$tmp"; die "$*"; }
		(cd "$tmp" && apt-get download "$pkg=$ver" >&2) || fetch_fail "apt-get download $pkg=$ver failed"
		dpkg -x "$tmp"/*.deb "$tmp/x" || fetch_fail "dpkg -x of $pkg failed"
		mkdir -p "$tmp/k/modules"
		cp "$tmp"/x/boot/vmlinuz-* "$tmp/k/vmlinuz" || fetch_fail "no vmlinuz in $pkg"
		cp "$tmp"/x/boot/config-* "$tmp/k/config" || fetch_fail "no config in $pkg"
		local m
		for m in drivers/virtio/virtio_ring drivers/virtio/virtio \
			drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev \
			drivers/virtio/virtio_pci drivers/block/virtio_blk; do
			cp "$tmp"/x/lib/modules/*/kernel/$m.ko "$tmp/k/modules/" ||
				fetch_fail "module $m.ko missing in $pkg"
		done
		basename "$tmp"/x/lib/modules/* > "$tmp/k/release"
		rm -rf "$dir"
		mkdir -p "$(dirname "$dir")"
		mv "$tmp/k" "$dir"
		rm -rf "$tmp"
	fi
	KMLB_KERNEL_DIR=$dir
}

# ensure_kernel_headers RELEASE: Debian's linux-headers-RELEASE, really
# installed (its Makefile includes the -common tree by absolute path), for
# building modules against the guest kernel. Prints nothing; dies if it
# cannot be had.
ensure_kernel_headers() {
	local rel=$1
	[ -f "/usr/src/linux-headers-$rel/Makefile" ] && return 0
	[ "$(id -u)" = 0 ] || die "need linux-headers-$rel installed (run as root: apt-get install linux-headers-$rel)"
	log "installing linux-headers-$rel"
	local apt=(apt-get -o DPkg::Lock::Timeout=600)
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "linux-headers-$rel" >&2 || {
		"${apt[@]}" update -qq >&2 || true
		DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "linux-headers-$rel" >&2
	} || die "apt-get install linux-headers-$rel failed"
	[ -f "/usr/src/linux-headers-$rel/Makefile" ] || die "linux-headers-$rel installed but has no Makefile"
}

# build_guest DIR: build the static collector and the workload (cached, by
# make and by date) and an initramfs with them in DIR. Sets KMLB_INITRD.
build_guest() {
	local b=$KMLB_CACHE/build
	mkdir -p "$b"
	make -s -C "$KMLB_REPO/collector" BUILD="$b/collector" >&2 ||
		die "collector build failed"
	if [ ! -x "$b/kmlb_load" ] || [ "$KMLB_VM_DIR/kmlb_load.c" -nt "$b/kmlb_load" ]; then
		cc -O2 -Wall -static -pthread -o "$b/kmlb_load.tmp" "$KMLB_VM_DIR/kmlb_load.c" ||
			die "kmlb_load build failed"
		mv "$b/kmlb_load.tmp" "$b/kmlb_load"
	fi
	local root
	root=$(mktemp -d "$b/initramfs.XXXXXX")
	mkdir -p "$root/bin" "$root/modules"
	cp /bin/busybox "$root/bin/busybox"
	if ! file -L "$root/bin/busybox" 2>/dev/null | grep -q 'statically linked' &&
		! ldd "$root/bin/busybox" 2>&1 | grep -q 'not a dynamic'; then
		die "/bin/busybox is not static (install busybox-static)"
	fi
	cp "$b/collector/kmlb_collect" "$b/kmlb_load" "$root/bin/"
	cp "$KMLB_KERNEL_DIR"/modules/*.ko "$root/modules/"
	cp "$KMLB_VM_DIR/init.sh" "$root/init"
	chmod 755 "$root/init"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$root.cpio" ||
		die "cpio failed"
	mv "$root.cpio" "$1/initramfs.cpio"
	rm -rf "$root"
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

# run_guest WORKDIR LAYOUT LOADS SECONDS SEED TIMEOUT_S
# Boots the guest (retrying a boot that never ends with KMLB-END) and unpacks
# the guest's results into WORKDIR/guest. Serial log: WORKDIR/serial-N.log.
run_guest() {
	local work=$1 layout=$2 loads=$3 secs=$4 seed=$5 limit=$6
	local attempt img log t0 t1 rc
	topology_flags "$layout"
	img=$work/out.img
	for attempt in 1 2 3; do
		log="$work/serial-$attempt.log"
		rm -f "$img"
		truncate -s 1G "$img"
		log "boot $attempt ($layout, loads $loads, ${secs}s per phase, limit ${limit}s)"
		t0=$(date +%s.%N)
		timeout --foreground -k 10 "$limit" qemu-system-x86_64 \
			-accel tcg,thread=multi -machine q35 -cpu max,vendor=GenuineIntel \
			"${KMLB_QEMU_TOPO[@]}" \
			-kernel "$KMLB_KERNEL_DIR/vmlinuz" -initrd "$KMLB_INITRD" \
			-append "$KMLB_CMDLINE_BASE kmlb.loads=$loads kmlb.seconds=$secs kmlb.seed=$seed${KMLB_EXTRA_CMDLINE:+ $KMLB_EXTRA_CMDLINE}" \
			-drive file="$img",format=raw,if=virtio \
			-no-reboot -nographic </dev/null >"$log" 2>&1
		rc=$?
		t1=$(date +%s.%N)
		KMLB_WALL_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
		if grep -q '^KMLB-END' "$log"; then
			KMLB_BOOT_UPTIME_S=$(sed -n 's/^KMLB-BEGIN uptime=\([0-9.]*\).*/\1/p' "$log" | head -n 1)
			KMLB_GUEST_RC=$(sed -n 's/^KMLB-END rc=\([0-9]*\).*/\1/p' "$log" | head -n 1)
			rm -rf "$work/guest"
			mkdir -p "$work/guest"
			tar -xf "$img" -C "$work/guest" 2>/dev/null || die "cannot read guest output from $img"
			rm -f "$img"
			KMLB_ATTEMPTS=$attempt
			return 0
		fi
		log "boot $attempt did not finish (qemu rc=$rc, ${KMLB_WALL_S}s); last lines:"
		tail -n 5 "$log" >&2
	done
	rm -f "$img"
	die "guest never reached KMLB-END after 3 boots (see $work/serial-*.log)"
}
