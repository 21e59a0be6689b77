// Consistency (issue 13, item 6): `--in` for input data everywhere (the old
// `--data` still works, unlisted); one default kernel; the kernel named as
// the user named it with its teacher; `--json` prints JSON instead of the
// text; accuracy and agreement are fractions; each command's --help has its
// own examples.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "cli_test_util.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

bool has(const std::string &out, const std::string &what) { return out.find(what) != std::string::npos; }

TEST(CliConsistency, InputIsInEverywhereAndDataIsAHiddenAlias)
{
	TempDir dir;
	ASSERT_EQ(run_kmlb("generate --preset seed --rows 2000 --out " + dir / "seed.csv").exit_code, 0);
	const std::string seed = dir / "seed.csv";
	for (const char *flag : {"--in", "--data"}) {
		const std::string out = dir / (std::string("run") + flag);
		auto r = run_kmlb(fmt::format("train --quiet {} {} --hidden 4 --epochs 2 --out {}", flag, seed, out));
		ASSERT_EQ(r.exit_code, 0) << flag << r.output;
		r = run_kmlb(fmt::format("eval --model {}/model.json {} {}", out, flag, seed));
		EXPECT_EQ(r.exit_code, 0) << flag << r.output;
		r = run_kmlb(fmt::format("quantize --model {}/model.json {} {} --out {}/q.json", out, flag, seed, out));
		EXPECT_EQ(r.exit_code, 0) << flag << r.output;
	}
	for (const char *cmd : {"train", "eval", "quantize", "prep", "teacher"}) {
		const auto r = run_kmlb(std::string(cmd) + " --help");
		EXPECT_TRUE(has(r.output, "--in ")) << cmd << r.output;
		EXPECT_FALSE(has(r.output, "--data")) << cmd << r.output;
	}
	EXPECT_EQ(run_kmlb("train --out " + dir / "x").exit_code, 2);
}

TEST(CliConsistency, KernelAsNamedWithItsTeacherSaidOnce)
{
	TempDir dir;
	auto r = run_kmlb("generate --preset idle --rows 300 --format raw --kernel 6.1 --out " + dir / "raw.csv");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	EXPECT_TRUE(has(r.output, "kernel 6.1 (teacher 5.15) labels")) << r.output;
	const auto meta = nlohmann::json::parse(read_file(dir / "raw.csv.json"));
	EXPECT_EQ(meta["generator"]["kernel"], "6.1");
	EXPECT_EQ(meta["generator"]["teacher"], "5.15");
	r = run_kmlb("teacher --kernel 6.1 --json --in " + dir / "raw.csv", false);
	ASSERT_EQ(r.exit_code, 0) << r.output;
	const auto j = nlohmann::json::parse(r.output);
	EXPECT_EQ(j["kernel"], "6.1");
	EXPECT_EQ(j["teacher"], "5.15");
	// No --kernel: the same default as generate and eval.
	r = run_kmlb("teacher --in " + dir / "raw.csv");
	EXPECT_EQ(r.exit_code, 0) << r.output;
	EXPECT_TRUE(has(r.output, "kernel 5.15 says")) << r.output;
	EXPECT_TRUE(has(r.output, "agreement with recorded can_migrate: 1.000000 (300 of 300)")) << r.output;
}

TEST(CliConsistency, JsonMeansJsonInsteadOfTheText)
{
	TempDir dir;
	const std::string d = dir.path().string();
	const char *const commands[] = {
		"generate --preset seed --rows 2000 --json --out {0}/seed.csv",
		"generate --preset idle --rows 300 --format raw --json --out {0}/raw.csv",
		"prep --in {0}/raw.csv --out {0}/f.csv --json",
		"teacher --in {0}/raw.csv --json",
		"train --in {0}/seed.csv --hidden 4 --epochs 2 --out {0}/run --json",
		"eval --model {0}/run/model.json --in {0}/seed.csv --json",
		"quantize --model {0}/run/model.json --in {0}/seed.csv --out {0}/q.json --json",
	};
	for (const char *c : commands) {
		const auto r = run_kmlb(fmt::format(fmt::runtime(c), d), false);
		ASSERT_EQ(r.exit_code, 0) << c << r.output;
		EXPECT_TRUE(nlohmann::json::accept(r.output)) << c << ": stdout is not one JSON document:\n" << r.output;
	}
	for (const char *cmd : {"reproduce", "study-real", "sweep"}) {
		const auto r = run_kmlb(std::string(cmd) + " --help");
		EXPECT_FALSE(has(r.output, "also print")) << cmd << r.output;
	}
}

TEST(CliConsistency, EachCommandHasItsOwnExamples)
{
	for (const char *cmd : {"bench", "vm", "bench infer", "vm collect", "generate", "train", "eval"}) {
		const auto r = run_kmlb(std::string(cmd) + " --help");
		EXPECT_EQ(r.exit_code, 0) << cmd;
		const size_t ex = r.output.rfind("Example");
		ASSERT_NE(ex, std::string::npos) << cmd << r.output;
		EXPECT_TRUE(has(r.output.substr(ex), std::string("kmlb ") + cmd)) << cmd << r.output;
		EXPECT_FALSE(has(r.output, "kmlb reproduce    ")) << cmd << ": the top-level examples\n" << r.output;
	}
}

}  // namespace
}  // namespace kmlb
