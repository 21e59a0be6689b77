// model.q.json: reading (every field validated, the bound proof redone)
// and byte-deterministic writing of a FixedModel.
#include <fmt/format.h>

#include "atomic_file.h"
#include "exit_codes.h"
#include "fixed_features.h"
#include "fixed_point.h"
#include "json_reader.h"

namespace kmlb {

// ---- file -----------------------------------------------------------------

namespace {

using ordered_json = nlohmann::ordered_json;

using Reader = JsonReader;

// Weights and biases: each lane value within +-kLaneLimit.
std::vector<int32_t> int32s(const Reader &r, const nlohmann::json &v, size_t n, const std::string &field)
{
	const std::vector<int64_t> wide = r.integers(v, n, field, -kLaneLimit, kLaneLimit);
	return {wide.begin(), wide.end()};
}

std::vector<int> ints(const Reader &r, const nlohmann::json &v, size_t n, const std::string &field, int lo, int hi)
{
	const std::vector<int64_t> wide = r.integers(v, n, field, lo, hi);
	return {wide.begin(), wide.end()};
}

}  // namespace

std::string fixed_model_to_json(const FixedModel &m)
{
	ordered_json j;
	j["format"] = kFixedModelFormat;
	j["format_version"] = kFixedModelFormatVersion;
	j["feature_set"] = feature_set_name(m.feature_set);
	ordered_json features = ordered_json::array();
	ordered_json ranges = ordered_json::array();
	for (const FeatureRange &r : feature_ranges(m.feature_set)) {
		features.push_back(std::string(r.name));
		ranges.push_back({{"name", r.name}, {"binary", r.binary}, {"min", r.min}, {"max", r.max}});
	}
	j["features"] = std::move(features);
	j["input_ranges"] = std::move(ranges);
	j["frac_bits"] = m.frac_bits;
	j["architecture"] = {{"inputs", m.inputs()},
			     {"hidden", m.hidden()},
			     {"outputs", 1},
			     {"activation", "relu, shift, saturate at cap"},
			     {"decision", "logit >= 0"},
			     {"lane_bits", 32}};
	const std::vector<LayerBound> bounds = prove_bounds(m);
	ordered_json layers = ordered_json::array();
	for (size_t l = 0; l < m.layers.size(); ++l) {
		const FixedLayer &layer = m.layers[l];
		ordered_json rows = ordered_json::array();
		for (size_t o = 0; o < layer.outputs; ++o)
			rows.push_back(std::vector<int32_t>(layer.weights.begin() + o * layer.inputs,
							    layer.weights.begin() + (o + 1) * layer.inputs));
		ordered_json lj;
		lj["inputs"] = layer.inputs;
		lj["outputs"] = layer.outputs;
		lj["input_frac_bits"] = layer.input_frac_bits;
		lj["weight_frac_bits"] = layer.weight_frac_bits;
		std::vector<int> acc_bits;
		for (size_t o = 0; o < layer.outputs; ++o)
			acc_bits.push_back(layer.accumulator_frac_bits(o));
		lj["accumulator_frac_bits"] = acc_bits;
		lj["shift"] = layer.shift;
		if (l + 1 < m.layers.size())
			lj["output_frac_bits"] = layer.output_frac_bits();
		lj["bound"] = bounds[l].max;
		lj["weights"] = std::move(rows);
		lj["bias"] = layer.bias;
		if (!layer.cap.empty())
			lj["cap"] = layer.cap;
		layers.push_back(std::move(lj));
	}
	j["layers"] = std::move(layers);
	j["source_model_hash"] = m.source_model_hash;
	j["source_data_hash"] = m.source_data_hash;
	j["quantization"] = m.quantization.is_null() ? ordered_json(nullptr)
						     : ordered_json::parse(m.quantization.dump());
	return j.dump(1, '\t') + "\n";
}

namespace {

FixedModel fixed_model_from_json_fields(std::string_view text, const std::string &name)
{
	const Reader r(name);
	const nlohmann::json j = r.parse_object(text);
	const auto &format = r.member(j, "format", "");
	if (format != std::string(kFixedModelFormat)) {
		if (format == std::string(kModelFormat))
			r.fail("format", "this is a float model; run `kmlb quantize` on it first");
		r.fail("format", fmt::format("expected \"{}\"", kFixedModelFormat));
	}
	r.integer(r.member(j, "format_version", ""), "format_version", kFixedModelFormatVersion,
		  kFixedModelFormatVersion);

	FixedModel m;
	try {
		m.feature_set = parse_feature_set(r.string(r.member(j, "feature_set", ""), "feature_set"));
	} catch (const Error &e) {
		r.fail("feature_set", printable(e.what(), 240));
	}
	const auto ranges = feature_ranges(m.feature_set);
	const auto &features = r.member(j, "features", "");
	if (!features.is_array() || features.size() != ranges.size())
		r.fail("features", fmt::format("expected the {} names of feature set {}", ranges.size(),
					       feature_set_name(m.feature_set)));
	const auto &range_json = r.member(j, "input_ranges", "");
	if (!range_json.is_array() || range_json.size() != ranges.size())
		r.fail("input_ranges", fmt::format("expected {} ranges", ranges.size()));
	for (size_t i = 0; i < ranges.size(); ++i) {
		if (features[i] != std::string(ranges[i].name))
			r.fail(fmt::format("features[{}]", i), fmt::format("expected \"{}\"", ranges[i].name));
		// The proof holds for the ranges it was made with; a kmlb with other
		// ranges must not reuse it.
		const std::string f = fmt::format("input_ranges[{}]", i);
		if (r.member(range_json[i], "name", f) != std::string(ranges[i].name) ||
		    r.member(range_json[i], "binary", f) != ranges[i].binary ||
		    r.member(range_json[i], "min", f) != ranges[i].min || r.member(range_json[i], "max", f) != ranges[i].max)
			r.fail(f, fmt::format("differs from this kmlb's range for {} ({}..{}); re-quantize the model",
					      ranges[i].name, ranges[i].min, ranges[i].max));
	}
	m.frac_bits = static_cast<int>(r.integer(r.member(j, "frac_bits", ""), "frac_bits", 0, kMaxInputFracBits));

	const auto &arch = r.member(j, "architecture", "");
	const size_t inputs = static_cast<size_t>(
		r.integer(r.member(arch, "inputs", "architecture"), "architecture.inputs", 0, 1 << 20));
	if (inputs != ranges.size())
		r.fail("architecture.inputs", fmt::format("{} inputs, but feature set {} has {} features", inputs,
							  feature_set_name(m.feature_set), ranges.size()));
	const auto &hidden = r.member(arch, "hidden", "architecture");
	if (!hidden.is_array())
		r.fail("architecture.hidden", "expected an array of widths");

	const auto &layers = r.member(j, "layers", "");
	if (!layers.is_array() || layers.size() != hidden.size() + 1)
		r.fail("layers", fmt::format("expected {} layers", hidden.size() + 1));
	size_t width = inputs;
	for (size_t l = 0; l < layers.size(); ++l) {
		const std::string f = fmt::format("layers[{}]", l);
		const bool last = l + 1 == layers.size();
		const auto &lj = layers[l];
		FixedLayer layer;
		layer.inputs = static_cast<size_t>(r.integer(r.member(lj, "inputs", f), f + ".inputs", 1, kMaxFixedWidth));
		layer.outputs =
			static_cast<size_t>(r.integer(r.member(lj, "outputs", f), f + ".outputs", 1, kMaxFixedWidth));
		if (layer.inputs != width)
			r.fail(f + ".inputs", fmt::format("{}, the previous layer gives {}", layer.inputs, width));
		if (!last && r.integer(hidden[l], fmt::format("architecture.hidden[{}]", l), 1, kMaxFixedWidth) !=
				     static_cast<int64_t>(layer.outputs))
			r.fail(f + ".outputs", "does not match architecture.hidden");
		layer.input_frac_bits = static_cast<int>(
			r.integer(r.member(lj, "input_frac_bits", f), f + ".input_frac_bits", 0, kMaxAccumulatorFracBits));
		layer.weight_frac_bits = ints(r, r.member(lj, "weight_frac_bits", f), layer.outputs, f + ".weight_frac_bits",
						0, kMaxAccumulatorFracBits);
		layer.shift = ints(r, r.member(lj, "shift", f), layer.outputs, f + ".shift", 0, kMaxAccumulatorFracBits);
		const std::vector<int> acc_bits = ints(r, r.member(lj, "accumulator_frac_bits", f), layer.outputs,
							 f + ".accumulator_frac_bits", 0, 64);
		for (size_t o = 0; o < layer.outputs; ++o)
			if (acc_bits[o] != layer.accumulator_frac_bits(o))
				r.fail(fmt::format("{}.accumulator_frac_bits[{}]", f, o),
				       "must be input_frac_bits + weight_frac_bits");
		if (!last && r.integer(r.member(lj, "output_frac_bits", f), f + ".output_frac_bits", -64, 64) !=
				     layer.output_frac_bits())
			r.fail(f + ".output_frac_bits", "must be accumulator_frac_bits - shift");
		const auto &w = r.member(lj, "weights", f);
		if (!w.is_array() || w.size() != layer.outputs)
			r.fail(f + ".weights", fmt::format("expected {} rows of {} weights", layer.outputs, layer.inputs));
		for (size_t o = 0; o < layer.outputs; ++o) {
			const auto row = int32s(r, w[o], layer.inputs, fmt::format("{}.weights[{}]", f, o));
			layer.weights.insert(layer.weights.end(), row.begin(), row.end());
		}
		layer.bias = int32s(r, r.member(lj, "bias", f), layer.outputs, f + ".bias");
		if (!last)
			layer.cap = int32s(r, r.member(lj, "cap", f), layer.outputs, f + ".cap");
		else if (lj.contains("cap"))
			r.fail(f + ".cap", "the output layer has no cap");
		m.layers.push_back(std::move(layer));
		width = m.layers.back().outputs;
	}
	m.source_model_hash = r.string(r.member(j, "source_model_hash", ""), "source_model_hash");
	m.source_data_hash = r.string(r.member(j, "source_data_hash", ""), "source_data_hash");
	m.quantization = r.member(j, "quantization", "");

	validate_fixed_model(m, name);
	// The stored bounds are informative, but a mismatch means the numbers
	// were edited without the proof being redone.
	const std::vector<LayerBound> bounds = prove_bounds(m);
	for (size_t l = 0; l < bounds.size(); ++l)
		if (r.integer(r.member(layers[l], "bound", fmt::format("layers[{}]", l)),
			      fmt::format("layers[{}].bound", l), 0, INT64_MAX) != bounds[l].max)
			r.fail(fmt::format("layers[{}].bound", l),
			       fmt::format("does not match the weights (recomputed {})", bounds[l].max));
	return m;
}

}  // namespace

FixedModel fixed_model_from_json(std::string_view text, const std::string &name)
{
	// Field accesses are checked, but a nlohmann exception from an access
	// not foreseen must still name the file, not leak the library's words.
	return JsonReader(name).guard([&] { return fixed_model_from_json_fields(text, name); });
}

void save_fixed_model(const std::string &path, const FixedModel &m)
{
	write_file_atomic(path, fixed_model_to_json(m));
}

FixedModel load_fixed_model(const std::string &path) { return fixed_model_from_json(read_file(path), path); }

}  // namespace kmlb
