// From a float model to a FixedModel: calibration data, activation ranges,
// the choice of fractional bits, and scoring against the float model.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "atomic_file.h"
#include "dataset.h"
#include "exit_codes.h"
#include "fixed_features.h"
#include "fixed_point.h"
#include "generator.h"
#include "prep.h"

namespace kmlb {

// ---- calibration ----------------------------------------------------------

std::vector<int32_t> Calibration::fixed_inputs(int frac_bits) const
{
	const size_t c = cols();
	std::vector<int32_t> out(rows * c);
	for (size_t r = 0; r < rows; ++r) {
		if (!states.empty())
			extract_features_fixed(states[r], feature_set, frac_bits, out.data() + r * c);
		else
			float_to_fixed_features(feature_set, frac_bits, x.data() + r * c, out.data() + r * c);
	}
	return out;
}

Calibration calibration_from_states(std::span<const KernelState> states, FeatureSet set, KernelVersion version,
				    std::string name)
{
	Calibration cal;
	cal.name = std::move(name);
	cal.feature_set = set;
	std::vector<float> buf(cal.cols());
	for (const KernelState &s : states) {
		if (!passes_prep_filter(s, version) || (s.can_migrate != 0 && s.can_migrate != 1))
			continue;
		extract_features(s, set, buf.data());
		cal.x.insert(cal.x.end(), buf.begin(), buf.end());
		cal.y.push_back(static_cast<uint8_t>(s.can_migrate));
		cal.states.push_back(s);
	}
	cal.rows = cal.y.size();
	return cal;
}

Calibration calibration_from_dataset(const Dataset &d, std::string name)
{
	Calibration cal;
	cal.name = std::move(name);
	cal.feature_set = d.feature_set;
	cal.rows = d.rows;
	cal.x = d.x;
	cal.y = d.y;
	return cal;
}

Calibration calibration_rows(const Calibration &cal, std::span<const uint32_t> rows, std::string name)
{
	Calibration out;
	out.name = std::move(name);
	out.feature_set = cal.feature_set;
	out.rows = rows.size();
	const size_t cols = cal.cols();
	for (uint32_t r : rows) {
		out.x.insert(out.x.end(), cal.x.begin() + r * cols, cal.x.begin() + (r + 1) * cols);
		out.y.push_back(cal.y[r]);
		if (!cal.states.empty())
			out.states.push_back(cal.states[r]);
	}
	return out;
}

Calibration default_calibration(FeatureSet set)
{
	if (set == FeatureSet::kSeed)
		return calibration_from_states(generate_states(preset_config(Preset::kSeed)).states, set,
					       preset_config(Preset::kSeed).kernel, "seed preset (generated, --seed 1)");
	std::vector<KernelState> all;
	for (Preset p : {Preset::kSeed, Preset::kIdle, Preset::kBalanced, Preset::kOverloaded}) {
		const GeneratedStates g = generate_states(preset_config(p));
		all.insert(all.end(), g.states.begin(), g.states.end());
	}
	// every preset labels with the same default kernel
	return calibration_from_states(all, set, preset_config(Preset::kSeed).kernel,
				       "presets seed, idle, balanced, overloaded (generated, --seed 1)");
}

// ---- quantization ---------------------------------------------------------

std::string model_hash(const ModelFile &file) { return fnv1a64_hex(model_to_json(file)); }

namespace {

// The float model's logits on the calibration rows (MlpBatch: the same bits
// as the trainer's evaluation).
std::vector<float> float_logits(const Mlp &model, const Calibration &cal)
{
	constexpr size_t kChunk = 1024;
	std::vector<float> z(cal.rows);
	MlpBatch work(model, kChunk);
	for (size_t start = 0; start < cal.rows; start += kChunk) {
		Batch b{cal.x.data() + start * cal.cols(), cal.cols(), cal.y.data() + start, nullptr,
			std::min(kChunk, cal.rows - start), nullptr};
		work.forward(model, b, z.data() + start);
	}
	return z;
}

// Largest activation of every hidden unit of the folded model over the
// calibration rows, in double.
std::vector<std::vector<double>> activation_maxima(const Mlp &folded, const Calibration &cal)
{
	std::vector<std::vector<double>> maxima;
	for (size_t l = 0; l + 1 < folded.layer_count(); ++l)
		maxima.emplace_back(folded.layer_outputs(l), 0.0);
	std::vector<double> in, out;
	for (size_t r = 0; r < cal.rows; ++r) {
		in.assign(cal.x.begin() + r * cal.cols(), cal.x.begin() + (r + 1) * cal.cols());
		for (size_t l = 0; l + 1 < folded.layer_count(); ++l) {
			const size_t n_in = folded.layer_inputs(l), n_out = folded.layer_outputs(l);
			out.assign(n_out, 0.0);
			for (size_t o = 0; o < n_out; ++o) {
				double acc = folded.bias(l)[o];
				for (size_t i = 0; i < n_in; ++i)
					acc += static_cast<double>(folded.weights(l)[o * n_in + i]) * in[i];
				out[o] = std::max(acc, 0.0);
				maxima[l][o] = std::max(maxima[l][o], out[o]);
			}
			in.swap(out);
		}
	}
	return maxima;
}

// Rounded to nearest (halves away from zero) and clamped to the lane.
int32_t to_int32(double v)
{
	const double limit = static_cast<double>(kLaneLimit);
	return static_cast<int32_t>(std::llround(std::clamp(v, -limit, limit)));
}

// max(|lo|, |hi|) of each unit's sum over real-valued input intervals.
std::vector<double> real_bounds(const Mlp &m, size_t l, const std::vector<double> &in_lo,
				const std::vector<double> &in_hi)
{
	const size_t n_in = m.layer_inputs(l), n_out = m.layer_outputs(l);
	std::vector<double> out;
	for (size_t o = 0; o < n_out; ++o) {
		double lo = m.bias(l)[o], hi = lo;
		for (size_t i = 0; i < n_in; ++i) {
			const double w = m.weights(l)[o * n_in + i];
			lo += std::min(w * in_lo[i], w * in_hi[i]);
			hi += std::max(w * in_lo[i], w * in_hi[i]);
		}
		out.push_back(std::max(std::abs(lo), std::abs(hi)));
	}
	return out;
}

// Builds the fixed-point model for input frac bits F, or says why it cannot.
//
// Interval analysis in real numbers gives each unit's bound U (inputs: the
// feature ranges, then [0, cap]); A = floor(log2((2^31 - 1) / U)) fractional
// bits then keep its sum in a 32-bit lane. These depend only on the float
// weights and the ranges, so they come first. The bits A of a unit are split
// between the layer's inputs (shared by all units: F for the first layer)
// and the unit's weights. Between two layers the shared activation format af
// is chosen so that activations and the next layer's weights have about as
// many significant bits:  af - wf = log2(max|w|) - log2(max cap),  within
// what every unit on both sides allows (shift >= 0, weight bits >= 0).
// Rounding can push an exact bound over the limit; that unit then gives up
// one bit and everything is redone.
std::optional<FixedModel> build_fixed(const Mlp &folded, const std::vector<std::vector<double>> &cap_real,
				      FeatureSet set, int frac_bits, std::string &why_not)
{
	const size_t n_layers = folded.layer_count();
	std::vector<std::vector<int>> acc_bits(n_layers);
	std::vector<double> in_lo, in_hi;
	for (const FeatureRange &r : feature_ranges(set)) {
		in_lo.push_back(static_cast<double>(r.min));
		in_hi.push_back(static_cast<double>(r.max));
	}
	for (size_t l = 0; l < n_layers; ++l) {
		for (double u : real_bounds(folded, l, in_lo, in_hi)) {
			const int a = u > 0.0 ? static_cast<int>(std::floor(std::log2(kLaneLimit / u)))
					      : kMaxAccumulatorFracBits;
			acc_bits[l].push_back(std::min(a, kMaxAccumulatorFracBits));
		}
		if (l + 1 < n_layers) {
			in_lo.assign(folded.layer_outputs(l), 0.0);
			in_hi = cap_real[l];
		}
	}
	auto min_bits = [&](size_t l) { return *std::min_element(acc_bits[l].begin(), acc_bits[l].end()); };

	for (int attempt = 0; attempt < 32; ++attempt) {
		// Shared input format of every layer.
		std::vector<int> af(n_layers);
		af[0] = frac_bits;
		if (min_bits(0) < frac_bits) {
			why_not = fmt::format("inputs with {} fractional bits leave no bits for some first-layer "
					      "weights (the tightest unit allows {} in all)",
					      frac_bits, min_bits(0));
			return std::nullopt;
		}
		for (size_t l = 1; l < n_layers; ++l) {
			const int limit = std::min(min_bits(l - 1), min_bits(l));
			if (limit < 0) {
				why_not = fmt::format("layer {} cannot fit its bound in 32 bits", l);
				return std::nullopt;
			}
			double max_w = 0.0;
			for (size_t k = 0; k < folded.layer_inputs(l) * folded.layer_outputs(l); ++k)
				max_w = std::max(max_w, std::abs(static_cast<double>(folded.weights(l)[k])));
			const double max_cap = *std::max_element(cap_real[l - 1].begin(), cap_real[l - 1].end());
			double ideal = limit;
			if (max_w > 0.0 && max_cap > 0.0)
				ideal = (min_bits(l) + std::log2(max_w) - std::log2(max_cap)) / 2.0;
			af[l] = std::clamp(static_cast<int>(std::lround(ideal)), 0, limit);
		}

		FixedModel m;
		m.feature_set = set;
		m.frac_bits = frac_bits;
		bool ok = true;
		// A weight or bias that does not fit an int32 at its scale (a large
		// weight into a unit with a tiny cap): that unit gives up a bit.
		auto quantized = [&](double v, size_t l, size_t o) {
			const double r = std::round(v);
			if (std::abs(r) > static_cast<double>(kLaneLimit)) {
				--acc_bits[l][o];
				ok = false;
			}
			return to_int32(r);
		};
		for (size_t l = 0; l < n_layers; ++l) {
			FixedLayer layer;
			layer.inputs = folded.layer_inputs(l);
			layer.outputs = folded.layer_outputs(l);
			layer.input_frac_bits = af[l];
			const bool last = l + 1 == n_layers;
			for (size_t o = 0; o < layer.outputs; ++o) {
				const int a = acc_bits[l][o];
				const int wf = a - af[l];
				const int shift = last ? 0 : a - af[l + 1];
				layer.weight_frac_bits.push_back(wf);
				layer.shift.push_back(shift);
				for (size_t i = 0; i < layer.inputs; ++i)
					layer.weights.push_back(quantized(
						std::ldexp(static_cast<double>(folded.weights(l)[o * layer.inputs + i]), wf), l,
						o));
				const double b = std::ldexp(static_cast<double>(folded.bias(l)[o]), a);
				const int64_t round_offset = shift > 0 ? int64_t{1} << (shift - 1) : 0;
				layer.bias.push_back(quantized(std::round(b) + static_cast<double>(round_offset), l, o));
				if (!last)
					layer.cap.push_back(to_int32(std::floor(std::ldexp(cap_real[l][o], af[l + 1]))));
			}
			m.layers.push_back(std::move(layer));
		}
		if (!ok)
			continue;
		const std::vector<LayerBound> bounds = prove_bounds(m);
		for (size_t l = 0; l < n_layers; ++l)
			for (size_t o = 0; o < bounds[l].unit.size(); ++o)
				if (bounds[l].unit[o] > kLaneLimit) {
					--acc_bits[l][o];
					ok = false;
				}
		if (ok)
			return m;
	}
	why_not = "rounding kept the bounds above 2^31 - 1";
	return std::nullopt;
}

std::string q_format(int frac_bits) { return fmt::format("Q{}.{}", 31 - frac_bits, frac_bits); }

}  // namespace

QuantizeResult quantize(const ModelFile &source, const Calibration &cal, const QuantizeOptions &opt)
{
	if (source.feature_set != cal.feature_set)
		throw Error(ExitCode::kBadData,
			    fmt::format("the model uses feature set {}, the data ({}) feature set {}",
					feature_set_name(source.feature_set), cal.name, feature_set_name(cal.feature_set)));
	if (cal.rows == 0)
		throw Error(ExitCode::kBadData, fmt::format("{}: no rows to calibrate on", cal.name));
	if (source.model.max_width() > kMaxFixedWidth)
		throw Error(ExitCode::kBadData, fmt::format("layers wider than {} are not supported", kMaxFixedWidth));
	if (opt.frac_bits && (*opt.frac_bits < 1 || *opt.frac_bits > kMaxInputFracBits))
		throw Error(ExitCode::kUsage,
			    fmt::format("--frac-bits {} is outside 1..{}", *opt.frac_bits, kMaxInputFracBits));
	if (!(opt.activation_headroom >= 1.0))
		throw Error(ExitCode::kUsage, "activation headroom must be at least 1");

	const Mlp folded = source.model.fold_standardisation();
	std::vector<std::vector<double>> caps = activation_maxima(folded, cal);
	for (auto &layer : caps)
		for (double &c : layer)
			c *= opt.activation_headroom;
	const std::vector<float> z = float_logits(source.model, cal);

	QuantizeResult best;
	bool have_best = false;
	const int lo = opt.frac_bits ? *opt.frac_bits : 1;
	const int hi = opt.frac_bits ? *opt.frac_bits : kMaxInputFracBits;
	for (int f = lo; f <= hi; ++f) {
		FracCandidate c;
		c.frac_bits = f;
		std::optional<FixedModel> m = build_fixed(folded, caps, source.feature_set, f, c.why_not);
		c.feasible = m.has_value();
		if (m) {
			const std::vector<int32_t> xq = cal.fixed_inputs(f);
			const double scale = std::ldexp(1.0, -m->logit_frac_bits());
			for (size_t r = 0; r < cal.rows; ++r) {
				const int64_t q = fixed_logit_reference(*m, xq.data() + r * cal.cols());
				c.disagreements += fixed_decision(q) != (z[r] > 0.0f);
				c.max_logit_error = std::max(c.max_logit_error, std::abs(q * scale - z[r]));
			}
			const bool better = !have_best || c.disagreements < best.chosen.disagreements ||
					    (c.disagreements == best.chosen.disagreements &&
					     c.max_logit_error < best.chosen.max_logit_error);
			if (better) {
				best.model = std::move(*m);
				best.chosen = c;
				have_best = true;
			}
		}
		best.candidates.push_back(c);
	}
	if (!have_best) {
		const std::string why = best.candidates.empty() ? "" : best.candidates.back().why_not;
		if (opt.frac_bits)
			throw Error(ExitCode::kUsage, fmt::format("--frac-bits {} cannot be used: {}", *opt.frac_bits, why));
		throw Error(ExitCode::kBadData, fmt::format("no input format fits the model in 32-bit lanes: {}", why));
	}

	// The chosen model once more, with the statistics the report shows.
	FixedModel &m = best.model;
	best.bounds = prove_bounds(m);
	best.observed_max_abs_acc.assign(m.layers.size(), 0);
	const std::vector<int32_t> xq = cal.fixed_inputs(m.frac_bits);
	for (size_t r = 0; r < cal.rows; ++r) {
		const int64_t q = fixed_logit_reference(m, xq.data() + r * cal.cols(), best.observed_max_abs_acc.data(),
							&best.saturations);
		best.fixed_misclassified += fixed_decision(q) != (cal.y[r] != 0);
		best.float_misclassified += (z[r] > 0.0f) != (cal.y[r] != 0);
	}
	m.source_model_hash = model_hash(source);
	m.source_data_hash = source.data_hash;
	m.quantization = best.report();
	m.quantization["frac_bits_given"] = opt.frac_bits.has_value();
	m.quantization["activation_headroom"] = opt.activation_headroom;
	m.quantization["calibration"] = {{"name", cal.name}, {"rows", cal.rows}};
	return best;
}

nlohmann::json QuantizeResult::report() const
{
	nlohmann::json candidates_json = nlohmann::json::array();
	for (const FracCandidate &c : candidates) {
		nlohmann::json cj = {{"frac_bits", c.frac_bits}, {"feasible", c.feasible}};
		if (c.feasible) {
			cj["disagreements"] = c.disagreements;
			cj["max_logit_error"] = c.max_logit_error;
		} else {
			cj["why_not"] = c.why_not;
		}
		candidates_json.push_back(cj);
	}
	nlohmann::json layers = nlohmann::json::array();
	for (size_t l = 0; l < model.layers.size(); ++l) {
		const FixedLayer &layer = model.layers[l];
		const bool last = l + 1 == model.layers.size();
		int32_t max_w = 0;
		for (int32_t w : layer.weights)
			max_w = std::max(max_w, w < 0 ? -w : w);
		const auto [wf_lo, wf_hi] = std::minmax_element(layer.weight_frac_bits.begin(), layer.weight_frac_bits.end());
		auto q_range = [](int lo, int hi, int plus) {
			return lo == hi ? q_format(lo + plus) : fmt::format("{}..{}", q_format(lo + plus), q_format(hi + plus));
		};
		nlohmann::json lj = {
			{"layer", l},
			{"shape", fmt::format("{}x{}", layer.outputs, layer.inputs)},
			{"inputs", q_format(layer.input_frac_bits)},
			{"weights", q_range(*wf_lo, *wf_hi, 0)},
			{"accumulator", q_range(*wf_lo, *wf_hi, layer.input_frac_bits) + " in a 32-bit lane"},
			{"output", last ? "logit" : fmt::format("{}, saturated", q_format(layer.output_frac_bits()))},
			{"max_abs_weight", max_w},
			{"bound", bounds[l].max},
			{"limit", kLaneLimit},
			{"headroom_bits", std::log2(static_cast<double>(kLaneLimit) / std::max<int64_t>(1, bounds[l].max))},
			{"observed_max_abs", observed_max_abs_acc[l]},
		};
		layers.push_back(lj);
	}
	return {
		{"frac_bits", model.frac_bits},
		{"candidates", candidates_json},
		{"agreement",
		 {{"disagreements", chosen.disagreements},
		  {"max_logit_error", chosen.max_logit_error},
		  {"float_misclassified", float_misclassified},
		  {"fixed_misclassified", fixed_misclassified},
		  {"saturations", saturations}}},
		{"layers", layers},
	};
}

// ---- scoring ----------------------------------------------------------------

FixedScore score_fixed(const Mlp &float_model, const FixedModel &m, const Calibration &cal,
		       std::span<const uint32_t> rows)
{
	const std::vector<float> z = float_logits(float_model, cal);
	const std::vector<int32_t> xq = cal.fixed_inputs(m.frac_bits);
	FixedScore s;
	auto score = [&](size_t r) {
		const bool f = z[r] > 0.0f;
		const bool q = fixed_decision(fixed_logit_reference(m, xq.data() + r * cal.cols()));
		const bool y = cal.y[r] != 0;
		s.float_misclassified += f != y;
		s.fixed_misclassified += q != y;
		s.disagreements += f != q;
		++s.rows;
	};
	if (rows.empty())
		for (size_t r = 0; r < cal.rows; ++r)
			score(r);
	else
		for (uint32_t r : rows)
			score(r);
	return s;
}

bool holdout_matches_metrics(const ModelFile &file, const FixedScore &holdout)
{
	const nlohmann::json &m = file.metrics;
	if (!m.is_object() || !m.contains("test") || !m["test"].is_object() || !m["test"].contains("misclassified"))
		return true;
	return m["test"]["misclassified"] == holdout.float_misclassified && m["test"]["rows"] == holdout.rows;
}

}  // namespace kmlb
