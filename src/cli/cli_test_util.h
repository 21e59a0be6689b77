// Runs the built kmlb binary in tests: exit code and combined output.
#pragma once

#include <filesystem>
#include <string>

#include "subprocess.h"
#include "temp_dir.h"

namespace kmlb::testing {

struct RunResult {
	int exit_code;
	std::string output;
};

inline RunResult run_kmlb(const std::string &args)
{
	const CommandOutput r = run_command(std::string(KMLB_BINARY) + " " + args);
	return {r.exit_code, r.output};
}

// A fresh directory for one test, removed afterwards.
class TempDir : public kmlb::TempDir {
public:
	TempDir() : kmlb::TempDir("kmlb-test") {}
};

}  // namespace kmlb::testing
