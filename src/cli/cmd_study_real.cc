// kmlb study-real: what the models learn from real kernel decisions. For a
// run of `kmlb vm collect` (one raw CSV per load phase) and each feature
// set: teacher agreement per phase; a model trained on the run (hold-out
// accuracy); train at one load, test at another (Chen saw 85 %); models
// trained on distilled data tested on the real rows. Beside each accuracy,
// the ceiling: the best any model could reach with that feature set on those
// rows (identical inputs carrying both labels).
//
// With runs of several kernels (--kernels, one per run) it adds the study
// across kernels, every cell out of sample (tested on runs the model never
// saw, collected separately): each kernel's teacher on every kernel's
// recorded rows; models trained on one run's real rows tested on every other
// run; models trained only on distilled data labelled by a kernel's teacher
// tested on every run.
#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <set>
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
	std::vector<std::string> kernels;  // one per run (default: kernel for all)
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

// The three load presets labelled with `version`'s teacher (modern features).
RawTrace distilled_mix(const StudyOptions &o, KernelVersion version)
{
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
	return mix;
}

RawTrace whole_run(const std::vector<Phase> &phases)
{
	RawTrace t;
	for (const Phase &ph : phases)
		t.rows.insert(t.rows.end(), ph.trace.rows.begin(), ph.trace.rows.end());
	return t;
}

// Study across kernels: runs[i] was recorded on o.kernels[i]; distilled[k]
// is the model trained on distilled data labelled by kernel k's teacher.
nlohmann::json across_kernels(const StudyOptions &o, const std::vector<std::vector<Phase>> &runs,
			      const std::map<std::string, Mlp> &distilled, FILE *text)
{
	const std::vector<std::string> &names = o.kernels;
	std::vector<RawTrace> raw;
	std::vector<Dataset> data;
	for (size_t r = 0; r < runs.size(); ++r) {
		raw.push_back(whole_run(runs[r]));
		data.push_back(prep(raw.back(), FeatureSet::kModern, parse_kernel_version(names[r])));
	}
	nlohmann::json j = {{"feature_set", "modern"},
			    {"teachers", nlohmann::json::array()},
			    {"real_to_real", nlohmann::json::array()},
			    {"distilled_to_real", nlohmann::json::array()}};
	const auto label = [&](size_t r) { return fmt::format("{} {}", names[r], o.runs[r]); };
	const auto run_json = [&](size_t r) { return nlohmann::json{{"run", o.runs[r]}, {"kernel", names[r]}}; };

	fmt::print(text, "\n## Across kernels\n\nTeacher of one kernel on the recorded decisions of another "
		   "(agreement, disagreeing rows / rows):\n\n| teacher | recorded on | agreement |\n|---|---|---:|\n");
	for (const auto &[k, unused] : distilled) {
		const KernelVersion v = parse_kernel_version(k);
		for (size_t r = 0; r < runs.size(); ++r) {
			const Agreement a = compare_with_teacher(raw[r], v);
			fmt::print(text, "| {} | {} | {:.6f} ({}/{}) |\n", k, label(r), a.agreement(), a.disagree,
				   a.recorded);
			j["teachers"].push_back({{"teacher", k},
						 {"test", run_json(r)},
						 {"agreement", a.agreement()},
						 {"disagree", a.disagree},
						 {"recorded", a.recorded}});
		}
	}

	fmt::print(text, "\nModels (`modern` features), each tested only on runs it never saw "
		   "(accuracy (misclassified/rows) | ceiling without loads):\n\n"
		   "| trained on | tested on | accuracy | ceiling |\n|---|---|---:|---:|\n");
	const auto add = [&](const char *key, const std::string &train_label, nlohmann::json train_json,
			     const Mlp &model, size_t b) {
		const Score sc = score(model, data[b]);
		fmt::print(text, "| {} | {} | {} |\n", train_label, label(b), cell(sc));
		nlohmann::json c = score_json(sc);
		c["train"] = std::move(train_json);
		c["test"] = run_json(b);
		j[key].push_back(c);
	};
	for (size_t a = 0; a < runs.size(); ++a) {
		if (data[a].rows < 100)
			continue;
		fmt::print(stderr, "kmlb: across kernels: training on {} ({} rows) ...\n", label(a), data[a].rows);
		const Mlp model = train(data[a], study_config(o)).model;
		for (size_t b = 0; b < runs.size(); ++b)
			if (b != a && data[b].rows)
				add("real_to_real", "real: " + label(a), run_json(a), model, b);
	}
	for (const auto &[k, model] : distilled)
		for (size_t b = 0; b < runs.size(); ++b)
			if (data[b].rows)
				add("distilled_to_real", fmt::format("distilled only, {} teacher", k),
				    {{"distilled", k}}, model, b);
	return j;
}

int run_study(const StudyOptions &opts)
{
	StudyOptions o = opts;
	if (o.kernels.empty())
		o.kernels.assign(o.runs.size(), o.kernel);
	if (o.kernels.size() != o.runs.size())
		throw Error(ExitCode::kUsage, fmt::format("--kernels names {} kernels for {} runs: one per run",
							  o.kernels.size(), o.runs.size()));
	for (const std::string &k : o.kernels)
		parse_kernel_version(k);
	// --json prints the JSON instead of the text, as in every command.
	std::unique_ptr<FILE, int (*)(FILE *)> null_out(o.json ? std::fopen("/dev/null", "w") : nullptr, [](FILE *f) {
		return f ? std::fclose(f) : 0;
	});
	FILE *text = null_out ? null_out.get() : stdout;
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
	const Mlp synthetic_seed = train(prep(seed_trace, FeatureSet::kSeed, seed_cfg.kernel), study_config(o)).model;
	std::map<std::string, Mlp> synthetic_modern;  // per kernel of the runs
	for (const std::string &k : o.kernels)
		if (!synthetic_modern.count(k))
			synthetic_modern.emplace(
				k, train(prep(distilled_mix(o, parse_kernel_version(k)), FeatureSet::kModern, parse_kernel_version(k)), study_config(o))
					   .model);

	for (size_t r = 0; r < o.runs.size(); ++r) {
		const std::string &dir = o.runs[r];
		const std::vector<Phase> &phases = runs[r];
		const KernelVersion run_version = parse_kernel_version(o.kernels[r]);
		nlohmann::json run = {{"dir", dir}, {"kernel", o.kernels[r]}, {"phases", nlohmann::json::array()}};
		fmt::print(text, "\n## {}\n\n| load | rows | can_migrate = 1 | kept rows | teacher {} agreement |\n|---:|---:|---:|---:|---:|\n",
			   dir, o.kernels[r]);
		for (const Phase &ph : phases) {
			const Agreement a = compare_with_teacher(ph.trace, run_version);
			fmt::print(text, "| {} % | {} | {:.1f} % | {} | {:.6f} ({}/{}) |\n", ph.load_pct, a.rows,
				   a.rows ? 100.0 * a.migrate / a.rows : 0.0, a.kept, a.agreement(), a.agree, a.recorded);
			run["phases"].push_back({{"load_pct", ph.load_pct}, {"teacher", a.to_json()}});
		}
		for (FeatureSet set : {FeatureSet::kSeed, FeatureSet::kModern}) {
			const std::string set_name(feature_set_name(set));
			std::vector<Dataset> per_phase;
			for (const Phase &ph : phases)
				per_phase.push_back(prep(ph.trace, set, run_version));
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
			const Mlp &synthetic = set == FeatureSet::kSeed ? synthetic_seed : synthetic_modern.at(o.kernels[r]);
			const Score syn = score(synthetic, all);
			fmt::print(text, "| distilled: {} | all real rows | {} |\n",
				   set == FeatureSet::kSeed ? "`seed` preset (the report's data)" : "idle+balanced+overloaded presets",
				   cell(syn));
			js["synthetic_to_real"] = score_json(syn);
			run[set_name] = js;
		}
		report["runs"].push_back(run);
	}
	if (std::set<std::string>(o.kernels.begin(), o.kernels.end()).size() > 1)
		report["across_kernels"] = across_kernels(o, runs, synthetic_modern, text);
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
	sub->add_option("--kernels", o->kernels,
			"kernel of each run, in --runs order (e.g. 6.1,6.12,7.x); several kernels add the study across kernels")
		->delimiter(',');
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
		    "  kmlb study-real --runs runs/2s,runs/4n --out runs/study.json\n"
		    "  kmlb study-real --runs a/2s,b/2s,c/2s --kernels 6.1,6.12,7.x --out runs/across.json");
	sub->final_callback([o, &job] { job = [o] { return run_study(*o); }; });
}

const CommandRegistration kRegistration(105, add_study_real);

}  // namespace

}  // namespace kmlb::cli
