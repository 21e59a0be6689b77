// Training protocols: a stratified hold-out test set, stratified K-fold
// cross-validation on the rest, one model per fold trained with mini-batch
// Adam on sigmoid + binary cross-entropy, early stopping with restoration of
// the best weights; the final model is the fold model with the fewest
// validation misclassifications (or, with refit, one trained on all
// non-test rows), scored once on the hold-out set.
//
// Everything random (split, initial weights, batch order) comes from one
// kmlb::Rng seeded with TrainConfig::seed; each fold draws from its own
// stream, so folds run on separate threads and the same seed still gives the
// same model bytes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adam.h"
#include "mlp.h"
#include "split.h"

namespace kmlb {

struct Dataset;

// What early stopping (and the plateau LR drop) watches.
enum class Monitor {
	kValidationLoss,           // Keras' val_loss: mean BCE (no class weights) + L2 term
	kValidationMisclassified,  // validation rows on the wrong side of 0.5
};

struct TrainConfig {
	std::string name = "custom";  // "report", "recommended" or "custom"
	uint64_t seed = 1;
	std::vector<size_t> hidden = {15, 12, 10};

	double test_fraction = 0.25;  // stratified hold-out
	size_t folds = 3;             // stratified K-fold on the rest (>= 2)
	size_t max_epochs = 500;
	size_t batch = 64;

	bool standardise = false;    // fit mean/std on each fold's training rows
	bool class_weights = true;   // sklearn 'balanced': n / (2 * n_class)
	float l2 = 0.001f;           // Keras kernel_regularizer l2: loss += l2 * sum(w^2)
	AdamConfig adam;             // Keras defaults

	// Early stopping: stop when the monitor has not improved by more than
	// min_delta for `patience` consecutive epochs; the best epoch's weights
	// are restored. An epoch "improves" when monitor < best - min_delta.
	Monitor monitor = Monitor::kValidationLoss;
	size_t patience = 3;
	double min_delta = 1e-4;

	// Plateau learning-rate drop (0 = off): after lr_patience epochs without
	// improvement, lr *= lr_factor (not below min_learning_rate) and the
	// early-stopping count starts again. Early stopping then only fires at
	// the floor learning rate.
	size_t lr_patience = 0;
	float lr_factor = 0.5f;
	float min_learning_rate = 1e-5f;

	// Stop a fold as soon as an epoch ends with zero misclassified training
	// rows (counted by a clean pass, not the running epoch figure) and zero
	// misclassified validation rows: the teacher is a function of the
	// features, so that is exact imitation of everything seen.
	bool stop_at_zero_error = false;

	// Final model: false = the fold model with the fewest validation
	// misclassifications (the report); true = one more model trained on all
	// non-test rows, monitored on those rows themselves (a clean pass each
	// epoch), the folds then only estimate how well the protocol generalises.
	bool refit = false;

	size_t threads = 2;  // folds trained concurrently (results do not depend on it)

	// The seed report's protocol (sections 3.2-4.3), see trainer.cc.
	static TrainConfig report();
	// kmlb's protocol for exact imitation, see trainer.cc.
	static TrainConfig recommended();

	nlohmann::json to_json() const;
	// Throws Error(kBadData) naming `where` and the field for a bad value.
	static TrainConfig from_json(const nlohmann::json &j, const std::string &where);
};

struct Confusion {
	size_t tn = 0, fp = 0, fn = 0, tp = 0;
};

struct EvalResult {
	size_t rows = 0;
	size_t misclassified = 0;
	double accuracy = 0;  // 1 - misclassified / rows
	double loss = 0;      // mean BCE, no class weights, no L2
	Confusion confusion;
};

struct EpochRecord {
	size_t fold = 0;   // 0-based
	size_t epoch = 0;  // 1-based
	double train_loss = 0;  // running mean over the epoch's batches (weighted BCE + L2 term)
	double train_accuracy = 0;  // running, as Keras reports it
	double val_loss = 0;    // Keras' val_loss: mean BCE + L2 term
	double val_accuracy = 0;
	size_t val_misclassified = 0;
	double learning_rate = 0;
	double seconds = 0;  // wall time of this epoch, evaluation included
};

struct FoldResult {
	size_t fold = 0;
	size_t train_rows = 0;
	EvalResult validation;  // of the restored (best) weights
	size_t epochs = 0;      // epochs run
	size_t best_epoch = 0;  // whose weights were kept
	std::string stop_reason;  // "early_stopping", "zero_error", "max_epochs"
	uint64_t train_samples = 0;  // samples through train steps
	double train_step_seconds = 0;  // time inside train steps
	double seconds = 0;  // fold wall time
	Mlp model;
};

struct TrainResult {
	Mlp model;  // the final model (with standardisation if any)
	size_t chosen_fold = 0;  // the fold with the fewest validation misclassifications
	std::vector<FoldResult> folds;
	// With TrainConfig::refit: the model trained on all non-test rows (its
	// fold index is folds.size(), its "validation" the training rows).
	std::optional<FoldResult> refit;
	EvalResult test;  // the chosen model on the hold-out rows
	std::vector<EpochRecord> history;  // ordered by (fold, epoch); the refit is fold K
	uint64_t train_samples = 0;  // over all folds
	// Per-thread throughput of the train steps (gather, forward, backward,
	// L2, Adam; excluding evaluation): train_samples / sum of train step
	// time over the folds. Lower when folds share a core.
	double samples_per_second = 0;
	double seconds = 0;  // wall time of train()
	std::string data_hash;

	// Everything but the model and the history. Without timing (seconds,
	// samples_per_second) it is deterministic: what a model file records.
	nlohmann::json metrics_json(bool with_timing = true) const;
};

struct TrainHooks {
	// Called after every epoch of every fold, from the fold's thread but
	// never concurrently.
	std::function<void(const EpochRecord &)> on_epoch;
	// When set and true, training stops and throws Error(kInterrupted).
	const std::atomic<bool> *interrupt = nullptr;
};

// Throws Error(kUsage) for an invalid config and Error(kBadData) for a data
// set that cannot be split (too few rows of a class).
TrainResult train(const Dataset &data, const TrainConfig &config, const TrainHooks &hooks = {});

// The stratified hold-out split train() makes for this config (seed and
// test fraction): the rows a model's test figures were measured on.
HoldoutSplit holdout_split(std::span<const uint8_t> labels, const TrainConfig &config);

// Scores a model on the given rows of a data set (all rows if empty).
EvalResult evaluate(const Mlp &model, const Dataset &data, const std::vector<uint32_t> &rows = {});

}  // namespace kmlb
