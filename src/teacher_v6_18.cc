// can_migrate_task() of Linux 6.18, kernel/sched/fair.c; the decision is
// unchanged in 7.1 (cosmetic changes).
//   task_hot()                    LINES_6_18_TASK_HOT
//   migrate_degrades_locality()   LINES_6_18_MDL
//   can_migrate_task()            LINES_6_18_CMT
//
// Since 6.12: delayed-dequeue tasks are refused unless the balancer is
// migrating load, EEVDF-ineligible tasks are refused while no balance has
// failed yet, and migrate_degrades_locality() returns a signed score
// (src_weight - dst_weight) whose ties fall through to task_hot() (6.14).
// The throttle test looks at the destination only (lb_throttled_hierarchy),
// tasks blocked on a mutex are refused and the donor of the running task
// counts as running (proxy execution, 6.18).
#include "teacher.h"
#include "teacher_internal.h"

namespace kmlb {

namespace {

using detail::Verdict;

// Positive: degrades locality (hot); negative: improves (cold); 0: no effect.
Verdict migrate_degrades_locality(const KernelState &s)
{
	const Verdict unaffected{0, Reason::kCacheCold};
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
		return {-1, Reason::kNumaToPreferred};
	if (s.idle() == IdleType::kIdle)
		return unaffected;
	// return src_weight - dst_weight; (unsigned long difference read as long)
	const auto score = static_cast<int64_t>(detail::src_weight(s) - detail::dst_weight(s));
	if (score > 0)
		return {1, Reason::kNumaWeightDegrades};
	if (score < 0)
		return {-1, Reason::kNumaWeightImproves};
	return unaffected;
}

}  // namespace

Decision can_migrate_task_v6_18(const KernelState &s)
{
	if (s.sched_delayed && s.migration_type != kMigrateLoad)
		return {false, Reason::kDelayedDequeue};
	if (s.throttled)
		return {false, Reason::kThrottled};
	if (!s.nr_fails && s.ineligible_on_dst)
		return {false, Reason::kIneligible};
	if (s.per_cpu_kthread)
		return {false, Reason::kPerCpuKthread};
	if (s.blocked_on_mutex)
		return {false, Reason::kBlockedOnMutex};
	if (!s.dst_allowed)
		return {false, Reason::kAffinity};
	if (s.p_running || s.current_donor)
		return {false, Reason::kRunning};
	if (s.active_lb)
		return {true, Reason::kActiveBalance};

	const Verdict degrades = migrate_degrades_locality(s);
	Verdict hot;
	if (degrades.value == 0)
		hot = detail::task_hot_since_5_15(s, detail::Buddies::kNextOnly);
	else
		hot = {degrades.value > 0 ? 1 : 0, degrades.reason};
	const Verdict v = detail::final_verdict(s, hot);
	return {v.value == 1, v.reason};
}

}  // namespace kmlb
