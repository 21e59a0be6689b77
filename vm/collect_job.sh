# The collector job of the kmlb guest, run by /init (vm/init.sh).
#
# Kernel command line settings:
#   kmlb.loads=50,100,200   load phases, in % of the online CPUs
#   kmlb.seconds=60         workload seconds per phase
#   kmlb.seed=1             workload seed
#   kmlb.verbose=1          the collector's verbose log
# For each phase: start kmlb_collect, wait until it has attached, run the
# load of kmlb_work (two processes, two NUMA groups), stop the collector.
# Console markers: KMLB-PHASE load=L threads=T seconds=S.
LOADS=$(karg loads 50,100,200)
SECONDS_PER_PHASE=$(karg seconds 60)
SEED=$(karg seed 1)
VERBOSE=
[ "$(karg verbose 0)" = 1 ] && VERBOSE=--verbose
echo 1 > /proc/sys/kernel/bpf_stats_enabled

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
	kmlb_work load $threads $SECONDS_PER_PHASE --procs 2 --private-mb 4 \
		--seed $SEED 2>>$OUT/guest.log || rc=1
	kill -INT $cpid
	wait $cpid || rc=1
	grep '^kmlb_collect: rows=' $err
done
