// Command-line mistakes told the way git tells them: an unknown command or
// flag is named (not the value beside it) with the nearest known spelling,
// "did you mean ...", and every parser error reads "kmlb: ...".
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kmlb::cli {

// Edit distance (insertions, deletions, substitutions, adjacent swaps).
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate nearest to `word` if it is close enough to be a typo
// (distance at most 2, and less than half the word), else "".
std::string nearest(std::string_view word, std::span<const std::string> candidates);

// Walks `args` (in order, without argv[0]) through the subcommand tree of
// `app` before CLI11 sees them: the first unknown command or unknown flag
// gives the message to print (without the "kmlb: " prefix).
std::optional<std::string> check_command_line(CLI::App &app, const std::vector<std::string> &args);

// A CLI11 parse error as kmlb says it, pointing at `kmlb CMD --help`.
std::string parse_error_message(CLI::App &app, const CLI::ParseError &e);

}  // namespace kmlb::cli
