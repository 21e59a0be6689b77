#!/bin/busybox sh
# /init of the crash experiments (kernel/crash_exp.sh; busybox initramfs).
# Under 200 % load (ncpu*4 on/off threads at 50 % duty, restarted as they
# end), CYCLES times: arm the live code patching of one arm at the entry of
# can_migrate_task, dwell, disarm. Everything goes to the console:
#   KMLB-EXP start arm=A cycles=N ...
#   KMLB-EXP cycle I            after every completed cycle
#   KMLB-EXP dmesg oopses=O warnings=W
#   KMLB-EXP done cycles=I rc=R
# Kernel command line:
#   kmlb.arm=kmlb          kmlb.ko (the shipped module) insmod mode=off,
#                          SWITCHES mode switches (shadow replace substitute
#                          off), rmmod; no BPF program is ever attached
#   kmlb.arm=probe         kmlb_probe_only.ko: the same ftrace-based kprobe
#                          with a handler that returns 0; insmod, dwell, rmmod
#   kmlb.arm=kprobe_event  no module: a tracefs kprobe event on
#                          can_migrate_task, enabled, dwell, disabled
#   kmlb.arm=ftrace        no module: the function tracer filtered to
#                          can_migrate_task, on, dwell, off (nop)
#   kmlb.cycles=N kmlb.switches=34 kmlb.dwell_us=100000
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t tmpfs tmpfs /tmp

ARM=kmlb CYCLES=10 SWITCHES=34 DWELL=100000
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	kmlb.arm=*) ARM=${arg#kmlb.arm=} ;;
	kmlb.cycles=*) CYCLES=${arg#kmlb.cycles=} ;;
	kmlb.switches=*) SWITCHES=${arg#kmlb.switches=} ;;
	kmlb.dwell_us=*) DWELL=${arg#kmlb.dwell_us=} ;;
	esac
done
echo 1 > /proc/sys/kernel/numa_balancing
ncpu=$(grep -c ^processor /proc/cpuinfo)
T=/sys/kernel/tracing
P=/sys/module/kmlb/parameters/mode
rc=0

case $ARM in
kmlb)
	ARGS=$(kmlb_offsets 2>/tmp/offsets.err) || { cat /tmp/offsets.err; rc=1; }
	arm() { insmod /kmlb.ko $ARGS mode=off || return 1
		j=0
		while [ $j -lt "$SWITCHES" ]; do
			for m in shadow replace substitute off; do echo $m > $P; done
			j=$((j + 4))
		done; }
	disarm() { rmmod kmlb; } ;;
probe)
	arm() { insmod /kmlb_probe_only.ko && usleep "$DWELL"; }
	disarm() { rmmod kmlb_probe_only; } ;;
kprobe_event)
	echo 'p:kmlbexp can_migrate_task' >> $T/kprobe_events || rc=1
	arm() { echo 1 > $T/events/kprobes/kmlbexp/enable && usleep "$DWELL"; }
	disarm() { echo 0 > $T/events/kprobes/kmlbexp/enable; } ;;
ftrace)
	echo can_migrate_task > $T/set_ftrace_filter || rc=1
	arm() { echo function > $T/current_tracer && usleep "$DWELL"; }
	disarm() { echo nop > $T/current_tracer; } ;;
*)
	echo "KMLB-EXP unknown arm $ARM"; rc=2 ;;
esac
# addresses (nokaslr: fixed) to read a crash's call trace against the vmlinux
echo "KMLB-EXP syms $(grep -E ' (load_balance|can_migrate_task|detach_tasks|active_load_balance_cpu_stop)$' /proc/kallsyms | awk '{ printf "%s=0x%s ", $3, $1 }')"
echo "KMLB-EXP start arm=$ARM cycles=$CYCLES switches=$SWITCHES dwell_us=$DWELL ncpu=$ncpu online=$(cat /sys/devices/system/cpu/online) uname=$(uname -r)"

cyc=0
if [ $rc = 0 ]; then
	( while :; do kmlb_work load $((ncpu * 4)) 20 >/dev/null; done ) &
	wl=$!
	sleep 2
	while [ $cyc -lt "$CYCLES" ]; do
		arm || { echo "KMLB-EXP arm failed at cycle $cyc"; rc=1; break; }
		disarm || { echo "KMLB-EXP disarm failed at cycle $cyc"; rc=1; break; }
		cyc=$((cyc + 1))
		echo "KMLB-EXP cycle $cyc"
	done
	kill $wl 2>/dev/null
	killall kmlb_work 2>/dev/null
	wait 2>/dev/null
fi
echo "KMLB-EXP dmesg oopses=$(dmesg | grep -E -c 'Oops|general protection|BUG:') warnings=$(dmesg | grep -c 'WARNING:')"
dmesg | grep -E -A 30 'BUG:|WARNING:|Oops|general protection' | head -n 80
echo "KMLB-EXP done cycles=$cyc rc=$rc"
poweroff -f
