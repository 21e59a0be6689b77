#include "generator.h"

#include <cstring>
#include <gtest/gtest.h>
#include <set>

#include "prep.h"
#include "raw_schema.h"

namespace kmlb {
namespace {

TEST(Generator, SeedPresetMatchesTheReport)
{
	const GeneratorConfig cfg = preset_config(Preset::kSeed);
	EXPECT_EQ(cfg.rows, 86400u);
	EXPECT_EQ(cfg.kernel, KernelVersion::k5_15);
	const auto gen = generate_states(cfg);
	ASSERT_EQ(gen.states.size(), 86400u);
	size_t class0 = 0;
	for (size_t i = 0; i < gen.states.size(); ++i) {
		const KernelState &s = gen.states[i];
		// Every row passed the hard checks; no active balance; NUMA on; the
		// task has faults; no SMT domain; the default migration cost.
		ASSERT_TRUE(passes_prep_filter(s, cfg.kernel));
		ASSERT_FALSE(s.active_lb);
		ASSERT_TRUE(s.numa_balancing && s.has_numa_faults);
		ASSERT_FALSE(s.sd_share_cpucapacity);
		ASSERT_EQ(s.migration_cost_ns, 500000);
		ASSERT_LE(s.src_len - 2, 55);
		ASSERT_LE(s.dst_len, 55);
		ASSERT_LE(std::llabs(s.delta_faults), 10);
		// Raw buddy flag, as the reference collector recorded it.
		ASSERT_EQ(s.buddy_hot, s.next_buddy || s.last_buddy);
		class0 += s.can_migrate == 0;
	}
	const double share0 = static_cast<double>(class0) / gen.states.size();
	EXPECT_NEAR(share0, 0.18, 0.01);
}

TEST(Generator, StatesArePhysicallyConsistent)
{
	for (Preset p : {Preset::kSeed, Preset::kIdle, Preset::kBalanced, Preset::kOverloaded})
		for (int nodes : {2, 4}) {
			if (p == Preset::kSeed && nodes != 2)
				continue;
			GeneratorConfig cfg = preset_config(p);
			cfg.rows = 20000;
			cfg.nodes = nodes;
			cfg.kernel = KernelVersion::k6_18;
			for (const KernelState &s : generate_states(cfg).states) {
				ASSERT_EQ(raw_consistency_error(s, true), "") << preset_name(p);
				ASSERT_GE(s.src_len, 2);
				ASSERT_NE(s.src_cpu, s.dst_cpu);
				ASSERT_LT(s.src_nid, nodes);
				ASSERT_LT(s.dst_nid, nodes);
				ASSERT_FALSE(s.same_node && s.prefer_src != s.prefer_dst);
				ASSERT_FALSE(!s.same_node && s.prefer_src && s.prefer_dst);
				// p is on src: unless it prefers src, it is not preferred there.
				if (!s.prefer_src)
					ASSERT_LT(s.src_preferred_len, s.src_len);
				else
					ASSERT_GE(s.src_preferred_len, 1);
				if (s.has_numa_faults) {
					if (s.same_node)
						ASSERT_EQ(s.src_faults, s.dst_faults);
					else
						ASSERT_LE(s.src_faults + s.dst_faults, s.total_faults);
					if (s.numa_group) {
						ASSERT_GE(s.group_src_faults, s.src_faults);
						ASSERT_LE(s.group_src_faults + (s.same_node ? 0 : s.group_dst_faults),
							  s.group_total_faults);
					}
				}
				// Active balance runs with env->idle == CPU_IDLE.
				if (s.active_lb)
					ASSERT_TRUE(s.cpu_idle);
				// Domain flags match where the CPUs are.
				ASSERT_EQ(s.sd_numa, !s.same_node);
				if (p != Preset::kSeed && s.idle() == IdleType::kNewlyIdle)
					ASSERT_EQ(s.dst_len, 0);
				if (p != Preset::kSeed && s.idle() == IdleType::kNotIdle)
					ASSERT_GE(s.dst_len, 1);
			}
		}
}

TEST(Generator, SameSeedSameStatesOtherSeedOtherStates)
{
	GeneratorConfig cfg = preset_config(Preset::kBalanced);
	cfg.rows = 5000;
	const auto a = generate_states(cfg), b = generate_states(cfg);
	cfg.seed = 2;
	const auto c = generate_states(cfg);
	ASSERT_EQ(a.states.size(), b.states.size());
	EXPECT_EQ(std::memcmp(a.states.data(), b.states.data(), a.states.size() * sizeof(KernelState)), 0);
	EXPECT_NE(std::memcmp(a.states.data(), c.states.data(), a.states.size() * sizeof(KernelState)), 0);
}

// Every branch of each version is reachable from the generator (with the
// run-wide settings that some branches need).
TEST(Generator, EveryTeacherBranchIsReachable)
{
	for (KernelVersion v : {KernelVersion::k4_15, KernelVersion::k5_15, KernelVersion::k6_6, KernelVersion::k6_18}) {
		std::set<Reason> seen;
		for (Preset p : {Preset::kSeed, Preset::kIdle, Preset::kBalanced, Preset::kOverloaded})
			for (int64_t cost : {int64_t{500000}, int64_t{0}, int64_t{-1}}) {
				if (p == Preset::kSeed && cost != 500000)
					continue;
				GeneratorConfig cfg = preset_config(p);
				cfg.rows = 30000;
				cfg.kernel = v;
				cfg.migration_cost_ns = cost;
				for (const Decision &d : generate_states(cfg).decisions)
					seen.insert(d.reason);
			}
		std::set<Reason> expected;
		for (int r = 0; r < kReasonCount; ++r)
			expected.insert(static_cast<Reason>(r));
		// Defensive branch: detach_tasks() only offers CFS tasks.
		expected.erase(Reason::kNotFairClass);
		if (v == KernelVersion::k4_15)
			for (Reason r : {Reason::kPerCpuKthread, Reason::kActiveBalance, Reason::kSmtSiblings,
					 Reason::kCookieMismatch})
				expected.erase(r);
		if (v != KernelVersion::k6_18)
			for (Reason r : {Reason::kDelayedDequeue, Reason::kIneligible, Reason::kBlockedOnMutex})
				expected.erase(r);
		for (Reason r : expected)
			EXPECT_TRUE(seen.count(r)) << canonical_name(v) << ": " << reason_name(r);
	}
}

TEST(Generator, LoadLevelsShiftIdleTypesAndQueueLengths)
{
	auto stats = [](Preset p) {
		GeneratorConfig cfg = preset_config(p);
		cfg.rows = 20000;
		double not_idle = 0, src_len = 0;
		for (const auto &s : generate_states(cfg).states) {
			not_idle += s.cpu_not_idle;
			src_len += s.src_len;
		}
		return std::pair(not_idle / cfg.rows, src_len / cfg.rows);
	};
	const auto idle = stats(Preset::kIdle), bal = stats(Preset::kBalanced), over = stats(Preset::kOverloaded);
	EXPECT_LT(idle.first, bal.first);
	EXPECT_LT(bal.first, over.first);
	EXPECT_LT(idle.second, bal.second);
	EXPECT_LT(bal.second, over.second);
}

TEST(Generator, RejectsImpossibleTopologies)
{
	GeneratorConfig cfg = preset_config(Preset::kIdle);
	cfg.nodes = 5;
	EXPECT_THROW(generate_states(cfg), std::exception);
	cfg = preset_config(Preset::kSeed);
	cfg.nodes = 4;
	EXPECT_THROW(generate_states(cfg), std::exception);
}

}  // namespace
}  // namespace kmlb
