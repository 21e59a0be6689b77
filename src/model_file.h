// The model file: JSON, byte-deterministic, self-describing.
//
//   {
//     "format": "kmlb-model",
//     "format_version": 1,
//     "architecture": {"inputs": 15, "hidden": [15, 12, 10], "outputs": 1,
//                      "activation": "relu", "output": "sigmoid",
//                      "feature_set": "seed", "features": ["src_non_pref_nr", ...]},
//     "layers": [{"weights": [[w_o0_i0, ...], ...],   // [outputs][inputs]
//                 "bias": [...]}, ...],
//     "standardisation": {"mean": [...], "stddev": [...]} | null,
//     "training": {TrainConfig::to_json()} | null,
//     "data_hash": "<fnv1a64 hex of the training CSV>" | "",
//     "metrics": {TrainResult::metrics_json()} | null
//   }
//
// Floats are written in their shortest decimal form (fmt "{}" of the float),
// which reads back to the same float bit for bit; number arrays sit on one
// line. Keys keep this order.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "feature_set.h"
#include "mlp.h"
#include "trainer.h"

namespace kmlb {

inline constexpr std::string_view kModelFormat = "kmlb-model";
inline constexpr int kModelFormatVersion = 1;

// The model shapes every command accepts, so that what `train` writes
// `eval`, `quantize` and `export-c` read: layers as wide as the fixed-point
// code handles (kMaxFixedWidth), at most kMaxHiddenLayers of them.
inline constexpr size_t kMaxHiddenWidth = 64;
inline constexpr size_t kMaxHiddenLayers = 16;

struct ModelFile {
	Mlp model;
	FeatureSet feature_set = FeatureSet::kSeed;
	std::optional<TrainConfig> training;
	std::string data_hash;
	nlohmann::json metrics;  // an object, or null
};

std::string model_to_json(const ModelFile &file);
// Validates everything: format and version, shapes against the feature set,
// finite float32 values, positive stddev. Throws
// Error(kBadData, "<name>: <field>: <what>") on the first problem.
ModelFile model_from_json(std::string_view text, const std::string &name);

// Whether `text` is a float model file (format "kmlb-model"), as opposed to
// anything else (a fixed-point model.q.json, or garbage for its reader).
bool is_float_model_text(std::string_view text);

// write_file_atomic / read_file around the two above (Error(kWriteError),
// Error(kNoInput) as those report).
void save_model(const std::string &path, const ModelFile &file);
ModelFile load_model(const std::string &path);

}  // namespace kmlb
