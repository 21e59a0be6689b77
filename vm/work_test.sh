#!/usr/bin/env bash
# The guest's workload program (vm/kmlb_work.c) on the host: the benchmarks
# compute what they say (fib(20) = 6765, deterministic compute and memory
# results, elapsed times), the load runs for its time in one and in several processes,
# and bad arguments are usage errors (exit 2) naming the argument.
# usage: vm/work_test.sh PATH/TO/kmlb_work. Exit 0 ok, 1 failure.
set -uo pipefail
w=${1:?usage: work_test.sh KMLB_WORK}
fail() { echo "vm/work_test: FAIL: $*" >&2; exit 1; }

out=$("$w" fibo 20 12) || fail "fibo exited $?"
[ "${out##* result }" = 6765 ] || fail "fibo 20: '$out'"
a=$("$w" compute 3 100000) && b=$("$w" compute 3 100000) || fail "compute failed"
[ "${a##* result }" = "${b##* result }" ] || fail "compute is not deterministic: '$a' vs '$b'"
[ "${a##* result }" != 0 ] || fail "compute result 0"
m=$("$w" memory 2 3 2) || fail "memory failed"
[[ "$m" =~ ^elapsed_ns\ [1-9][0-9]*\ result\ [0-9]+$ ]] || fail "memory: '$m'"

t0=$(date +%s%N)
"$w" load 2 0.5 || fail "load 2 0.5 exited $?"
"$w" load 3 0.5 --procs 2 --private-mb 4 --shared-mb 8 --seed 7 || fail "load in 2 processes exited $?"
dt=$((($(date +%s%N) - t0) / 1000000))
[ $dt -ge 1000 ] || fail "two half-second loads took ${dt} ms"

for bad in "load 2 1 --procs" "load 2 1 --bogus 1" "load 2 1 --private-mb 0" "load 0 1" "load 2 0" "nosuch 1 2"; do
	# shellcheck disable=SC2086 # word splitting is the point
	err=$("$w" $bad 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] || fail "'$bad' exited $rc, want 2"
	[ -n "$err" ] || fail "'$bad' printed no message"
done
echo "vm/work_test: ok"
