#!/usr/bin/env bash
# Prints the linux-headers directory that matches the guest kernel kmlb boots
# for a kernel line (default 6.1: Debian's current bookworm kernel, whatever
# ABI `linux-image-amd64` points at today) on line 1, and the make flags to
# build modules against it on line 2. The kernel and its headers are fetched
# into the kmlb cache (vm/lib.sh fetch_headers: unpacked, never installed).
# Tests that build kernel modules call this instead of naming an ABI.
# Usage: tools/kernel-headers.sh [6.1|6.12]   Exit: 0 ok, 1 failure.
set -euo pipefail
# shellcheck source=../vm/lib.sh
source "$(cd "$(dirname "$0")/.." && pwd)/vm/lib.sh"
fetch_headers "${1:-6.1}" >&2
echo "$KMLB_HEADERS_DIR"
echo "$KMLB_HEADERS_MAKEFLAGS"
