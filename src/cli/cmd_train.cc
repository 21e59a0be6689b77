// kmlb train: the MLP on a features CSV, with the report's protocol or kmlb's.
#include <atomic>
#include <csignal>
#include <fmt/format.h>
#include <memory>

#include "atomic_file.h"
#include "command.h"
#include "flag_checks.h"
#include "dataset.h"
#include "exit_codes.h"
#include "progress.h"
#include "train_flags.h"
#include "training_outputs.h"
#include "verified_training.h"

namespace kmlb::cli {

namespace {

std::atomic<bool> g_interrupted{false};

struct TrainOptions {
	std::string data, out;
	bool quiet = false, json = false;
	TrainFlags flags;
	size_t verify_rounds = 0;  // 0: no verification
	std::string kernel = "5.15";
};

// Counterexample-guided training (verified_training.h): the model of the
// last round, its quantized form and the verification of every round.
int run_verified_train(const TrainOptions &o, const Dataset &d, const TrainConfig &c, const TrainHooks &hooks)
{
	VerifiedTrainingOptions opt;
	opt.kernel = parse_kernel_version(o.kernel);
	opt.max_rounds = o.verify_rounds;
	const VerifiedTrainingResult v = train_until_verified(d, c, opt, hooks);
	const std::string plot_note = write_training_outputs(o.out, v.train, c, v.data);
	save_fixed_model(o.out + "/model.q.json", v.fixed);
	if (v.data.rows != d.rows)
		write_file_atomic(o.out + "/train-data.csv", v.data.to_csv());
	write_file_atomic(o.out + "/verify.json", v.to_json().dump(2) + "\n");
	if (o.json) {
		nlohmann::json j = training_metrics(v.train, c, v.data);
		j["verify"] = v.to_json();
		fmt::print("{}\n", j.dump(2));
	} else {
		for (const VerifiedRound &r : v.rounds)
			fmt::print("round {}: {} rows, hold-out misclassified {}, verify {} ({} counterexamples, {} boxes, "
				   "{:.1f} s)\n",
				   r.round, r.rows, r.test_misclassified, outcome_name(r.verification.outcome),
				   r.verification.counterexamples.size(), r.verification.boxes, r.verification.seconds);
		fmt::print("{}: {} after {} round(s); model.json, model.q.json, verify.json\n", o.out,
			   v.verified() ? "verified" : "NOT verified", v.rounds.size());
	}
	if (!plot_note.empty())
		fmt::print(stderr, "kmlb: {}\n", plot_note);
	return v.verified() ? 0 : 1;
}

int run_train(const TrainOptions &o)
{
	require_input(o.data);
	TrainConfig c = o.flags.config();
	const Dataset d = read_features_csv(o.data);
	if (d.rows == 0)
		throw Error(ExitCode::kBadData,
			    fmt::format("{}: no data rows (only the header): nothing to train on; "
					"kmlb generate --out FILE writes a data set",
					o.data));
	EpochProgress progress(c.name, c.folds, c.max_epochs, o.quiet);
	TrainHooks hooks;
	hooks.on_epoch = [&progress](const EpochRecord &r) { progress(r); };
	hooks.interrupt = &g_interrupted;
	std::signal(SIGINT, [](int) { g_interrupted = true; });
	if (o.verify_rounds)
		return run_verified_train(o, d, c, hooks);
	const TrainResult r = train(d, c, hooks);
	progress.finish();  // the status line ends before any result is printed
	const std::string plot_note = write_training_outputs(o.out, r, c, d);
	if (o.json) {
		fmt::print("{}\n", training_metrics(r, c, d).dump(2));
	} else {
		fmt::print("{}: {} protocol, {} params, test accuracy {:.5f} ({} of {} misclassified), "
			   "final model {}, {:.1f} s, {:.0f} samples/s\n",
			   o.out, c.name, r.model.param_count(), r.test.accuracy, r.test.misclassified, r.test.rows,
			   r.refit ? std::string("refit (on all non-test rows)")
				   : EpochProgress::stage_name(r.chosen_fold, c.folds),
			   r.seconds, r.samples_per_second);
	}
	if (!plot_note.empty())
		fmt::print(stderr, "kmlb: {}\n", plot_note);
	return 0;
}

void add_train(CLI::App &app, Job &job)
{
	auto o = std::make_shared<TrainOptions>();
	CLI::App *sub = app.add_subcommand("train", "Train the MLP on a features CSV (hold-out, K-fold CV, early stopping)");
	add_input_option(sub, o->data, "features CSV (from kmlb generate or kmlb prep) (required)");
	sub->add_option("--out", o->out, "output directory: model.json, metrics.json, history.csv, training-curves.svg")
		->required();
	o->flags.add_to(sub);
	sub->add_flag("--quiet", o->quiet, "no progress on stderr");
	sub->add_flag("--json", o->json, "print metrics.json to stdout instead of the summary line");
	sub->add_option("--verify-rounds", o->verify_rounds,
			"counterexample-guided training: quantize, kmlb verify, add the counterexamples and train "
			"again, at most N trainings (exit 1 if never verified)");
	sub->add_option("--kernel", o->kernel, "teacher version for --verify-rounds")->capture_default_str();
	sub->footer("Examples:\n  kmlb train --in seed.csv --out run\n"
		    "  kmlb train --in seed.csv --out report --protocol report\n"
		    "  kmlb train --in seed.csv --out chen --hidden 10 --quiet");
	sub->final_callback([o, &job] { job = [o] { return run_train(*o); }; });
}

const CommandRegistration kRegistration(40, add_train);

}  // namespace

}  // namespace kmlb::cli
