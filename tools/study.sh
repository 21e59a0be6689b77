#!/usr/bin/env bash
# The README's main job: install what is missing, build, and run the
# end-to-end study on built-in defaults. Extra arguments go to `kmlb reproduce`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh build
tools/build.sh
exec build/kmlb reproduce "$@"
