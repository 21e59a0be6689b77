// The model: a multi-layer perceptron with ReLU hidden layers and one logit
// output, trained with sigmoid + binary cross-entropy (the seed report's
// 15-15-12-10-1, Chen's 15-10-1, or any other list of hidden widths).
//
// Parameters are float32 in one flat vector, layer by layer: the weights of
// layer l as [outputs][inputs] (row o holds the weights into unit o, as in
// torch.nn.Linear), then its biases. One flat vector keeps the optimizer, the
// L2 term and the model file simple.
//
// Two forward paths: logit_reference() is a plain loop over one sample, and
// MlpBatch is the fast batched path used for training and evaluation. They sum
// in the same order (bias first, then inputs in ascending order) so they agree
// bit for bit (tested).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace kmlb {

class Rng;

// Per-input standardisation x' = (x - mean) / stddev, fitted on the training
// split only. stddev is never 0 (a constant column gets 1).
struct Standardisation {
	std::vector<float> mean;
	std::vector<float> stddev;

	// Mean and population standard deviation of the given rows of x
	// (row-major, cols columns); all rows if `rows` is empty.
	static Standardisation fit(const float *x, size_t cols, std::span<const uint32_t> rows,
				   size_t total_rows);
	// x standardised, rows * mean.size() floats: the same float operations as
	// the model's own input step, so a model without standardisation fed
	// this gives the same bits as the model with it fed x.
	std::vector<float> apply(const float *x, size_t rows) const;
	bool operator==(const Standardisation &) const = default;
};

class Mlp {
public:
	Mlp() = default;
	// All parameters zero.
	Mlp(size_t inputs, std::vector<size_t> hidden);
	// Keras' Dense defaults: Glorot/Xavier uniform weights
	// U(-sqrt(6 / (fan_in + fan_out)), +sqrt(...)), zero biases. Draws the
	// weights layer by layer in storage order from rng.uniform().
	static Mlp glorot_uniform(size_t inputs, std::vector<size_t> hidden, Rng &rng);

	size_t inputs() const { return inputs_; }
	const std::vector<size_t> &hidden() const { return hidden_; }
	// Dense layers including the output layer: hidden().size() + 1.
	size_t layer_count() const { return hidden_.size() + 1; }
	size_t layer_inputs(size_t layer) const;
	size_t layer_outputs(size_t layer) const;
	// Widest layer, input included (sizes the batch workspace).
	size_t max_width() const;
	size_t param_count() const { return params_.size(); }

	std::span<float> params() { return params_; }
	std::span<const float> params() const { return params_; }
	size_t weight_offset(size_t layer) const { return offsets_[layer]; }
	size_t bias_offset(size_t layer) const
	{
		return offsets_[layer] + layer_inputs(layer) * layer_outputs(layer);
	}
	const float *weights(size_t layer) const { return params_.data() + weight_offset(layer); }
	const float *bias(size_t layer) const { return params_.data() + bias_offset(layer); }
	// 1 for every weight, 0 for every bias: what L2 applies to.
	std::vector<uint8_t> weight_mask() const;

	// Applied to the raw features before the first layer when present.
	std::optional<Standardisation> standardisation;

	// An equivalent model without standardisation: the first layer absorbs it
	// (w' = w / stddev, b' = b - sum w * mean / stddev). Used on export, where
	// the kernel sees raw features. Logits agree up to float rounding.
	Mlp fold_standardisation() const;

	// Scalar reference forward of one raw sample (standardised here if the
	// model has a standardisation): the logit.
	float logit_reference(const float *x) const;
	// The same in double precision throughout (for gradient checks).
	double logit_reference_double(const float *x) const;

	// Sum of squared weights (biases excluded): the Keras L2 term is
	// l2 * weight_square_sum().
	double weight_square_sum() const;

	bool operator==(const Mlp &) const = default;

private:
	size_t inputs_ = 0;
	std::vector<size_t> hidden_;
	std::vector<size_t> offsets_;  // weight offset of each layer
	std::vector<float> params_;
};

// Adds the gradient of l2 * sum(w^2) over the weights (2 * l2 * w) to grad.
void add_l2_gradient(const Mlp &model, float l2, std::span<float> grad);

// Numerically stable binary cross-entropy of a logit z for label y:
// max(z, 0) - z * y + log1p(exp(-|z|)).
double bce_from_logit(double z, int y);
float sigmoid(float z);

// The double nearest to the shortest decimal form of f: a JSON writer prints
// it in that short form ("0.001", not "0.0010000000474974513") and reading it
// back and rounding to float gives f again.
double json_number(float f);

// A mini-batch: rows of a row-major feature matrix picked by index (or the
// first n rows when index is null), their labels and optional per-class
// weights (balanced class weights; 1 when null).
struct Batch {
	const float *x = nullptr;
	size_t cols = 0;
	const uint8_t *y = nullptr;
	const uint32_t *index = nullptr;
	size_t n = 0;
	const float *class_weight = nullptr;  // [2] or null

	uint32_t row(size_t i) const { return index ? index[i] : static_cast<uint32_t>(i); }
};

// What one forward pass over a batch found.
struct BatchStats {
	double loss_sum = 0;     // sum of w_i * bce_i (class weights applied)
	size_t misclassified = 0;  // logit > 0 predicts 1
	size_t tn = 0, fp = 0, fn = 0, tp = 0;
};

// The fast batched path. Activations are stored unit-major ([unit][sample],
// the batch padded to a multiple of 8), so every inner loop runs over
// contiguous samples in vector registers; padded samples carry zero gradient.
// One MlpBatch per thread; it only holds scratch memory.
class MlpBatch {
public:
	MlpBatch(const Mlp &shape, size_t max_batch);

	// Forward pass only; logits_out (may be null) receives batch.n logits.
	BatchStats forward(const Mlp &model, const Batch &batch, float *logits_out = nullptr);

	// Forward and backward: grad (param_count floats) is overwritten with the
	// gradient of loss = sum_i w_i * bce_i / n (Keras' sum over batch size;
	// no L2 here, see add_l2_gradient).
	BatchStats forward_backward(const Mlp &model, const Batch &batch, std::span<float> grad);

	size_t max_batch() const { return max_batch_; }

private:
	void load_inputs(const Mlp &model, const Batch &batch);
	void run_forward(const Mlp &model);
	BatchStats score(const Batch &batch, float *logits_out, bool want_delta);

	size_t max_batch_ = 0;
	size_t stride_ = 0;  // padded batch size: floats per unit row
	size_t n_ = 0;       // samples in the current batch
	// act_[0] is the (standardised) input; act_[l + 1] the output of layer l
	// (after ReLU for hidden layers, the logits for the last).
	std::vector<std::vector<float>> act_;
	std::vector<float> delta_, delta_prev_;
};

}  // namespace kmlb
