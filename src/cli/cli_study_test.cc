// study-real on a run directory laid out as `kmlb vm collect` leaves it,
// filled with generated 6.1 rows so that the test needs no guest.
#include <filesystem>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "cli_test_util.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

TEST(CliStudyReal, ReportsAgreementHoldOutAcrossLoadsAndDistilled)
{
	TempDir dir;
	std::filesystem::create_directories(dir.path() / "run");
	nlohmann::json phases = nlohmann::json::array();
	const std::pair<int, const char *> loads[] = {{50, "idle"}, {200, "overloaded"}};
	for (auto [load, preset] : loads) {
		const std::string file = fmt::format("raw-{}.csv", load);
		ASSERT_EQ(run_kmlb(fmt::format("generate --preset {} --kernel 6.1 --rows 1500 --format raw --out {}", preset,
					       dir / ("run/" + file)))
				  .exit_code,
			  0);
		phases.push_back({{"load_pct", load}, {"file", file}});
	}
	write_file_atomic(dir / "run/phases.json", phases.dump());
	const auto r = run_kmlb("study-real --runs " + dir / "run" + " --synthetic-rows 1500 --epochs 40 --out " + dir / "s.json");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	const auto j = nlohmann::json::parse(read_file(dir / "s.json"));
	const auto &run = j["runs"][0];
	EXPECT_EQ(run["phases"].size(), 2u);
	EXPECT_EQ(run["phases"][0]["teacher"]["agreement"], 1.0);
	for (const char *set : {"seed", "modern"}) {
		EXPECT_GT(run[set]["in_distribution"]["accuracy"].get<double>(), 0.8) << set;
		EXPECT_EQ(run[set]["across_loads"].size(), 2u) << set;
		EXPECT_LE(run[set]["synthetic_to_real"]["accuracy"].get<double>(),
			  run[set]["synthetic_to_real"]["ceiling_all_features"].get<double>());
	}
	// Generated states are exact functions of the modern features.
	EXPECT_EQ(run["modern"]["in_distribution"]["ceiling"], 1.0);
	// A missing run directory is missing input.
	EXPECT_EQ(run_kmlb("study-real --runs " + dir / "none").exit_code, 66);
}

// Two runs of different kernels: the study across kernels, every model
// tested on the run it did not see, each teacher on each run.
TEST(CliStudyReal, AcrossKernels)
{
	TempDir dir;
	nlohmann::json phases = nlohmann::json::array({{{"load_pct", 200}, {"file", "raw-200.csv"}}});
	for (const char *kernel : {"6.1", "7.x"}) {
		const std::string run = std::string("run-") + kernel;
		std::filesystem::create_directories(dir.path() / run);
		ASSERT_EQ(run_kmlb(fmt::format("generate --preset overloaded --kernel {} --rows 1500 --format raw --out {}",
					       kernel, dir / (run + "/raw-200.csv")))
				  .exit_code,
			  0);
		write_file_atomic(dir / (run + "/phases.json"), phases.dump());
	}
	const std::string runs = dir / "run-6.1" + "," + dir / "run-7.x";
	const auto r = run_kmlb("study-real --runs " + runs + " --kernels 6.1,7.x --synthetic-rows 1500 --epochs 40 --out " +
				dir / "s.json");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	const auto j = nlohmann::json::parse(read_file(dir / "s.json"));
	EXPECT_EQ(j["runs"][0]["kernel"], "6.1");
	EXPECT_EQ(j["runs"][1]["kernel"], "7.x");
	const auto &x = j["across_kernels"];
	ASSERT_EQ(x["teachers"].size(), 4u);  // 2 teachers x 2 runs
	for (const auto &t : x["teachers"]) {
		const bool own = t["teacher"] == t["test"]["kernel"];
		if (own)
			EXPECT_EQ(t["agreement"], 1.0) << t.dump();
	}
	// 6.18's hard checks (delayed dequeue, eligibility) refuse generated
	// 7.x rows that 6.1's teacher would move.
	bool differs = false;
	for (const auto &t : x["teachers"])
		differs |= t["teacher"] == "6.1" && t["test"]["kernel"] == "7.x" && t["agreement"].get<double>() < 1.0;
	EXPECT_TRUE(differs);
	ASSERT_EQ(x["real_to_real"].size(), 2u);  // each run's model on the other run only
	for (const auto &c : x["real_to_real"])
		EXPECT_NE(c["train"]["run"], c["test"]["run"]);
	ASSERT_EQ(x["distilled_to_real"].size(), 4u);  // one distilled model per kernel, on both runs
	for (const auto &c : x["distilled_to_real"]) {
		EXPECT_GT(c["rows"].get<size_t>(), 0u);
		EXPECT_LE(c["accuracy"].get<double>(), c["ceiling_all_features"].get<double>());
	}
	// One kernel per run, or usage error.
	EXPECT_EQ(run_kmlb("study-real --runs " + runs + " --kernels 6.1").exit_code, 2);
}

}  // namespace
}  // namespace kmlb
