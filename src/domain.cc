// The verification domain (domain.h): its regions, their realization as
// kernel states, and sampling over it.
#include "domain.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

#include "exit_codes.h"
#include "fixed_features.h"
#include "prep.h"
#include "raw_schema.h"
#include "rng.h"
#include "teacher.h"

namespace kmlb {

namespace {

constexpr int64_t kCoresPerNode = 14;
constexpr int64_t kMigrationCostNs = 500000;
// Group fault unit of the modern realization: above any task fault count,
// so that 1000 * (A * M + f) / (1000 * M) = A exactly.
constexpr int64_t kGroupUnit = int64_t{1} << 21;

enum class Pair { kSmt, kMc, kNuma };

int nodes_of(FeatureSet set) { return set == FeatureSet::kSeed ? 2 : 4; }

// CPU numbering of a 2- or 4-socket x86 server (generator.cc): thread *
// cores + node * cores_per_node + core.
void place(KernelState &s, Pair pair, int nodes)
{
	const int64_t cores = nodes * kCoresPerNode;
	s.src_cpu = 0;
	s.src_nid = 0;
	s.dst_nid = pair == Pair::kNuma ? 1 : 0;
	s.dst_cpu = pair == Pair::kSmt ? cores : pair == Pair::kMc ? 1 : kCoresPerNode;
	s.sd_share_cpucapacity = pair == Pair::kSmt;
	s.sd_numa = pair == Pair::kNuma;
	s.cache_nice_tries = pair == Pair::kSmt ? 0 : pair == Pair::kMc ? 1 : 2;
}

// Distinct values of (dst - src) / (dst + src) with dst + src <= 1000: the
// seed preset's 2-node machine, where total = src + dst.
std::vector<FaultRatio> seed_ratios()
{
	std::vector<FaultRatio> r;
	r.push_back({0, 0});
	for (int64_t t = 1; t <= kSeedMaxTotalFaults; ++t)
		for (int64_t k = -t; k <= t; k += 2)
			r.push_back({k, t});
	auto less = [](const FaultRatio &a, const FaultRatio &b) {
		const int64_t ta = a.total ? a.total : 1, tb = b.total ? b.total : 1;
		return a.delta * tb < b.delta * ta;
	};
	auto equal = [&](const FaultRatio &a, const FaultRatio &b) { return !less(a, b) && !less(b, a); };
	std::stable_sort(r.begin(), r.end(), less);
	r.erase(std::unique(r.begin(), r.end(), equal), r.end());
	return r;
}

void set_idle(KernelState &s, IdleType t)
{
	s.cpu_idle = t == IdleType::kIdle;
	s.cpu_not_idle = t == IdleType::kNotIdle;
	s.cpu_newly_idle = t == IdleType::kNewlyIdle;
}

}  // namespace

VerifyDomain::VerifyDomain(FeatureSet set, KernelVersion kernel) : set_(set), kernel_(kernel)
{
	const bool modern = set == FeatureSet::kModern;
	// 4.15 compares raw fault counts; numa_weight_sign compares the scores of 4.19+,
	// so the modern features do not determine a 4.15 decision.
	if (modern && kernel == KernelVersion::k4_15)
		throw Error(ExitCode::kUsage, "the 'modern' domain needs a teacher from 4.19 on (4.15 compares raw "
					      "faults, which the modern features do not carry); use --kernel 5.15 or later");
	if (!modern) {
		ratios_ = seed_ratios();
		zero_ratio_ = std::find_if(ratios_.begin(), ratios_.end(), [](const FaultRatio &f) { return f.delta == 0; }) -
			      ratios_.begin();
	} else {
		zero_ratio_ = kModernRatioDenominator;
	}
	const std::vector<int> both = {0, 1}, zero = {0}, one = {1};
	for (IdleType idle : {IdleType::kIdle, IdleType::kNotIdle, IdleType::kNewlyIdle})
		for (int active : modern && idle == IdleType::kIdle ? both : zero)
			for (Pair pair : {Pair::kSmt, Pair::kMc, Pair::kNuma}) {
				if (pair == Pair::kSmt && !modern)
					continue;
				const bool same = pair != Pair::kNuma;
				// (prefer_src, prefer_dst): equal on one node, never both across nodes.
				const std::vector<std::pair<int, int>> prefs =
					same ? std::vector<std::pair<int, int>>{{0, 0}, {1, 1}}
					     : std::vector<std::pair<int, int>>{{0, 0}, {1, 0}, {0, 1}};
				for (auto [ps, pd] : prefs)
					for (int numa_on : same ? one : modern ? both : one)
						for (int snp : ps ? both : one)
							for (int hot : both)
								for (int fails : both)
									for (int buddy : both)
										for (int ipol : modern ? both : zero)
											for (int cookie_mm : modern ? both : zero) {
				KernelState s;
				set_idle(s, idle);
				s.active_lb = active;
				place(s, pair, nodes_of(set));
				s.preferred_nid = ps ? s.src_nid : pd ? s.dst_nid : kNumaNoNode;
				s.numa_balancing = numa_on;
				s.has_numa_faults = 1;
				s.migration_cost_ns = kMigrationCostNs;
				s.delta = hot ? 0 : kMigrationCostNs;
				s.nr_fails = fails ? s.cache_nice_tries + 1 : 0;
				s.next_buddy = buddy;
				s.idle_policy = ipol;
				s.cookie_match = !cookie_mm;
				s.curr_pid = 1000;
				s.pid = 1001;
				s.ts = 1;
				s.imbalance = 1;
				s.can_migrate = -1;
				const bool snp_flag = snp;
				NumPoint lo{2, 0, 0, 0, zero_ratio_, 0}, hi{kMaxNrRunning, kMaxLoadAvg, kMaxLoadAvg, 0, zero_ratio_, 0};
				for (auto [dl, dh] : {std::pair<int64_t, int64_t>{0, 0}, {1, kMaxNrRunning}}) {
					lo[kDimDstLen] = dl;
					hi[kDimDstLen] = dh;
					auto add = [&](int64_t flo, int64_t fhi, int64_t wlo, int64_t whi) {
						NumPoint a = lo, b = hi;
						a[kDimDeltaFaults] = flo;
						b[kDimDeltaFaults] = fhi;
						a[kDimWeightDelta] = wlo;
						b[kDimWeightDelta] = whi;
						add_region(s, snp_flag, a, b);
					};
					const int64_t z = zero_ratio_;
					if (same) {
						add(z, z, 0, 0);
					} else if (!modern) {
						// The sign of delta_faults decides the weight test.
						add(0, z - 1, 0, 0);
						add(z, z, 0, 0);
						add(z + 1, static_cast<int64_t>(ratios_.size()) - 1, 0, 0);
					} else {
						const int64_t last = 2 * kModernRatioDenominator;
						if (numa_on) {
							add(0, last, -999, -1);
							add(0, last, 0, 0);
							add(0, last, 1, 999);
						} else {
							add(0, last, -999, 999);
						}
						// A weight of 1000 on one node: every fault of the task
						// (and of its group) is there, or it has none.
						add(0, 0, -1000, -1000);
						add(z, z, -1000, -1000);
						add(z, z, 1000, 1000);
						add(last, last, 1000, 1000);
					}
				}
											}
			}
}

void VerifyDomain::add_region(const KernelState &flags, bool src_non_pref_nr, NumPoint lo, NumPoint hi)
{
	Region r;
	r.base = flags;
	r.src_non_pref_nr = src_non_pref_nr;
	r.lo = lo;
	r.hi = hi;
	const Decision d = can_migrate_task(realize(r, lo), kernel_);
	r.label = d.migrate;
	r.reason = d.reason;
	// The cuts must make the decision constant: check the far corner and the
	// middle too (a wrong cut is a bug here, never a property of a model).
	NumPoint mid;
	for (size_t i = 0; i < kNumDims; ++i)
		mid[i] = lo[i] + (hi[i] - lo[i]) / 2;
	for (const NumPoint &p : {hi, mid}) {
		const KernelState s = realize(r, p);
		if (can_migrate_task(s, kernel_).migrate != r.label || !passes_prep_filter(s, kernel_) ||
		    !raw_consistency_error(s, true).empty())
			throw std::logic_error("verify domain: a region's decision is not constant");
	}
	regions_.push_back(r);
}

FaultRatio VerifyDomain::fault_ratio(int64_t index) const
{
	if (set_ == FeatureSet::kSeed)
		return ratios_[static_cast<size_t>(index)];
	return {index - kModernRatioDenominator, kModernRatioDenominator};
}

KernelState VerifyDomain::realize(const Region &r, const NumPoint &p) const
{
	KernelState s = r.base;
	s.src_len = p[kDimSrcLen];
	const bool p_prefers_src = s.preferred_nid != kNumaNoNode && s.preferred_nid == s.src_nid;
	s.src_preferred_len = r.src_non_pref_nr ? (p_prefers_src ? 1 : 0) : s.src_len;
	s.src_numa_len = std::max<int64_t>(s.src_preferred_len, s.preferred_nid != kNumaNoNode);
	s.src_load = p[kDimSrcLoad];
	s.dst_load = p[kDimDstLoad];
	s.dst_len = p[kDimDstLen];
	const FaultRatio f = fault_ratio(p[kDimDeltaFaults]);
	if (set_ == FeatureSet::kSeed) {
		// 2 nodes: total = src + dst, delta = dst - src (same parity as total).
		s.total_faults = f.total;
		s.src_faults = (f.total - f.delta) / 2;
		s.dst_faults = (f.total + f.delta) / 2;
	} else {
		const int64_t d = p[kDimWeightDelta];
		const bool saturated = d == 1000 || d == -1000;
		if (s.src_nid == s.dst_nid) {
			s.total_faults = kModernRatioDenominator;  // all on another node
		} else if (saturated && f.delta == 0) {
			s.total_faults = 0;  // no task faults counted yet; the group's are all on one node
		} else {
			// The rest of the task's faults sit on nodes 2 and 3.
			s.total_faults = kModernRatioDenominator;
			s.src_faults = std::max<int64_t>(0, -f.delta);
			s.dst_faults = std::max<int64_t>(0, f.delta);
		}
		if (s.src_nid != s.dst_nid) {
			// Group scores A and B (per mille) exactly: faults A*M + src, B*M + dst.
			s.numa_group = 1;
			s.group_total_faults = 1000 * kGroupUnit;
			const int64_t a = std::max<int64_t>(0, -d), b = std::max<int64_t>(0, d);
			s.group_src_faults = a * kGroupUnit + (saturated ? 0 : s.src_faults);
			s.group_dst_faults = b * kGroupUnit + (saturated ? 0 : s.dst_faults);
			if (d == 1000)
				s.group_dst_faults = s.group_total_faults;
			if (d == -1000)
				s.group_src_faults = s.group_total_faults;
		}
	}
	derive_a1_columns(s);
	return s;
}

VerifyDomain VerifyDomain::restricted(const NumPoint &lo, const NumPoint &hi) const
{
	VerifyDomain d = *this;
	d.regions_.clear();
	for (Region r : regions_) {
		bool empty = false;
		for (size_t i = 0; i < kNumDims; ++i) {
			r.lo[i] = std::max(r.lo[i], lo[i]);
			r.hi[i] = std::min(r.hi[i], hi[i]);
			empty = empty || r.lo[i] > r.hi[i];
		}
		if (!empty)
			d.regions_.push_back(r);
	}
	return d;
}

double VerifyDomain::points() const
{
	double n = 0;
	for (const Region &r : regions_) {
		double k = 1;
		for (size_t i = 0; i < kNumDims; ++i)
			k *= static_cast<double>(r.hi[i] - r.lo[i] + 1);
		n += k;
	}
	return n;
}

nlohmann::json VerifyDomain::describe() const
{
	nlohmann::json a = nlohmann::json::array();
	a.push_back("rows kmlb prep keeps: hard checks passed, task not running, a CFS task");
	a.push_back("sysctl_sched_migration_cost = 500000 ns (delta_hot is delta < 500000)");
	a.push_back("NUMA_DIRECT topology: SMT siblings share a node, SD_NUMA iff different nodes");
	a.push_back("active balance only with CPU_IDLE");
	a.push_back("src nr_running 2..127, dst nr_running 0..127, load_avg 0..256000 (the fixed-point caps)");
	if (set_ == FeatureSet::kSeed) {
		a.push_back("the seed preset's machine: 2 nodes, NUMA balancing on, fault statistics, no NUMA group, "
			    "no SMT domain, no active balance, no SCHED_IDLE, no core scheduling");
		a.push_back("src_faults + dst_faults = total_faults <= 1000 (beyond, the 15 features do not "
			    "determine the weight test)");
	} else {
		a.push_back("2 to 4 nodes, NUMA balancing on or off, NUMA groups, SMT, active balance, SCHED_IDLE, "
			    "core scheduling; weight delta -1000..1000");
		a.push_back("delta_faults on the grid k / 2^20 (every fixed-point value for F <= 20)");
	}
	return {{"feature_set", feature_set_name(set_)},
		{"kernel", canonical_name(kernel_)},
		{"regions", regions_.size()},
		{"points", points()},
		{"assumptions", a}};
}

KernelState VerifyDomain::sample(Rng &rng) const
{
	const Region &r = regions_[rng.below(regions_.size())];
	NumPoint p;
	auto pick = [&](size_t dim, int64_t small) {
		const int64_t lo = r.lo[dim], hi = r.hi[dim];
		int64_t v;
		if (rng.bernoulli(0.5))
			v = rng.between(lo, hi);
		else
			v = lo + std::llround(std::fabs(rng.normal(0.0, static_cast<double>(small))));
		p[dim] = std::min(hi, v);
	};
	pick(kDimSrcLen, 3);
	pick(kDimDstLen, 3);
	pick(kDimSrcLoad, 1024 * std::max<int64_t>(1, p[kDimSrcLen]));
	pick(kDimDstLoad, 1024 * std::max<int64_t>(1, p[kDimDstLen]));
	pick(kDimWeightDelta, 5);
	if (rng.bernoulli(0.3))
		p[kDimWeightDelta] = r.hi[kDimWeightDelta] - (p[kDimWeightDelta] - r.lo[kDimWeightDelta]);
	// Fault ratios: uniform over the index, or close to the region's ends
	// (the smallest ratios sit next to 0).
	const int64_t flo = r.lo[kDimDeltaFaults], fhi = r.hi[kDimDeltaFaults];
	const double u = rng.uniform();
	const int64_t off = std::llround(std::fabs(rng.normal(0.0, 50.0)));
	if (u < 0.4)
		p[kDimDeltaFaults] = rng.between(flo, fhi);
	else if (u < 0.7)
		p[kDimDeltaFaults] = std::min(fhi, flo + off);
	else
		p[kDimDeltaFaults] = std::max(flo, fhi - off);
	// Near 0 from either side when the region spans it.
	if (flo < zero_ratio_ && zero_ratio_ < fhi && rng.bernoulli(0.3))
		p[kDimDeltaFaults] = std::clamp(zero_ratio_ + (rng.bernoulli(0.5) ? off : -off), flo, fhi);
	KernelState s = realize(r, p);
	s.can_migrate = r.label;
	return s;
}

}  // namespace kmlb
