#include "train_flags.h"

#include <fmt/format.h>

#include "exit_codes.h"
#include "flag_checks.h"
#include "model_file.h"

namespace kmlb::cli {

void TrainFlags::add_to(CLI::App *sub, bool with_protocol)
{
	app = sub;
	if (with_protocol)
		sub->add_option("--protocol", protocol,
				"recommended (kmlb's, exact imitation) or report (the seed report's, every knob)")
			->capture_default_str();
	sub->add_option("--seed", seed, "seed of the split, initialisation and shuffles")
		->check(seed_range())
		->capture_default_str();
	sub->add_option("--hidden", hidden,
			fmt::format("hidden widths, comma-separated, each 1..{}, at most {} layers "
				    "(15,12,10 = 573 params; 10 = Chen's 171)",
				    kMaxHiddenWidth, kMaxHiddenLayers))
		->delimiter(',')
		->check(int_range(1, kMaxHiddenWidth));
	sub->add_option("--epochs", epochs, "maximum epochs per fold (report: 500)")->check(int_range(1, 1'000'000));
	sub->add_option("--batch", batch, "mini-batch size (report: 64)")->check(int_range(1, 1 << 20));
	sub->add_option("--folds", folds, "stratified K-fold CV folds (report: 3)")->check(int_range(2, 100));
	sub->add_option("--patience", patience, "early-stopping patience in epochs (report: 3)")
		->check(int_range(0, 1'000'000));
	sub->add_option("--min-delta", min_delta, "smallest change that counts as improvement (report: 1e-4)")
		->check(real_range(0, 1e9));
	sub->add_option("--l2", l2, "L2 weight on the kernels, added to the loss (report: 0.001)")
		->check(real_range(0, 1e6));
	sub->add_option("--lr", lr, "Adam learning rate (report: 1e-3)")->check(real_range(0, 100, true));
	sub->add_option("--test-fraction", test_fraction, "stratified hold-out share (report: 0.25)")
		->check(real_range(0, 1, true, true));
	sub->add_option("--standardise", standardise, "on/off: standardise inputs with training-split statistics")
		->check(CLI::IsMember({"on", "off"}));
	sub->add_option("--threads", threads, "folds trained at once (results do not depend on it)")
		->check(int_range(1, 256));
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
	if (given("--hidden") && hidden.size() > kMaxHiddenLayers)
		throw Error(ExitCode::kUsage,
			    fmt::format("--hidden: {} layers, at most {} are supported", hidden.size(), kMaxHiddenLayers));
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
