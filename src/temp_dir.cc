#include "temp_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

#include "exit_codes.h"

namespace kmlb {

TempDir::TempDir(std::string_view prefix)
{
	std::string tmpl = (std::filesystem::temp_directory_path() / fmt::format("{}-XXXXXX", prefix)).string();
	if (!::mkdtemp(tmpl.data()))
		throw Error(ExitCode::kWriteError,
			    fmt::format("{}: cannot create a temporary directory: {}", tmpl, std::strerror(errno)));
	path_ = tmpl;
}

TempDir::~TempDir()
{
	std::error_code ec;
	std::filesystem::remove_all(path_, ec);
}

}  // namespace kmlb
