// kmlb: learn the Linux scheduler's can_migrate_task() decision and put the
// model back into the kernel. Results go to stdout, progress to stderr.
#include <algorithm>
#include <clocale>
#include <cstdio>
#include <fmt/format.h>

#include "command.h"
#include "exit_codes.h"

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
	app.require_subcommand(1);
	app.set_version_flag("--version", KMLB_VERSION);
	app.footer(R"(Examples:
  kmlb reproduce                                   the seed report's study end to end
  kmlb generate --preset seed --seed 1 --out seed.csv
  kmlb generate --preset overloaded --format raw --kernel 6.1 --out raw.csv
  kmlb prep --in raw.csv --out features.csv --features modern
  kmlb teacher --kernel 6.1 --in raw.csv --json
  kmlb train --data seed.csv --out run
  kmlb quantize --model run/model.json --out model.q.json
  kmlb export-c --model model.q.json --out kmlb_model.h
  kmlb bench infer
  kmlb vm collect --seconds 60 --out runs/2s
  kmlb vm deploy --mode replace --seconds 30 --out runs/replace
Exit codes: 0 ok, 1 failure, 2 usage, 65 bad data, 66 missing input,
74 write error, 77 missing privileges, 130 interrupted.)");

	kmlb::cli::Job job;
	for (kmlb::cli::AddCommand add : kmlb::cli::registered_commands())
		add(app, job);

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		const int rc = app.exit(e);
		return rc == 0 ? 0 : static_cast<int>(kmlb::ExitCode::kUsage);
	}
	try {
		return job ? job() : 0;
	} catch (const kmlb::Error &e) {
		std::fprintf(stderr, "kmlb: %s\n", e.what());
		return static_cast<int>(e.code());
	} catch (const std::exception &e) {
		std::fprintf(stderr, "kmlb: %s\n", e.what());
		return static_cast<int>(kmlb::ExitCode::kFailure);
	}
}
