#include "mlp.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "rng.h"

namespace kmlb {

namespace {

// Samples processed together in the inner loops. The batch is padded to a
// multiple of it; each lane does the same float operations in the same order
// whatever the vector width the compiler picks, so results do not depend on
// the instruction set.
constexpr size_t kLanes = 8;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

float relu(float v) { return v > 0.0f ? v : 0.0f; }

// kLanes floats as one GCC vector (one AVX register, two SSE). Only
// element-wise operations, so each lane computes exactly the scalar
// reference's float operations in the same order. The helpers are always
// inlined, so no vector crosses a call (hence no ABI concern: -Wpsabi).
#pragma GCC diagnostic ignored "-Wpsabi"
using Lanes = float __attribute__((vector_size(kLanes * sizeof(float))));

[[gnu::always_inline]] inline Lanes load(const float *p)
{
	Lanes v;
	std::memcpy(&v, p, sizeof v);
	return v;
}

[[gnu::always_inline]] inline void store(float *p, Lanes v) { std::memcpy(p, &v, sizeof v); }

// Sum of the lanes in a fixed order.
[[gnu::always_inline]] inline float lane_sum(Lanes v)
{
	float sum = 0.0f;
	for (size_t k = 0; k < kLanes; ++k)
		sum += v[k];
	return sum;
}

// The hot loops, compiled for AVX2 and for the baseline on x86-64; the
// loader picks one. Not for AVX-512 or FMA: GCC would contract a * b + c
// into a fused multiply-add there, which rounds once and would change the
// results (and the model bytes) from one machine to another.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KMLB_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define KMLB_KERNEL
#endif
#if defined(__x86_64__) && defined(__FMA__)
#warning "FMA enabled (-march=native?): models will differ in the last bits from other builds"
#endif

// out[o][b] = act(bias[o] + sum_i w[o][i] * in[i][b]) for the padded batch.
KMLB_KERNEL void dense_forward(const float *w, const float *bias, size_t n_in, size_t n_out,
			       const float *in, float *out, size_t stride, size_t padded, bool relu_out)
{
	for (size_t o = 0; o < n_out; ++o) {
		const float *w_row = w + o * n_in;
		for (size_t b0 = 0; b0 < padded; b0 += kLanes) {
			Lanes acc = Lanes{} + bias[o];
			for (size_t i = 0; i < n_in; ++i)
				acc += w_row[i] * load(in + i * stride + b0);
			if (relu_out)
				acc = acc > 0.0f ? acc : Lanes{};
			store(out + o * stride + b0, acc);
		}
	}
}

// grad_w[o][i] = sum_b delta[o][b] * in[i][b]; grad_b[o] = sum_b delta[o][b].
KMLB_KERNEL void dense_backward_params(const float *delta, const float *in, size_t n_in,
				       size_t n_out, size_t stride, size_t padded, float *grad_w,
				       float *grad_b)
{
	for (size_t o = 0; o < n_out; ++o) {
		const float *d = delta + o * stride;
		Lanes bias_acc = {};
		for (size_t b0 = 0; b0 < padded; b0 += kLanes)
			bias_acc += load(d + b0);
		grad_b[o] = lane_sum(bias_acc);
		for (size_t i = 0; i < n_in; ++i) {
			const float *a = in + i * stride;
			Lanes acc = {};
			for (size_t b0 = 0; b0 < padded; b0 += kLanes)
				acc += load(d + b0) * load(a + b0);
			grad_w[o * n_in + i] = lane_sum(acc);
		}
	}
}

// delta_in[i][b] = (in[i][b] > 0) * sum_o w[o][i] * delta[o][b]: back through
// the weights and the ReLU that produced `in` (a unit at 0 passed nothing).
KMLB_KERNEL void dense_backward_input(const float *w, const float *delta, const float *in,
				      size_t n_in, size_t n_out, size_t stride, size_t padded,
				      float *delta_in)
{
	for (size_t i = 0; i < n_in; ++i) {
		for (size_t b0 = 0; b0 < padded; b0 += kLanes) {
			Lanes acc = {};
			for (size_t o = 0; o < n_out; ++o)
				acc += w[o * n_in + i] * load(delta + o * stride + b0);
			const Lanes a = load(in + i * stride + b0);
			store(delta_in + i * stride + b0, a > 0.0f ? acc : Lanes{});
		}
	}
}

}  // namespace

Standardisation Standardisation::fit(const float *x, size_t cols, std::span<const uint32_t> rows,
				     size_t total_rows)
{
	const size_t n = rows.empty() ? total_rows : rows.size();
	std::vector<double> sum(cols, 0.0), sum_sq(cols, 0.0);
	for (size_t k = 0; k < n; ++k) {
		const float *r = x + (rows.empty() ? k : rows[k]) * cols;
		for (size_t i = 0; i < cols; ++i) {
			sum[i] += r[i];
			sum_sq[i] += static_cast<double>(r[i]) * r[i];
		}
	}
	Standardisation s;
	s.mean.resize(cols);
	s.stddev.resize(cols);
	for (size_t i = 0; i < cols; ++i) {
		const double mean = n ? sum[i] / n : 0.0;
		const double var = n ? std::max(0.0, sum_sq[i] / n - mean * mean) : 0.0;
		const double sd = std::sqrt(var);
		s.mean[i] = static_cast<float>(mean);
		// A constant column carries no information; dividing by 1 keeps it finite.
		s.stddev[i] = sd > 1e-12 ? static_cast<float>(sd) : 1.0f;
	}
	return s;
}

std::vector<float> Standardisation::apply(const float *x, size_t rows) const
{
	const size_t cols = mean.size();
	std::vector<float> out(rows * cols);
	for (size_t r = 0; r < rows; ++r)
		for (size_t i = 0; i < cols; ++i)
			out[r * cols + i] = (x[r * cols + i] - mean[i]) / stddev[i];
	return out;
}

Mlp::Mlp(size_t inputs, std::vector<size_t> hidden) : inputs_(inputs), hidden_(std::move(hidden))
{
	size_t offset = 0;
	for (size_t l = 0; l < layer_count(); ++l) {
		offsets_.push_back(offset);
		offset += (layer_inputs(l) + 1) * layer_outputs(l);
	}
	params_.assign(offset, 0.0f);
}

Mlp Mlp::glorot_uniform(size_t inputs, std::vector<size_t> hidden, Rng &rng)
{
	Mlp m(inputs, std::move(hidden));
	for (size_t l = 0; l < m.layer_count(); ++l) {
		const size_t fan_in = m.layer_inputs(l), fan_out = m.layer_outputs(l);
		const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
		float *w = m.params_.data() + m.weight_offset(l);
		for (size_t k = 0; k < fan_in * fan_out; ++k)
			w[k] = static_cast<float>((2.0 * rng.uniform() - 1.0) * limit);
	}
	return m;
}

size_t Mlp::layer_inputs(size_t layer) const { return layer == 0 ? inputs_ : hidden_[layer - 1]; }

size_t Mlp::layer_outputs(size_t layer) const { return layer < hidden_.size() ? hidden_[layer] : 1; }

size_t Mlp::max_width() const
{
	size_t w = inputs_;
	for (size_t h : hidden_)
		w = std::max(w, h);
	return w;
}

std::vector<uint8_t> Mlp::weight_mask() const
{
	std::vector<uint8_t> mask(params_.size(), 0);
	for (size_t l = 0; l < layer_count(); ++l)
		std::fill_n(mask.begin() + weight_offset(l), layer_inputs(l) * layer_outputs(l), 1);
	return mask;
}

Mlp Mlp::fold_standardisation() const
{
	Mlp out = *this;
	out.standardisation.reset();
	if (!standardisation)
		return out;
	const Standardisation &s = *standardisation;
	const size_t n_in = inputs_, n_out = layer_outputs(0);
	const float *w = weights(0);
	const float *b = bias(0);
	float *w_out = out.params_.data() + weight_offset(0);
	float *b_out = out.params_.data() + bias_offset(0);
	for (size_t o = 0; o < n_out; ++o) {
		double shift = 0.0;
		for (size_t i = 0; i < n_in; ++i) {
			const double scaled = static_cast<double>(w[o * n_in + i]) / s.stddev[i];
			w_out[o * n_in + i] = static_cast<float>(scaled);
			shift += scaled * s.mean[i];
		}
		b_out[o] = static_cast<float>(b[o] - shift);
	}
	return out;
}

namespace {

// The scalar reference forward in precision T (float: the model's own
// arithmetic, summed bias first then inputs in order, as MlpBatch sums;
// double: for gradient checks).
template <typename T>
T forward_reference(const Mlp &m, const float *x)
{
	std::vector<T> in(x, x + m.inputs()), out;
	if (m.standardisation)
		for (size_t i = 0; i < m.inputs(); ++i)
			in[i] = (in[i] - m.standardisation->mean[i]) / m.standardisation->stddev[i];
	for (size_t l = 0; l < m.layer_count(); ++l) {
		const size_t n_in = m.layer_inputs(l), n_out = m.layer_outputs(l);
		const float *w = m.weights(l);
		const float *b = m.bias(l);
		out.assign(n_out, T(0));
		for (size_t o = 0; o < n_out; ++o) {
			T acc = b[o];
			for (size_t i = 0; i < n_in; ++i)
				acc += static_cast<T>(w[o * n_in + i]) * in[i];
			out[o] = l + 1 < m.layer_count() && !(acc > T(0)) ? T(0) : acc;  // ReLU as relu()
		}
		in.swap(out);
	}
	return in[0];
}

}  // namespace

float Mlp::logit_reference(const float *x) const { return forward_reference<float>(*this, x); }

double Mlp::logit_reference_double(const float *x) const { return forward_reference<double>(*this, x); }

double Mlp::weight_square_sum() const
{
	double sum = 0.0;
	for (size_t l = 0; l < layer_count(); ++l) {
		const float *w = weights(l);
		for (size_t k = 0; k < layer_inputs(l) * layer_outputs(l); ++k)
			sum += static_cast<double>(w[k]) * w[k];
	}
	return sum;
}

void add_l2_gradient(const Mlp &model, float l2, std::span<float> grad)
{
	assert(grad.size() == model.param_count());
	const float scale = 2.0f * l2;
	for (size_t l = 0; l < model.layer_count(); ++l) {
		const float *w = model.weights(l);
		float *g = grad.data() + model.weight_offset(l);
		for (size_t k = 0; k < model.layer_inputs(l) * model.layer_outputs(l); ++k)
			g[k] += scale * w[k];
	}
}

double bce_from_logit(double z, int y)
{
	return std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
}

float sigmoid(float z)
{
	const double e = std::exp(-std::abs(static_cast<double>(z)));
	return static_cast<float>(z >= 0.0f ? 1.0 / (1.0 + e) : e / (1.0 + e));
}

double json_number(float f)
{
	// fmt and from_chars are locale-independent (strtod is not).
	const std::string text = fmt::format("{}", f);
	double d = 0.0;
	std::from_chars(text.data(), text.data() + text.size(), d);
	return d;
}

MlpBatch::MlpBatch(const Mlp &shape, size_t max_batch)
	: max_batch_(max_batch), stride_(round_up(std::max<size_t>(max_batch, 1), kLanes))
{
	act_.resize(shape.layer_count() + 1);
	act_[0].assign(shape.inputs() * stride_, 0.0f);
	for (size_t l = 0; l < shape.layer_count(); ++l)
		act_[l + 1].assign(shape.layer_outputs(l) * stride_, 0.0f);
	delta_.assign(shape.max_width() * stride_, 0.0f);
	delta_prev_.assign(shape.max_width() * stride_, 0.0f);
}

void MlpBatch::load_inputs(const Mlp &model, const Batch &batch)
{
	assert(batch.n <= max_batch_ && batch.cols == model.inputs());
	n_ = batch.n;
	const size_t cols = batch.cols;
	const size_t padded = round_up(n_, kLanes);
	float *in = act_[0].data();
	// Transpose to [input][sample], standardising on the way.
	for (size_t b = 0; b < n_; ++b) {
		const float *r = batch.x + static_cast<size_t>(batch.row(b)) * cols;
		if (model.standardisation) {
			const float *mean = model.standardisation->mean.data();
			const float *sd = model.standardisation->stddev.data();
			for (size_t i = 0; i < cols; ++i)
				in[i * stride_ + b] = (r[i] - mean[i]) / sd[i];
		} else {
			for (size_t i = 0; i < cols; ++i)
				in[i * stride_ + b] = r[i];
		}
	}
	for (size_t i = 0; i < cols; ++i)
		std::fill(in + i * stride_ + n_, in + i * stride_ + padded, 0.0f);
}

void MlpBatch::run_forward(const Mlp &model)
{
	const size_t padded = round_up(n_, kLanes);
	for (size_t l = 0; l < model.layer_count(); ++l)
		dense_forward(model.weights(l), model.bias(l), model.layer_inputs(l),
			      model.layer_outputs(l), act_[l].data(), act_[l + 1].data(), stride_,
			      padded, l + 1 < model.layer_count());
}

BatchStats MlpBatch::score(const Batch &batch, float *logits_out, bool want_delta)
{
	BatchStats stats;
	const float *logits = act_.back().data();
	const float inv_n = 1.0f / static_cast<float>(n_);
	float *delta = delta_.data();
	for (size_t b = 0; b < n_; ++b) {
		const float z = logits[b];
		const int y = batch.y[batch.row(b)];
		const float w = batch.class_weight ? batch.class_weight[y] : 1.0f;
		// One exp serves the loss and the sigmoid (both stable for any z).
		// In double: libm's float exp may differ in the last bit between
		// its FMA and plain variants; rounding a double result to float
		// makes the gradient the same on every x86-64.
		const double e = std::exp(-std::abs(static_cast<double>(z)));
		const double loss = std::max(static_cast<double>(z), 0.0) - static_cast<double>(z) * y +
				    std::log1p(e);
		stats.loss_sum += w * loss;
		const bool predicted = z > 0.0f;
		if (predicted)
			(y ? stats.tp : stats.fp)++;
		else
			(y ? stats.fn : stats.tn)++;
		if (logits_out)
			logits_out[b] = z;
		if (want_delta) {
			const float p = static_cast<float>(z >= 0.0f ? 1.0 / (1.0 + e) : e / (1.0 + e));
			delta[b] = w * (p - static_cast<float>(y)) * inv_n;
		}
	}
	stats.misclassified = stats.fp + stats.fn;
	if (want_delta)
		std::fill(delta + n_, delta + round_up(n_, kLanes), 0.0f);
	return stats;
}

BatchStats MlpBatch::forward(const Mlp &model, const Batch &batch, float *logits_out)
{
	load_inputs(model, batch);
	run_forward(model);
	return score(batch, logits_out, false);
}

BatchStats MlpBatch::forward_backward(const Mlp &model, const Batch &batch, std::span<float> grad)
{
	assert(grad.size() == model.param_count());
	load_inputs(model, batch);
	run_forward(model);
	const BatchStats stats = score(batch, nullptr, true);
	const size_t padded = round_up(n_, kLanes);

	// delta_ holds dLoss/dz of layer l's outputs, [unit][sample].
	for (size_t l = model.layer_count(); l-- > 0;) {
		const size_t n_in = model.layer_inputs(l), n_out = model.layer_outputs(l);
		dense_backward_params(delta_.data(), act_[l].data(), n_in, n_out, stride_, padded,
				      grad.data() + model.weight_offset(l),
				      grad.data() + model.bias_offset(l));
		if (l == 0)
			break;
		dense_backward_input(model.weights(l), delta_.data(), act_[l].data(), n_in, n_out,
				     stride_, padded, delta_prev_.data());
		delta_.swap(delta_prev_);
	}
	return stats;
}

}  // namespace kmlb
