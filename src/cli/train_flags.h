// The training knobs as flags, shared by `train`, `reproduce` and `sweep`:
// --protocol picks a base configuration and every other flag overrides one
// of its fields only when given.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "trainer.h"

namespace kmlb::cli {

struct TrainFlags {
	std::string protocol = "recommended";
	uint64_t seed = 1;
	std::vector<size_t> hidden;
	size_t epochs = 0, batch = 0, folds = 0, patience = 0, threads = 0;
	double min_delta = 0, l2 = 0, lr = 0, test_fraction = 0;
	std::string standardise;
	CLI::App *app = nullptr;

	// Adds the flags to `sub`; `with_protocol` adds --protocol too.
	void add_to(CLI::App *sub, bool with_protocol = true);
	// The configuration: the protocol's, then every flag that was given.
	TrainConfig config() const;
};

}  // namespace kmlb::cli
