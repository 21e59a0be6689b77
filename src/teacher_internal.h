// Pieces of the decision shared, unchanged, by several kernel versions.
// Values mirror the kernel's: 1 hot / degrades, 0 cold / improves,
// -1 "not affected" (the caller falls through to the next test).
#pragma once

#include <cstdint>

#include "kernel_state.h"
#include "reason.h"
#include "teacher.h"

namespace kmlb::detail {

struct Verdict {
	int value;
	Reason reason;
};

// task_weight()/group_weight() since 4.19: 1000 * faults / total with the
// kernel's unsigned long integer division. score_nearby_nodes() adds 0 on
// NUMA_DIRECT topologies (every remote node at the same distance), which is
// what the supported layouts are; kmlb does not model other topologies.
inline uint64_t numa_weight(int64_t faults, int64_t total)
{
	if (total <= 0)
		return 0;
	return 1000 * static_cast<uint64_t>(faults) / static_cast<uint64_t>(total);
}

inline uint64_t src_weight(const KernelState &s)
{
	return s.numa_group ? numa_weight(s.group_src_faults, s.group_total_faults)
			    : numa_weight(s.src_faults, s.total_faults);
}

inline uint64_t dst_weight(const KernelState &s)
{
	return s.numa_group ? numa_weight(s.group_dst_faults, s.group_total_faults)
			    : numa_weight(s.dst_faults, s.total_faults);
}

// The outcome of the kernel's comparison of the two scores (the modern
// feature numa_weight_sign): 1 when dst_weight > src_weight, -1 when
// dst_weight < src_weight (4.19-6.13: degrades), 0 on a tie (6.14+: falls
// through to task_hot()). Unsigned, as 4.19-6.13 compare; the sign of
// 6.14+'s long score src - dst is its negation for any scores below 2^63.
inline int numa_weight_sign(const KernelState &s)
{
	const uint64_t src = src_weight(s), dst = dst_weight(s);
	return dst > src ? 1 : dst < src ? -1 : 0;
}

// The final test, the same in every version:
//   if (tsk_cache_hot <= 0 || sd->nr_balance_failed > sd->cache_nice_tries)
//           return 1;
//   return 0;
inline Verdict final_verdict(const KernelState &s, Verdict hot)
{
	if (hot.value <= 0)
		return {1, hot.reason};
	if (s.nr_fails > s.cache_nice_tries)
		return {1, Reason::kTooManyFailures};
	return {0, hot.reason};
}

// Which cfs_rq buddies make a task cache hot: next or last until 6.5, only
// next once EEVDF removed the last buddy (6.6).
enum class Buddies { kNextOrLast, kNextOnly };

// task_hot() from 5.15 on (SMT and cookie tests present); teacher_common.cc.
Verdict task_hot_since_5_15(const KernelState &s, Buddies buddies);

// migrate_degrades_locality() from 4.19 to 6.13 (weighted scores, idle
// early exit on CPU_IDLE, ties improve); teacher_common.cc.
Verdict migrate_degrades_locality_since_4_19(const KernelState &s);

// can_migrate_task() of 5.15 to 6.13: hard checks, active balance, NUMA
// test, task_hot(); teacher_v5_15.cc. 6.6 differs only in the buddies.
Decision can_migrate_task_since_5_15(const KernelState &s, Buddies buddies);

}  // namespace kmlb::detail
