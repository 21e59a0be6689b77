// Results that cannot mislead (issue 13, item 3): nothing to score is an
// error, not accuracy 1.0; what train writes eval and quantize accept; data
// no raw row can give is refused. (A full disk during train: cli_outputs_test.)
#include <filesystem>
#include <gtest/gtest.h>

#include "atomic_file.h"
#include "cli_test_util.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

class CliResults : public ::testing::Test {
protected:
	void SetUp() override
	{
		ASSERT_EQ(run_kmlb("generate --preset seed --rows 3000 --seed 2 --out " + dir_ / "seed.csv").exit_code, 0);
		ASSERT_EQ(run_kmlb("train --quiet --data " + dir_ / "seed.csv" + " --epochs 3 --out " + dir_ / "run").exit_code, 0);
	}
	std::string header_of(const std::string &file) const
	{
		const std::string text = read_file(dir_ / file);
		return text.substr(0, text.find('\n') + 1);
	}
	TempDir dir_;
};

TEST_F(CliResults, EvalOnZeroRowsIsAnErrorNotPerfectAccuracy)
{
	write_file_atomic(dir_ / "empty.csv", header_of("seed.csv"));
	auto r = run_kmlb("eval --model " + dir_ / "run/model.json" + " --data " + dir_ / "empty.csv");
	EXPECT_EQ(r.exit_code, 65) << r.output;
	EXPECT_NE(r.output.find("empty.csv: no data rows"), std::string::npos) << r.output;
	EXPECT_EQ(r.output.find("accuracy"), std::string::npos) << r.output;

	// Raw rows that the A2 filter drops entirely (running tasks only).
	ASSERT_EQ(run_kmlb("generate --preset overloaded --rows 3000 --format raw --out " + dir_ / "raw.csv").exit_code, 0);
	const std::string raw = read_file(dir_ / "raw.csv");
	const std::string head = raw.substr(0, raw.find('\n'));
	size_t col = 0;
	for (size_t p = 0, c = 0; p < head.size(); ++c) {
		const size_t comma = std::min(head.find(',', p), head.size());
		if (head.substr(p, comma - p) == "p_running")
			col = c;
		p = comma + 1;
	}
	ASSERT_GT(col, 0u);
	std::string running = head + "\n";
	size_t kept = 0;
	for (size_t p = raw.find('\n') + 1; p < raw.size();) {
		const size_t end = raw.find('\n', p);
		const std::string line = raw.substr(p, end - p);
		size_t q = 0;
		for (size_t c = 0; c < col; ++c)
			q = line.find(',', q) + 1;
		if (line[q] != '0') {
			running += line + "\n";
			++kept;
		}
		p = end + 1;
	}
	ASSERT_GT(kept, 0u);
	write_file_atomic(dir_ / "running.csv", running);
	r = run_kmlb("eval --model " + dir_ / "run/model.json" + " --data " + dir_ / "running.csv");
	EXPECT_EQ(r.exit_code, 65) << r.output;
	EXPECT_NE(r.output.find("passes the A2 filter"), std::string::npos) << r.output;
	// prep refuses to write an empty features file from them, and an empty input.
	r = run_kmlb("prep --in " + dir_ / "running.csv" + " --out " + dir_ / "f.csv");
	EXPECT_EQ(r.exit_code, 65) << r.output;
	EXPECT_FALSE(std::filesystem::exists(dir_ / "f.csv"));
	write_file_atomic(dir_ / "raw-empty.csv", head + "\n");
	EXPECT_EQ(run_kmlb("teacher --kernel 5.15 --in " + dir_ / "raw-empty.csv").exit_code, 65);
	EXPECT_EQ(run_kmlb("prep --in " + dir_ / "raw-empty.csv" + " --out " + dir_ / "f.csv").exit_code, 65);
	// And train says what is wrong with a header-only file.
	r = run_kmlb("train --data " + dir_ / "empty.csv" + " --out " + dir_ / "r2");
	EXPECT_EQ(r.exit_code, 65) << r.output;
	EXPECT_NE(r.output.find("no data rows (only the header): nothing to train on"), std::string::npos) << r.output;
}

TEST_F(CliResults, WhatTrainAcceptsEvalAndQuantizeAccept)
{
	// The widest layer train takes is one quantize takes.
	auto r = run_kmlb("train --quiet --data " + dir_ / "seed.csv" + " --hidden 64 --epochs 1 --out " + dir_ / "wide");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	r = run_kmlb("eval --model " + dir_ / "wide/model.json" + " --data " + dir_ / "seed.csv");
	EXPECT_EQ(r.exit_code, 0) << r.output;
	r = run_kmlb("quantize --model " + dir_ / "wide/model.json" + " --data " + dir_ / "seed.csv" + " --out " +
		     dir_ / "wide.q.json");
	EXPECT_EQ(r.exit_code, 0) << r.output;
	// One wider is refused by train at once, with the range.
	r = run_kmlb("train --data " + dir_ / "seed.csv" + " --hidden 65 --out " + dir_ / "wider");
	EXPECT_EQ(r.exit_code, 2) << r.output;
	EXPECT_NE(r.output.find("1..64"), std::string::npos) << r.output;
	EXPECT_FALSE(std::filesystem::exists(dir_ / "wider"));
}

TEST_F(CliResults, FeatureValuesNoRawRowCanGiveAreRefused)
{
	const std::string text = read_file(dir_ / "seed.csv");
	const size_t row2 = text.find('\n') + 1;
	std::string line = text.substr(row2, text.find('\n', row2) - row2);
	// Columns: ... 8 src_len, ... 12 delta_faults.
	auto with_field = [&](size_t column, const std::string &value) {
		std::vector<std::string> f;
		for (size_t p = 0;;) {
			const size_t c = line.find(',', p);
			f.push_back(line.substr(p, c == std::string::npos ? std::string::npos : c - p));
			if (c == std::string::npos)
				break;
			p = c + 1;
		}
		f[column] = value;
		std::string out;
		for (size_t i = 0; i < f.size(); ++i)
			out += (i ? "," : "") + f[i];
		return text.substr(0, row2) + out + "\n";
	};
	struct Case {
		size_t column;
		const char *value, *message;
	};
	for (const Case c : {Case{8, "-5", "field 'src_len': -5 is below -2"},
			     Case{12, "5", "field 'delta_faults': 5 is outside [-1, 1]"},
			     Case{2, "0.5", "field 'cpu_idle': 0.5 is not a 0/1 flag"}}) {
		write_file_atomic(dir_ / "odd.csv", with_field(c.column, c.value));
		const auto r = run_kmlb("eval --model " + dir_ / "run/model.json" + " --data " + dir_ / "odd.csv");
		EXPECT_EQ(r.exit_code, 65) << r.output;
		EXPECT_NE(r.output.find("odd.csv:2:"), std::string::npos) << r.output;
		EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
	}
}

}  // namespace
}  // namespace kmlb
