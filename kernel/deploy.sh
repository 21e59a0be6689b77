#!/bin/bash
# kernel/deploy.sh - build kmlb.ko, boot Debian's 6.1, 6.12 or 7.x kernel in a
# 2-socket NUMA + SMT QEMU guest (8 vCPUs, TCG), run the same workload
# phases with the kernel's decision and with the model, and write
# DIR/summary.json. `kmlb vm deploy` runs this script with the same flags.
#
# usage: kernel/deploy.sh --mode shadow|replace|substitute --seconds N --out DIR
#            [--kernel 6.1|6.12|7] [--timing tcg|icount] [--soak N]
#            [--model MODEL.json | --train-raw RAW.csv[,RAW.csv]]
#            [--loads 50,100,200] [--reps 5]
#            [--bench fibo,compute,memory] [--size full|ci|icount] [--no-safety]
#            [--no-verify] [--schedstats] [--timeout SECONDS]
#
# --kernel picks the kernel line (default 6.1): whatever release Debian's
# bookworm (6.1), bookworm-backports (6.12) or trixie-backports (7: 7.3.x
# when checked) serves now, with its headers (vm/lib.sh); the module is
# built against them (kernel/kmlb_version.h). 7.x's headers need trixie's
# gcc-14 and libc: the module is built inside a trixie root debootstrap'ed
# into the cache (vm/lib.sh trixie_root, module_make), the first time in a
# few minutes.
# --timing icount runs QEMU with `-icount shift=0,sleep=off` (one host
# thread; the guest TSC counts executed instructions, so the module's costs
# are instruction counts); the guest boots with maxcpus=1 and brings the
# other CPUs online from init. --soak N adds N insmod/rmmod cycles with mode
# switches under 200 % load. --schedstats turns kernel.sched_schedstats on
# for the load phases and benchmarks and saves /proc/schedstat around each
# (the balancer's migrations in summary.json). --timing tcg runs the guest on
# single-threaded TCG (all vCPUs on one host thread): under multi-threaded TCG
# the kernel's own live patching of can_migrate_task crashes the guest, with
# or without kmlb (kernel/README.md, "The earlier crash").
# KMLB_ACCEL=tcg,thread=multi overrides that, for experiments only.
# `deploy.sh --print-accel tcg|icount` prints the accelerator arguments and exits.
#
# Without --model, a model is trained on the spot and cached per kmlb binary
# and kernel line (kmlb generate --kernel LINE --features modern, presets balanced, overloaded
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

# deploy_accel TIMING: qemu's accelerator arguments for --timing TIMING
deploy_accel() {
	if [ "$1" = icount ]; then
		echo "-accel tcg -icount shift=0,sleep=off"
	else
		echo "-accel ${KMLB_ACCEL:-tcg,thread=single}"
	fi
}
if [ "${1:-}" = --print-accel ]; then
	case "${2:-}" in tcg | icount) deploy_accel "$2"; exit 0 ;; esac
	echo "kmlb-deploy: --print-accel tcg|icount" >&2
	exit 2
fi

KDIR_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$KDIR_REPO/.." && pwd)
# The guest harness (kernel fetch and cache, initramfs, boot loop, /init and
# the workload) is vm/'s; this script adds the module job.
# shellcheck source=../vm/lib.sh
source "$REPO/vm/lib.sh"
KMLB=${KMLB_BIN:-${KMLB:-$REPO/build/kmlb}}

log() { echo "kmlb-deploy: $*" >&2; }
die() { echo "kmlb-deploy: error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//; /^set -u/d' >&2; exit 2; }

MODE= SECS= OUT= MODEL= LOADS=50,100,200 REPS=5 BENCH=fibo,compute,memory
SIZE=full SAFETY=1 LIMIT= TRAIN_RAW= TIMING=tcg SOAK=0 VERIFY=1 LINE=6.1
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) MODE=${2:-}; shift 2 ;;
	--kernel) LINE=${2:-}; shift 2 ;;
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
case "$LINE" in
6.1 | 6.12) TEACHER=$LINE ;;
7 | 7.*) LINE=7 TEACHER=7.x ;;	# the teacher of Debian's newest 7.x
*) echo "kmlb-deploy: --kernel 6.1|6.12|7" >&2; usage ;;
esac
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
		key=$( (cat "$KMLB" "$0" ${TRAIN_RAW//,/ }; echo "$LINE") | md5sum | cut -c1-16)
		cache=$KMLB_CACHE/deploy-model/$key
		if [ ! -f "$cache/train/model.json" ]; then
			log "training a model: presets balanced+overloaded+idle, 100000 states each, modern features, $LINE (about a minute)"
			mkdir -p "$cache"
			for p in balanced overloaded idle; do
				"$KMLB" generate --preset $p --kernel "$TEACHER" --features modern --rows 100000 \
					--seed 2 --out "$cache/$p.csv" >/dev/null 2>>"$cache/generate.log" ||
					die "kmlb generate failed (see $cache/generate.log)"
			done
			{ cat "$cache/balanced.csv"; tail -n +2 "$cache/overloaded.csv"; tail -n +2 "$cache/idle.csv"; } \
				>"$cache/mix.csv"
			local raw n=0
			for raw in ${TRAIN_RAW//,/ }; do
				n=$((n + 1))
				"$KMLB" prep --in "$raw" --out "$cache/real-$n.csv" --features modern --kernel "$TEACHER" >/dev/null ||
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
	local rel=$1 b=$KMLB_CACHE/build/module-$1 work
	mkdir -p "$b"
	# ALLOW_UNVERIFIED=1: every model is built for now, the default one
	# included, until `kmlb export-c` marks verified models
	# (KMLB_MODEL_VERIFIED); deliberately disagreeing models always need it.
	# (7.x: inside the trixie build root, by chroot; vm/lib.sh module_make)
	rm -rf "$b/kmod"
	module_make "$KDIR_REPO" "$b/kmod" KVER="$rel" MODEL_H="$OUT/model/kmlb_model.h" ALLOW_UNVERIFIED=1 \
		>"$OUT/module-build.log" 2>&1 || { tail -n 20 "$OUT/module-build.log" >&2; die "module build failed"; }
	[ -f "$b/kmod/kmlb.ko" ] || die "module build left no kmlb.ko (see $OUT/module-build.log)"
	cc -O2 -Wall -static -o "$b/kmlb_offsets" "$KDIR_REPO/guest/kmlb_offsets.c" \
		-lbpf -lelf -lz -lzstd || die "kmlb_offsets build failed"
	# load_balance timing: BPF fentry/fexit (CO-RE, vmlinux.h from the host's BTF)
	[ -s "$b/vmlinux.h" ] || bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$b/vmlinux.h" ||
		die "bpftool btf dump failed"
	clang -O2 -g -Wall -target bpf -D__TARGET_ARCH_x86 -I"$b" -c "$KDIR_REPO/guest/kmlb_fntime.bpf.c" \
		-o "$b/kmlb_fntime.bpf.o" || die "kmlb_fntime.bpf.c build failed"
	bpftool gen skeleton "$b/kmlb_fntime.bpf.o" name kmlb_fntime_bpf >"$b/kmlb_fntime.skel.h" ||
		die "bpftool gen skeleton failed"
	cc -O2 -Wall -I"$b" -static -o "$b/kmlb_fntime" "$KDIR_REPO/guest/kmlb_fntime.c" \
		-lbpf -lelf -lz -lzstd || die "kmlb_fntime build failed"
	work=$(build_workload)
	build_initramfs "$OUT/initramfs.cpio" "$KDIR_REPO/guest/deploy_job.sh" \
		"$b/kmlb_offsets" "$work" "$b/kmlb_fntime" "$b/kmod/kmlb.ko=/kmlb.ko"
	KMLB_INITRD=$OUT/initramfs.cpio
}

# Boot and unpack the results: vm/lib.sh's boot_guest (a crash is a failure,
# never retried; only a boot that never reached init boots again).
run_guest() {
	local append
	read -r -a KMLB_ACCEL_ARGS < <(deploy_accel "$TIMING")
	KMLB_STALL_S=120
	append="quiet"
	if [ "$TIMING" = icount ]; then
		KMLB_STALL_S=300
		append+=" maxcpus=1 kmlb.icount=1"
	fi
	append+=" kmlb.mode=$MODE kmlb.loads=$LOADS kmlb.seconds=$SECS kmlb.reps=$REPS kmlb.bench=$BENCH kmlb.size=$SIZE kmlb.safety=$SAFETY kmlb.verify=$VERIFY kmlb.soak=$SOAK"
	topology_flags 2socket
	log "kernel $REL, mode $MODE, timing $TIMING, loads $LOADS, ${SECS}s per phase, $REPS reps, soak $SOAK"
	boot_guest "$OUT" "$LIMIT" "$append" 256M ||
		die "guest never completed a boot in 3 attempts (boot stalls; see $OUT/serial-stalled-boot-*.log)"
	WALL_S=${KMLB_WALL_S%.*} ATTEMPTS=$KMLB_ATTEMPTS
	CRASHED_BOOTS=$KMLB_CRASHED_BOOTS STALLED_BOOTS=$KMLB_STALLED_BOOTS
}

T_START=$(date +%s)
ensure_tools
if ! qemu_usable; then
	echo "kmlb-deploy: qemu-system-x86_64 cannot run here (TCG); nothing measured" >&2
	exit 77
fi
fetch_kernel "$LINE"
REL=$(cat "$KMLB_KERNEL_DIR/release")
fetch_headers "$LINE"
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
