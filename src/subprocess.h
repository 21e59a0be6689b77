// Running other programs: the C compiler for exported headers, valgrind,
// kmlb itself (bench workers, tests), the guest scripts.
#pragma once

#include <string>
#include <string_view>

namespace kmlb {

struct CommandOutput {
	int exit_code = -1;  // the command's exit status; -1 if it could not run or was killed
	std::string output;
};

// Runs `command` with /bin/sh and captures its stdout, and its stderr too
// unless `merge_stderr` is false.
CommandOutput run_command(const std::string &command, bool merge_stderr = true);

// 'text' quoted for /bin/sh.
std::string shell_quote(std::string_view text);

// The path of the running executable (for re-running kmlb), or "kmlb".
std::string self_executable();

}  // namespace kmlb
