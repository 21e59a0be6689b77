#!/usr/bin/env bash
# Test of `kmlb collect` on this machine's own kernel: either the collector
# records rows (kernel allows fentry/fexit: CSV header = docs/raw-schema.md,
# final stats line, 0 drops) or it refuses with exit 77, the message naming
# fentry/fexit and kmlb vm collect, and no output file left behind. Any other
# outcome fails. Env: KMLB=/path/to/kmlb (required).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${KMLB:-}" ] || [ ! -x "$KMLB" ]; then
	echo "vm/host_test: KMLB must name the built kmlb binary" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then
	echo "vm/host_test: SKIP: needs root" >&2
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmlb-host.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "vm/host_test: FAIL: $*" >&2; sed 's/^/  /' "$tmp/err" >&2; exit 1; }

timeout -k 5 300 "$KMLB" collect --out "$tmp/raw.csv" --seconds 3 >"$tmp/out" 2>"$tmp/err"
rc=$?
case $rc in
77)
	grep -q 'does not allow fentry/fexit' "$tmp/err" || fail "exit 77 without naming fentry/fexit"
	grep -q 'kmlb vm collect' "$tmp/err" || fail "exit 77 without pointing at kmlb vm collect"
	[ ! -e "$tmp/raw.csv" ] && [ ! -e "$tmp/raw.csv.tmp" ] || fail "refusal left an output file"
	echo "vm/host_test: PASS: this kernel ($(uname -r)) refuses fentry/fexit: exit 77, clear message, no output" >&2
	;;
0)
	want=$(sed -n 's/^| *[0-9][0-9]* *| *\([a-z_0-9]*\) *|.*/\1/p' "$here/../docs/raw-schema.md" | paste -sd, -)
	[ "$(head -n 1 "$tmp/raw.csv")" = "$want" ] || fail "CSV header differs from docs/raw-schema.md"
	grep -q '^kmlb_collect: rows=[0-9]* drops=0 ' "$tmp/err" || fail "no final stats line with 0 drops"
	echo "vm/host_test: PASS: recorded on $(uname -r): $(grep '^kmlb_collect: rows=' "$tmp/err")" >&2
	;;
*)
	fail "kmlb collect exited $rc"
	;;
esac
