// kmlb eval: a model on a features CSV, or on raw rows with the misclassified
// ones grouped by the teacher's reason (which branch the model misses). A
// fixed-point model (model.q.json) is scored as the kernel runs it: raw rows
// through the kernel's integer feature extraction, features CSV rows
// converted as the quantizer converts them.
#include <array>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "command.h"
#include "flag_checks.h"
#include "dataset.h"
#include "exit_codes.h"
#include "fixed_features.h"
#include "fixed_point.h"
#include "model_file.h"
#include "prep.h"
#include "raw_schema.h"
#include "teacher.h"

namespace kmlb::cli {

namespace {

struct EvalOptions {
	std::string model, data, kernel = kDefaultKernel;
	bool json = false;
};

bool is_raw_csv(std::string_view text)
{
	if (text.starts_with("\xEF\xBB\xBF"))
		text.remove_prefix(3);
	return text.starts_with("ts,");
}

int run_eval(const EvalOptions &o)
{
	require_input(o.data);
	const std::string model_text = read_file(o.model);
	std::optional<ModelFile> float_model;
	std::optional<FixedModel> fixed_model;
	if (is_float_model_text(model_text))
		float_model = model_from_json(model_text, o.model);
	else
		fixed_model = fixed_model_from_json(model_text, o.model);
	const FeatureSet set = float_model ? float_model->feature_set : fixed_model->feature_set;
	// The model's decision on one feature vector (float, prep.h's units).
	std::vector<int32_t> fx(feature_count(set));
	auto decide = [&](const float *x) {
		if (float_model)
			return float_model->model.logit_reference(x) > 0.0f;
		float_to_fixed_features(set, fixed_model->frac_bits, x, fx.data());
		return fixed_decision(fixed_logit_reference(*fixed_model, fx.data()));
	};
	const std::string text = read_file(o.data);
	Confusion cm;
	size_t rows = 0;
	std::array<uint64_t, kReasonCount> rows_by_reason{}, wrong_by_reason{};
	bool raw = is_raw_csv(text);
	if (raw) {
		const KernelVersion version = parse_kernel_version(o.kernel);
		const RawTrace trace = parse_raw_csv(text, o.data);
		if (trace.rows.empty())
			throw Error(ExitCode::kBadData, fmt::format("{}: no data rows (only the header): nothing to score", o.data));
		if (!trace.full_schema && set == FeatureSet::kModern)
			throw Error(ExitCode::kBadData, fmt::format("{}: the model uses 'modern' features; the file has only A1 columns", o.data));
		std::vector<float> x(feature_count(set));
		for (const KernelState &s : trace.rows) {
			if (!passes_prep_filter(s, version))
				continue;
			// The recorded return value is the truth; the teacher labels
			// rows recorded without one, and names the deciding branch.
			const Decision d = trace.full_schema ? can_migrate_task(s, version) : Decision{};
			const bool label = s.can_migrate >= 0 ? s.can_migrate == 1 : d.migrate;
			bool predicted;
			if (fixed_model) {
				// The kernel's integer feature extraction (= the exported header).
				extract_features_fixed(s, set, fixed_model->frac_bits, fx.data());
				predicted = fixed_decision(fixed_logit_reference(*fixed_model, fx.data()));
			} else {
				extract_features(s, set, x.data());
				predicted = decide(x.data());
			}
			(label ? (predicted ? cm.tp : cm.fn) : (predicted ? cm.fp : cm.tn))++;
			++rows;
			if (trace.full_schema) {
				++rows_by_reason[static_cast<size_t>(d.reason)];
				wrong_by_reason[static_cast<size_t>(d.reason)] += predicted != label;
			}
		}
		if (rows == 0)
			throw Error(ExitCode::kBadData,
				    fmt::format("{}: none of its {} rows passes the A2 filter that kmlb prep applies "
						"(running tasks, failed hard checks): nothing to score",
						o.data, trace.rows.size()));
	} else {
		const Dataset d = parse_features_csv(text, o.data);
		if (d.feature_set != set)
			throw Error(ExitCode::kBadData,
				    fmt::format("{}: has '{}' features but {} expects '{}'", o.data,
						feature_set_name(d.feature_set), o.model, feature_set_name(set)));
		if (d.rows == 0)
			throw Error(ExitCode::kBadData, fmt::format("{}: no data rows (only the header): nothing to score", o.data));
		if (float_model) {
			const EvalResult r = evaluate(float_model->model, d);
			cm = r.confusion;
			rows = r.rows;
		} else {
			for (size_t i = 0; i < d.rows; ++i) {
				const bool label = d.y[i] == 1, predicted = decide(d.x.data() + i * d.cols);
				(label ? (predicted ? cm.tp : cm.fn) : (predicted ? cm.fp : cm.tn))++;
			}
			rows = d.rows;
		}
	}
	const size_t wrong = cm.fp + cm.fn;
	const double accuracy = static_cast<double>(rows - wrong) / rows;
	nlohmann::json by_reason = nlohmann::json::object();
	for (int r = 0; r < kReasonCount; ++r)
		if (rows_by_reason[r])
			by_reason[std::string(reason_name(static_cast<Reason>(r)))] = {
				{"rows", rows_by_reason[r]}, {"misclassified", wrong_by_reason[r]}};
	if (o.json) {
		nlohmann::json j = {{"model", o.model}, {"model_kind", float_model ? "float" : "fixed"},
				    {"data", o.data}, {"rows", rows}, {"misclassified", wrong},
				    {"accuracy", accuracy},
				    {"confusion", {{"tn", cm.tn}, {"fp", cm.fp}, {"fn", cm.fn}, {"tp", cm.tp}}}};
		if (raw)
			j["by_reason"] = by_reason;
		fmt::print("{}\n", j.dump(2));
		return 0;
	}
	fmt::print("{} on {}: accuracy {:.5f}, {} of {} misclassified (tn {} fp {} fn {} tp {})\n", o.model, o.data,
		   accuracy, wrong, rows, cm.tn, cm.fp, cm.fn, cm.tp);
	if (raw) {
		fmt::print("by the reason kernel {} gives:\n{:<22} {:>9} {:>13}\n", kernel_label(o.kernel), "teacher reason",
			   "rows", "misclassified");
		for (int r = 0; r < kReasonCount; ++r)
			if (rows_by_reason[r])
				fmt::print("{:<22} {:>9} {:>13}\n", reason_name(static_cast<Reason>(r)), rows_by_reason[r],
					   wrong_by_reason[r]);
	}
	return 0;
}

void add_eval(CLI::App &app, Job &job)
{
	auto o = std::make_shared<EvalOptions>();
	CLI::App *sub = app.add_subcommand("eval", "Score a model on features, or on raw rows grouped by teacher reason");
	sub->add_option("--model", o->model,
			"model.json from kmlb train, or model.q.json from kmlb quantize (scored in fixed point, as the kernel)")
		->required();
	add_input_option(sub, o->data, "features CSV, or raw CSV (kept rows as kmlb prep keeps them) (required)");
	sub->add_option("--kernel", o->kernel, "kernel version whose teacher names the branches of raw rows")
		->capture_default_str();
	sub->add_flag("--json", o->json,
		      "print accuracy, misclassified, rows, confusion (and by_reason for raw rows) as JSON instead of the text");
	sub->footer("Examples:\n  kmlb eval --model run/model.json --in seed.csv --json\n"
		    "  kmlb eval --model run/model.json --in raw.csv --kernel 6.1\n"
		    "  kmlb eval --model run/model.q.json --in raw.csv --kernel 6.1 --json");
	sub->final_callback([o, &job] { job = [o] { return run_eval(*o); }; });
}

const CommandRegistration kRegistration(50, add_eval);

}  // namespace

}  // namespace kmlb::cli
