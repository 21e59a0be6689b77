#include "fixed_point.h"

#include <functional>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exit_codes.h"
#include "fixed_features.h"
#include "generator.h"

namespace kmlb {
namespace {

// Trained with `kmlb train` on the seed preset (docs/fixed-point.md, "Test
// fixtures"): 15-15-12-10 (573 parameters) and 15-10 (171).
ModelFile fixture(const std::string &name)
{
	return load_model(std::string(KMLB_TEST_DATA_DIR) + "/fixed_seed_" + name + ".model.json");
}

const Calibration &seed_calibration()
{
	static const Calibration cal = default_calibration(FeatureSet::kSeed);
	return cal;
}

template <typename F>
void expect_error(ExitCode code, const std::string &needle, F &&f)
{
	try {
		f();
		ADD_FAILURE() << "no error; expected one mentioning " << needle;
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), code) << e.what();
		EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
	}
}

// The bar: on the seed hold-out the fixed-point model misclassifies
// exactly the rows the float model does (and on the whole data set no
// decision differs).
TEST(FixedPoint, FixturesKeepTheFloatAccuracyOnTheSeedHoldout)
{
	for (const char *name : {"573", "171"}) {
		const ModelFile file = fixture(name);
		const Calibration &cal = seed_calibration();
		const QuantizeResult q = quantize(file, cal, {});
		EXPECT_EQ(q.chosen.disagreements, 0u) << name;
		EXPECT_EQ(q.saturations, 0u) << name;
		for (const LayerBound &b : q.bounds)
			EXPECT_TRUE(b.fits());

		const std::vector<uint32_t> rows = holdout_split(cal.y, *file.training).test;
		const FixedScore s = score_fixed(file.model, q.model, cal, rows);
		EXPECT_EQ(s.rows, 21600u);
		EXPECT_TRUE(holdout_matches_metrics(file, s)) << "the trainer's hold-out was not reproduced";
		EXPECT_EQ(s.fixed_misclassified, s.float_misclassified) << name;
		EXPECT_EQ(s.disagreements, 0u) << name;
	}
}

TEST(FixedPoint, BatchedPathIsBitExactWithTheReference)
{
	const Calibration &cal = seed_calibration();
	kmlb::QuantizeOptions opt;
	opt.frac_bits = 12;
	for (const char *name : {"573", "171"}) {
		const FixedModel m = quantize(fixture(name), cal, opt).model;
		std::vector<int32_t> x = cal.fixed_inputs(m.frac_bits);
		// Arbitrary int32 inputs too: saturation must be the same.
		std::mt19937 gen(7);
		std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
		for (int r = 0; r < 3000 * 15; ++r)
			x.push_back(r % 3 == 0 ? any(gen) : any(gen) >> (gen() % 31));
		const size_t rows = x.size() / 15;
		std::vector<int32_t> batched(rows);
		FixedBatch batch(m);
		batch.logits(x.data(), rows, batched.data());
		for (size_t r = 0; r < rows; ++r)
			ASSERT_EQ(batched[r], fixed_logit_reference(m, x.data() + r * 15)) << name << " row " << r;
	}
}

// A hand-made layer whose interval bound is known.
TEST(FixedPoint, IntervalAnalysis)
{
	FixedModel m;
	m.feature_set = FeatureSet::kSeed;
	m.frac_bits = 4;
	FixedLayer out;
	out.inputs = 15;
	out.outputs = 1;
	out.input_frac_bits = 4;
	out.weight_frac_bits = {3};
	out.shift = {0};
	out.weights.assign(15, 0);
	out.weights[8] = 2;    // src_len in [-2, 125] * 16: [-64, 4000]
	out.weights[12] = -5;  // delta_faults in [-16, 16]: [-80, 80]
	out.bias = {-100};
	m.layers = {out};
	const std::vector<LayerBound> b = prove_bounds(m);
	ASSERT_EQ(b.size(), 1u);
	EXPECT_EQ(b[0].unit[0], std::max(100 + 64 + 80, -100 + 4000 + 80));
	EXPECT_NO_THROW(validate_fixed_model(m, "hand"));

	m.layers[0].weights[11] = 1 << 23;  // dst_len up to 127 * 16: 2^34
	expect_error(ExitCode::kBadData, "beyond the 32-bit lane", [&] { validate_fixed_model(m, "hand"); });
}

TEST(FixedPoint, FileRoundTrip)
{
	kmlb::QuantizeOptions opt;
	opt.frac_bits = 12;
	const FixedModel m = quantize(fixture("171"), seed_calibration(), opt).model;
	const std::string text = fixed_model_to_json(m);
	const FixedModel back = fixed_model_from_json(text, "x");
	EXPECT_EQ(back.layers, m.layers);
	EXPECT_EQ(back.frac_bits, 12);
	EXPECT_EQ(back.source_model_hash, model_hash(fixture("171")));
	EXPECT_EQ(fixed_model_to_json(back), text);  // byte-stable
}

TEST(FixedPoint, CorruptFilesAreBadData)
{
	kmlb::QuantizeOptions opt;
	opt.frac_bits = 12;
	const nlohmann::json good = nlohmann::json::parse(fixed_model_to_json(quantize(fixture("171"), seed_calibration(), opt).model));
	struct Case {
		std::string needle;
		std::function<void(nlohmann::json &)> edit;
	};
	const std::vector<Case> cases = {
		{"format", [](nlohmann::json &j) { j["format"] = "kmlb-model"; }},
		{"format_version", [](nlohmann::json &j) { j["format_version"] = 2; }},
		{"feature_set", [](nlohmann::json &j) { j["feature_set"] = "huge"; }},
		{"architecture.inputs", [](nlohmann::json &j) { j["architecture"]["inputs"] = 14; }},
		{"features[3]", [](nlohmann::json &j) { j["features"][3] = "cpu_busy"; }},
		{"input_ranges[9]", [](nlohmann::json &j) { j["input_ranges"][9]["max"] = 100000; }},
		{"frac_bits", [](nlohmann::json &j) { j["frac_bits"] = 40; }},
		{"layers[0].weights[1]", [](nlohmann::json &j) { j["layers"][0]["weights"][1] = {1, 2}; }},
		{"layers[0].weights[0][0]", [](nlohmann::json &j) { j["layers"][0]["weights"][0][0] = 1LL << 40; }},
		{"layers[0].weights[0][1]", [](nlohmann::json &j) { j["layers"][0]["weights"][0][1] = 0.5; }},
		{"layers[1].inputs", [](nlohmann::json &j) { j["layers"][1]["inputs"] = 9; }},
		{"layers[0].bound", [](nlohmann::json &j) { j["layers"][0]["bound"] = j["layers"][0]["bound"].get<int64_t>() + 1; }},
		{"layers[0].cap", [](nlohmann::json &j) { j["layers"][0].erase("cap"); }},
		{"layers[0].shift[1]", [](nlohmann::json &j) { j["layers"][0]["shift"][1] = j["layers"][0]["shift"][1].get<int>() + 1; }},
		{"source_model_hash", [](nlohmann::json &j) { j.erase("source_model_hash"); }},
		{"beyond the 32-bit lane", [](nlohmann::json &j) {
			 j["layers"][0]["weights"][0][11] = 2000000000;
			 j["layers"][0].erase("bound");  // reported first otherwise
			 j["layers"][0]["bound"] = 0;
		 }},
	};
	for (const Case &c : cases) {
		nlohmann::json j = good;
		c.edit(j);
		expect_error(ExitCode::kBadData, c.needle, [&] { fixed_model_from_json(j.dump(), "m.q.json"); });
	}
	expect_error(ExitCode::kBadData, "not valid JSON", [&] { fixed_model_from_json("{\"format\": ", "m.q.json"); });
	expect_error(ExitCode::kNoInput, "missing.q.json", [&] { load_fixed_model("/nonexistent/missing.q.json"); });
}

TEST(FixedPoint, QuantizeRejectsBadRequests)
{
	kmlb::QuantizeOptions opt;
	opt.frac_bits = 21;
	expect_error(ExitCode::kUsage, "--frac-bits 21", [&] { quantize(fixture("171"), seed_calibration(), opt); });
	Calibration modern = seed_calibration();
	modern.feature_set = FeatureSet::kModern;
	expect_error(ExitCode::kBadData, "feature set", [&] { quantize(fixture("171"), modern, {}); });
}

}  // namespace
}  // namespace kmlb
