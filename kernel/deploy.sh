#!/bin/bash
# kernel/deploy.sh - build kmlb.ko, boot Debian's 6.1 kernel in a 2-socket
# NUMA + SMT QEMU guest (8 vCPUs, TCG), run the same workload phases with
# the kernel's decision and with the model, and write DIR/summary.json.
# `kmlb vm deploy` runs this script with the same flags.
#
# usage: kernel/deploy.sh --mode shadow|replace|substitute --seconds N --out DIR
#            [--timing tcg|icount] [--soak N]
#            [--model MODEL.json | --train-raw RAW.csv[,RAW.csv]]
#            [--loads 50,100,200] [--reps 5]
#            [--bench fibo,compute,memory] [--size full|ci|icount] [--no-safety]
#            [--no-verify] [--schedstats] [--timeout SECONDS]
#
# --timing icount runs QEMU with `-icount shift=0,sleep=off` (one host
# thread; the guest TSC counts executed instructions, so the module's costs
# are instruction counts); the guest boots with maxcpus=1 and brings the
# other CPUs online from init. --soak N adds N insmod/rmmod cycles with mode
# switches under 200 % load. --schedstats turns kernel.sched_schedstats on
# for the load phases and benchmarks and saves /proc/schedstat around each
# (the balancer's migrations in summary.json). KMLB_ACCEL=tcg,thread=single runs a TCG guest on
# one host thread (the soak of the README; see kernel/README.md on the crash
# under multi-threaded TCG).
#
# Without --model, a model is trained on the spot and cached per kmlb binary
# (kmlb generate --kernel 6.1 --features modern, presets balanced, overloaded
# and idle, 100000 states each, plus the real rows of --train-raw (traces of
# `kmlb vm collect`, three times each); kmlb train; about a minute). The
# model header comes from `kmlb export-c`. Caches: ${KMLB_CACHE:-~/.cache/kmlb} (kernel, module, initramfs).
#
# Examples:
#   kernel/deploy.sh --mode shadow --seconds 30 --out out/shadow
#   kernel/deploy.sh --mode replace --seconds 60 --reps 5 --out out/replace
# Exit codes: 0 ok, 1 failure (a guest check failed too), 2 usage,
# 77 qemu cannot run here.
set -u

KDIR_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$KDIR_REPO/.." && pwd)
# The guest kernel fetch/cache and the qemu check are vm/'s; what follows
# redefines log, die and run_guest for the module's guest.
# shellcheck source=../vm/lib.sh
source "$REPO/vm/lib.sh"
KMLB=${KMLB_BIN:-${KMLB:-$REPO/build/kmlb}}
CMDLINE_BASE="console=ttyS0 nokaslr cryptomgr.notests=1 softlockup_panic=1 panic=-1 quiet"

log() { echo "kmlb-deploy: $*" >&2; }
die() { echo "kmlb-deploy: error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//; /^set -u/d' >&2; exit 2; }

MODE= SECS= OUT= MODEL= LOADS=50,100,200 REPS=5 BENCH=fibo,compute,memory
SIZE=full SAFETY=1 LIMIT= TRAIN_RAW= TIMING=tcg SOAK=0 VERIFY=1
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) MODE=${2:-}; shift 2 ;;
	--seconds) SECS=${2:-}; shift 2 ;;
	--out) OUT=${2:-}; shift 2 ;;
	--model) MODEL=${2:-}; shift 2 ;;
	--train-raw) TRAIN_RAW=${2:-}; shift 2 ;;
	--loads) LOADS=${2:-}; shift 2 ;;
	--reps) REPS=${2:-}; shift 2 ;;
	--bench) BENCH=${2:-}; shift 2 ;;
	--size) SIZE=${2:-}; shift 2 ;;
	--no-safety) SAFETY=0; shift ;;
	--no-verify) VERIFY=0; shift ;;
	--schedstats) KMLB_EXTRA_CMDLINE="${KMLB_EXTRA_CMDLINE:+$KMLB_EXTRA_CMDLINE }kmlb.schedstats=1"; shift ;;
	--timing) TIMING=${2:-}; shift 2 ;;
	--soak) SOAK=${2:-}; shift 2 ;;
	--timeout) LIMIT=${2:-}; shift 2 ;;
	-h | --help) usage ;;
	*) echo "kmlb-deploy: unknown argument '$1'" >&2; usage ;;
	esac
done
case "$MODE" in shadow | replace | substitute) ;; *) echo "kmlb-deploy: --mode shadow|replace|substitute" >&2; usage ;; esac
case "$TIMING" in tcg | icount) ;; *) echo "kmlb-deploy: --timing tcg|icount" >&2; usage ;; esac
[[ "$SOAK" =~ ^[0-9]+$ ]] || { echo "kmlb-deploy: --soak N (N >= 0)" >&2; usage; }
[[ "$SECS" =~ ^[0-9]+$ ]] && [ "$SECS" -gt 0 ] || { echo "kmlb-deploy: --seconds N (N > 0)" >&2; usage; }
[ -n "$OUT" ] || { echo "kmlb-deploy: --out DIR" >&2; usage; }
[[ "$REPS" =~ ^[0-9]+$ ]] || usage
[[ "$LOADS" =~ ^[0-9]+(,[0-9]+)*$ ]] || usage
case "$SIZE" in full | ci | icount) ;; *) usage ;; esac
nloads=$(echo "$LOADS" | tr ',' '\n' | wc -l)
nbench=$(echo "$BENCH" | tr ',' '\n' | wc -l)
# TCG is slow: phases + benchmarks (~40 s per run at full size) + boot/safety
# (icount runs the guest on one host thread: about 4x slower; a soak cycle
# takes about 3 s of host time)
slow=1
[ "$TIMING" = icount ] && slow=4
[ -n "$LIMIT" ] || LIMIT=$(( (nloads * 3 * (SECS + 20) + REPS * nbench * 2 * 60 + SECS + 400) * slow + SOAK * 4 ))
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)



# ---- the model and its C header ----
model_header() {
	local mdir=$OUT/model
	mkdir -p "$mdir"
	if [ -z "$MODEL" ]; then
		[ -x "$KMLB" ] || { log "building kmlb"; cmake --build "$REPO/build" -j2 >&2 ||
			die "no $KMLB (cmake -S $REPO -B $REPO/build && cmake --build $REPO/build)"; }
		# cached per kmlb binary: the same binary trains the same model
		local key cache p
		key=$(cat "$KMLB" "$0" ${TRAIN_RAW//,/ } | md5sum | cut -c1-16)
		cache=$KMLB_CACHE/deploy-model/$key
		if [ ! -f "$cache/train/model.json" ]; then
			log "training a model: presets balanced+overloaded+idle, 100000 states each, modern features, 6.1 (about a minute)"
			mkdir -p "$cache"
			for p in balanced overloaded idle; do
				"$KMLB" generate --preset $p --kernel 6.1 --features modern --rows 100000 \
					--seed 2 --out "$cache/$p.csv" >/dev/null 2>>"$cache/generate.log" ||
					die "kmlb generate failed (see $cache/generate.log)"
			done
			{ cat "$cache/balanced.csv"; tail -n +2 "$cache/overloaded.csv"; tail -n +2 "$cache/idle.csv"; } \
				>"$cache/mix.csv"
			local raw n=0
			for raw in ${TRAIN_RAW//,/ }; do
				n=$((n + 1))
				"$KMLB" prep --in "$raw" --out "$cache/real-$n.csv" --features modern >/dev/null ||
					die "kmlb prep --in $raw failed"
				# real rows count three times: they are few and they are the target
				for _ in 1 2 3; do tail -n +2 "$cache/real-$n.csv" >>"$cache/mix.csv"; done
				rm -f "$cache/real-$n.csv"*
			done
			rm -f "$cache"/balanced.csv* "$cache"/overloaded.csv* "$cache"/idle.csv*
			"$KMLB" train --data "$cache/mix.csv" --out "$cache/train.tmp" --quiet \
				>/dev/null 2>"$cache/train.log" || die "kmlb train failed (see $cache/train.log)"
			rm -f "$cache/mix.csv"
			rm -rf "$cache/train"
			mv "$cache/train.tmp" "$cache/train"
		fi
		MODEL=$cache/train/model.json
	fi
	[ -f "$MODEL" ] || die "no model $MODEL"
	# --no-verify: no deployed model is verified yet (modern models take
	# minutes to search); the header says so (KMLB_MODEL_VERIFIED 0) and the
	# module is built with ALLOW_UNVERIFIED=1 (build_all).
	"$KMLB" export-c --no-verify --model "$MODEL" --out "$mdir/kmlb_model.h" >&2 || die "kmlb export-c failed"
	HEADER_KIND=export-c
	cp "$MODEL" "$mdir/model.json" 2>/dev/null || true
}

# ---- module, guest programs, initramfs ----
build_all() {
	local rel=$1 b=$KMLB_CACHE/build/module-$1 root
	mkdir -p "$b"
	# ALLOW_UNVERIFIED=1: every model is built for now, the default one
	# included, until `kmlb export-c` marks verified models
	# (KMLB_MODEL_VERIFIED); deliberately disagreeing models always need it.
	make -s -C "$KDIR_REPO" KVER="$rel" KDIR="$KMLB_HEADERS_DIR" $KMLB_HEADERS_MAKEFLAGS BUILD="$b/kmod" MODEL_H="$OUT/model/kmlb_model.h" ALLOW_UNVERIFIED=1 \
		>"$OUT/module-build.log" 2>&1 || { tail -n 20 "$OUT/module-build.log" >&2; die "module build failed"; }
	cc -O2 -Wall -static -o "$b/kmlb_offsets" "$KDIR_REPO/guest/kmlb_offsets.c" \
		-lbpf -lelf -lz -lzstd || die "kmlb_offsets build failed"
	cc -O2 -Wall -static -pthread -o "$b/kmlb_work" "$KDIR_REPO/guest/kmlb_work.c" ||
		die "kmlb_work build failed"
	# load_balance timing: BPF fentry/fexit (CO-RE, vmlinux.h from the host's BTF)
	[ -s "$b/vmlinux.h" ] || bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$b/vmlinux.h" ||
		die "bpftool btf dump failed"
	clang -O2 -g -Wall -target bpf -D__TARGET_ARCH_x86 -I"$b" -c "$KDIR_REPO/guest/kmlb_fntime.bpf.c" \
		-o "$b/kmlb_fntime.bpf.o" || die "kmlb_fntime.bpf.c build failed"
	bpftool gen skeleton "$b/kmlb_fntime.bpf.o" name kmlb_fntime_bpf >"$b/kmlb_fntime.skel.h" ||
		die "bpftool gen skeleton failed"
	cc -O2 -Wall -I"$b" -static -o "$b/kmlb_fntime" "$KDIR_REPO/guest/kmlb_fntime.c" \
		-lbpf -lelf -lz -lzstd || die "kmlb_fntime build failed"
	root=$(mktemp -d "$b/initramfs.XXXXXX")
	mkdir -p "$root/bin" "$root/modules"
	cp /bin/busybox "$root/bin/busybox"
	cp "$b/kmlb_offsets" "$b/kmlb_work" "$b/kmlb_fntime" "$root/bin/"
	cp "$b/kmod/kmlb.ko" "$root/kmlb.ko"
	cp "$KMLB_KERNEL_DIR"/modules/*.ko "$root/modules/"
	cp "$KDIR_REPO/guest/init.sh" "$root/init"
	chmod 755 "$root/init"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$OUT/initramfs.cpio" ||
		die "cpio failed"
	rm -rf "$root"
}


# Boot and unpack the results. A kernel crash (Oops, panic, BUG, general
# protection fault) anywhere is a failure of the run, never retried; only a
# boot stall (no KMLB-BEGIN within 120 s and no crash signature in the log,
# a rare QEMU/TCG boot hang seen without the module) boots again.
CRASHED_BOOTS=0 STALLED_BOOTS=0
CRASH_RE='Oops|Kernel panic|BUG:|general protection fault|RIP: 0010:0x0'
run_guest() {
	local attempt img=$OUT/out.img log rc t0 t1 accel cmdline_timing=
	local append
	accel=(-accel "${KMLB_ACCEL:-tcg,thread=multi}")
	if [ "$TIMING" = icount ]; then
		accel=(-accel tcg -icount shift=0,sleep=off)
		cmdline_timing=" maxcpus=1 kmlb.icount=1"
	fi
	append="$CMDLINE_BASE$cmdline_timing kmlb.mode=$MODE kmlb.loads=$LOADS kmlb.seconds=$SECS kmlb.reps=$REPS kmlb.bench=$BENCH kmlb.size=$SIZE kmlb.safety=$SAFETY kmlb.verify=$VERIFY kmlb.soak=$SOAK${KMLB_EXTRA_CMDLINE:+ $KMLB_EXTRA_CMDLINE}"
	for attempt in 1 2 3; do
		log="$OUT/serial.log"
		rm -f "$img"
		truncate -s 256M "$img"
		log "boot $attempt: mode $MODE, timing $TIMING, loads $LOADS, ${SECS}s per phase, $REPS reps, soak $SOAK, limit ${LIMIT}s"
		t0=$(date +%s)
		timeout -k 10 "$LIMIT" qemu-system-x86_64 \
			"${accel[@]}" -machine q35 -cpu max,vendor=GenuineIntel \
			-smp 8,sockets=2,cores=2,threads=2 -m 2G \
			-object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G \
			-numa node,nodeid=0,memdev=m0 -numa node,nodeid=1,memdev=m1 \
			-numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=1,socket-id=1 \
			-numa dist,src=0,dst=1,val=20 \
			-kernel "$KMLB_KERNEL_DIR/vmlinuz" -initrd "$OUT/initramfs.cpio" \
			-append "$append" -drive file="$img",format=raw,if=virtio \
			-no-reboot -nographic </dev/null >"$log" 2>&1 &
		local qpid=$! waited=0
		# a boot that shows no KMLB-BEGIN within 120 s (icount: 300 s) is stuck
		local stall=120
		[ "$TIMING" = icount ] && stall=300
		while kill -0 "$qpid" 2>/dev/null; do
			if [ $waited -ge $stall ] && ! grep -q 'KMLB-BEGIN' "$log"; then
				kill "$qpid" 2>/dev/null
				break
			fi
			sleep 1
			waited=$((waited + 1))
		done
		wait "$qpid"
		rc=$?
		t1=$(date +%s)
		WALL_S=$((t1 - t0))
		ATTEMPTS=$attempt
		if grep -E -q "$CRASH_RE" "$log"; then
			CRASHED_BOOTS=$((CRASHED_BOOTS + 1))
			cp "$log" "$OUT/serial-crashed-boot-$attempt.log"
			log "boot $attempt: the guest kernel crashed (log in serial-crashed-boot-$attempt.log): a failure, not retried"
		fi
		if grep -q 'KMLB-BEGIN' "$log" || [ $CRASHED_BOOTS -gt 0 ]; then
			rm -rf "$OUT/guest"
			mkdir -p "$OUT/guest"
			tar -xf "$img" -C "$OUT/guest" 2>/dev/null || log "no results on the guest disk"
			rm -f "$img"
			grep -q '^KMLB-END' "$log" || log "guest did not finish (qemu rc=$rc after ${WALL_S}s)"
			return 0
		fi
		STALLED_BOOTS=$((STALLED_BOOTS + 1))
		cp "$log" "$OUT/serial-stalled-boot-$attempt.log"
		log "boot $attempt stalled before init (qemu rc=$rc, ${WALL_S}s); last lines:"
		tail -n 5 "$log" >&2
	done
	rm -f "$img"
	die "guest never completed a boot in 3 attempts (boot stalls; see $OUT/serial-stalled-boot-*.log)"
}

T_START=$(date +%s)
ensure_tools
if ! qemu_usable; then
	echo "kmlb-deploy: qemu-system-x86_64 cannot run here (TCG); nothing measured" >&2
	exit 77
fi
fetch_kernel
REL=$(cat "$KMLB_KERNEL_DIR/release")
fetch_headers 6.1
model_header
build_all "$REL"
T_BUILT=$(date +%s)
run_guest
python3 "$KDIR_REPO/tools/summarize.py" --dir "$OUT" --mode "$MODE" --seconds "$SECS" \
	--header-kind "$HEADER_KIND" --kernel "$REL" --wall "$WALL_S" \
	--build-seconds $((T_BUILT - T_START)) --attempts "$ATTEMPTS" --crashed-boots "$CRASHED_BOOTS" \
	--stalled-boots "$STALLED_BOOTS" --timing "$TIMING" --soak "$SOAK" ||
	die "summarize failed"
rm -f "$OUT/initramfs.cpio"
if "$KMLB" --help 2>/dev/null | grep -q '^ *report'; then
	"$KMLB" report --in "$OUT" || log "kmlb report failed"
else
	python3 -m json.tool "$OUT/summary.json" | head -n 40
fi
[ "$CRASHED_BOOTS" = 0 ] || { log "the guest kernel crashed: see $OUT/serial-crashed-boot-*.log"; exit 1; }
grep -q '^KMLB-END rc=0' "$OUT/serial.log" || { log "guest checks failed or the guest did not finish: see $OUT/serial.log"; exit 1; }
exit 0
