#!/usr/bin/env bash
# kmlb collect: run the eBPF collector directly on this machine's kernel
# (needs root, BTF, and a kernel that allows fentry/fexit). Builds the static
# collector into the cache and execs it with the given flags; exit 77 when the
# kernel refuses fentry/fexit (then use kmlb vm collect). See vm/README.md.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for tool in clang make cc; do
	command -v "$tool" >/dev/null || die "$tool is missing (vm/README.md lists the packages)"
done
command -v bpftool >/dev/null || [ -x /usr/sbin/bpftool ] || die "bpftool is missing"
[ -r /sys/kernel/btf/vmlinux ] || { echo "kmlb collect: this kernel has no BTF (/sys/kernel/btf/vmlinux)" >&2; exit 77; }
mkdir -p "$KMLB_CACHE/build"
make -s -C "$KMLB_REPO/collector" BUILD="$KMLB_CACHE/build/collector" >&2 || die "collector build failed"
exec "$KMLB_CACHE/build/collector/kmlb_collect" "$@"
