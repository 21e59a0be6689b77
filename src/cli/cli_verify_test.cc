// kmlb verify through the binary: the JSON interface, exit codes, and
// counterexamples that replay through kmlb teacher and kmlb eval.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "cli_test_util.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

const std::string kData = std::string(KMLB_TEST_DATA_DIR);

// The JSON is the last thing printed (stdout and stderr are merged here).
nlohmann::json json_of(const std::string &output) { return nlohmann::json::parse(output.substr(output.find('{'))); }

TEST(CliVerify, VerifiedModelExitsZero)
{
	const auto r = run_kmlb("verify --model " + kData + "/verified_seed_573.q.json --json");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	const nlohmann::json j = json_of(r.output);
	EXPECT_EQ(j["result"], "verified");
	EXPECT_GT(j["boxes"].get<uint64_t>(), 0u);
	EXPECT_EQ(j["counterexamples"], 0);
	EXPECT_TRUE(j.contains("seconds"));
	EXPECT_EQ(j["domain"]["feature_set"], "seed");
}

// A per-region budget too small to prove every region: unknown (exit 1),
// with the undecided regions counted, never verified.
TEST(CliVerify, RegionBudgetGivesUnknownNeverVerified)
{
	const auto r = run_kmlb("verify --model " + kData + "/verified_seed_573.q.json --json --max-boxes-per-region 1");
	ASSERT_EQ(r.exit_code, 1) << r.output;
	const nlohmann::json j = json_of(r.output);
	EXPECT_EQ(j["result"], "unknown");
	EXPECT_GT(j["regions_undecided"].get<size_t>(), 0u);
	EXPECT_EQ(j["counterexamples"], 0);
}

// The fixture trained on the report's data set alone is not exact over the
// domain: every counterexample is a row the teacher labels as written and the
// float model misclassifies.
TEST(CliVerify, CounterexamplesReplayThroughTeacherAndEval)
{
	TempDir dir;
	const std::string model = kData + "/fixed_seed_573.model.json";
	const auto r = run_kmlb("verify --model " + model + " --json --max-per-region 1 --max-boxes 300000 --raw " +
				dir / "cex.raw.csv" + " --counterexamples " + dir / "cex.csv");
	ASSERT_EQ(r.exit_code, 1) << r.output;
	const nlohmann::json j = json_of(r.output);
	EXPECT_EQ(j["result"], "falsified");
	const size_t n = j["counterexamples"].get<size_t>();
	ASSERT_GT(n, 0u);

	const auto t = run_kmlb("teacher --kernel 5.15 --in " + dir / "cex.raw.csv" + " --json");
	ASSERT_EQ(t.exit_code, 0) << t.output;
	const nlohmann::json tj = json_of(t.output);
	EXPECT_EQ(tj["agree"].get<size_t>(), n);
	EXPECT_EQ(tj["agreement"], 1.0);

	for (const std::string file : {"cex.raw.csv", "cex.csv"}) {
		const auto e = run_kmlb("eval --model " + model + " --data " + dir / file + " --json");
		ASSERT_EQ(e.exit_code, 0) << e.output;
		const nlohmann::json ej = json_of(e.output);
		EXPECT_EQ(ej["rows"].get<size_t>(), n) << file;
		EXPECT_EQ(ej["misclassified"].get<size_t>(), n) << file;
	}
}

// A fixed-point model's counterexamples replay through kmlb eval in fixed
// point (the kernel's integer features): the verified fixture with its output
// layer negated is wrong on every one of them, the fixture itself on none.
TEST(CliVerify, FixedPointCounterexamplesReplayThroughEval)
{
	TempDir dir;
	const std::string good = kData + "/verified_seed_573.q.json";
	nlohmann::json m = nlohmann::json::parse(read_file(good));
	for (auto &w : m["layers"].back()["weights"][0])
		w = -w.get<int64_t>();
	m["layers"].back()["bias"][0] = -m["layers"].back()["bias"][0].get<int64_t>();
	write_file_atomic(dir / "inverted.q.json", m.dump());
	const auto r = run_kmlb("verify --model " + dir / "inverted.q.json" + " --json --max-per-region 1 --raw " +
				dir / "cex.raw.csv" + " --counterexamples " + dir / "cex.csv");
	ASSERT_EQ(r.exit_code, 1) << r.output;
	const size_t n = json_of(r.output)["counterexamples"].get<size_t>();
	ASSERT_GT(n, 2u);
	const auto capped = run_kmlb("verify --model " + dir / "inverted.q.json" + " --json --max-counterexamples 2");
	EXPECT_EQ(capped.exit_code, 1) << capped.output;
	EXPECT_EQ(json_of(capped.output)["result"], "falsified");
	EXPECT_EQ(json_of(capped.output)["counterexamples"], 2);
	for (const std::string file : {"cex.raw.csv", "cex.csv"})
		for (const std::string &model : {dir / "inverted.q.json", good}) {
			const auto e = run_kmlb("eval --model " + model + " --data " + dir / file + " --json");
			ASSERT_EQ(e.exit_code, 0) << e.output;
			const nlohmann::json ej = json_of(e.output);
			EXPECT_EQ(ej["model_kind"], "fixed");
			EXPECT_EQ(ej["rows"].get<size_t>(), n) << file;
			EXPECT_EQ(ej["misclassified"].get<size_t>(), model == good ? 0 : n) << file << " " << model;
		}
}

TEST(CliVerify, BadUsage)
{
	const auto wrong_set = run_kmlb("verify --model " + kData + "/verified_seed_573.q.json --features modern");
	EXPECT_EQ(wrong_set.exit_code, 2) << wrong_set.output;
	const auto missing = run_kmlb("verify --model /nonexistent/m.q.json");
	EXPECT_EQ(missing.exit_code, 66) << missing.output;
	const auto kernel = run_kmlb("verify --model " + kData + "/verified_seed_573.q.json --kernel 3.1");
	EXPECT_EQ(kernel.exit_code, 2) << kernel.output;
}

}  // namespace
}  // namespace kmlb
