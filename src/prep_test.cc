#include "prep.h"

#include <gtest/gtest.h>

#include "ceiling.h"
#include "dataset.h"
#include "exit_codes.h"
#include "fixed_features.h"
#include "generator.h"
#include "teacher.h"

namespace kmlb {
namespace {

TEST(Prep, AppendixA2Transforms)
{
	KernelState s;
	s.cpu_newly_idle = 1;
	s.src_nid = 0;
	s.dst_nid = 1;
	s.preferred_nid = 1;
	s.src_len = 5;
	s.src_preferred_len = 2;
	s.delta = 499999;
	s.src_load = 2500;
	s.dst_load = 1000;
	s.dst_len = 4;
	s.src_faults = 30;
	s.dst_faults = 10;
	s.total_faults = 80;
	s.nr_fails = 3;
	s.cache_nice_tries = 2;
	s.next_buddy = 1;
	derive_a1_columns(s);
	float f[21];
	extract_features(s, FeatureSet::kModern, f);
	const float expected[15] = {1, 1, 0, 0, 1, 0, 0, 1, 3, 2.5f, 1.0f, 4, -0.25f, 1, 1};
	for (int i = 0; i < 15; ++i)
		EXPECT_FLOAT_EQ(f[i], expected[i]) << feature_names(FeatureSet::kModern)[i];
	EXPECT_EQ(f[15], 0.0f);  // smt_domain
	EXPECT_EQ(f[16], 0.0f);  // active_lb
	EXPECT_EQ(f[17], 0.0f);  // numa_active: no fault statistics, not SD_NUMA
	// 1000*10/80 < 1000*30/80: 125 < 375, degrades
	EXPECT_EQ(f[18], -1.0f);

	s.delta = 500000;  // exactly the cost: not hot
	s.total_faults = 0;
	s.src_faults = s.dst_faults = 0;
	derive_a1_columns(s);
	extract_features(s, FeatureSet::kSeed, f);
	EXPECT_EQ(f[1], 0.0f);
	EXPECT_EQ(f[12], 0.0f);  // divisor 1 when there are no faults
}

TEST(Prep, FiltersRunningAndHardCheckFailures)
{
	KernelState ok;
	ok.cpu_idle = 1;
	ok.src_len = 2;
	ok.can_migrate = 1;
	derive_a1_columns(ok);
	KernelState running = ok, pinned = ok, delayed = ok;
	running.p_running = 1;
	pinned.dst_allowed = 0;
	delayed.sched_delayed = 1;
	delayed.migration_type = kMigrateTask;
	for (auto *s : {&running, &pinned, &delayed})
		derive_a1_columns(*s);
	RawTrace t;
	t.rows = {ok, running, pinned, delayed, ok};
	EXPECT_EQ(prep(t, FeatureSet::kSeed, KernelVersion::k6_18).rows, 2u);
	// Before 6.14 the kernel never refuses a delayed-dequeue task: on 6.12
	// (the 6.6 teacher) the heuristic decides it like any other row.
	EXPECT_EQ(prep(t, FeatureSet::kSeed, KernelVersion::k6_6).rows, 3u);
	EXPECT_EQ(prep(t, FeatureSet::kSeed, KernelVersion::k5_15).rows, 3u);
}

// The filter keeps exactly the rows whose decision the version's heuristic
// makes: the teacher's own verdict (decided_by_heuristic), on every version,
// over states that draw the newer columns (sched_delayed, ineligible_on_dst,
// blocked_on_mutex, current_donor) on every kernel. (Not 4.15: it has no
// per-CPU kthread test, which A2's test_aggressive includes.)
TEST(Prep, FilterKeepsWhatTheVersionsHeuristicDecides)
{
	for (KernelVersion v : {KernelVersion::k5_15, KernelVersion::k6_6, KernelVersion::k6_18}) {
		GeneratorConfig cfg = preset_config(Preset::kOverloaded);
		cfg.rows = 20000;
		cfg.kernel = KernelVersion::k6_18;  // draws the 6.12+ columns
		size_t newer = 0;
		for (const KernelState &s : generate_states(cfg).states) {
			if (s.p_running || s.active_lb)
				continue;  // running: filtered everywhere; active balance: forced
			newer += s.sched_delayed || s.ineligible_on_dst || s.blocked_on_mutex || s.current_donor;
			const Decision d = can_migrate_task(s, v);
			ASSERT_EQ(passes_prep_filter(s, v), decided_by_heuristic(d))
				<< canonical_name(v) << " reason " << reason_name(d.reason);
		}
		EXPECT_GT(newer, 100u);
	}
}

TEST(Prep, UnknownLabelOnAKeptRowIsBadData)
{
	KernelState s;
	s.cpu_idle = 1;
	s.src_len = 2;
	s.can_migrate = -1;
	derive_a1_columns(s);
	RawTrace t;
	t.file = "x.csv";
	t.rows = {s};
	try {
		prep(t, FeatureSet::kSeed, KernelVersion::k5_15);
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), ExitCode::kBadData);
		EXPECT_NE(std::string(e.what()).find("x.csv:2: field 'can_migrate'"), std::string::npos) << e.what();
	}
}

TEST(Prep, ModernFeaturesNeedTheFullSchema)
{
	RawTrace t;
	t.full_schema = false;
	EXPECT_THROW(prep(t, FeatureSet::kModern, KernelVersion::k6_6), Error);
}

// numa_weight_sign is the outcome of the kernel's score comparison: a score
// difference of one per mille moves it by a whole unit, in the float and the
// fixed-point features, and it decides the weight test of every version
// (ties: 4.19-6.13 migrate, 6.14+ fall through to task_hot()).
TEST(Prep, NumaWeightSignIsTheKernelsComparison)
{
	for (int grouped = 0; grouped < 2; ++grouped)
		for (int64_t diff : {-1, 0, 1}) {
			KernelState s;
			s.cpu_not_idle = 1;
			s.src_cpu = 0;
			s.dst_cpu = 14;
			s.src_nid = 0;
			s.dst_nid = 1;
			s.preferred_nid = kNumaNoNode;
			s.sd_numa = 1;
			s.cache_nice_tries = 2;
			s.numa_balancing = 1;
			s.has_numa_faults = 1;
			s.migration_cost_ns = 500000;
			s.delta = 0;  // hot: a tie falls through to task_hot() on 6.14+
			s.src_len = 3;
			s.src_preferred_len = 3;
			// Scores 1000 * faults / total: 500 against 500 + diff (per mille).
			s.total_faults = 1000;
			s.src_faults = 500;
			s.dst_faults = 500 + diff;
			if (grouped) {
				// The group's scores decide; the task's own say the opposite.
				s.numa_group = 1;
				s.dst_faults = 500 - diff;
				s.group_total_faults = 3000;
				s.group_src_faults = 1500;
				s.group_dst_faults = 1500 + 3 * diff;
			}
			derive_a1_columns(s);
			float f[21];
			extract_features(s, FeatureSet::kModern, f);
			EXPECT_EQ(f[18], static_cast<float>(diff)) << diff;
			int32_t x[21];
			extract_features_fixed(s, FeatureSet::kModern, 15, x);
			EXPECT_EQ(x[18], static_cast<int32_t>(diff) * (1 << 15)) << diff;
			const Decision d515 = can_migrate_task(s, KernelVersion::k5_15);
			EXPECT_EQ(d515.migrate, diff >= 0) << diff;
			EXPECT_EQ(d515.reason, diff < 0 ? Reason::kNumaWeightDegrades : Reason::kNumaWeightImproves);
			const Decision d618 = can_migrate_task(s, KernelVersion::k6_18);
			EXPECT_EQ(d618.migrate, diff > 0) << diff;
		}
}

// With the modern features, every load preset's label is a function of the
// features: no two rows with the same features carry different labels.
TEST(Prep, ModernFeaturesDetermineTheLabel)
{
	for (Preset p : {Preset::kIdle, Preset::kBalanced, Preset::kOverloaded})
		for (KernelVersion v : {KernelVersion::k5_15, KernelVersion::k6_6, KernelVersion::k6_18}) {
			GeneratorConfig cfg = preset_config(p);
			cfg.rows = 20000;
			cfg.kernel = v;
			RawTrace t;
			t.rows = generate_states(cfg).states;
			const Dataset d = prep(t, FeatureSet::kModern, v);
			EXPECT_EQ(label_ceiling(d).conflicting_rows, 0u) << preset_name(p) << " " << canonical_name(v);
		}
}

TEST(Dataset, CsvRoundTripIsExactAndValidated)
{
	GeneratorConfig cfg = preset_config(Preset::kSeed);
	cfg.rows = 3000;
	RawTrace t;
	t.rows = generate_states(cfg).states;
	const Dataset d = prep(t, FeatureSet::kSeed, KernelVersion::k5_15);
	const std::string csv = d.to_csv();
	const Dataset back = parse_features_csv(csv, "f.csv");
	EXPECT_EQ(back.x, d.x);
	EXPECT_EQ(back.y, d.y);
	EXPECT_EQ(back.to_csv(), csv);

	const std::string header = csv.substr(0, csv.find('\n') + 1);
	auto code = [](const std::string &text) {
		try {
			parse_features_csv(text, "f.csv");
		} catch (const Error &e) {
			return e.code();
		}
		return ExitCode::kOk;
	};
	EXPECT_EQ(code(header + "1,1,0,1,0,0,0,0,3,9.8,1.4,1,0.1,1,1,1\n"), ExitCode::kOk);
	EXPECT_EQ(code(header + "2,1,0,1,0,0,0,0,3,9.8,1.4,1,0.1,1,1,1\n"), ExitCode::kBadData);  // flag
	EXPECT_EQ(code(header + "1,1,0,1,0,0,0,0,3,nan,1.4,1,0.1,1,1,1\n"), ExitCode::kBadData);
	EXPECT_EQ(code(header + "1,1,0,1,0,0,0,0,3,9.8,1.4,1,0.1,1,1,2\n"), ExitCode::kBadData);  // label
	EXPECT_EQ(code(header + "1,1,0,1,0,0,0,0,3,9.8,1.4,1,0.1,1,1\n"), ExitCode::kBadData);    // short
	EXPECT_EQ(code("a,b\n1,2\n"), ExitCode::kBadData);
}

}  // namespace
}  // namespace kmlb
