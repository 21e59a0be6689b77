// kmlb quantize, export-c, bench infer and sweep through the binary.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "cli_test_util.h"
#include "fixed_point.h"

namespace kmlb {
namespace {

using testing::run_kmlb;
using testing::TempDir;

const std::string kModel171 = std::string(KMLB_TEST_DATA_DIR) + "/fixed_seed_171.model.json";

bool contains(const std::string &s, const std::string &needle) { return s.find(needle) != std::string::npos; }

TEST(CliFixed, QuantizeThenExport)
{
	TempDir dir;
	auto gen = run_kmlb("generate --preset seed --rows 20000 --out " + dir / "seed.csv");
	ASSERT_EQ(gen.exit_code, 0) << gen.output;
	auto q = run_kmlb("quantize --model " + kModel171 + " --out " + dir / "m.q.json --frac-bits 11 --data " +
			  dir / "seed.csv");
	ASSERT_EQ(q.exit_code, 0) << q.output;
	EXPECT_TRUE(contains(q.output, "fixed-point MLP 15-10-1, 171 parameters")) << q.output;
	EXPECT_TRUE(contains(q.output, "proven bound")) << q.output;
	const FixedModel m = load_fixed_model(dir / "m.q.json");
	EXPECT_EQ(m.frac_bits, 11);
	EXPECT_EQ(m.quantization["calibration"]["rows"], 20000);

	auto e = run_kmlb("export-c --model " + dir / "m.q.json --out " + dir / "kmlb_model.h");
	ASSERT_EQ(e.exit_code, 0) << e.output;
	const std::string header = read_file(dir / "kmlb_model.h");
	EXPECT_TRUE(contains(header, "#define KMLB_NUM_FEATURES 15\n"));
	EXPECT_TRUE(contains(header, "#define KMLB_FRAC_BITS 11\n"));
	EXPECT_TRUE(contains(header, "#define KMLB_FEATURE_SET \"seed\"\n"));
	EXPECT_TRUE(contains(header, fnv1a64_hex(read_file(dir / "m.q.json"))));
	EXPECT_TRUE(contains(header, "static inline int kmlb_predict_state(const struct kmlb_state *s)"));
}

TEST(CliFixed, QuantizeJsonReport)
{
	TempDir dir;
	auto q = run_kmlb("quantize --json --model " + kModel171 + " --out " + dir / "m.q.json --frac-bits 11");
	ASSERT_EQ(q.exit_code, 0) << q.output;
	const auto j = nlohmann::json::parse(q.output);
	EXPECT_EQ(j["frac_bits"], 11);
	EXPECT_EQ(j["layers"].size(), 2u);
	EXPECT_TRUE(j["agreement"].contains("disagreements"));
	EXPECT_LE(j["layers"][0]["bound"].get<int64_t>(), kLaneLimit);
}

// The kernel module's deploy script hands export-c the float model.
TEST(CliFixed, ExportCQuantizesAFloatModel)
{
	TempDir dir;
	auto e = run_kmlb("export-c --model " + kModel171 + " --out " + dir / "kmlb_model.h");
	ASSERT_EQ(e.exit_code, 0) << e.output;
	EXPECT_TRUE(contains(e.output, "is a float model")) << e.output;
	EXPECT_TRUE(std::filesystem::exists(dir / "kmlb_model.h"));
}

TEST(CliFixed, BadInputsGetTheRightExitCodes)
{
	TempDir dir;
	ASSERT_EQ(run_kmlb("quantize --model " + kModel171 + " --out " + dir / "ok.q.json --frac-bits 11").exit_code, 0);
	write_file_atomic(dir / "corrupt.q.json", "{\"format\": \"kmlb-fixed-model\", \"format_version\": 1}");
	nlohmann::json wrong_count = nlohmann::json::parse(read_file(dir / "ok.q.json"));
	wrong_count["architecture"]["inputs"] = 21;
	write_file_atomic(dir / "wrong.q.json", wrong_count.dump());
	auto gen = run_kmlb("generate --preset balanced --rows 2000 --features modern --out " + dir / "modern.csv");
	ASSERT_EQ(gen.exit_code, 0) << gen.output;

	struct Case {
		std::string args;
		int code;
		std::string needle;
	};
	const Case cases[] = {
		{"quantize --model " + dir / "missing.json --out " + dir / "x.q.json", 66, "missing.json"},
		{"quantize --model " + kModel171 + " --out " + dir / "x.q.json --frac-bits 25", 2, "--frac-bits: 25 is outside 1..20"},
		{"quantize --model " + dir / "ok.q.json --out " + dir / "x.q.json", 65, "format"},
		{"quantize --model " + kModel171 + " --out " + dir / "x.q.json --data " + dir / "modern.csv", 65,
		 "feature set"},
		{"quantize --model " + kModel171 + " --out /nonexistent/dir/x.q.json --frac-bits 11", 74, "/nonexistent"},
		{"export-c --model " + dir / "corrupt.q.json --out " + dir / "x.h", 65, "corrupt.q.json"},
		{"export-c --model " + dir / "wrong.q.json --out " + dir / "x.h", 65, "architecture.inputs"},
		{"export-c --model " + dir / "nothing.q.json --out " + dir / "x.h", 66, "nothing.q.json"},
		{"export-c --model " + dir / "ok.q.json --out /nonexistent/dir/x.h", 74, "/nonexistent"},
		{"bench infer --model " + kModel171 + " --paths teacher,gpu", 2, "gpu"},
		{"sweep --hidden 4 --out " + dir / "s.json", 2, "--widths"},
	};
	for (const Case &c : cases) {
		const auto r = run_kmlb(c.args);
		EXPECT_EQ(r.exit_code, c.code) << c.args << "\n" << r.output;
		EXPECT_TRUE(contains(r.output, c.needle)) << c.args << "\n" << r.output;
	}
	EXPECT_FALSE(std::filesystem::exists(dir / "x.h"));
}

TEST(CliFixed, BenchInferJson)
{
	const auto r = run_kmlb("bench infer --model " + kModel171 +
				" --paths teacher,fixed-ref,kernel,batched --reps 3 --batch 256 --no-callgrind --json");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	const auto j = nlohmann::json::parse(r.output);
	EXPECT_GT(j["teacher"]["median_ns"].get<double>(), 0.0);
	ASSERT_EQ(j["models"].size(), 1u);
	EXPECT_EQ(j["models"][0]["params"], 171);
	ASSERT_EQ(j["models"][0]["paths"].size(), 3u);
	for (const auto &p : j["models"][0]["paths"]) {
		EXPECT_GT(p["median_ns"].get<double>(), 0.0);
		EXPECT_GT(p["vs_teacher_ns"].get<double>(), 0.0);
		EXPECT_FALSE(p.contains("instructions"));
	}
	EXPECT_TRUE(contains(j["callgrind"].get<std::string>(), "--no-callgrind"));
	// The worker mode callgrind runs is hidden.
	EXPECT_FALSE(contains(run_kmlb("bench --help").output, "worker"));
}

TEST(CliFixed, SweepOneTinyModel)
{
	TempDir dir;
	const auto r = run_kmlb("sweep --widths 2 --depths 1 --epochs 15 --reps 3 --no-callgrind --verify-rounds 1 --out " +
				dir / "s.json");
	ASSERT_EQ(r.exit_code, 0) << r.output;
	EXPECT_TRUE(contains(r.output, "15-2-1")) << r.output;
	const auto j = nlohmann::json::parse(read_file(dir / "s.json"));
	ASSERT_EQ(j["models"].size(), 1u);
	EXPECT_EQ(j["models"][0]["params"], 35);
	// Trained on the seed preset plus the whole domain (86,400 + 200,000 rows).
	EXPECT_EQ(j["models"][0]["holdout"]["rows"], 71600);
	// 15 epochs of a 35-parameter model: not exact over the domain.
	EXPECT_EQ(j["models"][0]["verify"]["result"], "falsified");
	EXPECT_EQ(j["models"][0]["verify"]["rounds"], 1);
	EXPECT_TRUE(j["smallest_verified"].is_null());
	EXPECT_TRUE(j["models"][0]["pareto"].get<bool>());
}

}  // namespace
}  // namespace kmlb
