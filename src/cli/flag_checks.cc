#include "flag_checks.h"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include "csv.h"
#include "exit_codes.h"
#include "kernel_version.h"

namespace kmlb::cli {


std::string kernel_label(const std::string &as_named)
{
	const std::string_view teacher = canonical_name(parse_kernel_version(as_named));
	return teacher == as_named ? as_named : fmt::format("{} (teacher {})", as_named, teacher);
}

CLI::Validator int_range(int64_t lo, int64_t hi)
{
	const std::string range = fmt::format("{}..{}", lo, hi);
	return CLI::Validator(
		[lo, hi, range](std::string &value) -> std::string {
			int64_t v = 0;
			const char *end = value.data() + value.size();
			const auto [p, ec] = std::from_chars(value.data(), end, v);
			if (value.empty() || p != end || (ec != std::errc() && ec != std::errc::result_out_of_range))
				return fmt::format("'{}' is not an integer (expected {})", printable(value), range);
			if (ec == std::errc::result_out_of_range || v < lo || v > hi)
				return fmt::format("{} is outside {}", printable(value), range);
			return "";
		},
		range);
}

CLI::Validator seed_range()
{
	return CLI::Validator(
		[](std::string &value) -> std::string {
			uint64_t v = 0;
			const char *end = value.data() + value.size();
			const auto [p, ec] = std::from_chars(value.data(), end, v);
			if (value.empty() || value[0] == '-' || p != end || ec != std::errc())
				return fmt::format("'{}' is not a seed (expected 0..18446744073709551615)", printable(value));
			return "";
		},
		"0..2^64-1");
}

CLI::Validator real_range(double lo, double hi, bool lo_open, bool hi_open)
{
	const std::string range = fmt::format("{}{}, {}{}", lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']');
	return CLI::Validator(
		[=](std::string &value) -> std::string {
			double v = 0;
			const char *end = value.data() + value.size();
			const auto [p, ec] = std::from_chars(value.data(), end, v);
			if (value.empty() || p != end || ec != std::errc() || !std::isfinite(v))
				return fmt::format("'{}' is not a number (expected {})", printable(value), range);
			if (v < lo || v > hi || (lo_open && v == lo) || (hi_open && v == hi))
				return fmt::format("{} is outside {}", printable(value), range);
			return "";
		},
		range);
}

CLI::Option *add_input_option(CLI::App *sub, std::string &var, const std::string &help)
{
	CLI::Option *in = sub->add_option("--in", var, help);
	CLI::Option *alias = sub->add_option("--data", var, "the same as --in")->group("");
	in->excludes(alias);
	return in;
}

void require_input(const std::string &var)
{
	if (var.empty())
		throw Error(ExitCode::kUsage, "--in is required (the input data file; run with --help)");
}

}  // namespace kmlb::cli
