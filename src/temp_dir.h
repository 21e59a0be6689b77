// A fresh directory under the system temp dir, removed with everything in
// it when the object goes (also when an exception unwinds past it).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace kmlb {

class TempDir {
public:
	// Creates TMPDIR/<prefix>-XXXXXX; Error(kWriteError) if it cannot.
	explicit TempDir(std::string_view prefix);
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;

	const std::filesystem::path &path() const { return path_; }
	std::string operator/(const std::string &name) const { return (path_ / name).string(); }

private:
	std::filesystem::path path_;
};

}  // namespace kmlb
