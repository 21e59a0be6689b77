// kmlb: learn the Linux scheduler's can_migrate_task() decision and put the
// model back into the kernel. Results go to stdout, progress to stderr.
#include <algorithm>
#include <clocale>
#include <cstdio>
#include <fmt/format.h>
#include <new>

#include "command.h"
#include "exit_codes.h"
#include "suggest.h"

namespace kmlb::cli {

namespace {

std::vector<std::pair<int, AddCommand>> &registry()
{
	static std::vector<std::pair<int, AddCommand>> r;
	return r;
}

}  // namespace

CommandRegistration::CommandRegistration(int order, AddCommand add) { registry().emplace_back(order, add); }

std::vector<AddCommand> registered_commands()
{
	auto r = registry();
	std::stable_sort(r.begin(), r.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
	std::vector<AddCommand> out;
	for (const auto &entry : r)
		out.push_back(entry.second);
	return out;
}

}  // namespace kmlb::cli

int main(int argc, char **argv)
{
	std::setlocale(LC_ALL, "C");
	CLI::App app{"kmlb: learn the kernel's load-balancing decision (can_migrate_task) "
		     "and run the model in the kernel"};
	app.name("kmlb");
	app.require_subcommand(1);
	app.set_version_flag("--version", KMLB_VERSION);
	app.footer(R"(Examples:
  kmlb reproduce                                   the seed report's study end to end
  kmlb generate --preset seed --seed 1 --out seed.csv
  kmlb generate --preset overloaded --format raw --kernel 6.1 --out raw.csv
  kmlb prep --in raw.csv --out features.csv --features modern
  kmlb teacher --kernel 6.1 --in raw.csv --json
  kmlb train --in seed.csv --out run
  kmlb quantize --model run/model.json --out model.q.json
  kmlb export-c --model model.q.json --out kmlb_model.h
  kmlb bench infer
  kmlb vm collect --seconds 60 --out runs/2s
  kmlb vm deploy --mode replace --seconds 30 --out runs/replace
  kmlb help train                                  the flags of one command
Exit codes: 0 ok, 1 failure, 2 usage, 65 bad data, 66 missing input,
74 write error, 77 missing privileges, 130 interrupted.)");

	kmlb::cli::Job job;
	for (kmlb::cli::AddCommand add : kmlb::cli::registered_commands())
		add(app, job);

	std::vector<std::string> args(argv + 1, argv + argc);
	// `kmlb help [COMMAND...]` is `kmlb [COMMAND...] --help`.
	if (!args.empty() && args[0] == "help") {
		args.erase(args.begin());
		args.push_back("--help");
	}
	if (const auto problem = kmlb::cli::check_command_line(app, args)) {
		std::fprintf(stderr, "kmlb: %s\n", problem->c_str());
		return static_cast<int>(kmlb::ExitCode::kUsage);
	}
	try {
		std::vector<std::string> reversed(args.rbegin(), args.rend());
		app.parse(reversed);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForAllHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForVersion &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		std::fprintf(stderr, "kmlb: %s\n", kmlb::cli::parse_error_message(app, e).c_str());
		return static_cast<int>(kmlb::ExitCode::kUsage);
	}
	try {
		return job ? job() : 0;
	} catch (const kmlb::Error &e) {
		std::fflush(stdout);
		std::fprintf(stderr, "kmlb: %s\n", e.what());
		return static_cast<int>(e.code());
	} catch (const std::bad_alloc &) {
		std::fflush(stdout);
		std::fprintf(stderr, "kmlb: out of memory\n");
		return static_cast<int>(kmlb::ExitCode::kFailure);
	} catch (const std::exception &e) {
		// A bug: say so rather than pass the library's words off as a message.
		std::fflush(stdout);
		std::fprintf(stderr, "kmlb: internal error (please report): %s\n", e.what());
		return static_cast<int>(kmlb::ExitCode::kFailure);
	}
}
