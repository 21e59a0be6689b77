#!/usr/bin/env bash
# CI check of the real-kernel data path, on each kernel line of
# KMLB_CI_KERNELS (default "6.1 6.12"): one short guest session per line (one
# 100 % load phase on the 2-socket layout, a few thousand decisions) under a
# hard time limit. Checks that the collector attaches, rows arrive, nothing is
# dropped, every row has the schema's columns (header == docs/raw-schema.md),
# summary.json names the release, `kmlb teacher --kernel <line>` reproduces
# every recorded decision and `kmlb prep` accepts the rows.
#
# The 7.x line (trixie-backports, another ~120 MB download) is the longer
# command documented in vm/README.md:
#   KMLB_CI_KERNELS="6.1 6.12 7" KMLB=build/kmlb vm/ci_test.sh
#
# Exit: 0 pass, 1 fail, 2 usage (KMLB unset), 77 skipped (qemu cannot run on
# this machine at all).
# Env: KMLB=/path/to/kmlb (required; CTest sets it), KMLB_CI_TIMEOUT (s per
# kernel line, default 400; a boot gets half of it less 30 s, so a guest
# that hangs is booted once more in time), KMLB_CI_SECONDS (default 15),
# KMLB_CI_KERNELS.
set -uo pipefail

limit=${KMLB_CI_TIMEOUT:-400}
kernels=${KMLB_CI_KERNELS:-6.1 6.12}
if [ -z "${KMLB_CI_INNER:-}" ]; then
	total=$((limit * $(echo "$kernels" | wc -w) + 30))
	KMLB_CI_INNER=1 timeout -k 15 "$total" "$0" "$@"
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "vm/ci_test: FAIL: exceeded ${total}s" >&2
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
	echo "vm/ci_test: SKIP: qemu cannot run here (qemu-system-x86_64 missing or cannot start a TCG guest)" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmlb-vm-ci.XXXXXX")
secs=${KMLB_CI_SECONDS:-15}
want=$(sed -n 's/^| *[0-9][0-9]* *| *\([a-z_0-9]*\) *|.*/\1/p' "$KMLB_REPO/docs/raw-schema.md" | paste -sd, -)
[ -n "$want" ] || fail "cannot read docs/raw-schema.md"

# check_line LINE TEACHER: one guest session on kernel line LINE
check_line() {
	local line=$1 teacher=$2 run=$tmp/run-$1 t0 rc rows drops unpaired rel bad
	t0=$(date +%s)
	"$here/collect.sh" --kernel "$line" --seconds "$secs" --load 100 --layout 2socket --out "$run" \
		--timeout $(((limit - 60) / 2)) >"$tmp/collect-$line.log" 2>&1
	rc=$?
	tail -n 3 "$tmp/collect-$line.log" >&2
	if [ ! -f "$run/summary.json" ]; then
		# the console of every boot, for a failure seen only in CI
		for f in "$run"/logs/serial*.log; do
			[ -f "$f" ] && { echo "--- $(basename "$f"), last lines:"; tail -n 15 "$f"; } >&2
		done
		fail "$line: collect.sh produced no summary (rc=$rc, see $tmp/collect-$line.log)"
	fi
	grep -q 'kmlb_collect: attached' "$run/logs/collect-100.err" || fail "$line: collector did not attach"
	rel=$(sed -n 's/^  "kernel": "\(.*\)",$/\1/p' "$run/summary.json")
	case "$rel" in
	"$line".*) ;;
	*) fail "$line: summary.json names kernel '$rel'" ;;
	esac

	raw=$run/raw.csv
	rows=$(($(wc -l <"$raw") - 1))
	[ "$rows" -ge 200 ] || fail "$line: only $rows rows"
	drops=$(sed -n 's/.*"drops": \([0-9]*\),$/\1/p' "$run/summary.json" | head -n 1)
	[ "$drops" = 0 ] || fail "$line: $drops records dropped"
	# An exit whose entry was not seen (a call in flight while the programs
	# attach or detach) is discarded, never written as a row. At most one
	# call per vCPU is in flight at each of those two moments.
	unpaired=$(sed -n 's/.*"unpaired": \([0-9]*\),.*/\1/p' "$run/summary.json" | head -n 1)
	[ -n "$unpaired" ] && [ "$unpaired" -le 16 ] || fail "$line: $unpaired fentry/fexit records unpaired (at most 16 expected)"
	[ "$(head -n 1 "$raw")" = "$want" ] || fail "$line: CSV header differs from docs/raw-schema.md"
	bad=$(awk -F, 'NR > 1 && NF != 57 { n++ } END { print n + 0 }' "$raw")
	[ "$bad" = 0 ] || fail "$line: $bad rows without 57 columns"
	# The teacher must reproduce every recorded decision (every run so far
	# agreed on all rows, on 6.1, 6.12 and 7.3).
	"$KMLB" teacher --kernel "$teacher" --in "$raw" --require-agreement 1 >"$tmp/teacher-$line.txt" ||
		fail "$line: kmlb teacher --kernel $teacher disagrees with the recorded decisions: $(sed -n 2p "$tmp/teacher-$line.txt")"
	"$KMLB" prep --in "$raw" --out "$tmp/f-$line.csv" --features modern --kernel "$teacher" >"$tmp/prep-$line.txt" ||
		fail "$line: kmlb prep rejected the rows"
	echo "vm/ci_test: PASS $rel: $rows rows, 0 drops, $(sed -n 2p "$tmp/teacher-$line.txt" | cut -d';' -f1), $(($(date +%s) - t0))s, boots: $(sed -n 's/^  "boot_attempts": \([0-9]*\),$/\1/p' "$run/summary.json")" >&2
}

for k in $kernels; do
	case "$k" in
	6.1 | 6.12) check_line "$k" "$k" ;;
	7 | 7.x) check_line 7 7.x ;;
	*) echo "vm/ci_test: KMLB_CI_KERNELS: unknown line '$k' (6.1, 6.12, 7)" >&2; exit 2 ;;
	esac
done
rm -rf "$tmp"
exit 0
