// kmlb report: reads a deploy summary.json, prints the table beside Chen's
// figures, writes report.md; refuses missing and malformed input.
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "atomic_file.h"
#include "cli_test_util.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

constexpr const char *kSummary = R"({
  "schema": "kmlb-deploy-summary", "schema_version": 2, "mode": "substitute",
  "agreement": 0.9995, "decisions": 2000, "heuristic_agreement": 0.9994,
  "heuristic_decisions": 1900, "overrides": 1, "substituted": 1990,
  "hard_mismatches": 0, "side_effect_mismatches": 0, "verified_calls": 1500,
  "nmissed": 0, "crashed_boots": 0,
  "soak": {"cycles": 300, "mode_switches": 10200, "crashes": 0, "oopses": 0, "warnings": 0},
  "fallbacks": 0, "teacher_mismatch": 0,
  "disagreements_by_reason": {"cache_cold.kernel1": 1},
  "cost": {
    "unit": "instructions",
    "can_migrate_task": {"native": {"p50": 100}, "model": {"p50": 150}, "ratio": 1.5},
    "load_balance": {"no_module": 40000, "model": 42000, "ratio_model_to_no_module": 1.05},
    "model_alone": {"count": 10, "p50": 700}
  },
  "rq_maxdiff": {"native": {"samples": 4, "mean": 1.5, "p90": 2, "max": 2,
                            "histogram": {"1": 2, "2": 2}},
                 "model": {"samples": 4, "mean": 1.25, "p90": 2, "max": 2,
                           "histogram": {"1": 3, "2": 1}}},
  "rq_total": {"native": {"samples": 4, "mean": 8, "p90": 9, "max": 9, "histogram": {"7": 2, "9": 2}},
               "model": {"samples": 4, "mean": 8, "p90": 9, "max": 9, "histogram": {"7": 2, "9": 2}}},
  "benchmarks": {"fibo": {"native": {"runs_s": [1.0, 1.1, 0.9], "median_s": 1.0, "min_s": 0.9,
                                     "max_s": 1.1, "spread": 0.2},
                          "model": {"runs_s": [1.02, 1.0, 1.05], "median_s": 1.02, "min_s": 1.0,
                                    "max_s": 1.05, "spread": 0.05},
                          "ratio": 1.02}},
  "phases": [{"load_pct": 200, "config": "model", "mode": "substitute",
              "counters": {"calls": 10, "decisions": 8, "overrides": 1},
              "cost_tsc": {"cmt_substitute_tsc": {"p50": 150}, "model_tsc": {"p50": 70}},
              "rq_maxdiff": {"mean": 1.25}, "agreement": 0.875}],
  "checks": {"module_loads": "ok", "final_unload": "ok", "verify_side_effects": "ok"},
  "run": {"kernel": "6.1.0-99-amd64", "model_header": "export-c", "timing": "icount"}
})";

TEST(CliReport, TableBesideChenAndReportFile)
{
	TempDir dir;
	write_file_atomic(dir / "summary.json", kSummary);
	const auto r = run_kmlb("report --in " + dir.path().string());
	ASSERT_EQ(r.exit_code, 0) << r.output;
	EXPECT_NE(r.output.find("0.99950 of 2000 decisions"), std::string::npos) << r.output;
	EXPECT_NE(r.output.find("100 instr -> 150 instr  x1.50 (+50 %)"), std::string::npos) << r.output;
	EXPECT_NE(r.output.find("x1.05 (+5 %)"), std::string::npos) << r.output;
	EXPECT_NE(r.output.find("700 instr"), std::string::npos) << r.output;
	EXPECT_NE(r.output.find("0 / 0 (1500)"), std::string::npos) << r.output;
	EXPECT_NE(r.output.find("300, 10200, 0, 0, 0"), std::string::npos) << r.output;
	EXPECT_NE(r.output.find("x1.36 (+36 %)"), std::string::npos) << r.output;
	EXPECT_NE(r.output.find("x1.13 (+13 %)"), std::string::npos) << r.output;
	EXPECT_NE(r.output.find("fibo runtime, median of 3"), std::string::npos) << r.output;
	EXPECT_NE(r.output.find("3 of 3 ok"), std::string::npos) << r.output;
	const std::string md = read_file(dir / "report.md");
	EXPECT_NE(md.find("| live agreement (model vs kernel) | 0.99950 of 2000 decisions |"), std::string::npos)
		<< md;
	EXPECT_NE(md.find("cache_cold.kernel1"), std::string::npos) << md;
}

TEST(CliReport, JsonAndSeparateOutDir)
{
	TempDir dir;
	write_file_atomic(dir / "summary.json", kSummary);
	const auto r = run_kmlb("report --json --in " + dir.path().string() + " --out " + (dir / "rep"));
	ASSERT_EQ(r.exit_code, 0) << r.output;
	EXPECT_NE(r.output.find("\"chen2020\": \"x1.36 (+36 %)\""), std::string::npos) << r.output;
	EXPECT_TRUE(std::filesystem::exists(dir / "rep/report.md"));
}

TEST(CliReport, MissingAndMalformedInput)
{
	TempDir dir;
	EXPECT_EQ(run_kmlb("report --in " + (dir / "nothing")).exit_code, 66);
	write_file_atomic(dir / "summary.json", "{not json");
	auto r = run_kmlb("report --in " + dir.path().string());
	EXPECT_EQ(r.exit_code, 65) << r.output;
	write_file_atomic(dir / "summary.json", R"({"schema": "kmlb-deploy-summary", "schema_version": 9})");
	r = run_kmlb("report --in " + dir.path().string());
	EXPECT_EQ(r.exit_code, 65) << r.output;
	EXPECT_NE(r.output.find("schema_version"), std::string::npos) << r.output;
	EXPECT_EQ(run_kmlb("report").exit_code, 2);
}

// --side-effects hands the runs to kernel/tools/side_effects.py: its table on
// stdout, its files in --out, its exit codes; bad flags are kmlb's usage errors.
TEST(CliReport, SideEffectsOfSeveralRuns)
{
	TempDir dir;
	nlohmann::json run = nlohmann::json::parse(kSummary);
	run["overrides_to_migrate"] = 1;  // what side_effects.py reads beyond kmlb report
	run["rq_stranded"] = run["rq_maxdiff"];
	std::filesystem::create_directories(dir / "a");
	write_file_atomic(dir / "a/summary.json", run.dump());
	auto r = run_kmlb("report --side-effects exact=" + (dir / "a") + " --out " + (dir / "se"));
	EXPECT_EQ(r.exit_code, 0) << r.output;
	EXPECT_NE(r.output.find("exact"), std::string::npos) << r.output;
	EXPECT_TRUE(std::filesystem::exists(dir / "se/side_effects.json"));
	// a run that is not there: the tool's EX_NOINPUT, naming the file
	r = run_kmlb("report --side-effects exact=" + (dir / "a") + " --side-effects gone=" + (dir / "none"));
	EXPECT_EQ(r.exit_code, 66) << r.output;
	EXPECT_NE(r.output.find("summary.json"), std::string::npos) << r.output;
	EXPECT_EQ(run_kmlb("report --side-effects " + (dir / "a")).exit_code, 2);
	EXPECT_EQ(run_kmlb("report --in " + (dir / "a") + " --side-effects x=" + (dir / "a")).exit_code, 2);
}

}  // namespace
}  // namespace kmlb
