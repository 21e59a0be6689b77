#include "verify.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "atomic_file.h"
#include "exit_codes.h"
#include "fixed_features.h"
#include "generator.h"
#include "prep.h"
#include "raw_schema.h"
#include "rng.h"
#include "teacher.h"

namespace kmlb {
namespace {

ModelFile fixture(const std::string &name)
{
	return load_model(std::string(KMLB_TEST_DATA_DIR) + "/fixed_seed_" + name + ".model.json");
}

// 15-15-12-10-1 trained with `kmlb train --verify-rounds 5` on the seed preset
// plus the seed-domain preset (docs/verify.md): verified in its first round.
const FixedModel &verified_573()
{
	static const FixedModel m = load_fixed_model(std::string(KMLB_TEST_DATA_DIR) + "/verified_seed_573.q.json");
	return m;
}

// 21-15-12-10-1 trained with `kmlb train --verify-rounds 6 --kernel 6.1` on
// the idle, balanced and overloaded presets plus the modern-domain preset
// (6.1 labels, README): verified in its first round.
const std::string kModern663 = std::string(KMLB_TEST_DATA_DIR) + "/verified_modern_663";

const FixedModel &verified_modern()
{
	static const FixedModel m = load_fixed_model(kModern663 + ".q.json");
	return m;
}

const VerifyDomain &modern_domain()
{
	static const VerifyDomain d(FeatureSet::kModern, KernelVersion::k5_15);  // 6.1 = 5.15
	return d;
}

// The modern model with the first-layer weights of numa_weight_sign negated.
FixedModel weight_sign_inverted(FixedModel m)
{
	FixedLayer &first = m.layers.front();
	for (size_t o = 0; o < first.outputs; ++o)
		first.weights[o * first.inputs + 18] = -first.weights[o * first.inputs + 18];
	return m;
}

const FixedModel &quantized(const std::string &name)
{
	static std::map<std::string, FixedModel> cache;
	auto it = cache.find(name);
	if (it == cache.end()) {
		static const Calibration cal = default_calibration(FeatureSet::kSeed);
		it = cache.emplace(name, quantize(fixture(name), cal, {}).model).first;
	}
	return it->second;
}

const VerifyDomain &seed_domain()
{
	static const VerifyDomain d(FeatureSet::kSeed, KernelVersion::k5_15);
	return d;
}

// Short queues, tiny loads, the fault ratios next to 0: small enough to try
// every point.
VerifyDomain reduced(const VerifyDomain &d, int64_t max_src, int64_t max_dst, int64_t max_load, int64_t ratios)
{
	const int64_t z = d.zero_ratio_index();
	return d.restricted({2, 0, 0, 0, z - ratios, -3}, {max_src, max_load, max_load, max_dst, z + ratios, 3});
}

// Every point of every region, concretely: how many decide against the
// teacher, per region.
std::vector<size_t> brute_force(const VerifyDomain &d, const VerifyTarget &t)
{
	std::vector<size_t> wrong;
	for (const Region &r : d.regions()) {
		size_t n = 0;
		NumPoint p = r.lo;
		while (true) {
			const KernelState s = d.realize(r, p);
			n += t.decide(s) != can_migrate_task(s, d.kernel()).migrate;
			size_t i = 0;
			while (i < kNumDims && p[i] == r.hi[i]) {
				p[i] = r.lo[i];
				++i;
			}
			if (i == kNumDims)
				break;
			++p[i];
		}
		wrong.push_back(n);
	}
	return wrong;
}

// Regions verify found a counterexample in.
std::vector<size_t> wrong_regions(const VerifyDomain &d, const VerifyResult &r)
{
	std::vector<size_t> out(d.regions().size());
	for (const Counterexample &c : r.counterexamples)
		out[c.region] = 1;
	return out;
}

void expect_real_counterexamples(const VerifyDomain &d, const VerifyTarget &t, const VerifyResult &r)
{
	for (const Counterexample &c : r.counterexamples) {
		EXPECT_TRUE(raw_consistency_error(c.state, true).empty());
		EXPECT_TRUE(passes_prep_filter(c.state, d.kernel()));
		EXPECT_EQ(can_migrate_task(c.state, d.kernel()).migrate, c.state.can_migrate == 1);
		EXPECT_NE(t.decide(c.state), c.state.can_migrate == 1);
		EXPECT_EQ(t.decide(c.state), c.model);
	}
}

TEST(VerifyDomain, RegionsHaveOneLabelAndConsistentStates)
{
	for (FeatureSet set : {FeatureSet::kSeed, FeatureSet::kModern})
		for (KernelVersion k : {KernelVersion::k4_15, KernelVersion::k5_15, KernelVersion::k6_6, KernelVersion::k6_18}) {
			if (set == FeatureSet::kModern && k == KernelVersion::k4_15) {
				EXPECT_THROW(VerifyDomain(set, k), Error);
				continue;
			}
			const VerifyDomain d(set, k);
			Rng rng(7);
			for (const Region &r : d.regions())
				for (int i = 0; i < 20; ++i) {
					NumPoint p;
					for (size_t j = 0; j < kNumDims; ++j)
						p[j] = rng.between(r.lo[j], r.hi[j]);
					const KernelState s = d.realize(r, p);
					ASSERT_EQ(can_migrate_task(s, k).migrate, r.label);
					ASSERT_EQ(raw_consistency_error(s, true), "");
					ASSERT_TRUE(passes_prep_filter(s, k));
				}
		}
}

// The regions' flag patterns cover every pattern the generator draws: the
// domain is not smaller than the data (seed: the seed preset; modern: the
// load presets, 6.1 labels).
TEST(VerifyDomain, CoversTheGeneratorsFlagPatterns)
{
	auto key = [](const KernelState &s, FeatureSet set) {
		std::array<float, 32> x;
		extract_features(s, set, x.data());
		std::string k;
		for (size_t f = 0; f < feature_count(set); ++f)
			k += feature_is_binary(f) ? (x[f] != 0 ? '1' : '0') : '.';
		return k + (s.dst_len > 0 ? "+" : "0");
	};
	for (FeatureSet set : {FeatureSet::kSeed, FeatureSet::kModern}) {
		const VerifyDomain d(set, KernelVersion::k5_15);
		std::set<std::string> keys;
		for (const Region &r : d.regions())
			keys.insert(key(d.realize(r, r.lo), set));
		const std::vector<Preset> presets = set == FeatureSet::kSeed
							    ? std::vector<Preset>{Preset::kSeed}
							    : std::vector<Preset>{Preset::kIdle, Preset::kBalanced, Preset::kOverloaded};
		size_t rows = 0;
		for (Preset p : presets) {
			GeneratorConfig c = preset_config(p);
			c.rows = 20000;
			for (const KernelState &s : generate_states(c).states) {
				if (!passes_prep_filter(s, c.kernel) || s.migration_cost_ns <= 0)
					continue;
				++rows;
				ASSERT_TRUE(keys.count(key(s, set))) << key(s, set);
			}
		}
		EXPECT_GT(rows, 10000u);
	}
}

// Soundness and completeness against brute force on a reduced domain: verify
// reports a counterexample in a region exactly when one exists there, every
// counterexample is real, and "verified" only when brute force finds none.
TEST(Verify, AgreesWithBruteForceOnAReducedDomain)
{
	const VerifyDomain d = reduced(seed_domain(), 6, 3, 3, 4);
	ASSERT_GT(d.regions().size(), 100u);
	for (const char *name : {"573", "171", "verified"}) {
		FixedModel m = std::string(name) == "verified" ? verified_573() : quantized(name);
		for (int planted = 0; planted < 2; ++planted) {
			if (planted && std::string(name) == "verified") {
				// The output layer negated: every decision inverted.
				for (int32_t &w : m.layers.back().weights)
					w = -w;
				m.layers.back().bias[0] = -m.layers.back().bias[0] - 1;
			} else if (planted) {
				m.layers[0].weights[8] += 1 << (m.frac_bits + 2);  // unit 0's src_len weight
			}
			const auto target = fixed_target(m);
			const VerifyResult r = verify(d, *target);
			const std::vector<size_t> truth = brute_force(d, *target);
			const std::vector<size_t> found = wrong_regions(d, r);
			size_t wrong = 0;
			for (size_t i = 0; i < truth.size(); ++i) {
				EXPECT_EQ(truth[i] > 0, found[i] > 0) << name << " region " << i;
				wrong += truth[i] > 0;
			}
			expect_real_counterexamples(d, *target, r);
			EXPECT_EQ(r.outcome == VerifyOutcome::kVerified, wrong == 0);
			EXPECT_EQ(r.outcome == VerifyOutcome::kFalsified, wrong > 0);
			if (planted) {
				EXPECT_GT(wrong, 0u) << name << ": the planted weight changed nothing";
			}
		}
	}
}

TEST(Verify, FloatModelAgreesWithBruteForce)
{
	const VerifyDomain d = reduced(seed_domain(), 5, 2, 2, 3);
	ModelFile f = fixture("573");
	for (int planted = 0; planted < 2; ++planted) {
		if (planted)
			f.model.params()[f.model.weight_offset(0) + 1] += 4.0f;  // unit 0's delta_hot weight
		const auto target = float_target(f);
		const VerifyResult r = verify(d, *target);
		const std::vector<size_t> truth = brute_force(d, *target);
		size_t wrong = 0;
		for (size_t n : truth)
			wrong += n > 0;
		expect_real_counterexamples(d, *target, r);
		EXPECT_EQ(r.outcome == VerifyOutcome::kFalsified, wrong > 0);
		EXPECT_EQ(r.outcome == VerifyOutcome::kVerified, wrong == 0);
		if (planted) {
			EXPECT_GT(wrong, 0u);
		}
	}
}

// A model exact on the reduced domain (brute force says so) is verified
// there and on the whole domain; planted wrong weights are found on the
// whole domain, and their counterexamples are real.
TEST(Verify, VerifiesAnExactModelAndFindsPlantedWeights)
{
	const VerifyDomain small = reduced(seed_domain(), 6, 3, 3, 4);
	const FixedModel &m = verified_573();
	for (size_t n : brute_force(small, *fixed_target(m)))
		ASSERT_EQ(n, 0u);
	const VerifyResult ok_small = verify(small, *fixed_target(m));
	EXPECT_EQ(ok_small.outcome, VerifyOutcome::kVerified);
	const VerifyResult ok = verify(seed_domain(), *fixed_target(m));
	EXPECT_EQ(ok.outcome, VerifyOutcome::kVerified);
	EXPECT_TRUE(ok.counterexamples.empty());
	EXPECT_EQ(ok.undecided_boxes, 0u);

	// The output weight of the last hidden unit, negated; a first-layer
	// weight on src_load (a load only the caps reach matters).
	FixedModel neg = m, load = m;
	neg.layers.back().weights.back() = -neg.layers.back().weights.back() * 4;
	for (size_t o = 0; o < load.layers[0].outputs; ++o)
		load.layers[0].weights[o * load.layers[0].inputs + 9] +=
			(o % 2 ? -1 : 1) * (1 << std::max(0, load.layers[0].weight_frac_bits[o] - 4));
	for (const FixedModel *bad : {&neg, &load}) {
		const auto target = fixed_target(*bad);
		const VerifyResult r = verify(seed_domain(), *target);
		EXPECT_EQ(r.outcome, VerifyOutcome::kFalsified);
		EXPECT_FALSE(r.counterexamples.empty());
		expect_real_counterexamples(seed_domain(), *target, r);
	}
}

// The modern model over the whole modern domain (teacher 6.1), as fixed
// point and as float: verified, every box decided. Its numa_weight_sign
// weights inverted, it is falsified in the weight branches.
TEST(Verify, ModernModelIsVerifiedAndAnInvertedWeightSignIsFound)
{
	const VerifyResult fixed = verify(modern_domain(), *fixed_target(verified_modern()));
	EXPECT_EQ(fixed.outcome, VerifyOutcome::kVerified);
	EXPECT_EQ(fixed.undecided_boxes, 0u);
	const ModelFile f = load_model(kModern663 + ".model.json");
	EXPECT_EQ(verify(modern_domain(), *float_target(f)).outcome, VerifyOutcome::kVerified);

	const FixedModel bad = weight_sign_inverted(verified_modern());
	const auto target = fixed_target(bad);
	const VerifyResult r = verify(modern_domain(), *target);
	EXPECT_EQ(r.outcome, VerifyOutcome::kFalsified);
	expect_real_counterexamples(modern_domain(), *target, r);
	size_t weight_branch = 0;
	for (const Counterexample &c : r.counterexamples)
		weight_branch += c.reason == Reason::kNumaWeightDegrades || c.reason == Reason::kNumaWeightImproves;
	EXPECT_GT(weight_branch, 0u);
}

// Soundness on the modern domain: brute force over short queues, tiny loads,
// fault ratios and weight differences next to 0 (the weight test's
// threshold), for the verified model and the inverted one.
TEST(Verify, ModernAgreesWithBruteForceOnAReducedDomain)
{
	const VerifyDomain d = reduced(modern_domain(), 3, 1, 1, 2);
	ASSERT_GT(d.regions().size(), 1000u);
	for (int planted = 0; planted < 2; ++planted) {
		const FixedModel m = planted ? weight_sign_inverted(verified_modern()) : verified_modern();
		const auto target = fixed_target(m);
		const VerifyResult r = verify(d, *target);
		const std::vector<size_t> truth = brute_force(d, *target);
		const std::vector<size_t> found = wrong_regions(d, r);
		size_t wrong = 0;
		for (size_t i = 0; i < truth.size(); ++i) {
			EXPECT_EQ(truth[i] > 0, found[i] > 0) << "region " << i;
			wrong += truth[i] > 0;
		}
		expect_real_counterexamples(d, *target, r);
		EXPECT_EQ(r.outcome == VerifyOutcome::kVerified, wrong == 0);
		EXPECT_EQ(wrong > 0, planted == 1);
	}
}

// Real 6.1 decisions (kmlb vm collect, 2-socket and 4-node guests, never
// used for training): every row of the two runs that the weight test
// decided, 117 of them ties. The verified modern model, as fixed point and
// float, decides each as the kernel did; inverted, it does not.
TEST(Verify, ModernModelDecidesRealWeightRowsAsTheKernel)
{
	const std::string file = std::string(KMLB_TEST_DATA_DIR) + "/real_6.1_numa_weight.csv";
	const RawTrace t = parse_raw_csv(read_file(file), file);
	ASSERT_EQ(t.rows.size(), 293u);
	const ModelFile f = load_model(kModern663 + ".model.json");
	const FixedModel bad = weight_sign_inverted(verified_modern());
	const auto fixed = fixed_target(verified_modern()), flt = float_target(f), inverted = fixed_target(bad);
	size_t wrong_inverted = 0;
	for (const KernelState &s : t.rows) {
		ASSERT_TRUE(passes_prep_filter(s, KernelVersion::k5_15));
		const Reason reason = can_migrate_task(s, KernelVersion::k5_15).reason;
		EXPECT_TRUE(reason == Reason::kNumaWeightDegrades || reason == Reason::kNumaWeightImproves);
		EXPECT_EQ(fixed->decide(s), s.can_migrate == 1) << s.ts;
		EXPECT_EQ(flt->decide(s), s.can_migrate == 1) << s.ts;
		wrong_inverted += inverted->decide(s) != (s.can_migrate == 1);
	}
	EXPECT_GT(wrong_inverted, 0u);
}

// A cap on counterexamples ends the search early: falsified with exactly the
// cap, the rest left undecided (never counted as verified), fewer boxes.
TEST(Verify, CounterexampleCapStopsTheSearch)
{
	const FixedModel bad = weight_sign_inverted(verified_modern());  // fixed_target keeps a reference
	const auto target = fixed_target(bad);
	const VerifyResult all = verify(modern_domain(), *target);
	VerifyOptions opt;
	opt.max_counterexamples = 3;
	const VerifyResult capped = verify(modern_domain(), *target, opt);
	EXPECT_EQ(capped.outcome, VerifyOutcome::kFalsified);
	EXPECT_EQ(capped.counterexamples.size(), 3u);
	EXPECT_GT(all.counterexamples.size(), 3u);
	EXPECT_GT(capped.undecided_boxes, 0u);
	EXPECT_LT(capped.boxes, all.boxes);
}

TEST(Verify, BudgetExhaustedIsUnknownNeverVerified)
{
	const FixedModel &m = verified_573();
	VerifyOptions opt;
	opt.max_boxes = 3;
	const VerifyResult r = verify(reduced(seed_domain(), 6, 3, 3, 4), *fixed_target(m), opt);
	EXPECT_EQ(r.outcome, VerifyOutcome::kUnknown);
	EXPECT_GT(r.undecided_boxes, 0u);
	EXPECT_EQ(r.to_json()["result"], "unknown");
}

// A per-region budget leaves hard regions undecided (never verified) and
// goes on to the next region, where a global budget stops the whole search.
TEST(Verify, RegionBudgetLeavesRegionsUndecidedAndSearchesTheRest)
{
	const FixedModel &m = verified_573();
	VerifyOptions per_region;
	per_region.max_boxes_per_region = 1;
	const VerifyResult r = verify(seed_domain(), *fixed_target(m), per_region);
	EXPECT_EQ(r.outcome, VerifyOutcome::kUnknown);
	EXPECT_GT(r.regions_undecided, 0u);
	EXPECT_LT(r.regions_undecided, r.regions);  // regions one box decides are still proven
	EXPECT_GT(r.undecided_boxes, 0u);
	EXPECT_EQ(r.to_json()["regions_undecided"], r.regions_undecided);

	// A planted wrong weight: falsified under the same budget, and every
	// region was looked at; with the same number of boxes as a global
	// budget, the regions after the budget ran out are never searched.
	FixedModel neg = m;
	neg.layers.back().weights.back() = -neg.layers.back().weights.back() * 4;
	const auto target = fixed_target(neg);
	VerifyOptions budget;
	budget.max_boxes_per_region = 50;
	budget.max_per_region = 1;
	const VerifyResult spread = verify(seed_domain(), *target, budget);
	EXPECT_EQ(spread.outcome, VerifyOutcome::kFalsified);
	EXPECT_LE(spread.regions_wrong + spread.regions_undecided, spread.regions);
	expect_real_counterexamples(seed_domain(), *target, spread);
	VerifyOptions global;
	global.max_boxes = spread.boxes / 4;
	global.max_per_region = 1;
	const VerifyResult stopped = verify(seed_domain(), *target, global);
	EXPECT_LT(stopped.regions_wrong, spread.regions_wrong);
	EXPECT_GT(stopped.regions_undecided, spread.regions_undecided);
}

}  // namespace
}  // namespace kmlb
