// Runs the built kmlb binary in tests: exit code and combined output.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "subprocess.h"
#include "temp_dir.h"

namespace kmlb::testing {

struct RunResult {
	int exit_code;
	std::string output;
};

// The binary under test: KMLB_BINARY from the build, or the environment's
// KMLB_TEST_BINARY (to watch a new test fail on an older build).
inline std::string kmlb_binary()
{
	const char *env = std::getenv("KMLB_TEST_BINARY");
	return env && *env ? env : KMLB_BINARY;
}

inline RunResult run_kmlb(const std::string &args, bool merge_stderr = true)
{
	const CommandOutput r = run_command(kmlb_binary() + " " + args, merge_stderr);
	return {r.exit_code, r.output};
}

// A fresh directory for one test, removed afterwards.
class TempDir : public kmlb::TempDir {
public:
	TempDir() : kmlb::TempDir("kmlb-test") {}
};

}  // namespace kmlb::testing
