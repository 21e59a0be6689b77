// Every branch of every teacher version, from one base state: a cold task
// that passes the hard checks, across NUMA nodes, busy destination.
#include "teacher.h"

#include <cctype>
#include <functional>
#include <gtest/gtest.h>
#include <set>
#include <string>

#include "raw_schema.h"

namespace kmlb {
namespace {

KernelState base()
{
	KernelState s;
	s.cpu_not_idle = 1;
	s.src_cpu = 0;
	s.dst_cpu = 14;
	s.src_nid = 0;
	s.dst_nid = 1;
	s.sd_numa = 1;
	s.cache_nice_tries = 2;
	s.nr_fails = 0;
	s.src_len = 3;
	s.src_preferred_len = 1;
	s.dst_len = 2;
	s.delta = 600000;  // cold: >= 500000
	s.has_numa_faults = 0;  // NUMA test off unless a case turns it on
	s.preferred_nid = kNumaNoNode;
	derive_a1_columns(s);
	return s;
}

using Mutation = std::function<void(KernelState &)>;

struct Case {
	const char *name;
	Mutation mutate;
	Decision v4_15, v5_15, v6_6, v6_18;
};

void numa_on(KernelState &s)
{
	s.has_numa_faults = 1;
	s.src_faults = 300;
	s.dst_faults = 100;
	s.total_faults = 400;
}

void hot(KernelState &s) { s.delta = 100; }

constexpr Decision kYes(Reason r) { return {true, r}; }
constexpr Decision kNo(Reason r) { return {false, r}; }

using R = Reason;

// clang-format off
const Case kCases[] = {
	{"cold task migrates", [](KernelState &) {},
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	{"hot task stays", hot,
	 kNo(R::kCacheHot), kNo(R::kCacheHot), kNo(R::kCacheHot), kNo(R::kCacheHot)},
	{"hot task moves after too many failures", [](KernelState &s) { hot(s); s.nr_fails = 3; },
	 kYes(R::kTooManyFailures), kYes(R::kTooManyFailures), kYes(R::kTooManyFailures), kYes(R::kTooManyFailures)},
	{"nr_fails equal to cache_nice_tries is not enough", [](KernelState &s) { hot(s); s.nr_fails = 2; },
	 kNo(R::kCacheHot), kNo(R::kCacheHot), kNo(R::kCacheHot), kNo(R::kCacheHot)},
	{"delta exactly the migration cost is cold", [](KernelState &s) { s.delta = 500000; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	// --- hard checks ---
	{"throttled", [](KernelState &s) { s.throttled = 1; },
	 kNo(R::kThrottled), kNo(R::kThrottled), kNo(R::kThrottled), kNo(R::kThrottled)},
	{"per-CPU kthread (no such test in 4.15)", [](KernelState &s) { s.per_cpu_kthread = 1; },
	 kYes(R::kCacheCold), kNo(R::kPerCpuKthread), kNo(R::kPerCpuKthread), kNo(R::kPerCpuKthread)},
	{"affinity", [](KernelState &s) { s.dst_allowed = 0; },
	 kNo(R::kAffinity), kNo(R::kAffinity), kNo(R::kAffinity), kNo(R::kAffinity)},
	{"running", [](KernelState &s) { s.p_running = 1; },
	 kNo(R::kRunning), kNo(R::kRunning), kNo(R::kRunning), kNo(R::kRunning)},
	{"throttled is tested before affinity", [](KernelState &s) { s.throttled = 1; s.dst_allowed = 0; },
	 kNo(R::kThrottled), kNo(R::kThrottled), kNo(R::kThrottled), kNo(R::kThrottled)},
	{"kthread is tested before affinity", [](KernelState &s) { s.per_cpu_kthread = 1; s.dst_allowed = 0; },
	 kNo(R::kAffinity), kNo(R::kPerCpuKthread), kNo(R::kPerCpuKthread), kNo(R::kPerCpuKthread)},
	{"affinity is tested before running", [](KernelState &s) { s.dst_allowed = 0; s.p_running = 1; },
	 kNo(R::kAffinity), kNo(R::kAffinity), kNo(R::kAffinity), kNo(R::kAffinity)},
	{"delayed dequeue, migrating util (6.14+)", [](KernelState &s) { s.sched_delayed = 1; s.migration_type = kMigrateUtil; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kNo(R::kDelayedDequeue)},
	{"delayed dequeue while migrating load is allowed", [](KernelState &s) { s.sched_delayed = 1; s.migration_type = kMigrateLoad; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	{"delayed dequeue is tested before throttling", [](KernelState &s) { s.sched_delayed = 1; s.migration_type = kMigrateTask; s.throttled = 1; },
	 kNo(R::kThrottled), kNo(R::kThrottled), kNo(R::kThrottled), kNo(R::kDelayedDequeue)},
	{"ineligible with no failed balance (6.14+)", [](KernelState &s) { s.ineligible_on_dst = 1; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kNo(R::kIneligible)},
	{"ineligible after a failed balance is allowed", [](KernelState &s) { s.ineligible_on_dst = 1; s.nr_fails = 1; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	{"blocked on a mutex (6.18)", [](KernelState &s) { s.blocked_on_mutex = 1; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kNo(R::kBlockedOnMutex)},
	{"donor of the running task counts as running (6.18)", [](KernelState &s) { s.current_donor = 1; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kNo(R::kRunning)},
	// --- active balance ---
	{"active balance migrates a hot task (5.15+)", [](KernelState &s) { hot(s); s.active_lb = 1; },
	 kNo(R::kCacheHot), kYes(R::kActiveBalance), kYes(R::kActiveBalance), kYes(R::kActiveBalance)},
	{"active balance does not override hard checks", [](KernelState &s) { s.active_lb = 1; s.dst_allowed = 0; },
	 kNo(R::kAffinity), kNo(R::kAffinity), kNo(R::kAffinity), kNo(R::kAffinity)},
	// --- migrate_degrades_locality ---
	{"NUMA: leaving the preferred node with non-preferred tasks waiting",
	 [](KernelState &s) { numa_on(s); s.preferred_nid = 0; s.src_preferred_len = 2; },
	 kNo(R::kNumaLeavesPreferred), kNo(R::kNumaLeavesPreferred), kNo(R::kNumaLeavesPreferred), kNo(R::kNumaLeavesPreferred)},
	{"NUMA: leaving the preferred node, all tasks on theirs: task_hot decides",
	 [](KernelState &s) { numa_on(s); s.preferred_nid = 0; s.src_preferred_len = 3; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	{"NUMA: to the preferred node, even when hot",
	 [](KernelState &s) { numa_on(s); hot(s); s.preferred_nid = 1; },
	 kYes(R::kNumaToPreferred), kYes(R::kNumaToPreferred), kYes(R::kNumaToPreferred), kYes(R::kNumaToPreferred)},
	{"NUMA: lower weight at dst degrades",
	 [](KernelState &s) { numa_on(s); },
	 kNo(R::kNumaWeightDegrades), kNo(R::kNumaWeightDegrades), kNo(R::kNumaWeightDegrades), kNo(R::kNumaWeightDegrades)},
	{"NUMA: higher weight at dst improves, even when hot",
	 [](KernelState &s) { numa_on(s); hot(s); s.src_faults = 100; s.dst_faults = 300; },
	 kYes(R::kNumaWeightImproves), kYes(R::kNumaWeightImproves), kYes(R::kNumaWeightImproves), kYes(R::kNumaWeightImproves)},
	{"NUMA: equal weights improve, ties fall through to task_hot from 6.14",
	 [](KernelState &s) { numa_on(s); hot(s); s.src_faults = 200; s.dst_faults = 200; },
	 kYes(R::kNumaWeightImproves), kYes(R::kNumaWeightImproves), kYes(R::kNumaWeightImproves), kNo(R::kCacheHot)},
	{"NUMA: integer division makes 1 and 2 faults of 3000 equal (4.19+), not in 4.15",
	 [](KernelState &s) { numa_on(s); hot(s); s.src_faults = 2; s.dst_faults = 1; s.total_faults = 3000; },
	 kNo(R::kNumaWeightDegrades), kYes(R::kNumaWeightImproves), kYes(R::kNumaWeightImproves), kNo(R::kCacheHot)},
	{"NUMA: a NUMA group's faults decide, not the task's",
	 [](KernelState &s) { numa_on(s); s.numa_group = 1; s.group_src_faults = 100; s.group_dst_faults = 900; s.group_total_faults = 1000; },
	 kYes(R::kNumaWeightImproves), kYes(R::kNumaWeightImproves), kYes(R::kNumaWeightImproves), kYes(R::kNumaWeightImproves)},
	{"NUMA: idle destination skips the weights (4.19+: CPU_IDLE only)",
	 [](KernelState &s) { numa_on(s); s.cpu_not_idle = 0; s.cpu_idle = 1; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	{"NUMA: newly idle destination skips the weights only in 4.15",
	 [](KernelState &s) { numa_on(s); s.cpu_not_idle = 0; s.cpu_newly_idle = 1; },
	 kYes(R::kCacheCold), kNo(R::kNumaWeightDegrades), kNo(R::kNumaWeightDegrades), kNo(R::kNumaWeightDegrades)},
	{"NUMA: same node is not affected",
	 [](KernelState &s) { numa_on(s); s.dst_nid = 0; s.dst_cpu = 1; s.sd_numa = 0; s.dst_faults = 300; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	{"NUMA: balancing switched off",
	 [](KernelState &s) { numa_on(s); s.numa_balancing = 0; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	{"NUMA: domain without SD_NUMA",
	 [](KernelState &s) { numa_on(s); s.sd_numa = 0; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	{"NUMA: degrading is overridden by too many failures",
	 [](KernelState &s) { numa_on(s); s.nr_fails = 5; },
	 kYes(R::kTooManyFailures), kYes(R::kTooManyFailures), kYes(R::kTooManyFailures), kYes(R::kTooManyFailures)},
	// --- task_hot ---
	{"not a CFS task is never hot", [](KernelState &s) { hot(s); s.fair_class = 0; },
	 kYes(R::kNotFairClass), kYes(R::kNotFairClass), kYes(R::kNotFairClass), kYes(R::kNotFairClass)},
	{"SCHED_IDLE task is never hot", [](KernelState &s) { hot(s); s.idle_policy = 1; },
	 kYes(R::kIdlePolicy), kYes(R::kIdlePolicy), kYes(R::kIdlePolicy), kYes(R::kIdlePolicy)},
	{"SMT siblings share cache (5.10+)", [](KernelState &s) { hot(s); s.sd_share_cpucapacity = 1; },
	 kNo(R::kCacheHot), kYes(R::kSmtSiblings), kYes(R::kSmtSiblings), kYes(R::kSmtSiblings)},
	{"next buddy with a busy destination is hot", [](KernelState &s) { s.next_buddy = 1; },
	 kNo(R::kBuddyHot), kNo(R::kBuddyHot), kNo(R::kBuddyHot), kNo(R::kBuddyHot)},
	{"last buddy is hot until 6.6", [](KernelState &s) { s.last_buddy = 1; },
	 kNo(R::kBuddyHot), kNo(R::kBuddyHot), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	{"buddy with an empty destination is not hot", [](KernelState &s) { s.next_buddy = 1; s.dst_len = 0; },
	 kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold), kYes(R::kCacheCold)},
	{"SMT test comes before the buddy test", [](KernelState &s) { s.next_buddy = 1; s.sd_share_cpucapacity = 1; },
	 kNo(R::kBuddyHot), kYes(R::kSmtSiblings), kYes(R::kSmtSiblings), kYes(R::kSmtSiblings)},
	{"migration cost -1: always hot", [](KernelState &s) { s.migration_cost_ns = -1; },
	 kNo(R::kAlwaysHot), kNo(R::kAlwaysHot), kNo(R::kAlwaysHot), kNo(R::kAlwaysHot)},
	{"migration cost 0: never hot", [](KernelState &s) { hot(s); s.migration_cost_ns = 0; },
	 kYes(R::kNeverHot), kYes(R::kNeverHot), kYes(R::kNeverHot), kYes(R::kNeverHot)},
	{"cookie mismatch is hot (5.15+)", [](KernelState &s) { s.cookie_match = 0; },
	 kYes(R::kCacheCold), kNo(R::kCookieMismatch), kNo(R::kCookieMismatch), kNo(R::kCookieMismatch)},
	{"cookie test comes after migration cost -1 and before cost 0", [](KernelState &s) { s.cookie_match = 0; s.migration_cost_ns = 0; },
	 kYes(R::kNeverHot), kNo(R::kCookieMismatch), kNo(R::kCookieMismatch), kNo(R::kCookieMismatch)},
};
// clang-format on

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

class TeacherBranches : public ::testing::TestWithParam<Case> {};

TEST_P(TeacherBranches, EveryVersion)
{
	const Case &c = GetParam();
	KernelState s = base();
	c.mutate(s);
	derive_a1_columns(s);
	EXPECT_EQ(can_migrate_task_v4_15(s), c.v4_15) << c.name << " (4.15) got " << reason_name(can_migrate_task_v4_15(s).reason);
	EXPECT_EQ(can_migrate_task_v5_15(s), c.v5_15) << c.name << " (5.15) got " << reason_name(can_migrate_task_v5_15(s).reason);
	EXPECT_EQ(can_migrate_task_v6_6(s), c.v6_6) << c.name << " (6.6) got " << reason_name(can_migrate_task_v6_6(s).reason);
	EXPECT_EQ(can_migrate_task_v6_18(s), c.v6_18) << c.name << " (6.18) got " << reason_name(can_migrate_task_v6_18(s).reason);
}

// Test names from the case descriptions: "hot task stays" -> hot_task_stays.
std::string case_name(const ::testing::TestParamInfo<Case> &info)
{
	std::string name;
	for (const char *c = info.param.name; *c; ++c)
		name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
	return name + "_" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(AllCases, TeacherBranches, ::testing::ValuesIn(kCases), case_name);

// Every reason a version can produce appears in some case above.
TEST(TeacherBranches, CasesCoverEveryReasonOfEveryVersion)
{
	const std::set<Reason> not_in_4_15 = {R::kPerCpuKthread, R::kActiveBalance, R::kSmtSiblings,
					      R::kCookieMismatch, R::kDelayedDequeue, R::kIneligible,
					      R::kBlockedOnMutex};
	const std::set<Reason> only_6_18 = {R::kDelayedDequeue, R::kIneligible, R::kBlockedOnMutex};
	for (KernelVersion v : {KernelVersion::k4_15, KernelVersion::k5_15, KernelVersion::k6_6, KernelVersion::k6_18}) {
		std::set<Reason> seen;
		for (const Case &c : kCases) {
			KernelState s = base();
			c.mutate(s);
			derive_a1_columns(s);
			seen.insert(can_migrate_task(s, v).reason);
		}
		for (int r = 0; r < kReasonCount; ++r) {
			const Reason reason = static_cast<Reason>(r);
			const bool possible = !(v == KernelVersion::k4_15 && not_in_4_15.count(reason)) &&
					      !(v != KernelVersion::k6_18 && only_6_18.count(reason));
			EXPECT_EQ(seen.count(reason) == 1, possible)
				<< canonical_name(v) << ": " << reason_name(reason);
		}
	}
}

// Real decisions recorded by the collector in the QEMU guest (vm/collect.sh,
// 2socket and 4node layouts, loads 50/100/200 %): up to three rows per
// deciding branch and recorded value, plus rows on which the neighbouring
// version's teacher decides differently, so that the file tells the two
// versions apart. The teacher must reproduce every recorded return value.
struct RealSample {
	const char *file;
	KernelVersion teacher, other;
	std::set<Reason> must_cover;
};

class TeacherRealDecisions : public testing::TestWithParam<RealSample> {};

TEST_P(TeacherRealDecisions, ReproducesEveryRecordedReturnValue)
{
	const RealSample &p = GetParam();
	const RawTrace t = read_raw_csv(std::string(KMLB_TEST_DATA_DIR) + "/" + p.file);
	ASSERT_GE(t.rows.size(), 20u);
	std::set<Reason> seen;
	size_t other_differs = 0;
	for (size_t i = 0; i < t.rows.size(); ++i) {
		const KernelState &s = t.rows[i];
		ASSERT_TRUE(s.can_migrate == 0 || s.can_migrate == 1);
		const Decision d = can_migrate_task(s, p.teacher);
		EXPECT_EQ(d.migrate, s.can_migrate == 1)
			<< p.file << " data row " << i + 1 << ": teacher " << canonical_name(p.teacher) << " says "
			<< d.migrate << " (" << reason_name(d.reason) << "), the kernel returned " << s.can_migrate;
		seen.insert(d.reason);
		other_differs += can_migrate_task(s, p.other).migrate != (s.can_migrate == 1);
	}
	for (Reason r : p.must_cover)
		EXPECT_EQ(seen.count(r), 1u) << p.file << ": no row decided by " << reason_name(r);
	// The sample discriminates: the neighbouring version gets some rows wrong.
	EXPECT_GE(other_differs, 5u) << p.file << ": teacher " << canonical_name(p.other)
				     << " agrees too well for the sample to tell the versions apart";
}

INSTANTIATE_TEST_SUITE_P(
	Debian, TeacherRealDecisions,
	testing::Values(
		// 6.12.95+deb12 (bookworm-backports): 6.6's decision; sched_delayed
		// exists but is not tested, so 6.18's teacher refuses rows 6.12 moved.
		RealSample{"real_6.12.95.csv", KernelVersion::k6_6, KernelVersion::k6_18,
			   {R::kSmtSiblings, R::kCacheCold, R::kCacheHot, R::kRunning, R::kPerCpuKthread,
			    R::kNumaToPreferred, R::kAffinity}},
		// 7.3.4+deb13 (trixie-backports): 6.18's decision, with the
		// eligibility refusal deciding many rows (6.6's teacher migrates them).
		RealSample{"real_7.3.4.csv", KernelVersion::k6_18, KernelVersion::k6_6,
			   {R::kIneligible, R::kDelayedDequeue, R::kSmtSiblings, R::kCacheCold, R::kCacheHot,
			    R::kRunning, R::kPerCpuKthread, R::kAffinity}}),
	[](const testing::TestParamInfo<RealSample> &i) {
		std::string n = i.param.file;
		for (char &c : n)
			if (!std::isalnum(static_cast<unsigned char>(c)))
				c = '_';
		return n;
	});

TEST(TeacherVersions, AliasesAndUnknownNames)
{
	EXPECT_EQ(parse_kernel_version("6.1"), KernelVersion::k5_15);
	EXPECT_EQ(parse_kernel_version("6.12"), KernelVersion::k6_6);
	EXPECT_EQ(parse_kernel_version("7.1"), KernelVersion::k6_18);
	EXPECT_EQ(parse_kernel_version("7.3"), KernelVersion::k6_18);
	EXPECT_EQ(parse_kernel_version("7.x"), KernelVersion::k6_18);
	EXPECT_THROW(parse_kernel_version("5.10"), std::exception);
	EXPECT_THROW(parse_kernel_version(""), std::exception);
}

TEST(TeacherVersions, HardChecksAreNeverHeuristic)
{
	EXPECT_FALSE(decided_by_heuristic(kNo(R::kAffinity)));
	EXPECT_FALSE(decided_by_heuristic(kYes(R::kActiveBalance)));
	EXPECT_TRUE(decided_by_heuristic(kNo(R::kCacheHot)));
	EXPECT_TRUE(decided_by_heuristic(kYes(R::kTooManyFailures)));
}

}  // namespace
}  // namespace kmlb
