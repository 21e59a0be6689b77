#!/bin/busybox sh
# /init of the kmlb guest (busybox initramfs).
#
# Settings come from the kernel command line:
#   kmlb.loads=50,100,200   load phases, in % of the online CPUs
#   kmlb.seconds=60         workload seconds per phase
#   kmlb.seed=1             workload seed
# For each phase: start kmlb_collect, wait until it has attached, run kmlb_load,
# stop the collector. Results go as a tar archive onto the first virtio disk
# (/dev/vda), which the host reads back. Markers on the console:
#   KMLB-BEGIN ... KMLB-PHASE ... KMLB-END rc=N
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs tmpfs /tmp

LOADS=50,100,200
SECONDS_PER_PHASE=60
SEED=1
VERBOSE=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	kmlb.loads=*) LOADS=${arg#kmlb.loads=} ;;
	kmlb.seconds=*) SECONDS_PER_PHASE=${arg#kmlb.seconds=} ;;
	kmlb.seed=*) SEED=${arg#kmlb.seed=} ;;
	kmlb.verbose=1) VERBOSE=--verbose ;;
	esac
done

echo "KMLB-BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)"
OUT=/tmp/out
mkdir -p $OUT
rc=0

# the output disk's modules that this kernel does not have built in
for m in $(cat /modules/order); do
	insmod /modules/$m.ko 2>>$OUT/guest.log
done
echo 1 > /proc/sys/kernel/numa_balancing
echo 1 > /proc/sys/kernel/bpf_stats_enabled

ncpu=$(grep -c ^processor /proc/cpuinfo)
# 6.12+ list sched domains in debugfs only in verbose mode (writing Y
# rebuilds the directory)
[ -d /sys/kernel/debug/sched/domains/cpu0 ] || echo Y > /sys/kernel/debug/sched/verbose 2>/dev/null
{
	echo "uname_r=$(uname -r)"
	echo "ncpu=$ncpu"
	echo "nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)"
	echo "numa_balancing=$(cat /proc/sys/kernel/numa_balancing)"
	echo "migration_cost_ns=$(cat /sys/kernel/debug/sched/migration_cost_ns 2>/dev/null)"
	echo "domains=$(cat /sys/kernel/debug/sched/domains/cpu0/domain*/name 2>/dev/null | tr '\n' ' ')"
	echo "sched_features=$(cat /sys/kernel/debug/sched/features 2>/dev/null)"
	echo "sched_debugfs=$(ls /sys/kernel/debug/sched 2>/dev/null | tr '\n' ' ')"
	for n in /sys/devices/system/node/node[0-9]*; do
		echo "$(basename $n)_cpus=$(cat $n/cpulist)"
	done
} > $OUT/guest.env

for load in $(echo "$LOADS" | tr ',' ' '); do
	threads=$(( (ncpu * load + 49) / 50 ))
	[ "$threads" -lt 1 ] && threads=1
	echo "KMLB-PHASE load=$load threads=$threads seconds=$SECONDS_PER_PHASE"
	err=$OUT/collect-$load.err
	kmlb_collect --out $OUT/raw-$load.csv \
		--seconds $((SECONDS_PER_PHASE + 120)) $VERBOSE 2>$err &
	cpid=$!
	i=0
	while ! grep -q '^kmlb_collect: attached' $err && kill -0 $cpid 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if ! grep -q '^kmlb_collect: attached' $err; then
		echo "KMLB-ERROR collector did not attach (load=$load)"
		cat $err
		rc=1
		kill -INT $cpid 2>/dev/null
		wait $cpid
		continue
	fi
	kmlb_load --threads $threads --seconds $SECONDS_PER_PHASE --procs 2 \
		--seed $SEED 2>>$OUT/guest.log || rc=1
	kill -INT $cpid
	wait $cpid || rc=1
	grep '^kmlb_collect: rows=' $err
done

dmesg > $OUT/dmesg.txt
if [ -b /dev/vda ]; then
	(cd $OUT && tar -cf /dev/vda .) || rc=1
	sync
else
	echo "KMLB-ERROR no output disk /dev/vda"
	rc=1
fi
echo "KMLB-END rc=$rc"
poweroff -f
