// kmlb generate: distilled data sets (seeded kernel states labelled by the teacher).
#include <chrono>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>

#include "command.h"
#include "atomic_file.h"
#include "exit_codes.h"
#include "flag_checks.h"
#include "prep.h"
#include "generator.h"
#include "raw_schema.h"
#include "sidecar.h"

namespace kmlb::cli {

namespace {

struct GenerateOptions {
	std::string preset = "seed";
	uint64_t seed = 1;
	size_t rows = 0;  // 0: the preset's
	std::string kernel = kDefaultKernel;
	std::string format = "features";
	std::string features = "seed";
	std::string out;
	int nodes = 2;
	int64_t migration_cost_ns = 500000;
	int numa_balancing = 1;
	bool json = false;
};

int run_generate(const GenerateOptions &o)
{
	const auto start = std::chrono::steady_clock::now();
	const bool to_stream = is_stream_output(o.out);
	if (to_stream && o.json)
		throw Error(ExitCode::kUsage, fmt::format("--json prints the sidecar, which --out {} does not get; "
							  "write to a file or leave out --json", o.out));
	GeneratorConfig cfg = preset_config(parse_preset(o.preset));
	cfg.seed = o.seed;
	if (o.rows)
		cfg.rows = o.rows;
	cfg.kernel = parse_kernel_version(o.kernel);
	cfg.nodes = o.nodes;
	cfg.migration_cost_ns = o.migration_cost_ns;
	cfg.numa_balancing = o.numa_balancing;
	if (cfg.preset == Preset::kSeed &&
	    (o.nodes != 2 || o.migration_cost_ns != 500000 || o.numa_balancing != 1))
		throw Error(ExitCode::kUsage,
			    "the seed preset fixes --nodes 2, --migration-cost-ns 500000 and --numa-balancing 1");
	const FeatureSet set = parse_feature_set(o.features);

	GeneratedStates gen = generate_states(cfg);
	RawTrace trace;
	trace.rows = std::move(gen.states);  // the states now live in trace.rows
	trace.file = o.out;

	std::string data;
	size_t rows_out = 0;
	uint64_t class1 = 0;
	nlohmann::json columns = nlohmann::json::array();
	if (o.format == "raw") {
		data.reserve(trace.rows.size() * 200);
		append_raw_header(data);
		for (const auto &s : trace.rows) {
			append_raw_row(data, s);
			class1 += s.can_migrate == 1;
		}
		rows_out = trace.rows.size();
		for (auto name : raw_column_names())
			columns.push_back(name);
	} else if (o.format == "features") {
		const Dataset d = prep(trace, set, cfg.kernel);
		data = d.to_csv();
		rows_out = d.rows;
		for (uint8_t y : d.y)
			class1 += y;
		for (auto name : feature_names(set))
			columns.push_back(name);
		columns.push_back(kLabelName);
	} else {
		throw Error(ExitCode::kUsage, fmt::format("unknown --format '{}' (raw, features)", o.format));
	}

	nlohmann::json reasons = nlohmann::json::object();
	std::vector<uint64_t> by_reason(kReasonCount, 0);
	for (const auto &d : gen.decisions)
		++by_reason[static_cast<size_t>(d.reason)];
	for (int r = 0; r < kReasonCount; ++r)
		if (by_reason[r])
			reasons[std::string(reason_name(static_cast<Reason>(r)))] = by_reason[r];

	nlohmann::json meta = {
		{"kind", o.format},
		{"feature_set", o.format == "features" ? nlohmann::json(feature_set_name(set)) : nlohmann::json()},
		{"columns", columns},
		{"label", kLabelName},
		{"rows", rows_out},
		{"states", trace.rows.size()},
		{"generator",
		 {{"preset", preset_name(cfg.preset)},
		  {"seed", cfg.seed},
		  {"kernel", o.kernel},
		  {"teacher", canonical_name(cfg.kernel)},
		  {"nodes", cfg.nodes},
		  {"cores_per_node", cfg.cores_per_node},
		  {"threads_per_core", cfg.threads_per_core},
		  {"migration_cost_ns", cfg.migration_cost_ns},
		  {"numa_balancing", cfg.numa_balancing}}},
		{"class_counts", {{"0", rows_out - class1}, {"1", class1}}},
		{"reasons_all_states", reasons},
	};
	write_data_with_sidecar(o.out, data, meta);

	const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	if (o.json) {
		fmt::print("{}\n", meta.dump(2));
	} else {
		// With the data on stdout the summary goes to stderr.
		fmt::print(to_stream ? stderr : stdout,
			   "{}: {} rows ({} states), class 0 {:.1f} %, class 1 {:.1f} %, kernel {} labels, {:.3f} s\n",
			   o.out == "-" ? "stdout" : o.out, rows_out, trace.rows.size(),
			   rows_out ? 100.0 * (rows_out - class1) / rows_out : 0.0,
			   rows_out ? 100.0 * class1 / rows_out : 0.0, kernel_label(o.kernel), secs);
	}
	return 0;
}

}  // namespace

namespace {

void add_generate(CLI::App &app, Job &job)
{
	auto o = std::make_shared<GenerateOptions>();
	CLI::App *sub = app.add_subcommand("generate", "Write a distilled data set: seeded kernel states labelled by the teacher");
	sub->add_option("--preset", o->preset, "seed (the report's data set), idle, balanced, overloaded, seed-domain, modern-domain (the whole verify domain)")
		->capture_default_str();
	sub->add_option("--seed", o->seed, "random seed; the same seed gives byte-identical files")
		->check(seed_range())
		->capture_default_str();
	sub->add_option("--rows", o->rows, "kernel states to draw (default: 86400 for seed, 50000 otherwise)")
		->check(int_range(1, kMaxRows));
	sub->add_option("--kernel", o->kernel, "kernel version whose teacher labels the rows (kmlb teacher --list-versions)")
		->capture_default_str();
	sub->add_option("--format", o->format, "features (A2-preprocessed) or raw (the full trace schema)")
		->capture_default_str();
	sub->add_option("--features", o->features, "feature set for --format features: seed or modern")
		->capture_default_str();
	sub->add_option("--out", o->out, "output CSV, - for stdout (a FILE.json sidecar is written beside a file)")
		->required();
	sub->add_option("--nodes", o->nodes, "NUMA nodes (sockets) of the load presets")
		->check(int_range(2, 4))
		->capture_default_str();
	sub->add_option("--migration-cost-ns", o->migration_cost_ns, "sysctl_sched_migration_cost of the run (load presets)")
		->check(int_range(0, UINT32_MAX))
		->capture_default_str();
	sub->add_option("--numa-balancing", o->numa_balancing, "kernel.numa_balancing of the run (load presets): 0 or 1")
		->check(int_range(0, 1))
		->capture_default_str();
	sub->add_flag("--json", o->json, "print the sidecar to stdout instead of the summary line");
	sub->footer("Examples:\n  kmlb generate --preset seed --seed 1 --out seed.csv\n"
		    "  kmlb generate --preset idle --kernel 6.18 --format raw --out idle-raw.csv\n"
		    "  kmlb generate --preset balanced --rows 1000 --format raw --out - | head");
	sub->final_callback([o, &job] { job = [o] { return run_generate(*o); }; });
}

const CommandRegistration kRegistration(10, add_generate);

}  // namespace

}  // namespace kmlb::cli
