// kmlb quantize: a float model to the fixed-point model the kernel runs, with
// the proof that no sum overflows and a check against the float decisions.
#include <fmt/format.h>
#include <memory>
#include <optional>

#include "command.h"
#include "dataset.h"
#include "exit_codes.h"
#include "fixed_features.h"
#include "flag_checks.h"
#include "fixed_point.h"
#include "model_file.h"

namespace kmlb::cli {

namespace {

struct QuantizeOptions {
	std::string model, out, data;
	int frac_bits = 0;  // 0: choose
	bool json = false;
};

void print_report(const QuantizeResult &r, const std::string &out, const Calibration &cal)
{
	const FixedModel &m = r.model;
	const nlohmann::json rep = r.report();
	fmt::print("{}: fixed-point MLP {}, {} parameters, feature set {}\n", out, m.shape_name(), m.param_count(),
		   feature_set_name(m.feature_set));
	fmt::print("inputs: int32 Q{}.{} (--frac-bits {}, {}); decision: logit >= 0\n", 31 - m.frac_bits, m.frac_bits,
		   m.frac_bits, m.quantization.value("frac_bits_given", false) ? "given" : "chosen");
	fmt::print("{:<6} {:<6} {:<8} {:<16} {:<16} {:<20} {:>14} {:>9} {:>14}\n", "layer", "shape", "inputs",
		   "weights", "accumulator", "output", "proven bound", "headroom", "seen on data");
	for (const auto &l : rep["layers"]) {
		const std::string acc = l["accumulator"].get<std::string>();
		fmt::print("{:<6} {:<6} {:<8} {:<16} {:<16} {:<20} {:>14} {:>7.2f} b {:>14}\n", l["layer"].get<int>(),
			   l["shape"].get<std::string>(), l["inputs"].get<std::string>(), l["weights"].get<std::string>(),
			   acc.substr(0, acc.find(' ')), l["output"].get<std::string>(), l["bound"].get<int64_t>(),
			   l["headroom_bits"].get<double>(), l["observed_max_abs"].get<int64_t>());
	}
	fmt::print("every unit's sum is proven to stay within +-(2^31 - 1) = +-{} for all inputs in the feature\n"
		   "ranges (interval analysis): two sums share one 64-bit word exactly in the kernel code\n",
		   kLaneLimit);
	fmt::print("calibration: {}, {} rows: {} decisions differ from the float model (max logit error {:.4g});\n"
		   "misclassified: float {}, fixed {}; activation saturations {}\n",
		   cal.name, cal.rows, r.chosen.disagreements, r.chosen.max_logit_error, r.float_misclassified,
		   r.fixed_misclassified, r.saturations);
	std::string cands, exact;
	for (const FracCandidate &c : r.candidates)
		if (c.feasible) {
			cands += fmt::format(" {}:{}", c.frac_bits, c.disagreements);
			if (c.disagreements == 0)
				exact += fmt::format(" {}", c.frac_bits);
		}
	if (r.candidates.size() > 1) {
		fmt::print("frac bits tried (F:differing decisions):{}\n", cands);
		fmt::print("F with every decision equal to the float model's:{}; chosen {} (smallest logit error among "
			   "the fewest differences)\n",
			   exact.empty() ? " none" : exact, m.frac_bits);
	}
}

int run_quantize(const QuantizeOptions &o)
{
	const ModelFile source = load_model(o.model);
	Calibration cal;
	if (o.data.empty()) {
		cal = default_calibration(source.feature_set);
	} else {
		const Dataset d = read_features_csv(o.data);
		cal = calibration_from_dataset(d, o.data);
		// The model's own training data: calibrate on its training rows only,
		// so that the hold-out stays out of sample.
		if (source.training && !source.data_hash.empty() && d.content_hash() == source.data_hash)
			cal = calibration_rows(cal, holdout_split(d.y, *source.training).train,
					       o.data + " (training rows: the model's hold-out left out)");
	}
	kmlb::QuantizeOptions opt;
	if (o.frac_bits)
		opt.frac_bits = o.frac_bits;
	const QuantizeResult r = quantize(source, cal, opt);
	save_fixed_model(o.out, r.model);
	if (o.json)
		fmt::print("{}\n", r.model.quantization.dump(2));
	else
		print_report(r, o.out, cal);
	if (r.chosen.disagreements)
		fmt::print(stderr, "kmlb: warning: {} of {} decisions differ from the float model\n",
			   r.chosen.disagreements, cal.rows);
	return 0;
}

void add_quantize(CLI::App &app, Job &job)
{
	auto o = std::make_shared<QuantizeOptions>();
	CLI::App *sub = app.add_subcommand("quantize", "Turn a float model into the fixed-point model the kernel runs");
	sub->add_option("--model", o->model, "float model (model.json from kmlb train)")->required();
	sub->add_option("--out", o->out, "fixed-point model to write (model.q.json)")->required();
	sub->add_option("--frac-bits", o->frac_bits,
			fmt::format("fractional bits of the int32 inputs, 1..{} (default: tried all, fewest differing "
				    "decisions then smallest logit error)",
				    kMaxInputFracBits))
		->check(int_range(1, kMaxInputFracBits));
	add_input_option(sub, o->data,
			 "features CSV to calibrate on and compare decisions with (default: the generated seed "
			 "preset; all four presets for modern models)");
	sub->add_flag("--json", o->json, "print the quantization report as JSON");
	sub->footer("Examples:\n  kmlb quantize --model run/model.json --out model.q.json\n"
		    "  kmlb quantize --model run/model.json --out model.q.json --frac-bits 12 --in seed.csv");
	sub->final_callback([o, &job] { job = [o] { return run_quantize(*o); }; });
}

const CommandRegistration kRegistration(60, add_quantize);

}  // namespace

}  // namespace kmlb::cli
