// The fixed-point model: the float MLP (mlp.h) with its standardisation
// folded into the first layer, turned into integers the kernel can run.
//
// Arithmetic, layer by layer (docs/fixed-point.md has the derivation):
//   inputs   int32, F = frac_bits fractional bits, saturated to the feature
//            ranges of fixed_features.h
//   layer l  unit o sums  acc = bias[o] + sum_i w[o][i] * in[i]  with the
//            weights of row o at weight_frac_bits[o] (per unit: a unit with
//            small sums gets more bits), so acc has accumulator_frac_bits(o)
//            = input_frac_bits + weight_frac_bits[o]; the bias is stored at
//            that scale. Interval analysis over the whole input box proves
//            lo >= -(2^31 - 1) and hi <= 2^31 - 1 for every unit's final sum:
//            each sum fits a signed 32-bit lane. Partial sums may leave it;
//            every path adds modulo 2^32 or 2^64 (unsigned) or in int64, so
//            the final value is exact anyway.
//   hidden   out = min(max(acc, 0) >> shift[o], cap[o]): ReLU, an arithmetic
//            right shift to the layer's common output_frac_bits (the bias
//            carries the rounding offset 2^(shift-1), so the shift rounds to
//            nearest), and saturation at cap[o], twice the largest value the
//            unit reached on the calibration data (the saturating
//            requantisation of integer inference: it bounds the next layer,
//            and never fires on that data).
//   output   the logit acc itself; decision: migrate iff logit >= 0.
//            No sigmoid (monotone, and 0.5 is its value at 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "feature_set.h"
#include "kernel_state.h"
#include "kernel_version.h"
#include "model_file.h"

namespace kmlb {

struct Dataset;

inline constexpr std::string_view kFixedModelFormat = "kmlb-fixed-model";
inline constexpr int kFixedModelFormatVersion = 1;

// Every partial sum, bias, weight and activation stays within +-kLaneLimit.
inline constexpr int64_t kLaneLimit = (int64_t{1} << 31) - 1;
// Widest layer the fixed-point code accepts (stack buffers, unrolled code).
inline constexpr size_t kMaxFixedWidth = 64;
// Shifts stay below 31 so that every shift in the exported C is defined.
inline constexpr int kMaxAccumulatorFracBits = 30;

struct FixedLayer {
	size_t inputs = 0, outputs = 0;
	int input_frac_bits = 0;
	std::vector<int> weight_frac_bits;  // per output unit
	std::vector<int> shift;             // per output unit; 0 for the output layer
	std::vector<int32_t> weights;  // [outputs][inputs]
	std::vector<int32_t> bias;     // at accumulator_frac_bits(o) (hidden: + rounding offset)
	std::vector<int32_t> cap;      // hidden layers: saturation per unit; empty for the output

	int accumulator_frac_bits(size_t o) const { return input_frac_bits + weight_frac_bits[o]; }
	// Hidden layers: the same for every unit (validated).
	int output_frac_bits() const { return accumulator_frac_bits(0) - shift[0]; }
	int32_t weight(size_t o, size_t i) const { return weights[o * inputs + i]; }
	bool operator==(const FixedLayer &) const = default;
};

struct FixedModel {
	FeatureSet feature_set = FeatureSet::kSeed;
	int frac_bits = 0;  // of the inputs: KMLB_FRAC_BITS
	std::vector<FixedLayer> layers;
	std::string source_model_hash;  // fnv1a64 of the float model's JSON
	std::string source_data_hash;   // the float model's training data hash
	// The quantizer's report (formats, bounds, agreement); informative only.
	nlohmann::json quantization;

	size_t inputs() const { return layers.front().inputs; }
	std::vector<size_t> hidden() const;
	size_t param_count() const;
	int logit_frac_bits() const { return layers.back().accumulator_frac_bits(0); }
	// "15-15-12-10-1"
	std::string shape_name() const;
};

// ---- the proof ----------------------------------------------------------

// Interval analysis: per unit of a layer, the range [lo, hi] of its final
// sum over the input box (feature ranges for the first layer, [0, cap] after
// a hidden layer); `unit` holds max(|lo|, |hi|).
struct LayerBound {
	std::vector<int64_t> unit;  // saturates at 2^62
	int64_t max = 0;
	bool fits() const { return max <= kLaneLimit; }
};
std::vector<LayerBound> prove_bounds(const FixedModel &m);

// Everything load_fixed_model checks (shapes, frac bits chain, ranges, the
// bounds); throws Error(kBadData, "<where>: <field>: <what>").
void validate_fixed_model(const FixedModel &m, const std::string &where);

// ---- inference ------------------------------------------------------------

// The scalar reference: plain loops, int64 sums. x holds inputs() fixed-point
// features; they are saturated (a copy) first. If max_abs_acc is given (one
// per layer) it is raised to the largest |acc| seen; saturations counts how
// often a cap clipped an activation.
int64_t fixed_logit_reference(const FixedModel &m, const int32_t *x, int64_t *max_abs_acc = nullptr,
			      uint64_t *saturations = nullptr);
inline bool fixed_decision(int64_t logit) { return logit >= 0; }

// The batched user-space path: blocks of samples, unit-major, 32-bit
// wrapping arithmetic that the compiler vectorises (AVX2 where present).
// Exact because the proof bounds every final sum below 2^31. Bit-identical
// to the reference (tested).
class FixedBatch {
public:
	explicit FixedBatch(const FixedModel &m);
	// Logits of n rows of fixed-point features (row-major).
	void logits(const int32_t *x, size_t n, int32_t *out);
	static constexpr size_t kBlock = 64;

private:
	const FixedModel &m_;
	std::vector<int32_t> a_, b_;  // [unit][kBlock] activations
};

// ---- file ---------------------------------------------------------------

std::string fixed_model_to_json(const FixedModel &m);
FixedModel fixed_model_from_json(std::string_view text, const std::string &name);
void save_fixed_model(const std::string &path, const FixedModel &m);
FixedModel load_fixed_model(const std::string &path);

// ---- quantization -------------------------------------------------------

// The rows the quantizer calibrates caps on and checks decisions against.
struct Calibration {
	std::string name;
	FeatureSet feature_set = FeatureSet::kSeed;
	size_t rows = 0;
	std::vector<float> x;   // rows * cols float features (the float model's inputs)
	std::vector<uint8_t> y;  // labels
	// When present, row i's raw state: fixed-point inputs then come from the
	// integer extraction (the kernel's path) instead of rounding x.
	std::vector<KernelState> states;

	size_t cols() const { return feature_count(feature_set); }
	std::vector<int32_t> fixed_inputs(int frac_bits) const;
};

// Keeps the rows preprocessing keeps (passes_prep_filter); labels from can_migrate.
Calibration calibration_from_states(std::span<const KernelState> states, FeatureSet set, KernelVersion version,
				    std::string name);
Calibration calibration_from_dataset(const Dataset &d, std::string name);
// Only the given rows of `cal` (e.g. the training split of the hold-out):
// quantize calibrates on training rows, so hold-out scores stay out of sample.
Calibration calibration_rows(const Calibration &cal, std::span<const uint32_t> rows, std::string name);
// The default data: the seed preset (seed set), or the four presets' default
// data sets together (modern set: the seed preset never sets its new flags).
Calibration default_calibration(FeatureSet set);

struct QuantizeOptions {
	std::optional<int> frac_bits;  // input frac bits; chosen when empty
	double activation_headroom = 2.0;
};

// What one input frac-bits candidate gave.
struct FracCandidate {
	int frac_bits = 0;
	bool feasible = false;
	std::string why_not;
	size_t disagreements = 0;     // fixed decision != float decision
	double max_logit_error = 0;   // max |fixed logit - float logit|, logit units
};

struct QuantizeResult {
	FixedModel model;
	std::vector<FracCandidate> candidates;
	FracCandidate chosen;
	size_t float_misclassified = 0, fixed_misclassified = 0;  // against the labels
	uint64_t saturations = 0;  // cap clips on the calibration rows (0 by construction)
	std::vector<LayerBound> bounds;
	std::vector<int64_t> observed_max_abs_acc;  // per layer, on the calibration rows
	nlohmann::json report() const;
};

// Folds the standardisation, derives per-layer formats, quantizes, proves the
// bounds and compares decisions with the float model on `cal`. Without a
// given frac_bits, every feasible F in 1..kMaxInputFracBits is tried and the
// one with the fewest disagreements, then the smallest logit error, wins.
// Throws Error(kUsage) when a given frac_bits cannot be used, Error(kBadData)
// when the model does not match the calibration's feature set.
QuantizeResult quantize(const ModelFile &source, const Calibration &cal, const QuantizeOptions &opt);

// fnv1a64 of model_to_json(file): the "source model hash".
std::string model_hash(const ModelFile &file);

// ---- scoring ----------------------------------------------------------------

// Float and fixed-point decisions on rows of a calibration set, against its
// labels and against each other.
struct FixedScore {
	size_t rows = 0;
	size_t float_misclassified = 0, fixed_misclassified = 0;
	size_t disagreements = 0;  // fixed decision != float decision
};
// All rows when `rows` is empty.
FixedScore score_fixed(const Mlp &float_model, const FixedModel &m, const Calibration &cal,
		       std::span<const uint32_t> rows = {});

// Whether the float model misclassifies on `rows` as many rows as its file's
// metrics.test records (true when the file records none).
bool holdout_matches_metrics(const ModelFile &file, const FixedScore &holdout);

}  // namespace kmlb
