#!/usr/bin/env bash
# Installs the Debian packages kmlb needs that are missing (root: apt-get).
# Usage: tools/deps.sh [build|vm|all]   (default: all)
# Nothing but Debian packages is ever downloaded.
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config python3 libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
	nlohmann-json3-dev libfmt-dev valgrind gnuplot-nox)
vm_pkgs=(qemu-system-x86 busybox-static cpio clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev)

case "${1:-all}" in
build) want=("${build_pkgs[@]}") ;;
vm) want=("${vm_pkgs[@]}") ;;
all) want=("${build_pkgs[@]}" "${vm_pkgs[@]}") ;;
*) echo "usage: $0 [build|vm|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "kmlb: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
	exit 77
fi
echo "kmlb: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
