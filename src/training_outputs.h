// What `kmlb train` leaves in its output directory: model.json, metrics.json,
// history.csv and training-curve plots (SVG, drawn by gnuplot when present).
//
// One numbering everywhere (progress, summary, metrics.json, history.csv,
// plots): folds count from 1, the model refit on all non-test rows is
// "refit". The refit is monitored on its own training rows, which is said
// ("monitor", rows "training"), never called a validation.
//
// Losses: metrics.json's `loss` (validation, test) is the mean binary
// cross-entropy without class weights and without the L2 term, as
// scikit-learn's log_loss. history.csv's `*_objective` columns are what
// training minimises and early stopping watches: that loss plus the L2 term
// (Keras' `loss` / `val_loss`); train_objective is class-weighted.
#pragma once

#include <string>

#include "dataset.h"
#include "trainer.h"

namespace kmlb {

inline constexpr int kMetricsSchemaVersion = 2;

inline constexpr const char *kHistoryHeader =
	"fold,epoch,train_objective,train_accuracy,monitored_rows,monitor_objective,monitor_accuracy,"
	"monitor_misclassified,learning_rate,seconds";

// "1".."K" for a fold (0-based index), "refit" for index K.
std::string stage_label(size_t fold, size_t folds);

// The trainer's metrics_json() in the numbering above: folds and
// chosen_fold from 1, the refit named and its "validation" called
// "monitor", plus "final_model" ("refit" or the chosen fold's number).
nlohmann::json numbered_metrics(nlohmann::json trainer_metrics);

// metrics.json content: the numbered metrics plus schema version, params,
// protocol and the feature set.
nlohmann::json training_metrics(const TrainResult &r, const TrainConfig &c, const Dataset &d);

// history.csv: kHistoryHeader, one row per fold per epoch; numbers in the
// shortest form that reads back to the same float32.
std::string history_csv(const std::vector<EpochRecord> &history, size_t folds);

// The training curves: two panels (monitored objective, monitored rows
// misclassified per epoch), a line per fold and one for the refit only when
// there is one; titled with the run; log axes ticked 1, 0.1, ... and counts
// as integers, a count of 0 drawn at 0.5 ticked "0" so that it stays
// visible on the log axis.
std::string training_curves_title(const std::string &dir, const TrainConfig &c, size_t params);
std::string training_curves_script(const std::string &dir, const TrainConfig &c, size_t params, bool refit);

// Writes model.json, metrics.json and history.csv into `dir` (created if
// missing), all or none, then the plots. Returns a note about the plots
// ("" when drawn, else why not).
std::string write_training_outputs(const std::string &dir, const TrainResult &r, const TrainConfig &c,
				   const Dataset &d);

}  // namespace kmlb
