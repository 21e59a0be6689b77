// Runs the built kmlb binary in tests: exit code and combined output.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "subprocess.h"

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

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
public:
	TempDir()
	{
		std::string tmpl = (std::filesystem::temp_directory_path() / "kmlb-test-XXXXXX").string();
		path_ = ::mkdtemp(tmpl.data());
	}
	~TempDir() { std::filesystem::remove_all(path_); }
	std::string operator/(const std::string &name) const { return (path_ / name).string(); }
	const std::filesystem::path &path() const { return path_; }

private:
	std::filesystem::path path_;
};

}  // namespace kmlb::testing
