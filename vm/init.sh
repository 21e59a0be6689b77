#!/bin/busybox sh
# /init of every kmlb guest (busybox initramfs, built by build_initramfs in
# vm/lib.sh): what all jobs share. It mounts the file systems, brings every
# CPU online (under -icount the kernel boots with maxcpus=1: an SMP boot
# starves there), loads the kernel's modules listed in /modules/order,
# writes guest.env, runs the job (/job.sh: vm/collect_job.sh,
# kernel/guest/deploy_job.sh), then writes the results as a tar archive onto
# the first virtio disk (/dev/vda), which the host reads back.
#
# For the job: $OUT (results directory), $ncpu, $rc (set it non-zero on a
# failure), karg NAME DEFAULT (a kmlb.NAME= setting of the kernel command
# line) and save (write the archive now; a later crash keeps it).
# Console markers: KMLB-BEGIN uptime=S ... (the job's) ... KMLB-END rc=N.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t tmpfs tmpfs /tmp

karg() { # karg NAME DEFAULT: the value of kmlb.NAME= on the command line
	local a v=$2
	for a in $(cat /proc/cmdline); do
		case "$a" in kmlb.$1=*) v=${a#kmlb.$1=} ;; esac
	done
	echo "$v"
}

save() { # write the archive now (again at the end): a later crash keeps it
	dmesg > $OUT/dmesg.txt
	[ -b /dev/vda ] && (cd $OUT && tar -cf /dev/vda .) && sync
}

for c in /sys/devices/system/cpu/cpu[0-9]*; do
	[ -f $c/online ] && [ "$(cat $c/online)" = 0 ] && echo 1 > $c/online
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

ncpu=$(grep -c ^processor /proc/cpuinfo)
# 6.12+ list sched domains in debugfs only in verbose mode (writing Y
# rebuilds the directory)
[ -d /sys/kernel/debug/sched/domains/cpu0 ] || echo Y > /sys/kernel/debug/sched/verbose 2>/dev/null
{
	echo "uname_r=$(uname -r)"
	echo "ncpu=$ncpu"
	echo "online=$(cat /sys/devices/system/cpu/online)"
	echo "nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)"
	echo "numa_balancing=$(cat /proc/sys/kernel/numa_balancing)"
	echo "migration_cost_ns=$(cat /sys/kernel/debug/sched/migration_cost_ns 2>/dev/null)"
	echo "domains=$(cat /sys/kernel/debug/sched/domains/cpu0/domain*/name 2>/dev/null | tr '\n' ' ')"
	echo "features=$(cat /sys/kernel/debug/sched/features 2>/dev/null)"
	echo "sched_debugfs=$(ls /sys/kernel/debug/sched 2>/dev/null | tr '\n' ' ')"
	for n in /sys/devices/system/node/node[0-9]*; do
		echo "$(basename $n)_cpus=$(cat $n/cpulist)"
	done
} > $OUT/guest.env

. /job.sh

if [ -b /dev/vda ]; then
	save || rc=1
else
	echo "KMLB-ERROR no output disk /dev/vda"
	rc=1
fi
echo "KMLB-END rc=$rc"
poweroff -f
