#include "train_flags.h"

#include <fmt/format.h>

#include "exit_codes.h"

namespace kmlb::cli {

void TrainFlags::add_to(CLI::App *sub, bool with_protocol)
{
	app = sub;
	if (with_protocol)
		sub->add_option("--protocol", protocol,
				"recommended (kmlb's, exact imitation) or report (the seed report's, every knob)")
			->capture_default_str();
	sub->add_option("--seed", seed, "seed of the split, initialisation and shuffles")->capture_default_str();
	sub->add_option("--hidden", hidden, "hidden widths, comma-separated (15,12,10 = 573 params; 10 = Chen's 171)")
		->delimiter(',');
	sub->add_option("--epochs", epochs, "maximum epochs per fold (report: 500)");
	sub->add_option("--batch", batch, "mini-batch size (report: 64)");
	sub->add_option("--folds", folds, "stratified K-fold CV folds (report: 3)");
	sub->add_option("--patience", patience, "early-stopping patience in epochs (report: 3)");
	sub->add_option("--min-delta", min_delta, "smallest change that counts as improvement (report: 1e-4)");
	sub->add_option("--l2", l2, "L2 weight on the kernels, added to the loss (report: 0.001)");
	sub->add_option("--lr", lr, "Adam learning rate (report: 1e-3)");
	sub->add_option("--test-fraction", test_fraction, "stratified hold-out share (report: 0.25)");
	sub->add_option("--standardise", standardise, "on/off: standardise inputs with training-split statistics");
	sub->add_option("--threads", threads, "folds trained at once (results do not depend on it)");
}

TrainConfig TrainFlags::config() const
{
	TrainConfig c;
	if (protocol == "recommended")
		c = TrainConfig::recommended();
	else if (protocol == "report")
		c = TrainConfig::report();
	else
		throw Error(ExitCode::kUsage, fmt::format("unknown --protocol '{}' (recommended, report)", protocol));
	c.seed = seed;
	auto given = [this](const char *flag) { return app && app->count(flag) > 0; };
	bool custom = false;
	auto set = [&](const char *flag, auto &field, auto value) {
		if (given(flag)) {
			field = value;
			custom = true;
		}
	};
	if (given("--hidden"))
		c.hidden = hidden;  // the architecture is not a protocol change
	set("--epochs", c.max_epochs, epochs);
	set("--batch", c.batch, batch);
	set("--folds", c.folds, folds);
	set("--patience", c.patience, patience);
	set("--min-delta", c.min_delta, min_delta);
	set("--l2", c.l2, static_cast<float>(l2));
	set("--lr", c.adam.learning_rate, static_cast<float>(lr));
	set("--test-fraction", c.test_fraction, test_fraction);
	if (given("--standardise")) {
		if (standardise != "on" && standardise != "off")
			throw Error(ExitCode::kUsage, "--standardise takes on or off");
		c.standardise = standardise == "on";
		custom = true;
	}
	if (given("--threads"))
		c.threads = threads;
	if (custom)
		c.name = protocol + "+custom";
	return c;
}

}  // namespace kmlb::cli
