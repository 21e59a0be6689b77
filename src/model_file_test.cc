#include "model_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "exit_codes.h"
#include "rng.h"

namespace kmlb {
namespace {

ModelFile sample_file(bool standardise)
{
	Rng rng(3);
	ModelFile f;
	f.model = Mlp::glorot_uniform(15, {15, 12, 10}, rng);
	for (float &p : f.model.params())
		p += static_cast<float>(rng.normal(0.0, 0.01));  // non-zero biases too
	if (standardise) {
		Standardisation s;
		for (int i = 0; i < 15; ++i) {
			s.mean.push_back(static_cast<float>(rng.uniform()));
			s.stddev.push_back(static_cast<float>(0.5 + rng.uniform()));
		}
		f.model.standardisation = s;
	}
	f.feature_set = FeatureSet::kSeed;
	f.training = TrainConfig::recommended();
	f.data_hash = "0123456789abcdef";
	f.metrics = {{"test", {{"misclassified", 0}, {"rows", 21600}}}};
	return f;
}

TEST(ModelFile, RoundTripsExactlyAndByteForByte)
{
	for (bool standardise : {false, true}) {
		const ModelFile f = sample_file(standardise);
		const std::string text = model_to_json(f);
		const ModelFile back = model_from_json(text, "m.json");
		EXPECT_EQ(back.model, f.model);  // every float bit for bit
		EXPECT_EQ(back.feature_set, f.feature_set);
		ASSERT_TRUE(back.training);
		EXPECT_EQ(back.training->to_json(), f.training->to_json());
		EXPECT_EQ(back.data_hash, f.data_hash);
		EXPECT_EQ(back.metrics, f.metrics);
		EXPECT_EQ(model_to_json(back), text);
	}
}

TEST(ModelFile, StartsWithFormatAndVersionAndUsesShortFloats)
{
	const std::string text = model_to_json(sample_file(false));
	EXPECT_EQ(text.rfind("{\n\t\"format\": \"kmlb-model\",\n\t\"format_version\": 1,", 0), 0u)
		<< text.substr(0, 80);
	EXPECT_NE(text.find("\"learning_rate\": 0.003"), std::string::npos);
	EXPECT_NE(text.find("\"hidden\": [15, 12, 10],"), std::string::npos);
}

// Every weight is written as fmt's shortest form of the float.
TEST(ModelFile, WeightsAreShortestFloatForms)
{
	ModelFile f = sample_file(false);
	f.model.params()[0] = 0.12771565f;  // nlohmann alone prints 0.12771564999999999
	const std::string text = model_to_json(f);
	EXPECT_NE(text.find("[0.12771565, "), std::string::npos);
	const Mlp &m = f.model;
	for (size_t l = 0; l < m.layer_count(); ++l)
		for (size_t o = 0; o < m.layer_outputs(l); ++o) {
			const float *row = m.weights(l) + o * m.layer_inputs(l);
			const std::string want = fmt::format(
				"[{}]", fmt::join(row, row + m.layer_inputs(l), ", "));
			EXPECT_NE(text.find(want), std::string::npos) << want;
		}
}

TEST(ModelFile, NullTrainingAndMetricsAreAllowed)
{
	ModelFile f = sample_file(false);
	f.training.reset();
	f.metrics = nullptr;
	const ModelFile back = model_from_json(model_to_json(f), "m.json");
	EXPECT_FALSE(back.training);
	EXPECT_TRUE(back.metrics.is_null());
}

TEST(ModelFile, SaveAndLoad)
{
	const auto dir = std::filesystem::temp_directory_path() / "kmlb_model_file_test";
	std::filesystem::create_directories(dir);
	const std::string path = (dir / "model.json").string();
	const ModelFile f = sample_file(true);
	save_model(path, f);
	EXPECT_EQ(load_model(path).model, f.model);
	std::filesystem::remove_all(dir);
}

TEST(ModelFile, MissingFileIsNoInput)
{
	try {
		load_model("/nonexistent/kmlb/model.json");
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), ExitCode::kNoInput);
	}
}

// One corruption each: the loader must refuse with kBadData naming the file
// and the field.
struct Corruption {
	const char *what;
	std::function<void(nlohmann::json &)> apply;
	const char *field;  // expected in the message
};

TEST(ModelFile, EveryCorruptionIsBadDataNamingTheField)
{
	const std::vector<Corruption> cases = {
		{"wrong format", [](auto &j) { j["format"] = "onnx"; }, "format"},
		{"format missing", [](auto &j) { j.erase("format"); }, "format"},
		{"future version", [](auto &j) { j["format_version"] = 2; }, "format_version"},
		{"version as string", [](auto &j) { j["format_version"] = "1"; }, "format_version"},
		{"architecture missing", [](auto &j) { j.erase("architecture"); }, "architecture"},
		{"unknown feature set", [](auto &j) { j["architecture"]["feature_set"] = "nope"; },
		 "architecture.feature_set"},
		{"inputs mismatch", [](auto &j) { j["architecture"]["inputs"] = 14; },
		 "architecture.inputs"},
		{"renamed feature", [](auto &j) { j["architecture"]["features"][3] = "cpu_busy"; },
		 "architecture.features[3]"},
		{"zero width", [](auto &j) { j["architecture"]["hidden"][1] = 0; },
		 "architecture.hidden[1]"},
		{"negative width", [](auto &j) { j["architecture"]["hidden"][0] = -15; },
		 "architecture.hidden[0]"},
		{"two outputs", [](auto &j) { j["architecture"]["outputs"] = 2; },
		 "architecture.outputs"},
		{"tanh", [](auto &j) { j["architecture"]["activation"] = "tanh"; },
		 "architecture.activation"},
		{"layer missing", [](auto &j) { j["layers"].erase(3); }, "layers"},
		{"row missing", [](auto &j) { j["layers"][1]["weights"].erase(0); },
		 "layers[1].weights"},
		{"weight missing", [](auto &j) { j["layers"][2]["weights"][4].erase(0); },
		 "layers[2].weights[4]"},
		{"weight not a number", [](auto &j) { j["layers"][0]["weights"][2][7] = "0.5"; },
		 "layers[0].weights[2][7]"},
		{"weight null (NaN)", [](auto &j) { j["layers"][0]["weights"][0][0] = nullptr; },
		 "layers[0].weights[0][0]"},
		{"weight beyond float", [](auto &j) { j["layers"][3]["weights"][0][1] = 1e39; },
		 "layers[3].weights[0][1]"},
		{"bias short", [](auto &j) { j["layers"][3]["bias"] = nlohmann::json::array(); },
		 "layers[3].bias"},
		{"bias missing", [](auto &j) { j["layers"][2].erase("bias"); }, "layers[2].bias"},
		{"stddev zero",
		 [](auto &j) {
			 j["standardisation"] = {{"mean", std::vector<float>(15, 0.0f)},
						 {"stddev", std::vector<float>(15, 1.0f)}};
			 j["standardisation"]["stddev"][6] = 0.0;
		 },
		 "standardisation.stddev[6]"},
		{"mean short",
		 [](auto &j) {
			 j["standardisation"] = {{"mean", std::vector<float>(14, 0.0f)},
						 {"stddev", std::vector<float>(15, 1.0f)}};
		 },
		 "standardisation.mean"},
		{"standardisation missing", [](auto &j) { j.erase("standardisation"); },
		 "standardisation"},
		{"bad monitor", [](auto &j) { j["training"]["monitor"] = "val_auc"; }, "monitor"},
		{"training seed negative", [](auto &j) { j["training"]["seed"] = -1; }, "seed"},
		{"data hash number", [](auto &j) { j["data_hash"] = 12; }, "data_hash"},
		{"metrics array", [](auto &j) { j["metrics"] = nlohmann::json::array(); }, "metrics"},
	};
	const std::string good = model_to_json(sample_file(false));
	ASSERT_NO_THROW(model_from_json(good, "m.json"));
	for (const Corruption &c : cases) {
		SCOPED_TRACE(c.what);
		nlohmann::json j = nlohmann::json::parse(good);
		c.apply(j);
		try {
			model_from_json(j.dump(), "m.json");
			ADD_FAILURE() << "accepted";
		} catch (const Error &e) {
			EXPECT_EQ(e.code(), ExitCode::kBadData);
			const std::string msg = e.what();
			EXPECT_EQ(msg.rfind("m.json: ", 0), 0u) << msg;
			EXPECT_NE(msg.find(c.field), std::string::npos) << msg;
		}
	}
}

TEST(ModelFile, TruncatedOrNonJsonIsBadData)
{
	const std::string good = model_to_json(sample_file(false));
	for (const std::string &text : {good.substr(0, good.size() / 2), std::string("[1, 2]"),
					std::string(""), std::string("kmlb-model")}) {
		try {
			model_from_json(text, "m.json");
			ADD_FAILURE() << "accepted: " << text.substr(0, 20);
		} catch (const Error &e) {
			EXPECT_EQ(e.code(), ExitCode::kBadData);
			// "m.json:LINE:COLUMN: not valid JSON: ..." or "m.json: json: ..."
			const std::string what = e.what();
			EXPECT_TRUE(what.rfind("m.json: json: ", 0) == 0 || what.find(": not valid JSON: ") != std::string::npos)
				<< what;
			EXPECT_EQ(what.rfind("m.json", 0), 0u) << what;
			EXPECT_EQ(what.find("json.exception"), std::string::npos) << what;
		}
	}
}

}  // namespace
}  // namespace kmlb
