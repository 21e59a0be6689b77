#!/usr/bin/env bash
# CI check of the real-kernel data path: one short guest session (one 100 %
# load phase on the 2-socket layout, a few thousand decisions) under a hard
# time limit. Checks that the collector attaches, rows arrive, nothing is
# dropped, every row has the schema's columns (header == docs/raw-schema.md)
# and every row's recorded decision is reproduced by Linux 6.1's logic
# (vm/check_61.awk). With KMLB=/path/to/kmlb also runs `kmlb teacher` and
# `kmlb prep` on the rows.
#
# Exit: 0 pass, 1 fail, 77 skipped (qemu cannot run on this machine at all).
# Env: KMLB_CI_TIMEOUT (s, default 480), KMLB_CI_SECONDS (default 15), KMLB.
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
grep -q '"unpaired": 0,' "$tmp/run/summary.json" || fail "fentry/fexit records unpaired"

# header must be the schema's column list, in order
want=$(sed -n 's/^| *[0-9][0-9]* *| *\([a-z_0-9]*\) *|.*/\1/p' "$KMLB_REPO/docs/raw-schema.md" | paste -sd, -)
[ -n "$want" ] || fail "cannot read docs/raw-schema.md"
[ "$(head -n 1 "$raw")" = "$want" ] || fail "CSV header differs from docs/raw-schema.md"
bad=$(awk -F, 'NR > 1 && NF != 57 { n++ } END { print n + 0 }' "$raw")
[ "$bad" = 0 ] || fail "$bad rows without 57 columns"
awk -F, -f "$here/check_61.awk" "$raw" >"$tmp/check.log" 2>&1 ||
	fail "rows disagree with 6.1's can_migrate_task: $(head -n 3 "$tmp/check.log")"

if [ -n "${KMLB:-}" ]; then
	if [ -x "$KMLB" ]; then
		"$KMLB" teacher --kernel 6.1 --in "$raw" --json >"$tmp/teacher.json" ||
			fail "kmlb teacher failed"
		"$KMLB" prep --in "$raw" --out "$tmp/f.csv" || fail "kmlb prep failed"
		echo "vm/ci_test: kmlb teacher: $(head -c 300 "$tmp/teacher.json")" >&2
	else
		echo "vm/ci_test: KMLB=$KMLB is not executable: skipping teacher/prep" >&2
	fi
fi

echo "vm/ci_test: PASS: $rows rows, 0 drops, $(cat "$tmp/check.log"), $(($(date +%s) - t0))s" >&2
rm -rf "$tmp"
exit 0
