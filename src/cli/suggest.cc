#include "suggest.h"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace kmlb::cli {

size_t edit_distance(std::string_view a, std::string_view b)
{
	// Optimal string alignment distance, three rows.
	std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
	for (size_t j = 0; j <= b.size(); ++j)
		prev[j] = j;
	for (size_t i = 1; i <= a.size(); ++i) {
		cur[0] = i;
		for (size_t j = 1; j <= b.size(); ++j) {
			const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				cur[j] = std::min(cur[j], prev2[j - 2] + 1);
		}
		prev2.swap(prev);
		prev.swap(cur);
	}
	return prev[b.size()];
}

std::string nearest(std::string_view word, std::span<const std::string> candidates)
{
	std::string best;
	size_t best_d = SIZE_MAX;
	for (const std::string &c : candidates) {
		const size_t d = edit_distance(word, c);
		if (d < best_d) {
			best_d = d;
			best = c;
		}
	}
	return best_d <= 2 && 2 * best_d < word.size() ? best : "";
}

namespace {

std::string command_path(const CLI::App *app)
{
	std::vector<std::string> names;
	for (const CLI::App *a = app; a; a = a->get_parent())
		names.push_back(a->get_name().empty() ? "kmlb" : a->get_name());
	std::string out;
	for (auto it = names.rbegin(); it != names.rend(); ++it)
		out += (out.empty() ? "" : " ") + *it;
	return out;
}

std::vector<std::string> subcommand_names(const CLI::App *app)
{
	std::vector<std::string> out;
	for (const CLI::App *s : app->get_subcommands([](const CLI::App *s) { return !s->get_group().empty(); }))
		out.push_back(s->get_name());
	return out;
}

std::vector<std::string> flag_names(const CLI::App *app)
{
	std::vector<std::string> out;
	for (const CLI::Option *o : app->get_options())
		for (const std::string &n : o->get_lnames())
			if (!o->get_group().empty())
				out.push_back("--" + n);
	return out;
}

}  // namespace

std::optional<std::string> check_command_line(CLI::App &app, const std::vector<std::string> &args)
{
	CLI::App *cur = &app;
	for (size_t i = 0; i < args.size(); ++i) {
		const std::string &arg = args[i];
		if (arg == "--")
			break;
		if (arg.size() > 2 && arg.starts_with("--")) {
			const std::string name = arg.substr(0, arg.find('='));
			const CLI::Option *opt = cur->get_option_no_throw(name);
			if (!opt) {
				const std::string hint = nearest(name, flag_names(cur));
				return fmt::format("unknown flag '{}' for '{}'{} (see '{} --help')", name, command_path(cur),
						   hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint),
						   command_path(cur));
			}
			if (arg.find('=') == std::string::npos && opt->get_items_expected_min() > 0)
				i += static_cast<size_t>(opt->get_items_expected_min());  // its value(s)
			continue;
		}
		if (arg.starts_with("-"))
			continue;  // short flags and negative numbers: CLI11 judges them
		CLI::App *sub = nullptr;
		for (CLI::App *s : cur->get_subcommands([](CLI::App *) { return true; }))
			if (s->check_name(arg))
				sub = s;
		if (sub) {
			cur = sub;
			continue;
		}
		if (cur->get_require_subcommand_min() > 0 && cur->get_subcommands().empty()) {
			const std::string hint = nearest(arg, subcommand_names(cur));
			return fmt::format("'{}' is not a {} command{} (see '{} --help')", arg, command_path(cur),
					   hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint), command_path(cur));
		}
		return std::nullopt;  // a positional value: CLI11 judges it
	}
	if (cur->get_require_subcommand_min() > 0 &&
	    std::find(args.begin(), args.end(), "--help") == args.end() &&
	    std::find(args.begin(), args.end(), "--version") == args.end())
		return fmt::format("{} needs a command: {} (see '{} --help')", command_path(cur),
				   fmt::join(subcommand_names(cur), ", "), command_path(cur));
	return std::nullopt;
}

std::string parse_error_message(CLI::App &app, const CLI::ParseError &e)
{
	const CLI::App *cur = &app;
	for (;;) {
		const auto subs = cur->get_subcommands();
		if (subs.empty())
			break;
		cur = subs.front();
	}
	return fmt::format("{} (see '{} --help')", e.what(), command_path(cur));
}

}  // namespace kmlb::cli
