#!/bin/busybox sh
# /init of the kmlb module guest (busybox initramfs), see kernel/deploy.sh.
#
# Kernel command line settings:
#   kmlb.mode=shadow|replace   the model's mode compared with "off"
#   kmlb.loads=50,100,200      load phases, in % of the online CPUs
#   kmlb.seconds=30            seconds per load phase and mode
#   kmlb.reps=5                repetitions of each benchmark and mode
#   kmlb.bench=fibo,compute,memory
#   kmlb.size=full|ci          benchmark sizes
#   kmlb.safety=1              run the safety tests
#   kmlb.cycles=3              unload/reload cycles under load (safety)
#   kmlb.probe_lb=1            also time load_balance() (second kretprobe)
#
# Phases: load the module (mode off); for each load, run the same workload
# with mode off and with the model, resetting and dumping the module's
# statistics around each; benchmarks interleaved off / model; safety tests.
# Results: a tar archive on /dev/vda. Console markers: KMLB-BEGIN,
# KMLB-STEP ..., KMLB-CHECK name ok|FAIL, KMLB-END rc=N.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp

MODE=shadow
LOADS=50,100,200
SECS=30
REPS=5
BENCH=fibo,compute,memory
SIZE=full
SAFETY=1
CYCLES=3
PROBE_LB=1
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	kmlb.mode=*) MODE=${arg#kmlb.mode=} ;;
	kmlb.loads=*) LOADS=${arg#kmlb.loads=} ;;
	kmlb.seconds=*) SECS=${arg#kmlb.seconds=} ;;
	kmlb.reps=*) REPS=${arg#kmlb.reps=} ;;
	kmlb.bench=*) BENCH=${arg#kmlb.bench=} ;;
	kmlb.size=*) SIZE=${arg#kmlb.size=} ;;
	kmlb.safety=*) SAFETY=${arg#kmlb.safety=} ;;
	kmlb.cycles=*) CYCLES=${arg#kmlb.cycles=} ;;
	kmlb.probe_lb=*) PROBE_LB=${arg#kmlb.probe_lb=} ;;
	esac
done

echo "KMLB-BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)"
OUT=/tmp/out
mkdir -p $OUT
rc=0
P=/sys/module/kmlb/parameters/mode
D=/sys/kernel/debug/kmlb

check() { # check NAME CONDITION-RESULT(0 ok)
	if [ "$2" = 0 ]; then
		echo "KMLB-CHECK $1 ok" | tee -a $OUT/checks.txt
	else
		echo "KMLB-CHECK $1 FAIL" | tee -a $OUT/checks.txt
		rc=1
	fi
}

save() { # write the archive now (again at the end): a later crash keeps it
	dmesg > $OUT/dmesg.txt
	[ -b /dev/vda ] && (cd $OUT && tar -cf /dev/vda .) && sync
}

for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	virtio_pci virtio_blk; do
	insmod /modules/$m.ko 2>>$OUT/guest.log
done
echo 1 > /proc/sys/kernel/numa_balancing
ncpu=$(grep -c ^processor /proc/cpuinfo)
{
	echo "uname_r=$(uname -r)"
	echo "ncpu=$ncpu"
	echo "nodes=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)"
	echo "domains=$(cat /sys/kernel/debug/sched/domains/cpu0/domain*/name | tr '\n' ' ')"
	echo "migration_cost_ns=$(cat /sys/kernel/debug/sched/migration_cost_ns)"
	echo "features=$(cat /sys/kernel/debug/sched/features)"
	echo "mode=$MODE loads=$LOADS seconds=$SECS reps=$REPS bench=$BENCH size=$SIZE"
} > $OUT/guest.env

# Offsets and symbols from the kernel's BTF and kallsyms, then the module.
if ! ARGS=$(kmlb_offsets 2>$OUT/offsets.err); then
	cat $OUT/offsets.err
	check offsets 1
fi
ARGS="$ARGS probe_lb=$PROBE_LB"
echo "$ARGS" > $OUT/offsets.txt
insmod /kmlb.ko $ARGS mode=off 2>>$OUT/guest.log
check module_loads $?
[ -d $D ] || { save; echo "KMLB-END rc=1"; poweroff -f; }

# Phase 1: the same load with the kernel's decision and with the model.
for load in $(echo "$LOADS" | tr ',' ' '); do
	threads=$(( (ncpu * load + 49) / 50 ))	# duty cycle 50 %: 2x threads
	for cfg in off $MODE; do
		echo "KMLB-STEP load=$load mode=$cfg threads=$threads seconds=$SECS"
		echo $cfg > $P
		echo 1 > $D/reset
		kmlb_work load $threads $SECS || rc=1
		cat $D/stats > $OUT/stats-$cfg-$load.txt
		cat $D/rq > $OUT/rq-$cfg-$load.txt
	done
done
echo off > $P
save

# Phase 2: benchmark runtimes, off and model interleaved.
if [ "$SIZE" = ci ]; then
	FIBO="24 16"; COMPUTE="16 2000000"; MEMORY="16 6 2"
else
	FIBO="27 17"; COMPUTE="16 12000000"; MEMORY="16 24 4"
fi
echo 1 > $D/reset
rep=1
while [ $rep -le "$REPS" ]; do
	for b in $(echo "$BENCH" | tr ',' ' '); do
		case $b in
		fibo) args=$FIBO ;;
		compute) args=$COMPUTE ;;
		memory) args=$MEMORY ;;
		*) continue ;;
		esac
		for cfg in off $MODE; do
			echo $cfg > $P
			line=$(kmlb_work $b $args) || rc=1
			echo "$b $cfg $rep $line" | tee -a $OUT/bench.txt
		done
	done
	rep=$((rep + 1))
done
echo off > $P
cat $D/stats > $OUT/stats-bench.txt
save

# Phase 3: safety.
if [ "$SAFETY" = 1 ]; then
	echo "KMLB-STEP safety"
	# mode switches under load
	echo 1 > $D/reset
	kmlb_work load $((ncpu * 4)) 12 &
	wl=$!
	i=0
	while [ $i -lt 300 ]; do
		for m in shadow replace off replace shadow; do echo $m > $P; done
		i=$((i + 1))
	done
	echo replace > $P
	wait $wl
	check switch_load_completes $?
	cat $D/stats > $OUT/stats-switch.txt
	hard=$(awk '$1 == "overrides_hard" { print $2 }' $D/stats)
	check no_hard_overrides "$([ "$hard" = 0 ] && echo 0 || echo 1)"
	echo nonsense > $P 2>/dev/null
	check bad_mode_refused "$([ "$(cat $P)" = replace ] && echo 0 || echo 1)"

	# unload while balancing (replace mode, 400 % load), reload, repeat
	kmlb_work load $((ncpu * 8)) $((CYCLES * 5 + 5)) &
	wl=$!
	sleep 2
	rmmod kmlb
	check unload_under_load $?
	i=1
	while [ $i -le "$CYCLES" ]; do
		echo "KMLB-STEP cycle $i"
		insmod /kmlb.ko $ARGS mode=replace
		check reload_under_load_$i $?
		sleep 2
		rmmod kmlb
		check unload_under_load_$i $?
		i=$((i + 1))
	done
	wait $wl
	check unload_load_completes $?

	# refuse to load with unexpected offsets (wrong and missing)
	bad=$(echo "$ARGS" | sed 's/task_struct_se=[0-9]*/task_struct_se=8/')
	insmod /kmlb.ko $bad 2>/dev/null
	check refuses_wrong_header_offset "$([ $? != 0 ] && echo 0 || echo 1)"
	bad=$(echo "$ARGS" | sed 's/lb_env_idle=[0-9]* //')
	insmod /kmlb.ko $bad 2>/dev/null
	check refuses_missing_offset "$([ $? != 0 ] && echo 0 || echo 1)"
	bad=$(echo "$ARGS" | sed 's/sym_fair_sched_class=0x[0-9a-f]*/sym_fair_sched_class=0x1000/')
	insmod /kmlb.ko $bad 2>/dev/null
	check refuses_wrong_symbol "$([ $? != 0 ] && echo 0 || echo 1)"

	# load again, replace mode, a workload to completion, clean unload
	insmod /kmlb.ko $ARGS mode=replace
	kmlb_work load $((ncpu * 4)) 8
	check replace_load_completes $?
	cat $D/stats > $OUT/stats-final.txt
	rmmod kmlb
	check final_unload $?
	! dmesg | grep -E -q 'BUG:|WARNING:|Oops|general protection|Call Trace'
	check dmesg_clean $?
fi

echo "KMLB-STEP done rc=$rc"
save
echo "KMLB-END rc=$rc"
poweroff -f
