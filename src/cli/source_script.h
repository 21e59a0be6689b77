// The scripts of the source tree kmlb was built from (vm/, kernel/): the
// subcommands that hand a job over to one of them.
#pragma once

#include <string>
#include <vector>

namespace kmlb::cli {

// Replaces this process with `interpreter SCRIPT args...`, where SCRIPT is
// `relative` under the source tree, with KMLB pointing at this binary (the
// scripts run the teacher, prep, train...). Throws Error(kNoInput) when the
// script is not there, Error(kFailure) when it cannot be started.
[[noreturn]] void exec_source_script(const std::string &interpreter, const std::string &relative,
				     std::vector<std::string> args);

}  // namespace kmlb::cli
