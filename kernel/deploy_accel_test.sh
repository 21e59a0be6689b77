#!/bin/bash
# kernel/deploy_accel_test.sh - the accelerator the module's guest runs on
# (no guest booted): single-threaded TCG unless KMLB_ACCEL says otherwise
# (under multi-threaded TCG the kernel's own live patching of
# can_migrate_task crashes the guest: kernel/README.md, "The earlier
# crash"), icount for --timing icount whatever KMLB_ACCEL says.
set -u
D=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/deploy.sh
fail=0
expect() { # expect NAME GOT WANT
	if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: got '$2', expected '$3'"; fail=1; fi
}
expect default_single_thread "$(env -u KMLB_ACCEL bash "$D" --print-accel tcg)" "-accel tcg,thread=single"
expect override_for_experiments "$(KMLB_ACCEL=tcg,thread=multi bash "$D" --print-accel tcg)" "-accel tcg,thread=multi"
expect icount_ignores_override "$(KMLB_ACCEL=tcg,thread=multi bash "$D" --print-accel icount)" \
	"-accel tcg -icount shift=0,sleep=off"
bash "$D" --print-accel kvm 2>/dev/null
expect bad_timing_usage "$?" 2
exit $fail
