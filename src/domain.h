// The verification domain of a feature set: every feature vector that a
// consistent kernel state can produce, cut into regions on which the
// teacher's decision is constant (docs/verify.md).
//
// A region fixes every 0/1 feature and gives each numeric input an interval
// in natural units (what the kernel counts); every point of the interval is
// a reachable state, built by realize(). The cuts are the teacher's
// thresholds: dst_len == 0 (the buddy test), the sign of the NUMA score
// difference. The teacher is never re-implemented here: a region's label is
// can_migrate_task() of a realized state, checked equal at its corners.
//
// Assumptions (both sets): the rows kmlb prep keeps (hard checks passed,
// task not running), a CFS task, sysctl_sched_migration_cost > 0 (default
// 500000 ns), NUMA_DIRECT topology (node = socket = the MC span, so SMT
// siblings share a node and SD_NUMA <=> different nodes), active balance
// only with CPU_IDLE (active_load_balance_cpu_stop()), nr_running and
// load_avg within the fixed-point caps (beyond them the kernel model sees
// the cap: fixed_features.h).
//   seed    the seed preset's machine (generator.cc): 2 nodes, NUMA balancing
//           on, every task has fault statistics and no NUMA group, no SMT
//           domain, no active balance, no SCHED_IDLE task, no core
//           scheduling, per-node faults with src + dst = total <= 1000 (only
//           there do the 15 features decide the weight test: beyond, one
//           feature vector carries both labels, kernel-facts.md).
//   modern  any number of nodes (2..4), any fault counts, NUMA groups, SMT,
//           active balance, SCHED_IDLE, core scheduling, NUMA balancing on
//           or off; delta_faults on the grid k / 2^20 (every value the
//           fixed-point input can take for F <= 20).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "feature_set.h"
#include "kernel_state.h"
#include "kernel_version.h"
#include "reason.h"

namespace kmlb {

class Rng;

// The numeric inputs of a region, in natural units.
enum NumDim : size_t {
	kDimSrcLen,       // src nr_running, 2..127
	kDimSrcLoad,      // src load_avg, 0..256000
	kDimDstLoad,      // dst load_avg, 0..256000
	kDimDstLen,       // dst nr_running, 0..127
	kDimDeltaFaults,  // index into the domain's fault ratios (fault_ratio())
	kDimWeightDelta,  // dst_weight - src_weight, -1000..1000 (modern only)
	kNumDims,
};

using NumPoint = std::array<int64_t, kNumDims>;

struct Region {
	KernelState base;  // flags, nodes, domain flags; realize() fills the numbers
	bool src_non_pref_nr = true;  // src_len > src_preferred_len
	NumPoint lo{}, hi{};  // inclusive
	bool label = false;   // the teacher's decision on every point
	Reason reason = Reason::kCacheCold;
};

// A fault ratio delta_faults / total_faults as the kernel state holds it.
struct FaultRatio {
	int64_t delta = 0, total = 0;
};

class VerifyDomain {
public:
	VerifyDomain(FeatureSet set, KernelVersion kernel);

	FeatureSet feature_set() const { return set_; }
	KernelVersion kernel() const { return kernel_; }
	const std::vector<Region> &regions() const { return regions_; }

	// A consistent state at natural point p of region r (passes the raw
	// schema's identities and kmlb prep's filter).
	KernelState realize(const Region &r, const NumPoint &p) const;
	FaultRatio fault_ratio(int64_t index) const;
	int64_t zero_ratio_index() const { return zero_ratio_; }

	// The same domain cut to the box [lo, hi] (regions outside it dropped):
	// reduced domains for tests that brute-force every point.
	VerifyDomain restricted(const NumPoint &lo, const NumPoint &hi) const;

	// How many points the domain holds (a double: it is huge), and the
	// assumptions, for reports.
	double points() const;
	nlohmann::json describe() const;

	// A state drawn over the whole domain (every region equally likely;
	// queues, loads and fault ratios from the small values the presets draw
	// up to the caps): training data that covers what verify proves.
	KernelState sample(Rng &rng) const;

private:
	void add_region(const KernelState &flags, bool src_non_pref_nr, NumPoint lo, NumPoint hi);

	FeatureSet set_;
	KernelVersion kernel_;
	std::vector<FaultRatio> ratios_;  // seed: sorted distinct ratios; modern: empty (k / 2^20)
	int64_t zero_ratio_ = 0;          // index of 0
	std::vector<Region> regions_;
};

// The natural-unit caps (fixed_features.h).
inline constexpr int64_t kModernRatioDenominator = int64_t{1} << 20;
inline constexpr int64_t kSeedMaxTotalFaults = 1000;

}  // namespace kmlb
