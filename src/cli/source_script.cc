#include "source_script.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

#include "exit_codes.h"
#include "subprocess.h"

namespace kmlb::cli {

void exec_source_script(const std::string &interpreter, const std::string &relative, std::vector<std::string> args)
{
	const std::filesystem::path script = std::filesystem::path(KMLB_SOURCE_DIR) / relative;
	if (!std::filesystem::exists(script))
		throw Error(ExitCode::kNoInput, fmt::format("{}: not found (kmlb was built from {})", script.string(),
							      KMLB_SOURCE_DIR));
	::setenv("KMLB", self_executable().c_str(), 1);
	args.insert(args.begin(), {interpreter, script.string()});
	std::vector<char *> argv;
	for (auto &a : args)
		argv.push_back(a.data());
	argv.push_back(nullptr);
	std::fflush(stdout);
	::execvp(interpreter.c_str(), argv.data());
	throw Error(ExitCode::kFailure, fmt::format("cannot run {}: {}", script.string(), std::strerror(errno)));
}

}  // namespace kmlb::cli
