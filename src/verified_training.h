// Counterexample-guided training: train, quantize (on the training rows),
// verify the fixed-point model over the whole domain (verify.h); while it is
// falsified and rounds remain, add the counterexamples to the training data
// and train again from the same seed.
#pragma once

#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataset.h"
#include "fixed_point.h"
#include "kernel_version.h"
#include "trainer.h"
#include "verify.h"

namespace kmlb {

struct VerifiedTrainingOptions {
	KernelVersion kernel = KernelVersion::k5_15;
	size_t max_rounds = 1;   // training runs; 1: train and verify once
	size_t copies = 20;      // each counterexample enters the data this many times
	VerifyOptions verify;
};

struct VerifiedRound {
	size_t round = 0;  // 1-based
	size_t rows = 0;   // training data rows of this round
	size_t test_misclassified = 0;
	VerifyResult verification;
};

struct VerifiedTrainingResult {
	TrainResult train;  // of the last round
	FixedModel fixed;   // the last round's model, quantized on its training rows
	Dataset data;       // the last round's data (the input plus counterexamples)
	std::vector<VerifiedRound> rounds;
	bool verified() const { return !rounds.empty() && rounds.back().verification.outcome == VerifyOutcome::kVerified; }
	nlohmann::json to_json() const;  // rounds, result per round
};

VerifiedTrainingResult train_until_verified(const Dataset &data, const TrainConfig &config,
					    const VerifiedTrainingOptions &opt, const TrainHooks &hooks = {});

}  // namespace kmlb
