// can_migrate_task() of Linux 4.15 (Chen et al.'s kernel), kernel/sched/fair.c:
//   task_hot()                   LINES_4_15_TASK_HOT
//   migrate_degrades_locality()  LINES_4_15_MDL
//   can_migrate_task()           LINES_4_15_CMT
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
	if (!s.fair_class)
		return {0, Reason::kNotFairClass};
	if (s.idle_policy)
		return {0, Reason::kIdlePolicy};
	// sched_feat(CACHE_HOT_BUDDY) is on by default.
	if (s.dst_len && (s.next_buddy || s.last_buddy))
		return {1, Reason::kBuddyHot};
	if (s.migration_cost_ns == -1)
		return {1, Reason::kAlwaysHot};
	if (s.migration_cost_ns == 0)
		return {0, Reason::kNeverHot};
	if (s.delta < s.migration_cost_ns)
		return {1, Reason::kCacheHot};
	return {0, Reason::kCacheCold};
}

Verdict migrate_degrades_locality(const KernelState &s)
{
	const Verdict unaffected{-1, Reason::kCacheCold};
	if (!s.numa_balancing || !s.has_numa_faults || !s.sd_numa)
		return unaffected;
	if (s.src_nid == s.dst_nid)
		return unaffected;
	if (s.src_nid == s.preferred_nid) {
		if (s.src_len > s.src_preferred_len)
			return {1, Reason::kNumaLeavesPreferred};
		return unaffected;
	}
	if (s.dst_nid == s.preferred_nid)
		return {0, Reason::kNumaToPreferred};
	if (s.idle() != IdleType::kNotIdle)
		return unaffected;
	const int64_t src = s.numa_group ? s.group_src_faults : s.src_faults;
	const int64_t dst = s.numa_group ? s.group_dst_faults : s.dst_faults;
	if (dst < src)
		return {1, Reason::kNumaWeightDegrades};
	return {0, Reason::kNumaWeightImproves};
}

}  // namespace

Decision can_migrate_task_v4_15(const KernelState &s)
{
	if (s.throttled)
		return {false, Reason::kThrottled};
	if (!s.dst_allowed)
		return {false, Reason::kAffinity};
	if (s.p_running)
		return {false, Reason::kRunning};

	Verdict hot = migrate_degrades_locality(s);
	if (hot.value == -1)
		hot = task_hot(s);
	const Verdict v = detail::final_verdict(s, hot);
	return {v.value == 1, v.reason};
}

}  // namespace kmlb
