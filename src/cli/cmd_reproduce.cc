// kmlb reproduce: the README's main job. Generates the seed report's data
// set, trains the report's protocol and kmlb's, and Chen's 15-10-1 model, and
// prints each hold-out result beside the report's figures.
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "command.h"
#include "flag_checks.h"
#include "exit_codes.h"
#include "fixed_point.h"
#include "generator.h"
#include "prep.h"
#include "progress.h"
#include "sidecar.h"
#include "train_flags.h"
#include "training_outputs.h"
#include "verify.h"

namespace kmlb::cli {

namespace {

// Boxes `kmlb verify` may spend on one region of a reproduced model.
constexpr uint64_t kReproduceRegionBoxes = 1'000'000;

struct ReproduceOptions {
	uint64_t seed = 1;
	std::string out = "kmlb-reproduce";
	bool quiet = false, json = false;
};

struct Run {
	std::string name;
	TrainConfig config;
	bool whole_domain = false;  // trained on seed.csv plus the whole verify domain
};

int run_reproduce(const ReproduceOptions &o)
{
	// --json prints the JSON instead of the text, as in every command.
	std::unique_ptr<FILE, int (*)(FILE *)> null_out(o.json ? std::fopen("/dev/null", "w") : nullptr, [](FILE *f) {
		return f ? std::fclose(f) : 0;
	});
	FILE *text = null_out ? null_out.get() : stdout;
	const auto start = std::chrono::steady_clock::now();
	std::error_code ec;
	std::filesystem::create_directories(o.out, ec);
	if (ec)
		throw Error(ExitCode::kWriteError, fmt::format("{}: cannot create directory: {}", o.out, ec.message()));

	GeneratorConfig gen_cfg = preset_config(Preset::kSeed);
	gen_cfg.seed = o.seed;
	RawTrace trace;
	trace.rows = generate_states(gen_cfg).states;
	const Dataset data = prep(trace, FeatureSet::kSeed, gen_cfg.kernel);
	write_data_with_sidecar(o.out + "/seed.csv", data.to_csv(),
				{{"kind", "features"}, {"feature_set", "seed"}, {"rows", data.rows},
				 {"generator", {{"preset", "seed"}, {"seed", o.seed}, {"kernel", "5.15"}, {"teacher", "5.15"}}}});
	if (!o.quiet)
		fmt::print(stderr, "kmlb: seed preset, {} rows, seed {} -> {}/seed.csv\n", data.rows, o.seed, o.out);

	TrainConfig report = TrainConfig::report();
	TrainConfig recommended = TrainConfig::recommended();
	TrainConfig chen = TrainConfig::recommended();
	chen.hidden = {10};
	for (TrainConfig *c : {&report, &recommended, &chen})
		c->seed = o.seed;
	const std::vector<Run> runs = {{"report", report},
				       {"recommended", recommended},
				       {"chen-15-10-1", chen},
				       {"recommended-domain", recommended, true}};
	// kmlb's recommended data: the report's rows plus the whole domain that
	// kmlb verify proves (generate --preset seed-domain), same seed.
	GeneratorConfig domain_cfg = preset_config(Preset::kSeedDomain);
	domain_cfg.seed = o.seed;
	RawTrace domain_trace;
	domain_trace.rows = generate_states(domain_cfg).states;
	Dataset domain_data = prep(domain_trace, FeatureSet::kSeed, domain_cfg.kernel);
	domain_data.x.insert(domain_data.x.begin(), data.x.begin(), data.x.end());
	domain_data.y.insert(domain_data.y.begin(), data.y.begin(), data.y.end());
	domain_data.rows = domain_data.y.size();
	const VerifyDomain domain(FeatureSet::kSeed, KernelVersion::k5_15);

	nlohmann::json results = nlohmann::json::array();
	fmt::print(text, "kmlb reproduce: the seed report's data set ({} rows, seed {}), hold-out {} rows\n\n", data.rows,
		   o.seed, static_cast<size_t>(std::llround(data.rows * report.test_fraction)));
	const Calibration cal = calibration_from_dataset(data, o.out + "/seed.csv");
	fmt::print(text, "{:<40} {:>7} {:>10} {:>15} {:>11} {:>7} {:>8}  {}\n", "model / protocol", "params", "accuracy",
		   "misclassified", "fixed point", "epochs", "seconds", "kmlb verify (fixed point, whole seed domain)");
	fmt::print(text, "{:<40} {:>7} {:>10} {:>15} {:>11} {:>7} {:>8}  {}\n", "seed report (Keras, as published)", "573",
		   "0.99", "106 / 21600", "-", "-", "-", "-");
	for (const Run &run : runs) {
		EpochProgress progress(run.name, run.config.folds, run.config.max_epochs, o.quiet);
		TrainHooks hooks;
		hooks.on_epoch = [&progress](const EpochRecord &r) { progress(r); };
		const Dataset &train_data = run.whole_domain ? domain_data : data;
		const TrainResult r = train(train_data, run.config, hooks);
		progress.finish();  // end the status line before the table row
		write_training_outputs(o.out + "/" + run.name, r, run.config, train_data);
		size_t epochs = 0;
		for (const FoldResult &f : r.folds)
			epochs += f.epochs;
		if (r.refit)
			epochs += r.refit->epochs;
		const std::string label = fmt::format(
			"kmlb {} {}", run.name,
			run.name == "chen-15-10-1" ? "(recommended)" : fmt::format("(15-15-12-10-1)"));
		const Calibration train_cal = run.whole_domain ? calibration_from_dataset(domain_data, "seed + seed-domain") : cal;
		// The same model in the kernel's integer arithmetic (kmlb quantize
		// defaults), scored on the same hold-out rows.
		ModelFile file;
		file.model = r.model;
		file.feature_set = data.feature_set;
		// Calibrated on the training rows only: the hold-out stays out of sample.
		const HoldoutSplit split = holdout_split(train_data.y, run.config);
		const QuantizeResult q =
			quantize(file, calibration_rows(train_cal, split.train, train_cal.name + " (training rows)"), {});
		save_fixed_model(o.out + "/" + run.name + "/model.q.json", q.model);
		const FixedScore fixed = score_fixed(r.model, q.model, train_cal, split.test);
		// One counterexample per region is enough to tell: falsified, and where;
		// a region that takes more boxes than kReproduceRegionBoxes is left
		// undecided, so the hard regions of a falsified model cannot take the
		// whole run (and the whole box budget, leaving later regions unsearched).
		VerifyOptions vopt;
		vopt.max_per_region = 1;
		vopt.max_boxes_per_region = kReproduceRegionBoxes;
		const VerifyResult v = verify(domain, *fixed_target(q.model), vopt);
		const std::string vtext =
			v.outcome == VerifyOutcome::kFalsified
				? fmt::format("falsified ({} of {} regions{})", v.regions_wrong, v.regions,
					      v.regions_undecided
						      ? fmt::format(", {} undecided", v.regions_undecided)
						      : "")
				: std::string(outcome_name(v.outcome));
		fmt::print(text, "{:<40} {:>7} {:>10.5f} {:>7} / {:<6} {:>11} {:>7} {:>8.1f}  {} ({:.1f} s)\n", label,
			   r.model.param_count(), r.test.accuracy, r.test.misclassified, r.test.rows,
			   fixed.fixed_misclassified, epochs, r.seconds, vtext, v.seconds);
		std::fflush(stdout);
		nlohmann::json j = training_metrics(r, run.config, data);
		j["run"] = run.name;
		j["epochs_total"] = epochs;
		j["fixed_point"] = {{"frac_bits", q.chosen.frac_bits},
				    {"test_misclassified", fixed.fixed_misclassified},
				    {"test_disagreements_with_float", fixed.disagreements}};
		j["data"] = run.whole_domain ? "seed.csv + seed-domain" : "seed.csv";
		j["verify"] = v.to_json();
		results.push_back(j);
	}
	const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	nlohmann::json summary = {{"schema_version", kMetricsSchemaVersion},
				  {"seed", o.seed},
				  {"rows", data.rows},
				  {"report_figures", {{"accuracy", 0.99}, {"misclassified", 106}, {"test_rows", 21600}, {"params", 573}}},
				  {"runs", results},
				  {"seconds", secs}};
	write_file_atomic(o.out + "/reproduce.json", summary.dump(2) + "\n");
	fmt::print(text, "\nfixed point: misclassified hold-out rows of the same model quantized by kmlb quantize (calibrated on\n"
		   "its training rows); recommended-domain trains on seed.csv plus {} whole-domain rows (kmlb generate\n"
		   "--preset seed-domain), its hold-out is its own 25 %\n", domain_data.rows - data.rows);
	fmt::print(text,
		   "{:.1f} s in all; models (float and model.q.json), metrics, histories and plots in {}/\n",
		   secs, o.out);
	if (o.json)
		fmt::print("{}\n", summary.dump(2));
	return 0;
}

void add_reproduce(CLI::App &app, Job &job)
{
	auto o = std::make_shared<ReproduceOptions>();
	CLI::App *sub = app.add_subcommand(
		"reproduce", "The seed report's study end to end: its data set, its protocol, kmlb's, and Chen's model");
	sub->add_option("--seed", o->seed, "seed of the data set and of training")->check(seed_range())->capture_default_str();
	sub->add_option("--out", o->out, "output directory")->capture_default_str();
	sub->add_flag("--quiet", o->quiet, "no progress on stderr");
	sub->add_flag("--json", o->json, "print reproduce.json to stdout instead of the table");
	sub->footer("Examples:\n  kmlb reproduce\n  kmlb reproduce --seed 2 --out /tmp/r2");
	sub->final_callback([o, &job] { job = [o] { return run_reproduce(*o); }; });
}

const CommandRegistration kRegistration(5, add_reproduce);

}  // namespace

}  // namespace kmlb::cli
