# The module job of the kmlb guest (kernel/deploy.sh), run by /init
# (vm/init.sh, which mounts, onlines CPUs, loads modules, writes guest.env
# and the results disk).
#
# Kernel command line settings:
#   kmlb.mode=shadow|replace|substitute   the model's mode compared with "off"
#   kmlb.loads=50,100,200      load phases, in % of the online CPUs
#   kmlb.seconds=30            seconds per load phase and mode
#   kmlb.reps=5                repetitions of each benchmark and mode
#   kmlb.bench=fibo,compute,memory
#   kmlb.size=full|ci|icount   benchmark sizes (icount: each run about
#                              0.2-0.8 s of virtual time under -icount)
#   kmlb.invert=1              the model's output inverted in the load phases
#                              and benchmarks (a model wrong on every
#                              heuristic decision: the side effects' bound)
#   kmlb.schedstats=1          kernel.sched_schedstats on for the load phases
#                              and benchmarks; /proc/schedstat saved around
#                              each (the balancer's migrations)
#   kmlb.safety=1              run the safety tests
#   kmlb.cycles=3              unload/reload cycles under load (safety)
#   kmlb.verify=1              the shadow verification phase (audit on)
#   kmlb.soak=N                N insmod/rmmod cycles with mode switches
#   kmlb.switches=34           mode switches per soak cycle
#   kmlb.icount=1              the guest runs under -icount (maxcpus=1;
#                              /init brought the other CPUs online)
#
# Phases: load the module (mode off); verification (shadow with audit=1,
# schedstats on, under 200 % load: the module's hard checks and predicted
# side effects against the kernel's); for each load, the same workload with
# mode off and with the model, in alternating order, resetting and dumping
# the module's statistics around each; benchmarks, the order alternating per
# repetition; safety tests (an inverted model, a planted fault, mode
# switches, reloads, wrong offsets); the soak.
# Console markers (besides /init's): KMLB-STEP ..., KMLB-CHECK name ok|FAIL.
MODE=$(karg mode shadow)
LOADS=$(karg loads 50,100,200)
SECS=$(karg seconds 30)
REPS=$(karg reps 5)
BENCH=$(karg bench fibo,compute,memory)
SIZE=$(karg size full)
SAFETY=$(karg safety 1)
CYCLES=$(karg cycles 3)
VERIFY=$(karg verify 1)
SOAK=$(karg soak 0)
SWITCHES=$(karg switches 34)
ICOUNT=$(karg icount 0)
SCHEDSTATS=$(karg schedstats 0)
INVERT=$(karg invert 0)

P=/sys/module/kmlb/parameters/mode
D=/sys/kernel/debug/kmlb

stat() { # stat FILE KEY: a counter of a saved stats file
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print -1 }' "$1"
}

check() { # check NAME CONDITION-RESULT(0 ok)
	if [ "$2" = 0 ]; then
		echo "KMLB-CHECK $1 ok" | tee -a $OUT/checks.txt
	else
		echo "KMLB-CHECK $1 FAIL" | tee -a $OUT/checks.txt
		rc=1
	fi
}

{
	echo "mode=$MODE loads=$LOADS seconds=$SECS reps=$REPS bench=$BENCH size=$SIZE"
	echo "icount=$ICOUNT"
	echo "schedstats=$SCHEDSTATS"
	echo "invert=$INVERT"
} >> $OUT/guest.env

# Offsets and symbols from the kernel's BTF and kallsyms, then the module.
if ! ARGS=$(kmlb_offsets 2>$OUT/offsets.err); then
	cat $OUT/offsets.err
	check offsets 1
fi
echo "$ARGS" > $OUT/offsets.txt
insmod /kmlb.ko $ARGS mode=off 2>>$OUT/guest.log
check module_loads $?
[ -d $D ] || { save; echo "KMLB-END rc=1"; poweroff -f; }

# Phase 0: verification. Shadow mode with the audit: on live decisions the
# kernel's body runs once per call; its answer, env->flags, new_dst_cpu and
# schedstats are compared with what the module predicted from its entry
# snapshot, and its own hard-check outcome (a second body run on a copy of
# lb_env with LBF_ACTIVE_LB) with the module's hard checks.
if [ "$VERIFY" = 1 ]; then
	echo "KMLB-STEP verify seconds=$SECS"
	echo 1 > /sys/module/kmlb/parameters/audit
	echo 1 > /proc/sys/kernel/sched_schedstats
	echo shadow > $P
	echo 1 > $D/reset
	kmlb_work load $((ncpu * 4)) $SECS || rc=1
	cat $D/stats > $OUT/stats-verify.txt
	cat $D/side_mismatches > $OUT/side-mismatches-verify.csv
	echo 0 > /proc/sys/kernel/sched_schedstats
	echo off > $P
	echo 0 > /sys/module/kmlb/parameters/audit
	f=$OUT/stats-verify.txt
	check verify_decisions "$([ "$(stat $f side_checked)" -ge 200 ] && echo 0 || echo 1)"
	check verify_side_effects "$([ "$(stat $f side_mismatches)" = 0 ] && echo 0 || echo 1)"
	check verify_hard_checks "$([ "$(stat $f hard_mismatches)" = 0 ] && [ "$(stat $f audited)" -ge 200 ] && echo 0 || echo 1)"
	check verify_teacher "$([ "$(stat $f teacher_mismatch)" = 0 ] && echo 0 || echo 1)"
	check verify_nmissed "$([ "$(stat $f cmt_nmissed)" = 0 ] && echo 0 || echo 1)"
	save
fi

# Phase 1: the same load with the kernel's decision and with the model; the
# order alternates from one load to the next, so drift is not an effect.
# load_balance() is timed by BPF fentry/fexit (kmlb_fntime) in every phase,
# and once with no module loaded at all (nomod).
# 6.10 renamed load_balance() to sched_balance_rq(): the same function.
LB_FN=load_balance
grep -q ' sched_balance_rq$' /proc/kallsyms && LB_FN=sched_balance_rq
echo "load_balance_fn=$LB_FN" >> $OUT/guest.env
lb_phase() { # lb_phase NAME THREADS: a load phase with load_balance timed
	kmlb_fntime $LB_FN $SECS > $OUT/lb-$1.txt 2>>$OUT/guest.log &
	ft=$!
	cat /proc/schedstat > $OUT/schedstat-$1-0.txt
	kmlb_work load $2 $SECS || rc=1
	cat /proc/schedstat > $OUT/schedstat-$1-1.txt
	wait $ft || { echo "kmlb_fntime $LB_FN failed in phase $1" >> $OUT/guest.log; lb_fail=$((lb_fail + 1)); }
}
lb_fail=0
[ "$SCHEDSTATS" = 1 ] && echo 1 > /proc/sys/kernel/sched_schedstats
order=0
first=1
for load in $(echo "$LOADS" | tr ',' ' '); do
	threads=$(( (ncpu * load + 49) / 50 ))	# duty cycle 50 %: 2x threads
	if [ $first = 1 ]; then
		first=0
		echo "KMLB-STEP load=$load mode=nomod threads=$threads seconds=$SECS"
		rmmod kmlb
		lb_phase nomod-$load $threads
		insmod /kmlb.ko $ARGS mode=off 2>>$OUT/guest.log
		check module_reloads $?
		[ "$INVERT" = 1 ] && echo 1 > /sys/module/kmlb/parameters/invert
	fi
	if [ $order = 0 ]; then cfgs="off $MODE"; order=1; else cfgs="$MODE off"; order=0; fi
	for cfg in $cfgs; do
		echo "KMLB-STEP load=$load mode=$cfg threads=$threads seconds=$SECS"
		echo $cfg > $P
		echo 1 > $D/reset
		lb_phase $cfg-$load $threads
		cat $D/stats > $OUT/stats-$cfg-$load.txt
		cat $D/rq > $OUT/rq-$cfg-$load.txt
	done
done
echo off > $P
check load_balance_timed "$([ $lb_fail = 0 ] && echo 0 || echo 1)"
save

# Phase 2: benchmark runtimes, off and model interleaved.
if [ "$SIZE" = ci ]; then
	FIBO="24 16"; COMPUTE="16 2000000"; MEMORY="16 6 2"
elif [ "$SIZE" = icount ]; then
	FIBO="32 22"; COMPUTE="16 2000000"; MEMORY="16 24 4"
else
	FIBO="27 17"; COMPUTE="16 12000000"; MEMORY="16 24 4"
fi
# each run from reset counters: the module's statistics, run queues and
# /proc/schedstat of that run alone, in bench-B-CFG-REP-*.txt
rep=1
while [ $rep -le "$REPS" ]; do
	for b in $(echo "$BENCH" | tr ',' ' '); do
		case $b in
		fibo) args=$FIBO ;;
		compute) args=$COMPUTE ;;
		memory) args=$MEMORY ;;
		*) continue ;;
		esac
		if [ $((rep % 2)) = 1 ]; then cfgs="off $MODE"; else cfgs="$MODE off"; fi
		for cfg in $cfgs; do
			echo $cfg > $P
			r=$OUT/bench-$b-$cfg-$rep
			cat /proc/schedstat > $r-schedstat-0.txt
			echo 1 > $D/reset
			line=$(kmlb_work $b $args) || rc=1
			cat $D/stats > $r-stats.txt
			cat $D/rq > $r-rq.txt
			cat /proc/schedstat > $r-schedstat-1.txt
			echo "$b $cfg $rep $line" | tee -a $OUT/bench.txt
		done
	done
	rep=$((rep + 1))
done
echo off > $P
echo 0 > /proc/sys/kernel/sched_schedstats
save

# safety_run MODE SECONDS NAME: one run under 400 % load in MODE from reset
# counters; checks NAME_completes and leaves the counters in
# $OUT/stats-NAME.txt (underscores as dashes), named by $f.
safety_run() {
	echo "$1" > $P
	echo 1 > $D/reset
	kmlb_work load $((ncpu * 4)) "$2"
	check "$3_completes" $?
	f=$OUT/stats-$(echo "$3" | tr _ -).txt
	cat $D/stats > $f
}

# Phase 3: safety.
if [ "$SAFETY" = 1 ]; then
	echo "KMLB-STEP safety"
	A=/sys/module/kmlb/parameters
	# a deliberately disagreeing model (inverted output), substitute mode,
	# with the audit as the independent record of the kernel's hard checks
	echo 1 > $A/invert
	echo 1 > $A/audit
	safety_run substitute 10 inverted_substitute
	check inverted_substitute_overrides "$([ "$(stat $f overrides)" -gt 0 ] && echo 0 || echo 1)"
	check inverted_no_hard_flipped "$([ "$(stat $f flipped_hard)" = 0 ] && [ "$(stat $f hard_mismatches)" = 0 ] && [ "$(stat $f audited)" -gt 0 ] && echo 0 || echo 1)"
	check inverted_substitute_nmissed "$([ "$(stat $f cmt_nmissed)" = 0 ] && echo 0 || echo 1)"
	# the same model in replace mode (the kernel's body, then the model)
	safety_run replace 8 inverted_replace
	check inverted_replace_overrides "$([ "$(stat $f overrides)" -gt 0 ] && echo 0 || echo 1)"
	check inverted_replace_hard "$([ "$(stat $f hard_mismatches)" = 0 ] && [ "$(stat $f teacher_mismatch)" = 0 ] && [ "$(stat $f side_mismatches)" = 0 ] && echo 0 || echo 1)"
	# planted fault: the module ignores its own hard checks; the audit's
	# record must catch hard refusals (and keep them the kernel's)
	echo 1 > $A/fault_skip_hard
	safety_run substitute 6 planted_fault
	check planted_fault_caught "$([ "$(stat $f flipped_hard)" -gt 0 ] && echo 0 || echo 1)"
	echo 0 > $A/fault_skip_hard
	echo 0 > $A/invert
	echo 0 > $A/audit

	# mode switches under load
	echo 1 > $D/reset
	kmlb_work load $((ncpu * 4)) 12 &
	wl=$!
	i=0
	while [ $i -lt 300 ]; do
		for m in shadow replace off substitute shadow; do echo $m > $P; done
		i=$((i + 1))
	done
	echo substitute > $P
	wait $wl
	check switch_load_completes $?
	cat $D/stats > $OUT/stats-switch.txt
	echo nonsense > $P 2>/dev/null
	check bad_mode_refused "$([ "$(cat $P)" = substitute ] && echo 0 || echo 1)"

	# unload while balancing (substitute mode, 400 % load), reload, repeat
	kmlb_work load $((ncpu * 8)) $((CYCLES * 5 + 5)) &
	wl=$!
	sleep 2
	rmmod kmlb
	check unload_under_load $?
	i=1
	while [ $i -le "$CYCLES" ]; do
		echo "KMLB-STEP cycle $i"
		insmod /kmlb.ko $ARGS mode=substitute
		check reload_under_load_$i $?
		sleep 2
		rmmod kmlb
		check unload_under_load_$i $?
		i=$((i + 1))
	done
	wait $wl
	check unload_load_completes $?

	# refuse to load with unexpected offsets: headers, missing, symbols,
	# and private offsets checked against live values
	refuses() { # refuses NAME SED-EXPRESSION
		bad=$(echo "$ARGS" | sed "$2")
		if [ "$bad" = "$ARGS" ]; then check $1 1; return; fi
		insmod /kmlb.ko $bad 2>/dev/null
		if [ $? != 0 ]; then check $1 0; else rmmod kmlb; check $1 1; fi
	}
	refuses refuses_wrong_header_offset 's/task_struct_se=[0-9]*/task_struct_se=8/'
	refuses refuses_missing_offset 's/lb_env_idle=[0-9]* //'
	refuses refuses_wrong_symbol 's/sym_fair_sched_class=0x[0-9a-f]*/sym_fair_sched_class=0x1000/'
	offset_of() { echo "$ARGS" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
	refuses refuses_wrong_task_group_cfs_rq "s/task_group_cfs_rq=[0-9]*/task_group_cfs_rq=$(( $(offset_of task_group_cfs_rq) + 8 ))/"
	refuses refuses_wrong_rq_cfs "s/rq_cfs=[0-9]*/rq_cfs=$(( $(offset_of rq_cfs) + 64 ))/"
	refuses refuses_wrong_kthread_flags "s/kthread_flags=[0-9]*/kthread_flags=$(( $(offset_of kthread_flags) + 8 ))/"
	# BTF that contradicts the kernel the module was built for (6.1 has
	# cfs_rq->last, 6.12 does not): the other kernel's answer is refused
	if [ "$(offset_of cfs_rq_last)" -ge 0 ]; then other=-1; else other=64; fi
	refuses refuses_other_kernels_btf "s/cfs_rq_last=-\{0,1\}[0-9]*/cfs_rq_last=$other/"
	# 7.x (the BTF has the EEVDF sums): rq->donor and rq->cfs.curr are
	# checked against the task running insmod
	if [ "$(offset_of cfs_rq_sum_w_vruntime)" -ge 0 ]; then
		refuses refuses_wrong_rq_donor "s/rq_donor=[0-9]*/rq_donor=$(( $(offset_of rq_donor) + 8 ))/"
		refuses refuses_wrong_cfs_rq_curr "s/cfs_rq_curr=[0-9]*/cfs_rq_curr=$(( $(offset_of cfs_rq_curr) + 8 ))/"
		refuses refuses_missing_7x_input 's/cfs_rq_zero_vruntime=[0-9]* //'
	fi
	# a wrong lb_env offset loads, but every call it touches is left to the kernel
	bad=$(echo "$ARGS" | sed "s/lb_env_dst_cpu=[0-9]*/lb_env_dst_cpu=$(offset_of lb_env_src_cpu)/")
	insmod /kmlb.ko $bad mode=substitute
	kmlb_work load $((ncpu * 4)) 5
	cat $D/stats > $OUT/stats-wrong-lb-env.txt
	rmmod kmlb
	f=$OUT/stats-wrong-lb-env.txt
	check wrong_lb_env_left_to_kernel "$([ "$(stat $f substituted)" = 0 ] && [ "$(stat $f fallback.bad_cpu)" -gt 0 ] && echo 0 || echo 1)"

	# load again, substitute mode, a workload to completion, clean unload
	insmod /kmlb.ko $ARGS mode=substitute
	kmlb_work load $((ncpu * 4)) 8
	check substitute_load_completes $?
	cat $D/stats > $OUT/stats-final.txt
	rmmod kmlb
	check final_unload $?
	save
fi

# Phase 4: soak. SOAK insmod/rmmod cycles, SWITCHES mode switches in each,
# under 200 % load (the workload restarts when it ends).
if [ "$SOAK" -gt 0 ]; then
	echo "KMLB-STEP soak cycles=$SOAK switches=$SWITCHES"
	lsmod | grep -q '^kmlb ' && rmmod kmlb
	echo 0 > $OUT/soak-cycles
	echo 0 > $OUT/soak-switches
	( while :; do kmlb_work load $((ncpu * 4)) 20; done ) &
	soak_wl=$!
	cyc=0 sw=0 soak_fail=0
	while [ $cyc -lt "$SOAK" ]; do
		if ! insmod /kmlb.ko $ARGS mode=off; then soak_fail=$((soak_fail + 1)); break; fi
		j=0
		while [ $j -lt "$SWITCHES" ]; do
			for m in shadow replace substitute off; do
				echo $m > $P && sw=$((sw + 1))
			done
			j=$((j + 4))
		done
		nm=$(awk '$1 == "cmt_nmissed" { print $2 }' $D/stats)
		[ "$nm" = 0 ] || echo "soak cycle $cyc nmissed $nm" >> $OUT/soak-nmissed.txt
		if ! rmmod kmlb; then soak_fail=$((soak_fail + 1)); break; fi
		cyc=$((cyc + 1))
		echo $cyc > $OUT/soak-cycles
		echo $sw > $OUT/soak-switches
		[ $((cyc % 25)) = 0 ] && { echo "KMLB-STEP soak cycle $cyc switches $sw"; save; }
	done
	kill $soak_wl 2>/dev/null
	killall kmlb_work 2>/dev/null
	wait 2>/dev/null
	check soak_cycles "$([ $cyc = "$SOAK" ] && [ $soak_fail = 0 ] && echo 0 || echo 1)"
	check soak_nmissed "$([ ! -s $OUT/soak-nmissed.txt ] && echo 0 || echo 1)"
fi

dmesg | grep -E -c 'Oops|general protection|BUG:' > $OUT/oopses.txt
dmesg | grep -E -c 'WARNING:' > $OUT/warnings.txt
! dmesg | grep -E -q 'BUG:|WARNING:|Oops|general protection|Call Trace'
check dmesg_clean $?
echo "KMLB-STEP done rc=$rc"
