// can_migrate_task() of Linux 5.15; the decision is unchanged in 6.1
// (checked against v6.1's source: renames only), so this file also serves
// Debian bookworm. Mirrors, in kernel/sched/fair.c of v5.15:
// can_migrate_task() here, task_hot() and migrate_degrades_locality() with
// task_weight()/group_weight() in teacher_common.cc; kernel statements are
// quoted beside their mirrors.
//
// Since 4.15: the NUMA test compares distance-weighted fault scores
// (1000 * faults / total, integer division) and bails out only when the
// destination is idle (4.19); task_hot() calls SMT siblings cold (5.10);
// per-CPU kthreads are refused before affinity, active balance migrates at
// once, and a core-scheduling cookie mismatch counts as hot (5.11-5.15).
// Both buddies (next and last) count as cache hot.
#include "teacher.h"
#include "teacher_internal.h"

namespace kmlb {

// The hard checks and the tail are the same in 6.6, with the EEVDF task_hot().
Decision detail::can_migrate_task_since_5_15(const KernelState &s, detail::Buddies buddies)
{
	// if (throttled_lb_pair(task_group(p), env->src_cpu, env->dst_cpu)) return 0;
	if (s.throttled)
		return {false, Reason::kThrottled};
	// Disregard pcpu kthreads; they are where they need to be.
	// if (kthread_is_per_cpu(p)) return 0;
	if (s.per_cpu_kthread)
		return {false, Reason::kPerCpuKthread};
	// if (!cpumask_test_cpu(env->dst_cpu, p->cpus_ptr)) { ... return 0; }
	if (!s.dst_allowed)
		return {false, Reason::kAffinity};
	// if (task_running(env->src_rq, p)) return 0;  (task_on_cpu() in 6.6)
	if (s.p_running)
		return {false, Reason::kRunning};
	// if (env->flags & LBF_ACTIVE_LB) return 1;
	if (s.active_lb)
		return {true, Reason::kActiveBalance};

	// tsk_cache_hot = migrate_degrades_locality(p, env);
	// if (tsk_cache_hot == -1) tsk_cache_hot = task_hot(p, env);
	detail::Verdict hot = detail::migrate_degrades_locality_since_4_19(s);
	if (hot.value == -1)
		hot = detail::task_hot_since_5_15(s, buddies);
	const detail::Verdict v = detail::final_verdict(s, hot);
	return {v.value == 1, v.reason};
}

Decision can_migrate_task_v5_15(const KernelState &s)
{
	return detail::can_migrate_task_since_5_15(s, detail::Buddies::kNextOrLast);
}

}  // namespace kmlb
