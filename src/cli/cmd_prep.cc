// kmlb prep: the seed report's Appendix A2 preprocessing, raw trace -> features.
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "command.h"
#include "flag_checks.h"
#include "exit_codes.h"
#include "prep.h"
#include "raw_schema.h"
#include "sidecar.h"

namespace kmlb::cli {

namespace {

struct PrepOptions {
	std::string in, out, features = "seed", kernel = kDefaultKernel;
	bool json = false;
};

int run_prep(const PrepOptions &o)
{
	const FeatureSet set = parse_feature_set(o.features);
	const KernelVersion version = parse_kernel_version(o.kernel);
	// The output or its sidecar (OUT.json) must not be the input.
	if (same_file(o.in, o.out) || same_file(o.in, o.out + ".json"))
		throw Error(ExitCode::kUsage, fmt::format("--out {} would overwrite the input {}", o.out, o.in));
	const RawTrace trace = read_raw_csv(o.in);
	if (trace.rows.empty())
		throw Error(ExitCode::kBadData, fmt::format("{}: no data rows (only the header): nothing to prepare", o.in));
	const Dataset d = prep(trace, set, version);
	if (d.rows == 0)
		throw Error(ExitCode::kBadData,
			    fmt::format("{}: all {} rows are dropped by the A2 filter (running tasks, failed hard checks): "
					"no features to write",
					o.in, trace.rows.size()));
	size_t running = 0, not_aggressive = 0;
	for (const auto &s : trace.rows) {
		running += s.p_running != 0;
		not_aggressive += s.p_running == 0 && s.test_aggressive != 1;
	}
	uint64_t class1 = 0;
	for (uint8_t y : d.y)
		class1 += y;
	nlohmann::json columns(feature_names(set));
	columns.push_back(kLabelName);
	nlohmann::json meta = {
		{"kind", "features"},
		{"feature_set", feature_set_name(set)},
		{"kernel", o.kernel},
		{"columns", columns},
		{"label", kLabelName},
		{"rows", d.rows},
		{"source", {{"file", o.in}, {"rows", trace.rows.size()}, {"schema", trace.full_schema ? "kmlb" : "a1"}}},
		{"dropped", {{"p_running", running},
			     {"hard_checks", not_aggressive},
			     {"newer_hard_checks", trace.rows.size() - d.rows - running - not_aggressive}}},
		{"class_counts", {{"0", d.rows - class1}, {"1", class1}}},
	};
	write_data_with_sidecar(o.out, d.to_csv(), meta);
	if (o.json)
		fmt::print("{}\n", meta.dump(2));
	else
		fmt::print("{}: {} of {} rows kept ({} running, {} failed hard checks), {} features\n", o.out,
			   d.rows, trace.rows.size(), running, trace.rows.size() - d.rows - running,
			   feature_set_name(set));
	return 0;
}

}  // namespace

namespace {

void add_prep(CLI::App &app, Job &job)
{
	auto o = std::make_shared<PrepOptions>();
	CLI::App *sub = app.add_subcommand("prep", "Preprocess raw traces into model features (the report's Appendix A2)");
	sub->add_option("--in", o->in, "raw CSV: kmlb's 57-column schema or the report's 30 A1 columns")->required();
	sub->add_option("--out", o->out, "features CSV (a FILE.json sidecar is written beside it)")->required();
	sub->add_option("--features", o->features, "seed (15, the report's) or modern (needs the full schema)")
		->capture_default_str();
	sub->add_option("--kernel", o->kernel,
			"kernel the rows were recorded on: its own hard refusals are filtered (6.18's delayed-dequeue, "
			"eligibility, mutex and donor tests apply to 6.14+ only)")
		->capture_default_str();
	sub->add_flag("--json", o->json, "print the sidecar to stdout instead of the summary line");
	sub->footer("Example:\n  kmlb prep --in raw.csv --out features.csv --features modern --kernel 6.12");
	sub->final_callback([o, &job] { job = [o] { return run_prep(*o); }; });
}

const CommandRegistration kRegistration(20, add_prep);

}  // namespace

}  // namespace kmlb::cli
