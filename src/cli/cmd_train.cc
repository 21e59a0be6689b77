// kmlb train: the MLP on a features CSV, with the report's protocol or kmlb's.
#include <atomic>
#include <csignal>
#include <fmt/format.h>
#include <memory>

#include "command.h"
#include "dataset.h"
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
	const Dataset d = read_features_csv(o.data);
	TrainConfig c = o.flags.config();
	EpochProgress progress(c.name, c.folds, c.max_epochs, o.quiet);
	TrainHooks hooks;
	hooks.on_epoch = [&progress](const EpochRecord &r) { progress(r); };
	hooks.interrupt = &g_interrupted;
	std::signal(SIGINT, [](int) { g_interrupted = true; });
	const TrainResult r = train(d, c, hooks);
	const std::string plot_note = write_training_outputs(o.out, r, c, d);
	if (o.json) {
		fmt::print("{}\n", training_metrics(r, c, d).dump(2));
	} else {
		fmt::print("{}: {} protocol, {} params, test accuracy {:.5f} ({} of {} misclassified), "
			   "chosen fold {}, {:.1f} s, {:.0f} samples/s\n",
			   o.out, c.name, r.model.param_count(), r.test.accuracy, r.test.misclassified, r.test.rows,
			   r.chosen_fold + 1, r.seconds, r.samples_per_second);
	}
	if (!plot_note.empty())
		fmt::print(stderr, "kmlb: {}\n", plot_note);
	return 0;
}

void add_train(CLI::App &app, Job &job)
{
	auto o = std::make_shared<TrainOptions>();
	CLI::App *sub = app.add_subcommand("train", "Train the MLP on a features CSV (hold-out, K-fold CV, early stopping)");
	sub->add_option("--data", o->data, "features CSV (from kmlb generate or kmlb prep)")->required();
	sub->add_option("--out", o->out, "output directory: model.json, metrics.json, history.csv, training-curves.svg")
		->required();
	o->flags.add_to(sub);
	sub->add_flag("--quiet", o->quiet, "no progress on stderr");
	sub->add_flag("--json", o->json, "print metrics.json to stdout");
	sub->footer("Examples:\n  kmlb train --data seed.csv --out run\n"
		    "  kmlb train --data seed.csv --out report --protocol report\n"
		    "  kmlb train --data seed.csv --out chen --hidden 10");
	sub->final_callback([o, &job] { job = [o] { return run_train(*o); }; });
}

const CommandRegistration kRegistration(40, add_train);

}  // namespace

}  // namespace kmlb::cli
