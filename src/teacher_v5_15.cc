// can_migrate_task() of Linux 5.15, kernel/sched/fair.c; the decision is
// unchanged in 6.1 (renames only), so this file also serves Debian bookworm.
//   task_hot()                    LINES_5_15_TASK_HOT
//   migrate_degrades_locality()   LINES_5_15_MDL
//   task_weight(), group_weight() LINES_5_15_WEIGHTS
//   can_migrate_task()            LINES_5_15_CMT
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
	if (s.throttled)
		return {false, Reason::kThrottled};
	// Disregard pcpu kthreads; they are where they need to be.
	if (s.per_cpu_kthread)
		return {false, Reason::kPerCpuKthread};
	if (!s.dst_allowed)
		return {false, Reason::kAffinity};
	if (s.p_running)
		return {false, Reason::kRunning};
	if (s.active_lb)
		return {true, Reason::kActiveBalance};

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
