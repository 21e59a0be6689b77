#!/usr/bin/env bash
# vm/lib.sh's one boot loop (boot_guest), against a fake qemu that plays a
# scripted console per boot: a boot stall (or a kernel panic before init,
# when no kmlb code has run) is booted again, a crash after init never is,
# a hang after init is booted again only when the job allows it, a job
# that marks its progress is stopped when the marks stop, results
# are unpacked from the guest's disk, and the loop runs in a caller under
# `set -e` (as vm/collect.sh is), where a killed qemu must not end the
# caller. Exit 0 ok, 1 failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmlb-boot-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "vm/boot_test: FAIL: $*" >&2; exit 1; }

# fake qemu: boot N (counted in $tmp/n) plays word N of $FAKE_BOOTS:
# ok (BEGIN, results on the disk, END), stall (silence), crash (a panic
# after BEGIN), earlypanic (a panic before BEGIN), hang (BEGIN, then silence)
mkdir -p "$tmp/bin"
cat >"$tmp/bin/qemu-system-x86_64" <<'SH'
#!/bin/bash
n=$(( $(cat "$FAKE_DIR/n" 2>/dev/null || echo 0) + 1 ))
echo $n >"$FAKE_DIR/n"
echo "$*" >"$FAKE_DIR/args-$n"
what=$(echo $FAKE_BOOTS | cut -d' ' -f$n)
disk=$(echo "$*" | sed -n 's/.*-drive file=\([^,]*\),.*/\1/p')
case "$what" in
ok) echo "KMLB-BEGIN uptime=1.5"
    mkdir -p "$FAKE_DIR/res" && echo "boot $n" >"$FAKE_DIR/res/result.txt"
    tar -cf "$disk" -C "$FAKE_DIR/res" . && echo "KMLB-END rc=0" ;;
stall) exec sleep 60 ;;
crash) echo "KMLB-BEGIN uptime=1.5"; echo "Kernel panic - not syncing: Fatal exception" ;;
earlypanic) echo "Kernel panic - not syncing: IO-APIC + timer doesn't work!" ;;
hang) echo "KMLB-BEGIN uptime=1.5"; exec sleep 60 ;;
progress) echo "KMLB-BEGIN uptime=1.5"; echo "KMLB-EXP cycle 1"; exec sleep 60 ;;
esac
SH
chmod +x "$tmp/bin/qemu-system-x86_64"

# boot BOOTS [RETRY_HUNG [plain|guarded]]: boot_guest in a `set -e` shell,
# called plainly (errexit on inside it) unless guarded; prints
# "rc attempts stalled crashed hung finished guest_rc result"
boot() {
	local d=$tmp/run
	rm -rf "$d" "$tmp/n" "$tmp/res"
	mkdir -p "$d"
	PATH="$tmp/bin:$PATH" FAKE_DIR=$tmp FAKE_BOOTS=$1 KMLB_RETRY_HUNG=${2:-0} KMLB_STALL_S=2 \
		KMLB_PROGRESS_RE=${PROGRESS_RE:-} KMLB_PROGRESS_S=2 \
		KMLB_CACHE=$tmp/cache bash -c '
		set -euo pipefail
		source "$0/lib.sh"
		KMLB_KERNEL_DIR=/nonexistent KMLB_INITRD=/nonexistent
		topology_flags 2socket
		rc=0
		if [ "$2" = plain ]; then # errexit stays on inside the loop
			boot_guest "$1" 6 "kmlb.test=1" 1M
		else
			boot_guest "$1" 6 "kmlb.test=1" 1M || rc=$?
		fi
		echo "$KMLB_WALL_S" >"$1/wall"
		echo "$rc $KMLB_ATTEMPTS $KMLB_STALLED_BOOTS $KMLB_CRASHED_BOOTS $KMLB_HUNG_BOOTS $KMLB_FINISHED $KMLB_GUEST_RC $(cat "$1/guest/result.txt" 2>/dev/null || echo none)"
	' "$here" "$d" "${3:-plain}" 2>"$tmp/err" || fail "the caller under set -e died (rc $?): $(cat "$tmp/err")"
}

expect() { # expect WHAT GOT WANT
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3' ($(tr '\n' ' ' <"$tmp/err"))"
}

expect "a clean boot" "$(boot ok)" "0 1 0 0 0 1 0 boot 1"
grep -q 'kmlb.test=1' "$tmp/args-1" || fail "the command line does not reach qemu: $(cat "$tmp/args-1")"
expect "a stall, then a clean boot" "$(boot 'stall ok')" "0 2 1 0 0 1 0 boot 2"
[ -f "$tmp/run/serial-stalled-boot-1.log" ] || fail "the stalled boot's console was not kept"
expect "three stalls" "$(boot 'stall stall stall' 0 guarded)" "1 3 3 0 0 0 1 none"
expect "a crash is not retried" "$(boot 'crash ok')" "0 1 0 1 0 0 1 none"
[ -f "$tmp/run/serial-crashed-boot-1.log" ] || fail "the crashed boot's console was not kept"
expect "a kernel that fails its own boot is booted again" "$(boot 'earlypanic ok')" "0 2 1 0 0 1 0 boot 2"
expect "a hang, not retried by default" "$(boot 'hang ok')" "0 1 0 0 0 0 1 none"
expect "a hang, retried when allowed" "$(boot 'hang ok' 1)" "0 2 0 0 1 1 0 boot 2"
[ -f "$tmp/run/serial-hung-boot-1.log" ] || fail "the hung boot's console was not kept"
# a job that marks its progress is stopped 2 s after its last mark, not at
# the 6 s limit
expect "a silent guest, stopped by the progress watchdog" "$(PROGRESS_RE='KMLB-EXP' boot progress)" "0 1 0 0 0 0 1 none"
awk -v w="$(cat "$tmp/run/wall")" 'BEGIN { exit !(w < 5) }' ||
	fail "the progress watchdog did not stop the guest early ($(cat "$tmp/run/wall") s)"
echo "vm/boot_test: ok"
