#!/bin/bash
# kernel/crash_exp.sh - the crash experiments of kernel/README.md ("The
# earlier crash"): N cycles of live code patching at the entry of
# can_migrate_task under 200 % load in the 2-socket QEMU guest of
# deploy.sh, booting again after each crash until N cycles are done.
#
# usage: kernel/crash_exp.sh --arm kmlb|probe|kprobe_event|ftrace --cycles N
#            --out DIR [--accel tcg,thread=multi|tcg,thread=single]
#            [--max-boots B] [--switches 34] [--dwell-us 100000]
#            [--model MODEL.json]
#        kernel/crash_exp.sh --parse SERIAL.log   (one boot's log: cycles, crash)
#        kernel/crash_exp.sh --tally DIR          (all boots of DIR, also of a
#                                                  run stopped early)
#
# Arms (kernel/guest/crash_job.sh, a job of the one guest harness): kmlb = the shipped kmlb.ko, insmod,
# 34 mode switches, rmmod (no BPF); probe = kmlb_probe_only.ko (the same
# kprobe, a handler that returns 0); kprobe_event = no module, a tracefs
# kprobe event enabled/disabled; ftrace = no module, the function tracer
# on can_migrate_task on/off. Writes DIR/result.json (arm, accel, cycles,
# boots, crashes, the cycle of each crash and its signature: the first RIP
# line and the first frame of its call trace; hangs: boots that printed
# nothing for 240 s without a crash signature) and DIR/boot-K.log.
# --accel defaults to tcg,thread=multi (the arm's question is what crashes
# there). Only one guest runs at a time; each boot is vm/lib.sh's
# boot_guest, bounded by timeout.
# Exit codes: 0 ok (crashes are results, not failures), 1 failure,
# 2 usage, 77 qemu cannot run here.
set -u
KDIR_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$KDIR_REPO/.." && pwd)
# shellcheck source=../vm/lib.sh
source "$REPO/vm/lib.sh"	# KMLB_CRASH_RE, the harness
# a guest that stalls (and is stopped by the watchdog below) says so first
STALL_RE='rcu: INFO: |soft lockup|blocked for more than'

# exp_parse LOG: "CYCLES STATE SIGNATURE" of one boot's serial log.
# CYCLES: the last completed cycle; STATE 1 when a crash signature is in
# the log, 2 when there is none, the guest never printed its end marker and
# it reported a stall (RCU stall, soft lockup, hung task: it hung and was
# stopped), else 0 (a boot stopped early without a stall counts its cycles
# only); SIGNATURE: first RIP line and first call-trace frame (a hang: its
# first stall line; else "-").
exp_parse() {
	local log=$1 cyc crashed=0 sig=-
	cyc=$(grep -a -o 'KMLB-EXP cycle [0-9]*' "$log" | tail -n 1 | awk '{ print $3 }')
	[ -n "$cyc" ] || cyc=0
	if grep -a -E -q "$KMLB_CRASH_RE" "$log"; then
		crashed=1
		sig=$(awk '
			/RIP: 0010:/ && !rip { sub(/.*RIP: 0010:/, ""); rip = $0 }
			/Call Trace:/ { ct = 1; next }
			ct && !frame && /\] +[a-zA-Z_?]/ && !/<IRQ>|<TASK>|<\/IRQ>|<\/TASK>/ {
				sub(/.*\] +/, ""); frame = $0 }
			END { printf "%s <- %s", (rip ? rip : "?"), (frame ? frame : "?") }' "$log" | tr -d '\r')
	elif ! grep -a -q 'KMLB-EXP done' "$log" && grep -a -E -q "$STALL_RE" "$log"; then
		crashed=2
		sig="hang: $(grep -a -E -m 1 -o "($STALL_RE).*" "$log" | tr -d '\r')"
	fi
	echo "$cyc $crashed $sig"
}

# exp_tally DIR: "cycles C boots B crashes N" over DIR/boot-K.log in boot
# order, then one line per crash: "crash at cycle I: SIGNATURE".
exp_tally() {
	local k=1 total=0 crashes=0 hangs=0 c crashed sig lines=
	[ -f "$1/boot-1.log" ] || return 66
	while [ -f "$1/boot-$k.log" ]; do
		read -r c crashed sig < <(exp_parse "$1/boot-$k.log")
		total=$((total + c))
		if [ "$crashed" = 1 ]; then
			crashes=$((crashes + 1))
			lines+="crash at cycle $((total + 1)): $sig"$'\n'
		elif [ "$crashed" = 2 ]; then
			hangs=$((hangs + 1))
			lines+="hang at cycle $((total + 1)): $sig"$'\n'
		fi
		k=$((k + 1))
	done
	echo "cycles $total boots $((k - 1)) crashes $crashes hangs $hangs"
	printf '%s' "$lines"
}

if [ "${1:-}" = --tally ]; then
	[ $# = 2 ] || { echo "kmlb-crash-exp: --tally DIR" >&2; exit 2; }
	exp_tally "$2" || { echo "kmlb-crash-exp: no boot logs in $2" >&2; exit 66; }
	exit 0
fi
if [ "${1:-}" = --parse ]; then
	[ $# = 2 ] || { echo "kmlb-crash-exp: --parse SERIAL.log" >&2; exit 2; }
	[ -f "$2" ] || { echo "kmlb-crash-exp: no file $2" >&2; exit 66; }
	exp_parse "$2"
	exit 0
fi

log() { echo "kmlb-crash-exp: $*" >&2; }
die() { echo "kmlb-crash-exp: error: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//; /^set -u/d' >&2; exit 2; }
KMLB=${KMLB_BIN:-${KMLB:-$REPO/build/kmlb}}

ARM= CYCLES= OUT= ACCEL=tcg,thread=multi MAXBOOTS=10 SWITCHES=34 DWELL=100000 MODEL=
while [ $# -gt 0 ]; do
	case "$1" in
	--arm) ARM=${2:-}; shift 2 ;;
	--cycles) CYCLES=${2:-}; shift 2 ;;
	--out) OUT=${2:-}; shift 2 ;;
	--accel) ACCEL=${2:-}; shift 2 ;;
	--max-boots) MAXBOOTS=${2:-}; shift 2 ;;
	--switches) SWITCHES=${2:-}; shift 2 ;;
	--dwell-us) DWELL=${2:-}; shift 2 ;;
	--model) MODEL=${2:-}; shift 2 ;;
	-h | --help) usage ;;
	*) echo "kmlb-crash-exp: unknown argument '$1'" >&2; usage ;;
	esac
done
case "$ARM" in kmlb | probe | kprobe_event | ftrace) ;; *) echo "kmlb-crash-exp: --arm kmlb|probe|kprobe_event|ftrace" >&2; usage ;; esac
case "$ACCEL" in tcg,thread=multi | tcg,thread=single) ;; *) echo "kmlb-crash-exp: --accel tcg,thread=multi|tcg,thread=single" >&2; usage ;; esac
[[ "$CYCLES" =~ ^[0-9]+$ ]] && [ "$CYCLES" -gt 0 ] || { echo "kmlb-crash-exp: --cycles N (N > 0)" >&2; usage; }
[[ "$MAXBOOTS" =~ ^[0-9]+$ ]] && [ "$MAXBOOTS" -gt 0 ] || usage
[[ "$SWITCHES" =~ ^[0-9]+$ ]] && [[ "$DWELL" =~ ^[0-9]+$ ]] || usage
[ -n "$OUT" ] || { echo "kmlb-crash-exp: --out DIR" >&2; usage; }
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

ensure_tools
qemu_usable || { echo "kmlb-crash-exp: qemu-system-x86_64 cannot run here (TCG)" >&2; exit 77; }
fetch_kernel 6.1
fetch_headers 6.1
REL=$KMLB_KERNEL_RELEASE
B=$OUT/build
mkdir -p "$B"
# kmlb.ko needs a model header: the given model, else deploy.sh's newest cached one
if [ -z "$MODEL" ]; then
	MODEL=$(ls -t "$KMLB_CACHE"/deploy-model/*/train/model.json 2>/dev/null | head -n 1)
	[ -n "$MODEL" ] || die "no --model and no cached deploy model (run kernel/deploy.sh once)"
fi
"$KMLB" export-c --no-verify --model "$MODEL" --out "$B/kmlb_model.h" >&2 || die "kmlb export-c failed"
make -s -C "$KDIR_REPO" KVER="$REL" KDIR="$KMLB_HEADERS_DIR" $KMLB_HEADERS_MAKEFLAGS BUILD="$B/kmod" \
	MODEL_H="$B/kmlb_model.h" ALLOW_UNVERIFIED=1 >"$B/module-build.log" 2>&1 ||
	{ tail -n 20 "$B/module-build.log" >&2; die "kmlb.ko build failed"; }
make -s -C "$KDIR_REPO/exp" KDIR="$KMLB_HEADERS_DIR" $KMLB_HEADERS_MAKEFLAGS BUILD="$B/po" \
	>"$B/probe-only-build.log" 2>&1 || { tail -n 20 "$B/probe-only-build.log" >&2; die "kmlb_probe_only.ko build failed"; }
cc -O2 -Wall -static -o "$B/kmlb_offsets" "$KDIR_REPO/guest/kmlb_offsets.c" -lbpf -lelf -lz -lzstd ||
	die "kmlb_offsets build failed"
work=$(build_workload)
build_initramfs "$B/initramfs.cpio" "$KDIR_REPO/guest/crash_job.sh" "$B/kmlb_offsets" "$work" \
	"$B/kmod/kmlb.ko=/kmlb.ko" "$B/po/kmlb_probe_only.ko=/kmlb_probe_only.ko"
KMLB_INITRD=$B/initramfs.cpio

# write_result: DIR/result.json from the boots so far (after every boot:
# an experiment stopped early keeps its counts)
write_result() {
	local WALL=$(($(date +%s) - T0))
	python3 - "$OUT" "$ARM" "$ACCEL" "$CYCLES" "$done_cycles" "$boots" "$crashes" "$hangs" "$oopses" "$warnings" "$WALL" "$SWITCHES" "$DWELL" "$REL" <<'PY' || die "cannot write result.json"
import json, sys
out, arm, accel, req, cyc, boots, crashes, hangs, oopses, warnings, wall, sw, dwell, rel = sys.argv[1:]
def events(name):
    ev = []
    for line in open(out + "/" + name, newline="\n"):
        n, _, sig = line.strip().partition(" ")
        ev.append({"cycle": int(n), "signature": sig})
    return ev
res = {"arm": arm, "accel": accel, "kernel": rel, "requested_cycles": int(req), "cycles": int(cyc),
       "boots": int(boots), "crashes": int(crashes), "crash_list": events("crashes.txt"),
       "hangs": int(hangs), "hang_list": events("hangs.txt"),
       "oopses_in_clean_boots": int(oopses), "warnings_in_clean_boots": int(warnings),
       "mode_switches_per_cycle": int(sw) if arm == "kmlb" else 0,
       "dwell_us": int(dwell) if arm != "kmlb" else 0, "wall_seconds": int(wall)}
json.dump(res, open(out + "/result.json.tmp", "w"), indent=1)
PY
	mv "$OUT/result.json.tmp" "$OUT/result.json"
}
done_cycles=0 boots=0 crashes=0 hangs=0 oopses=0 warnings=0
: >"$OUT/crashes.txt"
: >"$OUT/hangs.txt"
T0=$(date +%s)
topology_flags 2socket
while [ $done_cycles -lt "$CYCLES" ] && [ $boots -lt "$MAXBOOTS" ]; do
	boots=$((boots + 1))
	left=$((CYCLES - done_cycles))
	blog=$OUT/boot-$boots.log
	# about 3 s per cycle on a busy 2-core host, plus the boot
	limit=$((left * 8 + 180))
	log "boot $boots: arm $ARM, accel $ACCEL, $left cycles (limit ${limit}s)"
	KMLB_ACCEL_ARGS=(-accel "$ACCEL")
	# one boot of vm/lib.sh's loop (a boot that never reaches init is booted
	# again; a crash is not); a guest that prints no KMLB-EXP line for 240 s
	# has hung (boot to the start marker takes under a minute, a cycle
	# seconds) and is stopped
	KMLB_PROGRESS_RE='KMLB-EXP' KMLB_PROGRESS_S=240 boot_guest "$B" "$limit" \
		"quiet kmlb.arm=$ARM kmlb.cycles=$left kmlb.switches=$SWITCHES kmlb.dwell_us=$DWELL" 64M ||
		die "boot $boots never reached init (see $B/serial-stalled-boot-*.log)"
	cp "$B/serial.log" "$blog"
	read -r c crashed sig < <(exp_parse "$blog")
	done_cycles=$((done_cycles + c))
	if [ "$crashed" = 1 ]; then
		crashes=$((crashes + 1))
		echo "$((done_cycles + 1)) $sig" >>"$OUT/crashes.txt"
		log "boot $boots crashed in cycle $((done_cycles + 1)): $sig"
	elif [ "$crashed" = 2 ]; then
		hangs=$((hangs + 1))
		echo "$((done_cycles + 1)) $sig" >>"$OUT/hangs.txt"
		log "boot $boots hung in cycle $((done_cycles + 1)) (no crash signature, no end marker): $sig"
		tail -n 5 "$blog" >&2
	else
		o=$(grep -a -o 'KMLB-EXP dmesg oopses=[0-9]* warnings=[0-9]*' "$blog" | tail -n 1)
		if [ -n "$o" ]; then
			oopses=$((oopses + $(echo "$o" | sed 's/.*oopses=\([0-9]*\).*/\1/')))
			warnings=$((warnings + $(echo "$o" | sed 's/.*warnings=\([0-9]*\)/\1/')))
		fi
		grep -a -q 'KMLB-EXP done .* rc=0' "$blog" || [ $done_cycles -lt "$CYCLES" ] ||
			die "the guest's experiment failed: see $blog"
	fi
	log "after boot $boots: $done_cycles of $CYCLES cycles, $crashes crashes, $hangs hangs"
	write_result
done
write_result
cat "$OUT/result.json"
[ "$done_cycles" -ge "$CYCLES" ] || die "only $done_cycles of $CYCLES cycles in $MAXBOOTS boots"
exit 0
