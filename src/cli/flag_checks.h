// Flag values are checked as they are parsed, like git and ninja do: a value
// that is not a number of the flag's kind or lies outside its range is a
// usage error (exit 2) naming the flag and the valid range, never a wrapped
// (-1 as 18446744073709551615), truncated or later-failing value. The limits
// that several commands share live here too, so that what one command
// writes another accepts.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace kmlb::cli {

// Largest --rows of `generate` (and rows a data set may be drawn with).
inline constexpr int64_t kMaxRows = 10'000'000;

// The kernel version every command assumes without --kernel.
inline constexpr const char *kDefaultKernel = "5.15";
// A kernel as the user named it, with the teacher it maps to said once:
// "6.1 (teacher 5.15)", or "5.15" when the name is the teacher's own.
// Error(kUsage) for an unknown name.
std::string kernel_label(const std::string &as_named);

// An integer in [lo, hi] (decimal, no sign for lo >= 0, no fraction).
CLI::Validator int_range(int64_t lo, int64_t hi);
// A seed: any integer 0..2^64-1.
CLI::Validator seed_range();
// A finite real number in [lo, hi]; an open end excludes the bound.
CLI::Validator real_range(double lo, double hi, bool lo_open = false, bool hi_open = false);

// The input data file of a command: `--in FILE`, with the older `--data`
// kept as a hidden alias. Commands that need it call require_input() when
// they run (CLI11 cannot require one of two options).
CLI::Option *add_input_option(CLI::App *sub, std::string &var, const std::string &help);
// Error(kUsage) when neither --in nor --data was given.
void require_input(const std::string &var);

}  // namespace kmlb::cli
