// Training output (issue 13, item 4): progress is one redrawn line on a
// terminal, ended before the results; a few lines at most on a pipe; folds
// numbered from 1 and the refit named "refit" everywhere, its monitor not
// called a validation; history.csv has one name per meaning and no float
// noise.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <set>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "cli_test_util.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

size_t count_lines(const std::string &s) { return std::count(s.begin(), s.end(), '\n'); }

class CliProgress : public ::testing::Test {
protected:
	void SetUp() override
	{
		ASSERT_EQ(run_kmlb("generate --preset seed --rows 3000 --seed 3 --out " + dir_ / "seed.csv").exit_code, 0);
	}
	std::string train(const std::string &extra) const
	{
		return testing::kmlb_binary() + " train --data " + shell_quote(dir_ / "seed.csv") + " --epochs 60 " + extra;
	}
	TempDir dir_;
};

TEST_F(CliProgress, OnAPipeAFewLinesNotOnePerEpoch)
{
	// stderr into the pipe, stdout away.
	const auto start = std::chrono::steady_clock::now();
	const CommandOutput c = run_command(train("--out " + shell_quote(dir_ / "a")) + " 2>&1 >/dev/null", false);
	const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	ASSERT_EQ(c.exit_code, 0) << c.output;
	const auto m = nlohmann::json::parse(read_file(dir_ / "a/metrics.json"));
	size_t epochs = 0;
	for (const auto &f : m["folds"])
		epochs += f["epochs"].get<size_t>();
	ASSERT_GT(epochs, 20u);
	// A line every 5 s at most, and the closing one.
	EXPECT_LE(count_lines(c.output), 1 + static_cast<size_t>(secs / 5)) << c.output;
	EXPECT_LT(count_lines(c.output), epochs / 4) << c.output;
	EXPECT_EQ(c.output.find('\r'), std::string::npos);
	// --quiet: nothing at all.
	const CommandOutput q = run_command(train("--quiet --out " + shell_quote(dir_ / "b")) + " 2>&1 >/dev/null", false);
	ASSERT_EQ(q.exit_code, 0);
	EXPECT_EQ(q.output, "");
}

TEST_F(CliProgress, OnATerminalOneRedrawnLineEndedBeforeTheResults)
{
	if (run_command("command -v script").exit_code != 0)
		GTEST_SKIP() << "no script(1) to make a terminal";
	for (const char *json : {"", " --json"}) {
		// script(1) runs kmlb on a pseudo-terminal (stdout and stderr both on it).
		const std::string cmd = train("--out " + shell_quote(dir_ / "t") + json);
		const CommandOutput c =
			run_command("TERM=xterm NO_COLOR=1 script -qec " + shell_quote(cmd) + " /dev/null", false);
		ASSERT_EQ(c.exit_code, 0) << c.output;
		std::string out;
		for (size_t i = 0; i < c.output.size(); ++i)  // the terminal's \r\n is a line end
			if (!(c.output[i] == '\r' && i + 1 < c.output.size() && c.output[i + 1] == '\n'))
				out += c.output[i];
		EXPECT_EQ(out.find('\x1b'), std::string::npos) << "escape codes despite NO_COLOR";
		EXPECT_NE(out.find('\r'), std::string::npos) << "the status line was not redrawn";
		// The results start on a line of their own.
		const size_t result = out.find(*json ? "{" : "protocol, ");
		ASSERT_NE(result, std::string::npos) << out;
		const size_t line_start = out.rfind('\n', result);
		ASSERT_NE(line_start, std::string::npos) << out;
		const std::string result_line = out.substr(line_start + 1, result - line_start - 1);
		EXPECT_EQ(result_line.find('\r'), std::string::npos) << "results glued to the status line: " << result_line;
		// One status line: every redraw but the last is overwritten in place.
		EXPECT_EQ(count_lines(out.substr(0, line_start + 1)), 1u) << out.substr(0, line_start + 1);
	}
}

TEST_F(CliProgress, FoldsNumberedFromOneAndTheRefitNamedEverywhere)
{
	// recommended: 3 folds and a refit.
	const auto r = run_kmlb("train --quiet --data " + dir_ / "seed.csv" + " --epochs 20 --out " + dir_ / "a");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	EXPECT_NE(r.output.find("final model refit"), std::string::npos) << r.output;
	const auto m = nlohmann::json::parse(read_file(dir_ / "a/metrics.json"));
	for (size_t i = 0; i < 3; ++i)
		EXPECT_EQ(m["folds"][i]["fold"], i + 1);
	EXPECT_GE(m["chosen_fold"].get<int>(), 1);
	EXPECT_EQ(m["final_model"], "refit");
	EXPECT_EQ(m["refit"]["fold"], "refit");
	EXPECT_FALSE(m["refit"].contains("validation")) << "the refit's monitor is its training rows";
	EXPECT_EQ(m["refit"]["monitor"]["rows_are"], "training");
	const auto model = nlohmann::json::parse(read_file(dir_ / "a/model.json"));
	EXPECT_EQ(model["metrics"]["folds"][0]["fold"], 1);
	EXPECT_EQ(model["metrics"]["refit"]["fold"], "refit");

	const std::string history = read_file(dir_ / "a/history.csv");
	const std::string header = history.substr(0, history.find('\n'));
	EXPECT_EQ(header.find("val_loss"), std::string::npos) << "one name, one meaning: " << header;
	EXPECT_NE(header.find("monitor_objective"), std::string::npos) << header;
	std::set<std::string> stages;
	for (size_t p = history.find('\n') + 1; p < history.size(); p = history.find('\n', p) + 1) {
		const std::string stage = history.substr(p, history.find(',', p) - p);
		stages.insert(stage);
		const bool refit = stage == "refit";
		EXPECT_NE(history.find(refit ? ",training," : ",validation,", p), std::string::npos);
	}
	EXPECT_EQ(stages, (std::set<std::string>{"1", "2", "3", "refit"}));

	// The report protocol has no refit: no "refit" anywhere.
	ASSERT_EQ(run_kmlb("train --quiet --protocol report --data " + dir_ / "seed.csv" + " --epochs 5 --out " + dir_ / "r")
			  .exit_code,
		  0);
	EXPECT_EQ(read_file(dir_ / "r/history.csv").find("refit"), std::string::npos);
	const auto rm = nlohmann::json::parse(read_file(dir_ / "r/metrics.json"));
	EXPECT_EQ(rm["final_model"], rm["chosen_fold"]);
}

TEST_F(CliProgress, HistoryNumbersHaveNoFloatNoise)
{
	ASSERT_EQ(run_kmlb("train --quiet --data " + dir_ / "seed.csv" + " --epochs 10 --out " + dir_ / "a").exit_code, 0);
	const std::string history = read_file(dir_ / "a/history.csv");
	size_t numbers = 0;
	for (size_t p = history.find('\n') + 1; p < history.size();) {
		const size_t end = std::min(history.find_first_of(",\n", p), history.size());
		const std::string field = history.substr(p, end - p);
		float v;
		if (std::from_chars(field.data(), field.data() + field.size(), v).ec == std::errc() && field.find('.') != std::string::npos) {
			++numbers;
			EXPECT_EQ(fmt::format("{}", v), field) << "not the shortest float32 form";
			EXPECT_LE(field.size(), 13u) << field;
		}
		p = end + 1;
	}
	EXPECT_GT(numbers, 100u);
}

}  // namespace
}  // namespace kmlb
