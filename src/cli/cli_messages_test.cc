// Messages (issue 13, item 5): unknown commands and flags named with a "did
// you mean", `kmlb help`, every parser error prefixed "kmlb:", a BOM
// accepted, JSON errors with file:line:column, NUL bytes shown, one meaning
// of L:C, hints when the wrong kind of file is given, prep refusing to
// overwrite its input.
#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "atomic_file.h"
#include "cli_test_util.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

bool has(const std::string &out, const std::string &what) { return out.find(what) != std::string::npos; }

TEST(CliMessages, UnknownCommandsAndFlagsAreNamedWithASuggestion)
{
	auto r = run_kmlb("trian");
	EXPECT_EQ(r.exit_code, 2);
	EXPECT_TRUE(has(r.output, "kmlb: 'trian' is not a kmlb command; did you mean 'train'?")) << r.output;
	r = run_kmlb("vm colect --out x");
	EXPECT_EQ(r.exit_code, 2);
	EXPECT_TRUE(has(r.output, "kmlb: 'colect' is not a kmlb vm command; did you mean 'collect'?")) << r.output;
	r = run_kmlb("generate --rowz 5 --out x.csv");
	EXPECT_EQ(r.exit_code, 2);
	EXPECT_TRUE(has(r.output, "kmlb: unknown flag '--rowz' for 'kmlb generate'; did you mean '--rows'?")) << r.output;
	EXPECT_FALSE(has(r.output, "5 --rowz")) << r.output;
	// Parser errors of CLI11 carry the prefix and point at --help.
	r = run_kmlb("generate --preset idle");
	EXPECT_EQ(r.exit_code, 2);
	EXPECT_EQ(r.output.rfind("kmlb: ", 0), 0u) << r.output;
	EXPECT_TRUE(has(r.output, "--out is required")) << r.output;
	EXPECT_TRUE(has(r.output, "kmlb generate --help")) << r.output;
}

TEST(CliMessages, HelpIsACommand)
{
	auto r = run_kmlb("help");
	EXPECT_EQ(r.exit_code, 0) << r.output;
	EXPECT_TRUE(has(r.output, "reproduce")) << r.output;
	r = run_kmlb("help train");
	EXPECT_EQ(r.exit_code, 0) << r.output;
	EXPECT_TRUE(has(r.output, "--hidden")) << r.output;
	r = run_kmlb("help vm collect");
	EXPECT_EQ(r.exit_code, 0) << r.output;
	EXPECT_TRUE(has(r.output, "--seconds")) << r.output;
}

class CliFileMessages : public ::testing::Test {
protected:
	void SetUp() override
	{
		ASSERT_EQ(run_kmlb("generate --preset seed --rows 2000 --out " + dir_ / "seed.csv").exit_code, 0);
		ASSERT_EQ(run_kmlb("train --quiet --data " + dir_ / "seed.csv" + " --hidden 4 --epochs 2 --out " + dir_ / "run")
				  .exit_code,
			  0);
	}
	TempDir dir_;
};

TEST_F(CliFileMessages, AByteOrderMarkIsAccepted)
{
	write_file_atomic(dir_ / "bom.csv", "\xEF\xBB\xBF" + read_file(dir_ / "seed.csv"));
	const auto r = run_kmlb("eval --model " + dir_ / "run/model.json" + " --data " + dir_ / "bom.csv");
	EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(CliFileMessages, JsonErrorsNameFileLineAndColumn)
{
	std::string model = read_file(dir_ / "run/model.json");
	// A number too large for a double, on line 3 or later.
	const size_t w = model.find("\"weights\"");
	const size_t num = model.find_first_of("-0123456789", w);
	std::string overflow = model;
	overflow.insert(num, "9e999");
	write_file_atomic(dir_ / "overflow.json", overflow);
	auto r = run_kmlb("eval --model " + dir_ / "overflow.json" + " --data " + dir_ / "seed.csv");
	EXPECT_EQ(r.exit_code, 65) << r.output;
	EXPECT_FALSE(has(r.output, "json.exception")) << r.output;
	const size_t line = std::count(overflow.begin(), overflow.begin() + num, '\n') + 1;
	const size_t column = num - overflow.rfind('\n', num);
	EXPECT_TRUE(has(r.output, fmt::format("overflow.json:{}:{}: not valid JSON", line, column))) << r.output;
	// A syntax error.
	std::string broken = model;
	broken.insert(w, "}");
	write_file_atomic(dir_ / "broken.json", broken);
	r = run_kmlb("eval --model " + dir_ / "broken.json" + " --data " + dir_ / "seed.csv");
	EXPECT_EQ(r.exit_code, 65) << r.output;
	const size_t bline = std::count(broken.begin(), broken.begin() + w, '\n') + 1;
	EXPECT_TRUE(has(r.output, fmt::format("broken.json:{}:", bline))) << r.output;
	EXPECT_FALSE(has(r.output, "json.exception")) << r.output;
}

TEST_F(CliFileMessages, NulBytesAreShownAndColumnsAreBytesEverywhere)
{
	const std::string csv = read_file(dir_ / "seed.csv");
	const size_t row2 = csv.find('\n') + 1;
	std::string nul = csv;
	nul.replace(row2, 1, std::string("1\0x", 3));
	write_file_atomic(dir_ / "nul.csv", nul);
	auto r = run_kmlb("eval --model " + dir_ / "run/model.json" + " --data " + dir_ / "nul.csv");
	EXPECT_EQ(r.exit_code, 65) << r.output;
	EXPECT_TRUE(has(r.output, "nul.csv:2:1: field 'src_non_pref_nr': '1\\x00x' is not a number")) << r.output;
	// A header error names the byte column of the field, as data rows do:
	// the second column starts at byte 17 ("src_non_pref_nr," is 16 bytes).
	std::string header = csv;
	header.replace(header.find("delta_hot"), 9, "delta_hat");
	write_file_atomic(dir_ / "header.csv", header);
	r = run_kmlb("eval --model " + dir_ / "run/model.json" + " --data " + dir_ / "header.csv");
	EXPECT_EQ(r.exit_code, 65) << r.output;
	EXPECT_TRUE(has(r.output, "header.csv:1:17: header column 2 is 'delta_hat', expected 'delta_hot'")) << r.output;
}

TEST_F(CliFileMessages, TheWrongKindOfFileGetsAHint)
{
	ASSERT_EQ(run_kmlb("quantize --model " + dir_ / "run/model.json" + " --data " + dir_ / "seed.csv" + " --out " +
			   dir_ / "m.q.json")
			  .exit_code,
		  0);
	auto r = run_kmlb("quantize --model " + dir_ / "m.q.json" + " --data " + dir_ / "seed.csv" + " --out " +
			  dir_ / "m2.q.json");
	EXPECT_EQ(r.exit_code, 65);
	EXPECT_TRUE(has(r.output, "this is a quantized (fixed-point) model")) << r.output;
	r = run_kmlb("teacher --kernel 5.15 --in " + dir_ / "seed.csv");
	EXPECT_EQ(r.exit_code, 65);
	EXPECT_TRUE(has(r.output, "this is a features CSV; this command reads a raw trace")) << r.output;
	ASSERT_EQ(run_kmlb("generate --preset idle --rows 100 --format raw --out " + dir_ / "raw.csv").exit_code, 0);
	r = run_kmlb("train --data " + dir_ / "raw.csv" + " --out " + dir_ / "x");
	EXPECT_EQ(r.exit_code, 65);
	EXPECT_TRUE(has(r.output, "this is a raw trace: make features of it with kmlb prep")) << r.output;
}

TEST_F(CliFileMessages, PrepDoesNotOverwriteItsInput)
{
	ASSERT_EQ(run_kmlb("generate --preset idle --rows 100 --format raw --out " + dir_ / "raw.csv").exit_code, 0);
	const std::string before = read_file(dir_ / "raw.csv");
	auto r = run_kmlb("prep --in " + dir_ / "raw.csv" + " --out " + dir_ / "raw.csv");
	EXPECT_EQ(r.exit_code, 2) << r.output;
	EXPECT_TRUE(has(r.output, "would overwrite the input")) << r.output;
	std::filesystem::create_symlink(dir_ / "raw.csv", dir_ / "alias.csv");
	EXPECT_EQ(run_kmlb("prep --in " + dir_ / "raw.csv" + " --out " + dir_ / "alias.csv").exit_code, 2);
	EXPECT_EQ(read_file(dir_ / "raw.csv"), before);
}

}  // namespace
}  // namespace kmlb
