// kmlb sweep: how small can the model be? Trains a grid of hidden-layer
// shapes on the seed data set with the recommended protocol, quantizes each
// one, scores float and fixed point on the seed hold-out, measures the
// exported kernel code (`kmlb bench infer`, run as a child process, so the
// numbers are the bench's own), and prints the Pareto table of size/cost
// against accuracy. Names the smallest model that imitates the teacher
// exactly in fixed point, and the smallest one kmlb verify proves exact over
// the whole domain (trained on the presets plus the whole-domain preset,
// counterexample-guided). Writes everything to sweep.json.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "command.h"
#include "flag_checks.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "dataset.h"
#include "exit_codes.h"
#include "fixed_point.h"
#include "generator.h"
#include "model_file.h"
#include "prep.h"
#include "train_flags.h"
#include "trainer.h"
#include "verified_training.h"

namespace kmlb::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kSweepSchemaVersion = 1;

struct SweepOptions {
	bool quick = false, json = false, no_callgrind = false;
	std::string out = "sweep.json";
	std::string keep_models;
	std::vector<size_t> widths, depths;
	size_t reps = 100;
	TrainFlags flags;
	std::string features = "seed", kernel;
	size_t verify_rounds = 3;
};

struct Entry {
	std::vector<size_t> hidden;
	size_t params = 0;
	int frac_bits = 0;
	FixedScore holdout, all;
	bool holdout_reproduced = true;
	double train_seconds = 0;
	nlohmann::json bench;  // the kernel path's numbers from `kmlb bench infer`
	double teacher_ns = 0;
	bool pareto = false;
	std::string inputs = "15";
	VerifyOutcome verified = VerifyOutcome::kUnknown;  // of the last round
	size_t rounds = 0;
	size_t counterexamples = 0;  // of the last round
	double verify_seconds = 0;   // all rounds

	std::string shape() const
	{
		std::string s = inputs;
		for (size_t h : hidden)
			s += fmt::format("-{}", h);
		return s + "-1";
	}
	double cost() const  // what the Pareto front trades accuracy against
	{
		return bench.is_object() && bench.contains("instructions") ? bench["instructions"].get<double>()
									    : static_cast<double>(params);
	}
};


// `kmlb bench infer` on one model: the teacher and the exported kernel path.
nlohmann::json bench_model(const std::string &model_path, const SweepOptions &o)
{
	const std::string cmd = fmt::format("{} bench infer --model {} --paths teacher,kernel --json --reps {}{} 2>/dev/null",
					    shell_quote(self_executable()), shell_quote(model_path), o.reps,
					    o.no_callgrind ? " --no-callgrind" : "");
	const CommandOutput r = run_command(cmd, /*merge_stderr=*/false);
	if (r.exit_code != 0)
		throw Error(ExitCode::kFailure, fmt::format("kmlb bench infer failed on {}", model_path));
	return nlohmann::json::parse(r.output);
}

void mark_pareto(std::vector<Entry> &entries)
{
	// Not dominated: no other model is at most as costly and at most as
	// wrong on the hold-out, and strictly better in one of the two.
	for (Entry &e : entries) {
		e.pareto = true;
		for (const Entry &f : entries) {
			const bool no_worse = f.cost() <= e.cost() && f.holdout.fixed_misclassified <= e.holdout.fixed_misclassified;
			const bool better = f.cost() < e.cost() || f.holdout.fixed_misclassified < e.holdout.fixed_misclassified;
			if (&f != &e && no_worse && better)
				e.pareto = false;
		}
	}
}

enum class Exact { kHoldout, kAllRows, kVerified };

const Entry *smallest(const std::vector<Entry> &entries, Exact by)
{
	const Entry *best = nullptr;
	for (const Entry &e : entries) {
		const bool exact = by == Exact::kVerified ? e.verified == VerifyOutcome::kVerified
				   : by == Exact::kAllRows ? e.all.fixed_misclassified == 0
							   : e.holdout.fixed_misclassified == 0;
		if (!exact)
			continue;
		if (!best || e.params < best->params || (e.params == best->params && e.cost() < best->cost()))
			best = &e;
	}
	return best;
}

nlohmann::json entry_json(const Entry &e)
{
	nlohmann::json j = {
		{"shape", e.shape()},
		{"hidden", e.hidden},
		{"params", e.params},
		{"frac_bits", e.frac_bits},
		{"holdout",
		 {{"rows", e.holdout.rows},
		  {"float_misclassified", e.holdout.float_misclassified},
		  {"fixed_misclassified", e.holdout.fixed_misclassified},
		  {"disagreements", e.holdout.disagreements},
		  {"reproduced", e.holdout_reproduced}}},
		{"all_rows",
		 {{"rows", e.all.rows},
		  {"float_misclassified", e.all.float_misclassified},
		  {"fixed_misclassified", e.all.fixed_misclassified},
		  {"disagreements", e.all.disagreements}}},
		{"kernel_path", e.bench},
		{"teacher_ns", e.teacher_ns},
		{"train_seconds", e.train_seconds},
		{"pareto", e.pareto},
		{"verify",
		 {{"result", outcome_name(e.verified)},
		  {"rounds", e.rounds},
		  {"counterexamples", e.counterexamples},
		  {"seconds", e.verify_seconds}}},
	};
	return j;
}

int run_sweep(const SweepOptions &o)
{
	const auto start = Clock::now();
	if (!o.flags.hidden.empty())
		throw Error(ExitCode::kUsage, "sweep trains a grid: use --widths and --depths, not --hidden");
	std::vector<size_t> widths = o.widths, depths = o.depths;
	if (widths.empty())
		widths = o.quick ? std::vector<size_t>{2, 4, 8, 16} : std::vector<size_t>{2, 3, 4, 6, 8, 12, 16};
	if (depths.empty())
		depths = o.quick ? std::vector<size_t>{1, 2} : std::vector<size_t>{1, 2, 3};
	for (size_t w : widths)
		if (w < 1 || w > kMaxFixedWidth)
			throw Error(ExitCode::kUsage, fmt::format("--widths: {} is outside 1..{}", w, kMaxFixedWidth));
	for (size_t d : depths)
		if (d < 1 || d > 8)
			throw Error(ExitCode::kUsage, fmt::format("--depths: {} is outside 1..8", d));
	TrainConfig base = o.flags.config();
	const FeatureSet set = parse_feature_set(o.features);
	VerifiedTrainingOptions vopt;
	vopt.kernel = parse_kernel_version(o.kernel.empty() ? (set == FeatureSet::kSeed ? "5.15" : "6.1") : o.kernel);
	vopt.max_rounds = o.verify_rounds;

	// The recommended data: the presets' distribution (seed: the report's
	// data set; modern: the three load presets) plus the whole verify
	// domain (generate --preset seed-domain|modern-domain), --seed 1.
	RawTrace trace;
	const std::vector<Preset> presets = set == FeatureSet::kSeed
						    ? std::vector<Preset>{Preset::kSeed, Preset::kSeedDomain}
						    : std::vector<Preset>{Preset::kIdle, Preset::kBalanced, Preset::kOverloaded,
									  Preset::kModernDomain};
	for (Preset p : presets) {
		GeneratorConfig gc = preset_config(p);
		gc.kernel = vopt.kernel;
		const GeneratedStates g = generate_states(gc);
		trace.rows.insert(trace.rows.end(), g.states.begin(), g.states.end());
	}
	const Dataset data = prep(trace, set, vopt.kernel);

	// Models go to --keep-models, or to a directory removed at the end.
	std::optional<TempDir> scratch;
	if (o.keep_models.empty())
		scratch.emplace("kmlb-sweep");
	const fs::path work = scratch ? scratch->path() : fs::path(o.keep_models);
	std::error_code ec;
	fs::create_directories(work, ec);
	if (ec)
		throw Error(ExitCode::kWriteError, fmt::format("{}: cannot create: {}", work.string(), ec.message()));

	std::vector<Entry> entries;
	const size_t total = widths.size() * depths.size();
	for (size_t d : depths)
		for (size_t w : widths) {
			Entry e;
			e.inputs = std::to_string(feature_count(set));
			e.hidden.assign(d, w);
			TrainConfig c = base;
			c.hidden = e.hidden;
			fmt::print(stderr, "kmlb sweep: [{}/{}] {}: training ({} protocol)...\n", entries.size() + 1, total,
				   e.shape(), c.name);
			// Trained until verified (counterexample-guided, --verify-rounds),
			// quantized on its training rows.
			const VerifiedTrainingResult v = train_until_verified(data, c, vopt);
			const TrainResult &r = v.train;
			for (const VerifiedRound &vr : v.rounds)
				e.verify_seconds += vr.verification.seconds;
			e.train_seconds = r.seconds;
			e.rounds = v.rounds.size();
			e.verified = v.rounds.back().verification.outcome;
			e.counterexamples = v.rounds.back().verification.counterexamples.size();
			const Calibration cal = calibration_from_dataset(v.data, "training data");
			ModelFile file;
			file.model = r.model;
			file.feature_set = set;
			file.training = c;
			file.data_hash = r.data_hash;
			file.metrics = r.metrics_json(false);
			e.params = r.model.param_count();
			const FixedModel &fixed = v.fixed;
			e.frac_bits = fixed.frac_bits;
			e.holdout = score_fixed(file.model, fixed, cal, holdout_split(cal.y, c).test);
			e.holdout_reproduced = holdout_matches_metrics(file, e.holdout);
			e.all = score_fixed(file.model, fixed, cal);
			const std::string path = (work / fmt::format("sweep-{}.model.json", e.shape())).string();
			save_model(path, file);
			save_fixed_model((work / fmt::format("sweep-{}.q.json", e.shape())).string(), fixed);
			fmt::print(stderr, "kmlb sweep: [{}/{}] {}: measuring the kernel path...\n", entries.size() + 1, total,
				   e.shape());
			try {
				const nlohmann::json bench = bench_model(path, o);
				for (const auto &p : bench["models"][0]["paths"])
					if (p["path"] == "kernel")
						e.bench = p;
				e.teacher_ns = bench["teacher"]["median_ns"].get<double>();
			} catch (const std::exception &err) {
				// One model's measurement failing should not lose the others.
				fmt::print(stderr, "kmlb sweep: {}: not measured: {}\n", e.shape(), err.what());
				e.bench = {{"note", err.what()}};
			}
			entries.push_back(std::move(e));
		}
	mark_pareto(entries);
	std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
		return a.params != b.params ? a.params < b.params : a.shape() < b.shape();
	});
	const Entry *exact_holdout = smallest(entries, Exact::kHoldout);
	const Entry *exact_all = smallest(entries, Exact::kAllRows);
	const Entry *exact_verified = smallest(entries, Exact::kVerified);
	const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

	nlohmann::json out = {
		{"schema_version", kSweepSchemaVersion},
		{"data",
		 {{"presets", set == FeatureSet::kSeed ? "seed + seed-domain" : "idle + balanced + overloaded + modern-domain"},
		  {"feature_set", feature_set_name(set)},
		  {"kernel", canonical_name(vopt.kernel)},
		  {"rows", data.rows},
		  {"data_hash", data.content_hash()}}},
		{"training", base.to_json()},
		{"grid", {{"widths", widths}, {"depths", depths}}},
		{"models", nlohmann::json::array()},
		{"smallest_exact_holdout", exact_holdout ? nlohmann::json(exact_holdout->shape()) : nlohmann::json()},
		{"smallest_exact_all_rows", exact_all ? nlohmann::json(exact_all->shape()) : nlohmann::json()},
		{"smallest_verified", exact_verified ? nlohmann::json(exact_verified->shape()) : nlohmann::json()},
		{"pareto_cost", o.no_callgrind ? "parameters" : "instructions per decision (callgrind)"},
		{"seconds", seconds},
	};
	for (const Entry &e : entries)
		out["models"].push_back(entry_json(e));
	write_file_atomic(o.out, out.dump(2) + "\n");

	if (o.json) {
		fmt::print("{}\n", out.dump(2));
		return 0;
	}
	fmt::print("'{}' features, {} rows ({}); hold-out and all rows of the last round; verify = kmlb verify of the "
		   "fixed-point model over the whole domain (rounds); kernel path = exported C, callgrind and wall time\n",
		   feature_set_name(set), data.rows, out["data"]["presets"].get<std::string>());
	fmt::print("{:<16} {:>6} {:>3}  {:>10} {:>10}  {:>9} {:>9}  {:>13}  {:>8} {:>7} {:>9} {:>7}  {}\n", "model", "params",
		   "F", "hold float", "hold fixed", "all float", "all fixed", "verify", "instr", "instr/p", "ns", "vs tchr",
		   "pareto");
	for (const Entry &e : entries) {
		const bool has_ir = e.bench.is_object() && e.bench.contains("instructions");
		const double ns = e.bench.is_object() ? e.bench.value("median_ns", 0.0) : 0.0;
		fmt::print("{:<16} {:>6} {:>3}  {:>10} {:>10}  {:>9} {:>9}  {:>13}  {:>8} {:>7} {:>9.1f} {:>6.2f}x  {}\n",
			   e.shape(), e.params, e.frac_bits, e.holdout.float_misclassified, e.holdout.fixed_misclassified,
			   e.all.float_misclassified, e.all.fixed_misclassified,
			   fmt::format("{} ({})", outcome_name(e.verified), e.rounds),
			   has_ir ? fmt::format("{:.0f}", e.bench["instructions"].get<double>()) : "-",
			   has_ir ? fmt::format("{:.2f}", e.bench["instructions"].get<double>() / e.params) : "-", ns,
			   e.teacher_ns > 0 ? ns / e.teacher_ns : 0.0, e.pareto ? "*" : "");
	}
	fmt::print("misclassified rows; * = Pareto-optimal in ({}, fixed-point hold-out errors)\n",
		   out["pareto_cost"].get<std::string>());
	fmt::print("smallest model imitating the teacher exactly in fixed point: {} on the hold-out, {} on every row\n",
		   exact_holdout ? exact_holdout->shape() : "none", exact_all ? exact_all->shape() : "none");
	fmt::print("smallest verified-exact model (kmlb verify over the whole '{}' domain, teacher {}): {}\n",
		   feature_set_name(set), canonical_name(vopt.kernel), exact_verified ? exact_verified->shape() : "none");
	for (const Entry &e : entries)
		if (!e.holdout_reproduced)
			fmt::print("warning: {}: the trainer's hold-out could not be reproduced; its hold-out columns "
				   "may be off\n",
				   e.shape());
	fmt::print("{}: {} models in {:.0f} s\n", o.out, entries.size(), seconds);
	return 0;
}

void add_sweep(CLI::App &app, Job &job)
{
	auto o = std::make_shared<SweepOptions>();
	CLI::App *sub = app.add_subcommand("sweep", "Train, quantize and measure a grid of model sizes; Pareto table");
	sub->add_flag("--quick", o->quick, "a smaller grid: widths 2,4,8,16 x depths 1,2 (about 2 minutes; full: about 7)");
	sub->add_option("--widths", o->widths, "hidden widths (default 2,3,4,6,8,12,16)")
		->delimiter(',')
		->check(int_range(1, kMaxHiddenWidth));
	sub->add_option("--depths", o->depths, "hidden layers (default 1,2,3); every layer has the same width")
		->delimiter(',')
		->check(int_range(1, kMaxHiddenLayers));
	sub->add_option("--out", o->out, "results file")->capture_default_str();
	sub->add_option("--reps", o->reps, "timed batches per model (kmlb bench infer --reps)")
		->check(int_range(1, 1'000'000))
		->capture_default_str();
	sub->add_flag("--no-callgrind", o->no_callgrind, "skip instruction counts (the Pareto front then uses parameters)");
	sub->add_option("--keep-models", o->keep_models, "directory to keep every model and its quantized form");
	sub->add_flag("--json", o->json, "print sweep.json to stdout instead of the table");
	sub->add_option("--features", o->features, "seed|modern")->capture_default_str();
	sub->add_option("--kernel", o->kernel, "teacher version (default 5.15 for seed, 6.1 for modern)");
	sub->add_option("--verify-rounds", o->verify_rounds,
			"counterexample-guided trainings per model (kmlb train --verify-rounds)")
		->capture_default_str();
	o->flags.add_to(sub);
	sub->footer("Examples:\n  kmlb sweep --quick\n  kmlb sweep --out sweep.json --keep-models sweep-models\n"
		    "  kmlb sweep --widths 4,8 --depths 1 --no-callgrind");
	sub->final_callback([o, &job] { job = [o] { return run_sweep(*o); }; });
}

const CommandRegistration kRegistration(90, add_sweep);

}  // namespace

}  // namespace kmlb::cli
