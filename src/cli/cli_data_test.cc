// The data commands end to end: generate, prep, teacher.
#include <algorithm>
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

size_t count_lines(const std::string &text) { return std::count(text.begin(), text.end(), '\n'); }

TEST(CliGenerate, SeedPresetWritesTheReportsDataSetAndSidecar)
{
	TempDir dir;
	const auto r = run_kmlb("generate --preset seed --seed 1 --out " + dir / "seed.csv");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	const std::string csv = read_file(dir / "seed.csv");
	EXPECT_EQ(count_lines(csv), 86401u);
	EXPECT_EQ(csv.substr(0, csv.find('\n')),
		  "src_non_pref_nr,delta_hot,cpu_idle,cpu_not_idle,cpu_newly_idle,same_node,prefer_src,"
		  "prefer_dst,src_len,src_load,dst_load,dst_len,delta_faults,extra_fails,buddy_hot,can_migrate");
	const auto meta = nlohmann::json::parse(read_file(dir / "seed.csv.json"));
	EXPECT_EQ(meta["rows"], 86400);
	EXPECT_EQ(meta["feature_set"], "seed");
	EXPECT_EQ(meta["generator"]["seed"], 1);
	EXPECT_EQ(meta["content_hash"], fnv1a64_hex(csv));
}

TEST(CliGenerate, SameSeedGivesByteIdenticalFiles)
{
	TempDir dir;
	for (const char *name : {"a.csv", "b.csv"})
		ASSERT_EQ(run_kmlb("generate --preset overloaded --rows 3000 --seed 7 --format raw --out " + dir / name).exit_code, 0);
	ASSERT_EQ(run_kmlb("generate --preset overloaded --rows 3000 --seed 8 --format raw --out " + dir / "c.csv").exit_code, 0);
	EXPECT_EQ(read_file(dir / "a.csv"), read_file(dir / "b.csv"));
	EXPECT_EQ(read_file(dir / "a.csv.json"), read_file(dir / "b.csv.json"));
	EXPECT_NE(read_file(dir / "a.csv"), read_file(dir / "c.csv"));
}

// `kmlb prep --kernel K` on raw rows gives exactly the features that
// --format features gives for the same states labelled by K (6.18 rows carry
// its delayed-dequeue and eligibility refusals: another --kernel keeps them).
TEST(CliPrep, PrepOfRawRowsEqualsGeneratedFeatures)
{
	TempDir dir;
	struct Case { const char *preset, *set, *kernel; };
	for (const Case c : {Case{"seed", "seed", "5.15"}, Case{"balanced", "modern", "6.1"},
			     Case{"idle", "seed", "6.18"}, Case{"overloaded", "modern", "4.15"}}) {
		const std::string common = fmt::format("--preset {} --rows 4000 --seed 3 --kernel {}", c.preset, c.kernel);
		ASSERT_EQ(run_kmlb("generate " + common + " --format raw --out " + dir / "raw.csv").exit_code, 0);
		ASSERT_EQ(run_kmlb("generate " + common + " --features " + c.set + " --out " + dir / "gen.csv").exit_code, 0);
		const auto r = run_kmlb("prep --in " + dir / "raw.csv" + " --features " + c.set + " --kernel " + c.kernel +
					" --out " + dir / "prep.csv");
		ASSERT_EQ(r.exit_code, 0) << r.output;
		EXPECT_EQ(read_file(dir / "prep.csv"), read_file(dir / "gen.csv")) << c.preset << " " << c.set;
	}
}

TEST(CliTeacher, AgreesWithItsOwnLabelsAndReportsReasons)
{
	TempDir dir;
	ASSERT_EQ(run_kmlb("generate --preset balanced --rows 5000 --kernel 6.6 --format raw --out " + dir / "raw.csv").exit_code, 0);
	auto r = run_kmlb("teacher --kernel 6.6 --in " + dir / "raw.csv" + " --json --out " + dir / "labels.csv");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	const auto j = nlohmann::json::parse(r.output);
	EXPECT_EQ(j["rows"], 5000);
	EXPECT_EQ(j["agree"], 5000);
	EXPECT_EQ(j["disagree"], 0);
	EXPECT_TRUE(j["by_reason"].contains("running"));
	EXPECT_EQ(count_lines(read_file(dir / "labels.csv")), 5001u);
	// A different version disagrees somewhere (last buddies, kthreads, ...),
	// and --require-agreement turns that into exit code 1.
	r = run_kmlb("teacher --kernel 4.15 --in " + dir / "raw.csv" + " --json --require-agreement 1.0");
	EXPECT_EQ(r.exit_code, 1) << r.output;
	r = run_kmlb("teacher --list-reasons");
	EXPECT_EQ(r.exit_code, 0);
	EXPECT_NE(r.output.find("too_many_failures"), std::string::npos);
}

TEST(CliErrors, DistinctExitCodesAndNoPartialOutput)
{
	TempDir dir;
	ASSERT_EQ(run_kmlb("generate --preset idle --rows 200 --format raw --out " + dir / "raw.csv").exit_code, 0);
	// Unknown kernel version: usage error naming the accepted ones.
	auto r = run_kmlb("teacher --kernel 5.10 --in " + dir / "raw.csv");
	EXPECT_EQ(r.exit_code, 2);
	EXPECT_NE(r.output.find("unknown kernel version '5.10'"), std::string::npos) << r.output;
	// Missing input.
	r = run_kmlb("prep --in " + dir / "nope.csv" + " --out " + dir / "f.csv");
	EXPECT_EQ(r.exit_code, 66);
	EXPECT_NE(r.output.find("nope.csv"), std::string::npos);
	// Bad data: a corrupted field; nothing is written.
	std::string raw = read_file(dir / "raw.csv");
	const size_t line3 = raw.find('\n', raw.find('\n') + 1) + 1;
	raw.replace(line3, raw.find(',', line3) - line3, "12x");
	{
		FILE *f = std::fopen((dir / "bad.csv").c_str(), "w");
		std::fwrite(raw.data(), 1, raw.size(), f);
		std::fclose(f);
	}
	r = run_kmlb("prep --in " + dir / "bad.csv" + " --out " + dir / "f.csv");
	EXPECT_EQ(r.exit_code, 65);
	EXPECT_NE(r.output.find("bad.csv:3:1: field 'ts': '12x' is not an integer"), std::string::npos) << r.output;
	EXPECT_FALSE(std::filesystem::exists(dir / "f.csv"));
	// Write error: the output directory does not exist; no temp file left.
	r = run_kmlb("generate --rows 10 --preset idle --out " + dir / "no/such/dir/x.csv");
	EXPECT_EQ(r.exit_code, 74) << r.output;
	// Usage errors.
	EXPECT_EQ(run_kmlb("generate").exit_code, 2);
	EXPECT_EQ(run_kmlb("generate --preset nope --out " + dir / "x.csv").exit_code, 2);
	EXPECT_EQ(run_kmlb("prep --in " + dir / "raw.csv" + " --features fancy --out " + dir / "x.csv").exit_code, 2);
	size_t leftovers = 0;
	for (const auto &e : std::filesystem::directory_iterator(dir.path()))
		leftovers += e.path().string().find(".tmp.") != std::string::npos;
	EXPECT_EQ(leftovers, 0u);
}

}  // namespace
}  // namespace kmlb
