#!/usr/bin/env bash
# tools/test_summary.py against a real CTest run of a scratch project: a
# passing test, a failing one, a guest-style skip because qemu cannot run
# (allowed) and a skip for any other reason (must count as a failure).
# Exit 0 when the summary judges each as it should.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmlb-summary-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_summary_test: FAIL: $*" >&2; exit 1; }

mkdir -p "$tmp/src"
cat >"$tmp/src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(summary_probe NONE)
enable_testing()
add_test(NAME passes COMMAND sh -c "exit 0")
add_test(NAME fails COMMAND sh -c "exit 1")
add_test(NAME qemu_skip COMMAND sh -c "echo 'x: SKIP: qemu cannot run here'; exit 77")
add_test(NAME other_skip COMMAND sh -c "echo 'x: SKIP: no headers'; exit 77")
set_tests_properties(qemu_skip other_skip PROPERTIES SKIP_RETURN_CODE 77)
CMAKE
cmake -S "$tmp/src" -B "$tmp/b" >/dev/null
(cd "$tmp/b" && ctest --output-junit "$tmp/all.xml" >/dev/null 2>&1) || true
(cd "$tmp/b" && ctest -R 'passes|qemu_skip' --output-junit "$tmp/ok.xml" >/dev/null 2>&1) ||
	fail "ctest of the passing subset failed"

set +e
out=$(python3 "$here/test_summary.py" "$tmp/all.xml"); rc=$?
set -e
[ $rc -eq 1 ] || fail "mixed run: exit $rc, want 1"
echo "$out" | grep -qx 'tests: 1 passed, 2 failed, 1 skipped' || fail "mixed run summary: $out"
echo "$out" | grep -q '^FAILED  other_skip: skipped without' || fail "a non-qemu skip was not a failure: $out"
echo "$out" | grep -q '^SKIPPED qemu_skip' || fail "the qemu skip was not reported as skipped: $out"

out=$(python3 "$here/test_summary.py" "$tmp/ok.xml") || fail "pass + qemu skip should exit 0: $out"
echo "$out" | grep -qx 'tests: 1 passed, 0 failed, 1 skipped' || fail "ok run summary: $out"

set +e
python3 "$here/test_summary.py" "$tmp/missing.xml" >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "missing file: exit $rc, want 2"
echo "test_summary_test: ok"
