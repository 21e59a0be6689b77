#include "model_file.h"

#include "json_reader.h"

#include <cfloat>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "atomic_file.h"
#include "exit_codes.h"
#include "fixed_point.h"

namespace kmlb {

static_assert(kMaxHiddenWidth == kMaxFixedWidth, "a model train writes must be one quantize accepts");

namespace {

using ordered_json = nlohmann::ordered_json;

ordered_json float_array(const float *v, size_t n)
{
	ordered_json a = ordered_json::array();
	for (size_t i = 0; i < n; ++i)
		a.push_back(json_number(v[i]));
	return a;
}

// A non-integer token of a number array is a float32 value: rewrite it in
// its shortest form (nlohmann's double printer is not always the shortest,
// e.g. 0.12771564999999999 for the float 0.12771565).
std::string shortest_float_token(const std::string &token)
{
	if (token.find_first_of(".eE") == std::string::npos)
		return token;  // an integer (a layer width)
	double d = 0.0;
	std::from_chars(token.data(), token.data() + token.size(), d);
	return fmt::format("{}", static_cast<float>(d));
}

// nlohmann's pretty printer puts every number on its own line; a weight row
// reads better on one. Collapses each array that holds only numbers
// ("[\n\t\t1,\n\t\t2\n\t]" -> "[1, 2]"); strings are copied verbatim.
std::string compact_number_arrays(const std::string &text)
{
	std::string out;
	out.reserve(text.size());
	for (size_t i = 0; i < text.size(); ++i) {
		out.push_back(text[i]);
		if (text[i] == '"') {  // copy a string verbatim (ours hold no escaped quotes)
			const size_t end = text.find('"', i + 1);
			out.append(text, i + 1, end - i);
			i = end;
			continue;
		}
		if (text[i] != '[')
			continue;
		const size_t end = text.find_first_of("[]{\"", i + 1);
		if (end == std::string::npos || text[end] != ']')
			continue;  // not an array of numbers only
		std::string token;
		bool first = true;
		auto flush = [&] {
			if (token.empty())
				return;
			if (!first)
				out += ", ";
			out += shortest_float_token(token);
			token.clear();
			first = false;
		};
		for (size_t k = i + 1; k < end; ++k) {
			const char ch = text[k];
			if (ch == ',')
				flush();
			else if (ch != '\n' && ch != '\t' && ch != ' ')
				token.push_back(ch);
		}
		flush();
		out.push_back(']');
		i = end;
	}
	return out;
}

using Reader = JsonReader;

std::vector<float> numbers(const Reader &r, const nlohmann::json &v, size_t n, const std::string &field)
{
	if (!v.is_array())
		r.fail(field, "expected an array");
	if (v.size() != n)
		r.fail(field, fmt::format("expected {} values, found {}", n, v.size()));
	std::vector<float> out;
	out.reserve(n);
	for (size_t i = 0; i < n; ++i)
		out.push_back(r.float32(v[i], fmt::format("{}[{}]", field, i)));
	return out;
}

}  // namespace

std::string model_to_json(const ModelFile &file)
{
	const Mlp &m = file.model;
	ordered_json features = ordered_json::array();
	for (std::string_view f : feature_names(file.feature_set))
		features.push_back(std::string(f));

	ordered_json layers = ordered_json::array();
	for (size_t l = 0; l < m.layer_count(); ++l) {
		const size_t n_in = m.layer_inputs(l), n_out = m.layer_outputs(l);
		ordered_json rows = ordered_json::array();
		for (size_t o = 0; o < n_out; ++o)
			rows.push_back(float_array(m.weights(l) + o * n_in, n_in));
		ordered_json layer;
		layer["weights"] = std::move(rows);
		layer["bias"] = float_array(m.bias(l), n_out);
		layers.push_back(std::move(layer));
	}

	ordered_json j;
	j["format"] = kModelFormat;
	j["format_version"] = kModelFormatVersion;
	j["architecture"] = {
		{"inputs", m.inputs()},
		{"hidden", m.hidden()},
		{"outputs", 1},
		{"activation", "relu"},
		{"output", "sigmoid"},
		{"feature_set", feature_set_name(file.feature_set)},
		{"features", features},
	};
	j["layers"] = std::move(layers);
	if (m.standardisation) {
		const Standardisation &s = *m.standardisation;
		j["standardisation"] = {{"mean", float_array(s.mean.data(), s.mean.size())},
					{"stddev", float_array(s.stddev.data(), s.stddev.size())}};
	} else {
		j["standardisation"] = nullptr;
	}
	j["training"] = file.training ? ordered_json::parse(file.training->to_json().dump())
				      : ordered_json(nullptr);
	j["data_hash"] = file.data_hash;
	j["metrics"] = file.metrics.is_null() ? ordered_json(nullptr)
					      : ordered_json::parse(file.metrics.dump());
	return compact_number_arrays(j.dump(1, '\t')) + "\n";
}

namespace {

ModelFile model_from_json_fields(std::string_view text, const std::string &name)
{
	const Reader r(name);
	const nlohmann::json j = r.parse_object(text);

	const auto &format = r.member(j, "format", "");
	if (format == std::string(kFixedModelFormat))
		r.fail("format", "this is a quantized (fixed-point) model from kmlb quantize; this command takes "
				 "the float model.json that kmlb train writes");
	if (!format.is_string() || format.get<std::string>() != kModelFormat)
		r.fail("format", fmt::format("expected \"{}\"", kModelFormat));
	const auto &version = r.member(j, "format_version", "");
	if (!version.is_number_integer() || version.get<int64_t>() != kModelFormatVersion)
		r.fail("format_version", fmt::format("unsupported (this kmlb reads version {})",
						     kModelFormatVersion));

	ModelFile file;
	const auto &arch = r.member(j, "architecture", "");
	const auto &fs = r.member(arch, "feature_set", "architecture");
	if (!fs.is_string())
		r.fail("architecture.feature_set", "expected a string");
	try {
		file.feature_set = parse_feature_set(fs.get<std::string>());
	} catch (const Error &e) {
		r.fail("architecture.feature_set", printable(e.what(), 240));
	}
	const size_t inputs = r.count(r.member(arch, "inputs", "architecture"), "architecture.inputs");
	if (inputs != feature_count(file.feature_set))
		r.fail("architecture.inputs",
		       fmt::format("{} inputs, but feature set {} has {} features", inputs,
				   feature_set_name(file.feature_set), feature_count(file.feature_set)));
	const auto &features = r.member(arch, "features", "architecture");
	const auto expected = feature_names(file.feature_set);
	if (!features.is_array() || features.size() != expected.size())
		r.fail("architecture.features",
		       fmt::format("expected the {} names of feature set {}", expected.size(),
				   feature_set_name(file.feature_set)));
	for (size_t i = 0; i < expected.size(); ++i)
		if (!features[i].is_string() || features[i].get<std::string>() != expected[i])
			r.fail(fmt::format("architecture.features[{}]", i),
			       fmt::format("expected \"{}\"", expected[i]));
	const auto &hidden_json = r.member(arch, "hidden", "architecture");
	if (!hidden_json.is_array())
		r.fail("architecture.hidden", "expected an array of widths");
	if (hidden_json.size() > kMaxHiddenLayers)
		r.fail("architecture.hidden", fmt::format("{} hidden layers, at most {} are supported", hidden_json.size(),
							  kMaxHiddenLayers));
	std::vector<size_t> hidden;
	for (size_t i = 0; i < hidden_json.size(); ++i) {
		const size_t h = r.count(hidden_json[i], fmt::format("architecture.hidden[{}]", i));
		if (h == 0 || h > kMaxHiddenWidth)
			r.fail(fmt::format("architecture.hidden[{}]", i), fmt::format("width must be 1..{}", kMaxHiddenWidth));
		hidden.push_back(h);
	}
	const auto &outputs = r.member(arch, "outputs", "architecture");
	if (r.count(outputs, "architecture.outputs") != 1)
		r.fail("architecture.outputs", "must be 1");
	const auto &activation = r.member(arch, "activation", "architecture");
	if (activation != "relu")
		r.fail("architecture.activation", "only \"relu\" is supported");
	const auto &output = r.member(arch, "output", "architecture");
	if (output != "sigmoid")
		r.fail("architecture.output", "only \"sigmoid\" is supported");

	Mlp m(inputs, hidden);
	const auto &layers = r.member(j, "layers", "");
	if (!layers.is_array() || layers.size() != m.layer_count())
		r.fail("layers", fmt::format("expected {} layers", m.layer_count()));
	for (size_t l = 0; l < m.layer_count(); ++l) {
		const std::string field = fmt::format("layers[{}]", l);
		const size_t n_in = m.layer_inputs(l), n_out = m.layer_outputs(l);
		const auto &w = r.member(layers[l], "weights", field);
		if (!w.is_array() || w.size() != n_out)
			r.fail(field + ".weights", fmt::format("expected {} rows of {} weights", n_out, n_in));
		float *params = m.params().data();
		for (size_t o = 0; o < n_out; ++o) {
			const auto row = numbers(r, w[o], n_in, fmt::format("{}.weights[{}]", field, o));
			std::copy(row.begin(), row.end(), params + m.weight_offset(l) + o * n_in);
		}
		const auto bias = numbers(r, r.member(layers[l], "bias", field), n_out, field + ".bias");
		std::copy(bias.begin(), bias.end(), params + m.bias_offset(l));
	}

	const auto &std_json = r.member(j, "standardisation", "");
	if (!std_json.is_null()) {
		Standardisation s;
		s.mean = numbers(r, r.member(std_json, "mean", "standardisation"), inputs,
				   "standardisation.mean");
		s.stddev = numbers(r, r.member(std_json, "stddev", "standardisation"), inputs,
				     "standardisation.stddev");
		for (size_t i = 0; i < inputs; ++i)
			if (!(s.stddev[i] > 0.0f))
				r.fail(fmt::format("standardisation.stddev[{}]", i), "must be positive");
		m.standardisation = std::move(s);
	}
	file.model = std::move(m);

	const auto &training = r.member(j, "training", "");
	if (!training.is_null())
		try {
			file.training = TrainConfig::from_json(training, name + ": training");
		} catch (const Error &e) {
			// Its messages may quote the file's bytes: show them escaped.
			throw Error(e.code(), printable(e.what(), 400));
		}
	const auto &hash = r.member(j, "data_hash", "");
	if (!hash.is_string())
		r.fail("data_hash", "expected a string");
	file.data_hash = hash.get<std::string>();
	const auto &metrics = r.member(j, "metrics", "");
	if (!metrics.is_null() && !metrics.is_object())
		r.fail("metrics", "expected an object or null");
	file.metrics = metrics;
	return file;
}

}  // namespace

ModelFile model_from_json(std::string_view text, const std::string &name)
{
	// Field accesses are checked, but a nlohmann exception from an access
	// not foreseen must still name the file, not leak the library's words.
	return JsonReader(name).guard([&] { return model_from_json_fields(text, name); });
}

void save_model(const std::string &path, const ModelFile &file)
{
	write_file_atomic(path, model_to_json(file));
}

ModelFile load_model(const std::string &path) { return model_from_json(read_file(path), path); }

bool is_float_model_text(std::string_view text)
{
	const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
	return j.is_object() && j.value("format", nlohmann::json()) == std::string(kModelFormat);
}

}  // namespace kmlb
