#include "fixed_features.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "generator.h"
#include "prep.h"

namespace kmlb {
namespace {

// The float prep rounds twice (the A2 transform in double, then to float,
// then to fixed point); the integer path rounds once. One unit in the last
// place is the named tolerance between them, plus what float32 itself loses
// once a value needs more than its 24 significant bits (loads at F > 17).
constexpr int32_t kFloatPrepToleranceLsb = 1;
int64_t tolerance(int32_t fixed_value) { return kFloatPrepToleranceLsb + std::abs(int64_t{fixed_value}) / (1 << 23); }

std::vector<KernelState> kept_states(Preset p, size_t rows)
{
	GeneratorConfig c = preset_config(p);
	c.rows = rows;
	std::vector<KernelState> out;
	for (const KernelState &s : generate_states(c).states)
		if (passes_prep_filter(s, c.kernel))
			out.push_back(s);
	return out;
}

TEST(FixedFeatures, RangesFollowTheFeatureSets)
{
	for (FeatureSet set : {FeatureSet::kSeed, FeatureSet::kModern}) {
		const auto ranges = feature_ranges(set);
		ASSERT_EQ(ranges.size(), feature_count(set));
		for (size_t i = 0; i < ranges.size(); ++i) {
			EXPECT_EQ(ranges[i].name, feature_names(set)[i]);
			EXPECT_EQ(ranges[i].binary, feature_is_binary(i)) << ranges[i].name;
			EXPECT_LT(ranges[i].min, ranges[i].max);
			// Every range fits an int32 at the largest frac bits, with room.
			EXPECT_LT(std::abs(ranges[i].max) << kMaxInputFracBits, int64_t{1} << 30);
			EXPECT_LT(std::abs(ranges[i].min) << kMaxInputFracBits, int64_t{1} << 30);
		}
	}
}

// Generated states of every preset (the load presets reach every modern
// branch: SMT, active balance, NUMA groups): within one LSB of round(float
// prep * 2^F), and mostly exact.
TEST(FixedFeatures, AgreeWithTheFloatPrepWithinOneLsb)
{
	for (Preset p : {Preset::kSeed, Preset::kIdle, Preset::kBalanced, Preset::kOverloaded}) {
		const std::vector<KernelState> states = kept_states(p, 20000);
		ASSERT_FALSE(states.empty());
		for (int f : {1, 4, 8, 12, 16, kMaxInputFracBits}) {
			size_t off_by_one = 0, values = 0;
			for (const KernelState &s : states) {
				float x[21];
				int32_t want[21], got[21];
				extract_features(s, FeatureSet::kModern, x);
				float_to_fixed_features(FeatureSet::kModern, f, x, want);
				extract_features_fixed(s, FeatureSet::kModern, f, got);
				for (int i = 0; i < 21; ++i) {
					ASSERT_LE(std::abs(int64_t{got[i]} - want[i]), tolerance(want[i]))
						<< "preset " << preset_name(p) << " F=" << f << " feature " << i;
					off_by_one += got[i] != want[i];
					++values;
				}
			}
			if (f <= 16) {  // where float32 still holds every value to the LSB
				EXPECT_LT(off_by_one * 1000, values) << "preset " << preset_name(p) << " F=" << f;
			}
		}
	}
}

TEST(FixedFeatures, SeedSetIsThePrefixOfModern)
{
	for (const KernelState &s : kept_states(Preset::kBalanced, 2000)) {
		int32_t seed[15], modern[21];
		extract_features_fixed(s, FeatureSet::kSeed, 12, seed);
		extract_features_fixed(s, FeatureSet::kModern, 12, modern);
		for (int i = 0; i < 15; ++i)
			ASSERT_EQ(seed[i], modern[i]);
	}
}

TEST(FixedFeatures, SaturatesToTheDocumentedRanges)
{
	constexpr int f = 10;
	constexpr int32_t one = 1 << f;
	constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
	constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
	KernelState s;
	s.src_len = kMax;
	s.dst_len = 5000;
	s.src_load = kMax;
	s.dst_load = -5;
	s.delta_faults = kMin;
	s.total_faults = 3;
	s.cpu_idle = 7;  // a nonzero flag is 1
	int32_t x[21];
	extract_features_fixed(s, FeatureSet::kModern, f, x);
	EXPECT_EQ(x[2], one);
	EXPECT_EQ(x[8], (kMaxNrRunning - 2) * one);
	EXPECT_EQ(x[11], kMaxNrRunning * one);
	EXPECT_EQ(x[9], (kMaxLoadAvg / 1000) * one);
	EXPECT_EQ(x[10], 0);
	EXPECT_EQ(x[12], -one);

	s.src_len = -4;
	s.delta_faults = 7;
	s.total_faults = 0;  // divisor 1, as A2: 7, saturated to 1
	extract_features_fixed(s, FeatureSet::kSeed, f, x);
	EXPECT_EQ(x[8], -2 * one);
	EXPECT_EQ(x[12], one);

	// Counts beyond 2^(62 - F) lose low bits but do not overflow.
	s.delta_faults = kMax / 3;
	s.total_faults = kMax;
	extract_features_fixed(s, FeatureSet::kSeed, f, x);
	EXPECT_NEAR(x[12], one / 3.0, 1.0);

	// Faults above the total (invalid, but representable): weights above
	// 1000, the difference saturates.
	KernelState n;
	n.numa_group = 0;
	n.total_faults = 10;
	n.src_faults = 0;
	n.dst_faults = 40;
	extract_features_fixed(n, FeatureSet::kModern, f, x);
	EXPECT_EQ(x[18], one);
}

TEST(FixedFeatures, RoundsHalvesAwayFromZero)
{
	KernelState s;
	s.total_faults = 8;
	s.delta_faults = 1;  // 1/8 at F = 2 is 0.5 LSB
	int32_t x[15];
	extract_features_fixed(s, FeatureSet::kSeed, 2, x);
	EXPECT_EQ(x[12], 1);
	s.delta_faults = -1;
	extract_features_fixed(s, FeatureSet::kSeed, 2, x);
	EXPECT_EQ(x[12], -1);
	s.src_load = 1500;  // 1.5 at F = 0 -> 2
	extract_features_fixed(s, FeatureSet::kSeed, 0, x);
	EXPECT_EQ(x[9], 2);
	const float v[15] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.125f, 0, 0};
	float_to_fixed_features(FeatureSet::kSeed, 2, v, x);
	EXPECT_EQ(x[12], -1);
}

TEST(FixedFeatures, SaturateFixedInputs)
{
	int32_t x[15] = {5, -3, 0, 1 << 12, 0, 0, 0, 0, INT32_MAX, INT32_MIN, 17, -9, INT32_MAX, 0, 1};
	saturate_fixed_features(FeatureSet::kSeed, 12, x);
	EXPECT_EQ(x[0], 1 << 12);
	EXPECT_EQ(x[1], 1 << 12);
	EXPECT_EQ(x[2], 0);
	EXPECT_EQ(x[3], 1 << 12);
	EXPECT_EQ(x[8], 125 << 12);
	EXPECT_EQ(x[9], 0);
	EXPECT_EQ(x[10], 17);
	EXPECT_EQ(x[11], 0);
	EXPECT_EQ(x[12], 1 << 12);
	EXPECT_EQ(x[14], 1 << 12);
}

}  // namespace
}  // namespace kmlb
