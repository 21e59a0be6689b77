// Numeric flags are checked when parsed (issue 13, item 2): out of range or
// malformed is a usage error (exit 2) naming the flag and the valid range;
// nothing wraps, nothing reaches a library exception.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli_test_util.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

struct BadFlag {
	const char *args;
	const char *message;  // must appear in the output
};

TEST(CliFlags, OutOfRangeValuesAreUsageErrorsNamingTheRange)
{
	TempDir dir;
	const std::string out = " --out " + dir / "x.csv";
	const std::string gen = "generate --preset idle --format raw";
	const BadFlag cases[] = {
		{"--rows -5", "kmlb: --rows: -5 is outside 1..10000000"},
		{"--rows 99999999999999", "--rows: 99999999999999 is outside 1..10000000"},
		{"--rows 0", "--rows: 0 is outside 1..10000000"},
		{"--rows 1e3", "--rows: '1e3' is not an integer"},
		{"--seed -1", "--seed: '-1' is not a seed"},
		{"--numa-balancing 7", "--numa-balancing: 7 is outside 0..1"},
		{"--migration-cost-ns -5", "--migration-cost-ns: -5 is outside 0..4294967295"},
		{"--nodes 9", "--nodes: 9 is outside 2..4"},
	};
	for (const BadFlag &c : cases) {
		const auto r = run_kmlb(gen + " " + c.args + out);
		EXPECT_EQ(r.exit_code, 2) << c.args << ": " << r.output;
		EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << ": " << r.output;
		EXPECT_EQ(r.output.find("std::"), std::string::npos) << r.output;
		EXPECT_EQ(r.output.find("vector::"), std::string::npos) << r.output;
	}
	EXPECT_FALSE(std::filesystem::exists(dir / "x.csv"));
}

TEST(CliFlags, EveryCommandChecksItsNumbersAtParseTime)
{
	TempDir dir;
	// Inputs that do not exist: a flag error must come first (exit 2, not 66).
	const std::string none = dir / "none";
	const BadFlag cases[] = {
		{"quantize --model {0} --out {0} --frac-bits 0", "--frac-bits: 0 is outside 1..20"},
		{"quantize --model {0} --out {0} --frac-bits 21", "--frac-bits: 21 is outside 1..20"},
		{"teacher --in {0} --require-agreement 1.5", "--require-agreement: 1.5 is outside [0, 1]"},
		{"teacher --in {0} --require-agreement nan", "--require-agreement: 'nan' is not a number"},
		{"train --data {0} --out {0} --hidden 5000", "--hidden: 5000 is outside 1..64"},
		{"train --data {0} --out {0} --hidden 8,0", "--hidden: 0 is outside 1..64"},
		{"train --data {0} --out {0} --epochs -1", "--epochs: -1 is outside 1..1000000"},
		{"train --data {0} --out {0} --folds 1", "--folds: 1 is outside 2..100"},
		{"train --data {0} --out {0} --test-fraction 1", "--test-fraction: 1 is outside (0, 1)"},
		{"train --data {0} --out {0} --lr 0", "--lr: 0 is outside (0, 100]"},
		{"train --data {0} --out {0} --l2 -1", "--l2: -1 is outside [0, 1000000]"},
		{"train --data {0} --out {0} --seed 18446744073709551616", "--seed: '18446744073709551616' is not a seed"},
		{"reproduce --seed -3 --out {0}", "--seed: '-3' is not a seed"},
		{"study-real --runs {0} --synthetic-rows -1", "--synthetic-rows: -1 is outside 1..10000000"},
		{"bench infer --reps 0", "--reps: 0 is outside 1..1000000"},
		{"vm collect --out {0} --seconds 0", "--seconds: 0 is outside 1..86400"},
		{"vm deploy --out {0} --kernel 5.15", "--kernel is 6.1, 6.12 or 7 (7.x) for the module, not '5.15'"},
		{"report --side-effects {0}", "--side-effects '"},
	};
	for (const BadFlag &c : cases) {
		const std::string args = fmt::format(fmt::runtime(c.args), none);
		const auto r = run_kmlb(args);
		EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
		EXPECT_NE(r.output.find(c.message), std::string::npos) << args << ": " << r.output;
	}
}

TEST(CliFlags, SeedsUseTheWholeUnsignedRange)
{
	TempDir dir;
	const auto r = run_kmlb("generate --preset idle --rows 20 --seed 18446744073709551615 --json --out " + dir / "a.csv");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	EXPECT_NE(r.output.find("\"seed\": 18446744073709551615"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace kmlb
