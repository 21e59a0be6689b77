#!/bin/bash
# kernel/ci_test.sh - the module in CI: a short deploy run under TCG, on the
# kernel line KMLB_CI_KERNEL (6.1, the default, 6.12 or 7; CTest runs 6.1
# and 6.12).
#
# 1. host: the module's C recomputation of can_migrate_task() (kmlb_input.h)
#    is exact on 20000 generated rows of that kernel (kernel/tools/input_test.c;
#    for 7, built with KMLB_V7 as the module is for 7.x, on rows of the 7.x
#    teacher and on the real 7.3.4 decisions of tests/data/real_7.3.4.csv);
# 2. guest (kernel/deploy.sh --mode substitute on single-threaded TCG, 12 s per phase at 200 %
#    load, one benchmark round, safety tests, a 20-cycle soak): every guest
#    check passes (verification: the module's hard checks and predicted side
#    effects equal the kernel's on live calls; an inverted model overrides
#    decisions, completes its workloads and flips no hard refusal; a planted
#    fault is caught; wrong offsets are refused or left to the kernel;
#    reloads and mode switches under load; dmesg clean); no crashed boot;
#    the module's recomputation reproduces every kernel decision
#    (teacher_mismatch 0, as the README claims); the learnt model agrees
#    with the kernel on at least 99 % of at least 200 decisions (the README
#    states what was measured: it is a learnt model, not an exact copy);
#    0 hard-check and side-effect mismatches, 0 fallbacks, 0 nmissed; the
#    soak ran all its cycles with 0 oopses and 0 warnings.
# About 4 minutes on 2 host cores (plus about a minute to train the model
# the first time, cached afterwards). Exit 0 ok, 1 failure, 77 if qemu
# cannot run here at all.
set -u
LINE=${KMLB_CI_KERNEL:-6.1}
# the teacher's name of the line (kmlb --kernel): 7 is Debian's newest 7.x
TEACHER=$LINE V7=0
[ "$LINE" = 7 ] && TEACHER=7.x V7=1
KDIR_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$KDIR_REPO/.." && pwd)
KMLB=${KMLB_BIN:-$REPO/build/kmlb}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kmlb-kernel-ci.XXXXXX")
# KMLB_CI_KEEP=DIR keeps the guest run (summary.json, guest/ files) in DIR
trap '[ -z "${KMLB_CI_KEEP:-}" ] || { rm -rf "$KMLB_CI_KEEP"; cp -r "$WORK/run" "$KMLB_CI_KEEP" 2>/dev/null; }; rm -rf "$WORK"' EXIT
fail() { echo "kernel/ci_test: FAIL: $*" >&2; exit 1; }
t0=$(date +%s)

# 1. host-side check of the recomputed decision (no guest needed)
[ -x "$KMLB" ] || fail "no $KMLB (build kmlb first)"
"$KMLB" generate --preset balanced --kernel "$TEACHER" --format raw --rows 20000 --seed 3 \
	--out "$WORK/raw.csv" >/dev/null || fail "kmlb generate"
mkdir -p "$WORK/inc"
# any exported header declares struct kmlb_state in full
# (the verified fixture: its header compiles without KMLB_ALLOW_UNVERIFIED)
"$KMLB" export-c --model "$REPO/tests/data/verified_seed_573.model.json" --out "$WORK/inc/kmlb_model.h" >/dev/null ||
	fail "kmlb export-c for the host check"
cc -O2 -Wall -DKMLB_V7=$V7 -I"$WORK/inc" -o "$WORK/input_test" "$KDIR_REPO/tools/input_test.c" || fail "input_test build"
"$WORK/input_test" "$WORK/raw.csv" >"$WORK/input_test.out" ||
	fail "the module's recomputed decision differs from the teacher: $(head -n 1 "$WORK/input_test.out")"
echo "kernel/ci_test: $LINE: $(head -n 1 "$WORK/input_test.out" | cut -d' ' -f1-4)"
if [ "$LINE" = 7 ]; then
	"$WORK/input_test" "$REPO/tests/data/real_7.3.4.csv" >"$WORK/input_test_real.out" ||
		fail "the module's recomputed decision differs from real 7.3.4 decisions: $(head -n 1 "$WORK/input_test_real.out")"
	echo "kernel/ci_test: $LINE: real 7.3.4: $(head -n 1 "$WORK/input_test_real.out" | cut -d' ' -f1-4)"
fi

# 2. the guest, on single-threaded TCG: under multi-threaded TCG loading and
# unloading the module under load crashed the guest kernel about once in 90
# cycles (the kernel's live patching of can_migrate_task's fentry site while
# other vCPU threads execute it; kernel/README.md), never in 300 cycles on one
# thread. KMLB_CI_ACCEL=tcg,thread=multi runs the multi-threaded guest.
KMLB_ACCEL=${KMLB_CI_ACCEL:-tcg,thread=single} KMLB_EXTRA_CMDLINE="kmlb.cycles=2" "$KDIR_REPO/deploy.sh" --kernel "$LINE" --mode substitute --seconds 12 --loads 200 --reps 1 \
	--bench fibo --size ci --soak 20 --out "$WORK/run" ${KMLB_CI_MODEL:+--model "$KMLB_CI_MODEL"} \
	${KMLB_CI_TRAIN_RAW:+--train-raw "$KMLB_CI_TRAIN_RAW"} --timeout 900
rc=$?
[ $rc -eq 77 ] && { echo "kernel/ci_test: SKIP: qemu cannot run here (TCG unavailable)" >&2; exit 77; }
keep() { rm -rf "${TMPDIR:-/tmp}/kmlb-kernel-ci-failed"; cp -r "$WORK/run" "${TMPDIR:-/tmp}/kmlb-kernel-ci-failed" 2>/dev/null; }
[ -f "$WORK/run/summary.json" ] || { keep; fail "no summary.json (deploy rc=$rc; guest files kept in ${TMPDIR:-/tmp}/kmlb-kernel-ci-failed; serial log: $(tail -n 3 "$WORK/run/serial.log" 2>/dev/null))"; }
python3 - "$WORK/run/summary.json" "$LINE" <<'EOF2' || { keep; fail "guest results (kept in ${TMPDIR:-/tmp}/kmlb-kernel-ci-failed)"; }
import json, sys
s = json.load(open(sys.argv[1]))
bad = []
if not str(s.get("kernel", "")).startswith(sys.argv[2] + "."):
    bad.append("kernel %s is not of the %s line" % (s.get("kernel"), sys.argv[2]))
c = s.get("checks", {})
for name in ("module_loads", "verify_side_effects", "verify_hard_checks", "verify_teacher",
             "inverted_substitute_overrides", "inverted_no_hard_flipped", "planted_fault_caught",
             "inverted_replace_overrides", "switch_load_completes", "unload_under_load",
             "reload_under_load_1", "refuses_wrong_header_offset", "refuses_wrong_task_group_cfs_rq",
             "refuses_wrong_kthread_flags", "refuses_other_kernels_btf", "load_balance_timed",
             "wrong_lb_env_left_to_kernel", "substitute_load_completes",
             "final_unload", "soak_cycles", "dmesg_clean"):
    if c.get(name) != "ok":
        bad.append("check %s: %s" % (name, c.get(name)))
bad += ["check %s: %s" % (k, v) for k, v in c.items() if v != "ok"]
if s.get("crashed_boots") != 0:
    bad.append("crashed boots: %s" % s.get("crashed_boots"))
if s.get("decisions", 0) < 200:
    bad.append("only %s decisions" % s.get("decisions"))
if (s.get("agreement") or 0) < 0.99:
    bad.append("agreement %s < 0.99" % s.get("agreement"))
v = (s.get("safety_counters") or {}).get("verify") or {}
if not v.get("decisions") or v.get("agreements", 0) < 0.99 * v["decisions"]:
    bad.append("verification: model agrees on %s of %s decisions" % (v.get("agreements"), v.get("decisions")))
# 7.x: calls with env->flags bit 0x40 (unnamed here) are left to the kernel by
# design (kernel/README.md, Known gaps): counted and reported, not a failure
flag40 = (s.get("fallbacks_by_kind") or {}).get("unnamed_flag_0x40", 0)
for k in ("hard_mismatches", "side_effect_mismatches", "teacher_mismatch", "fallbacks", "nmissed"):
    want = flag40 if k == "fallbacks" else 0
    if s.get(k) != want:
        bad.append("%s = %s" % (k, s.get(k)))
if flag40:
    print("kernel/ci_test: %d calls with env->flags bit 0x40 left to the kernel" % flag40)
soak = s.get("soak") or {}
if soak.get("cycles") != 20 or soak.get("oopses") != 0 or soak.get("warnings") != 0 or soak.get("crashes") != 0:
    bad.append("soak %s" % soak)
print("kernel/ci_test: %s: agreement %s over %d decisions, %s verified calls, %d checks, soak %s" %
      (s.get("kernel"), s.get("agreement"), s.get("decisions", 0), s.get("verified_calls"), len(c), soak))
for b in bad:
    print("kernel/ci_test: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF2
[ $rc -eq 0 ] || fail "deploy.sh exited $rc"
echo "kernel/ci_test: $LINE ok ($(($(date +%s) - t0)) s)"
