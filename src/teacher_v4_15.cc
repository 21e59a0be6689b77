// can_migrate_task() of Linux 4.15 (Chen et al.'s kernel). Mirrors, in
// kernel/sched/fair.c of v4.15: task_hot(), migrate_degrades_locality()
// (CONFIG_NUMA_BALANCING), task_faults()/group_faults() and
// can_migrate_task(); each kernel statement is quoted beside its mirror.
//
// Hard checks: throttled pair, then affinity, then running. There is no
// per-CPU kthread test (such threads are caught by affinity) and no active
// balance flag. The NUMA test compares raw fault counts (group faults when
// the task is in a NUMA group) and bails out unless the destination is busy
// (env->idle != CPU_NOT_IDLE). task_hot() has no SMT and no cookie test.
#include "teacher.h"
#include "teacher_internal.h"

namespace kmlb {

namespace {

using detail::Verdict;

Verdict task_hot(const KernelState &s)
{
	// if (p->sched_class != &fair_sched_class) return 0;
	if (!s.fair_class)
		return {0, Reason::kNotFairClass};
	// if (unlikely(p->policy == SCHED_IDLE)) return 0;
	if (s.idle_policy)
		return {0, Reason::kIdlePolicy};
	// if (sched_feat(CACHE_HOT_BUDDY) && env->dst_rq->nr_running &&
	//     (&p->se == cfs_rq_of(&p->se)->next || ... ->last)) return 1;
	if (s.dst_len && (s.next_buddy || s.last_buddy))
		return {1, Reason::kBuddyHot};
	// if (sysctl_sched_migration_cost == -1) return 1;
	if (s.migration_cost_ns == -1)
		return {1, Reason::kAlwaysHot};
	// if (sysctl_sched_migration_cost == 0) return 0;
	if (s.migration_cost_ns == 0)
		return {0, Reason::kNeverHot};
	// return delta < (s64)sysctl_sched_migration_cost;
	if (s.delta < s.migration_cost_ns)
		return {1, Reason::kCacheHot};
	return {0, Reason::kCacheCold};
}

Verdict migrate_degrades_locality(const KernelState &s)
{
	const Verdict unaffected{-1, Reason::kCacheCold};
	// if (!static_branch_likely(&sched_numa_balancing)) return -1;
	// if (!p->numa_faults || !(env->sd->flags & SD_NUMA)) return -1;
	if (!s.numa_balancing || !s.has_numa_faults || !s.sd_numa)
		return unaffected;
	if (s.src_nid == s.dst_nid)
		return unaffected;
	// Migrating away from the preferred node is always bad.
	if (s.src_nid == s.preferred_nid) {
		if (s.src_len > s.src_preferred_len)
			return {1, Reason::kNumaLeavesPreferred};
		return unaffected;
	}
	// Encourage migration to the preferred node.
	if (s.dst_nid == s.preferred_nid)
		return {0, Reason::kNumaToPreferred};
	// if (env->idle != CPU_NOT_IDLE) return -1;
	if (s.idle() != IdleType::kNotIdle)
		return unaffected;
	// src_faults = group_faults(p, src_nid) or task_faults(p, src_nid); ...
	// return dst_faults < src_faults;
	const int64_t src = s.numa_group ? s.group_src_faults : s.src_faults;
	const int64_t dst = s.numa_group ? s.group_dst_faults : s.dst_faults;
	if (dst < src)
		return {1, Reason::kNumaWeightDegrades};
	return {0, Reason::kNumaWeightImproves};
}

}  // namespace

Decision can_migrate_task_v4_15(const KernelState &s)
{
	// if (throttled_lb_pair(task_group(p), env->src_cpu, env->dst_cpu)) return 0;
	if (s.throttled)
		return {false, Reason::kThrottled};
	// if (!cpumask_test_cpu(env->dst_cpu, &p->cpus_allowed)) { ... return 0; }
	if (!s.dst_allowed)
		return {false, Reason::kAffinity};
	// if (task_running(env->src_rq, p)) return 0;
	if (s.p_running)
		return {false, Reason::kRunning};

	// tsk_cache_hot = migrate_degrades_locality(p, env);
	// if (tsk_cache_hot == -1) tsk_cache_hot = task_hot(p, env);
	Verdict hot = migrate_degrades_locality(s);
	if (hot.value == -1)
		hot = task_hot(s);
	const Verdict v = detail::final_verdict(s, hot);
	return {v.value == 1, v.reason};
}

}  // namespace kmlb
