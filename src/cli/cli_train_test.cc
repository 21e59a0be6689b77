// train, eval and reproduce end to end, on small data sets.
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "cli_test_util.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

class CliTrain : public ::testing::Test {
protected:
	void SetUp() override
	{
		ASSERT_EQ(run_kmlb("generate --preset seed --rows 6000 --seed 4 --out " + dir_ / "seed.csv").exit_code, 0);
		ASSERT_EQ(run_kmlb("generate --preset seed --rows 3000 --seed 5 --format raw --out " + dir_ / "raw.csv").exit_code, 0);
	}
	TempDir dir_;
};

TEST_F(CliTrain, WritesModelMetricsHistoryAndIsDeterministic)
{
	for (const char *name : {"a", "b"}) {
		const auto r = run_kmlb("train --quiet --data " + dir_ / "seed.csv" + " --epochs 15 --out " + dir_ / name);
		ASSERT_EQ(r.exit_code, 0) << r.output;
	}
	EXPECT_EQ(read_file(dir_ / "a/model.json"), read_file(dir_ / "b/model.json"));
	const auto m = nlohmann::json::parse(read_file(dir_ / "a/metrics.json"));
	EXPECT_EQ(m["schema_version"], 2);
	EXPECT_EQ(m["params"], 573);
	EXPECT_EQ(m["test"]["rows"], 1500);
	EXPECT_TRUE(m["test"].contains("accuracy"));
	EXPECT_TRUE(m["test"].contains("misclassified"));
	EXPECT_EQ(m["folds"].size(), 3u);
	EXPECT_GT(m["samples_per_second"].get<double>(), 0);
	const std::string history = read_file(dir_ / "a/history.csv");
	EXPECT_EQ(history.rfind("fold,epoch,", 0), 0u);
	// A different seed gives a different model.
	ASSERT_EQ(run_kmlb("train --quiet --seed 9 --data " + dir_ / "seed.csv" + " --epochs 15 --out " + dir_ / "c").exit_code, 0);
	EXPECT_NE(read_file(dir_ / "a/model.json"), read_file(dir_ / "c/model.json"));
}

TEST_F(CliTrain, ProtocolFlagsReachTheModelFile)
{
	const auto r = run_kmlb("train --quiet --protocol report --hidden 10 --epochs 3 --batch 32 --l2 0.01 --data " +
				dir_ / "seed.csv" + " --out " + dir_ / "r");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	const auto model = nlohmann::json::parse(read_file(dir_ / "r/model.json"));
	EXPECT_EQ(model["architecture"]["hidden"], nlohmann::json::array({10}));
	const auto m = nlohmann::json::parse(read_file(dir_ / "r/metrics.json"));
	EXPECT_EQ(m["params"], 171);
	EXPECT_EQ(m["protocol"], "report+custom");
	EXPECT_EQ(run_kmlb("train --protocol fancy --data " + dir_ / "seed.csv" + " --out " + dir_ / "x").exit_code, 2);
}

TEST_F(CliTrain, EvalOnFeaturesAndOnRawRowsByReason)
{
	ASSERT_EQ(run_kmlb("train --quiet --data " + dir_ / "seed.csv" + " --epochs 15 --out " + dir_ / "m").exit_code, 0);
	auto r = run_kmlb("eval --model " + dir_ / "m/model.json" + " --data " + dir_ / "seed.csv" + " --json");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	auto j = nlohmann::json::parse(r.output);
	EXPECT_EQ(j["rows"], 6000);
	const double acc = j["accuracy"];
	EXPECT_NEAR(acc, 1.0 - j["misclassified"].get<double>() / 6000, 1e-12);

	r = run_kmlb("eval --model " + dir_ / "m/model.json" + " --data " + dir_ / "raw.csv" + " --json");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	j = nlohmann::json::parse(r.output);
	EXPECT_EQ(j["rows"], 3000);
	size_t by_reason_rows = 0, by_reason_wrong = 0;
	for (const auto &[name, v] : j["by_reason"].items()) {
		by_reason_rows += v["rows"].get<size_t>();
		by_reason_wrong += v["misclassified"].get<size_t>();
	}
	EXPECT_EQ(by_reason_rows, 3000u);
	EXPECT_EQ(by_reason_wrong, j["misclassified"].get<size_t>());
}

TEST_F(CliTrain, CorruptModelAndMismatchedDataAreBadData)
{
	ASSERT_EQ(run_kmlb("train --quiet --data " + dir_ / "seed.csv" + " --epochs 2 --out " + dir_ / "m").exit_code, 0);
	std::string model = read_file(dir_ / "m/model.json");
	write_file_atomic(dir_ / "bad.json", model.substr(0, model.size() / 2));
	auto r = run_kmlb("eval --model " + dir_ / "bad.json" + " --data " + dir_ / "seed.csv");
	EXPECT_EQ(r.exit_code, 65) << r.output;
	EXPECT_NE(r.output.find("bad.json"), std::string::npos);
	ASSERT_EQ(run_kmlb("generate --preset balanced --rows 500 --features modern --out " + dir_ / "modern.csv").exit_code, 0);
	r = run_kmlb("eval --model " + dir_ / "m/model.json" + " --data " + dir_ / "modern.csv");
	EXPECT_EQ(r.exit_code, 65) << r.output;
	EXPECT_EQ(run_kmlb("eval --model " + dir_ / "none.json" + " --data " + dir_ / "seed.csv").exit_code, 66);
}

}  // namespace
}  // namespace kmlb
