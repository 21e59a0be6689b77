// Plots (issue 13, item 7): the training curves name the run (in the SVG's
// <title> too), log axes have readable ticks, a misclassified count of 0 is
// drawn (at 0.5, ticked "0") rather than dropped, and the legend lists only
// series that exist.
#include <gtest/gtest.h>

#include "atomic_file.h"
#include "cli_test_util.h"
#include "gnuplot.h"
#include "training_outputs.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

bool has(const std::string &out, const std::string &what) { return out.find(what) != std::string::npos; }

TEST(CliPlots, TrainingCurvesNameTheRunAndShowOnlyRealSeries)
{
	if (!gnuplot_available())
		GTEST_SKIP() << "no gnuplot";
	TempDir dir;
	ASSERT_EQ(run_kmlb("generate --preset seed --rows 3000 --out " + dir / "seed.csv").exit_code, 0);
	ASSERT_EQ(run_kmlb("train --quiet --data " + dir / "seed.csv" + " --epochs 150 --out " + dir / "rec").exit_code, 0);
	ASSERT_EQ(run_kmlb("train --quiet --protocol report --data " + dir / "seed.csv" + " --out " + dir / "rep").exit_code, 0);
	const std::string rec = read_file(dir / "rec/training-curves.svg");
	const std::string rep = read_file(dir / "rep/training-curves.svg");
	for (const auto &[name, svg] : {std::pair{"rec", rec}, std::pair{"rep", rep}}) {
		EXPECT_FALSE(has(svg, "<title>Gnuplot</title>")) << name;
		EXPECT_TRUE(has(svg, "<title>" + dir / name + ": ")) << name;
		// Log-axis ticks as 1, 0.1, 0.01 and counts as integers, not 1.000000.
		EXPECT_FALSE(has(svg, "1.000000")) << name;
		EXPECT_FALSE(has(svg, "0.000010")) << name;
		EXPECT_FALSE(has(svg, ">0.5<")) << name;
	}
	EXPECT_TRUE(has(rec, "protocol")) << "the plot title names the protocol";
	EXPECT_TRUE(has(rec, "refit (its training rows)"));
	EXPECT_FALSE(has(rep, "refit")) << "the report protocol has no refit, its legend must not list one";
	// The refit of the recommended protocol ends with 0 misclassified
	// training rows here: that point is drawn at the "0" tick.
	const std::string history = read_file(dir / "rec/history.csv");
	ASSERT_TRUE(has(history, ",0,")) << "no zero count to draw";
	const std::string script = training_curves_script("d", TrainConfig::recommended(), 573, true);
	EXPECT_TRUE(has(script, "($8 > 0 ? $8 : 0.5)")) << script;
	EXPECT_TRUE(has(script, "set ytics add ('0' 0.5)")) << script;
	EXPECT_FALSE(has(training_curves_script("d", TrainConfig::report(), 573, false), "refit"));
}

}  // namespace
}  // namespace kmlb
