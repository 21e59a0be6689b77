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
#include "verify.h"

namespace kmlb::cli {

namespace {

struct ExportOptions {
	std::string model, out, kernel = "5.15";
	bool no_verify = false;
};

// kmlb verify on the model, for the banner and KMLB_MODEL_VERIFIED.
ExportVerification verify_for_export(const FixedModel &m, const ExportOptions &o)
{
	if (o.no_verify)
		return {false, "not checked: kmlb export-c --no-verify"};
	const KernelVersion kernel = parse_kernel_version(o.kernel);
	// The first counterexample settles it (kmlb verify lists them all).
	VerifyOptions opt;
	opt.max_counterexamples = 1;
	const VerifyResult r = verify(VerifyDomain(m.feature_set, kernel), *fixed_target(m), opt);
	return {r.outcome == VerifyOutcome::kVerified,
		fmt::format("kmlb verify: {} against teacher {} over the '{}' domain, {} boxes{}", outcome_name(r.outcome),
			    canonical_name(kernel), feature_set_name(m.feature_set), r.boxes,
			    r.outcome == VerifyOutcome::kFalsified ? ", a counterexample found" : "")};
}

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
	const ExportVerification v = verify_for_export(m, o);
	write_file_atomic(o.out, export_c_header(m, hash, v));
	fmt::print("{}: MLP {} ({} parameters), feature set {}, KMLB_FRAC_BITS {}, model hash {}\n", o.out,
		   m.shape_name(), m.param_count(), feature_set_name(m.feature_set), m.frac_bits, hash);
	fmt::print("KMLB_MODEL_VERIFIED {}: {}{}\n", v.verified ? 1 : 0, v.summary,
		   v.verified ? "" : " (the header compiles only with -DKMLB_ALLOW_UNVERIFIED)");
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
	sub->add_option("--kernel", o->kernel, "teacher version the model is verified against (kmlb verify)")
		->capture_default_str();
	sub->add_flag("--no-verify", o->no_verify, "skip kmlb verify: KMLB_MODEL_VERIFIED 0");
	sub->footer("The header compiles in the kernel (__KERNEL__) and in user space; docs/fixed-point.md "
		    "describes its API.\nExample:\n  kmlb export-c --model model.q.json --out kmlb_model.h");
	sub->final_callback([o, &job] { job = [o] { return run_export_c(*o); }; });
}

const CommandRegistration kRegistration(70, add_export_c);

}  // namespace

}  // namespace kmlb::cli
