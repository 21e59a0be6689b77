// Reading a JSON file field by field, naming the file and the field in every
// error: Error(kBadData, "<file>: <field>: <what>"), or "<file>:<line>:<column>:
// not valid JSON: <what>" for text that does not parse (column in bytes, as
// in CSV messages). Used by both model files. No nlohmann exception gets out:
// guard() turns any that a field access raises into Error(kBadData).
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "csv.h"
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
			fail_at(text, e.byte == 0 ? 0 : e.byte - 1, library_reason(e.what()));
		} catch (const nlohmann::json::exception &e) {
			// A number too large for a double ("number overflow parsing
			// '1e999'"): find the token to say where.
			const std::string what = library_reason(e.what());
			size_t at = 0;
			const size_t q = what.find('\'');
			if (q != std::string::npos) {
				const size_t q2 = what.find('\'', q + 1);
				const size_t found = text.find(what.substr(q + 1, q2 - q - 1));
				at = found == std::string_view::npos ? 0 : found;
			}
			fail_at(text, at, what);
		}
		if (!j.is_object())
			fail("json", "expected an object");
		return j;
	}

	// Runs f(); a nlohmann exception inside becomes Error(kBadData).
	template <class F>
	auto guard(F &&f) const -> decltype(f())
	{
		try {
			return f();
		} catch (const nlohmann::json::exception &e) {
			fail("json", library_reason(e.what()));
		}
	}

	// "[json.exception.parse_error.101] parse error at line 1, column 2:
	// syntax error ..." -> "syntax error ...".
	static std::string library_reason(std::string what)
	{
		if (what.starts_with("[json.exception.")) {
			const size_t end = what.find("] ");
			if (end != std::string::npos)
				what.erase(0, end + 2);
		}
		if (what.starts_with("parse error at ")) {
			const size_t colon = what.find(": ");
			if (colon != std::string::npos)
				what.erase(0, colon + 2);
		}
		return printable(what, 240);
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

	[[noreturn]] void fail_at(std::string_view text, size_t byte, const std::string &what) const
	{
		byte = std::min(byte, text.size());
		size_t line = 1, column = 1;
		for (size_t i = 0; i < byte; ++i) {
			if (text[i] == '\n') {
				++line;
				column = 1;
			} else {
				++column;
			}
		}
		throw Error(ExitCode::kBadData, fmt::format("{}:{}:{}: not valid JSON: {}", name_, line, column, what));
	}
};

}  // namespace kmlb
