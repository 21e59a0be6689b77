// One recorded call of can_migrate_task(p, env): every input the function
// reads in any supported kernel version, plus the seed report's bookkeeping
// columns (Appendix A1). Field order is the raw CSV column order; the full
// documentation of each column is in docs/raw-schema.md and in
// raw_schema.cc, which is the single source of names, ranges and meaning.
#pragma once

#include <cstdint>

namespace kmlb {

// env->idle, normalised: the kernel renumbered enum cpu_idle_type in 6.12.
enum class IdleType : int8_t { kIdle, kNotIdle, kNewlyIdle };

// env->migration_type (enum migration_type, stable since 5.5).
enum MigrationType : int64_t {
	kMigrateLoad = 0,
	kMigrateUtil = 1,
	kMigrateTask = 2,
	kMigrateMisfit = 3,
};

inline constexpr int64_t kNumaNoNode = -1;

struct KernelState {
	// --- Appendix A1 of the seed report -----------------------------------
	int64_t ts = 0;                 // ns, bpf_ktime_get_ns()
	int64_t curr_pid = 0;           // src_rq->curr->pid
	int64_t pid = 0;                // p->pid
	int64_t src_cpu = 0;
	int64_t dst_cpu = 0;
	int64_t imbalance = 0;          // env->imbalance
	int64_t src_len = 0;            // src_rq->nr_running
	int64_t src_numa_len = 0;       // src_rq->nr_numa_running
	int64_t src_preferred_len = 0;  // src_rq->nr_preferred_running
	int64_t delta = 0;              // ns, rq_clock_task(src_rq) - p->se.exec_start
	int64_t cpu_idle = 0;           // env->idle == CPU_IDLE
	int64_t cpu_not_idle = 0;       // env->idle == CPU_NOT_IDLE
	int64_t cpu_newly_idle = 0;     // env->idle == CPU_NEWLY_IDLE
	int64_t same_node = 0;          // src_nid == dst_nid
	int64_t prefer_src = 0;         // src_nid == p->numa_preferred_nid
	int64_t prefer_dst = 0;         // dst_nid == p->numa_preferred_nid
	int64_t delta_faults = 0;       // dst_faults - src_faults
	int64_t total_faults = 0;       // p->total_numa_faults
	int64_t dst_len = 0;            // dst_rq->nr_running
	int64_t src_load = 0;           // src_rq->cfs.avg.load_avg
	int64_t dst_load = 0;           // dst_rq->cfs.avg.load_avg
	int64_t nr_fails = 0;           // env->sd->nr_balance_failed
	int64_t cache_nice_tries = 0;   // env->sd->cache_nice_tries
	int64_t buddy_hot = 0;          // next_buddy || last_buddy (raw flag)
	int64_t throttled = 0;          // the version's throttle test
	int64_t p_running = 0;          // task_running()/task_on_cpu()
	int64_t test_aggressive = 0;    // all four hard checks passed
	int64_t can_migrate = 0;        // recorded return value; -1 unknown
	int64_t pc_0 = 0;               // hardware counters (0: unavailable)
	int64_t pc_1 = 0;
	// --- what kmlb adds so that the teacher is exact ----------------------
	int64_t per_cpu_kthread = 0;    // kthread_is_per_cpu(p)
	int64_t dst_allowed = 1;        // dst_cpu in p->cpus_ptr
	int64_t active_lb = 0;          // env->flags & LBF_ACTIVE_LB
	int64_t sd_numa = 0;            // env->sd->flags & SD_NUMA
	int64_t sd_share_cpucapacity = 0;  // env->sd->flags & SD_SHARE_CPUCAPACITY
	int64_t numa_balancing = 1;     // static key sched_numa_balancing
	int64_t src_nid = 0;
	int64_t dst_nid = 0;
	int64_t preferred_nid = kNumaNoNode;
	int64_t has_numa_faults = 0;    // p->numa_faults != NULL
	int64_t src_faults = 0;         // task_faults(p, src_nid)
	int64_t dst_faults = 0;         // task_faults(p, dst_nid)
	int64_t numa_group = 0;         // p->numa_group != NULL
	int64_t group_src_faults = 0;   // group_faults(p, src_nid)
	int64_t group_dst_faults = 0;   // group_faults(p, dst_nid)
	int64_t group_total_faults = 0; // p->numa_group->total_faults
	int64_t next_buddy = 0;         // &p->se == cfs_rq->next
	int64_t last_buddy = 0;         // &p->se == cfs_rq->last (gone in 6.6)
	int64_t migration_cost_ns = 500000;  // sysctl_sched_migration_cost
	int64_t fair_class = 1;         // p->sched_class == &fair_sched_class
	int64_t idle_policy = 0;        // task_has_idle_policy(p)
	int64_t cookie_match = 1;       // sched_core_cookie_match(dst_rq, p)
	int64_t sched_delayed = 0;      // p->se.sched_delayed (6.12+)
	int64_t migration_type = kMigrateLoad;  // env->migration_type
	int64_t ineligible_on_dst = 0;  // task_is_ineligible_on_dst_cpu() (6.14+)
	int64_t blocked_on_mutex = 0;   // task_is_blocked(p) (6.18+)
	int64_t current_donor = 0;      // task_current_donor(src_rq, p) (6.18+)

	IdleType idle() const
	{
		return cpu_idle ? IdleType::kIdle
				: cpu_newly_idle ? IdleType::kNewlyIdle : IdleType::kNotIdle;
	}
};

inline constexpr int kRawColumns = 57;
static_assert(sizeof(KernelState) == kRawColumns * sizeof(int64_t),
	      "KernelState must be exactly the raw columns, in order");

}  // namespace kmlb
