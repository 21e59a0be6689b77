// kmlb study-real: what the models learn from real kernel decisions. For a
// run of `kmlb vm collect` (one raw CSV per load phase) and each feature
// set: teacher agreement per phase; a model trained on the run (hold-out
// accuracy); train at one load, test at another (Chen saw 85 %); models
// trained on distilled data tested on the real rows. Beside each accuracy,
// the ceiling: the best any model could reach with that feature set on those
// rows (identical inputs carrying both labels).
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>

#include "agreement.h"
#include "atomic_file.h"
#include "ceiling.h"
#include "command.h"
#include "flag_checks.h"
#include "exit_codes.h"
#include "generator.h"
#include "prep.h"
#include "raw_schema.h"
#include "trainer.h"

namespace kmlb::cli {

namespace {

struct StudyOptions {
	std::vector<std::string> runs;
	std::string kernel = "6.1";
	std::string out;
	uint64_t seed = 1;
	size_t synthetic_rows = 0;
	size_t epochs = 0;  // 0: the recommended protocol's  // 0: the seed preset's 86,400 and 50,000 per load preset
	bool json = false;
};

struct Phase {
	int load_pct;
	RawTrace trace;
};

std::vector<Phase> read_run(const std::string &dir)
{
	const std::string phases_path = dir + "/phases.json";
	nlohmann::json phases;
	try {
		phases = nlohmann::json::parse(read_file(phases_path));
	} catch (const nlohmann::json::exception &e) {
		throw Error(ExitCode::kBadData, fmt::format("{}: {}", phases_path, e.what()));
	}
	std::vector<Phase> out;
	for (const auto &p : phases) {
		if (!p.contains("load_pct") || !p.contains("file"))
			throw Error(ExitCode::kBadData, fmt::format("{}: a phase lacks load_pct or file", phases_path));
		out.push_back({p["load_pct"].get<int>(), read_raw_csv(dir + "/" + p["file"].get<std::string>())});
	}
	return out;
}

Dataset concat(const std::vector<const Dataset *> &parts)
{
	Dataset d;
	d.feature_set = parts.front()->feature_set;
	d.cols = parts.front()->cols;
	for (const Dataset *p : parts) {
		d.x.insert(d.x.end(), p->x.begin(), p->x.end());
		d.y.insert(d.y.end(), p->y.begin(), p->y.end());
	}
	d.rows = d.y.size();
	return d;
}

struct Score {
	EvalResult eval;
	LabelCeiling ceiling;  // without loads (see ceiling.h)
	LabelCeiling ceiling_all_features;
};

Score score(const Mlp &model, const Dataset &d)
{
	return {evaluate(model, d), label_ceiling_without_loads(d), label_ceiling(d)};
}

nlohmann::json score_json(const Score &s)
{
	return {{"rows", s.eval.rows},
		{"accuracy", s.eval.accuracy},
		{"misclassified", s.eval.misclassified},
		{"ceiling", s.ceiling.accuracy()},
		{"ceiling_conflicting_rows", s.ceiling.conflicting_rows},
		{"ceiling_all_features", s.ceiling_all_features.accuracy()}};
}

std::string cell(const Score &s)
{
	return fmt::format("{:.6f} ({}/{}) | {:.6f}", s.eval.accuracy, s.eval.misclassified, s.eval.rows,
			   s.ceiling.accuracy());
}

TrainConfig study_config(const StudyOptions &o)
{
	TrainConfig c = TrainConfig::recommended();
	c.seed = o.seed;
	if (o.epochs)
		c.max_epochs = o.epochs;
	return c;
}

int run_study(const StudyOptions &o)
{
	// --json prints the JSON instead of the text, as in every command.
	std::unique_ptr<FILE, int (*)(FILE *)> null_out(o.json ? std::fopen("/dev/null", "w") : nullptr, [](FILE *f) {
		return f ? std::fclose(f) : 0;
	});
	FILE *text = null_out ? null_out.get() : stdout;
	const KernelVersion version = parse_kernel_version(o.kernel);
	nlohmann::json report = {{"schema_version", 1}, {"kernel", o.kernel}, {"seed", o.seed}, {"runs", nlohmann::json::array()}};

	// Read every run first: bad input fails before minutes of training.
	std::vector<std::vector<Phase>> runs;
	for (const std::string &dir : o.runs)
		runs.push_back(read_run(dir));

	// Models trained on distilled data, once: the report's data set (seed
	// features) and a mix of the three load presets (modern features).
	fmt::print(stderr, "kmlb: training on distilled data ...\n");
	GeneratorConfig seed_cfg = preset_config(Preset::kSeed);
	seed_cfg.seed = o.seed;
	if (o.synthetic_rows)
		seed_cfg.rows = o.synthetic_rows;
	RawTrace seed_trace;
	seed_trace.rows = generate_states(seed_cfg).states;
	const Mlp synthetic_seed = train(prep(seed_trace, FeatureSet::kSeed), study_config(o)).model;
	RawTrace mix;
	for (Preset p : {Preset::kIdle, Preset::kBalanced, Preset::kOverloaded}) {
		GeneratorConfig cfg = preset_config(p);
		if (o.synthetic_rows)
			cfg.rows = o.synthetic_rows;
		cfg.kernel = version;
		cfg.seed = o.seed;
		auto states = generate_states(cfg).states;
		mix.rows.insert(mix.rows.end(), states.begin(), states.end());
	}
	const Mlp synthetic_modern = train(prep(mix, FeatureSet::kModern), study_config(o)).model;

	for (size_t r = 0; r < o.runs.size(); ++r) {
		const std::string &dir = o.runs[r];
		const std::vector<Phase> &phases = runs[r];
		nlohmann::json run = {{"dir", dir}, {"phases", nlohmann::json::array()}};
		fmt::print(text, "\n## {}\n\n| load | rows | can_migrate = 1 | kept rows | teacher {} agreement |\n|---:|---:|---:|---:|---:|\n",
			   dir, o.kernel);
		for (const Phase &ph : phases) {
			const Agreement a = compare_with_teacher(ph.trace, version);
			fmt::print(text, "| {} % | {} | {:.1f} % | {} | {:.6f} ({}/{}) |\n", ph.load_pct, a.rows,
				   a.rows ? 100.0 * a.migrate / a.rows : 0.0, a.kept, a.agreement(), a.agree, a.recorded);
			run["phases"].push_back({{"load_pct", ph.load_pct}, {"teacher", a.to_json()}});
		}
		for (FeatureSet set : {FeatureSet::kSeed, FeatureSet::kModern}) {
			const std::string set_name(feature_set_name(set));
			std::vector<Dataset> per_phase;
			for (const Phase &ph : phases)
				per_phase.push_back(prep(ph.trace, set));
			std::vector<const Dataset *> parts;
			for (const Dataset &d : per_phase)
				parts.push_back(&d);
			const Dataset all = concat(parts);
			fmt::print(stderr, "kmlb: {} {} features: training on {} real rows ...\n", dir, set_name, all.rows);
			nlohmann::json js = {{"feature_set", set_name}, {"rows", all.rows}};

			fmt::print(text, "\n{} features (accuracy (misclassified/rows) | ceiling without loads):\n\n"
				   "| trained on | tested on | accuracy | ceiling |\n|---|---|---:|---:|\n",
				   set_name);
			// In distribution: the trainer's stratified hold-out of the whole run.
			const TrainResult whole = train(all, study_config(o));
			const Score in_dist{whole.test, label_ceiling_without_loads(all), label_ceiling(all)};
			fmt::print(text, "| this run, 75 % | this run, 25 % hold-out | {} |\n", cell(in_dist));
			js["in_distribution"] = score_json(in_dist);

			// Across load levels.
			js["across_loads"] = nlohmann::json::array();
			for (size_t a = 0; a < phases.size(); ++a) {
				if (per_phase[a].rows < 100) {
					fmt::print(text, "| {} % | – | too few rows ({}) to train |\n", phases[a].load_pct, per_phase[a].rows);
					continue;
				}
				const Mlp model = train(per_phase[a], study_config(o)).model;
				for (size_t b = 0; b < phases.size(); ++b) {
					if (a == b || per_phase[b].rows == 0)
						continue;
					const Score s = score(model, per_phase[b]);
					fmt::print(text, "| {} % load | {} % load | {} |\n", phases[a].load_pct, phases[b].load_pct, cell(s));
					nlohmann::json j = score_json(s);
					j["train_load_pct"] = phases[a].load_pct;
					j["test_load_pct"] = phases[b].load_pct;
					js["across_loads"].push_back(j);
				}
			}

			// Distilled data -> real rows.
			const Mlp &synthetic = set == FeatureSet::kSeed ? synthetic_seed : synthetic_modern;
			const Score syn = score(synthetic, all);
			fmt::print(text, "| distilled: {} | all real rows | {} |\n",
				   set == FeatureSet::kSeed ? "`seed` preset (the report's data)" : "idle+balanced+overloaded presets",
				   cell(syn));
			js["synthetic_to_real"] = score_json(syn);
			run[set_name] = js;
		}
		report["runs"].push_back(run);
	}
	if (!o.out.empty())
		write_file_atomic(o.out, report.dump(2) + "\n");
	if (o.json)
		fmt::print("{}\n", report.dump(2));
	return 0;
}

void add_study_real(CLI::App &app, Job &job)
{
	auto o = std::make_shared<StudyOptions>();
	CLI::App *sub = app.add_subcommand("study-real", "Learn from real decisions: hold-out, across loads, distilled -> real, with ceilings");
	sub->add_option("--runs", o->runs, "directories written by kmlb vm collect")->required()->delimiter(',');
	sub->add_option("--kernel", o->kernel, "kernel version of the runs")->capture_default_str();
	sub->add_option("--seed", o->seed, "seed of training and of the distilled data")
		->check(seed_range())
		->capture_default_str();
	sub->add_option("--synthetic-rows", o->synthetic_rows,
			"states per distilled data set (default: the seed preset's 86,400 and 50,000 per load preset)")
		->check(int_range(1, kMaxRows));
	sub->add_option("--epochs", o->epochs, "cap on epochs per fold (default: the recommended protocol's)")
		->check(int_range(1, 1'000'000));
	sub->add_option("--out", o->out, "write the results as JSON here");
	sub->add_flag("--json", o->json, "print the results as JSON instead of the tables");
	sub->footer("Example:\n  kmlb vm collect --seconds 60 --out runs/2s\n"
		    "  kmlb study-real --runs runs/2s,runs/4n --out runs/study.json");
	sub->final_callback([o, &job] { job = [o] { return run_study(*o); }; });
}

const CommandRegistration kRegistration(105, add_study_real);

}  // namespace

}  // namespace kmlb::cli
