// kmlb export-c: the fixed-point model as one self-contained kernel-style C header.
#include <fmt/format.h>
#include <memory>

#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "command.h"
#include "exit_codes.h"
#include "export_c.h"
#include "fixed_point.h"
#include "model_file.h"

namespace kmlb::cli {

namespace {

struct ExportOptions {
	std::string model, out;
};

int run_export_c(const ExportOptions &o)
{
	const std::string text = read_file(o.model);
	FixedModel m;
	std::string fixed_json;
	// A float model is quantized on the way, with quantize's defaults (the
	// module's deploy script passes model.json straight from kmlb train).
	const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
	if (j.is_object() && j.value("format", nlohmann::json()) == std::string(kModelFormat)) {
		const ModelFile source = model_from_json(text, o.model);
		m = quantize(source, default_calibration(source.feature_set), {}).model;
		fixed_json = fixed_model_to_json(m);
		fmt::print(stderr, "kmlb: {} is a float model: quantized with `kmlb quantize` defaults ({} "
			   "decisions differ from the float model on the calibration data)\n",
			   o.model, m.quantization["agreement"]["disagreements"].get<size_t>());
	} else {
		m = fixed_model_from_json(text, o.model);
		fixed_json = text;
	}
	const std::string hash = fnv1a64_hex(fixed_json);
	write_file_atomic(o.out, export_c_header(m, hash));
	fmt::print("{}: MLP {} ({} parameters), feature set {}, KMLB_FRAC_BITS {}, model hash {}\n", o.out,
		   m.shape_name(), m.param_count(), feature_set_name(m.feature_set), m.frac_bits, hash);
	return 0;
}

void add_export_c(CLI::App &app, Job &job)
{
	auto o = std::make_shared<ExportOptions>();
	CLI::App *sub = app.add_subcommand("export-c", "Write the fixed-point model as a self-contained C header for the kernel");
	sub->add_option("--model", o->model,
			"fixed-point model (model.q.json from kmlb quantize); a float model is quantized with "
			"the defaults first")
		->required();
	sub->add_option("--out", o->out, "header to write (kmlb_model.h)")->required();
	sub->footer("The header compiles in the kernel (__KERNEL__) and in user space; docs/fixed-point.md "
		    "describes its API.\nExample:\n  kmlb export-c --model model.q.json --out kmlb_model.h");
	sub->final_callback([o, &job] { job = [o] { return run_export_c(*o); }; });
}

const CommandRegistration kRegistration(70, add_export_c);

}  // namespace

}  // namespace kmlb::cli
