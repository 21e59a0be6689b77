// kmlb train: the MLP on a features CSV, with the report's protocol or kmlb's.
#include <atomic>
#include <csignal>
#include <fmt/format.h>
#include <memory>

#include "command.h"
#include "flag_checks.h"
#include "dataset.h"
#include "exit_codes.h"
#include "progress.h"
#include "train_flags.h"
#include "training_outputs.h"

namespace kmlb::cli {

namespace {

std::atomic<bool> g_interrupted{false};

struct TrainOptions {
	std::string data, out;
	bool quiet = false, json = false;
	TrainFlags flags;
};

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
	sub->footer("Examples:\n  kmlb train --in seed.csv --out run\n"
		    "  kmlb train --in seed.csv --out report --protocol report\n"
		    "  kmlb train --in seed.csv --out chen --hidden 10 --quiet");
	sub->final_callback([o, &job] { job = [o] { return run_train(*o); }; });
}

const CommandRegistration kRegistration(40, add_train);

}  // namespace

}  // namespace kmlb::cli
