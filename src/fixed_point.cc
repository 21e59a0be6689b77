// The fixed-point model: its bound proof, validation, the scalar reference
// and the batched path. The file format is fixed_model_file.cc, the
// quantizer quantize.cc.
#include "fixed_point.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "exit_codes.h"
#include "fixed_features.h"

namespace kmlb {


// ---- model ----------------------------------------------------------------

std::vector<size_t> FixedModel::hidden() const
{
	std::vector<size_t> h;
	for (size_t l = 0; l + 1 < layers.size(); ++l)
		h.push_back(layers[l].outputs);
	return h;
}

size_t FixedModel::param_count() const
{
	size_t n = 0;
	for (const FixedLayer &l : layers)
		n += (l.inputs + 1) * l.outputs;
	return n;
}

std::string FixedModel::shape_name() const
{
	std::string s = fmt::format("{}", inputs());
	for (const FixedLayer &l : layers)
		s += fmt::format("-{}", l.outputs);
	return s;
}

// ---- the proof ------------------------------------------------------------

namespace {

__extension__ using int128 = __int128;  // exact interval sums (GCC)

constexpr int64_t kBoundSaturation = int64_t{1} << 62;

struct Interval {
	int64_t lo = 0, hi = 0;
};

// The input box of the first layer.
std::vector<Interval> input_box(FeatureSet set, int frac_bits)
{
	std::vector<Interval> box;
	for (const FeatureRange &r : feature_ranges(set))
		box.push_back({fixed_min(r, frac_bits), fixed_max(r, frac_bits)});
	return box;
}

int64_t saturate_bound(int128 v)
{
	const int128 a = v < 0 ? -v : v;
	return a > kBoundSaturation ? kBoundSaturation : static_cast<int64_t>(a);
}

}  // namespace

std::vector<LayerBound> prove_bounds(const FixedModel &m)
{
	std::vector<LayerBound> out;
	std::vector<Interval> in = input_box(m.feature_set, m.frac_bits);
	for (const FixedLayer &layer : m.layers) {
		LayerBound b;
		for (size_t o = 0; o < layer.outputs; ++o) {
			// |w| < 2^31 and |x| < 2^31: 128 bits hold any sum of 64 terms.
			int128 lo = layer.bias[o], hi = layer.bias[o];
			for (size_t i = 0; i < layer.inputs; ++i) {
				const int128 p = int128{layer.weight(o, i)} * in[i].lo;
				const int128 q = int128{layer.weight(o, i)} * in[i].hi;
				lo += std::min(p, q);
				hi += std::max(p, q);
			}
			const int64_t u = std::max(saturate_bound(lo), saturate_bound(hi));
			b.unit.push_back(u);
			b.max = std::max(b.max, u);
		}
		in.clear();
		for (int32_t c : layer.cap)
			in.push_back({0, c});
		out.push_back(std::move(b));
	}
	return out;
}

void validate_fixed_model(const FixedModel &m, const std::string &where)
{
	auto fail = [&](const std::string &field, const std::string &what) {
		throw Error(ExitCode::kBadData, fmt::format("{}: {}: {}", where, field, what));
	};
	if (m.frac_bits < 0 || m.frac_bits > kMaxInputFracBits)
		fail("frac_bits", fmt::format("{} is outside 0..{}", m.frac_bits, kMaxInputFracBits));
	if (m.layers.empty())
		fail("layers", "no layers");
	size_t width = feature_count(m.feature_set);
	int frac = m.frac_bits;
	for (size_t l = 0; l < m.layers.size(); ++l) {
		const FixedLayer &layer = m.layers[l];
		const std::string f = fmt::format("layers[{}]", l);
		const bool last = l + 1 == m.layers.size();
		if (layer.inputs != width)
			fail(f + ".inputs", fmt::format("{} inputs, the previous layer gives {}", layer.inputs, width));
		if (layer.outputs == 0 || layer.outputs > kMaxFixedWidth)
			fail(f + ".outputs", fmt::format("{} outputs, expected 1..{}", layer.outputs, kMaxFixedWidth));
		if (last && layer.outputs != 1)
			fail(f + ".outputs", "the output layer must have 1 output");
		if (layer.weights.size() != layer.inputs * layer.outputs)
			fail(f + ".weights", fmt::format("expected {} values", layer.inputs * layer.outputs));
		if (layer.bias.size() != layer.outputs)
			fail(f + ".bias", fmt::format("expected {} values", layer.outputs));
		if (layer.input_frac_bits != frac)
			fail(f + ".input_frac_bits",
			     fmt::format("{}, but the values it reads have {} fractional bits", layer.input_frac_bits, frac));
		if (layer.weight_frac_bits.size() != layer.outputs || layer.shift.size() != layer.outputs)
			fail(f, fmt::format("expected {} weight_frac_bits and shifts", layer.outputs));
		for (size_t o = 0; o < layer.outputs; ++o) {
			if (layer.weight_frac_bits[o] < 0 || layer.accumulator_frac_bits(o) > kMaxAccumulatorFracBits)
				fail(fmt::format("{}.weight_frac_bits[{}]", f, o),
				     fmt::format("{} gives an accumulator with {} fractional bits (allowed 0..{})",
						 layer.weight_frac_bits[o], layer.accumulator_frac_bits(o),
						 kMaxAccumulatorFracBits));
			if (last && layer.shift[o] != 0)
				fail(fmt::format("{}.shift[{}]", f, o), "the output layer has no shift");
			if (layer.shift[o] < 0 || layer.shift[o] > layer.accumulator_frac_bits(o))
				fail(fmt::format("{}.shift[{}]", f, o),
				     fmt::format("{} is outside 0..{}", layer.shift[o], layer.accumulator_frac_bits(o)));
			if (layer.accumulator_frac_bits(o) - layer.shift[o] != layer.output_frac_bits())
				fail(fmt::format("{}.shift[{}]", f, o),
				     "every unit of a hidden layer must give the same output fractional bits");
		}
		if (last) {
			if (!layer.cap.empty())
				fail(f + ".cap", "the output layer has no cap");
		} else {
			if (layer.cap.size() != layer.outputs)
				fail(f + ".cap", fmt::format("expected {} values", layer.outputs));
			for (size_t o = 0; o < layer.outputs; ++o)
				if (layer.cap[o] < 0)
					fail(fmt::format("{}.cap[{}]", f, o), "must be >= 0");
		}
		width = layer.outputs;
		frac = layer.output_frac_bits();
	}
	const std::vector<LayerBound> bounds = prove_bounds(m);
	for (size_t l = 0; l < bounds.size(); ++l)
		if (!bounds[l].fits())
			fail(fmt::format("layers[{}]", l),
			     fmt::format("a sum can reach {} over the documented input ranges, beyond the "
					 "32-bit lane (2^31 - 1); re-quantize the model",
					 bounds[l].max));
}

// ---- the scalar reference ---------------------------------------------------

int64_t fixed_logit_reference(const FixedModel &m, const int32_t *x, int64_t *max_abs_acc, uint64_t *saturations)
{
	std::array<int32_t, kMaxFixedWidth> a, b;
	int32_t *in = a.data(), *out = b.data();
	std::copy(x, x + m.inputs(), in);
	saturate_fixed_features(m.feature_set, m.frac_bits, in);
	int64_t logit = 0;
	for (size_t l = 0; l < m.layers.size(); ++l) {
		const FixedLayer &layer = m.layers[l];
		const bool last = l + 1 == m.layers.size();
		for (size_t o = 0; o < layer.outputs; ++o) {
			int64_t acc = layer.bias[o];
			for (size_t i = 0; i < layer.inputs; ++i)
				acc += int64_t{layer.weight(o, i)} * in[i];
			if (max_abs_acc)
				max_abs_acc[l] = std::max(max_abs_acc[l], acc < 0 ? -acc : acc);
			if (last) {
				logit = acc;
				continue;
			}
			int64_t h = std::max<int64_t>(acc, 0) >> layer.shift[o];
			if (h > layer.cap[o]) {
				h = layer.cap[o];
				if (saturations)
					++*saturations;
			}
			out[o] = static_cast<int32_t>(h);
		}
		std::swap(in, out);  // the pointers
	}
	return logit;
}

// ---- the batched path -------------------------------------------------------

namespace {

constexpr size_t kBlock = FixedBatch::kBlock;

// Compiled for AVX2 and for the baseline; the loader picks one. Integer
// arithmetic, so every variant gives the same bits.
#define KMLB_FIXED_KERNEL __attribute__((target_clones("avx2", "default")))

// One layer over a block: out[o][b] from in[i][b]. The sums wrap modulo 2^32
// (unsigned, so defined); the proof keeps every true sum inside int32, where
// the wrapped sum is the true one.
KMLB_FIXED_KERNEL void fixed_dense_block(const int32_t *w, const int32_t *bias, size_t n_in, size_t n_out,
					 const int32_t *in, int32_t *out, const int *shift, const int32_t *cap)
{
	for (size_t o = 0; o < n_out; ++o) {
		uint32_t acc[kBlock];
		for (size_t b = 0; b < kBlock; ++b)
			acc[b] = static_cast<uint32_t>(bias[o]);
		for (size_t i = 0; i < n_in; ++i) {
			const auto wi = static_cast<uint32_t>(w[o * n_in + i]);
			const int32_t *x = in + i * kBlock;
			for (size_t b = 0; b < kBlock; ++b)
				acc[b] += wi * static_cast<uint32_t>(x[b]);
		}
		int32_t *y = out + o * kBlock;
		if (cap) {
			const int32_t c = cap[o];
			const int s = shift[o];
			for (size_t b = 0; b < kBlock; ++b) {
				const auto v = static_cast<int32_t>(acc[b]);
				const int32_t h = v > 0 ? v >> s : 0;
				y[b] = h < c ? h : c;
			}
		} else {
			for (size_t b = 0; b < kBlock; ++b)
				y[b] = static_cast<int32_t>(acc[b]);
		}
	}
}

}  // namespace

FixedBatch::FixedBatch(const FixedModel &m)
	: m_(m), a_(kMaxFixedWidth * kBlock), b_(kMaxFixedWidth * kBlock)
{
}

void FixedBatch::logits(const int32_t *x, size_t n, int32_t *out)
{
	const size_t cols = m_.inputs();
	std::array<int32_t, kMaxFixedWidth> row{};
	for (size_t start = 0; start < n; start += kBlock) {
		const size_t count = std::min(kBlock, n - start);
		// Transpose to [input][sample], saturating; padding samples are 0.
		for (size_t b = 0; b < kBlock; ++b) {
			if (b < count) {
				std::copy(x + (start + b) * cols, x + (start + b + 1) * cols, row.begin());
				saturate_fixed_features(m_.feature_set, m_.frac_bits, row.data());
			} else {
				std::fill(row.begin(), row.end(), 0);
			}
			for (size_t i = 0; i < cols; ++i)
				a_[i * kBlock + b] = row[i];
		}
		for (size_t l = 0; l < m_.layers.size(); ++l) {
			const FixedLayer &layer = m_.layers[l];
			fixed_dense_block(layer.weights.data(), layer.bias.data(), layer.inputs, layer.outputs,
					  a_.data(), b_.data(), layer.shift.data(), layer.cap.empty() ? nullptr : layer.cap.data());
			std::swap(a_, b_);
		}
		std::copy(a_.begin(), a_.begin() + count, out + start);
	}
}

}  // namespace kmlb
