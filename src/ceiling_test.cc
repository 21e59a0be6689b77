#include "ceiling.h"

#include <gtest/gtest.h>

#include "generator.h"
#include "prep.h"

namespace kmlb {
namespace {

Dataset tiny(std::vector<std::pair<float, uint8_t>> rows)
{
	Dataset d;
	d.cols = 1;
	for (auto [x, y] : rows) {
		d.x.push_back(x);
		d.y.push_back(y);
	}
	d.rows = rows.size();
	return d;
}

TEST(LabelCeiling, MajorityOfEachInputCounts)
{
	// x=1: labels 1,1,0 -> 2 right; x=2: 0 -> 1 right; x=3: 1,0 -> 1 right.
	const Dataset d = tiny({{1, 1}, {2, 0}, {1, 1}, {3, 1}, {1, 0}, {3, 0}});
	const LabelCeiling c = label_ceiling(d);
	EXPECT_EQ(c.rows, 6u);
	EXPECT_EQ(c.distinct_inputs, 3u);
	EXPECT_EQ(c.conflicting_inputs, 2u);
	EXPECT_EQ(c.conflicting_rows, 5u);
	EXPECT_EQ(c.best_correct, 4u);
	EXPECT_DOUBLE_EQ(c.accuracy(), 4.0 / 6.0);
	EXPECT_EQ(label_ceiling(d, {0, 2, 1}).best_correct, 3u);
}

// The seed preset is a function of its 15 features; the load presets are a
// function of the modern features but not of the seed ones (SMT domains).
// Continuous generated loads make every vector unique, so only the ceiling
// without loads can show it.
TEST(LabelCeiling, SeedPresetIsExactModernFeaturesAreNeededElsewhere)
{
	GeneratorConfig cfg = preset_config(Preset::kSeed);
	cfg.rows = 20000;
	RawTrace t;
	t.rows = generate_states(cfg).states;
	EXPECT_EQ(label_ceiling_without_loads(prep(t, FeatureSet::kSeed, cfg.kernel)).conflicting_rows, 0u);

	cfg = preset_config(Preset::kOverloaded);
	cfg.rows = 20000;
	cfg.kernel = KernelVersion::k5_15;
	t.rows = generate_states(cfg).states;
	const LabelCeiling seed = label_ceiling_without_loads(prep(t, FeatureSet::kSeed, cfg.kernel));
	EXPECT_GT(seed.conflicting_rows, 0u);
	EXPECT_LT(seed.accuracy(), 1.0);
	EXPECT_EQ(label_ceiling_without_loads(prep(t, FeatureSet::kModern, cfg.kernel)).conflicting_rows, 0u);
}

}  // namespace
}  // namespace kmlb
