// Reading a JSON file field by field, naming the file and the field in every
// error: Error(kBadData, "<file>: <field>: <what>"). Used by both model files.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "exit_codes.h"

namespace kmlb {

class JsonReader {
public:
	explicit JsonReader(std::string name) : name_(std::move(name)) {}

	const std::string &name() const { return name_; }

	[[noreturn]] void fail(const std::string &field, const std::string &what) const
	{
		throw Error(ExitCode::kBadData, fmt::format("{}: {}: {}", name_, field, what));
	}

	// The whole text as a JSON object.
	nlohmann::json parse_object(std::string_view text) const
	{
		nlohmann::json j;
		try {
			j = nlohmann::json::parse(text);
		} catch (const nlohmann::json::parse_error &e) {
			fail("json", fmt::format("not valid JSON (byte {})", e.byte));
		}
		if (!j.is_object())
			fail("json", "expected an object");
		return j;
	}

	// obj[key]; `parent` is obj's own field path ("" at the top).
	const nlohmann::json &member(const nlohmann::json &obj, const std::string &key,
				     const std::string &parent) const
	{
		if (!obj.is_object())
			fail(parent.empty() ? "json" : parent, "expected an object");
		auto it = obj.find(key);
		if (it == obj.end())
			fail(parent.empty() ? key : parent + "." + key, "missing");
		return *it;
	}

	size_t count(const nlohmann::json &v, const std::string &field) const
	{
		if (!v.is_number_unsigned())
			fail(field, "expected a non-negative integer");
		return v.get<size_t>();
	}

	int64_t integer(const nlohmann::json &v, const std::string &field, int64_t lo, int64_t hi) const
	{
		if (!v.is_number_integer())
			fail(field, "expected an integer");
		const int64_t i = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)
					  ? INT64_MAX
					  : v.get<int64_t>();
		if (i < lo || i > hi)
			fail(field, fmt::format("{} is outside {}..{}", i, lo, hi));
		return i;
	}

	// An array of exactly n integers in [lo, hi].
	std::vector<int64_t> integers(const nlohmann::json &v, size_t n, const std::string &field, int64_t lo,
				      int64_t hi) const
	{
		if (!v.is_array())
			fail(field, "expected an array");
		if (v.size() != n)
			fail(field, fmt::format("expected {} values, found {}", n, v.size()));
		std::vector<int64_t> out;
		out.reserve(n);
		for (size_t i = 0; i < n; ++i)
			out.push_back(integer(v[i], fmt::format("{}[{}]", field, i), lo, hi));
		return out;
	}

	std::string string(const nlohmann::json &v, const std::string &field) const
	{
		if (!v.is_string())
			fail(field, "expected a string");
		return v.get<std::string>();
	}

	float float32(const nlohmann::json &v, const std::string &field) const
	{
		if (!v.is_number())
			fail(field, "expected a number");
		const double d = v.get<double>();
		if (!std::isfinite(d) || std::abs(d) > FLT_MAX)
			fail(field, "not a finite float32 value");
		return static_cast<float>(d);
	}

private:
	std::string name_;
};

}  // namespace kmlb
