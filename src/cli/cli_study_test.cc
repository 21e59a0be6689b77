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

}  // namespace
}  // namespace kmlb
