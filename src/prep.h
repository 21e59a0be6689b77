// Preprocessing: the seed report's Appendix A2 rules, from a recorded kernel
// state to model features.
//
//   keep rows with p_running == 0 and test_aggressive == 1 (and, on kernels
//   that make them, 6.14+, none of the newer hard refusals: see
//   passes_prep_filter)
//   src_non_pref_nr = src_len > src_preferred_len
//   delta_hot       = delta < migration_cost_ns   (A2: 500000, the default)
//   extra_fails     = nr_fails > cache_nice_tries
//   src_len        -= 2
//   src_load, dst_load /= 1000
//   delta_faults    = (dst_faults - src_faults) / (total_faults or 1)
//
// The `modern` set adds:
//   smt_domain        = SD_SHARE_CPUCAPACITY: task_hot() calls SMT siblings
//                       cold since 5.10 (the 15 cannot see it: ~98 % cap)
//   active_lb         = LBF_ACTIVE_LB: migrate at once since 5.15
//   numa_active       = NUMA balancing on, task has fault statistics and the
//                       domain is SD_NUMA: whether the NUMA test runs at all
//   numa_weight_sign  = sign(dst_weight - src_weight) in {-1, 0, 1}: the
//                       outcome of the comparison of the scores the kernel
//                       makes (group scores for a task in a NUMA group);
//                       delta_faults alone loses the integer division and
//                       the group, so its sign can be wrong. Only the
//                       comparison decides (dst < src: degrades; 6.14+: ties
//                       fall through), so the feature is the outcome itself:
//                       the smallest score difference moves it by a whole
//                       unit, and the model's decision cannot hinge on a
//                       difference of 1/1000 (docs/verify.md).
//   idle_policy       = SCHED_IDLE task: task_hot() says cold at once
//   cookie_mismatch   = core scheduling cookie does not match dst: hot (5.14+)
#pragma once

#include <span>

#include "dataset.h"
#include "feature_set.h"
#include "kernel_state.h"
#include "kernel_version.h"
#include "raw_schema.h"

namespace kmlb {

// The rows whose decision the heuristic makes on kernel `version`: the task
// is not running, the hard checks passed (test_aggressive), and none of the
// hard refusals that this version adds refused it.
bool passes_prep_filter(const KernelState &s, KernelVersion version);

// Writes feature_count(set) values.
void extract_features(const KernelState &s, FeatureSet set, float *out);

// Filters (passes_prep_filter for `version`, the kernel the trace was
// recorded on or labelled for) and converts a trace; labels from the recorded can_migrate
// (a kept row with can_migrate == -1 is bad data, named by line).
// `modern` needs the full schema (Error kBadData naming the file otherwise).
Dataset prep(const RawTrace &trace, FeatureSet set, KernelVersion version);

}  // namespace kmlb
