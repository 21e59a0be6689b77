#include "reason.h"

#include <array>

namespace kmlb {

namespace {

// clang-format off
constexpr std::array<ReasonInfo, kReasonCount> kInfo = {{
	{"delayed_dequeue", "task is delayed-dequeued and the balancer is not migrating load (6.14+)", true},
	{"throttled", "task's group is throttled on the source or destination CPU", true},
	{"ineligible", "task is EEVDF-ineligible on the destination and no balance failed yet (6.14+)", true},
	{"per_cpu_kthread", "per-CPU kernel thread: it is where it needs to be (5.11+)", true},
	{"blocked_on_mutex", "task is blocked on a mutex (proxy execution, 6.18+)", true},
	{"affinity", "destination CPU is not in p->cpus_ptr", true},
	{"running", "task is running (or is the donor of the running task, 6.18+)", true},
	{"active_balance", "active balance (LBF_ACTIVE_LB): migrate at once (5.15+)", false},
	{"numa_leaves_preferred", "NUMA: would leave its preferred node while that node has tasks off theirs", false},
	{"numa_to_preferred", "NUMA: destination is the task's preferred node", false},
	{"numa_weight_degrades", "NUMA: destination has the lower fault weight", false},
	{"numa_weight_improves", "NUMA: destination has the higher (or, before 6.14, equal) fault weight", false},
	{"not_fair_class", "task_hot: not a CFS task, never hot", false},
	{"idle_policy", "task_hot: SCHED_IDLE task, never hot", false},
	{"smt_siblings", "task_hot: SMT siblings share cache, never hot (5.10+)", false},
	{"buddy_hot", "task_hot: task is a buddy (next/last; next only from 6.6) and dst has tasks", false},
	{"always_hot", "task_hot: sysctl_sched_migration_cost is -1", false},
	{"cookie_mismatch", "task_hot: core-scheduling cookie does not match the destination (5.14+)", false},
	{"never_hot", "task_hot: sysctl_sched_migration_cost is 0", false},
	{"cache_hot", "task_hot: ran within the migration cost (delta < migration_cost)", false},
	{"cache_cold", "task_hot: has not run for at least the migration cost", false},
	{"too_many_failures", "hot, but nr_balance_failed > cache_nice_tries: migrate anyway", false},
}};
// clang-format on

}  // namespace

const ReasonInfo &reason_info(Reason r) { return kInfo[static_cast<size_t>(r)]; }

std::optional<Reason> parse_reason(std::string_view name)
{
	for (int i = 0; i < kReasonCount; ++i)
		if (kInfo[i].name == name)
			return static_cast<Reason>(i);
	return std::nullopt;
}

}  // namespace kmlb
