// Helpers of can_migrate_task() that several versions share verbatim:
// task_hot() of kernel/sched/fair.c v5.15 (6.6 to 7.1 only drop the last
// buddy) and migrate_degrades_locality() of v4.19 to v6.13 with
// task_weight()/group_weight() (teacher_internal.h).
#include "teacher_internal.h"

namespace kmlb::detail {

Verdict task_hot_since_5_15(const KernelState &s, Buddies buddies)
{
	// if (p->sched_class != &fair_sched_class) return 0;
	if (!s.fair_class)
		return {0, Reason::kNotFairClass};
	// if (unlikely(task_has_idle_policy(p))) return 0;
	if (s.idle_policy)
		return {0, Reason::kIdlePolicy};
	// SMT siblings share cache
	// if (env->sd->flags & SD_SHARE_CPUCAPACITY) return 0;
	if (s.sd_share_cpucapacity)
		return {0, Reason::kSmtSiblings};
	// if (sched_feat(CACHE_HOT_BUDDY) && env->dst_rq->nr_running &&
	//     (&p->se == cfs_rq_of(&p->se)->next || &p->se == cfs_rq_of(&p->se)->last))
	//         return 1;       (6.6+: ->next only; CACHE_HOT_BUDDY is on by default)
	const bool buddy = s.next_buddy || (buddies == Buddies::kNextOrLast && s.last_buddy);
	if (s.dst_len && buddy)
		return {1, Reason::kBuddyHot};
	// if (sysctl_sched_migration_cost == -1) return 1;
	if (s.migration_cost_ns == -1)
		return {1, Reason::kAlwaysHot};
	// if (!sched_core_cookie_match(cpu_rq(env->dst_cpu), p)) return 1;
	if (!s.cookie_match)
		return {1, Reason::kCookieMismatch};
	// if (sysctl_sched_migration_cost == 0) return 0;
	if (s.migration_cost_ns == 0)
		return {0, Reason::kNeverHot};
	// return delta < (s64)sysctl_sched_migration_cost;
	if (s.delta < s.migration_cost_ns)
		return {1, Reason::kCacheHot};
	return {0, Reason::kCacheCold};
}

Verdict migrate_degrades_locality_since_4_19(const KernelState &s)
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
	// Leaving a core idle is often worse than degrading locality.
	// if (env->idle == CPU_IDLE) return -1;
	if (s.idle() == IdleType::kIdle)
		return unaffected;
	// return dst_weight < src_weight;  (group_weight() when p->numa_group)
	if (dst_weight(s) < src_weight(s))
		return {1, Reason::kNumaWeightDegrades};
	return {0, Reason::kNumaWeightImproves};
}

}  // namespace kmlb::detail
