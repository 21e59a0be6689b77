// kmlb verify: prove that a model decides as the teacher on every input of
// its feature set's domain, or list counterexamples (verify.h, domain.h).
#include <fmt/format.h>
#include <memory>

#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "command.h"
#include "dataset.h"
#include "exit_codes.h"
#include "fixed_point.h"
#include "model_file.h"
#include "prep.h"
#include "raw_schema.h"
#include "verify.h"

namespace kmlb::cli {

namespace {

struct VerifyCliOptions {
	std::string model, kernel = "5.15", features, counterexamples, raw;
	uint64_t max_boxes = VerifyOptions{}.max_boxes;
	uint64_t max_boxes_per_region = 0;  // 0: no per-region budget
	size_t max_per_region = VerifyOptions{}.max_per_region;
	size_t max_counterexamples = VerifyOptions{}.max_counterexamples;
	bool json = false;
};

void write_counterexamples(const VerifyResult &r, FeatureSet set, const VerifyCliOptions &o)
{
	if (!o.counterexamples.empty()) {
		Dataset d;
		d.feature_set = set;
		d.cols = feature_count(set);
		std::vector<float> x(d.cols);
		for (const Counterexample &c : r.counterexamples) {
			extract_features(c.state, set, x.data());
			d.x.insert(d.x.end(), x.begin(), x.end());
			d.y.push_back(static_cast<uint8_t>(c.state.can_migrate));
		}
		d.rows = d.y.size();
		write_file_atomic(o.counterexamples, d.to_csv());
	}
	if (!o.raw.empty()) {
		std::string text;
		append_raw_header(text);
		for (const Counterexample &c : r.counterexamples)
			append_raw_row(text, c.state);
		write_file_atomic(o.raw, text);
	}
}

int run_verify(const VerifyCliOptions &o)
{
	const KernelVersion kernel = parse_kernel_version(o.kernel);
	const std::string text = read_file(o.model);
	const bool is_float = is_float_model_text(text);
	std::optional<ModelFile> float_model;
	std::optional<FixedModel> fixed_model;
	std::unique_ptr<VerifyTarget> target;
	if (is_float) {
		float_model = model_from_json(text, o.model);
		target = float_target(*float_model);
	} else {
		fixed_model = fixed_model_from_json(text, o.model);
		target = fixed_target(*fixed_model);
	}
	const FeatureSet set = target->feature_set();
	if (!o.features.empty() && parse_feature_set(o.features) != set)
		throw Error(ExitCode::kUsage, fmt::format("--features {}: {} uses the '{}' features", o.features, o.model,
							  feature_set_name(set)));
	const VerifyDomain domain(set, kernel);
	VerifyOptions opt;
	opt.max_boxes = o.max_boxes;
	if (o.max_boxes_per_region > 0)
		opt.max_boxes_per_region = o.max_boxes_per_region;
	opt.max_per_region = o.max_per_region;
	opt.max_counterexamples = o.max_counterexamples;
	const VerifyResult r = verify(domain, *target, opt);
	write_counterexamples(r, set, o);
	if (o.json) {
		nlohmann::json out = r.to_json();
		out["model"] = o.model;
		out["model_kind"] = is_float ? "float" : "fixed";
		out["domain"] = domain.describe();
		fmt::print("{}\n", out.dump(2));
	} else {
		fmt::print("{} ({} model, '{}' features) against teacher {}: {}\n", o.model, is_float ? "float" : "fixed-point",
			   feature_set_name(set), canonical_name(kernel), outcome_name(r.outcome));
		fmt::print("domain: {} regions, {:.4g} points; {} boxes bounded, {} points evaluated, {} undecided, "
			   "{:.1f} s\n",
			   r.regions, domain.points(), r.boxes, r.concrete_points, r.undecided_boxes, r.seconds);
		if (!r.counterexamples.empty()) {
			fmt::print("{} counterexamples (in {} regions), by teacher reason:\n", r.counterexamples.size(),
				   r.regions_wrong);
			const nlohmann::json by_reason = r.to_json()["by_reason"];
			for (const auto &[reason, n] : by_reason.items())
				fmt::print("  {:<22} {}\n", reason, n.get<size_t>());
		}
	}
	return r.outcome == VerifyOutcome::kVerified ? 0 : 1;
}

void add_verify(CLI::App &app, Job &job)
{
	auto o = std::make_shared<VerifyCliOptions>();
	CLI::App *sub = app.add_subcommand(
		"verify", "Prove a model decides as the teacher on every input of its domain, or find counterexamples");
	sub->add_option("--model", o->model, "fixed-point model (model.q.json) or float model (model.json)")->required();
	sub->add_option("--kernel", o->kernel, "teacher version")->capture_default_str();
	sub->add_option("--features", o->features, "seed|modern: must match the model (default: the model's)");
	sub->add_option("--counterexamples", o->counterexamples,
			"write the counterexamples as a features CSV (can_migrate = the teacher's label)");
	sub->add_option("--raw", o->raw, "write the counterexamples as raw rows (kmlb teacher / kmlb eval replay them)");
	sub->add_option("--max-boxes", o->max_boxes, "box budget; past it the result is unknown")->capture_default_str();
	sub->add_option("--max-boxes-per-region", o->max_boxes_per_region,
			"box budget of one region (0: none); a region past it is left undecided and the next is searched")
		->capture_default_str();
	sub->add_option("--max-per-region", o->max_per_region,
			"counterexamples to collect per region before moving on")
		->capture_default_str();
	sub->add_option("--max-counterexamples", o->max_counterexamples,
			"stop the whole search after this many counterexamples (falsified; the rest is not searched)")
		->check(CLI::Range(size_t{1}, size_t{1} << 40))
		->capture_default_str();
	sub->add_flag("--json", o->json, "JSON: result, boxes, counterexamples, seconds, by_reason, domain");
	sub->footer("Exit status: 0 verified, 1 falsified or unknown. docs/verify.md has the method and the domain.\n"
		    "Examples:\n  kmlb verify --model model.q.json\n"
		    "  kmlb verify --model model.q.json --kernel 6.1 --json --raw cex.raw.csv --counterexamples cex.csv");
	sub->final_callback([o, &job] { job = [o] { return run_verify(*o); }; });
}

const CommandRegistration kRegistration(65, add_verify);

}  // namespace

}  // namespace kmlb::cli
