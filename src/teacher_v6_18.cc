// can_migrate_task() of Linux 6.18; the decision is unchanged in 7.1
// (cosmetic changes). Mirrors, in kernel/sched/fair.c of v6.18 (checked
// against a 6.18.2 stable copy): can_migrate_task() and the long-valued
// migrate_degrades_locality() here, task_hot() (as 6.6's) in
// teacher_common.cc; kernel statements are quoted beside their mirrors.
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
	// Same tests as 4.19-6.13, but "not affected" is 0 and "improves" is
	// negative: return 0 / return 1 / return -1 / return src_weight - dst_weight;
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
	// if ((p->se.sched_delayed) && (env->migration_type != migrate_load)) return 0;
	if (s.sched_delayed && s.migration_type != kMigrateLoad)
		return {false, Reason::kDelayedDequeue};
	// if (lb_throttled_hierarchy(p, env->dst_cpu)) return 0;
	if (s.throttled)
		return {false, Reason::kThrottled};
	// if (!env->sd->nr_balance_failed &&
	//     task_is_ineligible_on_dst_cpu(p, env->dst_cpu)) return 0;
	if (!s.nr_fails && s.ineligible_on_dst)
		return {false, Reason::kIneligible};
	// if (kthread_is_per_cpu(p)) return 0;
	if (s.per_cpu_kthread)
		return {false, Reason::kPerCpuKthread};
	// if (task_is_blocked(p)) return 0;
	if (s.blocked_on_mutex)
		return {false, Reason::kBlockedOnMutex};
	// if (!cpumask_test_cpu(env->dst_cpu, p->cpus_ptr)) { ... return 0; }
	if (!s.dst_allowed)
		return {false, Reason::kAffinity};
	// if (task_on_cpu(env->src_rq, p) || task_current_donor(env->src_rq, p)) return 0;
	if (s.p_running || s.current_donor)
		return {false, Reason::kRunning};
	// if (env->flags & LBF_ACTIVE_LB) return 1;
	if (s.active_lb)
		return {true, Reason::kActiveBalance};

	// degrades = migrate_degrades_locality(p, env);
	// if (!degrades) hot = task_hot(p, env); else hot = degrades > 0;
	// if (!hot || env->sd->nr_balance_failed > env->sd->cache_nice_tries) return 1;
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
