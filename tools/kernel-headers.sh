#!/usr/bin/env bash
# Prints the linux-headers directory that matches the guest kernel kmlb boots
# (Debian's current bookworm 6.1, whatever ABI `linux-image-amd64` points at
# today), fetching that kernel into the cache and installing its headers
# with apt-get if they are missing. Tests that build kernel modules call this
# instead of naming an ABI.
# Usage: tools/kernel-headers.sh   Exit: 0 ok (directory on stdout), 1 failure.
set -euo pipefail
# shellcheck source=../vm/lib.sh
source "$(cd "$(dirname "$0")/.." && pwd)/vm/lib.sh"
fetch_kernel >&2
rel=$(cat "$KMLB_KERNEL_DIR/release")
ensure_kernel_headers "$rel"
echo "/usr/src/linux-headers-$rel"
