// What `kmlb train` leaves in its output directory: model.json, metrics.json,
// history.csv and training-curve plots (SVG, drawn by gnuplot when present).
#pragma once

#include <string>

#include "dataset.h"
#include "trainer.h"

namespace kmlb {

inline constexpr int kMetricsSchemaVersion = 1;

// metrics.json content: the trainer's metrics plus schema version, params,
// protocol and the feature set.
nlohmann::json training_metrics(const TrainResult &r, const TrainConfig &c, const Dataset &d);

std::string history_csv(const std::vector<EpochRecord> &history);

// Writes every output into `dir` (created if missing). Returns a note about
// the plots ("" when drawn, else why not).
std::string write_training_outputs(const std::string &dir, const TrainResult &r, const TrainConfig &c,
				   const Dataset &d);

}  // namespace kmlb
