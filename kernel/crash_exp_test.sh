#!/bin/bash
# kernel/crash_exp_test.sh - crash_exp.sh's reading of a serial log: the
# completed cycles, whether the kernel crashed, and the crash's signature
# (first RIP line, first call-trace frame). Logs written here in the form
# the guest kernel prints them (no guest booted).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
expect() { # expect NAME LOG "CYCLES CRASHED SIGNATURE"
	local got
	got=$(bash "$HERE/crash_exp.sh" --parse "$2")
	if [ "$got" = "$3" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1: got '$got', expected '$3'"
		fail=1
	fi
}

cat >"$T/crash.log" <<'L'
KMLB-EXP start arm=kmlb cycles=300 switches=34 dwell_us=100000 ncpu=8 online=0-7 uname=6.1.0-57-amd64
KMLB-EXP cycle 1
KMLB-EXP cycle 2
KMLB-EXP cycle 3
[  757.079000] BUG: kernel NULL pointer dereference, address: 0000000000000000
[  757.079586] RIP: 0010:0x0
[  757.080115] Code: Unable to access opcode bytes at 0xffffffffffffffd6.
[  757.096006] Call Trace:
[  757.096726]  <IRQ>
[  757.096923]  load_balance+0x5e4/0xe50
[  757.150876]  rebalance_domains+0x28b/0x3c0
[  757.152774]  </IRQ>
[  757.173944] RIP: 0010:native_safe_halt+0xb/0x10
[  757.241002] Kernel panic - not syncing: Fatal exception in interrupt
L
expect crash_signature "$T/crash.log" "3 1 0x0 <- load_balance+0x5e4/0xe50"
# the serial console ends its lines with CR LF: the signature must not keep the CR
sed 's/$/\r/' "$T/crash.log" >"$T/crash-crlf.log"
expect crash_signature_crlf "$T/crash-crlf.log" "3 1 0x0 <- load_balance+0x5e4/0xe50"

cat >"$T/clean.log" <<'L'
KMLB-EXP start arm=probe cycles=2 switches=34 dwell_us=100000 ncpu=8 online=0-7 uname=6.1.0-57-amd64
KMLB-EXP cycle 1
KMLB-EXP cycle 2
KMLB-EXP dmesg oopses=0 warnings=0
KMLB-EXP done cycles=2 rc=0
L
expect clean_boot "$T/clean.log" "2 0 -"

# a panic with no RIP line (e.g. a soft lockup with softlockup_panic=1) is a crash too
cat >"$T/panic.log" <<'L'
KMLB-EXP cycle 7
[  100.000000] Kernel panic - not syncing: softlockup: hung tasks
L
expect panic_without_rip "$T/panic.log" "7 1 ? <- ?"

# a general protection fault whose trace starts in task context
cat >"$T/gpf.log" <<'L'
KMLB-EXP cycle 41
[  200.000000] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI
[  200.000001] RIP: 0010:text_poke_bp_batch+0x1c0/0x2a0
[  200.000002] Call Trace:
[  200.000003]  <TASK>
[  200.000004]  ftrace_replace_code+0x12a/0x190
L
expect gpf_in_task "$T/gpf.log" "41 1 text_poke_bp_batch+0x1c0/0x2a0 <- ftrace_replace_code+0x12a/0x190"

# a guest that stops printing without a crash and without its end marker hung
cat >"$T/hang.log" <<'L'
KMLB-EXP cycle 5
[  186.934777] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
[  186.937716] rcu: 	0-...!: (10 GPs behind) idle=743c/0/0x1 softirq=1318/1319 fqs=54
L
expect hang_without_end_marker "$T/hang.log" "5 2 hang: rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"

# the tally over boots: cycles add up across boots, a crash is counted in
# the cycle after the last completed one of its boot
mkdir -p "$T/run"
cp "$T/crash.log" "$T/run/boot-1.log"    # 3 cycles, crash in cycle 4
cp "$T/panic.log" "$T/run/boot-2.log"    # 7 more, crash in cycle 11
cp "$T/clean.log" "$T/run/boot-3.log"    # 2 more, clean
cp "$T/hang.log" "$T/run/boot-4.log"     # 5 more, then hung
printf 'KMLB-EXP cycle 1\n' >"$T/run/boot-5.log"   # stopped early: 1 more, no event
got=$(bash "$HERE/crash_exp.sh" --tally "$T/run")
want="cycles 18 boots 5 crashes 2 hangs 1
crash at cycle 4: 0x0 <- load_balance+0x5e4/0xe50
crash at cycle 11: ? <- ?
hang at cycle 18: hang: rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"
if [ "$got" = "$want" ]; then echo "ok   tally_over_boots"; else echo "FAIL tally_over_boots: got '$got'"; fail=1; fi

bash "$HERE/crash_exp.sh" --parse "$T/none.log" 2>/dev/null
rc=$?
if [ $rc = 66 ]; then echo "ok   missing_log_66"; else echo "FAIL missing_log_66: exit $rc"; fail=1; fi
exit $fail
