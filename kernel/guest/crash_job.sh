# The crash experiments' job (kernel/crash_exp.sh), run by the one guest
# /init (vm/init.sh: mounts, modules, guest.env, results disk).
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
ARM=$(karg arm kmlb)
CYCLES=$(karg cycles 10)
SWITCHES=$(karg switches 34)
DWELL=$(karg dwell_us 100000)
T=/sys/kernel/tracing
P=/sys/module/kmlb/parameters/mode

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
