#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test
# (unit, CLI, exported-header and guest tests) through CTest, then print a
# summary. A skipped test fails the suite unless qemu cannot run here at all
# (tools/test_summary.py). Extra arguments go to ctest (e.g. -R ExportC).
# Exit: 0 every test passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh all
tools/build.sh
junit=$PWD/build/ctest-junit.xml
rm -f "$junit"
rc=0
(cd build && ctest --output-on-failure -j"$(nproc)" --output-junit "$junit" "$@") || rc=1
python3 tools/test_summary.py "$junit" || rc=1
exit $rc
