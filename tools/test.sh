#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test
# (unit, CLI, exported-header and guest tests) through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh all
tools/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
