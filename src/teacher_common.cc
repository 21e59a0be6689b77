// Helpers of can_migrate_task() that several versions share verbatim; the
// version files cite the kernel lines. Here: task_hot() as of 5.15 (6.6 only
// drops the last buddy) and migrate_degrades_locality() as of 4.19-6.13.
#include "teacher_internal.h"

namespace kmlb::detail {

Verdict task_hot_since_5_15(const KernelState &s, Buddies buddies)
{
	if (!s.fair_class)
		return {0, Reason::kNotFairClass};
	if (s.idle_policy)
		return {0, Reason::kIdlePolicy};
	// SMT siblings share cache.
	if (s.sd_share_cpucapacity)
		return {0, Reason::kSmtSiblings};
	// sched_feat(CACHE_HOT_BUDDY) is on by default.
	const bool buddy = s.next_buddy || (buddies == Buddies::kNextOrLast && s.last_buddy);
	if (s.dst_len && buddy)
		return {1, Reason::kBuddyHot};
	if (s.migration_cost_ns == -1)
		return {1, Reason::kAlwaysHot};
	if (!s.cookie_match)
		return {1, Reason::kCookieMismatch};
	if (s.migration_cost_ns == 0)
		return {0, Reason::kNeverHot};
	if (s.delta < s.migration_cost_ns)
		return {1, Reason::kCacheHot};
	return {0, Reason::kCacheCold};
}

Verdict migrate_degrades_locality_since_4_19(const KernelState &s)
{
	const Verdict unaffected{-1, Reason::kCacheCold};
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
	if (s.idle() == IdleType::kIdle)
		return unaffected;
	if (dst_weight(s) < src_weight(s))
		return {1, Reason::kNumaWeightDegrades};
	return {0, Reason::kNumaWeightImproves};
}

}  // namespace kmlb::detail
