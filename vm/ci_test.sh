#!/usr/bin/env bash
# CI check of the real-kernel data path: one short guest session (one 100 %
# load phase on the 2-socket layout, a few thousand decisions) under a hard
# time limit. Checks that the collector attaches, rows arrive, nothing is
# dropped, every row has the schema's columns (header == docs/raw-schema.md),
# `kmlb teacher --kernel 6.1` reproduces every recorded decision and
# `kmlb prep` accepts the rows.
#
# Exit: 0 pass, 1 fail, 2 usage (KMLB unset), 77 skipped (qemu cannot run on
# this machine at all).
# Env: KMLB=/path/to/kmlb (required; CTest sets it), KMLB_CI_TIMEOUT (s,
# default 480), KMLB_CI_SECONDS (default 15).
set -uo pipefail

limit=${KMLB_CI_TIMEOUT:-480}
if [ -z "${KMLB_CI_INNER:-}" ]; then
	KMLB_CI_INNER=1 timeout -k 15 "$limit" "$0" "$@"
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "vm/ci_test: FAIL: exceeded ${limit}s" >&2
	fi
	exit $rc
fi

if [ -z "${KMLB:-}" ] || [ ! -x "$KMLB" ]; then
	echo "vm/ci_test: KMLB must name the built kmlb binary (e.g. KMLB=build/kmlb)" >&2
	exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
fail() { echo "vm/ci_test: FAIL: $*" >&2; echo "vm/ci_test: output kept in $tmp" >&2; exit 1; }

( ensure_tools ) || true
if ! qemu_usable; then
	echo "vm/ci_test: SKIP: qemu-system-x86_64 cannot run on this machine (not installed or cannot start a TCG guest)" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmlb-vm-ci.XXXXXX")
secs=${KMLB_CI_SECONDS:-15}
t0=$(date +%s)
"$here/collect.sh" --seconds "$secs" --load 100 --layout 2socket --out "$tmp/run" \
	--timeout $((limit - 60)) >"$tmp/collect.log" 2>&1
rc=$?
tail -n 3 "$tmp/collect.log" >&2
[ -f "$tmp/run/summary.json" ] || fail "collect.sh produced no summary (rc=$rc, see $tmp/collect.log)"
grep -q 'kmlb_collect: attached' "$tmp/run/logs/collect-100.err" || fail "collector did not attach"

raw=$tmp/run/raw.csv
rows=$(($(wc -l <"$raw") - 1))
[ "$rows" -ge 200 ] || fail "only $rows rows"
drops=$(sed -n 's/.*"drops": \([0-9]*\),$/\1/p' "$tmp/run/summary.json" | head -n 1)
[ "$drops" = 0 ] || fail "$drops records dropped"
# An exit whose entry was not seen (a call in flight while the programs
# attach or detach) is discarded, never written as a row. At most one call
# per vCPU is in flight at each of those two moments.
unpaired=$(sed -n 's/.*"unpaired": \([0-9]*\),.*/\1/p' "$tmp/run/summary.json" | head -n 1)
[ -n "$unpaired" ] && [ "$unpaired" -le 16 ] || fail "$unpaired fentry/fexit records unpaired (at most 16 expected)"

# header must be the schema's column list, in order
want=$(sed -n 's/^| *[0-9][0-9]* *| *\([a-z_0-9]*\) *|.*/\1/p' "$KMLB_REPO/docs/raw-schema.md" | paste -sd, -)
[ -n "$want" ] || fail "cannot read docs/raw-schema.md"
[ "$(head -n 1 "$raw")" = "$want" ] || fail "CSV header differs from docs/raw-schema.md"
bad=$(awk -F, 'NR > 1 && NF != 57 { n++ } END { print n + 0 }' "$raw")
[ "$bad" = 0 ] || fail "$bad rows without 57 columns"
# The teacher must reproduce every recorded decision, as the README claims
# (every run so far agreed on all rows): agreement 1, nothing less.
"$KMLB" teacher --kernel 6.1 --in "$raw" --require-agreement 1 >"$tmp/teacher.txt" ||
	fail "kmlb teacher disagrees with the recorded decisions: $(head -n 2 "$tmp/teacher.txt")"
"$KMLB" prep --in "$raw" --out "$tmp/f.csv" --features modern >"$tmp/prep.txt" || fail "kmlb prep rejected the rows"

echo "vm/ci_test: PASS: $rows rows, 0 drops, $(sed -n 2p "$tmp/teacher.txt" | cut -d';' -f1), $(($(date +%s) - t0))s" >&2
rm -rf "$tmp"
exit 0
